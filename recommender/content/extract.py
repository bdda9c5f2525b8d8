"""Text extraction per file format: Markdown, PDF, DOCX, PPTX, HTML and plain text.

Libraries: pypdf (PDF), python-docx (DOCX), python-pptx (PPTX), trafilatura (HTML main text,
with a standard-library visible-text fallback). The format is detected from the extension *and*
checked against the content (magic bytes), so a file whose content lies about its extension is
rejected with the reason.

Text files must be UTF-8 (a UTF-8 byte-order mark is accepted). Other encodings are rejected
with the offending byte and its offset rather than guessed: a wrong guess (cp1252 vs latin-1 vs
MacRoman) silently corrupts quotes that reps would send to buyers.

Every failure raises ``ExtractionError`` with one sentence a user can act on.
"""

from __future__ import annotations

import io
import logging
import re
import warnings
import zipfile

from recommender.content.extracted import Extracted, first_line, tidy
from recommender.content.html import extract_html
from recommender.errors import ExtractionError

FORMATS: dict[str, str] = {
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".text": "text",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    ".docx": "docx",
    ".pptx": "pptx",
}
MEDIA_TYPES: dict[str, str] = {
    "markdown": "text/markdown",
    "text": "text/plain",
    "html": "text/html",
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
# Zip-bomb guard for DOCX/PPTX: the uncompressed total from the zip directory may exceed the
# file-size limit by at most this factor, and no member may compress better than MAX_RATIO.
MAX_INFLATE_FACTOR = 20
MAX_RATIO = 200
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)(?:\r?\n)(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S)


def format_for_name(name: str) -> str:
    """Return the format key for a file name's extension; unsupported ones raise."""
    lower = name.lower()
    for suffix, fmt in FORMATS.items():
        if lower.endswith(suffix):
            return fmt
    ext = lower.rsplit(".", 1)[-1] if "." in lower else ""
    shown = f".{ext}" if ext else "no extension"
    raise ExtractionError(
        f"unsupported file type ({shown}); supported: {', '.join(sorted(set(FORMATS)))}"
    )


def sniff_format(data: bytes) -> str | None:
    """Return the binary format the bytes are (``pdf``, ``docx``, ``pptx``, ``zip``), or None."""
    head = data[:1024]
    if b"%PDF-" in head:
        return "pdf"
    if data[:4] == b"PK\x03\x04":
        try:
            names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
        except (zipfile.BadZipFile, OSError, ValueError):
            return "zip"
        if "word/document.xml" in names:
            return "docx"
        if "ppt/presentation.xml" in names:
            return "pptx"
        return "zip"
    for magic, kind in ((b"\x89PNG", "png"), (b"\xff\xd8\xff", "jpeg"), (b"GIF8", "gif"),
                        (b"\xd0\xcf\x11\xe0", "ole2 (legacy Office)"), (b"\x1f\x8b", "gzip")):
        if data.startswith(magic):
            return kind
    return None


