"""Answer quality and latency: dense-only, BM25-only and hybrid side by side.

For each evaluation set it prints R@1, R@5 and MRR (article level), and on the dev set also the
rate of answers containing the expected fact, abstention precision / recall, the language-match
rate, and p50 / p95 latency per stage (embed, search, fuse, compose).

    .venv/bin/python -m bench.answers               # dev set + Tatoeba + MahaSQuAD slice
    .venv/bin/python -m bench.answers --sets dev    # dev set only
    .venv/bin/python -m bench.answers --calibrate   # threshold sweep for abstention
"""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from actions.engine.analyzer import normalize
from actions.engine.answers import AnswerEngine
from actions.engine.language import prepare_query
from actions.engine.model import Embedder
from actions.engine.retriever import SEARCH_MODES, SearchMode
from bench.common import (
    DEV_CORPUS,
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

# An answer to a question no article covers misleads a citizen; a refusal only sends them to the
# helpline and puts the question in front of staff. So a wrong answer counts twice.
WRONG_ANSWER_COST = 2


@dataclass
class ModeResult:
    """Figures for one search mode on one set."""

    ranks: list[int | None] = field(default_factory=list)
    fact_hits: list[bool] = field(default_factory=list)
    abstained_out: list[bool] = field(default_factory=list)
    abstained_in: list[bool] = field(default_factory=list)
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
    retriever = engine.retriever
    for item in questions:
        query = prepare_query(item.question)
        with _timed(stages, "embed"):
            vectors = engine.embedder.embed_queries(list(query.phrasings))
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
        with _timed(stages, "fuse"):
            hits = retriever.rank(dense, lexical, mode, 10, query.lexical_langs)
        if hits:
            with _timed(stages, "compose"):
                engine._from_article(
                    item.question, item.lang, vectors, query, hits[0], retriever, 1.0
                )
        ids = [h.article.id for h in hits]
        if item.expected_article:
            result.ranks.append(
                ids.index(item.expected_article) + 1 if item.expected_article in ids else None
            )
        with _timed(stages, "total"):
            answer = engine.answer(item.question, mode=mode)
        if item.kind == "out_of_scope":
            result.abstained_out.append(answer.abstained)
            continue
        result.abstained_in.append(answer.abstained)
        result.language_match.append(answer.language == item.lang)
        if item.expected_fact:
            result.fact_hits.append(normalize(item.expected_fact) in normalize(answer.text))
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
            fact = sum(r.fact_hits) / max(len(r.fact_hits), 1)
            lang = sum(r.language_match) / max(len(r.language_match), 1)
            line += f" {fact:6.3f} {precision:7.3f} {recall:7.3f} {lang:6.3f}"
        total = r.stages.get("total", [])
        line += f" {percentile(total, 50):7.1f} {percentile(total, 95):7.1f}"
        print(line)
    hybrid = results.get("hybrid")
    if hybrid is not None:
        print(
            "hybrid stage latency p50 / p95 ms: "
            + ", ".join(
                f"{s} {percentile(v, 50):.1f}/{percentile(v, 95):.1f}"
                for s, v in hybrid.stages.items()
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


def calibrate(engine: AnswerEngine, questions: list[EvalQuestion]) -> None:
    """Print, per threshold, how many out-of-scope would be answered / in-scope refused."""
    scored = []
    for item in questions:
        _, _, hits, _ = engine.search(item.question)
        confidence = max((h.dense_score for h in hits[:3]), default=0.0)
        scored.append((item.kind == "out_of_scope", confidence, item))
    out = sorted(c for is_out, c, _ in scored if is_out)
    inside = sorted(c for is_out, c, _ in scored if not is_out)
    print(f"out-of-scope confidence: max {out[-1]:.3f}, p50 {percentile(out, 50):.3f}")
    print(
        f"in-scope confidence: min {inside[0]:.3f}, p5 {percentile(inside, 5):.3f}, "
        f"p50 {percentile(inside, 50):.3f}"
    )
    costs = []
    for threshold in np.arange(0.76, 0.86, 0.005):
        answered_out = sum(1 for c in out if c >= threshold)
        refused_in = sum(1 for c in inside if c < threshold)
        costs.append((WRONG_ANSWER_COST * answered_out + refused_in, float(threshold)))
        print(
            f"  threshold {threshold:.3f}: out-of-scope answered {answered_out:2}/{len(out)}, "
            f"in-scope refused {refused_in:2}/{len(inside)}"
        )
    cost, best = min(costs)
    print(
        f"lowest cost (a wrong answer costs {WRONG_ANSWER_COST}x a refusal): threshold "
        f"{best:.3f} (cost {cost}); the engine uses {engine.threshold:.3f}"
    )
    for is_out, confidence, item in sorted(scored, key=lambda s: s[1]):
        if (is_out and confidence >= engine.threshold - 0.02) or (
            not is_out and confidence < engine.threshold + 0.02
        ):
            tag = "OUT" if is_out else "IN "
            print(f"  near threshold {tag} {confidence:.3f} {item.question}")


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
        default=["dev", "tatoeba", "mahasquad"],
        choices=["dev", "tatoeba", "mahasquad"],
    )
    parser.add_argument("--calibrate", action="store_true")
    args = parser.parse_args()
    embedder = load_embedder(threads=1)  # as AnswerEngine.from_settings serves questions
    dev_engine = _engine_for([DEV_CORPUS, ROOT / "knowledge"], embedder, "dev")
    if args.calibrate:
        calibrate(dev_engine, dev_questions())
        return
    for name in args.sets:
        if name == "dev":
            engine, questions, answers = dev_engine, dev_questions(), True
        elif name == "tatoeba":
            work = temp_workdir("tatoeba-src")
            questions, answers = write_tatoeba(work), False
            engine = _engine_for([work], embedder, name)
        else:
            work = temp_workdir("squad-src")
            questions, answers = write_mahasquad(work), False
            engine = _engine_for([work], embedder, name)
        engine.retriever.search(embedder.embed_queries(["warm up"]), ["warm"])
        results = {mode: evaluate(engine, questions, mode) for mode in SEARCH_MODES}
        _report(f"{name} ({len(questions)} questions)", results, answers)
        if name == "dev":
            _per_kind(engine, questions)


if __name__ == "__main__":
    main()
