"""The on-disk search index: FAISS vectors, chunk and article records, and a manifest.

Each build writes a complete new *generation* folder, then switches the ``current`` symlink to it
with one atomic rename, so a reader always sees either the old index or the new one, never a
half-written one. The previous generation is kept so a reader that opened it can finish.

Layout::

    index_dir/
      current -> gen-20261129T064512-3f2a
      gen-20261129T064512-3f2a/
        manifest.json   model identity and dimension, each file's content hash
        vectors.faiss   IndexIDMap2(IndexFlatIP): normalised chunk vectors, inner product
        sentences.faiss the same for each sentence of each chunk (to pick answer sentences)
        latent.npz      each chunk's latent-term vector (sparse; see latent_terms.py), if any
        records.json    articles and their chunks (text, heading, sentence list, tokens)
        catalog.json    the article versions' titles, dates and tags only (``catalog.py``)

Readers follow the newest generation with :class:`LiveIndex`, which reloads when ``current``
points elsewhere; :func:`current_generation` is the one place that says which generation is
current.

>>> import tempfile
>>> with tempfile.TemporaryDirectory() as empty:
...     IndexSnapshot.load(Path(empty)) is None, current_generation(Path(empty))
(True, None)
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import functools
import json
import logging
import os
import secrets
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import faiss
import numpy as np

from samvad.chunking import vector_id_for
from samvad.latent_terms import LatentVector

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
CURRENT_LINK = "current"
LATENT_FILE = "latent.npz"
CATALOG_FILE = "catalog.json"
GENERATIONS_KEPT = 2


def current_folder(index_dir: Path) -> Path | None:
    """The folder of the current generation, or ``None`` when no index has been written."""
    link = index_dir / CURRENT_LINK
    try:
        target = os.readlink(link)
    except OSError:
        return None
    folder = index_dir / target
    return folder if folder.is_dir() else None


def current_generation(index_dir: Path) -> str | None:
    """The name of the current generation (it changes with every build), or ``None``."""
    folder = current_folder(index_dir)
    return folder.name if folder is not None else None


class IndexUnavailableError(RuntimeError):
    """No usable index exists at the given folder."""


class IndexDamagedError(IndexUnavailableError):
    """An index generation's files are truncated or corrupted (a crash or a full disk)."""


@dataclass(frozen=True)
class StoredChunk:
    """A chunk as kept in the index: enough to show it and to search it lexically."""

    vector_id: int
    chunk_id: str
    article_key: str
    ordinal: int
    heading: str
    sentences: tuple[str, ...]
    tokens: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        """The passage as shown to a citizen."""
        return " ".join(self.sentences)


@dataclass(frozen=True)
class StoredArticle:
    """An indexed article version and the vector ids of its chunks, in order."""

    key: str
    id: str
    lang: str
    title: str
    date: str
    path: str
    content_hash: str
    source: str | None = None
    tags: tuple[str, ...] = ()
    vector_ids: tuple[int, ...] = field(default_factory=tuple)


def sentence_vector_id(chunk_id: str, position: int) -> int:
    """The FAISS id of sentence ``position`` of a chunk."""
    return vector_id_for(f"{chunk_id}.{position}")


def new_vector_index(dimension: int) -> Any:
    """An empty id-mapped inner-product FAISS index for normalised vectors."""
    return faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))


