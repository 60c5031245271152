"""The on-disk search index: generations made of immutable segments.

A *generation* is what readers serve: a small folder naming the segments it is made of
(:mod:`samvad.segment`) and, for each, the article versions dropped from it since (edited or
deleted). Each build writes a new generation, then switches the ``current`` symlink to it with
one atomic rename, so a reader always sees either the old index or the new one, never a
half-written one. An edit writes one small segment and a new generation listing it beside the
old ones, so it takes time in proportion to the edit, not to the knowledge base; once there are
many segments, or many dropped versions, the indexer merges them (:meth:`IndexSnapshot.merged`,
no re-embedding). The previous generation is kept so a reader that opened it can finish.

Layout::

    index_dir/
      current -> gen-20261129T064512.046512-3f2a
      gen-20261129T064512.046512-3f2a/
        manifest.json   model identity, each file's content hash, the segments and what each
                        dropped, the size of every file in the folder
        catalog.json    the article versions' titles, dates and tags only (``catalog.py``)
      segments/
        seg-20261129T064500.713000-9c1e/   records, passage and sentence vectors, latent vectors

Readers follow the newest generation with :class:`LiveIndex`, which reloads when ``current``
points elsewhere, loading only segments it does not hold yet; :func:`current_generation` is the
one place that says which generation is current.

>>> import tempfile
>>> with tempfile.TemporaryDirectory() as empty:
...     IndexSnapshot.load(Path(empty)) is None, current_generation(Path(empty))
(True, None)
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import logging
import os
import secrets
import shutil
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

import numpy as np

from samvad.latent_terms import LatentVector
from samvad.lexical import LexicalIndex
from samvad.segment import (
    SEGMENTS_DIR,
    Segment,
    SegmentDamagedError,
    StoredArticle,
    StoredChunk,
    all_vectors,
    fsync_dir,
    records_of,
    time_ordered_name,
    write_json,
)

logger = logging.getLogger(__name__)

FORMAT_VERSION = 2
CURRENT_LINK = "current"
CATALOG_FILE = "catalog.json"
GENERATIONS_KEPT = 2
# Merge segments once a generation has more than this many.
MAX_SEGMENTS = 8
# Merge everything once this share of the stored chunks has been dropped.
MAX_DROPPED_SHARE = 0.3


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
class Part:
    """A segment as one generation uses it: without the article versions it dropped."""

    segment: Segment
    dropped: frozenset[str] = frozenset()

    @property
    def dropped_ids(self) -> frozenset[int]:
        """The vector ids of the dropped article versions' chunks."""
        articles = self.segment.articles
        return frozenset(v for key in self.dropped for v in articles[key].vector_ids)

    def copy_live_into(self, target: Segment) -> None:
        """Copy the article versions not dropped, with their chunks and all their vectors."""
        source = self.segment
        live = set(source.chunks) - self.dropped_ids
        ids, vectors = all_vectors(source.vectors)
        keep = np.isin(ids, np.fromiter(live, dtype=np.int64, count=len(live)))
        if keep.any():
            target.vectors.add_with_ids(vectors[keep], ids[keep])
        owners = source.sentence_owners
        sentence_ids, sentence_vectors = all_vectors(source.sentence_vectors)
        keep = np.array([owners.get(int(s)) in live for s in sentence_ids], dtype=bool)
        if keep.any():
            target.sentence_vectors.add_with_ids(sentence_vectors[keep], sentence_ids[keep])
        target.articles.update(
            (key, a) for key, a in source.articles.items() if key not in self.dropped
        )
        for vector_id in live:
            target.chunks[vector_id] = source.chunks[vector_id]
            if vector_id in source.latent:
                target.latent[vector_id] = source.latent[vector_id]


