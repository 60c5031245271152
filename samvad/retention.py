"""Keeping citizens' data only as long as needed, and erasing it on request.

What Samvad stores about a citizen: their questions (personal numbers already masked), the
articles they picked, their 👍/👎 — in ``<data_dir>/samvad.db`` under a salted hash, never the
Telegram id — and their conversation in Rasa's tracker store (language, last question), under
the bot's salted chat hash. Two operations act on all of it:

- :func:`purge_expired`: delete what is older than the retention period (the
  ``SAMVAD_RETENTION_DAYS`` setting; staff actions in the audit after
  ``SAMVAD_AUDIT_RETENTION_DAYS``). The knowledge watcher runs it every hour; ``samvad purge``
  runs it by hand.
- :func:`forget_citizen`: delete everything of one citizen, at their ``/forget`` or by staff
  with ``samvad forget USER_HASH`` — their topic subscriptions (which keep the chat id while
  they last) too. The erasure is recorded in the audit with counts only.

Deleted rows are overwritten (SQLite ``secure_delete``) and the write-ahead log is truncated,
so no copy of the text stays in the database files. Rasa's tracker store is SQLite
(``SAMVAD_TRACKER_DB``) or, with ``SAMVAD_STORES=shared``, PostgreSQL: conversations are
erased from whichever Rasa uses (:mod:`samvad.conversations`).

>>> import tempfile
>>> from samvad.question_log import QuestionLog
>>> folder = Path(tempfile.mkdtemp())
>>> log = QuestionLog(folder, salt="s")
>>> log.record_question("पाणी कधी येईल?", "mr", 0.7, answered=False, user_id="chat-1")
>>> from samvad.conversations import SQLiteConversations
>>> none = SQLiteConversations(folder / "no-tracker.db")
>>> forget_citizen(folder, none, log.user_hash("chat-1") or "").questions
1
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from samvad.audit import AuditLog
from samvad.conversations import Conversations
from samvad.sqlite_db import DB_NAME, erasing, has_table

logger = logging.getLogger(__name__)
# Tables of samvad.db that hold citizens' data, and the column with each row's time.
CITIZEN_TABLES = {"questions": "asked_at", "picks": "picked_at", "feedback": "given_at"}
# The audit records erasures as done by "the citizen" (no staff id): this stands for them.
CITIZEN_ACTOR = 0


@dataclass(frozen=True)
class Erased:
    """How many records an erasure or a purge removed, per store."""

    questions: int = 0
    picks: int = 0
    feedback: int = 0
    conversation_events: int = 0
    audit: int = 0
    subscriptions: int = 0

    @property
    def total(self) -> int:
        """All records removed."""
        return (
            self.questions
            + self.picks
            + self.feedback
            + self.conversation_events
            + self.audit
            + self.subscriptions
        )

    def summary(self) -> str:
        """One line for staff and the audit (counts only, never content)."""
        return (
            f"{self.questions} questions, {self.picks} picks, {self.feedback} feedback, "
            f"{self.conversation_events} conversation events, {self.audit} audit entries, "
            f"{self.subscriptions} subscriptions"
        )


def _user_hash(salt: str, sender_id: str) -> str:
    """The question log's hash of a Rasa sender id (as ``QuestionLog.user_hash`` makes it)."""
    return hashlib.sha256(f"{salt}:{sender_id}".encode()).hexdigest()[:16]


def _forget_subscriptions(
    db: sqlite3.Connection, user_hash: str, sender_id: str | None, salt: str | None
) -> int:
    """Delete the chats (subscriber rows, their subscriptions and every notice row owed to
    them) whose salted hash is ``sender_id``, or hashes to ``user_hash`` with ``salt``; how
    many subscriptions they had."""
    if not has_table(db, "subscribers"):
        return 0
    rows = db.execute("SELECT chat_id, sender FROM subscribers").fetchall()
    if sender_id is not None:
        chats = [chat for chat, sender in rows if sender == sender_id]
    elif salt is not None:
        chats = [chat for chat, sender in rows if _user_hash(salt, sender) == user_hash]
    else:
        chats = []
    removed = 0
    for chat in chats:
        removed += db.execute("DELETE FROM subscriptions WHERE chat_id = ?", (chat,)).rowcount
        db.execute("DELETE FROM subscribers WHERE chat_id = ?", (chat,))
        if has_table(db, "outbox"):
            db.execute("DELETE FROM outbox WHERE chat_id = ?", (chat,))
    return removed