class IndexSnapshot:
    """One generation of the index, loaded into memory and never changed by readers."""

    def __init__(
        self,
        manifest: dict[str, Any],
        vectors: Any,
        articles: dict[str, StoredArticle],
        chunks: dict[int, StoredChunk],
        sentence_vectors: Any,
        generation: str = "",
        latent: dict[int, LatentVector] | None = None,
    ) -> None:
        self.manifest = manifest
        self.vectors = vectors
        self.sentence_vectors = sentence_vectors
        self.articles = articles
        self.chunks = chunks
        self.generation = generation
        self.latent: dict[int, LatentVector] = latent if latent is not None else {}

    @classmethod
    def load(cls, index_dir: Path) -> IndexSnapshot | None:
        """Load the current generation, or return ``None`` if none has been written yet (or it
        is of an older format). Raises :class:`IndexDamagedError` naming the damaged file when
        the generation cannot be read."""
        folder = current_folder(index_dir)
        if folder is None:
            return None
        return cls.load_generation(folder)

    @classmethod
    def load_last_good(cls, index_dir: Path) -> tuple[IndexSnapshot | None, list[str]]:
        """The current generation, or — when it is damaged — the newest older one that reads;
        with the reasons of every damaged generation passed over (for the log)."""
        damaged: list[str] = []
        current = current_folder(index_dir)
        others = sorted(
            (p for p in index_dir.glob("gen-*") if p.is_dir() and p != current), reverse=True
        )
        for folder in [current, *others] if current is not None else []:
            try:
                snapshot = cls.load_generation(folder)
            except IndexDamagedError as exc:
                damaged.append(str(exc))
                continue
            if snapshot is not None:
                return snapshot, damaged
        return None, damaged

    @classmethod
    def load_generation(cls, folder: Path) -> IndexSnapshot | None:
        """Load one generation folder (``None``: an older format); :class:`IndexDamagedError`
        when a file is missing, truncated or unreadable."""
        reading = ["manifest.json"]
        try:
            manifest = json.loads((folder / reading[-1]).read_text(encoding="utf-8"))
            if manifest.get("format_version") != FORMAT_VERSION:
                return None
            for name, size in manifest.get("sizes", {}).items():
                reading.append(name)
                found = (folder / name).stat().st_size
                if found != size:
                    raise ValueError(f"{size} bytes were written, {found} are there")
            return cls._read(folder, manifest, reading)
        except (OSError, ValueError, KeyError, TypeError, RuntimeError, EOFError) as exc:
            raise IndexDamagedError(
                f"index generation {folder.name} is damaged ({reading[-1]}: {exc}); "
                "run 'samvad index' to rebuild it"
            ) from exc

    @classmethod
    def _read(cls, folder: Path, manifest: dict[str, Any], reading: list[str]) -> IndexSnapshot:
        """The generation's records and vectors; ``reading`` names the file being read."""
        reading.append("records.json")
        records = json.loads((folder / "records.json").read_text(encoding="utf-8"))
        articles = {
            a["key"]: StoredArticle(
                **{**a, "tags": tuple(a["tags"]), "vector_ids": tuple(a["vector_ids"])}
            )
            for a in records["articles"]
        }
        chunks = {
            c["vector_id"]: StoredChunk(
                **{**c, "sentences": tuple(c["sentences"]), "tokens": tuple(c["tokens"])}
            )
            for c in records["chunks"]
        }
        reading.append("vectors.faiss")
        vectors = faiss.read_index(str(folder / "vectors.faiss"))
        reading.append("sentences.faiss")
        sentence_vectors = faiss.read_index(str(folder / "sentences.faiss"))
        reading.append(LATENT_FILE)
        latent = _read_latent(folder / LATENT_FILE)
        return cls(manifest, vectors, articles, chunks, sentence_vectors, folder.name, latent)

    @classmethod
    def require(cls, index_dir: Path) -> IndexSnapshot:
        """The newest generation that reads (:meth:`load_last_good`, damaged ones logged);
        :class:`IndexUnavailableError` with advice when there is none."""
        snapshot, damaged = cls.load_last_good(index_dir)
        for reason in damaged:
            logger.error("%s", reason)
        if snapshot is None:
            if damaged:
                raise IndexDamagedError(damaged[0])
            raise IndexUnavailableError(f"no index in {index_dir}; run 'samvad index' first")
        return snapshot

    def sentence_vectors_of(self, chunk: StoredChunk) -> np.ndarray:
        """The stored vectors of a chunk's sentences, one row per sentence."""
        return np.vstack(
            [
                self.sentence_vectors.reconstruct(sentence_vector_id(chunk.chunk_id, i))
                for i in range(len(chunk.sentences))
            ]
        )

    @functools.cached_property
    def sentence_owners(self) -> dict[int, int]:
        """Each sentence vector's id → the vector id of the chunk it belongs to."""
        return {
            sentence_vector_id(chunk.chunk_id, i): vector_id
            for vector_id, chunk in self.chunks.items()
            for i in range(len(chunk.sentences))
        }

    def search_sentences(self, query_vectors: np.ndarray, k: int) -> dict[int, float]:
        """The chunks owning the ``k`` nearest sentences of any query row, each with its best
        sentence's cosine (vector_id → score)."""
        best: dict[int, float] = {}
        if self.sentence_vectors.ntotal == 0:
            return best
        scores, ids = self.sentence_vectors.search(
            query_vectors, min(k, self.sentence_vectors.ntotal)
        )
        owners = self.sentence_owners
        for sentence_id, score in zip(ids.ravel(), scores.ravel(), strict=True):
            chunk = owners.get(int(sentence_id))
            if chunk is not None and score > best.get(chunk, -1.0):
                best[chunk] = float(score)
        return best

    def search(self, query_vectors: np.ndarray, k: int) -> list[list[tuple[int, float]]]:
        """Nearest chunks per query row as (vector_id, cosine score), best first."""
        if self.vectors.ntotal == 0:
            return [[] for _ in range(len(query_vectors))]
        scores, ids = self.vectors.search(query_vectors, min(k, self.vectors.ntotal))
        return [
            [(int(i), float(s)) for i, s in zip(id_row, score_row, strict=True) if i != -1]
            for id_row, score_row in zip(ids, scores, strict=True)
        ]


