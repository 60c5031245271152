"""Romanized words and loanwords meet the corpus words they sound like."""

from __future__ import annotations

import pytest

from samvad.language import prepare_query
from samvad.phonetic import Vocabulary, edit_distance, phonetic, skeleton

CORPUS = Vocabulary.from_texts(
    [
        "घोडबंदर रोडवर पाणीपुरवठा बंद राहील. पाणी टँकरने मिळेल.",
        "पार्किंग ऑनलाइन शुल्क भरा. कचरा वेगळा करा. स्मार्ट सिटी करार.",
    ]
)


@pytest.mark.parametrize(
    ("latin", "devanagari"),
    [
        ("pani", "पाणी"),
        ("paani", "पाणी"),
        ("panee", "पाणी"),
        ("kachra", "कचरा"),
        ("kachara", "कचरा"),
        ("parking", "पार्किंग"),
        ("online", "ऑनलाइन"),
        ("smart", "स्मार्ट"),
        ("shulk", "शुल्क"),
        ("ghodbunder", "घोडबंदर"),
    ],
)
def test_casual_spellings_meet_the_corpus_word(latin: str, devanagari: str) -> None:
    assert CORPUS.match(latin) == devanagari


@pytest.mark.parametrize("latin", ["kuthe", "passport", "hi", "xyz", "१२३", "zzzzzz"])
def test_words_the_corpus_does_not_have_meet_nothing(latin: str) -> None:
    assert CORPUS.match(latin) is None


@pytest.mark.parametrize(
    ("a", "b"),
    [("पाणी", "paani"), ("शुल्क", "shulk"), ("कचरा", "kachra"), ("बस", "bas")],
)
def test_both_scripts_share_a_skeleton(a: str, b: str) -> None:
    assert skeleton(phonetic(a)) == skeleton(phonetic(b))


def test_edit_distance_stops_past_its_bound() -> None:
    assert edit_distance("kacara", "kacra", 2) == 1
    assert edit_distance("abcdef", "uvwxyz", 2) == 3


@pytest.mark.parametrize(
    ("question", "words"),
    [
        ("pani kadhi yenar ghodbunder la", ("पाणी", "घोडबंदर")),
        ("parking shulk kiti ahe", ("पार्किंग", "शुल्क")),
    ],
)
def test_romanized_questions_gain_the_corpus_words_as_terms(
    question: str, words: tuple[str, ...]
) -> None:
    query = prepare_query(question, CORPUS)
    assert set(words) <= set(query.corpus_words) <= set(query.terms)
    assert prepare_query(question).corpus_words == ()


@pytest.mark.parametrize("question", ["Where is the parking?", "पाणी कधी येणार?"])
def test_other_questions_are_left_as_they_are(question: str) -> None:
    assert prepare_query(question, CORPUS) == prepare_query(question)
