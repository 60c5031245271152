"""Scoring questions against the article each should reach — for staff and for the benchmarks.

Staff keep a file of the questions citizens ask most, each with the article that should
answer it (or ``none`` when no article should). ``samvad eval FILE`` answers every question
with the live index and lists the misses; ``bench/quality.py`` scores its question sets with
the same :func:`judge`.

A file is JSON Lines (``{"question": "…", "article": "water-cut-ghodbunder"}``; the benchmark
names ``expected_article`` / ``expected_fact`` are read too) or CSV with a header row
``question,article[,fact]``. ``fact``, when given, is a piece of text the answer must contain
(a date, a number, a phone number). Other CSV columns are notes for staff, not read;
:func:`write_cases` writes the CSV form, with such notes.

>>> from samvad.reply import Answer, Citation
>>> case = Case("When is the water cut?", "water-cut", "12 March")
>>> cited = Citation("water-cut", "Water cut", "en", "2026-03-01")
>>> judge(case, Answer("answered", "en", sentences=("Water is cut on 12 March.",), citation=cited))
Judgement(reached=True, answered_right=True, with_fact=True, wrong_article=False)
>>> judge(Case("Marriage certificate?", None), Answer("refused", "en")).reached
True
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from samvad.analyzer import normalize
from samvad.reply import Answer

NONE_WORDS = frozenset({"", "none", "null", "-", "no article", "नाही"})


class EvalFileError(ValueError):
    """A line of an evaluation file that cannot be read; the message says which and why."""


@dataclass(frozen=True)
class Case:
    """One question and the article that should answer it (``None``: no article should)."""

    question: str
    article: str | None
    fact: str | None = None


@dataclass(frozen=True)
class Judgement:
    """How an answer did: ``reached`` — the citizen got there in one tap (answered from the
    right article with the fact, or offered it; for ``None``: not answered directly)."""

    reached: bool
    answered_right: bool
    with_fact: bool
    wrong_article: bool


def judge(case: Case, answer: Answer) -> Judgement:
    """Score ``answer`` against what ``case`` expects (the benchmarks' and staff's rule)."""
    cited = answer.citation.article_id if answer.citation is not None else None
    if case.article is None:
        return Judgement(not answer.answered, False, False, answer.answered)
    right = answer.answered and cited == case.article
    fact = right and (
        case.fact is None or normalize(case.fact) in normalize(" ".join(answer.sentences))
    )
    offered = case.article in [o.article_id for o in answer.offers]
    return Judgement(fact or offered, right, fact, answer.answered and not right)


def _article(value: object) -> str | None:
    text = str(value or "").strip()
    return None if text.lower() in NONE_WORDS else text


def read_cases(path: Path) -> list[Case]:
    """The cases in a JSON Lines or CSV file (by its first character: ``{`` is JSON Lines).

    Raises :class:`EvalFileError` naming ``file:line`` for a line that cannot be read.
    """
    text = path.read_text(encoding="utf-8-sig")
    return list(
        _json_cases(path, text) if text.lstrip().startswith("{") else _csv_cases(path, text)
    )


def _json_cases(path: Path, text: str) -> Iterable[Case]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            question = row["question"]
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise EvalFileError(
                f'{path}:{number}: expected {{"question": …, "article": …}}'
            ) from exc
        if not isinstance(question, str) or not question.strip():
            raise EvalFileError(f"{path}:{number}: the question is empty")
        article = row.get("article", row.get("expected_article"))
        fact = row.get("fact", row.get("expected_fact"))
        yield Case(question.strip(), _article(article), str(fact) if fact else None)


def _csv_cases(path: Path, text: str) -> Iterable[Case]:
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or "question" not in reader.fieldnames:
        raise EvalFileError(f"{path}:1: the first line must name the columns: question,article")
    for number, row in enumerate(reader, start=2):
        question = (row.get("question") or "").strip()
        if not question:
            raise EvalFileError(f"{path}:{number}: the question is empty")
        fact = (row.get("fact") or "").strip()
        yield Case(question, _article(row.get("article")), fact or None)


def write_cases(
    out: TextIO, cases: Sequence[Case], notes: Sequence[Mapping[str, object]] = ()
) -> None:
    """Write ``cases`` as the CSV that :func:`read_cases` reads back (``None`` as ``none``),
    with one mapping of ``notes`` per case as extra columns (named by the first's keys).

    >>> import sys
    >>> write_cases(sys.stdout, [Case("पाणी कधी?", "water-cut"), Case("Marriage?", None)])
    question,article,fact
    पाणी कधी?,water-cut,
    Marriage?,none,
    """
    if notes and len(notes) != len(cases):
        raise ValueError("write_cases needs one mapping of notes per case, or none")
    extra = list(notes[0]) if notes else []
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["question", "article", "fact", *extra])
    for at, case in enumerate(cases):
        noted = [notes[at][k] for k in extra] if notes else []
        writer.writerow([case.question, case.article or "none", case.fact or "", *noted])
