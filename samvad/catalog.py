"""The titles catalogue of the current index, and which language version of an article to use.

Each index generation carries ``catalog.json``: one small record per article version (id,
language, title, date, source, tags), written by the index build. :func:`read_catalog` reads
it without loading any vector, so a process that only lists titles (the bot's ``/topics``)
stays small. :func:`article_version` is the one rule for "which language version": the asker's
language when that version exists, else the other language's.

>>> versions = {"water/mr": "पाणी", "water/en": "Water", "tax/mr": "कर"}
>>> article_version(versions, "water", "en"), article_version(versions, "tax", "en")
('Water', 'कर')
>>> article_version(versions, "bus", "mr") is None
True
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from samvad.index_store import CATALOG_FILE, current_folder
from samvad.language import LANGUAGES, Lang

T = TypeVar("T")


def article_version(versions: Mapping[str, T], article_id: str, lang: str) -> T | None:
    """The version of ``article_id`` in ``lang`` when it exists, else in another language, else
    ``None``. ``versions`` is keyed ``<id>/<lang>`` (a key lookup per language, no scan)."""
    keys = [f"{article_id}/{lang}", *(f"{article_id}/{o}" for o in LANGUAGES if o != lang)]
    return next((versions[k] for k in keys if k in versions), None)


@dataclass(frozen=True)
class CatalogEntry:
    """One indexed article version, as listed for citizens."""

    id: str
    lang: Lang
    title: str
    date: str
    source: str | None = None
    tags: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """``<id>/<lang>``, as the index keys article versions."""
        return f"{self.id}/{self.lang}"


@dataclass(frozen=True)
class Catalog:
    """The article versions of one index generation."""

    generation: str
    entries: tuple[CatalogEntry, ...] = ()

    def titles(self, language: Lang) -> list[str]:
        """One title per article, in ``language`` where that version exists, sorted."""
        versions = {e.key: e for e in self.entries}
        chosen = {article_version(versions, e.id, language) for e in self.entries}
        return sorted(e.title for e in chosen if e is not None)


def read_catalog(index_dir: Path) -> Catalog | None:
    """The current generation's catalogue (``None`` when no index has been built yet)."""
    folder = current_folder(index_dir)
    if folder is None:
        return None
    raw = json.loads((folder / CATALOG_FILE).read_text(encoding="utf-8"))
    entries = tuple(
        CatalogEntry(
            e["id"], e["lang"], e["title"], e["date"], e.get("source"), tuple(e.get("tags", ()))
        )
        for e in raw["articles"]
    )
    return Catalog(folder.name, entries)


class CatalogReader:
    """Keeps the current catalogue, re-reading it only when the index generation changed."""

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = index_dir
        self._catalog: Catalog | None = None

    def current(self) -> Catalog | None:
        """The catalogue of the newest generation (``None``: no index yet)."""
        folder = current_folder(self.index_dir)
        if folder is None:
            self._catalog = None
        elif self._catalog is None or self._catalog.generation != folder.name:
            self._catalog = read_catalog(self.index_dir)
        return self._catalog

    def titles(self, language: Lang) -> list[str]:
        """:meth:`Catalog.titles` of the current catalogue (empty without an index)."""
        catalog = self.current()
        return catalog.titles(language) if catalog is not None else []
