"""English question → Marathi document: the Maharashtra legislature task of issue 12.

The legislature's 2021 questions exist in both languages, row for row (MIT, read in place from
``../shared/data/mahmls-questions``). Each row's **English title** is the question; the
documents are all rows' **Marathi** texts (title and the minister's answer, as a Marathi article
would hold them). A question is right at k when its own row's document is among the k nearest.

What is compared, side by side in one run, with the configured model (passages in float32,
questions in the precision this CPU runs fast):

- ``passage``: the document's vector (title + answer, as the index embeds a passage; the model
  reads its first 512 tokens);
- ``answer only``: the answer's vector, without the title (what a body-only passage gives);
- ``best sentence``: the highest similarity to one of the document's sentences (the title is
  one; at most ``--sentences`` of the answer's first sentences);
- ``fused``: ``w · passage + (1 - w) · best sentence``, ``w`` chosen on the **tuning** half of
  the questions (a fixed seed) and reported on the **report** half, never looked at for ``w``;
- ``translated BM25``: BM25 of the question's terms translated by the shipped lexicon
  (:mod:`samvad.lexicon`, built from the 2014 and 2020 rows, never 2021) over the documents;
- ``engine ranks``: reciprocal-rank fusion of the passage and best-sentence rankings, as the
  engine's ``sentences`` mode fuses them, and ``engine ranks + translated``: with the
  translated BM25 ranking as well (a document it does not match keeps its passage rank as
  the engine's stand-in), both with no weight to choose.

Vectors are cached in ``var/bench/crosslingual-<fingerprint>.npz`` (the model's fingerprint
and the options are in the name), so a second run is quick.

    .venv/bin/python -m bench.crosslingual [--limit 4438] [--sentences 8]
"""

from __future__ import annotations

import argparse
import hashlib
import random
import time
from dataclasses import dataclass

import numpy as np

from bench.common import ROOT, load_embedder, mahmls_rows
from samvad.analyzer import analyze
from samvad.chunking import split_sentences
from samvad.lexical import LexicalIndex, TermPostings
from samvad.lexicon import shipped_lexicon
from samvad.model import Embedder
from samvad.precision import choose_precision
from samvad.retriever import RRF_K
from samvad.settings import Settings

SEED = 20261201
YEAR = 2021
WEIGHTS = [round(w * 0.1, 1) for w in range(11)]


@dataclass(frozen=True)
class Task:
    """Aligned English questions and Marathi documents (row ``n`` answers question ``n``)."""

    questions: list[str]
    documents: list[str]
    answers: list[str]
    sentences: list[list[str]]  # per document: its title, then its answer's first sentences


def read_task(limit: int, max_sentences: int) -> Task:
    """The first ``limit`` rows with an English title and a Marathi answer."""
    english, marathi = mahmls_rows(YEAR, "en"), mahmls_rows(YEAR, "mr")
    questions, documents, answers, sentences = [], [], [], []
    for en, mr in zip(english, marathi, strict=True):
        title, mr_title, answer = en["title"].strip(), mr["शीर्षक"].strip(), mr["उत्तर"].strip()
        if not title or not mr_title or len(answer) < 40:
            continue
        questions.append(title)
        documents.append(f"{mr_title}\n{answer}")
        answers.append(answer)
        sentences.append([mr_title, *split_sentences(answer)[:max_sentences]])
        if len(questions) == limit:
            break
    return Task(questions, documents, answers, sentences)


def cached_vectors(task: Task, embedder: Embedder, max_sentences: int) -> dict[str, np.ndarray]:
    """Questions, passages, answers and sentences embedded (from the cache when it has them)."""
    key = hashlib.sha256(
        f"{embedder.identity['fingerprint']}|{len(task.questions)}|{max_sentences}|"
        f"{embedder.precision}".encode()
    ).hexdigest()[:16]
    cache = ROOT / "var" / "bench" / f"crosslingual-{key}.npz"
    if cache.is_file():
        with np.load(cache) as stored:
            return {name: stored[name] for name in stored.files}
    flat = [s for doc in task.sentences for s in doc]
    started = time.perf_counter()
    vectors = {
        "questions": embedder.embed_queries(task.questions),
        "passages": embedder.embed_passages(task.documents, show_progress=True),
        "answers": embedder.embed_passages(task.answers, show_progress=True),
        "sentences": embedder.embed_passages(flat, show_progress=True),
        "owner": np.repeat(np.arange(len(task.sentences)), [len(d) for d in task.sentences]),
    }
    print(f"embedded {len(task.documents)} documents, {len(flat)} sentences in "
          f"{time.perf_counter() - started:.0f} s")  # fmt: skip
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, allow_pickle=False, **vectors)
    return vectors


