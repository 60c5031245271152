"""The one SQLite database kept for staff (``<data_dir>/samvad.db``): how to open it.

>>> import tempfile
>>> with connect(Path(tempfile.mkdtemp()) / "samvad.db") as db:
...     db.execute("SELECT 1").fetchone()
(1,)
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

DB_NAME = "samvad.db"


@contextlib.contextmanager
def connect(path: Path) -> Iterator[sqlite3.Connection]:
    """A connection in WAL mode (readers never block the writer) that commits on success."""
    db = sqlite3.connect(path, timeout=10)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA secure_delete=ON")  # deleted rows (purge, erasure) leave no trace
        with db:
            yield db
    finally:
        db.close()


@contextlib.contextmanager
def erasing(path: Path) -> Iterator[sqlite3.Connection]:
    """A connection whose deletions overwrite the deleted content (committed on success); the
    write-ahead log is truncated afterwards so no old page survives in it."""
    db = sqlite3.connect(path, timeout=10)
    try:
        db.execute("PRAGMA secure_delete=ON")
        with db:
            yield db
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()


def has_table(db: sqlite3.Connection, table: str) -> bool:
    """Whether the database holds ``table``."""
    found = db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (table,))
    return found.fetchone() is not None
