"""A corpus of hostile files for ingest and upload, built in memory (nothing is downloaded).

``corpus()`` returns ``(label, file name, bytes, expect)``; ``expect`` is ``"reject"`` (must be
refused with a clear message), ``"accept"`` (a good control or a file that is safe to take), or
``"either"`` (accepting or refusing are both fine, crashing or hanging is not).
``reason`` words that a refusal must contain are in ``MUST_SAY``.
"""

from __future__ import annotations

import io
import zipfile

GOOD_TEXT = "Route optimisation cut freight costs for Northwind by eighteen percent."


def pdf(pages: list[str]) -> bytes:
    """Return a minimal valid PDF whose pages show ``pages`` (one text line each)."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b""]  # 2 is filled in below
    kids = []
    font_id = 3
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for text in pages:
        safe = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        stream = f"BT /F1 12 Tf 72 720 Td ({safe}) Tj ET".encode("latin-1")
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        content_id = len(objects)
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
                       b"/Resources << /Font << /F1 %d 0 R >> >> >>" % (content_id, font_id))
        kids.append(len(objects))
    objects[1] = (b"<< /Type /Pages /Count %d /Kids [" % len(kids)
                  + b" ".join(b"%d 0 R" % k for k in kids) + b"] >>")
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
              % (len(objects) + 1, xref))
    return out.getvalue()


def docx(text: str = GOOD_TEXT) -> bytes:
    import docx as python_docx

    document = python_docx.Document()
    document.add_heading("Northwind case study", 1)
    document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def pptx(text: str = GOOD_TEXT) -> bytes:
    from pptx import Presentation

    deck = Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[1])
    slide.shapes.title.text = "Northwind"
    slide.placeholders[1].text = text
    buffer = io.BytesIO()
    deck.save(buffer)
    return buffer.getvalue()


def zip_bomb_docx(inflated_mb: int = 200) -> bytes:
    """A DOCX whose document.xml inflates to ``inflated_mb`` MB of zeros (about 0.1% packed)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            chunk = b"\0" * (1 << 20)
            for _ in range(inflated_mb):
                member.write(chunk)
    return buffer.getvalue()


def flip(data: bytes, every: int = 97) -> bytes:
    """Corrupt ``data`` in its middle third by inverting every ``every``-th byte."""
    out = bytearray(data)
    for i in range(len(out) // 3, 2 * len(out) // 3, every):
        out[i] ^= 0xFF
    return bytes(out)


def corpus() -> list[tuple[str, str, bytes, str]]:
    good_pdf, good_docx, good_pptx = pdf([GOOD_TEXT]), docx(), pptx()
    nested = ("<html><body>" + "<div>" * 20000 + GOOD_TEXT + "</div>" * 20000
              + "</body></html>").encode()
    billion_laughs = ("---\n" + "a: &a [x, x, x, x, x, x, x, x, x]\n"
                      + "".join(f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, "
                                f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
                                f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
                                f"*{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(8))
                      + "title: *i\n---\n" + GOOD_TEXT + "\n").encode()
    return [
        ("control pdf", "good-pdf.pdf", good_pdf, "accept"),
        ("control docx", "good-docx.docx", good_docx, "accept"),
        ("control pptx", "good-pptx.pptx", good_pptx, "accept"),
        ("pdf garbage after magic", "corrupt.pdf", b"%PDF-1.7\n" + bytes(range(256)) * 40,
         "reject"),
        ("pdf truncated", "truncated-pdf.pdf", good_pdf[: len(good_pdf) // 2], "either"),
        ("pdf bytes flipped", "flipped-pdf.pdf", flip(good_pdf, 7), "either"),
        ("pdf 3000 pages", "huge.pdf", pdf([f"page {i}" for i in range(3000)]), "reject"),
        ("docx truncated", "truncated-docx.docx", good_docx[: len(good_docx) // 2], "reject"),
        ("docx bytes flipped", "flipped-docx.docx", flip(good_docx), "reject"),
        ("pptx truncated", "truncated-pptx.pptx", good_pptx[: len(good_pptx) // 2], "reject"),
        ("pptx bytes flipped", "flipped-pptx.pptx", flip(good_pptx), "reject"),
        ("docx zip bomb 200 MB", "bomb.docx", zip_bomb_docx(), "reject"),
        ("zip without word/ as docx", "plain-zip.docx", _plain_zip(), "reject"),
        ("png named .pdf", "photo.pdf", b"\x89PNG\r\n\x1a\n" + b"\0" * 200, "reject"),
        ("pdf named .txt", "report.txt", good_pdf, "reject"),
        ("docx named .md", "notes.md", good_docx, "reject"),
        ("html named .docx", "page.docx", b"<html><body>hi</body></html>", "reject"),
        ("legacy .doc (OLE2) named .docx", "old.docx", b"\xd0\xcf\x11\xe0" + b"\0" * 600,
         "reject"),
        ("deeply nested html (20k divs)", "nested.html", nested, "either"),
        ("huge single line (8 MB)", "line.txt", b"freight " * (1 << 20), "either"),
        ("NUL bytes in text", "nul.txt", GOOD_TEXT.encode() + b"\0\0\0" + b"more", "reject"),
        ("latin-1 text", "latin1.txt", "Café société à Zürich".encode("latin-1"), "reject"),
        ("utf-16 without BOM", "utf16.txt", GOOD_TEXT.encode("utf-16-le"), "reject"),
        ("utf-16 with BOM", "utf16bom.md", GOOD_TEXT.encode("utf-16"), "reject"),
        ("mixed utf-8 and latin-1", "mixed.txt", "naïve ".encode() + "café".encode("latin-1"),
         "reject"),
        ("lone surrogate escape", "surrogate.txt", b"abc \xed\xa0\x80 def", "reject"),
        ("empty file", "empty.txt", b"", "reject"),
        ("whitespace only", "blank.md", b" \n\t\n ", "reject"),
        ("YAML billion laughs front matter", "laughs.md", billion_laughs, "reject"),
        ("front matter not a mapping", "list.md", b"---\n- a\n- b\n---\nbody text here\n",
         "reject"),
        ("unknown stage in front matter", "stage.md",
         b"---\nstage: closing-time\n---\n" + GOOD_TEXT.encode(), "reject"),
        ("script in markdown", "xss.md", b"# <script>alert(1)</script>\n" + GOOD_TEXT.encode(),
         "either"),
        ("no extension", "README", GOOD_TEXT.encode(), "reject"),
        ("executable extension", "run.exe", b"MZ" + b"\0" * 100, "reject"),
    ]


def _plain_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", GOOD_TEXT)
    return buffer.getvalue()


# Words a refusal's message must contain, by label (the rest: any non-empty message).
MUST_SAY = {
    "pdf 3000 pages": "3000 pages",
    "docx zip bomb 200 MB": "zip bomb",
    "png named .pdf": "does not match",
    "pdf named .txt": "does not match",
    "docx named .md": "does not match",
    "html named .docx": "does not match",
    "latin-1 text": "UTF-8",
    "mixed utf-8 and latin-1": "UTF-8",
    "NUL bytes in text": "binary",
    "empty file": "empty",
    "no extension": "unsupported file type",
    "executable extension": "unsupported file type",
    "unknown stage in front matter": "closing-time",
}
