"""The model with and without its adapter, side by side in one run, on data it was not trained on.

The adapter (``samvad/adapters/``, made by ``scripts/train_adapter.py``) was trained on the
legislature's 2014 and 2020 rows only. Here both models embed the same texts (questions in the
precision this CPU runs fast, passages too) and each question's own document is looked for
among all documents by cosine, the model alone (no BM25, no engine):

- Tatoeba mar-eng, the first ``--tatoeba`` pairs: Marathi → English and English → Marathi;
- MahaSQuAD, the first ``--squad`` questions → every context of the file (Marathi → Marathi);
- legislature 2021, the first ``--legislature`` aligned rows (never trained on): English title →
  Marathi document (title + answer), and the same by best sentence (the Marathi title or one of
  the answer's first 8 sentences, as ``bench/crosslingual.py`` scores it);
- the same 2021 Marathi titles typed in Latin letters (:func:`samvad.romanizer.romanize`, seeded;
  the romanizer that made the training data, so this one is indicative only) → Marathi document.

Prints R@1 / R@5 per task and model, and the change.

    .venv/bin/python -m bench.adapter [--tatoeba 1000] [--squad 500] [--legislature 1000]
"""

from __future__ import annotations

import argparse
import json
import random
import time

import numpy as np

from bench.common import SHARED_DATA, load_embedder
from bench.crosslingual import Task, best_sentence, read_task
from samvad.model import Embedder
from samvad.precision import choose_precision
from samvad.romanizer import romanize
from samvad.settings import SHIPPED_ADAPTER

SEED = 20261203


def recall_at(scores: np.ndarray, truth: np.ndarray, k: int) -> float:
    """Share of rows whose true column (``truth[row]``) is among the ``k`` highest scores."""
    own = scores[np.arange(len(truth)), truth][:, None]
    return float(((scores > own).sum(axis=1) < k).mean())


Tasks = dict[str, tuple[list[str], list[str], np.ndarray]]


def read_tasks(args: argparse.Namespace, legislature: Task) -> Tasks:
    """Per task: questions, documents and each question's document index."""
    folder = SHARED_DATA / "tatoeba-mar-eng"
    marathi = (folder / "tatoeba.mar-eng.mar").read_text("utf-8").splitlines()[: args.tatoeba]
    english = (folder / "tatoeba.mar-eng.eng").read_text("utf-8").splitlines()[: args.tatoeba]
    same = np.arange(len(marathi))
    rows = json.loads((SHARED_DATA / "l3cube" / "L3Cube-MahaSQuAD" / "test_gold.json").read_text())
    contexts = sorted({r["context"] for r in rows})
    where = {c: n for n, c in enumerate(contexts)}
    squad = rows[: args.squad]
    rng = random.Random(SEED)
    mr_titles = [doc[0] for doc in legislature.sentences]
    own = np.arange(len(legislature.questions))
    return {
        "tatoeba mr→en": (marathi, english, same),
        "tatoeba en→mr": (english, marathi, same),
        "mahasquad mr→mr": (
            [r["question"] for r in squad],
            contexts,
            np.array([where[r["context"]] for r in squad]),
        ),
        "legislature en→mr": (legislature.questions, legislature.documents, own),
        "legislature roman→mr": ([romanize(t, rng) for t in mr_titles], legislature.documents, own),
    }


def evaluate(embedder: Embedder, tasks: Tasks, legislature: Task) -> dict[str, tuple[float, float]]:
    """R@1 and R@5 of every task (and best-sentence legislature) with one model."""
    figures: dict[str, tuple[float, float]] = {}
    cache: dict[tuple[str, ...], np.ndarray] = {}

    def passages(texts: list[str]) -> np.ndarray:
        key = tuple(texts)
        if key not in cache:
            cache[key] = embedder.embed_passages(texts, show_progress=True)
        return cache[key]

    for name, (questions, documents, truth) in tasks.items():
        scores = embedder.embed_queries(questions) @ passages(documents).T
        figures[name] = (recall_at(scores, truth, 1), recall_at(scores, truth, 5))
    flat = [s for doc in legislature.sentences for s in doc]
    owner = np.repeat(
        np.arange(len(legislature.sentences)), [len(d) for d in legislature.sentences]
    )
    sentences = passages(flat)
    own = np.arange(len(legislature.questions))
    for name, questions in (
        ("legislature en→mr, best sentence", legislature.questions),
        ("legislature roman→mr, best sentence", tasks["legislature roman→mr"][0]),
    ):
        scores = best_sentence(embedder.embed_queries(questions), sentences, owner)
        figures[name] = (recall_at(scores, own, 1), recall_at(scores, own, 5))
    return figures


def main() -> None:
    """Print both models' figures side by side."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tatoeba", type=int, default=1000)
    parser.add_argument("--squad", type=int, default=500)
    parser.add_argument("--legislature", type=int, default=1000)
    args = parser.parse_args()
    precision = choose_precision("auto")
    legislature = read_task(args.legislature, 8)
    tasks = read_tasks(args, legislature)
    results = {}
    for label, adapter in (("plain", "none"), ("adapted", SHIPPED_ADAPTER)):
        started = time.perf_counter()
        embedder = load_embedder(precision=precision, adapter=adapter)
        results[label] = evaluate(embedder, tasks, legislature)
        print(f"{label}: {time.perf_counter() - started:.0f} s", flush=True)
    print(f"\nprecision {precision}; R@1 / R@5, the model alone (cosine), plain vs adapted")
    for name in results["plain"]:
        (p1, p5), (a1, a5) = results["plain"][name], results["adapted"][name]
        print(f"  {name:38} {p1:.3f} / {p5:.3f}   {a1:.3f} / {a5:.3f}   R@1 {a1 - p1:+.3f}")


if __name__ == "__main__":
    main()
