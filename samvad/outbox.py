"""Notices to subscribers, and the persistent outbox they are delivered from.

A **notice** tells the subscribers of an article's topics that the article is new. Its life::

    proposed ──staff: send──▶ sending ──every delivery settled──▶ done
        └─────staff: don't send──▶ dropped

At "send" (:meth:`Outbox.confirm`) the article's summary is fixed in the notice and every
subscribed chat gets one **outbox** row, in one transaction: the snapshot of who is owed the
notice. Each row then moves, committed at every step::

    pending ──claim──▶ sending ──Telegram said yes──▶ sent
                          ├──403 / chat gone──▶ blocked (and the chat's subscriptions go)
                          ├──refused for good, or too many tries──▶ failed
                          └──rate limit, network──▶ pending (again, after a pause)
    pending ──the chat unsubscribed meanwhile──▶ withdrawn

A row is claimed (:meth:`Outbox.claim`) just before its message goes out and marked right
after Telegram answers. **The crash window**: a process that dies between the two leaves rows
``sending`` — Telegram may or may not have the message, and the Bot API has no idempotency key
to ask. :meth:`Outbox.recover` (at start-up) puts them back to ``pending``: *at least once*.
A citizen is never left out by a crash; the price is that a message in flight at the moment of
a hard crash (at most the sender's concurrency, a few) may arrive twice. A clean stop drains
what is in flight first, so only a hard crash (SIGKILL, power cut) can do that; the count of
rows re-sent so is kept in the notice (``resent``) and audited.

When a notice is done its outbox rows are deleted: the counts stay in the notice, the chat ids
do not. ``known_articles`` remembers which article ids were already seen, so only a *new*
article is proposed, and an edit of one already sent is not sent again unless staff ask.

>>> import tempfile
>>> from samvad.subscriptions import Subscriptions
>>> folder = Path(tempfile.mkdtemp())
>>> Subscriptions(folder).subscribe(42, "hash-42", "mr", "water")
True
>>> outbox = Outbox(folder)
>>> notice = outbox.propose("water-cut", ["water"], staff_id=7)
>>> outbox.confirm(notice.id, staff_id=7, staff_chat=7, versions=[]).total
1
>>> delivery = outbox.claim()
>>> (delivery.chat_id, delivery.language), outbox.claim() is None
((42, 'mr'), True)
>>> outbox.mark_sent(delivery); outbox.finish(notice.id).sent
1
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from samvad.language import Lang, as_language
from samvad.sqlite_db import connect
from samvad.subscriptions import drop_if_unsubscribed, now_text, open_store
from samvad.summary import Summary

NoticeState = Literal["proposed", "sending", "done", "dropped"]
# Tries per delivery before it counts as failed (network errors, rate limits that outlast
# the rate limiter's own retries).
MAX_ATTEMPTS = 5
# The row in ``known_articles`` saying the articles present at the first start were recorded
# (no article id is empty).
SEEDED = ""


@dataclass(frozen=True)
class Notice:
    """One notice: which article, for which topics, how far it got."""

    id: int
    article_id: str
    topics: tuple[str, ...]
    state: NoticeState
    proposed_at: str
    proposed_by: int
    decided_by: int | None
    decided_at: str | None
    versions: tuple[Summary, ...]
    staff_chat: int | None
    progress_message: int | None
    total: int
    sent: int
    blocked: int
    failed: int
    resent: int
    finished_at: str | None

    def version(self, language: Lang) -> Summary | None:
        """The summary in ``language`` (``None``: the article has no such version)."""
        return next((v for v in self.versions if v.language == language), None)


@dataclass(frozen=True)
class Delivery:
    """One outbox row: the notice owed to one chat, in its language, for one of its topics."""

    notice_id: int
    chat_id: int
    language: Lang
    topic: str
    attempts: int


@dataclass(frozen=True)
class Progress:
    """How far a notice's delivery is."""

    total: int
    pending: int = 0
    sending: int = 0
    sent: int = 0
    blocked: int = 0
    failed: int = 0

    @property
    def settled(self) -> int:
        """Deliveries that will not change any more (sent, blocked, failed or withdrawn)."""
        return self.total - self.pending - self.sending

    @property
    def withdrawn(self) -> int:
        """Deliveries no longer owed: the chat unsubscribed or asked to be forgotten."""
        return self.total - self.pending - self.sending - self.sent - self.blocked - self.failed

    @property
    def finished(self) -> bool:
        """Nothing is left to send."""
        return self.pending == 0 and self.sending == 0


