"""Language detection and romanized Marathi → Devanagari."""

from __future__ import annotations

import pytest

from samvad.language import detect_language, prepare_query, romanized_to_devanagari


@pytest.mark.parametrize(
    ("text", "lang", "romanized"),
    [
        ("पाणी कधी येईल?", "mr", False),
        ("When will the water supply resume?", "en", False),
        ("pani kadhi band aahe ghodbunder la?", "mr", True),
        ("property tax var sut kiti ahe", "mr", True),
        ("Which Japanese ministry signed the agreement?", "en", False),
        ("TMT बस pass कुठे मिळतो?", "mr", False),
        ("12345", "en", False),
        ("hi", "en", False),
        ("how to pay water bill", "en", False),
        ("mala madat pahije", "mr", True),
    ],
    ids=[
        "marathi",
        "english",
        "romanized",
        "romanized-mixed",
        "english-names",
        "mixed",
        "digits",
        "english-hi",
        "english-how-to",
        "romanized-short",
    ],
)
def test_detect_language(text: str, lang: str, romanized: bool) -> None:
    detected = detect_language(text)
    assert (detected.lang, detected.romanized) == (lang, romanized)


@pytest.mark.parametrize(
    ("romanized", "devanagari"),
    [
        ("pani kadhi band aahe", "पाणी कधी बंद आहे"),
        ("karar kela", "करार केला"),
    ],
)
def test_romanized_to_devanagari_meets_marathi_spelling(romanized: str, devanagari: str) -> None:
    from samvad.analyzer import analyze, skeletons

    assert skeletons(analyze(romanized_to_devanagari(romanized))) == skeletons(analyze(devanagari))


@pytest.mark.parametrize(
    ("text", "phrasings", "langs"),
    [
        ("पाणी कधी येईल?", 1, {"mr"}),
        ("When will water come?", 1, {"en"}),
        ("pani kadhi yeil?", 2, {"mr", "en"}),
    ],
)
def test_prepare_query_adds_devanagari_for_romanized(
    text: str, phrasings: int, langs: set[str]
) -> None:
    query = prepare_query(text)
    assert len(query.phrasings) == phrasings
    assert query.lexical_langs == langs
    if phrasings == 2:
        assert any(t.startswith("~") for t in query.terms)
