"""Answer quality and latency: dense-only, BM25-only, hybrid and hybrid with sentence ranking
side by side.

For each evaluation set it prints R@1, R@5 and MRR (article level), and on the dev set also the
rate of answers containing the expected fact, abstention precision / recall (an offer of the
closest articles counts as abstaining: no answer is shown), how many questions were answered,
offered articles or refused, the language-match rate, and p50 / p95 latency per stage (embed,
search, fuse, compose).

    .venv/bin/python -m bench.answers               # dev + held-out + Tatoeba + MahaSQuAD slice
    .venv/bin/python -m bench.answers --sets dev    # dev set only
    .venv/bin/python -m bench.answers --calibrate   # sweep of the abstain and confirm thresholds
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

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
    write_mahasquad,
    write_tatoeba,
)
from samvad import AnswerEngine, Retrieval, article_version, plain_text
from samvad.analyzer import normalize
from samvad.language import prepare_query
from samvad.latent_terms import latent_encoder_for
from samvad.model import Embedder
from samvad.precision import PRECISIONS, Precision, explain_precision
from samvad.retriever import SEARCH_MODES, SearchMode

# An answer to a question no article covers misleads a citizen; a refusal only sends them to the
# helpline and puts the question in front of staff. So a wrong answer counts twice.
WRONG_ANSWER_COST = 2
# Offering the closest articles instead of answering costs the citizen one tap (or a "none of
# these"), and shows no wrong text: a quarter of a refusal.
OFFER_COST = 0.25


@dataclass
class ModeResult:
    """Figures for one search mode on one set."""

    ranks: list[int | None] = field(default_factory=list)
    fact_hits: list[bool] = field(default_factory=list)
    abstained_out: list[bool] = field(default_factory=list)
    abstained_in: list[bool] = field(default_factory=list)
    offered_out: list[bool] = field(default_factory=list)
    offered_in: list[bool] = field(default_factory=list)
    offered_right: list[bool] = field(default_factory=list)
    language_match: list[bool] = field(default_factory=list)
    stages: dict[str, list[float]] = field(default_factory=dict)

    def recall(self, k: int) -> float:
        return sum(1 for r in self.ranks if r is not None and r <= k) / max(len(self.ranks), 1)

    def mrr(self) -> float:
        return sum(1 / r for r in self.ranks if r is not None) / max(len(self.ranks), 1)


@contextlib.contextmanager
def _timed(stages: dict[str, list[float]], name: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    stages.setdefault(name, []).append((time.perf_counter() - started) * 1000)


def evaluate(engine: AnswerEngine, questions: list[EvalQuestion], mode: SearchMode) -> ModeResult:
    """Run every question through ``mode`` and collect the figures."""
    result = ModeResult()
    stages = result.stages
    retriever = engine.index.current()
    for item in questions:
        query = prepare_query(item.question)
        states: list[np.ndarray] = []
        with _timed(stages, "embed"):
            if engine.latent is not None:
                vectors, states = engine.embedder.embed_with_token_states(
                    list(query.phrasings), "query"
                )
            else:
                vectors = engine.embedder.embed_queries(list(query.phrasings))
        if engine.latent is not None:
            with _timed(stages, "concepts"):
                engine.latent.encode_many(states)
        dense: dict[int, float] = {}
        lexical: dict[int, float] = {}
        with _timed(stages, "search"):
            if mode != "bm25":
                dense = retriever.dense_scores(vectors)
        with _timed(stages, "bm25"):
            if mode != "dense":
                lexical = retriever.lexical.scores(list(query.terms))
        if mode == "bm25" and lexical:
            dense = retriever._dense_for(vectors[0], list(lexical))
        sentences: dict[int, float] = {}
        if mode == "sentences":
            with _timed(stages, "sentences"):
                sentences = retriever.sentence_scores(vectors)
                retriever.add_passage_scores(dense, sentences, vectors)
        with _timed(stages, "fuse"):
            hits = retriever.rank(dense, lexical, mode, 10, query.lexical_langs, sentences)
        if hits:
            with _timed(stages, "compose"):
                searched = Retrieval(query, vectors, hits, retriever.snapshot)
                best = hits[0].article
                version = article_version(retriever.snapshot.articles, best.id, item.lang)
                engine._from_article(item.question, query.detected.lang, searched, version or best)
        ids = [h.article.id for h in hits]
        if item.expected_article:
            result.ranks.append(
                ids.index(item.expected_article) + 1 if item.expected_article in ids else None
            )
        with _timed(stages, "total"):
            answer = engine.answer(item.question, mode=mode)
        offered = [o.article_id for o in answer.offers]
        if item.kind == "out_of_scope":
            result.abstained_out.append(not answer.answered)
            result.offered_out.append(bool(offered))
            continue
        result.abstained_in.append(not answer.answered)
        result.offered_in.append(bool(offered))
        if offered:
            result.offered_right.append(item.expected_article in offered)
        result.language_match.append(answer.language == item.lang)
        if item.expected_fact:
            result.fact_hits.append(normalize(item.expected_fact) in normalize(plain_text(answer)))
    return result


def _report(name: str, results: dict[SearchMode, ModeResult], answers: bool) -> None:
    print(f"\n== {name} ==")
    header = f"{'mode':8} {'R@1':>6} {'R@5':>6} {'MRR':>6}"
    if answers:
        header += f" {'fact':>6} {'abst-P':>7} {'abst-R':>7} {'lang':>6}"
    header += f" {'p50 ms':>7} {'p95 ms':>7}"
    print(header)
    for mode, r in results.items():
        line = f"{mode:8} {r.recall(1):6.3f} {r.recall(5):6.3f} {r.mrr():6.3f}"
        if answers:
            true_abstain = sum(r.abstained_out)
            all_abstain = true_abstain + sum(r.abstained_in)
            precision = true_abstain / all_abstain if all_abstain else float("nan")
            recall = true_abstain / len(r.abstained_out) if r.abstained_out else float("nan")
            fact = sum(r.fact_hits) / len(r.fact_hits) if r.fact_hits else float("nan")
            lang = sum(r.language_match) / max(len(r.language_match), 1)
            line += f" {fact:6.3f} {precision:7.3f} {recall:7.3f} {lang:6.3f}"
        total = r.stages.get("total", [])
        line += f" {percentile(total, 50):7.1f} {percentile(total, 95):7.1f}"
        print(line)
    hybrid = results.get("hybrid")
    if hybrid is not None and answers:
        out, inside = hybrid.abstained_out, hybrid.abstained_in
        print(
            f"hybrid outcomes: out of scope {len(out)}: answered {len(out) - sum(out)}, "
            f"offered articles {sum(hybrid.offered_out)}, refused "
            f"{sum(out) - sum(hybrid.offered_out)}; in scope {len(inside)}: answered "
            f"{len(inside) - sum(inside)}, offered {sum(hybrid.offered_in)} (the right article "
            f"among them {sum(hybrid.offered_right)}), refused "
            f"{sum(inside) - sum(hybrid.offered_in)}"
        )
    stage_modes: tuple[SearchMode, ...] = ("hybrid", "sentences")
    for mode in stage_modes:
        timed = results.get(mode)
        if timed is not None:
            print(
                f"{mode} stage latency p50 / p95 ms: "
                + ", ".join(
                    f"{s} {percentile(v, 50):.1f}/{percentile(v, 95):.1f}"
                    for s, v in timed.stages.items()
                )
            )


def _per_kind(engine: AnswerEngine, questions: list[EvalQuestion]) -> None:
    print("\nhybrid, by kind: R@1 / fact / answered")
    for kind in sorted({q.kind for q in questions}):
        subset = [q for q in questions if q.kind == kind]
        r = evaluate(engine, subset, "hybrid")
        answered = 1 - (sum(r.abstained_in + r.abstained_out) / len(subset))
        fact = sum(r.fact_hits) / max(len(r.fact_hits), 1)
        print(
            f"  {kind:14} n={len(subset):3}  R@1 {r.recall(1):.3f}  fact {fact:.3f}  "
            f"answered {answered:.3f}"
        )


@dataclass(frozen=True)
class Scored:
    """One question's two abstention signals."""

    item: EvalQuestion
    confidence: float
    agreement: float

    @property
    def out_of_scope(self) -> bool:
        return self.item.kind == "out_of_scope"