def forget_citizen(
    data_dir: Path,
    conversations: Conversations,
    user_hash: str,
    sender_id: str | None = None,
    salt: str | None = None,
) -> Erased:
    """Delete every record of one citizen: their questions, picks and feedback (by
    ``user_hash``), their Rasa conversation and their topic subscriptions with the notices
    still owed to them (by ``sender_id``, or — for staff, who know only the hash — every
    conversation and subscribed chat whose sender hashes to ``user_hash`` with ``salt``)."""
    counts: dict[str, int] = {}
    database = data_dir / DB_NAME
    if database.is_file():
        with erasing(database) as db:
            for table in CITIZEN_TABLES:
                if has_table(db, table):
                    cursor = db.execute(f"DELETE FROM {table} WHERE user_hash = ?", (user_hash,))
                    counts[table] = cursor.rowcount
            counts["subscriptions"] = _forget_subscriptions(db, user_hash, sender_id, salt)
    senders = [sender_id] if sender_id is not None else []
    if sender_id is None and salt is not None:
        senders = [s for s in conversations.senders() if _user_hash(salt, s) == user_hash]
    events = sum(conversations.forget(sender) for sender in senders)
    return Erased(
        counts.get("questions", 0),
        counts.get("picks", 0),
        counts.get("feedback", 0),
        events,
        subscriptions=counts.get("subscriptions", 0),
    )


def purge_expired(
    data_dir: Path,
    conversations: Conversations,
    retention_days: int,
    audit_retention_days: int,
    now: dt.datetime | None = None,
) -> Erased:
    """Delete citizens' records older than ``retention_days`` (questions, picks, feedback and
    Rasa conversation events) and staff actions older than ``audit_retention_days``."""
    now = now or dt.datetime.now(dt.UTC)
    cutoff = now - dt.timedelta(days=retention_days)
    audit_cutoff = now - dt.timedelta(days=audit_retention_days)
    counts: dict[str, int] = {}
    database = data_dir / DB_NAME
    if database.is_file():
        with erasing(database) as db:
            for table, column in CITIZEN_TABLES.items():
                if has_table(db, table):
                    cursor = db.execute(
                        f"DELETE FROM {table} WHERE {column} < ?",
                        (cutoff.isoformat(timespec="seconds"),),
                    )
                    counts[table] = cursor.rowcount
            if has_table(db, "audit"):
                cursor = db.execute(
                    "DELETE FROM audit WHERE at < ?",
                    (audit_cutoff.isoformat(timespec="seconds"),),
                )
                counts["audit"] = cursor.rowcount
    events = conversations.purge(before=cutoff.timestamp())
    return Erased(
        counts.get("questions", 0),
        counts.get("picks", 0),
        counts.get("feedback", 0),
        events,
        counts.get("audit", 0),
    )


def record_erasure(data_dir: Path, erased: Erased, by_staff: int | None = None) -> None:
    """Note an erasure in the audit: who asked (the citizen, or a staff id) and the counts —
    never the content or the citizen's hash."""
    actor = CITIZEN_ACTOR if by_staff is None else by_staff
    requester = "citizen" if by_staff is None else "staff"
    AuditLog(data_dir).record(actor, "forget", requester, "ok", erased.summary())


def every(seconds: float, job: Callable[[], None], stop: threading.Event) -> None:
    """Run ``job`` now and then every ``seconds`` until ``stop`` is set (for a thread); a
    failing run is reported and the next one still happens."""
    while not stop.is_set():
        try:
            job()
        except Exception:
            logger.exception("a periodic job failed")
        stop.wait(seconds)
