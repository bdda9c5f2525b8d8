// Baton's small progressive enhancements; every page works without them.
(function () {
  "use strict";

  // Dates: the server writes UTC in <time datetime>; show them in the viewer's locale.
  function localizeTimes(root) {
    root.querySelectorAll("time[datetime]").forEach(function (el) {
      var value = el.getAttribute("datetime");
      var date = new Date(value);
      if (isNaN(date.getTime())) return;
      if (el.dataset.style === "date") {
        el.textContent = new Date(value + "T00:00:00").toLocaleDateString();
      } else {
        el.textContent = date.toLocaleString(undefined, {dateStyle: "medium", timeStyle: "short"});
      }
      el.title = value;
    });
  }

  // Selects and checkboxes marked data-autosubmit submit their form on change.
  function autosubmit(root) {
    root.querySelectorAll("[data-autosubmit]").forEach(function (el) {
      el.addEventListener("change", function () {
        var form = el.form;
        var page = form && form.querySelector("input[name=page]");
        if (page) page.value = "1";
        if (form) form.requestSubmit ? form.requestSubmit() : form.submit();
      });
    });
  }

  // Copy buttons: data-copy="#selector" copies that input's value.
  function copyButtons(root) {
    root.querySelectorAll("[data-copy]").forEach(function (button) {
      button.addEventListener("click", function () {
        var input = document.querySelector(button.dataset.copy);
        var status = button.parentElement.querySelector(".copied");
        function done(ok) { if (status) status.textContent = ok ? "Copied." : "Select and copy the link."; }
        input.select();
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(input.value).then(function () { done(true); },
                                                           function () { done(false); });
        } else {
          var ok = false;
          try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
          done(ok);
        }
      });
    });
  }

  // Buttons with data-confirm ask first.
  function confirmations(root) {
    root.querySelectorAll("[data-confirm]").forEach(function (button) {
      button.addEventListener("click", function (event) {
        if (!window.confirm(button.dataset.confirm)) event.preventDefault();
      });
    });
  }

  // Drag and drop onto an upload zone fills its file input.
  function dropzones(root) {
    root.querySelectorAll("[data-dropzone]").forEach(function (zone) {
      var input = zone.querySelector("input[type=file]");
      var name = zone.querySelector(".dropname");
      function show() { if (name) name.textContent = input.files.length ? input.files[0].name : ""; }
      input.addEventListener("change", show);
      ["dragenter", "dragover"].forEach(function (kind) {
        zone.addEventListener(kind, function (event) { event.preventDefault(); zone.classList.add("over"); });
      });
      ["dragleave", "drop"].forEach(function (kind) {
        zone.addEventListener(kind, function () { zone.classList.remove("over"); });
      });
      zone.addEventListener("drop", function (event) {
        event.preventDefault();
        if (event.dataTransfer && event.dataTransfer.files.length) {
          input.files = event.dataTransfer.files;
          show();
        }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    localizeTimes(document);
    autosubmit(document);
    copyButtons(document);
    confirmations(document);
    dropzones(document);
  });
})();
