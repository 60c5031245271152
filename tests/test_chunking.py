"""Chunking: sentence ends in both scripts, paragraphs, headings, title kept, stable ids."""

from __future__ import annotations

import datetime as dt

import pytest

from samvad.articles import Article
from samvad.chunking import (
    chunk_article,
    passage_for_embedding,
    split_sentences,
    vector_id_for,
)


def make_article(body: str, lang: str = "mr", title: str = "शीर्षक") -> Article:
    return Article(
        id="sample",
        lang=lang,
        title=title,
        date=dt.date(2026, 1, 1),
        body=body,
        path=f"sample.{lang}.md",
        content_hash="0" * 64,
    )


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        ("पाणी बंद राहील। नागरिकांनी सहकार्य करावे।", ["पाणी बंद राहील।", "नागरिकांनी सहकार्य करावे।"]),
        ("Water will be off. Please co-operate!", ["Water will be off.", "Please co-operate!"]),
        ("पाणी कधी येईल? उद्या सकाळी.", ["पाणी कधी येईल?", "उद्या सकाळी."]),
        (
            "Rebate is 10.5 per cent. See www.example.org now.",
            ["Rebate is 10.5 per cent.", "See www.example.org now."],
        ),
        ("कर भरा॥ Pay tax।", ["कर भरा॥", "Pay tax।"]),
    ],
    ids=["marathi-danda", "english-stops", "mixed-question", "decimals-and-urls", "double-danda"],
)
def test_split_sentences(text: str, sentences: list[str]) -> None:
    assert split_sentences(text) == sentences


def test_paragraph_and_heading_boundaries_are_respected() -> None:
    body = "पहिला परिच्छेद आहे।\n\n## नवीन विभाग\nदुसरा परिच्छेद आहे।"
    chunks = chunk_article(make_article(body), max_chars=20)
    assert [c.text for c in chunks] == ["पहिला परिच्छेद आहे।", "दुसरा परिच्छेद आहे।"]
    assert [c.heading for c in chunks] == ["", "नवीन विभाग"]


@pytest.mark.parametrize("lang", ["mr", "en"])
def test_long_paragraph_splits_only_at_sentence_ends(lang: str) -> None:
    sentence = "पाणीपुरवठा बंद राहील। " if lang == "mr" else "Water supply will be off. "
    chunks = chunk_article(make_article(sentence * 40, lang), max_chars=200)
    assert len(chunks) > 1
    for chunk in chunks:
        assert len(chunk.text) <= 200
        assert all(s == sentence.strip() for s in chunk.sentences)


def test_short_paragraphs_share_a_chunk() -> None:
    chunks = chunk_article(make_article("एक।\n\nदोन।\n\nतीन।"), max_chars=600)
    assert [c.sentences for c in chunks] == [("एक।", "दोन।", "तीन।")]


def test_ids_are_stable_and_title_is_kept_for_embedding() -> None:
    article = make_article("Water will be off.\n\nPlease store water.", "en", "Water cut")
    first, second = chunk_article(article), chunk_article(article)
    assert [c.chunk_id for c in first] == [c.chunk_id for c in second] == ["sample/en#0"]
    assert first[0].vector_id == vector_id_for("sample/en#0") > 0
    assert passage_for_embedding(article, first[0]).startswith("Water cut\n")