class VectorParts:
    """Vectors spread over segments, searched as one index of the live ones only."""

    def __init__(self, indexes: Sequence[Any], excluded: Sequence[frozenset[int]]) -> None:
        self._indexes = list(indexes)
        self._excluded = list(excluded)

    @property
    def ntotal(self) -> int:
        """How many live vectors there are."""
        stored = sum(int(i.ntotal) for i in self._indexes)
        return stored - sum(len(e) for e in self._excluded)

    def search(self, queries: np.ndarray, k: int) -> list[list[tuple[int, float]]]:
        """The ``k`` nearest live vectors per query row as (id, inner product), best first."""
        rows: list[list[tuple[int, float]]] = [[] for _ in range(len(queries))]
        for index, excluded in zip(self._indexes, self._excluded, strict=True):
            if index.ntotal == 0:
                continue
            scores, ids = index.search(queries, min(k + len(excluded), index.ntotal))
            for row, id_row, score_row in zip(rows, ids, scores, strict=True):
                row += [
                    (int(i), float(s))
                    for i, s in zip(id_row, score_row, strict=True)
                    if i != -1 and int(i) not in excluded
                ]
        return [sorted(row, key=lambda hit: hit[1], reverse=True)[:k] for row in rows]

    def reconstruct(self, vector_id: int, part: int) -> np.ndarray:
        """The stored vector of a live id held by segment number ``part``."""
        return np.asarray(self._indexes[part].reconstruct(vector_id))


