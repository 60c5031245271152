"""The kind of fact a question asks for, and sentences that hold one: Marathi, English and
romanized Marathi side by side."""

from __future__ import annotations

import pytest

from samvad.facts import FactKind, fact_words, holds_fact, wanted_fact


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("घोडबंदरला पाणी कधी येणार?", "time"),
        ("When will the water supply resume?", "time"),
        ("pani kadhi yenar ghodbunder la?", "time"),
        ("किती वाजता पाणी येईल?", "time"),  # किती alone asks for a number
        ("मालमत्ता कराचा दंड किती आहे?", "number"),
        ("How much is the fine for late property tax?", "number"),
        ("property tax var dand kiti aahe?", "number"),
        ("पाणीपुरवठा हेल्पलाइन क्रमांक काय आहे?", "phone"),
        ("What is the helpline number for water?", "phone"),
        ("water helpline number kay aahe?", "phone"),
        ("बस पास कुठे मिळेल?", None),
        ("Where can I get a bus pass?", None),
    ],
)
def test_the_kind_asked_for(question: str, kind: FactKind | None) -> None:
    assert wanted_fact([question]) == kind


def test_any_phrasing_may_say_it() -> None:
    """A romanized question is also searched as its Devanagari transliteration."""
    assert wanted_fact(["paani keva yeil", "पाणी केव्हा येईल"]) == "time"


@pytest.mark.parametrize(
    ("kind", "sentence", "held"),
    [
        ("time", "१२ मार्च रोजी पाणीपुरवठा बंद राहील.", True),
        ("time", "Water will be off on Monday.", True),
        ("time", "पाणीपुरवठा सोमवार रोजी बंद राहील.", True),
        ("time", "The work is for the new pipeline.", False),
        ("number", "दंड ५०० रुपये आहे.", True),
        ("number", "The rebate is given to early payers.", False),
        ("phone", "हेल्पलाइन: १८०० २२२ १०८", True),
        ("phone", "Call 022-2533 1590 for help.", True),
        ("phone", "The office is open from 10 to 5.", False),
    ],
)
def test_sentences_that_hold_the_fact(kind: FactKind, sentence: str, held: bool) -> None:
    assert holds_fact(kind, sentence) is held


def test_every_kind_has_cues_in_both_scripts() -> None:
    for kind, words in fact_words().items():
        assert any(c.isascii() for c in words.cues), kind
        assert any(not c.isascii() for c in words.cues), kind