@contextlib.contextmanager
def writer_lock(index_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock so two index builds never interleave (e.g. watcher and CLI)."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with (index_dir / ".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def write_snapshot(index_dir: Path, snapshot: IndexSnapshot) -> str:
    """Write ``snapshot`` as a new generation and switch ``current`` to it atomically.

    Returns the generation name. Call inside :func:`writer_lock`.
    """
    index_dir.mkdir(parents=True, exist_ok=True)
    name = time.strftime("gen-%Y%m%dT%H%M%S-") + secrets.token_hex(3)
    staging = index_dir / f".{name}.partial"
    staging.mkdir()
    try:
        manifest = _write_files(staging, snapshot, name)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)  # a full disk leaves no half generation
        raise
    staging.rename(index_dir / name)
    temp_link = index_dir / f".{CURRENT_LINK}.{secrets.token_hex(3)}"
    temp_link.symlink_to(name)
    os.replace(temp_link, index_dir / CURRENT_LINK)
    _fsync_dir(index_dir)
    _prune_generations(index_dir, keep=name)
    snapshot.manifest = manifest
    snapshot.generation = name
    return name


def _write_files(staging: Path, snapshot: IndexSnapshot, name: str) -> dict[str, Any]:
    """Write a generation's files into ``staging``; the manifest last, with every file's size
    (a truncated file is then told from a whole one)."""
    records = {
        "articles": [asdict(a) for a in snapshot.articles.values()],
        "chunks": [asdict(c) for c in snapshot.chunks.values()],
    }
    _write_faiss(snapshot.vectors, staging / "vectors.faiss")
    _write_faiss(snapshot.sentence_vectors, staging / "sentences.faiss")
    _write_latent(staging / LATENT_FILE, snapshot.latent)
    _write_json(staging / "records.json", records)
    catalog = {"articles": [_catalog_record(a) for a in snapshot.articles.values()]}
    _write_json(staging / CATALOG_FILE, catalog)
    for faiss_file in ("vectors.faiss", "sentences.faiss"):
        with (staging / faiss_file).open("rb+") as handle:
            os.fsync(handle.fileno())
    sizes = {p.name: p.stat().st_size for p in staging.iterdir()}
    manifest = {
        **snapshot.manifest,
        "format_version": FORMAT_VERSION,
        "generation": name,
        "sizes": sizes,
    }
    _write_json(staging / "manifest.json", manifest)
    _fsync_dir(staging)
    return manifest


