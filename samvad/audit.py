"""What staff did through the bot (add, replace, reload…), kept in the same SQLite file as the
question log (``<data_dir>/samvad.db``, table ``audit``).

Staff ids are stored as they are: unlike citizens, staff act on the service and the audit must
say who did what.

>>> import tempfile
>>> audit = AuditLog(Path(tempfile.mkdtemp()))
>>> audit.record(12345, "add", "water-cut.en.md", "ok", "Water cut on Ghodbunder Road (en)")
>>> audit.entries()[0].action
'add'
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from samvad.privacy import mask
from samvad.sqlite_db import DB_NAME, connect

_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    staff_id INTEGER NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL DEFAULT '',
    outcome TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS audit_at ON audit (at);
"""


@dataclass(frozen=True)
class AuditEntry:
    """One staff action: when, who, what, on which file, and how it ended."""

    at: str
    staff_id: int
    action: str
    target: str
    outcome: str
    detail: str


class AuditLog:
    """Append-only record of staff actions in ``<data_dir>/samvad.db``."""

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.path = data_dir / DB_NAME
        with self._connect() as db:
            db.executescript(_SCHEMA)

    def _connect(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        return connect(self.path)

    def record(
        self, staff_id: int, action: str, target: str = "", outcome: str = "ok", detail: str = ""
    ) -> None:
        """Store one staff action (``outcome``: ``ok``, ``rejected``, ``refused``, ``failed``);
        personal data in the free-text ``detail`` is masked (:func:`samvad.privacy.mask`)."""
        at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        with self._connect() as db:
            db.execute(
                "INSERT INTO audit (at, staff_id, action, target, outcome, detail)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (at, int(staff_id), action, target, outcome, mask(detail)),
            )

    def entries(self, limit: int | None = None) -> list[AuditEntry]:
        """The recorded actions, newest first."""
        sql = "SELECT at, staff_id, action, target, outcome, detail FROM audit ORDER BY id DESC"
        params: tuple[int, ...] = ()
        if limit is not None:
            sql += " LIMIT ?"
            params = (limit,)
        with self._connect() as db:
            rows = db.execute(sql, params).fetchall()
        return [AuditEntry(*row) for row in rows]
