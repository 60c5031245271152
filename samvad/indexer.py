"""Bring the index in line with ``knowledge/``, re-embedding only what changed.

Files are compared with the last index by content hash: unchanged articles keep their vectors,
edited ones are re-embedded into one new segment and their old versions dropped, deleted ones
are dropped (see :mod:`samvad.index_store`); so an edit writes only what changed. A file that
fails validation is reported and skipped; if an earlier good version of it is in the index,
that version stays in service. A different model (or dimension) than the one that built the
index forces a full rebuild, and so does a change of the latent-term head (each passage's
sparse "concept" vector, used by the answer step to judge whether an article really covers a
question).

Used as (the embedder loads the model, so this is not run as a doctest)::

    report = build_index(settings, embedder)
    print(report.summary())
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
from tqdm.auto import tqdm  # type: ignore[import-untyped]

from samvad.analyzer import analyze, skeletons
from samvad.articles import Article, ArticleError, load_knowledge
from samvad.chunking import chunk_article, passage_for_embedding
from samvad.index_store import IndexDamagedError, IndexSnapshot, write_snapshot, writer_lock
from samvad.latent_terms import LatentTermEncoder, LatentVector, latent_encoder_for
from samvad.model import Embedder
from samvad.segment import Segment, StoredArticle, StoredChunk
from samvad.settings import Settings


@dataclass
class IndexReport:
    """What one index build did, file by file (paths relative to the knowledge folder)."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[ArticleError] = field(default_factory=list)
    kept_previous: list[str] = field(default_factory=list)
    rebuild_reason: str | None = None
    chunks_embedded: int = 0
    generation: str = ""

    def summary(self) -> str:
        """A few lines for staff: counts, then every skipped file with its reason."""
        lines = []
        if self.rebuild_reason:
            lines.append(f"Full rebuild: {self.rebuild_reason}")
        lines.append(
            f"{len(self.added)} added, {len(self.updated)} updated, {len(self.removed)} removed, "
            f"{len(self.unchanged)} unchanged, {len(self.skipped)} skipped "
            f"({self.chunks_embedded} passages embedded)"
        )
        for name, paths in (("added", self.added), ("updated", self.updated)):
            if paths:
                lines.append(f"  {name}: {', '.join(paths)}")
        if self.removed:
            lines.append(f"  removed: {', '.join(self.removed)}")
        for error in self.skipped:
            kept = (
                " (the last good version stays in service)"
                if (error.path in self.kept_previous)
                else ""
            )
            lines.append(f"  skipped {error}{kept}")
        return "\n".join(lines)


def _stored_article(article: Article, vector_ids: tuple[int, ...]) -> StoredArticle:
    return StoredArticle(
        key=article.key,
        id=article.id,
        lang=article.lang,
        title=article.title,
        date=article.date.isoformat(),
        path=article.path,
        content_hash=article.content_hash,
        source=article.source,
        tags=article.tags,
        vector_ids=vector_ids,
    )


# Passages are embedded in blocks so their token states never all sit in memory at once.
PASSAGE_BLOCK = 256


def _rebuild_reason(
    previous: IndexSnapshot | None, embedder: Embedder, latent: LatentTermEncoder | None
) -> str | None:
    if previous is None:
        return None
    built_with = previous.manifest.get("model", {})
    if built_with.get("dimension") != embedder.dimension:
        return (
            f"the model's dimension changed ({built_with.get('dimension')} → "
            f"{embedder.dimension}); every article is embedded again"
        )
    if built_with.get("fingerprint") != embedder.identity["fingerprint"]:
        return (
            f"the model changed ({built_with.get('model')} → {embedder.identity['model']}); "
            "vectors from different models cannot be mixed, so every article is embedded again"
        )
    wanted = latent.identity if latent is not None else None
    if previous.manifest.get("latent_terms") != wanted and previous.articles:
        return (
            "the latent-term head changed (or the index predates it); every article is "
            "embedded again so all passages carry the same kind of concept vector"
        )
    return None


