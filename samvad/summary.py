"""An article's summary — its first sentences — read from the current index, without vectors.

A notice to subscribers carries the article's title, date, source and the first sentences of
its first passage, exactly as the index holds them (the same sentences an answer would quote).
:func:`article_summaries` reads them from the generation's records only (no vectors), so the bot,
which never loads the embedding model, can make notices. :func:`summary_for` picks the version
for a subscriber by the one rule of :func:`samvad.catalog.article_version`: their language's
when it exists, else the other's (and says so).

>>> english = Summary("water-cut", "en", "Water cut", "2026-12-01", None, (), ("No water.",))
>>> versions = {"en": english}
>>> chosen, other = summary_for(versions, "mr")
>>> chosen.title, other
('Water cut', True)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from samvad.catalog import article_version
from samvad.index_store import stored_records
from samvad.language import LANGUAGES, Lang, as_language

SUMMARY_SENTENCES = 3
SUMMARY_CHARS = 700


@dataclass(frozen=True)
class Summary:
    """One language version of an article, shortened for a notice."""

    article_id: str
    language: Lang
    title: str
    date: str
    source_url: str | None
    tags: tuple[str, ...]
    sentences: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready form (:meth:`from_json` reads it back)."""
        return asdict(self)

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Summary:
        """The summary :meth:`to_json` wrote; ``ValueError`` for anything else."""
        language = as_language(raw.get("language"))
        if language is None:
            raise ValueError(f"not a summary language: {raw.get('language')!r}")
        source = raw.get("source_url")
        return cls(
            str(raw["article_id"]),
            language,
            str(raw["title"]),
            str(raw["date"]),
            str(source) if source else None,
            tuple(str(t) for t in raw.get("tags", ())),
            tuple(str(s) for s in raw.get("sentences", ())),
        )


def shorten(sentences: list[str], max_sentences: int, max_chars: int) -> tuple[str, ...]:
    """The first sentences, at most ``max_sentences`` and about ``max_chars`` characters
    (always at least one; a first sentence longer than that is cut between words with "…")."""
    kept: list[str] = []
    used = 0
    for sentence in sentences[:max_sentences]:
        if kept and used + len(sentence) > max_chars:
            break
        kept.append(sentence)
        used += len(sentence) + 1
    if kept and len(kept[0]) > max_chars:
        head = kept[0][:max_chars]
        kept = [(head.rsplit(" ", 1)[0] if " " in head else head).rstrip(",;: ") + "…"]
    return tuple(kept)


def article_summaries(
    index_dir: Path,
    article_id: str,
    max_sentences: int = SUMMARY_SENTENCES,
    max_chars: int = SUMMARY_CHARS,
) -> dict[Lang, Summary]:
    """Every indexed language version of ``article_id``, summarised (empty when the article
    is not in the current index, or there is no index)."""
    articles, chunks = stored_records(index_dir)
    versions = [a for a in articles if a["id"] == article_id]
    first_ids = {a["vector_ids"][0] for a in versions if a["vector_ids"]}
    first_chunks = {v: chunks[v] for v in first_ids if v in chunks}
    found: dict[Lang, Summary] = {}
    for version in versions:
        language = as_language(version["lang"])
        if language is None:
            continue
        chunk = first_chunks.get(version["vector_ids"][0]) if version["vector_ids"] else None
        sentences = list(chunk["sentences"]) if chunk else []
        found[language] = Summary(
            article_id,
            language,
            version["title"],
            version["date"],
            version.get("source"),
            tuple(version.get("tags", ())),
            shorten(sentences, max_sentences, max_chars),
        )
    return {lang: found[lang] for lang in LANGUAGES if lang in found}


def summary_for(versions: Mapping[Lang, Summary], language: Lang) -> tuple[Summary, bool] | None:
    """The version for a reader of ``language`` and whether it is the other language's."""
    keyed = {f"{s.article_id}/{lang}": s for lang, s in versions.items()}
    if not keyed:
        return None
    article_id = next(iter(versions.values())).article_id
    chosen = article_version(keyed, article_id, language)
    if chosen is None:
        return None
    return chosen, chosen.language != language
