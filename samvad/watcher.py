"""Re-index by itself when staff add, edit, translate or delete a file in ``knowledge/``.

File events are debounced (an editor's save is often several events) and then one ordinary
:func:`~samvad.indexer.build_index` runs: only changed files are embedded, the new index
generation is switched in atomically, and every running :class:`AnswerEngine` picks it up on its
next question. A file that fails validation is reported and its last good version stays in
service.

Used as (the embedder loads the model, so this is not run as a doctest)::

    watcher = KnowledgeWatcher(settings, embedder, on_report=lambda r: print(r.summary()))
    watcher.start()          # returns at once; re-indexing happens on a background thread
    watcher.stop()
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from samvad.index_store import IndexSnapshot, IndexUnavailableError
from samvad.indexer import IndexReport, build_index
from samvad.model import Embedder
from samvad.settings import Settings

logger = logging.getLogger(__name__)
# watchdog already holds inotify events 0.5 s to pair moves, so an editor's save (several
# events within milliseconds) arrives together; an edit is one small segment, so a second
# build for a late event costs about a second of one core. Measured at 10,000 articles: 1.0 s
# here made an edit live after 3.5-4.3 s with no questions running, 0 after 1.1-2.1 s.
DEFAULT_DEBOUNCE_SECONDS = 0.3
# What changes a file's contents or place (reading one — "opened", "closed_no_write" — does not).
_CHANGES = frozenset({"created", "modified", "deleted", "moved", "closed"})


class _Debouncer(FileSystemEventHandler):
    """Collects file events and calls ``fire`` once they have been quiet for ``delay`` s."""

    def __init__(self, delay: float, fire: Callable[[], object]) -> None:
        self._delay = delay
        self._fire = fire
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()

    def on_any_event(self, event: FileSystemEvent) -> None:
        path = str(event.src_path)
        if event.is_directory or event.event_type not in _CHANGES:
            return
        if not (path.endswith(".md") or event.event_type == "moved"):
            return
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(self._delay, self._fire)
            self._timer.daemon = True
            self._timer.start()

    def cancel(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()


class KnowledgeWatcher:
    """Watches ``settings.knowledge_dir`` and keeps the index in ``settings.index_dir`` current."""

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder,
        on_report: Callable[[IndexReport], None] | None = None,
        debounce_seconds: float = DEFAULT_DEBOUNCE_SECONDS,
    ) -> None:
        if debounce_seconds < 0:
            raise ValueError("debounce_seconds cannot be negative")
        if not settings.knowledge_dir.is_dir():
            raise FileNotFoundError(f"knowledge folder {settings.knowledge_dir} does not exist")
        self.settings = settings
        self.embedder = embedder
        self.on_report = on_report
        self._debouncer = _Debouncer(debounce_seconds, self.reindex)
        self._observer = Observer()
        self._reindexing = threading.Lock()
        # The generation last built, held so its segments stay loaded (segment.py): the next
        # build reads only what it has not seen, not the whole index again.
        self._held: IndexSnapshot | None = None

    def reindex(self) -> IndexReport | None:
        """Bring the index up to date now; returns the report (``None`` if indexing failed)."""
        with self._reindexing:
            try:
                report = build_index(self.settings, self.embedder)
            except Exception:
                logger.exception("re-indexing %s failed", self.settings.knowledge_dir)
                return None
            with contextlib.suppress(IndexUnavailableError):
                self._held = IndexSnapshot.load(self.settings.index_dir)
        for error in report.skipped:
            logger.warning("knowledge file skipped: %s", error)
        logger.info("index updated: %s", report.summary().splitlines()[0])
        if self.on_report is not None:
            self.on_report(report)
        return report

    def start(self) -> None:
        """Start watching (events are handled on background threads)."""
        self._observer.schedule(self._debouncer, str(self.settings.knowledge_dir), recursive=True)
        self._observer.start()

    def stop(self) -> None:
        """Stop watching and wait for the watcher thread to end."""
        self._debouncer.cancel()
        self._observer.stop()
        self._observer.join(timeout=10)