def _auc(scored: list[Scored], signal: str) -> float:
    """Chance that an in-scope question scores above an out-of-scope one on ``signal``."""
    inside = [getattr(s, signal) for s in scored if not s.out_of_scope]
    out = [getattr(s, signal) for s in scored if s.out_of_scope]
    wins = sum(1.0 if i > o else 0.5 if i == o else 0.0 for i in inside for o in out)
    return wins / max(len(inside) * len(out), 1)


def _errors(scored: list[Scored], confidence: float, agreement: float) -> tuple[int, int]:
    """(out-of-scope answered, in-scope refused) at the given thresholds."""
    answered = [s.confidence >= confidence and s.agreement >= agreement for s in scored]
    out = sum(1 for s, a in zip(scored, answered, strict=True) if s.out_of_scope and a)
    refused = sum(1 for s, a in zip(scored, answered, strict=True) if not s.out_of_scope and not a)
    return out, refused


def calibrate(engine: AnswerEngine, questions: list[EvalQuestion]) -> None:
    """Sweep both thresholds; print each signal's separation and the lowest-cost pair."""
    scored = []
    for item in questions:
        retrieval = engine.search(item.question)
        agreement = retrieval.signals.agreement
        confidence = retrieval.signals.confidence
        scored.append(Scored(item, confidence, 1.0 if agreement is None else agreement))
    n_out = sum(s.out_of_scope for s in scored)
    n_in = len(scored) - n_out
    print(f"{n_in} in scope, {n_out} out of scope")
    for signal in ("confidence", "agreement"):
        inside = sorted(getattr(s, signal) for s in scored if not s.out_of_scope)
        out = sorted(getattr(s, signal) for s in scored if s.out_of_scope)
        print(
            f"{signal:10}: AUC {_auc(scored, signal):.3f}; in scope min {inside[0]:.3f} "
            f"p5 {percentile(inside, 5):.3f} p50 {percentile(inside, 50):.3f}; "
            f"out of scope max {out[-1]:.3f} p50 {percentile(out, 50):.3f}"
        )
    costs: list[tuple[int, float, float, float]] = []
    for confidence in np.arange(0.76, 0.86, 0.005):
        for agreement in np.arange(0.10, 0.30, 0.005):
            answered_out, refused_in = _errors(scored, float(confidence), float(agreement))
            cost = WRONG_ANSWER_COST * answered_out + refused_in
            # Ties go to the lower thresholds: answer when in doubt between equal costs.
            costs.append((cost, float(confidence + agreement), float(confidence), float(agreement)))
    _, _, best_conf, best_agree = min(costs)
    _, _, _, agree_at_engine = min(
        c for c in costs if abs(c[2] - engine.thresholds.abstain_below) < 1e-6
    )
    for label, conf, agree in (
        ("confidence only, engine's", engine.thresholds.abstain_below, 0.0),
        ("both, lowest cost", best_conf, best_agree),
        ("engine's conf, best agree", engine.thresholds.abstain_below, agree_at_engine),
        ("both, engine's", engine.thresholds.abstain_below, engine.thresholds.agreement_below),
    ):
        answered_out, refused_in = _errors(scored, conf, agree)
        print(
            f"{label:26} confidence >= {conf:.3f}, agreement >= {agree:.3f}: out-of-scope "
            f"answered {answered_out}/{n_out}, in-scope refused {refused_in}/{n_in} "
            f"(cost {WRONG_ANSWER_COST * answered_out + refused_in}; a wrong answer costs "
            f"{WRONG_ANSWER_COST}x a refusal)"
        )
    print("wrong side of the engine's abstain thresholds:")
    for s in sorted(scored, key=lambda s: s.agreement):
        answered = (
            s.confidence >= engine.thresholds.abstain_below
            and s.agreement >= engine.thresholds.agreement_below
        )
        if answered == s.out_of_scope:
            tag = "OUT answered" if s.out_of_scope else "IN  refused "
            print(f"  {tag} {s.confidence:.3f} {s.agreement:.3f} {s.item.question}")
    _calibrate_confirm(engine, scored)


