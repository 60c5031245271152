"""When to answer: today's four thresholds beside a calibrated decision, on the fixture questions.

Every question is searched once (the engine's search, in the mode the settings name, over the
dev corpus and the real articles); its signals are the engine's own — dense ``confidence``,
concept ``agreement``, the best BM25 score, and the dense ``margin`` to the best passage of
another article. A logistic regression over them (``bench.abstention.fit_logistic``)
estimates the chance that the top article is the right one (an out-of-scope question has none).

It is **fitted on** the dev and tuning questions and **reported on** held-out and kept-aside
ones, never looked at for fitting. The calibrated decision answers when that chance clears
the threshold at which at most ``--wrong`` (5 %) of what is answered on the fitting questions
was answered from a wrong article or out of scope; it offers the closest articles when it
clears the lower threshold at which the right article is among the three offered for
``--offer-recall`` (90 %) of the fitting questions that have one; else it refuses.

``no gap`` is the engine without the cross-language gap (``samvad/language_gap.py``) under
today's thresholds, side by side; ``today`` and ``calibrated`` have the gap.

Per set and decision it prints: in-scope answered from the right article, answered from a
wrong one, reached in one tap without the fact check (answered right, or the right article
among three offers), and out-of-scope answered directly.

    .venv/bin/python -m bench.decision [--wrong 0.05] [--offer-recall 0.9]
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.abstention import auroc, fit_logistic
from bench.common import (
    DEV_CORPUS,
    ROOT,
    build_temp_index,
    dev_questions,
    load_embedder,
    temp_workdir,
)
from bench.quality import SETS
from samvad import AnswerEngine
from samvad.precision import choose_precision

FIT = ("dev", "tuning")
REPORT = ("heldout", "kept_aside")
MAX_OFFERS = 3


@dataclass(frozen=True)
class Scored:
    """One searched question: its signals, what today decides, and what the hits hold."""

    features: tuple[float, float, float, float]
    today: str
    expected: str | None
    top: str | None
    offered: tuple[str, ...]

    @property
    def right(self) -> bool:
        """The top article is the expected one."""
        return self.expected is not None and self.top == self.expected


def score(engine: AnswerEngine, question: str, expected: str | None) -> Scored:
    """Search ``question`` and keep what the decisions need."""
    retrieval = engine.search(question)
    hits = retrieval.hits
    top = hits[0].article.id if hits else None
    other = next((h.dense_score for h in hits if h.article.id != top), 0.0)
    signals = retrieval.signals
    offered = tuple(dict.fromkeys(h.article.id for h in hits))[:MAX_OFFERS]
    features = (
        signals.confidence,
        signals.agreement if signals.agreement is not None else 0.0,
        max((h.lexical_score for h in hits), default=0.0),
        (hits[0].dense_score - other) if hits else 0.0,
    )
    return Scored(features, engine.verdict(retrieval), expected, top, offered)


def tally(rows: list[Scored], verdicts: list[str]) -> str:
    """The printed figures of one set under one decision."""
    in_scope = [(r, v) for r, v in zip(rows, verdicts, strict=True) if r.expected is not None]
    out = [v for r, v in zip(rows, verdicts, strict=True) if r.expected is None]
    n = max(len(in_scope), 1)
    right = sum(v == "answer" and r.right for r, v in in_scope)
    wrong = sum(v == "answer" and not r.right for r, v in in_scope)
    tap = sum(
        (v == "answer" and r.right) or (v == "offer" and r.expected in r.offered)
        for r, v in in_scope
    )
    return (
        f"answered right {right / n:.2f}  wrong {wrong:2}  one tap {tap / n:.2f}  "
        f"| out of scope answered {sum(v == 'answer' for v in out)}/{len(out)}"
    )


def main() -> None:
    """Score every set, fit on the fitting sets, print both decisions on every set."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wrong", type=float, default=0.05, help="wrong share allowed (0.05)")
    parser.add_argument("--offer-recall", type=float, default=0.9, help="offer recall (0.9)")
    args = parser.parse_args()
    embedder = load_embedder(threads=1, precision=choose_precision("auto"))
    settings, _ = build_temp_index([DEV_CORPUS, ROOT / "knowledge"], embedder, temp_workdir("dec"))
    engine = AnswerEngine(settings, embedder)
    before = AnswerEngine(settings, embedder, language_gap=False)
    no_gap = {
        name: [score(before, q.question, q.expected_article) for q in dev_questions(Path(path))]
        for name, path in SETS.items()
    }
    scored = {
        name: [score(engine, q.question, q.expected_article) for q in dev_questions(Path(path))]
        for name, path in SETS.items()
    }
    fit = [r for name in FIT for r in scored[name]]
    x = np.array([r.features for r in fit])
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-9
    weights = fit_logistic((x - mean) / std, np.array([r.right for r in fit], dtype=float))

    def chance(rows: list[Scored]) -> np.ndarray:
        features = (np.array([r.features for r in rows]) - mean) / std
        return np.asarray(np.hstack([features, np.ones((len(rows), 1))]) @ weights)

    p, right = chance(fit), np.array([r.right for r in fit])
    answer_at = next(
        (t for t in np.sort(p) if (p >= t).sum() and (~right[p >= t]).mean() <= args.wrong),
        float("inf"),
    )
    reachable = np.array([r.expected is not None and r.expected in r.offered for r in fit])
    offer_at = float(np.quantile(p[reachable], 1 - args.offer_recall)) if reachable.any() else 0.0
    offer_at = min(offer_at, answer_at)
    shown = np.round(weights, 2).tolist()
    print(f"fitted on {', '.join(FIT)} ({len(fit)} questions); weights (standardised "
          f"confidence, agreement, bm25, margin, bias) {shown}")  # fmt: skip
    print(f"answer at ≥ {answer_at:.2f}, offer at ≥ {offer_at:.2f} (log-odds)")

    def verdicts(chances: np.ndarray) -> list[str]:
        return ["answer" if c >= answer_at else "offer" if c >= offer_at else "refuse"
                for c in chances]  # fmt: skip

    for name, rows in scored.items():
        role = "fitted on" if name in FIT else "report only"
        chances = chance(rows)
        calibrated = verdicts(chances)
        in_scope = np.array([r.expected is not None for r in rows])
        print(f"\n== {name} ({len(rows)} questions; {role}); AUROC of the chance "
              f"{auroc(chances, np.array([r.right for r in rows])):.3f} ==")  # fmt: skip
        old = no_gap[name]
        print(f"  no gap      {tally(old, [r.today for r in old])}")
        print(f"  today       {tally(rows, [r.today for r in rows])}")
        print(f"  calibrated  {tally(rows, calibrated)}")
        print(f"  top article right (in scope) {np.mean([r.right for r in rows if r.expected]):.2f}"
              f" (no gap {np.mean([r.right for r in old if r.expected]):.2f}); "
              f"in scope {in_scope.sum()}")  # fmt: skip
    both = [r for name in REPORT for r in scored[name]]
    calibrated = verdicts(chance(both))
    print(f"\n== {' + '.join(REPORT)} together (report only) ==")
    old = [r for name in REPORT for r in no_gap[name]]
    print(f"  no gap      {tally(old, [r.today for r in old])}")
    print(f"  today       {tally(both, [r.today for r in both])}")
    print(f"  calibrated  {tally(both, calibrated)}")


if __name__ == "__main__":
    main()
