"""What citizens get, before and after a change, side by side in one run: the issue-12 table.

The scoring is :func:`samvad.evaluation.judge`, the one ``samvad eval`` uses for staff. For
each question set and each kind of question it prints, for today's engine and for each change
tried — hybrid ranking (search mode ``hybrid``: without the best-sentence ranking), corpus
spelling (``samvad/phonetic.py``: romanized words and loanwords matched to
the index's own words), today's without fact sentences (``samvad/facts.py``: a sentence holding
the kind of fact asked for joins the answer), without loanwords (``samvad/loanwords.py``: the
English words of a romanized question written as Marathi loanwords), the decision by the
four thresholds alone (``SAMVAD_DECISION=thresholds``; today's default is the calibrated
chance, ``samvad/calibration.py``), the model with the other
adapter setting (``SAMVAD_MODEL_ADAPTER``: the adapter merged or not, with its own index)
and, on a CPU that runs bfloat16, the index built in float32 as before passages followed the
precision — top article right, answered with the key fact, reached in one tap (answered with
the fact, or the right article among the offers), answered from the wrong article, and for
out-of-scope questions how many were answered directly; then the warm latency per question
(p50 / p95).
All but the adapter variant serve the same index and the same model; each question goes to
each in turn, so machine noise hits all alike. ``today`` ranks by the search mode the settings
name (``SAMVAD_SEARCH_MODE``, default ``sentences``: chunks also ranked by their best sentence).

Sets: ``dev`` and ``heldout`` (tests/fixtures), ``tuning`` and ``kept_aside``
(tests/fixtures/questions_v2). Tune on ``dev`` and ``tuning`` only; ``heldout`` and
``kept_aside`` are report-only.

    .venv/bin/python -m bench.quality [--sets dev heldout tuning kept_aside]
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path

from bench.common import (
    DEV_CORPUS,
    HELDOUT_QUESTIONS,
    ROOT,
    EvalQuestion,
    build_temp_index,
    dev_questions,
    load_embedder,
    percentile,
    temp_workdir,
)
from samvad import Answer, AnswerEngine
from samvad.evaluation import Case, judge
from samvad.precision import choose_precision
from samvad.retriever import SearchMode
from samvad.settings import SHIPPED_ADAPTER, Settings

SETS = {
    "dev": ROOT / "tests" / "fixtures" / "dev_questions.jsonl",
    "heldout": HELDOUT_QUESTIONS,
    "tuning": ROOT / "tests" / "fixtures" / "questions_v2" / "tuning.jsonl",
    "kept_aside": ROOT / "tests" / "fixtures" / "questions_v2" / "kept_aside.jsonl",
}
KINDS = {"cross": "cross_lingual"}  # the two sets name this kind differently


@dataclass
class Tally:
    """Counts for one group of questions under one engine."""

    n: int = 0
    top_right: int = 0
    fact: int = 0
    one_tap: int = 0
    wrong_article: int = 0
    answered: int = 0
    offered: int = 0
    refused: int = 0
    ms: list[float] = field(default_factory=list)

    def add(self, item: EvalQuestion, answer: Answer, top: str | None, ms: float) -> None:
        """Count one question's outcome."""
        self.n += 1
        self.ms.append(ms)
        self.answered += answer.outcome == "answered"
        self.offered += answer.outcome == "offered"
        self.refused += answer.outcome == "refused"
        if item.expected_article is None:
            return
        verdict = judge(Case(item.question, item.expected_article, item.expected_fact), answer)
        self.top_right += top == item.expected_article
        self.wrong_article += verdict.wrong_article
        self.fact += verdict.with_fact
        self.one_tap += verdict.reached


def _row(label: str, t: Tally, in_scope: bool) -> str:
    if not t.n:
        return f"  {label:28} —"
    if in_scope:
        return (
            f"  {label:28} n={t.n:3}  top {t.top_right / t.n:.2f}  fact {t.fact / t.n:.2f}  "
            f"1-tap {t.one_tap / t.n:.2f}  wrong {t.wrong_article:2}  "
            f"a/o/r {t.answered}/{t.offered}/{t.refused}"
        )
    return (
        f"  {label:28} n={t.n:3}  answered {t.answered}  offered {t.offered}  refused {t.refused}"
    )


def main() -> None:
    """Print the side-by-side figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", nargs="+", default=list(SETS), choices=list(SETS))
    args = parser.parse_args()
    embedder = load_embedder(threads=1, precision=choose_precision("auto"))
    folders = [DEV_CORPUS, ROOT / "knowledge"]
    settings, seconds = build_temp_index(folders, embedder, temp_workdir("quality"))
    print(f"indexed in {seconds:.1f} s; precision {embedder.precision}")
    today = AnswerEngine(settings, embedder)
    engines: dict[str, tuple[AnswerEngine, SearchMode | None]] = {
        "today": (today, None),
        "hybrid ranking": (today, "hybrid"),
        "corpus spelling": (AnswerEngine(settings, embedder, corpus_spelling=True), None),
        "without language gap": (AnswerEngine(settings, embedder, language_gap=False), None),
        "without fact sentences": (AnswerEngine(settings, embedder, fact_sentences=False), None),
        "without translation": (AnswerEngine(settings, embedder, translation=False), None),
        "without loanwords": (AnswerEngine(settings, embedder, loanwords=False), None),
        "thresholds decision": (
            AnswerEngine(replace(settings, decision="thresholds"), embedder),
            None,
        ),
    }
    configured = Settings.from_env().model_adapter
    other = SHIPPED_ADAPTER if configured == "none" else "none"
    swapped = load_embedder(threads=1, precision=embedder.precision, adapter=other)
    swapped_index, _ = build_temp_index(folders, swapped, temp_workdir(f"quality-{other}"))
    engines[f"model adapter {other}"] = (AnswerEngine(swapped_index, swapped), None)
    if embedder.precision != "float32":  # the index as it was built before passages followed
        exact, _ = build_temp_index(folders, load_embedder(), temp_workdir("quality-float32"))
        engines["index in float32"] = (AnswerEngine(exact, embedder), None)
    for engine, mode in engines.values():
        engine.answer("warm up", mode=mode)
    for name in args.sets:
        questions = dev_questions(Path(SETS[name]))
        tallies: dict[str, dict[str, Tally]] = {e: defaultdict(Tally) for e in engines}
        for item in questions:
            kind = KINDS.get(item.kind, item.kind)
            for label, (engine, mode) in engines.items():
                started = time.perf_counter()
                answer, hits = engine.answer_with_passages(item.question, mode=mode, top_k=1)
                ms = (time.perf_counter() - started) * 1000
                top = hits[0].article.id if hits else None
                for group in (kind, "in scope" if item.expected_article else "out of scope"):
                    tallies[label][group].add(item, answer, top, ms)
        print(f"\n== {name} ({len(questions)} questions) ==")
        for label in engines:
            print(f"{label}:")
            groups = tallies[label]
            for group in sorted(g for g in groups if g not in ("in scope", "out of scope")):
                print(_row(group, groups[group], group != "out_of_scope"))
            print(_row("ALL in scope", groups["in scope"], True))
            print(_row("ALL out of scope", groups["out of scope"], False))
            every = groups["in scope"].ms + groups["out of scope"].ms
            print(
                f"  latency per question p50 {percentile(every, 50):.1f} ms, "
                f"p95 {percentile(every, 95):.1f} ms"
            )


if __name__ == "__main__":
    main()
