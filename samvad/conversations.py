"""Citizens' conversations in Rasa's tracker store, as Samvad erases them: by sender, by age.

Rasa's SQL tracker store keeps every event of every conversation in its ``events`` table
(``sender_id``, ``timestamp`` in seconds since the epoch, and the event). Samvad never writes
there; it only deletes, for ``/forget``, ``samvad forget`` and the retention purge
(:mod:`samvad.retention`). Where the table is follows the one setting that places Rasa's
stores (``SAMVAD_STORES``): :func:`conversation_store` gives the SQLite file of the embedded
set-up (``SAMVAD_TRACKER_DB``) or the PostgreSQL database of the shared one
(``SAMVAD_POSTGRES_URL``, the password in ``SAMVAD_POSTGRES_PASSWORD_FILE``).

Deleted SQLite rows are overwritten at once (``secure_delete``, then the write-ahead log is
truncated). PostgreSQL keeps a deleted row's bytes until the table is vacuumed, so the
PostgreSQL store runs ``VACUUM`` on ``events`` after each deletion.

>>> import tempfile
>>> store = SQLiteConversations(Path(tempfile.mkdtemp()) / "none.db")
>>> store.senders(), store.forget("chat-1"), store.purge(before=0.0)
([], 0, 0)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

from samvad.settings import Settings
from samvad.sqlite_db import erasing, has_table


class Conversations(Protocol):
    """Where Rasa keeps the conversations, seen as what can be erased from it."""

    def senders(self) -> list[str]:
        """Every sender id with at least one stored event."""

    def forget(self, sender: str) -> int:
        """Delete every event of ``sender``; how many there were."""

    def purge(self, before: float) -> int:
        """Delete every event older than ``before`` (seconds since the epoch); how many."""


class _EventsTable:
    """The three statements, over a back end's ``_run`` (rows and row count of one statement,
    ``MARK`` its parameter placeholder)."""

    MARK = "?"

    def _run(self, sql: str, params: tuple[Any, ...] = ()) -> tuple[list[tuple[Any, ...]], int]:
        raise NotImplementedError

    def senders(self) -> list[str]:
        """Every sender id with at least one stored event."""
        rows, _ = self._run("SELECT DISTINCT sender_id FROM events")
        return [str(sender) for (sender,) in rows]

    def forget(self, sender: str) -> int:
        """Delete every event of ``sender``; how many there were."""
        return self._run(f"DELETE FROM events WHERE sender_id = {self.MARK}", (sender,))[1]

    def purge(self, before: float) -> int:
        """Delete every event older than ``before`` (seconds since the epoch); how many."""
        return self._run(f"DELETE FROM events WHERE timestamp < {self.MARK}", (before,))[1]


class SQLiteConversations(_EventsTable):
    """Rasa's SQLite tracker store (the embedded set-up); a missing file holds nothing."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _run(self, sql: str, params: tuple[Any, ...] = ()) -> tuple[list[tuple[Any, ...]], int]:
        if not self.path.is_file():
            return [], 0
        with erasing(self.path) as db:
            if not has_table(db, "events"):
                return [], 0
            cursor = db.execute(sql, params)
            return cursor.fetchall(), cursor.rowcount


class PostgresConversations(_EventsTable):
    """Rasa's SQL tracker store on PostgreSQL (``SAMVAD_STORES=shared``); a database without
    Rasa's table yet holds nothing. Each call opens one short connection."""

    MARK = "%s"

    def __init__(self, url: str, password_file: Path | None = None) -> None:
        parts = urlsplit(url)
        self._connect: dict[str, Any] = {
            "host": parts.hostname,
            "port": parts.port or 5432,
            "dbname": unquote(parts.path.strip("/")),
            "user": unquote(parts.username or ""),
            "connect_timeout": 10,
        }
        if password_file is not None and password_file.is_file():
            self._connect["password"] = password_file.read_text(encoding="utf-8").strip()

    def _run(self, sql: str, params: tuple[Any, ...] = ()) -> tuple[list[tuple[Any, ...]], int]:
        import psycopg

        with psycopg.connect(**self._connect, autocommit=True) as db:
            found = db.execute("SELECT to_regclass('public.events')").fetchone()
            if found is None or found[0] is None:
                return [], 0
            cursor = db.execute(sql.encode(), params)  # bytes: built from constants above
            rows = cursor.fetchall() if cursor.description else []
            count = cursor.rowcount
            if sql.startswith("DELETE") and count:
                db.execute("VACUUM events")  # the deleted rows' bytes go from the table too
            return rows, count


def conversation_store(settings: Settings) -> Conversations:
    """The tracker store ``settings`` has Rasa use: PostgreSQL when ``stores`` is ``shared``,
    else the SQLite file ``tracker_db``."""
    if settings.stores == "shared":
        return PostgresConversations(settings.postgres_url, settings.postgres_password_file)
    return SQLiteConversations(settings.tracker_db)
