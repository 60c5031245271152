"""Composing: the sentences of an answer and its citation, from an indexed article.

The answer is extractive: one to three sentences copied from one passage of one article (the
best one, plus those within :data:`SENTENCE_MARGIN` of it, in the article's order; a sentence
holding the kind of fact asked for may come from another passage of the same article), and the
article's title, date and source as a :class:`~samvad.reply.Citation`. Nothing is written that
is not in an article.
"""

from __future__ import annotations

import numpy as np

from samvad.facts import Asked, answers
from samvad.index_store import IndexSnapshot
from samvad.language import Lang, as_language
from samvad.reply import Citation, Offer
from samvad.segment import StoredArticle, StoredChunk

MAX_SENTENCES = 3
# Sentences within this cosine of the best one join the answer (at most MAX_SENTENCES).
# Measured on the dev set: 0.03 → 70.5 % of answers hold the expected fact (1.8 sentences on
# average), 0.05 → 74.4 % (2.2 sentences). Choosing sentences from the whole article instead of
# the best passage, or adding a lexical bonus, measured worse (64-69 %).
SENTENCE_MARGIN = 0.05


def article_language(article: StoredArticle) -> Lang:
    """The language of an indexed article version (validated when it was indexed)."""
    lang = as_language(article.lang)
    if lang is None:
        raise ValueError(f"article {article.key} has no known language")
    return lang


def citation(article: StoredArticle, reply_language: Lang) -> Citation:
    """Cite ``article``; ``other_language`` when it is not in the reply's language."""
    lang = article_language(article)
    return Citation(
        article.id, article.title, lang, article.date, article.source, lang != reply_language
    )


def offer(article: StoredArticle) -> Offer:
    """``article`` as one of the articles offered when the engine is not sure."""
    return Offer(article.id, article.title, article_language(article), article.date)


def closest_passage(
    snapshot: IndexSnapshot, article: StoredArticle, vectors: np.ndarray
) -> StoredChunk:
    """The passage of ``article`` closest to the question's ``vectors`` (one row a phrasing)."""
    chunks = [snapshot.chunks[v] for v in article.vector_ids]
    chunk_vectors = np.vstack([snapshot.passage_vector(c.vector_id) for c in chunks])
    return chunks[int(np.argmax((chunk_vectors @ vectors.T).max(axis=1)))]


def pick_sentences(
    chunk: StoredChunk,
    vectors: np.ndarray,
    snapshot: IndexSnapshot,
    wanted: Asked | None = None,
) -> list[str]:
    """The chunk's sentences closest to the question: the best one, plus up to two more
    within :data:`SENTENCE_MARGIN` of it, in the article's order.

    With ``wanted`` (the kind of fact the question asks for), when none of those holds such a
    fact, the closest sentence that does — in this chunk, else in the article's other chunks —
    takes the place of the last one picked."""
    if len(chunk.sentences) <= 1 and wanted is None:
        return list(chunk.sentences)
    scores = (snapshot.sentence_vectors_of(chunk) @ vectors.T).max(axis=1)
    best = float(scores.max())
    ranked = [int(i) for i in np.argsort(-scores)]
    keep = [i for i in ranked[:MAX_SENTENCES] if scores[i] >= best - SENTENCE_MARGIN]
    picked = [(chunk.ordinal, i, chunk.sentences[i]) for i in keep]
    if wanted is not None and not any(answers(wanted, text) for _, _, text in picked):
        found = _closest_holding(chunk, vectors, snapshot, wanted)
        if found is not None:
            picked = [*picked[: MAX_SENTENCES - 1], found]
    return [text for _, _, text in sorted(picked)]


def _closest_holding(
    chunk: StoredChunk, vectors: np.ndarray, snapshot: IndexSnapshot, wanted: Asked
) -> tuple[int, int, str] | None:
    """The sentence closest to the question that holds a fact of kind ``wanted``, as
    (chunk ordinal, position, text): from ``chunk`` when one there does, else from the other
    chunks of its article; ``None`` when no sentence of the article does."""
    article = snapshot.articles[chunk.article_key]
    others = [snapshot.chunks[v] for v in article.vector_ids if v != chunk.vector_id]
    for candidates in ([chunk], others):
        best: tuple[float, tuple[int, int, str]] | None = None
        for part in candidates:
            holding = [i for i, text in enumerate(part.sentences) if answers(wanted, text)]
            if not holding:
                continue
            scores = (snapshot.sentence_vectors_of(part)[holding] @ vectors.T).max(axis=1)
            at = int(np.argmax(scores))
            if best is None or float(scores[at]) > best[0]:
                position = holding[at]
                best = (float(scores[at]), (part.ordinal, position, part.sentences[position]))
        if best is not None:
            return best[1]
    return None
