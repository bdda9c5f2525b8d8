"""Text extraction per format, and every way a file can be refused."""

from __future__ import annotations

import pytest

from recommender.content.extract import extract, markdown_to_text, sniff_format, split_front_matter
from recommender.errors import ExtractionError
from tests.support.library_files import make_docx, make_pdf, make_pptx, make_zip_bomb


def test_markdown_strips_front_matter_and_markup_keeps_headings():
    source = (
        "---\nid: x\nstage: awareness\n---\n# Why fleets **waste** fuel\n\n"
        "Idling costs [Acme Freight](https://example.com) $4,200 per truck.\n\n"
        "- Route plans\n- `telematics`\n"
    )
    result = extract("post.md", source.encode())
    assert result.front_matter == "id: x\nstage: awareness"
    assert result.title == "Why fleets waste fuel"
    assert result.text.splitlines()[0] == "Why fleets waste fuel"
    assert "Idling costs Acme Freight $4,200 per truck." in result.text
    assert "Route plans" in result.text and "telematics" in result.text
    assert "---" not in result.text and "**" not in result.text and "](" not in result.text
    assert result.media_type == "text/markdown"


def test_markdown_table_rows_become_text():
    text = markdown_to_text("| Plan | Price |\n|---|---:|\n| Starter | $49 |\n")
    assert text == "Plan | Price\nStarter | $49"


def test_unclosed_front_matter_is_an_error():
    with pytest.raises(ExtractionError, match="no closing"):
        split_front_matter("---\nid: x\nbody without end\n")


def test_pdf_text_title_and_pages():
    data = make_pdf(["Route planning cut miles by 12 percent.", "Payback in five months."],
                    title="Fleet brief")
    result = extract("brief.pdf", data)
    assert result.pages == 2
    assert result.title == "Fleet brief"
    assert "Route planning cut miles by 12 percent." in result.text
    assert "Payback in five months." in result.text


def test_pdf_page_limit():
    data = make_pdf(["one", "two", "three"])
    with pytest.raises(ExtractionError, match="3 pages, over the limit of 2"):
        extract("long.pdf", data, max_pdf_pages=2)


def test_encrypted_pdf_is_refused_clearly():
    with pytest.raises(ExtractionError, match="encrypted"):
        extract("locked.pdf", make_pdf(["secret numbers"], password="pw"))


@pytest.mark.parametrize("cut", [0.5, 0.1])
def test_truncated_pdf_is_corrupt(cut):
    data = make_pdf(["Some text that will be cut off."])
    with pytest.raises(ExtractionError, match="corrupt PDF"):
        extract("cut.pdf", data[: int(len(data) * cut)])


def test_docx_paragraphs_and_tables_in_order():
    data = make_docx("Pricing overview", ["Editions for every fleet size."],
                     [["Edition", "Price"], ["Starter", "$49"]])
    result = extract("pricing.docx", data)
    assert result.title == "Pricing overview"
    assert result.text.split("\n\n") == [
        "Pricing overview", "Editions for every fleet size.", "Edition | Price", "Starter | $49",
    ]


def test_pptx_slides_and_notes():
    data = make_pptx([("Why Route Optimizer", "18% fewer miles", "Say: ask about fuel spend"),
                      ("Next steps", "Pilot in 30 days", "")])
    result = extract("deck.pptx", data)
    assert result.title == "Why Route Optimizer"
    for piece in ("18% fewer miles", "Say: ask about fuel spend", "Pilot in 30 days"):
        assert piece in result.text


def test_html_main_text_without_scripts():
    html = (
        "<html><head><title>Cold chain guide</title><style>p{color:red}</style></head><body>"
        "<nav>Home | Pricing</nav><article><h1>Cold chain guide</h1>"
        + "".join(f"<p>Paragraph {i}: reefer trucks lose 3% of loads to temperature.</p>"
                  for i in range(6))
        + "</article><script>var tracking = 1;</script></body></html>"
    )
    result = extract("guide.html", html.encode())
    assert result.title == "Cold chain guide"
    assert "Paragraph 5: reefer trucks lose 3% of loads to temperature." in result.text
    assert "tracking" not in result.text and "color:red" not in result.text


def test_html_fallback_keeps_short_visible_text():
    result = extract("tiny.htm", b"<html><body><div>Short note on SOC 2.</div></body></html>")
    assert result.text == "Short note on SOC 2."


def test_plain_text_utf8_with_bom():
    result = extract("note.txt", "\ufeffCaf\u00e9 fleet \u2014 notes".encode("utf-8"))
    assert result.text == "Caf\u00e9 fleet \u2014 notes"


def test_non_utf8_names_byte_and_offset():
    data = "Caf\u00e9 menu".encode("cp1252")
    with pytest.raises(ExtractionError, match=r"not UTF-8 \(byte 0xe9 at offset 3\)"):
        extract("menu.txt", data)


@pytest.mark.parametrize("data", [b"", b"   \n\n  "])
def test_empty_file(data):
    with pytest.raises(ExtractionError, match="empty"):
        extract("empty.md", data)


def test_markdown_with_only_front_matter_has_no_text():
    with pytest.raises(ExtractionError, match="no text"):
        extract("meta.md", b"---\nid: x\n---\n\n")


def test_size_limit_names_the_setting():
    with pytest.raises(ExtractionError, match="over the limit of 0.0 MB.*BATON_MAX_FILE_MB"):
        extract("big.txt", b"x" * 2048, max_bytes=1024)


@pytest.mark.parametrize("name", ["photo.png", "Makefile", "data.csv"])
def test_unsupported_extension(name):
    with pytest.raises(ExtractionError, match="unsupported file type"):
        extract(name, b"something")


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("report.pdf", b"just text pretending", "not a valid file of that type"),
        ("deck.pptx", make_docx("x", ["y"]), "it is a docx file"),
        ("post.md", make_pdf(["hidden pdf"]), "it is a pdf file"),
        ("note.txt", b"\x89PNG\r\n\x1a\nrest", "it is a png file"),
        ("page.html", b"abc\x00\x01\x02", "binary data"),
    ],
)
def test_content_that_lies_about_its_extension(name, data, reason):
    with pytest.raises(ExtractionError, match=reason):
        extract(name, data)


def test_zip_bomb_is_refused_from_the_directory():
    with pytest.raises(ExtractionError, match="zip bomb guard"):
        extract("bomb.docx", make_zip_bomb(), max_bytes=1024 * 1024)


def test_corrupt_docx_package():
    bomb_free = make_zip_bomb(size=10)  # a zip with word/document.xml that is not XML
    with pytest.raises(ExtractionError, match="corrupt DOCX"):
        extract("broken.docx", bomb_free)


def test_sniff_format():
    assert sniff_format(make_pdf(["x"])) == "pdf"
    assert sniff_format(make_pptx([("a", "b", "")])) == "pptx"
    assert sniff_format(b"hello") is None
