"""BM25 over segments: the textbook formula, and segments with drops scoring as one index."""

from __future__ import annotations

import math
from collections import Counter

import pytest

from samvad.lexical import K1, B, LexicalIndex, TermPostings

MARATHI = {
    1: ("पाणी", "पुरवठा", "बंद", "घोडबंदर"),
    2: ("पाणी", "बिल", "ऑनलाइन", "भरणा", "पाणी"),
    3: ("बस", "पास", "विद्यार्थी"),
    4: ("मालमत्ता", "कर", "सवलत", "कर"),
    5: (),
}
ENGLISH = {
    1: ("water", "supply", "cut", "ghodbunder"),
    2: ("water", "bill", "online", "payment", "water"),
    3: ("bus", "pass", "student"),
    4: ("property", "tax", "rebate", "tax"),
    5: (),
}


def textbook(docs: dict[int, tuple[str, ...]], query: list[str]) -> dict[int, float]:
    """BM25 (Lucene) computed from scratch for every document."""
    lengths = {v: max(len(t), 1) for v, t in docs.items()}
    average = sum(lengths.values()) / len(docs)
    scores: dict[int, float] = {}
    for vector_id, tokens in docs.items():
        counts = Counter(tokens)
        total = 0.0
        for term in query:
            df = sum(term in t for t in docs.values())
            if not counts[term]:
                continue
            idf = math.log(1 + (len(docs) - df + 0.5) / (df + 0.5))
            norm = K1 * (1 - B + B * lengths[vector_id] / average)
            total += idf * counts[term] / (norm + counts[term])
        if total > 0:
            scores[vector_id] = total
    return scores


def one_segment(docs: dict[int, tuple[str, ...]]) -> TermPostings:
    return TermPostings(list(docs), list(docs.values()))


@pytest.mark.parametrize("docs", [MARATHI, ENGLISH], ids=["marathi", "english"])
def test_scores_are_the_textbook_formula(docs: dict[int, tuple[str, ...]]) -> None:
    index = LexicalIndex([(one_segment(docs), frozenset())])
    for query in [[docs[1][0]], [docs[2][0], docs[2][0]], list(docs[4]), ["nowhere"]]:
        assert index.scores(query) == pytest.approx(textbook(docs, query))
    assert index.scores([]) == {}


@pytest.mark.parametrize("docs", [MARATHI, ENGLISH], ids=["marathi", "english"])
def test_segments_with_drops_score_as_one_index_of_the_live_chunks(
    docs: dict[int, tuple[str, ...]],
) -> None:
    """Chunks 1-3 in an old segment, where 2 was edited (its new version, with id 2 again,
    lives in a newer segment with 4 and 5); as if one index held the live ones."""
    edited = (*docs[2][:2], docs[3][0])
    old = TermPostings([1, 2, 3], [docs[1], docs[2], docs[3]])
    new = TermPostings([2, 4, 5], [edited, docs[4], docs[5]])
    segmented = LexicalIndex([(old, frozenset({2})), (new, frozenset())])
    live = {1: docs[1], 3: docs[3], 2: edited, 4: docs[4], 5: docs[5]}
    single = LexicalIndex([(one_segment(live), frozenset())])
    assert segmented.documents == single.documents == 5
    for query in [[docs[2][0]], [docs[3][0]], list(docs[2]), [docs[4][1], docs[1][0]]]:
        assert segmented.scores(query) == pytest.approx(single.scores(query))
        assert segmented.scores(query) == pytest.approx(textbook(live, query))
    assert segmented.document_frequency(docs[2][0]) == single.document_frequency(docs[2][0])


def test_every_chunk_dropped_scores_nothing() -> None:
    index = LexicalIndex([(one_segment(ENGLISH), frozenset(ENGLISH))])
    assert index.documents == 0 and index.scores(["water"]) == {}


def test_postings_need_one_token_list_per_id() -> None:
    with pytest.raises(ValueError, match="one token list per vector id"):
        TermPostings([1, 2], [("water",)])
