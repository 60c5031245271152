"""Lexical analyser: Marathi keeps its vowel signs, endings meet stems, digits unify."""

from __future__ import annotations

import pytest

from samvad.analyzer import analyze, normalize


@pytest.mark.parametrize(
    ("inflected", "plain"),
    [
        ("करारावर", "करार"),
        ("करारामुळे", "करार"),
        ("जपानच्या", "जपान"),
        ("ठाण्यातील", "ठाणे"),
        ("महानगरपालिकेने", "महानगरपालिका"),
        ("agreements", "agreement"),
        ("buses", "bus"),
    ],
)
def test_inflected_forms_meet_their_stem(inflected: str, plain: str) -> None:
    assert analyze(inflected) == analyze(plain)
    assert analyze(inflected) != []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("पाणीपुरवठा", ["पाणीपुरवठ"]),
        ("स्मार्ट सिटी", ["स्मार्ट", "सिट"]),
    ],
)
def test_vowel_signs_and_viramas_survive(text: str, expected: list[str]) -> None:
    assert analyze(text) == expected


@pytest.mark.parametrize(("a", "b"), [("१० टक्के", "10 टक्के"), ("वॉर्ड क्र. १२", "वॉर्ड क्र 12")])
def test_devanagari_digits_equal_ascii(a: str, b: str) -> None:
    assert analyze(a) == analyze(b)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("पाणी कधी येईल?", ["पाण", "येईल"]),
        ("When will the water come?", ["water", "come"]),
        ("करार।करार", ["करार", "करार"]),
    ],
)
def test_stopwords_and_punctuation_go(text: str, expected: list[str]) -> None:
    assert analyze(text) == expected


def test_normalize_composes_nukta_and_drops_zero_width_joiners() -> None:
    assert normalize("क\u093c") == normalize("\u0958")
    assert normalize("ॲ\u200dण्ड") == "ॲण्ड"
