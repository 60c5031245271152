"""Article titles for ``/topics``, read from the search index without loading the model.

The index is re-read when it changes (``samvad index`` switches the ``current`` link to a new
generation), so new articles appear without restarting the bot.
"""

from __future__ import annotations

import logging
from pathlib import Path

from samvad.index_store import CURRENT_LINK, IndexSnapshot
from bot.texts import Lang

logger = logging.getLogger(__name__)


class TopicIndex:
    """Titles of the indexed articles, in the asker's language where that version exists."""

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = index_dir
        self._generation: str | None = None
        self._articles: list[tuple[str, str, str]] = []  # (id, lang, title)

    def _refresh(self) -> None:
        link = self.index_dir / CURRENT_LINK
        generation = link.resolve().name if link.exists() else None
        if generation is None:
            self._generation, self._articles = None, []
            return
        if generation == self._generation:
            return
        snapshot = IndexSnapshot.load(self.index_dir)
        if snapshot is None:
            self._generation, self._articles = None, []
            return
        self._articles = [(a.id, a.lang, a.title) for a in snapshot.articles.values()]
        self._generation = generation
        logger.info("topics: %d article versions from %s", len(self._articles), generation)

    def titles(self, language: Lang) -> list[str]:
        """One title per article, in ``language`` when available, sorted."""
        self._refresh()
        chosen: dict[str, tuple[str, str]] = {}
        for article_id, lang, title in self._articles:
            if article_id not in chosen or lang == language:
                chosen[article_id] = (lang, title)
        return sorted(title for _, title in chosen.values())
