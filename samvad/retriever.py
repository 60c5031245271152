"""Find the passages that best match a question: dense (FAISS), lexical (BM25) or both fused.

Dense search finds meaning across Marathi and English; BM25 finds exact names and figures in the
same language. ``hybrid`` fuses the two rankings with reciprocal rank fusion (RRF), which needs
no score calibration between the two. ``sentences`` adds a third ranking to the fusion: chunks
by their best single sentence's cosine (the index stores a vector per sentence), which finds a
short fact inside a long passage and a sentence-sized question across languages. The dense
cosine of each hit (the passage's) is kept: it is what the answer layer's confidence threshold
looks at.

Used by the engine (``samvad/answers.py``) like this::

    retriever = Retriever(IndexSnapshot.require(Path("var/index")))
    query = prepare_query("Which Japanese ministry signed the agreement?")
    hits = retriever.search(embedder.embed_queries(list(query.phrasings)), query.terms)
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from samvad.analyzer import SKELETON_MARK, joined_stem
from samvad.coverage import MIN_ARTICLES, QuestionWord, coverage
from samvad.index_store import IndexSnapshot
from samvad.language_gap import LanguageGap
from samvad.lexical import LexicalIndex
from samvad.phonetic import Vocabulary
from samvad.segment import StoredArticle, StoredChunk

SearchMode = Literal["dense", "bm25", "hybrid", "sentences"]
SEARCH_MODES: tuple[SearchMode, ...] = ("dense", "bm25", "hybrid", "sentences")
RRF_K = 60
_DEVANAGARI = re.compile(r"[\u0900-\u097f]")
CANDIDATES = 30
# Nearest sentences looked at per phrasing in ``sentences`` mode (several may share a chunk).
SENTENCE_CANDIDATES = 60


@dataclass(frozen=True)
class Hit:
    """One retrieved passage with its article and the evidence for it."""

    chunk: StoredChunk
    article: StoredArticle
    score: float
    dense_score: float
    lexical_score: float


def search_mode(name: str) -> SearchMode:
    """``name`` as a :data:`SearchMode`; :class:`ValueError` when it names none.

    >>> search_mode("sentences")
    'sentences'
    """
    for mode in SEARCH_MODES:
        if mode == name:
            return mode
    raise ValueError(f"unknown search mode {name!r}; expected one of {', '.join(SEARCH_MODES)}")


def _ranked(scores: dict[int, float], k: int) -> list[int]:
    return sorted(scores, key=lambda vid: scores[vid], reverse=True)[:k]


def reciprocal_rank_fusion(rankings: Sequence[Sequence[int]], k: int = RRF_K) -> dict[int, float]:
    """Fuse ranked id lists: each id scores sum(1 / (k + rank)) over the lists it appears in."""
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, vector_id in enumerate(ranking, start=1):
            fused[vector_id] = fused.get(vector_id, 0.0) + 1.0 / (k + rank)
    return fused


class Retriever:
    """Searches one index snapshot. Thread-safe for reads; build a new one for a new snapshot."""

    def __init__(self, snapshot: IndexSnapshot) -> None:
        self.snapshot = snapshot
        self.lexical: LexicalIndex = snapshot.lexical()

    @functools.cached_property
    def vocabulary(self) -> Vocabulary:
        """The snapshot's Devanagari terms by how they sound (built on first use)."""
        return Vocabulary(
            Counter(
                t
                for c in self.snapshot.chunks.values()
                for t in c.tokens
                if not t.startswith(SKELETON_MARK) and _DEVANAGARI.match(t)
            )
        )

    @functools.cached_property
    def article_terms(self) -> dict[str, frozenset[str]]:
        """The BM25 terms of each article id, over all its versions (built on first use)."""
        terms: dict[str, set[str]] = {}
        for article in self.snapshot.articles.values():
            held = terms.setdefault(article.id, set())
            for vector_id in article.vector_ids:
                held.update(self.snapshot.chunks[vector_id].tokens)
        return {article_id: frozenset(found) for article_id, found in terms.items()}

    @functools.cached_property
    def article_frequency(self) -> Counter[str]:
        """For each term, how many article ids hold it (built on first use)."""
        return Counter(t for terms in self.article_terms.values() for t in terms)

    def coverage(self, words: Sequence[QuestionWord], article_id: str) -> float | None:
        """How much of a question's ``words`` the article speaks of, each weighted by how few
        of this snapshot's articles hold it (:func:`samvad.coverage.coverage`); ``None``
        when the snapshot has fewer than :data:`samvad.coverage.MIN_ARTICLES` articles."""
        if len(self.article_terms) < MIN_ARTICLES:
            return None
        held = self.article_terms.get(article_id, frozenset())
        frequency = self.article_frequency
        known = [QuestionWord(w.word, w.forms | self._stems_of(w.forms)) for w in words]
        return coverage(known, held, lambda t: frequency[t], len(self.article_terms))

    def _stems_of(self, forms: frozenset[str]) -> frozenset[str]:
        """For each Devanagari form no article holds, the index term it begins with
        (:func:`samvad.analyzer.joined_stem`: जपानसोबत → जपान)."""
        frequency = self.article_frequency
        stems = (
            joined_stem(form, frequency)
            for form in forms
            if form not in frequency and _DEVANAGARI.match(form)
        )
        return frozenset(s for s in stems if s is not None)

    @functools.cached_property
    def versions(self) -> dict[str, frozenset[str]]:
        """The languages each article id has a version in, in this snapshot."""
        langs: dict[str, set[str]] = {}
        for article in self.snapshot.articles.values():
            langs.setdefault(article.id, set()).add(article.lang)
        return {article_id: frozenset(found) for article_id, found in langs.items()}

    def dense_scores(
        self,
        query_vectors: np.ndarray,
        k: int = CANDIDATES,
        gap: LanguageGap | None = None,
        query_langs: Sequence[str | None] = (),
    ) -> dict[int, float]:
        """Best cosine per chunk over the query vectors (one row per phrasing of the question).

        With a ``gap`` and each phrasing's language (``query_langs``), a chunk in another
        language than a phrasing gets that pair's gap added to their cosine when its article
        has no version in the phrasing's language (the candidates are still the nearest ``k``
        by plain cosine). An article with a version in the asker's language competes through
        that version; the gap is for the article that has none."""
        best: dict[int, float] = {}
        for row in self.snapshot.search(query_vectors, k):
            for vector_id, score in row:
                best[vector_id] = max(score, best.get(vector_id, -1.0))
        if gap is None or not any(query_langs):
            return best
        for vector_id in best:
            article = self.snapshot.articles[self.snapshot.chunks[vector_id].article_key]
            versions = self.versions[article.id]
            passage = self.snapshot.passage_vector(vector_id)
            best[vector_id] = max(
                float(np.dot(passage, row))
                + (0.0 if question_lang in versions else gap.of(question_lang, article.lang))
                for row, question_lang in zip(query_vectors, query_langs, strict=True)
            )
        return best

    def rank(
        self,
        dense: dict[int, float],
        lexical: dict[int, float],
        mode: SearchMode,
        top_k: int,
        lexical_langs: frozenset[str] = frozenset({"mr", "en"}),
        sentences: dict[int, float] | None = None,
        translated: dict[int, float] | None = None,
    ) -> list[Hit]:
        """Order chunks by ``mode`` and return the best ``top_k`` as hits (``sentences``: each
        chunk's best sentence cosine, fused as a third ranking when given).

        In ``hybrid`` mode BM25 can only judge chunks in ``lexical_langs`` (the languages the
        question's words can match). For a chunk in another language its dense rank stands in
        for the missing lexical rank, so a Marathi article is not pushed down for an English
        question just because no English word occurs in it; with ``translated`` (BM25 of the
        question's translated terms on such chunks) its rank there stands in when better. A
        chunk that BM25 did rank (a number or a name both languages write alike) keeps that
        rank and gets no stand-in.
        """
        if mode == "dense":
            order = _ranked(dense, top_k)
            fused = dense
        elif mode == "bm25":
            order = _ranked(lexical, top_k)
            fused = lexical
        else:
            dense_order = _ranked(dense, CANDIDATES)
            lexical_order = _ranked(lexical, CANDIDATES)
            judged = set(lexical_order)
            imputed = [
                vid
                for vid in dense_order
                if vid not in judged and self._lang_of(vid) not in lexical_langs
            ]
            rankings = [dense_order, lexical_order]
            if sentences:
                rankings.append(_ranked(sentences, CANDIDATES))
            fused = reciprocal_rank_fusion(rankings)
            dense_rank = {vid: rank for rank, vid in enumerate(dense_order, start=1)}
            stand_in = {vid: dense_rank[vid] for vid in imputed}
            for rank, vid in enumerate(_ranked(translated or {}, CANDIDATES), start=1):
                if vid not in judged:
                    stand_in[vid] = min(rank, stand_in.get(vid, rank))
            for vid, rank in stand_in.items():
                fused[vid] = fused.get(vid, 0.0) + 1.0 / (RRF_K + rank)
            order = _ranked(fused, top_k)
        hits = []
        for vector_id in order:
            chunk = self.snapshot.chunks[vector_id]
            hits.append(
                Hit(
                    chunk=chunk,
                    article=self.snapshot.articles[chunk.article_key],
                    score=fused[vector_id],
                    dense_score=dense.get(vector_id, 0.0),
                    lexical_score=lexical.get(vector_id, 0.0),
                )
            )
        return hits

    def search(
        self,
        query_vectors: np.ndarray,
        terms: Sequence[str],
        top_k: int = 5,
        mode: SearchMode = "hybrid",
        lexical_langs: frozenset[str] = frozenset({"mr", "en"}),
        gap: LanguageGap | None = None,
        query_langs: Sequence[str | None] = (),
        translated_terms: Sequence[str] = (),
    ) -> list[Hit]:
        """Best ``top_k`` passages for a question's vectors (one row per phrasing) and terms;
        ``gap`` and ``query_langs`` as in :meth:`dense_scores`; ``translated_terms`` (the
        terms in the other language) score the chunks outside ``lexical_langs``, as in
        :meth:`rank`."""
        dense: dict[int, float] = {}
        lexical: dict[int, float] = {}
        sentences: dict[int, float] = {}
        translated: dict[int, float] = {}
        if mode != "bm25":
            dense = self.dense_scores(query_vectors, gap=gap, query_langs=query_langs)
        if mode != "dense":
            lexical = self.lexical.scores(list(terms))
        if mode in ("hybrid", "sentences") and translated_terms:
            matched = {
                vid: score
                for vid, score in self.lexical.scores(list(translated_terms)).items()
                if self._lang_of(vid) not in lexical_langs
            }
            # Only the best CANDIDATES reach the fusion in rank(); only they need a cosine.
            translated = {vid: matched[vid] for vid in _ranked(matched, CANDIDATES)}
            self.add_passage_scores(dense, translated, query_vectors)
        if mode == "bm25" and lexical:
            dense = self._dense_for(query_vectors[0], list(lexical))
        if mode == "sentences":
            sentences = self.sentence_scores(query_vectors)
            self.add_passage_scores(dense, sentences, query_vectors)
        return self.rank(dense, lexical, mode, top_k, lexical_langs, sentences, translated)

    def sentence_scores(self, query_vectors: np.ndarray) -> dict[int, float]:
        """Best single-sentence cosine per chunk over the query vectors (the chunks owning the
        nearest :data:`SENTENCE_CANDIDATES` sentences of each phrasing)."""
        return self.snapshot.search_sentences(query_vectors, SENTENCE_CANDIDATES)

    def add_passage_scores(
        self, dense: dict[int, float], chunks: Iterable[int], query_vectors: np.ndarray
    ) -> None:
        """Give each of ``chunks`` missing from ``dense`` its passage cosine (best phrasing).
        Such a chunk lies below the dense ranking's candidates, so that ranking is unchanged."""
        for vid in [vid for vid in chunks if vid not in dense]:
            passage = self.snapshot.passage_vector(vid)
            dense[vid] = max(float(np.dot(passage, row)) for row in query_vectors)

    def _lang_of(self, vector_id: int) -> str:
        return self.snapshot.articles[self.snapshot.chunks[vector_id].article_key].lang

    def _dense_for(self, query_vector: np.ndarray, vector_ids: list[int]) -> dict[int, float]:
        """Cosine of the query with specific chunks (for BM25-only hits' confidence)."""
        return {
            vid: float(np.dot(self.snapshot.passage_vector(vid), query_vector))
            for vid in vector_ids
        }
