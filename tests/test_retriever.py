"""The retriever's search modes over the real dev index and model: what each mode ranks by and
which cosine each hit carries."""

from __future__ import annotations

import numpy as np
import pytest

from samvad.index_store import IndexSnapshot
from samvad.language import prepare_query
from samvad.language_gap import gap_for
from samvad.model import Embedder
from samvad.retriever import RRF_K, SEARCH_MODES, Retriever, SearchMode, search_mode
from tests.conftest import index_dev_corpus

QUESTIONS = [
    ("ठाणे महानगरपालिकेने जपानसोबत कोणता करार केला?", "tmc-japan-mlit-smart-city-agreement"),
    (
        "What did Thane Municipal Corporation agree with Japan?",
        "tmc-japan-mlit-smart-city-agreement",
    ),
]


@pytest.fixture(scope="module")
def retriever(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Retriever:
    settings, _ = index_dev_corpus(tmp_path_factory.mktemp("retriever"), embedder)
    return Retriever(IndexSnapshot.require(settings.index_dir))


def _search(
    retriever: Retriever, embedder: Embedder, question: str, mode: SearchMode
) -> tuple[np.ndarray, list[str]]:
    query = prepare_query(question)
    vectors = embedder.embed_queries(list(query.phrasings))
    hits = retriever.search(vectors, query.terms, top_k=5, mode=mode)
    return vectors, [h.article.id for h in hits]


@pytest.mark.parametrize(("question", "article"), QUESTIONS)
@pytest.mark.parametrize("mode", SEARCH_MODES)
def test_every_mode_finds_the_article_asked_about(
    retriever: Retriever, embedder: Embedder, question: str, article: str, mode: SearchMode
) -> None:
    _, found = _search(retriever, embedder, question, mode)
    assert found[0] == article


@pytest.mark.parametrize(("question", "_article"), QUESTIONS)
def test_sentence_ranking_keeps_each_hits_passage_cosine(
    retriever: Retriever, embedder: Embedder, question: str, _article: str
) -> None:
    """The confidence threshold looks at passages: in ``sentences`` mode every hit, also one
    found only through a sentence, carries its passage's cosine (best phrasing)."""
    query = prepare_query(question)
    vectors = embedder.embed_queries(list(query.phrasings))
    hits = retriever.search(vectors, query.terms, top_k=10, mode="sentences")
    snapshot = retriever.snapshot
    for hit in hits:
        passage = snapshot.passage_vector(hit.chunk.vector_id)
        expected = max(float(np.dot(passage, row)) for row in vectors)
        assert hit.dense_score == pytest.approx(expected, abs=1e-4)


def test_nearest_sentences_are_scored_by_their_own_vectors(
    retriever: Retriever, embedder: Embedder
) -> None:
    """Each chunk ``search_sentences`` returns scores as its best sentence does."""
    vector = embedder.embed_queries(["Who attended the signing ceremony?"])
    found = retriever.snapshot.search_sentences(vector, 20)
    assert found
    for vector_id, score in found.items():
        chunk = retriever.snapshot.chunks[vector_id]
        own = retriever.snapshot.sentence_vectors_of(chunk) @ vector[0]
        assert score == pytest.approx(float(own.max()), abs=1e-4)


@pytest.mark.parametrize(
    ("question", "lang"),
    [
        ("डेंग्यू तपासणी मोहीम कधी आहे?", "mr"),
        ("When is the dengue checking drive?", "en"),
    ],
)
def test_the_language_gap_raises_only_articles_with_no_version_in_the_askers_language(
    retriever: Retriever, embedder: Embedder, question: str, lang: str
) -> None:
    """A chunk in the other language gets the gap only when its article has no version in the
    question's language; a chunk in the question's language, or of an article that has one,
    keeps its plain cosine."""
    gap = gap_for(embedder.identity)
    assert gap is not None
    vectors = embedder.embed_queries([question])
    plain = retriever.dense_scores(vectors)
    raised = retriever.dense_scores(vectors, gap=gap, query_langs=[lang])
    assert plain.keys() == raised.keys()
    kinds = set()
    for vector_id, cosine in plain.items():
        article = retriever.snapshot.articles[retriever.snapshot.chunks[vector_id].article_key]
        without_own = lang not in retriever.versions[article.id]
        expected = cosine + (gap.of(lang, article.lang) if without_own else 0.0)
        assert raised[vector_id] == pytest.approx(expected, abs=1e-4)
        kinds.add((article.lang == lang, without_own))
    # Among the candidates: own-language chunks, the other version of a bilingual article,
    # and an article with no version in the asker's language.
    assert kinds == {(True, False), (False, False), (False, True)}


def _chunk_in(retriever: Retriever, lang: str) -> int:
    snapshot = retriever.snapshot
    return next(
        vid
        for vid, chunk in snapshot.chunks.items()
        if snapshot.articles[chunk.article_key].lang == lang
    )


@pytest.mark.parametrize(("asked", "other"), [("mr", "en"), ("en", "mr")])
def test_a_translated_rank_stands_in_for_another_language_chunk_when_better(
    retriever: Retriever, asked: str, other: str
) -> None:
    """A chunk BM25 cannot judge (another language than the question's words) takes the
    better of its dense rank and its rank by the translated terms; a chunk BM25 judged keeps
    its own rank, whatever the translated terms say."""
    own, foreign = _chunk_in(retriever, asked), _chunk_in(retriever, other)
    dense = {own: 0.9, foreign: 0.8}
    lexical = {own: 5.0}
    langs = frozenset({asked})

    def score(translated: dict[int, float]) -> dict[int, float]:
        hits = retriever.rank(dense, lexical, "hybrid", 2, langs, translated=translated)
        return {hit.chunk.vector_id: hit.score for hit in hits}

    k = RRF_K
    assert score({}) == pytest.approx({own: 2 / (k + 1), foreign: 2 / (k + 2)})
    assert score({foreign: 3.0})[foreign] == pytest.approx(1 / (k + 2) + 1 / (k + 1))
    assert score({foreign: 1.0, own: 3.0}) == pytest.approx(
        {own: 2 / (k + 1), foreign: 2 / (k + 2)}
    )


@pytest.mark.parametrize("name", ["Sentences", "bm-25", ""])
def test_an_unknown_search_mode_name_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match="unknown search mode"):
        search_mode(name)
