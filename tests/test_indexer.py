"""Index builds with the real model and real FAISS: incremental, removal, atomic, model change."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import pytest

from samvad.index_store import IndexSnapshot, write_snapshot
from samvad.indexer import build_index
from samvad.language import prepare_query
from samvad.model import Embedder
from samvad.retriever import Retriever
from samvad.settings import Settings
from tests.conftest import index_dev_corpus

pytestmark = pytest.mark.model

WATER_EN = "water-cut-ghodbunder.en.md"
WATER_MR = "water-cut-ghodbunder.mr.md"


def top_article(settings: Settings, embedder: Embedder, question: str) -> str:
    """The key of the best article for a question against the current index."""
    retriever = Retriever(IndexSnapshot.require(settings.index_dir))
    query = prepare_query(question)
    hits = retriever.search(embedder.embed_queries(list(query.phrasings)), query.terms, 1)
    return hits[0].article.key


@pytest.fixture
def indexed(dev_index_copy: Settings) -> Settings:
    """A private copy of the indexed fictional corpus and real articles that a test may change
    (the corpus is indexed once per test run; see tests/conftest.py)."""
    return dev_index_copy


def test_first_build_adds_every_file(tmp_path: Path, embedder: Embedder) -> None:
    """The session's one real build of the dev corpus: its report, and the index it wrote."""
    indexed, report = index_dev_corpus(tmp_path, embedder)
    assert report.skipped == [] and len(report.added) == 22
    assert report.updated == report.removed == report.unchanged == []
    snapshot = IndexSnapshot.require(indexed.index_dir)
    assert len(snapshot.articles) == 22
    assert snapshot.vectors.ntotal == len(snapshot.chunks) > 22
    assert snapshot.manifest["model"]["dimension"] == 384
    assert len(snapshot.manifest["files"]) == 22
    assert snapshot.latent.keys() == snapshot.chunks.keys()
    assert snapshot.manifest["latent_terms"]["features"] == 16384


@pytest.mark.parametrize(
    ("file", "old", "new", "question"),
    [
        (WATER_EN, "12 March 2026", "19 March 2026", "On which day is the Ghodbunder water cut?"),
        (WATER_MR, "12 मार्च 2026", "19 मार्च 2026", "घोडबंदरला पाणी कोणत्या दिवशी बंद आहे?"),
    ],
    ids=["english", "marathi"],
)
def test_editing_one_article_reembeds_only_that_file(
    indexed: Settings, embedder: Embedder, file: str, old: str, new: str, question: str
) -> None:
    path = indexed.knowledge_dir / file
    text = path.read_text("utf-8")
    assert old in text
    path.write_text(text.replace(old, new), "utf-8")
    report = build_index(indexed, embedder)
    assert report.updated == [file]
    assert report.added == report.removed == []
    assert len(report.unchanged) == 21
    assert "0 added, 1 updated, 0 removed, 21 unchanged" in report.summary()
    assert top_article(indexed, embedder, question).startswith("water-cut-ghodbunder/")
    snapshot = IndexSnapshot.require(indexed.index_dir)
    texts = " ".join(c.text for c in snapshot.chunks.values())
    assert new in texts and old not in texts
    assert snapshot.latent.keys() == snapshot.chunks.keys()


def test_unchanged_folder_embeds_nothing(indexed: Settings, embedder: Embedder) -> None:
    report = build_index(indexed, embedder)
    assert report.chunks_embedded == 0
    assert len(report.unchanged) == 22


def test_removed_article_leaves_the_index(indexed: Settings, embedder: Embedder) -> None:
    (indexed.knowledge_dir / WATER_EN).unlink()
    report = build_index(indexed, embedder)
    assert report.removed == [WATER_EN]
    snapshot = IndexSnapshot.require(indexed.index_dir)
    assert "water-cut-ghodbunder/en" not in snapshot.articles
    assert all(c.article_key != "water-cut-ghodbunder/en" for c in snapshot.chunks.values())
    assert snapshot.vectors.ntotal == len(snapshot.chunks) == len(snapshot.latent)