def best_sentence(questions: np.ndarray, sentences: np.ndarray, owner: np.ndarray) -> np.ndarray:
    """``[q, d]``: the highest similarity of question ``q`` to one of document ``d``'s sentences
    (``owner[i]`` is sentence ``i``'s document; a document's sentences are consecutive)."""
    starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    best = np.empty((len(questions), len(starts)), dtype=np.float32)
    for first in range(0, len(questions), 256):
        block = questions[first : first + 256] @ sentences.T
        best[first : first + 256] = np.maximum.reduceat(block, starts, axis=1)
    return best


def recall(scores: np.ndarray, rows: np.ndarray, k: int) -> float:
    """Share of ``rows`` (question indexes) whose own document is among the ``k`` best."""
    own = scores[rows, rows][:, None]
    better = (scores[rows] > own).sum(axis=1)
    return float((better < k).mean())


def ranks(scores: np.ndarray) -> np.ndarray:
    """``[q, d]``: document ``d``'s place (1 = best) in question ``q``'s ordering."""
    places = np.empty(scores.shape, dtype=np.int32)
    order = np.argsort(-scores, axis=1, kind="stable")
    np.put_along_axis(places, order, np.arange(1, scores.shape[1] + 1, dtype=np.int32), 1)
    return places


def translated_bm25(task: Task) -> np.ndarray:
    """``[q, d]``: BM25 of question ``q``'s translated terms on document ``d`` (0: no match)."""
    lexicon = shipped_lexicon()
    documents = [analyze(document) for document in task.documents]
    index = LexicalIndex([(TermPostings(list(range(len(documents))), documents), frozenset())])
    scores = np.zeros((len(task.questions), len(documents)), dtype=np.float32)
    for row, question in enumerate(task.questions):
        for document, score in index.scores(list(lexicon.translate(analyze(question)))).items():
            scores[row, document] = score
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=4438, help="rows to use (default: all)")
    parser.add_argument(
        "--sentences", type=int, default=8, help="answer sentences per document (default 8)"
    )
    args = parser.parse_args()

    precision = choose_precision(Settings.from_env().precision)
    embedder = load_embedder(threads=None, precision=precision)
    task = read_task(args.limit, args.sentences)
    vectors = cached_vectors(task, embedder, args.sentences)
    n = len(task.questions)
    order = list(range(n))
    random.Random(SEED).shuffle(order)
    tuning, report = np.array(sorted(order[: n // 2])), np.array(sorted(order[n // 2 :]))

    passage = vectors["questions"] @ vectors["passages"].T
    answer = vectors["questions"] @ vectors["answers"].T
    sentence = best_sentence(vectors["questions"], vectors["sentences"], vectors["owner"])
    weight = max(WEIGHTS, key=lambda w: recall(w * passage + (1 - w) * sentence, tuning, 1))
    fused = weight * passage + (1 - weight) * sentence
    bm25 = translated_bm25(task)
    passage_places, sentence_places = ranks(passage), ranks(sentence)
    engine = 1.0 / (RRF_K + passage_places) + 1.0 / (RRF_K + sentence_places)
    bm25_places = np.where(bm25 > 0, ranks(bm25), passage_places)
    with_translation = engine + 1.0 / (RRF_K + bm25_places)

    print(f"legislature {YEAR}: English title → Marathi document, {n} documents; "
          f"questions: {len(tuning)} tuning, {len(report)} report (seed {SEED}); "
          f"queries in {precision}")  # fmt: skip
    print(f"fused weight chosen on the tuning half: w = {weight}")
    print(f"{'scoring':<22} {'split':<7} {'R@1':>6} {'R@5':>6} {'R@10':>6}")
    for name, scores in (
        ("passage (today)", passage),
        ("answer only", answer),
        ("best sentence", sentence),
        (f"fused w={weight}", fused),
        ("translated BM25", bm25),
        ("engine ranks", engine),
        ("engine ranks + transl.", with_translation),
    ):
        for split, rows in (("tuning", tuning), ("report", report)):
            figures = " ".join(f"{recall(scores, rows, k):>6.3f}" for k in (1, 5, 10))
            print(f"{name:<22} {split:<7} {figures}")


if __name__ == "__main__":
    main()
