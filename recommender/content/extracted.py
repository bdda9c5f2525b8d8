"""The text of one extracted file, and the whitespace rules every format reader shares."""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass
class Extracted:
    """The text of one file and what was learnt while reading it.

    ``title`` is a hint (first heading, HTML ``<title>``, PDF metadata); ``front_matter`` is the
    raw YAML block of a Markdown file (parsed and validated by ``asset_files``).
    """

    text: str
    format: str
    media_type: str
    title: str = ""
    front_matter: str | None = None
    pages: int | None = None
    warnings: list[str] = field(default_factory=list)


def tidy(text: str) -> str:
    """Normalise newlines and whitespace; keep paragraphs separated by one blank line."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    paragraphs = []
    for block in re.split(r"\n\s*\n", text):
        lines = [" ".join(line.split()) for line in block.split("\n")]
        block = "\n".join(line for line in lines if line)
        if block:
            paragraphs.append(block)
    return "\n\n".join(paragraphs)


def first_line(text: str) -> str:
    """Return the first non-blank line of ``text`` (at most 200 characters)."""
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:200]
    return ""
