"""HTML text extraction: trafilatura's main-text extractor, with a visible-text fallback."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from recommender.content.extracted import Extracted, first_line, tidy
from recommender.errors import ExtractionError


class _VisibleText(HTMLParser):
    """Collect visible text and the ``<title>``; skip scripts, styles and templates."""

    SKIP = {"script", "style", "template", "noscript", "head", "svg"}
    BLOCK = {"p", "div", "section", "article", "li", "h1", "h2", "h3", "h4", "h5", "h6",
             "tr", "br", "table", "ul", "ol", "header", "footer", "blockquote", "pre"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title = ""
        self._skip = 0
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        if tag == "title":
            self._in_title = True
        if tag in self.SKIP:
            self._skip += 1
        if tag in self.BLOCK:
            self.parts.append("\n\n")

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False
        if tag in self.SKIP and self._skip:
            self._skip -= 1
        if tag in self.BLOCK:
            self.parts.append("\n\n")

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        elif not self._skip:
            self.parts.append(data)


def extract_html(html: str) -> Extracted:
    """Return the main text of an HTML page (trafilatura), or its visible text when that
    finds too little; the title from ``<title>`` or the first ``<h1>``."""
    parser = _VisibleText()
    try:
        parser.feed(html)
        parser.close()
    except Exception as exc:  # html.parser is lenient; this is truly broken input
        raise ExtractionError(f"unreadable HTML: {exc}") from None
    visible = tidy("".join(parser.parts))
    main = ""
    try:
        # Imported here only for import cost (about 0.1 s with lxml), which every CLI command
        # would pay; most libraries hold no HTML.
        import trafilatura

        main = trafilatura.extract(html, include_comments=False, include_tables=True,
                                   favor_recall=True) or ""
    except Exception:  # fall back to the visible text below
        main = ""
    main = tidy(main)
    # trafilatura drops short pages entirely; keep the visible text when it found too little.
    text = main if len(main.split()) >= 0.3 * len(visible.split()) else visible
    title = " ".join(parser.title.split())
    heading = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S | re.I)
    if not title and heading:
        title = " ".join(re.sub(r"<[^>]+>", "", heading.group(1)).split())
    return Extracted(text, "html", "", title=title or first_line(text))
