"""When to answer, measured on public data: answerable and unanswerable questions of one domain.

Half of a public collection's documents (a seeded random half) is indexed; a question whose
document is indexed is answerable, one whose document was left out is not — a question of the
same domain, the hard "neighbouring topic" case. The questions are split (seeded, by hash)
into a calibration half and a report half that nothing is fitted on.

- Marathi: L3Cube MahaSQuAD (Marathi question → its context), CC BY-NC-SA, read in place.
- English: Maharashtra legislature Q&A 2021 (question title → the minister's answer), MIT.

For each signal — dense cosine (``confidence``), concept agreement, the top article's coverage
of the question's words, the dense margin to the next article, the best BM25 score — and for
a logistic regression over the calibrated decision's inputs (``samvad.calibration.FEATURES``,
fitted on the calibration half; beside it the same without the margin, as before it was an
input, and with BM25 too), it prints on the report half: AUROC (a right
answer available vs not), and the answer rate (questions answered from the right document /
those whose document is indexed) at the threshold that keeps wrongly answered (answered when
the document is absent, or from another document) at most 2 % and 5 % of what is answered on
the calibration half — and what that threshold gives on the report half. Today's decision
(the engine's ``answer`` verdict) is printed beside them, and the decision with its
calibration fitted on the calibration half as ``samvad calibrate`` fits a city's own
(``samvad.fitting``: 5 % wrong, both bands).

    .venv/bin/python -m bench.abstention [--limit 400]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import json
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.common import SHARED_DATA, article_text, build_temp_index, load_embedder, temp_workdir
from samvad import AnswerEngine
from samvad.calibration import FEATURES, SHIPPED_INPUTS, decision_features, input_columns
from samvad.decide import Thresholds, decide
from samvad.fitting import (
    Observation,
    auroc,
    fit_decision,
    fit_standardised,
    log_odds,
    lowest_threshold,
    observe,
)
from samvad.precision import choose_precision
from samvad.reply import Signals

SEED = 20261201


@dataclass(frozen=True)
class Item:
    """A question, its document and whether that document is in the index."""

    question: str
    document: str
    indexed: bool


def _calibration(question: str) -> bool:
    return hashlib.sha256(f"{SEED}:{question}".encode()).digest()[0] % 2 == 0


def mahasquad(work: Path, limit: int) -> list[Item]:
    """MahaSQuAD contexts as articles (a seeded half of them) and its questions."""
    rows = json.loads((SHARED_DATA / "l3cube" / "L3Cube-MahaSQuAD" / "test_gold.json").read_text())
    contexts = sorted({r["context"] for r in rows})
    indexed = set(random.Random(SEED).sample(contexts, len(contexts) // 2))
    ids = {c: f"squad-{n}" for n, c in enumerate(contexts)}
    for context in indexed:
        (work / f"{ids[context]}.mr.md").write_text(
            article_text(ids[context], "mr", ids[context], context), "utf-8"
        )
    return [Item(r["question"], ids[r["context"]], r["context"] in indexed) for r in rows[:limit]]


def legislature(work: Path, limit: int) -> list[Item]:
    """Legislature answers as English articles (a seeded half), question titles as questions."""
    path = SHARED_DATA / "mahmls-questions" / "2021-question_answer_en.csv.gz"
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r["title"].strip() and len(r["answer"]) > 80]
    rows = random.Random(SEED).sample(rows, min(limit, len(rows)))
    indexed = set(random.Random(SEED + 1).sample(range(len(rows)), len(rows) // 2))
    items = []
    for n, row in enumerate(rows):
        doc = f"mls-{n}"
        if n in indexed:
            (work / f"{doc}.en.md").write_text(
                article_text(doc, "en", f"Answer {n}", row["answer"][:3000]), "utf-8"
            )
        items.append(Item(row["title"].strip(), doc, n in indexed))
    return items


def _rates(score: np.ndarray, threshold: float, right: np.ndarray, indexed: np.ndarray) -> str:
    answered = score >= threshold
    wrong = answered & ~right
    rate = (answered & right).sum() / max(indexed.sum(), 1)
    wrong_share = wrong.sum() / max(answered.sum(), 1)
    return f"answer rate {rate:.2f}, wrong {wrong_share * 100:4.1f} %"


def _logistic(x: np.ndarray, right: np.ndarray, calib: np.ndarray) -> np.ndarray:
    """The log-odds of a logistic regression of ``right`` on the columns of ``x``, fitted
    on the calibration rows (``calib``) only, for every row."""
    return log_odds(x, *fit_standardised(x[calib], right[calib].astype(float)))


def run(name: str, items: list[Item], engine: AnswerEngine) -> None:
    """Score one collection and print its table."""
    rows = []
    searched: list[tuple[Signals, bool, Observation]] = []
    for item in items:
        retrieval = engine.search(item.question)
        hits = retrieval.hits
        expected = item.document if item.indexed else None
        searched.append(
            (retrieval.signals, bool(hits), observe(retrieval.signals, retrieval.offered, expected))
        )
        top = hits[0].article.id if hits else None
        rows.append(
            (
                *decision_features(retrieval.signals),
                max((h.lexical_score for h in hits), default=0.0),
                item.indexed and top == item.document,
                item.indexed,
                engine.verdict(retrieval) == "answer",
                _calibration(item.question),
            )
        )
    data = np.array(rows, dtype=float)
    n = len(FEATURES)
    x, bm25 = data[:, :n], data[:, n : n + 1]
    right, indexed = data[:, n + 1] > 0, data[:, n + 2] > 0
    today, calib = data[:, n + 3] > 0, data[:, n + 4] > 0
    report = ~calib
    shipped = x[:, input_columns(SHIPPED_INPUTS)]
    print(
        f"\n== {name}: {len(items)} questions ({indexed.sum()} with their document indexed); "
        f"calibration {calib.sum()}, report {report.sum()} =="
    )
    columns = {
        **{s: x[:, i] for i, s in enumerate(FEATURES)},
        "bm25": bm25[:, 0],
        "logistic without the margin (before)": _logistic(shipped, right, calib),
        f"logistic ({', '.join(FEATURES)})": _logistic(x, right, calib),
        "logistic, with bm25 too": _logistic(np.hstack([x, bm25]), right, calib),
    }
    for label, score in columns.items():
        line = f"  {label:52} AUROC {auroc(score[report], right[report]):.3f}"
        for share in (0.02, 0.05):
            lowest = lowest_threshold(score[calib], right[calib], share)
            threshold = float("inf") if lowest is None else lowest  # answer nothing
            rates = _rates(score[report], threshold, right[report], indexed[report])
            line += f" | ≤{share * 100:.0f} %: {rates}"
        print(line)
    label = "today's decision"
    print(
        f"  {label:45}" + _rates(today[report].astype(float), 0.5, right[report], indexed[report])
    )
    thresholds = Thresholds.from_settings(engine.settings)
    calibration = [o for (_, _, o), c in zip(searched, calib, strict=True) if c]
    alone = np.array([decide(s, thresholds, found) == "answer" for s, found, _ in searched])
    label = "the four thresholds alone"
    print(
        f"  {label:45}" + _rates(alone[report].astype(float), 0.5, right[report], indexed[report])
    )
    for label, inputs in (
        ("decision fitted on the calibration half", FEATURES),
        ("that without the margin (before)", SHIPPED_INPUTS),
    ):
        refit = fit_decision(calibration, "", engine.mode, inputs=inputs)
        answered = np.array(
            [refit.verdict(s, thresholds, found) == "answer" for s, found, _ in searched]
        )
        print(
            f"  {label:45}"
            + _rates(answered[report].astype(float), 0.5, right[report], indexed[report])
            + "  (samvad calibrate's fit)" * (inputs == FEATURES)
        )
    print(f"  top article right when indexed: {right[indexed].mean():.3f}")


def main() -> None:
    """Build both collections' indexes and print their tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=400, help="questions per collection (400)")
    args = parser.parse_args()
    embedder = load_embedder(threads=1, precision=choose_precision("auto"))
    for name, make in (("MahaSQuAD (mr)", mahasquad), ("legislature (en)", legislature)):
        work = temp_workdir("abstention")
        source = work / "source"
        source.mkdir()
        items = make(source, args.limit)
        settings, seconds = build_temp_index([source], embedder, work)
        print(f"[{name}] indexed in {seconds:.1f} s")
        run(name, items, AnswerEngine(settings, embedder))


if __name__ == "__main__":
    main()
