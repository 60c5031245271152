"""The kind of fact a question asks for, and sentences that hold one: Marathi, English and
romanized Marathi side by side."""

from __future__ import annotations

import pytest

from samvad.facts import Asked, FactKind, answers, fact_cues, holds_fact, wanted_fact


@pytest.mark.parametrize(
    ("question", "asked"),
    [
        ("घोडबंदरला पाणी कधी येणार?", "when"),
        ("When will the water supply resume?", "when"),
        ("pani kadhi yenar ghodbunder la?", "when"),
        ("किती वाजता पाणी येईल?", "clock"),  # किती alone asks for a number
        ("What time does the pool open?", "clock"),
        ("swimming pool chi vel kay aahe?", "clock"),
        ("अर्जाचा निर्णय किती दिवसांत मिळतो?", "duration"),
        ("How long does the licence take?", "duration"),
        ("arjacha nirnay kiti divsat milto?", "duration"),
        ("कोणत्या दिवशी पाणी बंद आहे?", "date"),
        ("What is the last date for the rebate?", "date"),
        ("12 tarkhela pani band aahe ka?", "date"),
        ("मालमत्ता कराचा दंड किती आहे?", "number"),
        ("How much is the fine for late property tax?", "number"),
        ("property tax var dand kiti aahe?", "number"),
        ("पाणीपुरवठा हेल्पलाइन क्रमांक काय आहे?", "phone"),
        ("What is the helpline number for water?", "phone"),
        ("water helpline number kay aahe?", "phone"),
        ("तक्रार कोणत्या नंबरवर करायची?", "phone"),  # a cue with an ending: नंबरवर
        ("प्रभाग क्रमांक 5 चे नगरसेवक कोण?", "person"),  # beside a numeral: a ward's number
        ("Is the helpline number 1800 222 108 free?", "phone"),  # "helpline" still asks
        ("151 number chi bus kiti minitani yete?", "duration"),
        ("स्मार्ट सिटीचे सीईओ कोण आहेत?", "person"),
        ("Who signed the agreement for Japan?", "person"),  # before "when" in the file's order
        ("smart city che ceo kon aahe?", "person"),
        ("बस पास कुठे मिळेल?", "place"),
        ("Where can I get a bus pass?", "place"),
        ("bus pass kuthe milel?", "place"),
        ("पाणी का बंद आहे?", None),
        ("Why is the water cut?", None),
        ("pani band ka aahe?", None),
    ],
)
def test_the_kind_asked_for(question: str, asked: Asked | None) -> None:
    assert wanted_fact([question]) == asked


def test_any_phrasing_may_say_it() -> None:
    """A romanized question is also searched as its Devanagari transliteration."""
    assert wanted_fact(["paani yeil ka", "पाणी केव्हा येईल"]) == "when"


@pytest.mark.parametrize(
    ("kind", "sentence", "held"),
    [
        ("date", "१२ मार्च रोजी पाणीपुरवठा बंद राहील.", True),
        ("date", "Water will be off on Monday.", True),
        ("date", "पाणीपुरवठा सोमवार रोजी बंद राहील.", True),
        ("date", "फलक 31 मेपर्यंत काढावेत.", True),  # a Marathi ending on the month
        ("date", "The work is for the new pipeline.", False),
        ("date", "Parking is free for up to 2 hours.", False),
        ("clock", "तलाव सकाळी ६ ते ११ खुला राहील.", True),
        ("clock", "Stations are open till 11 pm.", True),
        ("clock", "१ जुलै ते ३१ जुलै सवलत आहे.", False),
        ("clock", "The decision comes within 30 days.", False),
        ("duration", "निर्णय 30 दिवसांत दिला जाईल.", True),
        ("duration", "The decision comes within 30 days.", True),
        ("duration", "१२ मार्च रोजी पाणीपुरवठा बंद राहील.", False),
        ("number", "दंड ५०० रुपये आहे.", True),
        ("number", "The rebate is given to early payers.", False),
        ("phone", "हेल्पलाइन: १८०० २२२ १०८", True),
        ("phone", "Call 022-2533 1590 for help.", True),
        ("phone", "The office is open from 10 to 5.", False),
        ("person", "करारावर आयुक्त सौरभ राव यांनी स्वाक्षरी केली.", True),
        ("person", "The assistant commissioner heads each flood room.", True),
        ("person", "करार माहिती तंत्रज्ञानासाठी आहे.", False),
        ("place", "लसीकरण ३३ नागरी आरोग्य केंद्रांमध्ये होईल.", True),  # केंद्र with an ending
        ("place", "Apply at Room 112 on the ground floor.", True),
        ("place", "The vaccine is free for every child.", False),
    ],
)
def test_sentences_that_hold_the_fact(kind: FactKind, sentence: str, held: bool) -> None:
    assert holds_fact(kind, sentence) is held


@pytest.mark.parametrize(
    ("asked", "sentence", "answered"),
    [
        ("when", "१३ मार्च रोजी पाणी येईल.", True),
        ("when", "Water returns at 9 am.", True),
        ("when", "पाणी सकाळी ९ वाजता येईल.", True),
        ("when", "The decision comes within 30 days.", False),
        ("clock", "Water returns on 13 March.", False),
    ],
)
def test_a_question_is_answered_by_its_kinds_of_fact(
    asked: Asked, sentence: str, answered: bool
) -> None:
    assert answers(asked, sentence) is answered


def test_every_kind_of_question_has_cues_in_both_scripts() -> None:
    for asked, kind in fact_cues().questions.items():
        assert any(c.isascii() for c in kind.cues), asked
        assert any(not c.isascii() for c in kind.cues), asked
        assert kind.answered_by, asked