class IndexSnapshot:
    """One generation of the index, loaded into memory and never changed by readers.

    ``articles``, ``chunks`` and ``latent`` hold the live article versions of every segment;
    ``vectors`` and ``sentence_vectors`` search the live vectors of all segments as one.
    """

    def __init__(
        self, manifest: dict[str, Any], parts: Sequence[Part], generation: str = ""
    ) -> None:
        self.manifest = manifest
        self.generation = generation
        self.parts = list(parts)
        self.articles: dict[str, StoredArticle] = {}
        self.chunks: dict[int, StoredChunk] = {}
        self.latent: dict[int, LatentVector] = {}
        self._part_of: dict[int, int] = {}
        dropped_ids = []
        for position, part in enumerate(self.parts):
            segment = part.segment
            for key, article in segment.articles.items():
                if key in part.dropped:
                    continue
                self.articles[key] = article
                for vector_id in article.vector_ids:
                    self.chunks[vector_id] = segment.chunks[vector_id]
                    self._part_of[vector_id] = position
                    if vector_id in segment.latent:
                        self.latent[vector_id] = segment.latent[vector_id]
            dropped_ids.append(part.dropped_ids)
        self._dropped = dropped_ids
        self.vectors = VectorParts([p.segment.vectors for p in self.parts], dropped_ids)
        self.sentence_vectors = VectorParts(
            [p.segment.sentence_vectors for p in self.parts],
            [
                frozenset(s for v in ids for s in p.segment.sentence_ids(v))
                for p, ids in zip(self.parts, dropped_ids, strict=True)
            ],
        )

    @classmethod
    def empty(cls) -> IndexSnapshot:
        """A snapshot with no segments (the start of a full build)."""
        return cls({}, [])

    def lexical(self) -> LexicalIndex:
        """BM25 over the live chunks (each segment's postings are built once and shared)."""
        return LexicalIndex(
            [(p.segment.postings, ids) for p, ids in zip(self.parts, self._dropped, strict=True)]
        )

    # --- building a new generation (the indexer) -------------------------------------------

    def without(self, keys: set[str]) -> IndexSnapshot:
        """This snapshot with the article versions ``keys`` dropped from their segments."""
        parts = [
            Part(p.segment, p.dropped | (keys & p.segment.articles.keys())) for p in self.parts
        ]
        return IndexSnapshot(self.manifest, parts)

    def with_segment(self, segment: Segment) -> IndexSnapshot:
        """This snapshot with one more segment (newest last)."""
        return IndexSnapshot(self.manifest, [*self.parts, Part(segment)])

    def needs_merge(self) -> bool:
        """Whether the indexer should merge segments: too many, or too much dropped."""
        stored = sum(len(p.segment.chunks) for p in self.parts)
        dropped = stored - len(self.chunks)
        return len(self.parts) > MAX_SEGMENTS or (
            stored > 0 and dropped / stored > MAX_DROPPED_SHARE
        )

    def merged(self, dimension: int) -> IndexSnapshot:
        """The same live content in as few segments as pays: the small newer segments merged
        into one, or everything into one when the oldest has many dropped versions or is not
        the largest. Vectors are copied, not embedded again."""
        first = self.parts[0] if self.parts else None
        keep_first = (
            first is not None
            and len(first.dropped_ids) <= MAX_DROPPED_SHARE * len(first.segment.chunks)
            and len(first.segment.chunks) >= sum(len(p.segment.chunks) for p in self.parts[1:])
        )
        kept = [first] if keep_first and first is not None else []
        merging = self.parts[len(kept) :]
        segment = Segment.new(dimension)
        for part in merging:
            part.copy_live_into(segment)
        return IndexSnapshot(self.manifest, [*kept, Part(segment)])

    # --- reading ---------------------------------------------------------------------------

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
        when a file is missing, truncated or unreadable. Segments this process already holds
        are shared, not read again."""
        reading = "manifest.json"
        try:
            manifest = json.loads((folder / reading).read_text(encoding="utf-8"))
            if manifest.get("format_version") != FORMAT_VERSION:
                return None
            for reading, size in manifest["sizes"].items():
                found = (folder / reading).stat().st_size
                if found != size:
                    raise ValueError(f"{size} bytes were written, {found} are there")
            segments_dir = folder.parent / SEGMENTS_DIR
            parts = []
            for listed in manifest["segments"]:
                reading = listed["name"]
                segment = Segment.load(segments_dir / listed["name"])
                parts.append(Part(segment, frozenset(listed["dropped"])))
        except SegmentDamagedError as exc:
            raise _damaged(folder, str(exc)) from exc
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise _damaged(folder, f"{reading}: {exc}") from exc
        return cls(manifest, parts, folder.name)

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

    def passage_vector(self, vector_id: int) -> np.ndarray:
        """The stored vector of a live chunk."""
        return self.vectors.reconstruct(vector_id, self._part_of[vector_id])

    def sentence_vectors_of(self, chunk: StoredChunk) -> np.ndarray:
        """The stored vectors of a chunk's sentences, one row per sentence."""
        part = self._part_of[chunk.vector_id]
        ids = self.parts[part].segment.sentence_ids(chunk.vector_id)
        return np.vstack([self.sentence_vectors.reconstruct(i, part) for i in ids])

    def search_sentences(self, query_vectors: np.ndarray, k: int) -> dict[int, float]:
        """The chunks owning the ``k`` nearest sentences of any query row, each with its best
        sentence's cosine (vector_id → score)."""
        best: dict[int, float] = {}
        owners = self.sentence_owners
        for row in self.sentence_vectors.search(query_vectors, k):
            for sentence_id, score in row:
                chunk = owners.get(sentence_id)
                if chunk is not None and chunk in self.chunks and score > best.get(chunk, -1.0):
                    best[chunk] = score
        return best

    @functools.cached_property
    def sentence_owners(self) -> dict[int, int]:
        """Each sentence vector's id → the vector id of the chunk it belongs to (built on
        first use from the segments' own maps, then kept with this generation)."""
        owners: dict[int, int] = {}
        for part in self.parts:
            owners.update(part.segment.sentence_owners)
        return owners

    def search(self, query_vectors: np.ndarray, k: int) -> list[list[tuple[int, float]]]:
        """Nearest chunks per query row as (vector_id, cosine score), best first."""
        return self.vectors.search(query_vectors, k)


def _damaged(folder: Path, reason: str) -> IndexDamagedError:
    return IndexDamagedError(
        f"index generation {folder.name} is damaged ({reason}); run 'samvad index' to rebuild it"
    )


