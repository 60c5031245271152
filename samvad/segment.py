"""One immutable part of the index: some article versions with their chunks and vectors.

A generation (:mod:`samvad.index_store`) lists the segments it is made of. A full build
writes one segment; an edit writes one small new segment with the changed articles, and the
generation marks their old versions as dropped from the segments that hold them. A segment is
never rewritten once on disk, so every generation that lists it shares its files, and a
process that has one loaded (:meth:`Segment.load`) loads it once however many generations
follow.

Files, in ``index_dir/segments/<name>/``::

    records.json    articles and their chunks (text, heading, sentence list, tokens)
    vectors.faiss   IndexIDMap2(IndexFlatIP): normalised chunk vectors, inner product
    sentences.faiss the same for each sentence of each chunk (to pick answer sentences)
    latent.npz      each chunk's latent-term vector (sparse; see latent_terms.py), if any
    segment.json    the format version and every other file's size, written last

>>> import numpy as np
>>> part = Segment.new(4)
>>> part.articles, part.vectors.ntotal, part.name.startswith("seg-")
({}, 0, True)
>>> ids, vectors = all_vectors(part.vectors)
>>> ids.shape, vectors.shape
((0,), (0, 4))
"""

from __future__ import annotations

import datetime as dt
import errno
import functools
import json
import os
import secrets
import shutil
import threading
import weakref
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from samvad.chunking import vector_id_for
from samvad.latent_terms import LatentVector
from samvad.lexical import TermPostings

SEGMENT_FORMAT = 2
SEGMENTS_DIR = "segments"
SEGMENT_FILE = "segment.json"
LATENT_FILE = "latent.npz"


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


class SegmentDamagedError(ValueError):
    """A segment's file is missing, truncated or unreadable (``file`` names it)."""

    def __init__(self, file: str, reason: str) -> None:
        super().__init__(f"{file}: {reason}")
        self.file = file


def time_ordered_name(kind: str) -> str:
    """A unique folder name that sorts by creation time, to the microsecond (UTC)."""
    now = dt.datetime.now(dt.UTC)
    return f"{kind}-{now:%Y%m%dT%H%M%S.%f}-{secrets.token_hex(2)}"


def sentence_vector_id(chunk_id: str, position: int) -> int:
    """The FAISS id of sentence ``position`` of a chunk."""
    return vector_id_for(f"{chunk_id}.{position}")


def new_vector_index(dimension: int) -> Any:
    """An empty id-mapped inner-product FAISS index for normalised vectors."""
    return faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))


def all_vectors(index: Any) -> tuple[np.ndarray, np.ndarray]:
    """Every (id, vector) of an id-mapped flat index, as two arrays in storage order."""
    ids = faiss.vector_to_array(index.id_map).astype(np.int64)
    if not len(ids):
        return ids, np.zeros((0, index.d), dtype=np.float32)
    return ids, index.index.reconstruct_n(0, index.ntotal)


