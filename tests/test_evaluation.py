"""Staff's evaluation files and the scoring rule shared with the benchmarks."""

from __future__ import annotations

from pathlib import Path

import pytest

from samvad.evaluation import Case, EvalFileError, judge, read_cases
from samvad.reply import Answer, Citation, Offer

WATER = "water-cut-ghodbunder"


@pytest.mark.parametrize(
    ("name", "content"),
    [
        (
            "questions.jsonl",
            '{"question": "पाणी कधी येणार?", "article": "water-cut-ghodbunder", "fact": "12"}\n'
            '{"question": "marriage certificate kasa milel", "article": "none"}\n',
        ),
        (
            "questions.csv",
            "question,article,fact\npाणी कधी येणार?,water-cut-ghodbunder,12\n".replace("p", "प", 1)
            + "marriage certificate kasa milel,none,\n",
        ),
        (
            "benchmark.jsonl",
            '{"question": "पाणी कधी येणार?", "expected_article": "water-cut-ghodbunder", '
            '"expected_fact": "12"}\n{"question": "marriage certificate kasa milel", '
            '"expected_article": null}\n',
        ),
    ],
    ids=["jsonl", "csv", "benchmark-format"],
)
def test_files_are_read_in_every_form(tmp_path: Path, name: str, content: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    assert read_cases(path) == [
        Case("पाणी कधी येणार?", WATER, "12"),
        Case("marriage certificate kasa milel", None),
    ]


@pytest.mark.parametrize(
    ("content", "where"),
    [
        ('{"question": "ok", "article": "a"}\nnot json\n', ":2:"),
        ('{"article": "a"}\n', ":1:"),
        ("article\nwater\n", ":1:"),
        ("question,article\n,water\n", ":2:"),
    ],
)
def test_a_bad_line_is_named(tmp_path: Path, content: str, where: str) -> None:
    path = tmp_path / ("q.jsonl" if content.startswith("{") else "q.csv")
    path.write_text(content, encoding="utf-8")
    with pytest.raises(EvalFileError, match=where):
        read_cases(path)


CITED = Citation(WATER, "Water cut", "mr", "2026-03-01")
OFFERED = (Offer(WATER, "W", "mr", "2026-03-01"),)
JUDGED = {
    "fact-marathi": (
        Case("q", WATER, "१२ मार्च"),
        Answer("answered", "mr", sentences=("१२ मार्च रोजी",), citation=CITED),
        True,
        False,
    ),
    "fact-missing": (
        Case("q", WATER, "12 March"),
        Answer("answered", "en", sentences=("soon",), citation=CITED),
        False,
        False,
    ),
    "offered": (Case("q", WATER), Answer("offered", "en", offers=OFFERED), True, False),
    "wrong-article": (Case("q", "tax"), Answer("answered", "en", citation=CITED), False, True),
    "none-refused": (Case("q", None), Answer("refused", "en"), True, False),
    "none-answered": (Case("q", None), Answer("answered", "en", citation=CITED), False, True),
}


@pytest.mark.parametrize(("case", "answer", "reached", "wrong"), JUDGED.values(), ids=JUDGED)
def test_judge(case: Case, answer: Answer, reached: bool, wrong: bool) -> None:
    verdict = judge(case, answer)
    assert (verdict.reached, verdict.wrong_article) == (reached, wrong)
