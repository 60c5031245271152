"""From citizens' picks and 👍 to a file of questions for eval and calibrate (no model)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from samvad.evaluation import Case, read_cases, write_cases
from samvad.picks import CitizenCase, cases_from_labels
from samvad.question_log import CitizenLabel


def said(question: str, article: str | None, citizen: str | None, day: int) -> CitizenLabel:
    return CitizenLabel(question, article, "picked", f"2026-11-{day:02}T10:00:00", citizen)


@pytest.mark.parametrize(
    ("asked", "again"),
    [
        ("पाणी कधी येणार?", "पाणी कधी येणार"),
        ("Bus pass form kuthe milel?", "bus pass FORM kuthe milel"),
    ],
    ids=["marathi", "romanized"],
)
def test_one_case_per_question_whatever_the_case_and_punctuation(asked: str, again: str) -> None:
    cases = cases_from_labels([said(asked, "a", "1", 3), said(again, "a", "2", 2)])
    assert cases == [CitizenCase(Case(asked, "a"), 2, 0)]


def test_each_citizen_counts_once_with_their_latest_word() -> None:
    labels = [said("Tax rebate?", "tax", "1", 9), said("Tax rebate?", "water", "1", 1),
              said("Tax rebate?", "water", "2", 2)]  # fmt: skip
    (case,) = cases_from_labels(labels)
    assert (case.agreeing, case.disagreeing) == (1, 1)
    assert case.case.article == "tax"  # a tie: the most recent word


@pytest.mark.parametrize(
    "question", ["पाणी कधी येणार?", "When will the water come?"], ids=["marathi", "english"]
)
def test_words_without_a_pseudonym_each_count_as_a_citizen(question: str) -> None:
    unnamed = [
        said(question, article, None, day)
        for article, day in (("water", 3), ("water", 2), ("tax", 1))
    ]
    (case,) = cases_from_labels(unnamed)
    assert (case.case.article, case.agreeing, case.disagreeing) == ("water", 2, 1)


def test_most_citizens_decide_and_none_is_a_word_like_any_other() -> None:
    labels = [said("विवाह नोंदणी?", None, "1", 9), said("विवाह नोंदणी?", None, "2", 8),
              said("विवाह नोंदणी?", "birth-certificate", "3", 7)]  # fmt: skip
    (case,) = cases_from_labels(labels)
    assert case.case == Case("विवाह नोंदणी?", None)
    assert case.notes == {"citizens_agreeing": 2, "citizens_disagreeing": 1}


def test_questions_come_most_recent_first() -> None:
    labels = [said("new one?", "a", "1", 9), said("old one?", "b", "1", 1)]
    assert [c.case.question for c in cases_from_labels(labels)] == ["new one?", "old one?"]


def test_the_written_file_reads_back_as_the_same_cases(tmp_path: Path) -> None:
    cases = [Case("घरपट्टी, कधी भरायची?", "property-tax"), Case("Marriage certificate?", None),
             Case('Bus "pass" fee?', "tmt-pass", "₹500")]  # fmt: skip
    notes = [{"citizens_agreeing": n, "citizens_disagreeing": 0} for n in (3, 2, 1)]
    out = io.StringIO()
    write_cases(out, cases, notes)
    path = tmp_path / "from-citizens.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    assert read_cases(path) == cases
    assert out.getvalue().splitlines()[0] == (
        "question,article,fact,citizens_agreeing,citizens_disagreeing"
    )


def test_notes_must_match_the_cases() -> None:
    with pytest.raises(ValueError, match="one mapping of notes per case"):
        write_cases(io.StringIO(), [Case("q", "a")], [{}, {}])