def _outcomes(
    scored: list[Scored], lower: tuple[float, float], upper: tuple[float, float]
) -> tuple[float, list[str]]:
    """Cost and per-question outcome ("answer" / "offer" / "refuse") for a pair of pairs."""
    outcomes: list[str] = []
    cost = 0.0
    for s in scored:
        if s.confidence < lower[0] or s.agreement < lower[1]:
            outcome = "refuse"
        elif s.confidence < upper[0] or s.agreement < upper[1]:
            outcome = "offer"
        else:
            outcome = "answer"
        outcomes.append(outcome)
        if outcome == "offer":
            cost += OFFER_COST
        elif s.out_of_scope and outcome == "answer":
            cost += WRONG_ANSWER_COST
        elif not s.out_of_scope and outcome == "refuse":
            cost += 1
    return cost, outcomes


def _calibrate_confirm(engine: AnswerEngine, scored: list[Scored]) -> None:
    """Sweep the confirm pair above the engine's abstain pair; print the cheapest and the
    engine's, with how many questions each outcome gets."""
    lower = (engine.thresholds.abstain_below, engine.thresholds.agreement_below)
    candidates = []
    for confidence in np.arange(lower[0], 0.905, 0.005):
        for agreement in np.arange(lower[1], 0.305, 0.005):
            upper = (round(float(confidence), 3), round(float(agreement), 3))
            cost, _ = _outcomes(scored, lower, upper)
            # Ties go to the lower thresholds: answer directly when in doubt between equal costs.
            candidates.append((cost, sum(upper), upper))
    cheapest = min(candidates)[2]
    print(
        f"confirm band (an offer costs {OFFER_COST} of a refusal, a wrong answer "
        f"{WRONG_ANSWER_COST}):"
    )
    for label, upper in (
        ("cheapest", cheapest),
        ("engine's", (engine.thresholds.confirm_below, engine.thresholds.confirm_agreement_below)),
    ):
        cost, outcomes = _outcomes(scored, lower, upper)
        counts = {
            side: {o: sum(1 for s, x in zip(scored, outcomes, strict=True)
                          if s.out_of_scope == (side == "out") and x == o)
                   for o in ("answer", "offer", "refuse")}
            for side in ("out", "in")
        }  # fmt: skip
        print(
            f"  {label:9} answer at confidence >= {upper[0]:.3f} and agreement >= "
            f"{upper[1]:.3f}: out of scope answered {counts['out']['answer']}, offered "
            f"{counts['out']['offer']}, refused {counts['out']['refuse']}; in scope answered "
            f"{counts['in']['answer']}, offered {counts['in']['offer']}, refused "
            f"{counts['in']['refuse']} (cost {cost:.2f})"
        )
    _, outcomes = _outcomes(
        scored, lower, (engine.thresholds.confirm_below, engine.thresholds.confirm_agreement_below)
    )
    print("out of scope and still answered directly at the engine's thresholds:")
    for s, outcome in zip(scored, outcomes, strict=True):
        if s.out_of_scope and outcome == "answer":
            print(f"  {s.confidence:.3f} {s.agreement:.3f} {s.item.question}")