def decode_utf8(data: bytes) -> str:
    """Decode UTF-8 (BOM allowed); otherwise raise naming the first bad byte and its offset."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bad = data[exc.start]
        raise ExtractionError(
            f"not UTF-8 (byte 0x{bad:02x} at offset {exc.start}); save the file as UTF-8"
        ) from None


def extract(name: str, data: bytes, *, max_bytes: int = 25 * 1024 * 1024,
            max_pdf_pages: int = 500) -> Extracted:
    """Extract the text of a file.

    Parameters
    ----------
    name : str
        File name (its extension selects the format, checked against the content).
    data : bytes
        The file's content.
    max_bytes : int
        Largest accepted file size.
    max_pdf_pages : int
        PDFs with more pages are rejected.

    Returns
    -------
    Extracted
        Plain text with paragraphs separated by blank lines.
    """
    fmt = format_for_name(name)
    if len(data) > max_bytes:
        raise ExtractionError(
            f"file is {len(data) / 1048576:.1f} MB, over the limit of "
            f"{max_bytes / 1048576:.1f} MB (BATON_MAX_FILE_MB)"
        )
    if not data.strip():
        raise ExtractionError("file is empty")
    sniffed = sniff_format(data)
    if fmt in ("pdf", "docx", "pptx"):
        if sniffed != fmt:
            what = f"a {sniffed} file" if sniffed else "not a valid file of that type"
            raise ExtractionError(f"content does not match its .{fmt} extension: it is {what}")
    elif sniffed is not None or b"\x00" in data[:8192]:
        what = f"a {sniffed} file" if sniffed else "binary data"
        raise ExtractionError(f"content does not match its {fmt} extension: it is {what}")
    if fmt == "pdf":
        result = _extract_pdf(data, max_pdf_pages)
    elif fmt in ("docx", "pptx"):
        _check_zip(data, max_bytes)
        result = _extract_docx(data) if fmt == "docx" else _extract_pptx(data)
    elif fmt == "html":
        result = extract_html(decode_utf8(data))
    elif fmt == "markdown":
        result = _extract_markdown(decode_utf8(data))
    else:
        text = tidy(decode_utf8(data))
        result = Extracted(text, "text", "", title=first_line(text))
    result.format = fmt
    result.media_type = MEDIA_TYPES[fmt]
    if not result.text.strip():
        reason = "no text could be extracted"
        if fmt == "pdf":
            reason += " (a scanned PDF without a text layer?)"
        raise ExtractionError(reason)
    return result


def split_front_matter(text: str) -> tuple[str | None, str]:
    """Return ``(yaml_block or None, body)`` of a Markdown text."""
    text = text.lstrip("\ufeff")
    match = _FRONT_MATTER.match(text)
    if not match:
        if text.startswith("---\n") or text.startswith("---\r\n"):
            raise ExtractionError("front matter starts with '---' but has no closing '---' line")
        return None, text
    return match.group(1), text[match.end():]


def markdown_to_text(body: str) -> str:
    """Return the readable text of Markdown: headings kept as lines, markup removed."""
    out = []
    for line in body.replace("\r\n", "\n").split("\n"):
        stripped = line.strip()
        if stripped.startswith("```") or stripped.startswith("~~~"):
            continue
        if re.fullmatch(r"\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?", stripped):
            continue  # table separator row
        if re.fullmatch(r"(\*\s*){3,}|(-\s*){3,}|(_\s*){3,}", stripped):
            continue  # horizontal rule
        line = re.sub(r"^\s{0,3}#{1,6}\s+", "", line)
        line = re.sub(r"\s+#+\s*$", "", line)
        line = re.sub(r"^\s*>\s?", "", line)
        line = re.sub(r"^\s*(?:[-*+]|\d+[.)])\s+", "", line)
        line = re.sub(r"!\[([^\]]*)\]\([^)]*\)", r"\1", line)
        line = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", line)
        line = re.sub(r"<[^>\n]+>", "", line)
        line = re.sub(r"(\*\*|__)(.+?)\1", r"\2", line)
        line = re.sub(r"(?<![\w*])([*_])(?!\s)(.+?)(?<!\s)\1(?![\w*])", r"\2", line)
        line = line.replace("`", "")
        if "|" in line and stripped.startswith("|"):
            line = " | ".join(c.strip() for c in line.strip().strip("|").split("|"))
        out.append(line)
    return tidy("\n".join(out))


def _extract_markdown(text: str) -> Extracted:
    front, body = split_front_matter(text)
    heading = re.search(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", body, re.M)
    plain = markdown_to_text(body)
    title = markdown_to_text(heading.group(1)) if heading else first_line(plain)
    return Extracted(plain, "markdown", "", title=title, front_matter=front)


# The format libraries (pypdf, python-docx, python-pptx, trafilatura) are imported by the reader
# that needs them, only for import cost: together they add about 0.2 s to every CLI command.
def _extract_pdf(data: bytes, max_pages: int) -> Extracted:
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError

    # pypdf logs repairs of damaged files; the one-line reason below is what users need.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _read_pdf(PdfReader, data, max_pages)
    except ExtractionError:
        raise
    except FileNotDecryptedError:
        raise ExtractionError("PDF is encrypted (password protected)") from None
    except Exception as exc:  # pypdf raises many types for damaged files
        raise ExtractionError(f"corrupt PDF: {exc}") from None


def _read_pdf(PdfReader, data: bytes, max_pages: int) -> Extracted:
    from pypdf.errors import FileNotDecryptedError

    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted:
        # Owner-password-only PDFs open with an empty user password; others cannot be read.
        try:
            if not reader.decrypt(""):
                raise ExtractionError("PDF is encrypted (password protected)")
        except (FileNotDecryptedError, NotImplementedError):
            raise ExtractionError("PDF is encrypted (password protected)") from None
    pages = len(reader.pages)
    if pages > max_pages:
        raise ExtractionError(
            f"PDF has {pages} pages, over the limit of {max_pages} (BATON_MAX_PDF_PAGES)"
        )
    texts = [page.extract_text() or "" for page in reader.pages]
    title = ""
    try:
        meta = reader.metadata
        title = str(meta.title).strip() if meta and meta.title else ""
    except Exception:  # broken metadata is no reason to reject readable text
        title = ""
    text = tidy("\n\n".join(texts))
    return Extracted(text, "pdf", "", title=title or first_line(text), pages=pages)


def _check_zip(data: bytes, max_bytes: int) -> None:
    """Reject a DOCX/PPTX whose zip directory declares a suspicious uncompressed size."""
    try:
        infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ExtractionError(f"corrupt Office file (bad zip): {exc}") from None
    total = sum(i.file_size for i in infos)
    limit = max(max_bytes * MAX_INFLATE_FACTOR, 50 * 1024 * 1024)
    if total > limit:
        raise ExtractionError(
            f"unpacks to {total / 1048576:.0f} MB, over the limit of {limit / 1048576:.0f} MB "
            "(zip bomb guard)"
        )
    for info in infos:
        if info.file_size > 10 * 1024 * 1024 and info.file_size > MAX_RATIO * max(
            info.compress_size, 1
        ):
            ratio = info.file_size // max(info.compress_size, 1)
            raise ExtractionError(
                f"member {info.filename!r} compresses {ratio}:1 (zip bomb guard)"
            )


def _extract_docx(data: bytes) -> Extracted:
    import docx
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises many types for broken packages
        raise ExtractionError(f"corrupt DOCX: {exc}") from None
    parts: list[str] = []
    title = ""
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            for row in block.rows:
                cells: list[str] = []
                for cell in row.cells:
                    value = " ".join(cell.text.split())
                    if value and (not cells or cells[-1] != value):  # merged cells repeat
                        cells.append(value)
                if cells:
                    parts.append(" | ".join(cells))
        else:
            text = block.text.strip()
            if not text:
                continue
            style = (block.style.name if block.style is not None else "") or ""
            if not title and (style.startswith("Heading") or style == "Title"):
                title = text
            parts.append(text)
    if not title:
        title = (document.core_properties.title or "").strip()
    text = tidy("\n\n".join(parts))
    return Extracted(text, "docx", "", title=title or first_line(text))


def _shape_texts(shapes) -> list[str]:
    texts: list[str] = []
    for shape in shapes:
        if getattr(shape, "shape_type", None) == 6 and hasattr(shape, "shapes"):  # group
            texts.extend(_shape_texts(shape.shapes))
        elif getattr(shape, "has_table", False) and shape.has_table:
            for row in shape.table.rows:
                cells = [" ".join(c.text.split()) for c in row.cells]
                if any(cells):
                    texts.append(" | ".join(c for c in cells if c))
        elif getattr(shape, "has_text_frame", False) and shape.has_text_frame:
            value = shape.text_frame.text.strip()
            if value:
                texts.append(value)
    return texts


def _extract_pptx(data: bytes) -> Extracted:
    from pptx import Presentation

    try:
        presentation = Presentation(io.BytesIO(data))
    except Exception as exc:  # python-pptx raises many types for broken packages
        raise ExtractionError(f"corrupt PPTX: {exc}") from None
    parts: list[str] = []
    title = ""
    for slide in presentation.slides:
        slide_title = slide.shapes.title
        if not title and slide_title is not None and slide_title.has_text_frame:
            title = slide_title.text_frame.text.strip()
        parts.extend(_shape_texts(slide.shapes))
        if slide.has_notes_slide:
            notes = slide.notes_slide.notes_text_frame
            if notes is not None and notes.text.strip():
                parts.append(notes.text.strip())
    text = tidy("\n\n".join(parts))
    return Extracted(text, "pptx", "", title=title or first_line(text))
