"""Language detection and romanized Marathi → Devanagari."""

from __future__ import annotations

import pytest

from samvad.language import (
    Lang,
    as_language,
    clear_language,
    detect_language,
    named_language,
    prepare_query,
    question_words,
    reply_language,
    romanized_to_devanagari,
)
from samvad.lexicon import shipped_lexicon


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
    ("romanized", "with_loanwords", "letter_by_letter"),
    [
        ("office kiti vajta ughadta", "ऑफिस किती", "ओफ्फिचे किती"),
        ("complaint number kay aahe", "कंप्लेंट नंबर", "चोंप्लैंत नुंबेर"),
        ("tar mala sut milel ka", "तर मला", "तर मला"),  # "tar" is Marathi here, not pitch
    ],
)
def test_romanized_english_words_become_loanwords(
    romanized: str, with_loanwords: str, letter_by_letter: str
) -> None:
    assert romanized_to_devanagari(romanized, loanwords=True).startswith(with_loanwords)
    assert romanized_to_devanagari(romanized).startswith(letter_by_letter)


def test_prepare_query_writes_loanwords_in_the_devanagari_phrasing() -> None:
    on = prepare_query("swimming pool kadhi chalu", loanwords=True)
    assert on.phrasings[1].startswith("स्विमिंग पूल") and on.loanwords
    off = prepare_query("swimming pool kadhi chalu")
    assert off.phrasings[1].startswith("स्विम्मिंग") and not off.loanwords
    assert not prepare_query("swimming pool timings", loanwords=True).loanwords  # English


@pytest.mark.parametrize(
    ("text", "translation"),
    [
        ("फेरीवाल्यांसाठी परवाना कुठे मिळतो?", "hawker"),
        ("Where do hawkers get a licence?", "फेरीवाल"),
    ],
)
def test_prepare_query_translates_the_terms_with_a_lexicon(text: str, translation: str) -> None:
    """The translated terms are the other script's; without a lexicon there are none."""
    query = prepare_query(text, lexicon=shipped_lexicon())
    assert translation in query.translated_terms
    assert not set(query.translated_terms) & set(query.terms)
    assert prepare_query(text).translated_terms == ()


def test_a_romanized_questions_translations_join_its_own_terms() -> None:
    """Its words already match articles in both languages, so BM25 takes the translations
    with the rest of its terms."""
    query = prepare_query("kachra complaint kuthe karaychi", lexicon=shipped_lexicon())
    assert "तक्रार" in query.terms
    assert query.translated_terms == ()
    assert "तक्रार" not in prepare_query("kachra complaint kuthe karaychi").terms


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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ठाण्यात पाणी कधी येईल?", "mr"),
        ("pani kadhi yeil?", "mr"),
        ("namaskar", "mr"),
        ("khup dhanyavad", "mr"),
        ("When will the water come?", "en"),
        ("What is the price of petrol in Delhi?", "en"),
        ("property tax due date", "en"),
        ("hi", None),
        ("thank you", None),
        ("ok", None),
        ("👍", None),
        ('/feedback{"helpful":true}', None),
        ("/start", None),
    ],
)
def test_clear_language(text: str, expected: str | None) -> None:
    assert clear_language(text) == expected


@pytest.mark.parametrize(
    ("chosen", "text", "last", "expected"),
    [
        (None, "घोडबंदरला पाणी कधी बंद आहे?", "en", "mr"),
        (None, "When is the water cut in Ghodbunder?", "mr", "en"),
        (None, "pani kadhi band aahe?", "en", "mr"),
        (None, "ok", "en", "en"),
        (None, "ok", "mr", "mr"),
        (None, "ok", None, "mr"),
        ("mr", "When is the water cut in Ghodbunder?", "en", "mr"),
        ("en", "घोडबंदरला पाणी कधी बंद आहे?", "mr", "en"),
    ],
    ids=[
        "marathi-after-english",
        "english-after-marathi",
        "romanized-after-english",
        "unclear-keeps-english",
        "unclear-keeps-marathi",
        "unclear-first-is-marathi",
        "choice-marathi-wins",
        "choice-english-wins",
    ],
)
def test_reply_language_policy(
    chosen: Lang | None, text: str, last: Lang | None, expected: Lang
) -> None:
    assert reply_language(chosen, text, last) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("mr", "mr"),
        ("en-IN", "en"),
        ("Marathi", "mr"),
        ("मराठी", "mr"),
        ("इंग्रजीत", "en"),
        ("hi", None),
        (None, None),
        (3, None),
    ],
)
def test_as_language(value: object, expected: str | None) -> None:
    assert as_language(value) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("मराठीत बोला", "mr"),
        ("in English please", "en"),
        ("marathit sanga", "mr"),
        ("इंग्रजीत सांगा", "en"),
        ("change language", None),
        ("English or Marathi?", None),
    ],
)
def test_named_language(text: str, expected: str | None) -> None:
    assert named_language(text) == expected


def test_a_romanized_word_is_read_as_typed_not_as_its_english_stem() -> None:
    forms = {w.word: w.forms for w in question_words("kiti divas lagtat", romanized=True)}
    assert "दिवस" in forms["diva"]  # "divas" stems to "diva" as an English plural would


@pytest.mark.parametrize(
    ("question", "kept", "left_out"),
    [
        ("pani kuthe milel ahe", {"pani", "milel"}, {"kuthe", "ahe"}),
        ("tanker sathi number kay ahe", {"tanker", "number"}, {"sathi", "kay", "ahe"}),
    ],
    ids=["marathi words", "english words in marathi"],
)
def test_coverage_leaves_out_romanized_function_words(
    question: str, kept: set[str], left_out: set[str]
) -> None:
    words = {w.word for w in question_words(question, romanized=True)}
    assert kept <= words and not left_out & words