def build_index(settings: Settings, embedder: Embedder, show_progress: bool = False) -> IndexReport:
    """Update the index in ``settings.index_dir`` from ``settings.knowledge_dir``.

    Writes a new generation atomically even when files were skipped; returns the report.
    """
    with writer_lock(settings.index_dir):
        articles, errors = load_knowledge(settings.knowledge_dir)
        damaged = None
        try:
            previous = IndexSnapshot.load(settings.index_dir)
        except IndexDamagedError as exc:
            reason = str(exc).split("; run")[0]
            previous, damaged = None, f"{reason}; every article is embedded again"
        latent = latent_encoder_for(
            str(embedder.identity["model"]), embedder.dimension, embedder.precision
        )
        report = IndexReport(
            skipped=errors, rebuild_reason=damaged or _rebuild_reason(previous, embedder, latent)
        )
        if report.rebuild_reason is not None:
            previous = None
        snapshot = previous or IndexSnapshot.empty()
        current_keys = {a.key for a in articles}
        broken_paths = {e.path for e in errors}
        dropped: set[str] = set()
        for key, gone in snapshot.articles.items():
            if key in current_keys:
                continue
            if gone.path in broken_paths:
                report.kept_previous.append(gone.path)
                continue
            dropped.add(key)
            report.removed.append(gone.path)
        to_embed: list[Article] = []
        for article in articles:
            old = snapshot.articles.get(article.key)
            if (
                old is not None
                and old.content_hash == article.content_hash
                and (old.path == article.path)
            ):
                report.unchanged.append(article.path)
                continue
            if old is not None:
                dropped.add(old.key)
            (report.updated if old is not None else report.added).append(article.path)
            to_embed.append(article)
        if dropped:
            snapshot = snapshot.without(dropped)
        if to_embed:
            segment = Segment.new(embedder.dimension)
            report.chunks_embedded = _embed_articles(
                segment, to_embed, embedder, latent, show_progress
            )
            snapshot = snapshot.with_segment(segment)
        if snapshot.needs_merge():
            snapshot = snapshot.merged(embedder.dimension)
        snapshot.manifest = {
            "model": embedder.identity,
            "latent_terms": latent.identity if latent is not None else None,
            "precision": embedder.precision,
            "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "files": {a.path: a.content_hash for a in snapshot.articles.values()},
        }
        report.generation = write_snapshot(settings.index_dir, snapshot)
        return report


def _embed_articles(
    segment: Segment,
    articles: list[Article],
    embedder: Embedder,
    latent: LatentTermEncoder | None,
    show_progress: bool,
) -> int:
    """Chunk and embed ``articles`` into ``segment``; return the number of passages."""
    pending: list[tuple[StoredArticle, list[StoredChunk], list[str]]] = []
    for article in articles:
        chunks = chunk_article(article)
        stored, texts = [], []
        for chunk in chunks:
            embed_text = passage_for_embedding(article, chunk)
            terms = analyze(embed_text)
            stored.append(
                StoredChunk(
                    vector_id=chunk.vector_id,
                    chunk_id=chunk.chunk_id,
                    article_key=article.key,
                    ordinal=chunk.ordinal,
                    heading=chunk.heading,
                    sentences=chunk.sentences,
                    tokens=tuple(terms + skeletons(terms)),
                )
            )
            texts.append(embed_text)
        pending.append(
            (_stored_article(article, tuple(c.vector_id for c in chunks)), stored, texts)
        )
    texts = [text for _, _, article_texts in pending for text in article_texts]
    if not texts:
        for article_record, _, _ in pending:
            segment.articles[article_record.key] = article_record
        return 0
    passage_vectors, concepts = _embed_passages(texts, embedder, latent, show_progress)
    sentences = [s for _, stored, _ in pending for c in stored for s in c.sentences]
    sentence_vectors = embedder.embed_passages(sentences, show_progress)
    passage_at, sentence_at = 0, 0
    for article_record, stored, _ in pending:
        count = sum(len(c.sentences) for c in stored)
        segment.add(
            article_record,
            stored,
            passage_vectors[passage_at : passage_at + len(stored)],
            sentence_vectors[sentence_at : sentence_at + count],
            concepts[passage_at : passage_at + len(stored)],
        )
        passage_at += len(stored)
        sentence_at += count
    return passage_at


def _embed_passages(
    texts: list[str], embedder: Embedder, latent: LatentTermEncoder | None, show_progress: bool
) -> tuple[np.ndarray, list[LatentVector]]:
    """Passage vectors and, when a latent-term head serves this model, their concept vectors."""
    if latent is None:
        return embedder.embed_passages(texts, show_progress), []
    blocks: list[np.ndarray] = []
    concepts: list[LatentVector] = []
    with tqdm(total=len(texts), desc="passages", unit="passage", disable=not show_progress) as bar:
        for start in range(0, len(texts), PASSAGE_BLOCK):
            block = texts[start : start + PASSAGE_BLOCK]
            vectors, states = embedder.embed_with_token_states(block, "passage")
            blocks.append(vectors)
            concepts += [latent.encode(state) for state in states]
            bar.update(len(block))
    return np.vstack(blocks), concepts
