"""Citizens' topic subscriptions, kept in the same SQLite file as the question log
(``<data_dir>/samvad.db``), and the schema of the notices sent to them (:mod:`samvad.outbox`).

To send a notice the bot needs the Telegram chat id, so a subscription keeps it — as long as
the subscription lasts and no longer: the last ``/unsubscribe``, a ``/forget``, or the citizen
blocking the bot deletes it. Beside it are the chat's salted hash (the one Rasa sees; so
``/forget`` and ``samvad forget USER_HASH`` find it) and the language notices go in.

Tables (created if missing, like the question log's):

- ``subscribers``: one row per subscribed chat (chat id, salted hash, language, since when);
- ``subscriptions``: one row per chat and topic;
- ``notices``, ``outbox``, ``known_articles``: see :mod:`samvad.outbox`.

>>> import tempfile
>>> subs = Subscriptions(Path(tempfile.mkdtemp()))
>>> subs.subscribe(42, "hash-42", "mr", "water"), subs.subscribe(42, "hash-42", "mr", "water")
(True, False)
>>> subs.topics_of(42), subs.count(["water", "roads"])
(['water'], 1)
>>> subs.unsubscribe(42, "water"), subs.language_of(42)
(True, None)
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path

from samvad.language import Lang, as_language
from samvad.sqlite_db import DB_NAME, connect

SCHEMA = """
CREATE TABLE IF NOT EXISTS subscribers (
    chat_id INTEGER PRIMARY KEY,
    sender TEXT NOT NULL,
    language TEXT NOT NULL,
    since TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS subscriptions (
    chat_id INTEGER NOT NULL,
    topic TEXT NOT NULL,
    subscribed_at TEXT NOT NULL,
    PRIMARY KEY (chat_id, topic)
);
CREATE INDEX IF NOT EXISTS subscriptions_topic ON subscriptions (topic);
CREATE TABLE IF NOT EXISTS notices (
    id INTEGER PRIMARY KEY,
    article_id TEXT NOT NULL,
    topics TEXT NOT NULL,
    state TEXT NOT NULL,
    proposed_at TEXT NOT NULL,
    proposed_by INTEGER NOT NULL DEFAULT 0,
    decided_by INTEGER,
    decided_at TEXT,
    content TEXT NOT NULL DEFAULT '',
    staff_chat INTEGER,
    progress_message INTEGER,
    total INTEGER NOT NULL DEFAULT 0,
    sent INTEGER NOT NULL DEFAULT 0,
    blocked INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0,
    resent INTEGER NOT NULL DEFAULT 0,
    finished_at TEXT
);
CREATE INDEX IF NOT EXISTS notices_article ON notices (article_id);
CREATE INDEX IF NOT EXISTS notices_state ON notices (state);
CREATE TABLE IF NOT EXISTS outbox (
    notice_id INTEGER NOT NULL,
    chat_id INTEGER NOT NULL,
    language TEXT NOT NULL,
    topic TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    not_before REAL NOT NULL DEFAULT 0,
    changed_at TEXT,
    PRIMARY KEY (notice_id, chat_id)
);
CREATE INDEX IF NOT EXISTS outbox_state ON outbox (state, notice_id);
CREATE INDEX IF NOT EXISTS outbox_chat ON outbox (chat_id);
CREATE TABLE IF NOT EXISTS known_articles (
    article_id TEXT PRIMARY KEY,
    seen_at TEXT NOT NULL
);
"""


def now_text() -> str:
    """The current UTC time as stored (ISO 8601, seconds)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def open_store(data_dir: Path) -> Path:
    """``<data_dir>/samvad.db`` with the subscription and notice tables present."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / DB_NAME
    with connect(path) as db:
        db.executescript(SCHEMA)
    return path


def withdraw_pending(db: sqlite3.Connection, chat_id: int, topic: str | None = None) -> None:
    """Notices not yet sent to ``chat_id`` (for ``topic``, or any) are not to be sent."""
    sql = "UPDATE outbox SET state = 'withdrawn' WHERE chat_id = ? AND state = 'pending'"
    params: tuple[int | str, ...] = (chat_id,)
    if topic is not None:
        sql += " AND topic = ?"
        params = (chat_id, topic)
    db.execute(sql, params)


def drop_if_unsubscribed(db: sqlite3.Connection, chat_id: int) -> None:
    """A chat with no subscription left is not kept (nor its chat id)."""
    db.execute(
        "DELETE FROM subscribers WHERE chat_id = ? AND NOT EXISTS "
        "(SELECT 1 FROM subscriptions WHERE chat_id = ?)",
        (chat_id, chat_id),
    )


class Subscriptions:
    """Which chats want notices about which topics, in which language."""

    def __init__(self, data_dir: Path) -> None:
        self.path = open_store(data_dir)

    def _connect(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        return connect(self.path)

    def subscribe(self, chat_id: int, sender: str, language: Lang, topic: str) -> bool:
        """Subscribe ``chat_id`` to ``topic`` (notices in ``language``); ``False`` when it
        already was (its language is updated either way)."""
        return self.subscribe_many([(chat_id, sender, language)], topic) == 1

    def subscribe_many(self, chats: Iterable[tuple[int, str, Lang]], topic: str) -> int:
        """Subscribe several chats (chat id, salted hash, language) to ``topic`` in one
        transaction; how many were new."""
        at = now_text()
        added = 0
        with self._connect() as db:
            for chat_id, sender, language in chats:
                db.execute(
                    "INSERT INTO subscribers (chat_id, sender, language, since) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT (chat_id) DO UPDATE SET language = excluded.language,"
                    " sender = excluded.sender",
                    (chat_id, sender, language, at),
                )
                cursor = db.execute(
                    "INSERT OR IGNORE INTO subscriptions (chat_id, topic, subscribed_at)"
                    " VALUES (?, ?, ?)",
                    (chat_id, topic, at),
                )
                added += cursor.rowcount
        return added

    def unsubscribe(self, chat_id: int, topic: str) -> bool:
        """Stop ``topic`` for ``chat_id`` (its notices not yet sent are withdrawn); ``False``
        when it was not subscribed. The chat's row goes with its last subscription."""
        with self._connect() as db:
            cursor = db.execute(
                "DELETE FROM subscriptions WHERE chat_id = ? AND topic = ?", (chat_id, topic)
            )
            withdraw_pending(db, chat_id, topic)
            drop_if_unsubscribed(db, chat_id)
        return cursor.rowcount > 0

    def unsubscribe_all(self, chat_id: int) -> int:
        """Stop every topic for ``chat_id`` and forget the chat; how many topics it had."""
        with self._connect() as db:
            cursor = db.execute("DELETE FROM subscriptions WHERE chat_id = ?", (chat_id,))
            withdraw_pending(db, chat_id)
            db.execute("DELETE FROM subscribers WHERE chat_id = ?", (chat_id,))
        return cursor.rowcount

    def drop_chat(self, chat_id: int) -> int:
        """The chat blocked the bot (or no longer exists): forget it and every notice still
        owed to it; how many subscriptions it had."""
        with self._connect() as db:
            cursor = db.execute("DELETE FROM subscriptions WHERE chat_id = ?", (chat_id,))
            db.execute(
                "UPDATE outbox SET state = 'blocked' WHERE chat_id = ? AND state = 'pending'",
                (chat_id,),
            )
            db.execute("DELETE FROM subscribers WHERE chat_id = ?", (chat_id,))
        return cursor.rowcount

    def topics_of(self, chat_id: int) -> list[str]:
        """The topics ``chat_id`` is subscribed to, in the order subscribed."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT topic FROM subscriptions WHERE chat_id = ? ORDER BY subscribed_at, topic",
                (chat_id,),
            ).fetchall()
        return [topic for (topic,) in rows]

    def language_of(self, chat_id: int) -> Lang | None:
        """The language notices go to ``chat_id`` in (``None``: not subscribed)."""
        with self._connect() as db:
            row = db.execute(
                "SELECT language FROM subscribers WHERE chat_id = ?", (chat_id,)
            ).fetchone()
        return as_language(row[0]) if row else None

    def set_language(self, chat_id: int, language: Lang) -> None:
        """Send future notices to ``chat_id`` in ``language`` (nothing if not subscribed)."""
        with self._connect() as db:
            db.execute("UPDATE subscribers SET language = ? WHERE chat_id = ?", (language, chat_id))

    def count(self, topics: Iterable[str]) -> int:
        """How many chats are subscribed to at least one of ``topics``."""
        wanted = sorted(set(topics))
        if not wanted:
            return 0
        marks = ", ".join("?" for _ in wanted)
        with self._connect() as db:
            (count,) = db.execute(
                f"SELECT COUNT(DISTINCT chat_id) FROM subscriptions WHERE topic IN ({marks})",
                wanted,
            ).fetchone()
        return int(count)

    def subscribed_topics(self) -> set[str]:
        """Every topic somebody is subscribed to."""
        with self._connect() as db:
            return {topic for (topic,) in db.execute("SELECT DISTINCT topic FROM subscriptions")}

    def chats(self) -> Iterator[tuple[int, str]]:
        """Every subscribed chat and its language (for staff counts and tests)."""
        with self._connect() as db:
            rows = db.execute("SELECT chat_id, language FROM subscribers ORDER BY chat_id")
            yield from ((int(chat), str(lang)) for chat, lang in rows.fetchall())