def _median_ms(run: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``run()`` in ms over ``repeats`` runs, after one warm-up run."""
    run()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def precision_timings(
    embedder: Embedder, repeats: int = 5, tokens: int = 20
) -> dict[Precision, tuple[float, float | None]]:
    """Per precision, median ms on one torch thread of one question embedding and of the
    latent-term step for ``tokens`` token states (``None`` when the model has no sparse head).

    Loads the model once more for the precision ``embedder`` does not run in.
    """
    import torch

    torch.set_num_threads(1)
    question = "घोडबंदरला पाणी नेमकं कोणत्या दिवशी बंद असणार आहे?"
    states = np.random.default_rng(0).normal(size=(tokens, embedder.dimension)).astype(np.float32)
    timings: dict[Precision, tuple[float, float | None]] = {}
    name = str(embedder.identity["model"])
    for precision in PRECISIONS:
        model = embedder
        if embedder.precision != precision:
            model = Embedder(Path(str(embedder.identity["path"])), name=name, precision=precision)
        embed_ms = _median_ms(functools.partial(model.embed_queries, [question]), repeats)
        latent = latent_encoder_for(name, embedder.dimension, precision)
        latent_ms = (
            None
            if latent is None
            else _median_ms(functools.partial(latent.encode, states), repeats)
        )
        timings[precision] = (embed_ms, latent_ms)
    return timings


def _print_precision(embedder: Embedder, why: str) -> None:
    """Which precision path runs and why, then both paths timed side by side on this machine."""
    print(f"precision: {why}")
    timings = precision_timings(embedder)
    print(f"  one thread, median ms      {'  '.join(f'{p:>8}' for p in PRECISIONS)}")
    print(f"  one question embedding     {'  '.join(f'{timings[p][0]:8.1f}' for p in PRECISIONS)}")
    latent = [timings[p][1] for p in PRECISIONS]
    print(
        "  latent terms, 20 tokens    "
        + "  ".join("       -" if ms is None else f"{ms:8.1f}" for ms in latent)
    )


def _engine_for(folders: list[Path], embedder: Embedder, name: str) -> AnswerEngine:
    settings, seconds = build_temp_index(folders, embedder, temp_workdir(name))
    print(f"[{name}] indexed in {seconds:.1f} s")
    return AnswerEngine(settings, embedder, log=None)


def main() -> None:
    """Run the chosen benchmark sets and print their figures."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sets",
        nargs="+",
        default=["dev", "heldout", "tatoeba", "mahasquad"],
        choices=["dev", "heldout", "tatoeba", "mahasquad"],
    )
    parser.add_argument(
        "--calibrate",
        action="store_true",
        help="sweep the abstention thresholds on the dev set, then show the held-out set "
        "at the engine's thresholds",
    )
    args = parser.parse_args()
    chosen = explain_precision(os.environ.get("SAMVAD_PRECISION", "auto"))
    # threads=1 as AnswerEngine.from_settings serves questions
    embedder = load_embedder(threads=1, precision=chosen.precision)
    _print_precision(embedder, str(chosen))
    dev_engine = _engine_for([DEV_CORPUS, ROOT / "knowledge"], embedder, "dev")
    if args.calibrate:
        calibrate(dev_engine, dev_questions())
        print("\n-- held-out questions (not used for fitting) --")
        calibrate(dev_engine, dev_questions(HELDOUT_QUESTIONS))
        return
    for name in args.sets:
        if name == "dev":
            engine, questions, answers = dev_engine, dev_questions(), True
        elif name == "heldout":
            engine, questions, answers = dev_engine, dev_questions(HELDOUT_QUESTIONS), True
        elif name == "tatoeba":
            work = temp_workdir("tatoeba-src")
            questions, answers = write_tatoeba(work), False
            engine = _engine_for([work], embedder, name)
        else:
            work = temp_workdir("squad-src")
            questions, answers = write_mahasquad(work), False
            engine = _engine_for([work], embedder, name)
        engine.index.current().search(embedder.embed_queries(["warm up"]), ["warm"])
        results = {mode: evaluate(engine, questions, mode) for mode in SEARCH_MODES}
        _report(f"{name} ({len(questions)} questions)", results, answers)
        if name in ("dev", "heldout"):
            _per_kind(engine, questions)


if __name__ == "__main__":
    main()