_NOTICE_COLUMNS = (
    "id, article_id, topics, state, proposed_at, proposed_by, decided_by, decided_at, content, "
    "staff_chat, progress_message, total, sent, blocked, failed, resent, finished_at"
)


def _versions(content: str) -> tuple[Summary, ...]:
    if not content:
        return ()
    return tuple(Summary.from_json(v) for v in json.loads(content).get("versions", ()))


def _notice(row: Sequence[Any]) -> Notice:
    (id_, article_id, topics, state, proposed_at, proposed_by, decided_by, decided_at, content,
     staff_chat, progress, total, sent, blocked, failed, resent, finished_at) = row  # fmt: skip

    def number(value: Any) -> int | None:
        return None if value is None else int(value)

    return Notice(
        int(id_), str(article_id), tuple(t for t in str(topics).split(",") if t), state,
        str(proposed_at), int(proposed_by), number(decided_by),
        None if decided_at is None else str(decided_at), _versions(str(content)),
        number(staff_chat), number(progress), int(total), int(sent), int(blocked), int(failed),
        int(resent), None if finished_at is None else str(finished_at),
    )  # fmt: skip


class Outbox:
    """Notices and their deliveries in ``<data_dir>/samvad.db``; every method is one
    transaction, safe to call from several threads and processes."""

    def __init__(self, data_dir: Path) -> None:
        self.path = open_store(data_dir)

    def _connect(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        return connect(self.path)

    # --- which articles are new ----------------------------------------------------------------

    def seed_known_articles(self, article_ids: Iterable[str]) -> bool:
        """The first time only (a new installation, or the first start with notices): record
        the articles already there as seen, so they are never proposed as new. ``True`` when
        this call did it."""
        at = now_text()
        with self._connect() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO known_articles (article_id, seen_at) VALUES (?, ?)",
                (SEEDED, at),
            )
            if cursor.rowcount == 0:
                return False
            db.executemany(
                "INSERT OR IGNORE INTO known_articles (article_id, seen_at) VALUES (?, ?)",
                [(article_id, at) for article_id in article_ids],
            )
        return True

    def claim_new_articles(self, article_ids: Iterable[str]) -> list[str]:
        """Record ``article_ids`` as seen; those not seen before (each is new only once, to
        whichever caller records it first)."""
        at = now_text()
        new = []
        with self._connect() as db:
            for article_id in dict.fromkeys(article_ids):
                cursor = db.execute(
                    "INSERT OR IGNORE INTO known_articles (article_id, seen_at) VALUES (?, ?)",
                    (article_id, at),
                )
                if cursor.rowcount:
                    new.append(article_id)
        return new

    # --- notices -------------------------------------------------------------------------------

    def propose(self, article_id: str, topics: Iterable[str], staff_id: int = 0) -> Notice:
        """A new notice of ``article_id`` for ``topics``, waiting for staff to confirm it."""
        with self._connect() as db:
            cursor = db.execute(
                "INSERT INTO notices (article_id, topics, state, proposed_at, proposed_by)"
                " VALUES (?, ?, 'proposed', ?, ?)",
                (article_id, ",".join(dict.fromkeys(topics)), now_text(), int(staff_id)),
            )
            notice_id = cursor.lastrowid
        found = self.notice(int(notice_id or 0))
        assert found is not None
        return found

    def notice(self, notice_id: int) -> Notice | None:
        """The notice with ``notice_id`` (``None``: no such notice)."""
        with self._connect() as db:
            row = db.execute(
                f"SELECT {_NOTICE_COLUMNS} FROM notices WHERE id = ?", (notice_id,)
            ).fetchone()
        return _notice(row) if row else None

    def notices(self, state: NoticeState | None = None) -> list[Notice]:
        """Every notice (in ``state``), oldest first."""
        sql = f"SELECT {_NOTICE_COLUMNS} FROM notices"
        params: tuple[str, ...] = ()
        if state is not None:
            sql += " WHERE state = ?"
            params = (state,)
        with self._connect() as db:
            rows = db.execute(sql + " ORDER BY id", params).fetchall()
        return [_notice(row) for row in rows]

    def last_sent(self, article_id: str) -> Notice | None:
        """The latest notice of ``article_id`` that was sent (or is being sent)."""
        with self._connect() as db:
            row = db.execute(
                f"SELECT {_NOTICE_COLUMNS} FROM notices WHERE article_id = ?"
                " AND state IN ('sending', 'done') ORDER BY id DESC LIMIT 1",
                (article_id,),
            ).fetchone()
        return _notice(row) if row else None

    def confirm(
        self, notice_id: int, staff_id: int, staff_chat: int | None, versions: Sequence[Summary]
    ) -> Notice | None:
        """Staff said "send": fix the summary, and owe the notice to every chat subscribed to
        one of its topics now (one outbox row each, in the language of the chat). ``None``
        when the notice was already decided (by another staff member, or pressed twice)."""
        content = json.dumps({"versions": [v.to_json() for v in versions]}, ensure_ascii=False)
        with self._connect() as db:
            cursor = db.execute(
                "UPDATE notices SET state = 'sending', decided_by = ?, decided_at = ?,"
                " content = ?, staff_chat = ? WHERE id = ? AND state = 'proposed'",
                (int(staff_id), now_text(), content, staff_chat, notice_id),
            )
            if cursor.rowcount == 0:
                return None
            (topics,) = db.execute(
                "SELECT topics FROM notices WHERE id = ?", (notice_id,)
            ).fetchone()
            wanted = [t for t in str(topics).split(",") if t]
            marks = ", ".join("?" for _ in wanted) or "''"
            db.execute(
                "INSERT OR IGNORE INTO outbox (notice_id, chat_id, language, topic)"
                " SELECT ?, s.chat_id, c.language, s.topic FROM subscriptions s"
                " JOIN subscribers c ON c.chat_id = s.chat_id"
                f" WHERE s.topic IN ({marks}) ORDER BY s.subscribed_at, s.chat_id",
                (notice_id, *wanted),
            )
            (total,) = db.execute(
                "SELECT COUNT(*) FROM outbox WHERE notice_id = ?", (notice_id,)
            ).fetchone()
            db.execute("UPDATE notices SET total = ? WHERE id = ?", (total, notice_id))
        return self.notice(notice_id)

    def drop(self, notice_id: int, staff_id: int) -> bool:
        """Staff said "don't send"; ``False`` when it was already decided."""
        with self._connect() as db:
            cursor = db.execute(
                "UPDATE notices SET state = 'dropped', decided_by = ?, decided_at = ?"
                " WHERE id = ? AND state = 'proposed'",
                (int(staff_id), now_text(), notice_id),
            )
        return cursor.rowcount > 0

    def set_progress_message(self, notice_id: int, chat_id: int, message_id: int) -> None:
        """Where the staff member's "sent N / M" message is (to edit it, also after a restart)."""
        with self._connect() as db:
            db.execute(
                "UPDATE notices SET staff_chat = ?, progress_message = ? WHERE id = ?",
                (chat_id, message_id, notice_id),
            )

    # --- deliveries ----------------------------------------------------------------------------

    def recover(self) -> int:
        """At start-up: deliveries left ``sending`` by a crash go back to ``pending`` (at least
        once; see the module's notes). How many; each notice counts its own in ``resent``."""
        with self._connect() as db:
            db.execute(
                "UPDATE notices SET resent = resent + (SELECT COUNT(*) FROM outbox"
                " WHERE outbox.notice_id = notices.id AND outbox.state = 'sending')"
                " WHERE state = 'sending'"
            )
            cursor = db.execute(
                "UPDATE outbox SET state = 'pending', changed_at = ? WHERE state = 'sending'",
                (now_text(),),
            )
        return cursor.rowcount

    def claim(self, now: float | None = None) -> Delivery | None:
        """The next delivery owed, marked ``sending`` (``None``: nothing is due)."""
        moment = time.time() if now is None else now
        with self._connect() as db:
            row = db.execute(
                "UPDATE outbox SET state = 'sending', attempts = attempts + 1, changed_at = ?"
                " WHERE rowid = (SELECT o.rowid FROM outbox o JOIN notices n"
                " ON n.id = o.notice_id WHERE o.state = 'pending' AND n.state = 'sending'"
                " AND o.not_before <= ? ORDER BY o.notice_id, o.rowid LIMIT 1)"
                " RETURNING notice_id, chat_id, language, topic, attempts",
                (now_text(), moment),
            ).fetchone()
        if row is None:
            return None
        notice_id, chat_id, language, topic, attempts = row
        return Delivery(
            int(notice_id), int(chat_id), as_language(language) or "mr", str(topic), int(attempts)
        )

    def _settle(self, delivery: Delivery, state: str, not_before: float = 0.0) -> bool:
        with self._connect() as db:
            cursor = db.execute(
                "UPDATE outbox SET state = ?, not_before = ?, changed_at = ?"
                " WHERE notice_id = ? AND chat_id = ? AND state = 'sending'",
                (state, not_before, now_text(), delivery.notice_id, delivery.chat_id),
            )
        return cursor.rowcount > 0

    def mark_sent(self, delivery: Delivery) -> None:
        """Telegram accepted the message."""
        self._settle(delivery, "sent")

    def mark_failed(self, delivery: Delivery) -> None:
        """Telegram refused the message for good (not a blocked chat)."""
        self._settle(delivery, "failed")

    def mark_blocked(self, delivery: Delivery) -> None:
        """The chat blocked the bot (403) or is gone: this delivery and every other one owed
        to it are off, and its subscriptions are deleted."""
        with self._connect() as db:
            db.execute(
                "UPDATE outbox SET state = 'blocked', changed_at = ? WHERE chat_id = ?"
                " AND (state = 'pending' OR (notice_id = ? AND state = 'sending'))",
                (now_text(), delivery.chat_id, delivery.notice_id),
            )
            db.execute("DELETE FROM subscriptions WHERE chat_id = ?", (delivery.chat_id,))
            drop_if_unsubscribed(db, delivery.chat_id)

    def retry_later(self, delivery: Delivery, seconds: float) -> bool:
        """Try again in ``seconds`` (rate limit, network trouble); after :data:`MAX_ATTEMPTS`
        tries it is failed instead. ``True`` when it will be retried."""
        if delivery.attempts >= MAX_ATTEMPTS:
            self.mark_failed(delivery)
            return False
        return self._settle(delivery, "pending", time.time() + seconds)

    def progress(self, notice_id: int) -> Progress:
        """Counts of the notice's deliveries by state (the final ones once it is done)."""
        with self._connect() as db:
            row = db.execute(
                "SELECT state, total, sent, blocked, failed FROM notices WHERE id = ?",
                (notice_id,),
            ).fetchone()
            if row is None:
                return Progress(0)
            state, total, sent, blocked, failed = row
            if state == "done":
                return Progress(int(total), 0, 0, int(sent), int(blocked), int(failed))
            counts = dict(
                db.execute(
                    "SELECT state, COUNT(*) FROM outbox WHERE notice_id = ? GROUP BY state",
                    (notice_id,),
                ).fetchall()
            )
        return Progress(
            int(total),
            int(counts.get("pending", 0)),
            int(counts.get("sending", 0)),
            int(counts.get("sent", 0)),
            int(counts.get("blocked", 0)),
            int(counts.get("failed", 0)),
        )

    def finish(self, notice_id: int) -> Progress | None:
        """Close a notice whose every delivery is settled: keep the counts, delete its outbox
        rows (and with them the chat ids). The final progress if this call closed it, else
        ``None`` (still sending, or closed already)."""
        with self._connect() as db:
            left = db.execute(
                "SELECT COUNT(*) FROM outbox WHERE notice_id = ? AND state IN"
                " ('pending', 'sending')",
                (notice_id,),
            ).fetchone()[0]
            if left:
                return None
            counts = dict(
                db.execute(
                    "SELECT state, COUNT(*) FROM outbox WHERE notice_id = ? GROUP BY state",
                    (notice_id,),
                ).fetchall()
            )
            cursor = db.execute(
                "UPDATE notices SET state = 'done', sent = ?, blocked = ?, failed = ?,"
                " finished_at = ? WHERE id = ? AND state = 'sending'",
                (
                    int(counts.get("sent", 0)),
                    int(counts.get("blocked", 0)),
                    int(counts.get("failed", 0)),
                    now_text(),
                    notice_id,
                ),
            )
            if cursor.rowcount == 0:
                return None
            db.execute("DELETE FROM outbox WHERE notice_id = ?", (notice_id,))
        return self.progress(notice_id)