class Segment:
    """Article versions, their chunks, passage and sentence vectors and latent vectors.

    Built in memory by the indexer (:meth:`new`, then :meth:`add`), written once
    (:meth:`write`), read back by :meth:`load`; never changed after it is written.
    """

    def __init__(
        self,
        name: str,
        articles: dict[str, StoredArticle],
        chunks: dict[int, StoredChunk],
        vectors: Any,
        sentence_vectors: Any,
        latent: dict[int, LatentVector],
    ) -> None:
        self.name = name
        self.articles = articles
        self.chunks = chunks
        self.vectors = vectors
        self.sentence_vectors = sentence_vectors
        self.latent = latent

    @classmethod
    def new(cls, dimension: int) -> Segment:
        """An empty segment with a fresh, unique name."""
        name = time_ordered_name("seg")
        return cls(name, {}, {}, new_vector_index(dimension), new_vector_index(dimension), {})

    def add(
        self,
        article: StoredArticle,
        chunks: list[StoredChunk],
        passage_vectors: np.ndarray,
        sentence_vectors: np.ndarray,
        latent: list[LatentVector],
    ) -> None:
        """Put one article version in (before :meth:`write`): its chunks in order, one passage
        vector per chunk, one sentence vector per sentence in chunk order, and the chunks'
        latent vectors (or none)."""
        self.articles[article.key] = article
        self.vectors.add_with_ids(
            passage_vectors, np.array([c.vector_id for c in chunks], dtype=np.int64)
        )
        sentence_ids = [
            sentence_vector_id(c.chunk_id, i) for c in chunks for i in range(len(c.sentences))
        ]
        self.sentence_vectors.add_with_ids(sentence_vectors, np.array(sentence_ids, dtype=np.int64))
        for position, chunk in enumerate(chunks):
            self.chunks[chunk.vector_id] = chunk
            if latent:
                self.latent[chunk.vector_id] = latent[position]

    @functools.cached_property
    def postings(self) -> TermPostings:
        """The chunks' term frequencies for BM25 (built on first use, then kept)."""
        return TermPostings(list(self.chunks), [c.tokens for c in self.chunks.values()])

    @functools.cached_property
    def sentence_owners(self) -> dict[int, int]:
        """Each sentence vector's id → the vector id of the chunk it belongs to."""
        return {
            sentence_vector_id(chunk.chunk_id, i): vector_id
            for vector_id, chunk in self.chunks.items()
            for i in range(len(chunk.sentences))
        }

    def sentence_ids(self, vector_id: int) -> list[int]:
        """The sentence vector ids of one chunk, in order."""
        chunk = self.chunks[vector_id]
        return [sentence_vector_id(chunk.chunk_id, i) for i in range(len(chunk.sentences))]

    # --- files ----------------------------------------------------------------------------

    def write(self, segments_dir: Path) -> None:
        """Write this segment's files into ``segments_dir/<name>`` (staged, then renamed, so a
        crash or a full disk leaves no half segment). Raises ``OSError``."""
        segments_dir.mkdir(parents=True, exist_ok=True)
        staging = segments_dir / f".{self.name}.partial"
        staging.mkdir()
        try:
            _write_faiss(self.vectors, staging / "vectors.faiss")
            _write_faiss(self.sentence_vectors, staging / "sentences.faiss")
            _write_latent(staging / LATENT_FILE, self.latent)
            records = {
                "articles": [asdict(a) for a in self.articles.values()],
                "chunks": [asdict(c) for c in self.chunks.values()],
            }
            write_json(staging / "records.json", records)
            sizes = {p.name: p.stat().st_size for p in staging.iterdir()}
            write_json(staging / SEGMENT_FILE, {"format_version": SEGMENT_FORMAT, "sizes": sizes})
            fsync_dir(staging)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        staging.rename(segments_dir / self.name)
        fsync_dir(segments_dir)

    @classmethod
    def load(cls, folder: Path) -> Segment:
        """The segment in ``folder``; one already loaded in this process is shared (segments
        never change). :class:`SegmentDamagedError` names a missing or damaged file."""
        key = str(folder.resolve())
        with _LOADING:
            found = _LOADED.get(key)
            if found is None:
                found = cls._read(folder)
                _LOADED[key] = found
            return found

    @classmethod
    def _read(cls, folder: Path) -> Segment:
        reading = SEGMENT_FILE
        try:
            header = json.loads((folder / reading).read_text(encoding="utf-8"))
            if header.get("format_version") != SEGMENT_FORMAT:
                raise ValueError(f"format {header.get('format_version')}, not {SEGMENT_FORMAT}")
            for reading, size in header["sizes"].items():
                found = (folder / reading).stat().st_size
                if found != size:
                    raise ValueError(f"{size} bytes were written, {found} are there")
            reading = "records.json"
            records = records_of(folder)
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
            reading = "vectors.faiss"
            vectors = faiss.read_index(str(folder / reading))
            reading = "sentences.faiss"
            sentence_vectors = faiss.read_index(str(folder / reading))
            reading = LATENT_FILE
            latent = _read_latent(folder / reading)
        except (OSError, ValueError, KeyError, TypeError, RuntimeError, EOFError) as exc:
            raise SegmentDamagedError(f"{folder.name}/{reading}", str(exc)) from exc
        return cls(folder.name, articles, chunks, vectors, sentence_vectors, latent)


# Segments loaded in this process, shared while any generation in use holds them.
_LOADED: weakref.WeakValueDictionary[str, Segment] = weakref.WeakValueDictionary()
_LOADING = threading.Lock()


def records_of(folder: Path) -> dict[str, Any]:
    """A segment's ``records.json`` as stored (articles and chunks, no vectors)."""
    return dict(json.loads((folder / "records.json").read_text(encoding="utf-8")))


def _write_faiss(index: Any, path: Path) -> None:
    """``faiss.write_index`` then fsync, its failures (a full disk) raised as ``OSError``."""
    try:
        faiss.write_index(index, str(path))
    except RuntimeError as exc:
        full = "No space left on device" in str(exc)
        raise OSError(errno.ENOSPC if full else errno.EIO, f"could not write {path.name}") from exc
    with path.open("rb+") as handle:
        os.fsync(handle.fileno())


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
    """The stored sparse vectors by chunk id."""
    with np.load(path) as data:
        ids, offsets = data["ids"], data["offsets"]
        indices, values = data["indices"], data["values"]
    return {
        int(vector_id): LatentVector(indices[start:end], values[start:end])
        for vector_id, start, end in zip(ids, offsets[:-1], offsets[1:], strict=True)
    }


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` as UTF-8 JSON and fsync it."""
    text = json.dumps(data, ensure_ascii=False, default=str)  # in one piece: C encoder
    with path.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def fsync_dir(folder: Path) -> None:
    """Make a folder's entries (a rename, a new file) durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
