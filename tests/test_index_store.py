"""Generations of immutable segments, with random vectors (no model): save/load, edits that
write only what changed, merging, pruning, and search that never sees a dropped version."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from samvad.chunking import vector_id_for
from samvad.index_store import IndexSnapshot, current_folder, stored_records, write_snapshot
from samvad.latent_terms import LatentVector
from samvad.segment import SEGMENTS_DIR, Segment, StoredArticle, StoredChunk

DIMENSION = 8
RNG = np.random.default_rng(11)
TITLES = {"mr": "पाणीपुरवठा बंद", "en": "Water supply cut"}


def unit(rows: int) -> np.ndarray:
    vectors = RNG.normal(size=(rows, DIMENSION)).astype(np.float32)
    normalised: np.ndarray = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    return normalised


def put(segment: Segment, article_id: str, lang: str, version: str = "1") -> StoredArticle:
    """One article version with two chunks of two sentences each into ``segment``."""
    key = f"{article_id}/{lang}"
    chunks = [
        StoredChunk(
            vector_id=vector_id_for(f"{key}#{n}"),
            chunk_id=f"{key}#{n}",
            article_key=key,
            ordinal=n,
            heading="",
            sentences=(f"{TITLES[lang]} {version}.", f"{article_id} {n}."),
            tokens=(article_id, lang, version),
        )
        for n in range(2)
    ]
    article = StoredArticle(
        key, article_id, lang, TITLES[lang], "2026-12-01", f"{article_id}.{lang}.md",
        f"hash-{version}", None, (), tuple(c.vector_id for c in chunks),
    )  # fmt: skip
    latent = [LatentVector(np.array([n], np.int32), np.array([1.0], np.float32)) for n in (1, 2)]
    segment.add(article, chunks, unit(2), unit(4), latent)
    return article


def base_snapshot(articles: int = 6) -> IndexSnapshot:
    segment = Segment.new(DIMENSION)
    for n in range(articles):
        put(segment, f"notice-{n}", "mr" if n % 2 else "en")
    return IndexSnapshot.empty().with_segment(segment)


def edit(snapshot: IndexSnapshot, article_id: str, lang: str, version: str) -> IndexSnapshot:
    segment = Segment.new(DIMENSION)
    put(segment, article_id, lang, version)
    return snapshot.without({f"{article_id}/{lang}"}).with_segment(segment)


def test_a_written_generation_reads_back_the_same(tmp_path: Path) -> None:
    snapshot = base_snapshot()
    write_snapshot(tmp_path, snapshot)
    loaded = IndexSnapshot.require(tmp_path)
    assert loaded.articles == snapshot.articles and loaded.chunks == snapshot.chunks
    assert loaded.latent.keys() == snapshot.latent.keys()
    assert loaded.vectors.ntotal == 12 and loaded.sentence_vectors.ntotal == 24
    for vector_id, chunk in snapshot.chunks.items():
        assert np.array_equal(loaded.passage_vector(vector_id), snapshot.passage_vector(vector_id))
        assert np.array_equal(
            loaded.sentence_vectors_of(chunk), snapshot.sentence_vectors_of(chunk)
        )
    assert loaded.manifest["segments"] == [{"name": snapshot.parts[0].segment.name, "dropped": []}]


def test_an_edit_writes_one_small_segment_and_leaves_the_rest(tmp_path: Path) -> None:
    write_snapshot(tmp_path, base_snapshot())
    first = IndexSnapshot.require(tmp_path)
    base_files = {p: p.stat().st_ino for p in (tmp_path / SEGMENTS_DIR).rglob("*")}
    edited = edit(first, "notice-1", "mr", "2")
    write_snapshot(tmp_path, edited)
    loaded = IndexSnapshot.require(tmp_path)
    assert {p: p.stat().st_ino for p in base_files} == base_files  # not rewritten
    assert len(list((tmp_path / SEGMENTS_DIR).iterdir())) == 2
    assert loaded.parts[0].segment is first.parts[0].segment  # shared in this process
    assert loaded.articles["notice-1/mr"].content_hash == "hash-2"
    assert len(loaded.articles) == 6 and len(loaded.chunks) == 12
    texts = [s for c in loaded.chunks.values() for s in c.sentences]
    assert f"{TITLES['mr']} 2." in texts and f"{TITLES['mr']} 1." in texts  # others still v1
    assert sum(t == f"{TITLES['mr']} 2." for t in texts) == 2


@pytest.mark.parametrize("lang", ["mr", "en"])
def test_search_never_returns_a_dropped_version(lang: str) -> None:
    snapshot = base_snapshot()
    article_id = "notice-1" if lang == "mr" else "notice-0"
    old = snapshot.articles[f"{article_id}/{lang}"]
    old_vectors = np.vstack([snapshot.passage_vector(v) for v in old.vector_ids])
    old_sentences = snapshot.sentence_vectors_of(snapshot.chunks[old.vector_ids[0]])
    edited = edit(snapshot, article_id, lang, "2")
    for row in edited.search(old_vectors, 12):  # all twelve live chunks, old vectors asked
        found = dict(row)
        assert len(found) == 12
        for vector_id in old.vector_ids:  # same ids, new vectors: the new version's score
            assert found[vector_id] == pytest.approx(
                float(edited.passage_vector(vector_id) @ old_vectors[0]), abs=1e-5
            ) or found[vector_id] == pytest.approx(
                float(edited.passage_vector(vector_id) @ old_vectors[1]), abs=1e-5
            )
    nearest = edited.search_sentences(old_sentences, 24)
    for vector_id, score in nearest.items():
        own = edited.sentence_vectors_of(edited.chunks[vector_id]) @ old_sentences.T
        assert score == pytest.approx(float(own.max()), abs=1e-5)


def test_deleting_an_article_drops_it_from_every_view() -> None:
    snapshot = base_snapshot().without({"notice-2/en"})
    assert "notice-2/en" not in snapshot.articles
    assert len(snapshot.chunks) == len(snapshot.latent) == snapshot.vectors.ntotal == 10
    assert snapshot.sentence_vectors.ntotal == 20
    assert "notice-2" not in {term for terms in _terms(snapshot) for term in terms}
    assert snapshot.lexical().scores(["notice-2"]) == {}
    assert snapshot.lexical().scores(["notice-3"])


def _terms(snapshot: IndexSnapshot) -> list[tuple[str, ...]]:
    return [c.tokens for c in snapshot.chunks.values()]


def test_many_edits_are_merged_without_embedding_again(tmp_path: Path) -> None:
    snapshot = base_snapshot(articles=40)
    for n in range(9):
        snapshot = edit(snapshot, f"notice-{n * 2}", "en", "2")
    assert len(snapshot.parts) == 10 and snapshot.needs_merge()
    merged = snapshot.merged(DIMENSION)
    assert len(merged.parts) == 2  # the large first segment kept, the nine small ones merged
    assert merged.parts[0].segment is snapshot.parts[0].segment
    assert merged.articles == snapshot.articles and merged.chunks == snapshot.chunks
    assert merged.latent.keys() == snapshot.latent.keys()
    queries = unit(3)
    for ours, theirs in zip(merged.search(queries, 10), snapshot.search(queries, 10), strict=True):
        assert [v for v, _ in ours] == [v for v, _ in theirs]
        assert [s for _, s in ours] == pytest.approx([s for _, s in theirs])
    assert merged.lexical().scores(["2", "en"]) == pytest.approx(
        snapshot.lexical().scores(["2", "en"])
    )
    everything = edit(base_snapshot(articles=4), "notice-0", "en", "2")
    everything = everything.without({"notice-1/mr", "notice-2/en"})
    assert everything.needs_merge()  # half the stored passages are dropped versions
    (single,) = everything.merged(DIMENSION).parts
    assert single.dropped == frozenset() and len(single.segment.chunks) == 4


def test_segments_no_kept_generation_lists_are_deleted(tmp_path: Path) -> None:
    snapshot = base_snapshot()
    write_snapshot(tmp_path, snapshot)
    for version in "234":
        snapshot = edit(snapshot, "notice-1", "mr", version)
        write_snapshot(tmp_path, snapshot)
    snapshot = snapshot.merged(DIMENSION)
    write_snapshot(tmp_path, snapshot)
    kept = sorted(p.name for p in tmp_path.glob("gen-*"))
    listed = set()
    for name in kept:
        manifest = json.loads((tmp_path / name / "manifest.json").read_text("utf-8"))
        listed |= {s["name"] for s in manifest["segments"]}
    assert len(kept) == 2
    assert {p.name for p in (tmp_path / SEGMENTS_DIR).iterdir()} == listed


def test_records_are_read_without_vectors(tmp_path: Path) -> None:
    write_snapshot(tmp_path, edit(base_snapshot(), "notice-1", "mr", "2"))
    articles, chunks = stored_records(tmp_path)
    by_key = {a["key"]: a for a in articles}
    assert len(by_key) == len(articles) == 6
    assert by_key["notice-1/mr"]["content_hash"] == "hash-2"
    assert set(chunks) == {v for a in articles for v in a["vector_ids"]}
    assert stored_records(tmp_path / "none") == ([], {})
    assert current_folder(tmp_path) is not None
