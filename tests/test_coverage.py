"""Coverage: the idf-weighted share of a question's words an article holds, in any form."""

from __future__ import annotations

import pytest

from samvad.coverage import QuestionWord, coverage, word_weight
from samvad.language import question_words
from samvad.lexicon import Lexicon

FREQUENCY = {"camp": 4, "शिबिर": 3, "eye": 2, "पाणी": 10}
LEXICON = Lexicon({"camp": ("शिबिर",), "शिबिर": ("camp",), "water": ("पाणी",)})


def df(term: str) -> int:
    return FREQUENCY.get(term, 0)


def test_a_word_the_index_never_holds_weighs_most() -> None:
    unknown = QuestionWord("dental", frozenset({"dental"}))
    known = QuestionWord("camp", frozenset({"camp", "शिबिर"}))
    assert word_weight(unknown, df, 50) > word_weight(known, df, 50) > 0


def test_the_forms_of_a_word_count_together() -> None:
    alone = QuestionWord("camp", frozenset({"camp"}))
    both = QuestionWord("camp", frozenset({"camp", "शिबिर"}))
    assert word_weight(both, df, 50) < word_weight(alone, df, 50)


@pytest.mark.parametrize(
    ("question", "article", "expected"),
    [
        ("eye camp", {"camp", "eye"}, 1.0),
        ("eye camp", {"शिबिर", "eye"}, 1.0),
        ("eye camp", {"unrelated"}, 0.0),
    ],
    ids=["same words", "a word in the other language", "no word"],
)
def test_an_article_holding_every_word_in_some_form_covers_all(
    question: str, article: set[str], expected: float
) -> None:
    words = question_words(question, romanized=False, lexicon=LEXICON)
    assert coverage(words, frozenset(article), df, 50) == pytest.approx(expected)


@pytest.mark.parametrize(
    "question",
    ["any free dental camp", "dental camp kuthe ahe"],
    ids=["English", "romanized Marathi"],
)
def test_the_neighbouring_topic_word_missing_lowers_coverage(question: str) -> None:
    romanized = question.endswith("ahe")
    words = question_words(question, romanized=romanized, lexicon=LEXICON)
    share = coverage(words, frozenset({"camp", "free", "eye"}), df, 50)
    assert 0.0 < share < 0.6


def test_a_romanized_marathi_stopword_is_not_a_word_of_the_question() -> None:
    words = [w.word for w in question_words("pani kiti vajta yenar", romanized=True)]
    assert "kiti" not in words and "pani" in words


def test_a_romanized_word_meets_its_devanagari_reading() -> None:
    (pani,) = question_words("pani", romanized=True, lexicon=LEXICON)
    assert any(form.startswith("~") for form in pani.forms)
    assert "pani" in pani.forms


def test_a_word_with_a_joined_postposition_meets_an_article_in_the_other_language() -> None:
    (word,) = question_words("शिबिराविषयी", romanized=False, lexicon=LEXICON)
    assert coverage((word,), frozenset({"camp", "eye"}), df, 50) == 1.0


def test_a_question_without_words_covers_nothing() -> None:
    assert coverage((), frozenset({"camp"}), df, 50) == 0.0
