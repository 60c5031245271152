"""When to answer: the four thresholds alone beside the calibrated chance, on the fixture questions.

Every question is searched once (the engine's search, in the mode the settings name, over the
dev corpus and the real articles); its signals are the engine's own
(``samvad.calibration.decision_features``: dense ``confidence``, concept ``agreement``, the
top article's ``coverage`` of the question's words and the dense ``margin`` to the next
article). A logistic regression over the first three (``samvad.fitting``; ``samvad
calibrate`` fits a city's over all four) estimates the chance that the top article is the
right one (an out-of-scope question has none).

It is **fitted on** the dev and tuning questions and **reported on** held-out and kept-aside
ones, never looked at for fitting (``--fitting-only`` scores and prints the fitting ones
alone, for trying changes). Its answer band is the chance at which at most ``--wrong`` (5 %)
of what is answered on the fitting questions was answered from a wrong article or out of
scope; its offer band the chance at which the right article is among the three offered for
``--offer-recall`` (90 %) of the fitting questions that have one.

Decisions, side by side: ``thresholds`` (the four thresholds alone: ``SAMVAD_DECISION=
thresholds``), ``thresholds, no gap`` (that without the cross-language gap,
``samvad/language_gap.py``), ``chance alone`` (answer, offer or refuse by the two bands only),
``answer band only`` (the thresholds, and an answer under the answer band offered instead:
the calibrated decision before the offer band), ``calibrated`` (``samvad.decide.decide`` with
both bands: what ``SAMVAD_DECISION=calibrated``, the default, does), ``answer gated`` (that
as it was before: a question under the lower thresholds offered articles, never answered,
whatever its chance), ``with the margin`` (``calibrated``, fitted on all four signals as
``samvad calibrate`` fits a city's), ``shipped file`` (the engine with the calibration in
``samvad/calibrations/`` as it is, which ``--save`` replaces with this run's fit) and
``shipped, gated`` (the shipped file with the answer gated as before).

Per set and decision it prints: in-scope answered from the right article, answered from a
wrong one, reached in one tap without the fact check (answered right, or the right article
among three offers), and out-of-scope answered directly or offered articles.

    .venv/bin/python -m bench.decision [--wrong 0.05] [--offer-recall 0.9] [--fitting-only] [--save]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

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
from samvad.calibration import (
    SHIPPED_INPUTS,
    CalibrationError,
    calibration_file,
)
from samvad.decide import Thresholds, Verdict, clears
from samvad.fitting import Observation, auroc, fit_decision, observe, tally
from samvad.precision import choose_precision
from samvad.reply import Signals

FIT = ("dev", "tuning")
REPORT = ("heldout", "kept_aside")


@dataclass(frozen=True)
class Scored:
    """One searched question: its signals, whether anything was found, the engine's verdict
    and what the fit reads of it (``samvad.fitting``, as ``samvad calibrate``)."""

    signals: Signals
    found: bool
    verdict: Verdict
    observed: Observation

    @property
    def right(self) -> bool:
        """The top article is the expected one."""
        return self.observed.right


def score(engine: AnswerEngine, question: str, expected: str | None) -> Scored:
    """Search ``question`` and keep what the decisions need."""
    retrieval = engine.search(question)
    return Scored(
        retrieval.signals,
        bool(retrieval.hits),
        engine.verdict(retrieval),
        observe(retrieval.signals, retrieval.offered, expected),
    )


def line(rows: list[Scored], verdicts: list[Verdict]) -> str:
    """The printed figures of one set under one decision."""
    counted = tally([r.observed for r in rows], verdicts)
    return (
        f"answered right {counted.right_share:.2f}  wrong {counted.wrong:2}  "
        f"one tap {counted.one_tap_share:.2f}  | out of scope answered "
        f"{counted.outside_answered}/{counted.outside}, offered {counted.outside_offered}"
    )


def main() -> None:
    """Score every set, fit on the fitting sets, print every decision on every set."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wrong", type=float, default=0.05, help="wrong share allowed (0.05)")
    parser.add_argument("--offer-recall", type=float, default=0.9, help="offer recall (0.9)")
    parser.add_argument(
        "--save", action="store_true", help="write this fit to samvad/calibrations/"
    )
    parser.add_argument(
        "--fitting-only", action="store_true", help="score and print the fitting sets only"
    )
    args = parser.parse_args()
    embedder = load_embedder(threads=1, precision=choose_precision("auto"))
    built, _ = build_temp_index([DEV_CORPUS, ROOT / "knowledge"], embedder, temp_workdir("dec"))
    settings = replace(built, decision="thresholds")
    engine = AnswerEngine(settings, embedder)
    shipped = AnswerEngine(replace(built, decision="calibrated"), embedder)
    before = AnswerEngine(settings, embedder, language_gap=False)
    names = FIT if args.fitting_only else tuple(SETS)
    questions = {name: dev_questions(Path(SETS[name])) for name in names}
    scored = {n: [score(engine, q.question, q.expected_article) for q in qs]
              for n, qs in questions.items()}  # fmt: skip
    no_gap = {n: [score(before, q.question, q.expected_article) for q in qs]
              for n, qs in questions.items()}  # fmt: skip
    try:
        as_shipped = {n: [score(shipped, q.question, q.expected_article) for q in qs]
                      for n, qs in questions.items()}  # fmt: skip
    except CalibrationError as error:  # a damaged file: --save replaces it
        print(f"the shipped file is not used ({error}); its row is left out")
        as_shipped = {}
    fitting = [r for name in FIT for r in scored[name]]
    with_margin = fit_decision([r.observed for r in fitting], "", engine.mode, args.wrong,
                               args.offer_recall)  # fmt: skip
    model = fit_decision(
        [r.observed for r in fitting],
        str(embedder.identity["model"]),
        engine.mode,
        args.wrong,
        args.offer_recall,
        inputs=SHIPPED_INPUTS,
        info={
            "fitted_on": {name: len(scored[name]) for name in FIT},
            "wrong": args.wrong,
            "offer_recall": args.offer_recall,
            "precision": embedder.precision,
            "script": "bench/decision.py --save",
        },
    )
    print(f"fitted on {', '.join(FIT)} ({len(fitting)} questions, search mode {engine.mode}); "
          f"weights (standardised {', '.join(model.inputs)}) "
          f"{[round(w, 2) for w in model.weights]}, bias {model.bias:.2f}")  # fmt: skip
    print(f"answer at ≥ {model.answer_at:.2f}, offer at ≥ {model.offer_at:.2f} (log-odds)")
    thresholds = Thresholds.from_settings(settings)

    def chances(rows: list[Scored]) -> list[float]:
        return [model.chance(r.observed.features) for r in rows]

    def alone(rows: list[Scored]) -> list[Verdict]:
        return ["answer" if c >= model.answer_at else "offer" if c >= model.offer_at
                else "refuse" for c in chances(rows)]  # fmt: skip

    def answer_band(rows: list[Scored]) -> list[Verdict]:
        return ["offer" if r.verdict == "answer" and c < model.answer_at else r.verdict
                for r, c in zip(rows, chances(rows), strict=True)]  # fmt: skip

    def both_bands(rows: list[Scored]) -> list[Verdict]:
        return [model.verdict(r.signals, thresholds, r.found) for r in rows]

    def gated(rows: list[Scored], verdicts: list[Verdict]) -> list[Verdict]:
        lower = (thresholds.abstain_below, thresholds.agreement_below)
        return ["offer" if v == "answer" and not clears(r.signals, *lower) else v
                for r, v in zip(rows, verdicts, strict=True)]  # fmt: skip

    decisions: dict[str, Callable[[str], tuple[list[Scored], list[Verdict]]]] = {
        "thresholds": lambda n: (scored[n], [r.verdict for r in scored[n]]),
        "thresholds, no gap": lambda n: (no_gap[n], [r.verdict for r in no_gap[n]]),
        "chance alone": lambda n: (scored[n], alone(scored[n])),
        "answer band only": lambda n: (scored[n], answer_band(scored[n])),
        "calibrated": lambda n: (scored[n], both_bands(scored[n])),
        "answer gated": lambda n: (scored[n], gated(scored[n], both_bands(scored[n]))),
        "with the margin": lambda n: (
            scored[n],
            [with_margin.verdict(r.signals, thresholds, r.found) for r in scored[n]],
        ),
    }
    if as_shipped:
        decisions["shipped file"] = lambda n: (as_shipped[n], [r.verdict for r in as_shipped[n]])
        decisions["shipped, gated"] = lambda n: (
            as_shipped[n],
            gated(as_shipped[n], [r.verdict for r in as_shipped[n]]),
        )
    for name, rows in scored.items():
        role = "fitted on" if name in FIT else "report only"
        right = np.array([r.right for r in rows])
        print(f"\n== {name} ({len(rows)} questions; {role}); AUROC of the chance "
              f"{auroc(np.array(chances(rows)), right):.3f}; top article right (in scope) "
              f"{np.mean([r.right for r in rows if r.observed.in_scope]):.2f} ==")  # fmt: skip
        for label, run in decisions.items():
            print(f"  {label:20} {line(*run(name))}")
    if not args.fitting_only:
        print(f"\n== {' + '.join(REPORT)} together (report only) ==")
        for label, run in decisions.items():
            runs = [run(name) for name in REPORT]
            rows = [r for rs, _ in runs for r in rs]
            print(f"  {label:20} {line(rows, [v for _, vs in runs for v in vs])}")
    if args.save:
        path = calibration_file(model.model)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(model.to_json() + "\n", encoding="utf-8")
        print(f"\nwrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
