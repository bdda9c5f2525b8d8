// The CRM sidebar's buttons: share (creates a tracked link) and helpful / not helpful (events).
// Auth is the panel's signed token sent as a bearer token, not a cookie, so no CSRF token is needed.
(function () {
  "use strict";
  var root = document.getElementById("baton-sidebar");
  if (!root) { return; }
  var token = root.getAttribute("data-token");
  var opportunity = root.getAttribute("data-opportunity");
  var recommendation = root.getAttribute("data-recommendation") || null;

  function post(url, body, extraHeaders) {
    var headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json"};
    Object.keys(extraHeaders || {}).forEach(function (k) { headers[k] = extraHeaders[k]; });
    return fetch(url, {method: "POST", headers: headers, body: JSON.stringify(body),
                       credentials: "omit"})
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (data) {
          if (!response.ok) {
            var message = (data.error && data.error.message) || ("error " + response.status);
            throw new Error(message);
          }
          return data;
        });
      });
  }

  function status(item, text, isError) {
    var el = item.querySelector(".status");
    el.textContent = text;
    el.className = "status" + (isError ? " error" : "");
  }

  function share(item, button) {
    button.disabled = true;
    status(item, "Creating link…");
    post(root.getAttribute("data-shares-url"), {
      opportunity_id: opportunity, asset_id: item.getAttribute("data-asset"),
      recommendation_id: recommendation
    }).then(function (data) {
      var box = item.querySelector(".link");
      box.hidden = false;
      var input = box.querySelector("input");
      input.value = data.absolute_url || data.url;
      input.select();
      status(item, "Shared: copy the link");
    }).catch(function (err) {
      button.disabled = false;
      status(item, err.message, true);
    });
  }

  function vote(item, button, kind) {
    var asset = item.getAttribute("data-asset");
    // One id per list, asset and kind: a double click is a replay, never a second count.
    var eventId = "sidebar-" + (recommendation || opportunity) + "-" + asset + "-" + kind;
    item.querySelectorAll("button.vote").forEach(function (b) { b.disabled = true; });
    post(root.getAttribute("data-events-url"), {
      event_id: eventId, opportunity_id: opportunity, asset_id: asset, event_type: kind,
      recommendation_id: recommendation
    }).then(function () {
      button.classList.add("chosen");
      status(item, "Thanks for the feedback");
    }).catch(function (err) {
      item.querySelectorAll("button.vote").forEach(function (b) { b.disabled = false; });
      status(item, err.message, true);
    });
  }

  function copy(item) {
    var input = item.querySelector(".link input");
    input.select();
    if (navigator.clipboard) {
      navigator.clipboard.writeText(input.value).then(function () { status(item, "Copied"); },
        function () { status(item, "Press Ctrl+C to copy"); });
    } else {
      status(item, "Press Ctrl+C to copy");
    }
  }

  root.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-action]");
    if (!button) { return; }
    var item = button.closest(".rec");
    var action = button.getAttribute("data-action");
    if (action === "share") { share(item, button); }
    else if (action === "copy") { copy(item); }
    else { vote(item, button, action); }
  });
})();
