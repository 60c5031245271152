"""English words of a romanized question written as Marathi writes loanwords."""

from __future__ import annotations

import pytest

from samvad.loanwords import _pronunciations, devanagari_loanword, is_common_english, load, spell


@pytest.mark.parametrize(
    ("word", "loanword"),
    [
        ("office", "ऑफिस"),
        ("operation", "ऑपरेशन"),
        ("hospital", "हॉस्पिटल"),
        ("complaint", "कंप्लेंट"),
        ("swimming", "स्विमिंग"),
        ("card", "कार्ड"),
        ("charging", "चार्जिंग"),
        ("online", "ऑन्लायन"),
        ("licence", "लायसन्स"),
        ("Number", "नंबर"),
        ("fee", "फी"),
        ("bus", "बस"),
    ],
)
def test_common_english_words_become_marathi_loanwords(word: str, loanword: str) -> None:
    assert devanagari_loanword(word) == loanword


@pytest.mark.parametrize(
    "word",
    ["pani", "kadhi", "sathi", "aahe", "karnar", "ghodbunder", "mala", "navin", "thane"],
)
def test_romanized_marathi_words_are_not_english(word: str) -> None:
    assert not is_common_english(word)
    assert devanagari_loanword(word) is None


@pytest.mark.parametrize("word", ["", "a", "to", "pool1", "पाणी", "tmc"])
def test_short_rare_or_other_script_words_have_no_loanword(word: str) -> None:
    assert devanagari_loanword(word) is None


@pytest.mark.parametrize(
    ("phonemes", "devanagari"),
    [
        (("S", "T", "AE", "M", "P"), "स्टॅंप"),  # a nasal before a stop: anusvara
        (("K", "AH", "N", "S", "EH", "SH", "AH", "N"), "कन्सेशन"),  # before s: a letter
        (("M", "AA", "R", "CH"), "मार्च"),  # AA before R is आ
        (("SH", "AA", "P"), "शॉप"),  # AA otherwise ऑ
        (("AY",), "आय"),  # a vowel alone is its own letter
        (("N", "AH", "M", "B", "ER"), "नंबर"),  # ER: a schwa and an r
    ],
)
def test_spell_writes_phonemes_as_marathi_does(phonemes: tuple[str, ...], devanagari: str) -> None:
    assert spell(phonemes) == devanagari


def test_load_reads_the_dictionary_ahead_of_the_first_question() -> None:
    """The engine calls it at start-up when it writes loanwords."""
    load()
    assert _pronunciations.cache_info().currsize == 1
    assert devanagari_loanword("office") == "ऑफिस"
