"""BM25 over the chunks of several index segments, with statistics of the live chunks only.

Each segment keeps its own term postings (:class:`TermPostings`, built once per segment and
shared by every generation that lists it); :class:`LexicalIndex` scores a question over the
segments of one generation with the document count, lengths and document frequencies of the
chunks that are live in it. So an edit adds one small segment and nothing is re-indexed, and
the scores are those one BM25 index over the live chunks would give.

Scoring is BM25 as Lucene does it (the ``bm25s`` default it replaces): k1 = 1.5, b = 0.75,
idf = ln(1 + (N - df + 0.5) / (df + 0.5)), each occurrence of a term in the question counted.
A chunk without terms counts as one empty term, as ``bm25s`` counted it.

>>> part = TermPostings([11, 12], [("water", "cut", "water"), ("bus", "pass")])
>>> index = LexicalIndex([(part, frozenset())])
>>> sorted(index.scores(["water"]))
[11]
>>> sorted(LexicalIndex([(part, frozenset({11}))]).scores(["water", "bus"]))
[12]
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np

K1 = 1.5
B = 0.75


class TermPostings:
    """One segment's chunks by term: for each term, the chunks holding it and how often."""

    def __init__(self, vector_ids: Sequence[int], token_lists: Sequence[Sequence[str]]) -> None:
        if len(vector_ids) != len(token_lists):
            raise ValueError("one token list per vector id")
        self.vector_ids = np.array(vector_ids, dtype=np.int64)
        self.position = {int(v): i for i, v in enumerate(vector_ids)}
        self.lengths = np.array([max(len(t), 1) for t in token_lists], dtype=np.float64)
        self.token_lists = token_lists
        gathered: dict[str, tuple[list[int], list[int]]] = {}
        for row, tokens in enumerate(token_lists):
            for term, n in Counter(tokens or ("",)).items():
                rows, tfs = gathered.setdefault(term, ([], []))
                rows.append(row)
                tfs.append(n)
        self.terms = {
            term: (np.array(rows, dtype=np.int64), np.array(tfs, dtype=np.float64))
            for term, (rows, tfs) in gathered.items()
        }


class LexicalIndex:
    """BM25 over segments' postings, each with the vector ids no longer live in it."""

    def __init__(self, parts: Sequence[tuple[TermPostings, frozenset[int]]]) -> None:
        self._parts: list[tuple[TermPostings, np.ndarray | None]] = []
        self._dropped_df: Counter[str] = Counter()
        docs, length = 0, 0.0
        for postings, dropped in parts:
            rows = [postings.position[v] for v in dropped if v in postings.position]
            live = None
            if rows:
                live = np.ones(len(postings.vector_ids), dtype=bool)
                live[rows] = False
                for row in rows:
                    self._dropped_df.update(set(postings.token_lists[row] or ("",)))
            self._parts.append((postings, live))
            docs += len(postings.vector_ids) - len(rows)
            length += float(postings.lengths.sum() - postings.lengths[rows].sum())
        self.documents = docs
        self._average = length / docs if docs else 1.0

    def document_frequency(self, term: str) -> int:
        """How many live chunks hold ``term``."""
        held = sum(len(p.terms[term][0]) for p, _ in self._parts if term in p.terms)
        return held - self._dropped_df[term]

    def scores(self, terms: list[str]) -> dict[int, float]:
        """BM25 score of every live chunk with at least one of ``terms`` (vector_id → score)."""
        if not self.documents or not terms:
            return {}
        weights = Counter(terms)
        idf = {}
        for term in weights:
            df = self.document_frequency(term)
            idf[term] = math.log(1 + (self.documents - df + 0.5) / (df + 0.5))
        found: dict[int, float] = {}
        for postings, live in self._parts:
            total = np.zeros(len(postings.vector_ids), dtype=np.float64)
            for term, times in weights.items():
                if term not in postings.terms:
                    continue
                rows, tf = postings.terms[term]
                norm = K1 * (1 - B + B * postings.lengths[rows] / self._average)
                np.add.at(total, rows, times * idf[term] * tf / (norm + tf))
            if live is not None:
                total[~live] = 0.0
            for row in np.flatnonzero(total > 0):
                found[int(postings.vector_ids[row])] = float(total[row])
        return found
