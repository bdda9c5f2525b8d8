"""Split an asset's text into passages: embedded one by one, and quoted when one matches a deal.

Passages follow the text's own boundaries: paragraphs are packed together up to about
``passage_words`` words; a paragraph that is too long is cut at sentence ends; a sentence that
is still too long is cut by words. Consecutive passages share a small overlap (the last
sentence(s) of the previous one, up to ``overlap_words``) so a statement cut at a boundary is
still found whole.
"""

from __future__ import annotations

import re

_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")


def split_sentences(text: str) -> list[str]:
    """Split a paragraph into sentences (a light rule: ., ! or ? followed by a capital)."""
    return [s.strip() for s in _SENTENCE_END.split(" ".join(text.split())) if s.strip()]


def _units(text: str, max_words: int) -> list[str]:
    """Return sentences (long ones cut by words) of every paragraph, marking paragraph ends."""
    units: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        if not paragraph.strip():
            continue
        for sentence in split_sentences(paragraph):
            words = sentence.split()
            for start in range(0, len(words), max_words):
                units.append(" ".join(words[start:start + max_words]))
        units.append("\n")  # paragraph boundary marker
    return units


def split_passages(text: str, passage_words: int = 120, overlap_words: int = 20) -> list[str]:
    """Split ``text`` into passages of about ``passage_words`` words.

    Parameters
    ----------
    text : str
        Plain text with paragraphs separated by blank lines.
    passage_words : int
        Target passage length in words (a passage may reach 1.5x this to end at a boundary).
    overlap_words : int
        At most this many words of trailing whole sentences are repeated at the start of the
        next passage (0 disables overlap).

    Returns
    -------
    list of str
        Passages in reading order; empty for empty text.
    """
    if passage_words < 10:
        raise ValueError(f"passage_words must be at least 10, not {passage_words}")
    limit = int(passage_words * 1.5)
    passages: list[str] = []
    current: list[str] = []  # sentences, with "\n" paragraph markers
    count = 0
    fresh = 0  # words in ``current`` not carried over from the previous passage

    def flush() -> list[str]:
        body = _join(current)
        if body and fresh > 0:
            passages.append(body)
        if overlap_words <= 0:
            return []
        carry: list[str] = []
        words = 0
        for unit in reversed(current):
            if unit == "\n":
                continue
            n = len(unit.split())
            if words + n > overlap_words:
                break
            carry.insert(0, unit)
            words += n
        return carry

    for unit in _units(text, limit):
        if unit == "\n":
            if current and current[-1] != "\n":
                current.append("\n")
            if count >= passage_words:
                current = flush()
                count = sum(len(u.split()) for u in current)
                fresh = 0
            continue
        n = len(unit.split())
        if count + n > limit and fresh > 0:
            current = flush()
            count = sum(len(u.split()) for u in current)
            fresh = 0
        current.append(unit)
        count += n
        fresh += n
    if fresh > 0:
        flush()
    return passages


def _join(units: list[str]) -> str:
    paragraphs: list[list[str]] = [[]]
    for unit in units:
        if unit == "\n":
            if paragraphs[-1]:
                paragraphs.append([])
        else:
            paragraphs[-1].append(unit)
    return "\n\n".join(" ".join(p) for p in paragraphs if p)