def test_index_without_concept_vectors_is_rebuilt(indexed: Settings, embedder: Embedder) -> None:
    """An index written before latent terms existed gets them on the next build."""
    old = IndexSnapshot.require(indexed.index_dir)
    del old.manifest["latent_terms"]
    write_snapshot(indexed.index_dir, old)
    assert "latent_terms" not in IndexSnapshot.require(indexed.index_dir).manifest
    report = build_index(indexed, embedder)
    assert report.rebuild_reason is not None and "latent-term head" in report.rebuild_reason
    assert len(report.added) == 22
    snapshot = IndexSnapshot.require(indexed.index_dir)
    assert snapshot.latent.keys() == snapshot.chunks.keys()


@pytest.mark.parametrize("file", [WATER_EN, WATER_MR])
def test_broken_edit_keeps_last_good_version(
    indexed: Settings, embedder: Embedder, file: str
) -> None:
    path = indexed.knowledge_dir / file
    path.write_text(path.read_text("utf-8").replace("date: ", "date: someday ", 1), "utf-8")
    report = build_index(indexed, embedder)
    assert [e.path for e in report.skipped] == [file]
    assert report.skipped[0].line == 5
    assert report.kept_previous == [file]
    assert "the last good version stays in service" in report.summary()
    snapshot = IndexSnapshot.require(indexed.index_dir)
    assert f"water-cut-ghodbunder/{file.split('.')[1]}" in snapshot.articles


def test_new_generation_is_switched_atomically(indexed: Settings, embedder: Embedder) -> None:
    failures: list[BaseException] = []
    stop = threading.Event()

    def read_continuously() -> None:
        while not stop.is_set():
            try:
                snapshot = IndexSnapshot.require(indexed.index_dir)
                assert snapshot.vectors.ntotal == len(snapshot.chunks)
            except BaseException as exc:  # any failure to read is what this test looks for
                failures.append(exc)

    reader = threading.Thread(target=read_continuously)
    reader.start()
    try:
        for n in range(3):
            path = indexed.knowledge_dir / WATER_EN
            path.write_text(path.read_text("utf-8") + f"\nUpdate number {n}.\n", "utf-8")
            build_index(indexed, embedder)
    finally:
        stop.set()
        reader.join()
    assert failures == []
    generations = sorted(p.name for p in indexed.index_dir.glob("gen-*"))
    assert len(generations) == 2
    assert not list(indexed.index_dir.glob(".gen-*"))


def test_reader_keeps_working_on_the_generation_it_opened(
    indexed: Settings, embedder: Embedder
) -> None:
    old = Retriever(IndexSnapshot.require(indexed.index_dir))
    (indexed.knowledge_dir / WATER_EN).unlink()
    build_index(indexed, embedder)
    query = prepare_query("Ghodbunder water cut")
    hits = old.search(embedder.embed_queries(list(query.phrasings)), query.terms, 3)
    assert hits and hits[0].article.id == "water-cut-ghodbunder"


@pytest.fixture
def smaller_model(embedder: Embedder, tmp_path: Path) -> Embedder:
    """A genuinely different model: the same e5 weights cut to its first 6 layers."""
    source = Path(embedder.identity.get("path", ""))
    folder = tmp_path / "e5-6-layers"
    shutil.copytree(source, folder)
    config = json.loads((folder / "config.json").read_text())
    config["num_hidden_layers"] = 6
    (folder / "config.json").write_text(json.dumps(config))
    return Embedder(folder, name="e5-small-first-6-layers")


def test_model_change_forces_full_rebuild(
    indexed: Settings, embedder: Embedder, smaller_model: Embedder
) -> None:
    report = build_index(indexed, smaller_model)
    assert report.rebuild_reason is not None
    assert "the model changed" in report.rebuild_reason
    assert len(report.added) == 22 and report.unchanged == []
    assert report.summary().startswith("Full rebuild: the model changed")
    manifest = IndexSnapshot.require(indexed.index_dir).manifest
    assert manifest["model"]["model"] == "e5-small-first-6-layers"