def _write_faiss(index: Any, path: Path) -> None:
    """``faiss.write_index``, its failures (a full disk) raised as ``OSError``."""
    try:
        faiss.write_index(index, str(path))
    except RuntimeError as exc:
        full = "No space left on device" in str(exc)
        raise OSError(errno.ENOSPC if full else errno.EIO, f"could not write {path.name}") from exc


def _catalog_record(article: StoredArticle) -> dict[str, Any]:
    return {
        "id": article.id,
        "lang": article.lang,
        "title": article.title,
        "date": article.date,
        "source": article.source,
        "tags": list(article.tags),
    }


T = TypeVar("T")


class LiveIndex(Generic[T]):
    """Something built from the current generation (a retriever), rebuilt when it changes.

    :meth:`current` checks the ``current`` link on each call (one ``readlink``) and builds
    anew from the newest snapshot when a new generation was written; until then, and when
    the new one cannot be read, the last good one keeps serving.
    """

    def __init__(self, index_dir: Path, build: Callable[[IndexSnapshot], T]) -> None:
        self.index_dir = index_dir
        self._build = build
        self._lock = threading.Lock()
        snapshot = IndexSnapshot.require(index_dir)
        self._generation = snapshot.generation
        self._tried = current_generation(index_dir)
        self._value = build(snapshot)

    @property
    def generation(self) -> str:
        """The generation being served."""
        return self._generation

    def current(self) -> T:
        """The value for the newest readable generation (a damaged new one is logged once and
        the last good one keeps serving)."""
        newest = current_generation(self.index_dir)
        if newest is not None and newest != self._tried:
            with self._lock:
                if newest != self._tried:
                    self._tried = newest
                    try:
                        snapshot = IndexSnapshot.load(self.index_dir)
                    except IndexDamagedError as exc:
                        logger.error("%s; still serving %s", exc, self._generation)
                        snapshot = None
                    if snapshot is not None:
                        self._value = self._build(snapshot)
                        self._generation = snapshot.generation
        return self._value


def _write_latent(path: Path, latent: dict[int, LatentVector]) -> None:
    """Store sparse vectors as CSR-like arrays: ids, row offsets, feature ids, weights."""
    ids = np.array(sorted(latent), dtype=np.int64)
    rows = [latent[int(i)] for i in ids]
    offsets = np.cumsum([0] + [len(r.indices) for r in rows], dtype=np.int64)
    empty_i, empty_v = np.zeros(0, np.int32), np.zeros(0, np.float32)
    with path.open("wb") as handle:
        np.savez(
            handle,
            ids=ids,
            offsets=offsets,
            indices=np.concatenate([r.indices for r in rows]) if rows else empty_i,
            values=np.concatenate([r.values for r in rows]) if rows else empty_v,
        )
        handle.flush()
        os.fsync(handle.fileno())


def _read_latent(path: Path) -> dict[int, LatentVector]:
    """The stored sparse vectors by chunk id (empty for an index written without them)."""
    if not path.is_file():
        return {}
    with np.load(path) as data:
        ids, offsets = data["ids"], data["offsets"]
        indices, values = data["indices"], data["values"]
    return {
        int(vector_id): LatentVector(indices[start:end], values[start:end])
        for vector_id, start, end in zip(ids, offsets[:-1], offsets[1:], strict=True)
    }


def _write_json(path: Path, data: Any) -> None:
    with path.open("w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False, default=str)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _prune_generations(index_dir: Path, keep: str) -> None:
    """Delete old generations, keeping the newest ``GENERATIONS_KEPT`` (including ``keep``)."""
    generations = sorted(
        (p for p in index_dir.glob("gen-*") if p.is_dir()), key=lambda p: p.name, reverse=True
    )
    survivors = {keep, *(p.name for p in generations[:GENERATIONS_KEPT])}
    for folder in generations:
        if folder.name not in survivors:
            shutil.rmtree(folder, ignore_errors=True)
    for partial in index_dir.glob(".gen-*.partial"):
        shutil.rmtree(partial, ignore_errors=True)
