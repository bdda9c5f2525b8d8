"""Splitting text into passages on paragraph and sentence boundaries, with overlap."""

from __future__ import annotations

import re

import pytest

from recommender.content.passages import split_passages, split_sentences


def _doc(paragraphs: int, sentences: int, words: int = 10) -> str:
    out = []
    for p in range(paragraphs):
        out.append(" ".join(
            f"Sentence {p}-{s} " + " ".join(f"w{p}x{s}y{i}" for i in range(words - 2)) + "."
            for s in range(sentences)))
    return "\n\n".join(out)


def test_short_text_is_one_passage():
    assert split_passages("One short paragraph. Two sentences.", 120) == [
        "One short paragraph. Two sentences."]


def test_empty_text_has_no_passages():
    assert split_passages("  \n\n ", 120) == []


def test_passages_respect_length_and_cover_every_sentence():
    text = _doc(paragraphs=8, sentences=4, words=10)  # 320 words
    passages = split_passages(text, passage_words=60, overlap_words=15)
    assert len(passages) >= 4
    assert all(len(p.split()) <= 90 for p in passages)  # at most 1.5x the target
    joined = " ".join(passages)
    for sentence in re.findall(r"Sentence \d+-\d+", text):
        assert sentence + " " in joined
    # passages end at sentence ends
    assert all(p.endswith(".") for p in passages)


def test_overlap_repeats_the_last_sentence():
    text = _doc(paragraphs=6, sentences=3, words=10)
    passages = split_passages(text, passage_words=40, overlap_words=12)
    for first, second in zip(passages, passages[1:], strict=False):
        last_sentence = re.split(r"(?<=\.) ", first.replace("\n\n", " "))[-1]
        assert second.startswith(last_sentence)


def test_no_overlap_when_disabled():
    text = _doc(paragraphs=6, sentences=3, words=10)
    passages = split_passages(text, passage_words=40, overlap_words=0)
    starts = [p.split()[1] for p in passages]
    assert len(set(starts)) == len(starts)
    assert sum(len(p.split()) for p in passages) == len(text.split())


def test_giant_sentence_is_cut_by_words():
    text = " ".join(f"w{i}" for i in range(500))
    passages = split_passages(text, passage_words=100, overlap_words=0)
    assert all(len(p.split()) <= 150 for p in passages)
    assert " ".join(passages).split() == text.split()


def test_sentence_splitter_keeps_numbers_together():
    assert split_sentences("Costs fell 18.5% in Q2. Payback came in 5 months! Why? Fuel.") == [
        "Costs fell 18.5% in Q2.", "Payback came in 5 months!", "Why?", "Fuel."]


def test_tiny_passage_length_is_rejected():
    with pytest.raises(ValueError, match="passage_words"):
        split_passages("text", passage_words=3)