def stored_records(index_dir: Path) -> tuple[list[dict[str, Any]], dict[int, dict[str, Any]]]:
    """The current generation's live articles and their chunks as stored (JSON only, no
    vectors: for readers that never load the model); empty when there is no index."""
    folder = current_folder(index_dir)
    if folder is None:
        return [], {}
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    articles: list[dict[str, Any]] = []
    chunks: dict[int, dict[str, Any]] = {}
    for listed in manifest.get("segments", []):
        records = records_of(folder.parent / SEGMENTS_DIR / listed["name"])
        dropped = set(listed["dropped"])
        live = [a for a in records["articles"] if a["key"] not in dropped]
        wanted = {v for a in live for v in a["vector_ids"]}
        articles += live
        chunks.update({c["vector_id"]: c for c in records["chunks"] if c["vector_id"] in wanted})
    return articles, chunks


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
    """Write ``snapshot`` as a new generation (its segments not on disk yet first) and switch
    ``current`` to it atomically. Returns the generation name. Call inside
    :func:`writer_lock`."""
    index_dir.mkdir(parents=True, exist_ok=True)
    segments_dir = index_dir / SEGMENTS_DIR
    for part in snapshot.parts:
        if not (segments_dir / part.segment.name).is_dir():
            part.segment.write(segments_dir)
    name = time_ordered_name("gen")
    staging = index_dir / f".{name}.partial"
    staging.mkdir()
    try:
        manifest = _write_generation(staging, snapshot, name)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)  # a full disk leaves no half generation
        raise
    staging.rename(index_dir / name)
    temp_link = index_dir / f".{CURRENT_LINK}.{secrets.token_hex(3)}"
    temp_link.symlink_to(name)
    os.replace(temp_link, index_dir / CURRENT_LINK)
    fsync_dir(index_dir)
    _prune(index_dir, keep=name)
    snapshot.manifest = manifest
    snapshot.generation = name
    return name


def _write_generation(staging: Path, snapshot: IndexSnapshot, name: str) -> dict[str, Any]:
    """Write a generation's files into ``staging``; the manifest last, with every other
    file's size (a truncated file is then told from a whole one)."""
    catalog = {"articles": [_catalog_record(a) for a in snapshot.articles.values()]}
    write_json(staging / CATALOG_FILE, catalog)
    sizes = {p.name: p.stat().st_size for p in staging.iterdir()}
    manifest = {
        **snapshot.manifest,
        "format_version": FORMAT_VERSION,
        "generation": name,
        "segments": [
            {"name": p.segment.name, "dropped": sorted(p.dropped)} for p in snapshot.parts
        ],
        "sizes": sizes,
    }
    write_json(staging / "manifest.json", manifest)
    fsync_dir(staging)
    return manifest


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


def _prune(index_dir: Path, keep: str) -> None:
    """Delete old generations, keeping the newest ``GENERATIONS_KEPT`` (including ``keep``),
    then the segments none of the kept ones lists, and any half-written leftovers."""
    generations = sorted(
        (p for p in index_dir.glob("gen-*") if p.is_dir()), key=lambda p: p.name, reverse=True
    )
    survivors = {keep, *(p.name for p in generations[:GENERATIONS_KEPT])}
    for folder in generations:
        if folder.name not in survivors:
            shutil.rmtree(folder, ignore_errors=True)
    for partial in index_dir.glob(".gen-*.partial"):
        shutil.rmtree(partial, ignore_errors=True)
    segments_dir = index_dir / SEGMENTS_DIR
    listed: set[str] = set()
    for name in survivors:
        try:
            manifest = json.loads((index_dir / name / "manifest.json").read_text("utf-8"))
            listed |= {s["name"] for s in manifest["segments"]}
        except (OSError, ValueError, KeyError, TypeError):
            return  # a kept generation that cannot be read: delete no segment it may list
    for folder in segments_dir.glob("*"):
        if folder.is_dir() and folder.name not in listed:
            shutil.rmtree(folder, ignore_errors=True)
