"""float32 against bfloat16, side by side in one run: time per question and answers changed.

Both engines serve the same index (built once, in float32, as the indexer always builds it);
only the questions' embedding and latent-term product differ. For every dev and held-out
question it prints how long the whole ``answer()`` call took (one thread, as the engine
serves) and counts the answers that came out different: another outcome, another cited or
offered article, or other sentences. On a CPU without native bf16 the bf16 path is emulated
and slow; ``auto`` then runs float32 (``samvad/precision.py``).

    .venv/bin/python -m bench.precision
"""

from __future__ import annotations

import time

from bench.common import (
    DEV_CORPUS,
    HELDOUT_QUESTIONS,
    ROOT,
    build_temp_index,
    dev_questions,
    load_embedder,
    percentile,
    temp_workdir,
)
from samvad import Answer, AnswerEngine
from samvad.precision import PRECISIONS, Precision, cpu_flags, explain_precision

ROUNDS = 3


def _key(answer: Answer) -> tuple[str, frozenset[str], tuple[str, ...]]:
    """What the citizen gets: the outcome, the articles cited or offered, the sentences."""
    return answer.outcome, frozenset(answer.article_ids), answer.sentences


def main() -> None:
    """Print the side-by-side figures."""
    print(f"this CPU: {explain_precision('auto', cpu_flags())}")
    questions = [q.question for q in dev_questions() + dev_questions(HELDOUT_QUESTIONS)]
    embedders = {p: load_embedder(threads=1, precision=p) for p in PRECISIONS}
    settings, seconds = build_temp_index(
        [DEV_CORPUS, ROOT / "knowledge"], embedders["float32"], temp_workdir("precision")
    )
    print(f"indexed in {seconds:.1f} s; {len(questions)} questions, best of {ROUNDS} rounds")
    engines = {p: AnswerEngine(settings, embedders[p]) for p in PRECISIONS}
    answers: dict[Precision, list[Answer]] = {}
    timings: dict[Precision, list[float]] = {p: [] for p in PRECISIONS}
    batch: dict[Precision, float] = {p: float("inf") for p in PRECISIONS}
    for _ in range(ROUNDS):  # rounds alternate the two paths so load drift hits both
        for precision, engine in engines.items():
            engine.answer("warm up")
            got, started = [], time.perf_counter()
            for question in questions:
                asked = time.perf_counter()
                got.append(engine.answer(question))
                timings[precision].append((time.perf_counter() - asked) * 1000)
            batch[precision] = min(batch[precision], time.perf_counter() - started)
            answers[precision] = got
    print(f"{'':28}{'float32':>10}{'bfloat16':>10}")
    print(f"{'whole batch, s (best)':28}" + "".join(f"{batch[p]:10.2f}" for p in PRECISIONS))
    for pct in (50, 95):
        row = "".join(f"{percentile(timings[p], pct):10.1f}" for p in PRECISIONS)
        print(f"{f'per question p{pct}, ms':28}{row}")
    changed = [
        (q, a, b)
        for q, a, b in zip(questions, answers["float32"], answers["bfloat16"], strict=True)
        if _key(a) != _key(b)
    ]
    outcomes = sum(a.outcome != b.outcome for _, a, b in changed)
    print(
        f"answers that differ: {len(changed)} of {len(questions)} ({outcomes} with another outcome)"
    )
    for question, f32, bf16 in changed:
        print(f"  {f32.outcome:>9} {f32.article_ids} → {bf16.outcome} {bf16.article_ids}")
        print(f"            {question}")


if __name__ == "__main__":
    main()
