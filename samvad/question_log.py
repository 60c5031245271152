"""What citizens asked, kept for staff in SQLite: every question, the article a citizen picked
when the bot offered some instead of answering, and 👍/👎 feedback.

User ids are never stored: each is replaced by a salted hash, so staff can count people without
knowing who they are. The salt comes from the ``SAMVAD_USER_SALT`` setting or is created once
in the data folder (readable by the owner only).

>>> import tempfile
>>> log = QuestionLog(Path(tempfile.mkdtemp()))
>>> log.record_question("पाणी कधी येईल?", "mr", 0.71, answered=False, user_id="42")
>>> [row.question for row in log.unanswered()]
['पाणी कधी येईल?']
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import secrets
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from samvad.sqlite_db import DB_NAME, connect

SALT_FILE = ".user_salt"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS questions (
    id INTEGER PRIMARY KEY,
    asked_at TEXT NOT NULL,
    language TEXT NOT NULL,
    question TEXT NOT NULL,
    best_score REAL NOT NULL,
    answered INTEGER NOT NULL,
    article_ids TEXT NOT NULL DEFAULT '',
    user_hash TEXT
);
CREATE INDEX IF NOT EXISTS questions_asked_at ON questions (asked_at);
CREATE TABLE IF NOT EXISTS picks (
    id INTEGER PRIMARY KEY,
    picked_at TEXT NOT NULL,
    question TEXT NOT NULL,
    article_id TEXT NOT NULL,
    user_hash TEXT
);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY,
    given_at TEXT NOT NULL,
    question TEXT NOT NULL,
    article_ids TEXT NOT NULL,
    helpful INTEGER NOT NULL,
    user_hash TEXT
);
"""


@dataclass(frozen=True)
class LoggedQuestion:
    """One question the bot could not answer; ``offered`` are the articles it offered instead
    when it was not sure (empty when it had none to offer), and ``picked`` the one the citizen
    then chose (``""``: none of them; ``None``: no choice recorded)."""

    asked_at: str
    language: str
    question: str
    best_score: float
    user_hash: str | None
    offered: tuple[str, ...] = ()
    picked: str | None = None


@dataclass(frozen=True)
class CitizenLabel:
    """A citizen's word on which article answers ``question``: the one they ``picked``
    among the offered articles (``article`` ``None``: none of them), or the one cited by an
    answer they found ``helpful`` (👍). ``user_hash`` is the citizen's pseudonym."""

    question: str
    article: str | None
    kind: Literal["picked", "helpful"]
    given_at: str
    user_hash: str | None


@dataclass(frozen=True)
class LanguageStats:
    """Counts for one language over a period."""

    language: str
    questions: int
    answered: int
    unanswered: int


@dataclass(frozen=True)
class Stats:
    """What citizens asked over the last ``days`` days, for staff reports."""

    days: int
    by_language: tuple[LanguageStats, ...]
    helpful: int
    not_helpful: int
    frequent_unanswered: tuple[tuple[str, int], ...]

    @property
    def questions(self) -> int:
        """All questions in the period."""
        return sum(s.questions for s in self.by_language)


def stored_secret(path: Path) -> str:
    """The random secret kept in ``path``, created once (owner-only) if it does not exist."""
    if not path.exists():
        with contextlib.suppress(FileExistsError):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(16))
    return path.read_text(encoding="utf-8").strip()


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class QuestionLog:
    """Append-only log of questions and feedback in ``<data_dir>/samvad.db``."""

    def __init__(self, data_dir: Path, salt: str | None = None) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.path = data_dir / DB_NAME
        self._salt = salt or self._stored_salt(data_dir)
        with self._connect() as db:
            db.executescript(_SCHEMA)

    @property
    def salt(self) -> str:
        """The salt of :meth:`user_hash` (kept in the data folder, or the configured one)."""
        return self._salt

    @staticmethod
    def _stored_salt(data_dir: Path) -> str:
        return stored_secret(data_dir / SALT_FILE)

    def _connect(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        return connect(self.path)

    def user_hash(self, user_id: str | None) -> str | None:
        """The salted hash stored instead of a user id (``None`` stays ``None``)."""
        if user_id is None:
            return None
        return hashlib.sha256(f"{self._salt}:{user_id}".encode()).hexdigest()[:16]

    def record_question(
        self,
        question: str,
        language: str,
        best_score: float,
        answered: bool,
        user_id: str | None = None,
        article_ids: list[str] | None = None,
    ) -> None:
        """Store one question and whether it was answered."""
        with self._connect() as db:
            db.execute(
                "INSERT INTO questions (asked_at, language, question, best_score, answered,"
                " article_ids, user_hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    _now(),
                    language,
                    question,
                    float(best_score),
                    int(answered),
                    ",".join(article_ids or []),
                    self.user_hash(user_id),
                ),
            )

    def record_pick(self, question: str, article_id: str | None, user_id: str | None) -> None:
        """Store which offered article a citizen chose for ``question`` (``None``: none)."""
        with self._connect() as db:
            db.execute(
                "INSERT INTO picks (picked_at, question, article_id, user_hash)"
                " VALUES (?, ?, ?, ?)",
                (_now(), question, article_id or "", self.user_hash(user_id)),
            )

    def record_feedback(
        self, question: str, article_ids: list[str], helpful: bool, user_id: str | None = None
    ) -> None:
        """Store a 👍 (``helpful=True``) or 👎 for the articles cited in an answer."""
        with self._connect() as db:
            db.execute(
                "INSERT INTO feedback (given_at, question, article_ids, helpful, user_hash)"
                " VALUES (?, ?, ?, ?, ?)",
                (_now(), question, ",".join(article_ids), int(helpful), self.user_hash(user_id)),
            )

    def unanswered(self, limit: int | None = None) -> list[LoggedQuestion]:
        """Questions the bot said it could not answer, newest first."""
        sql = (
            "SELECT q.asked_at, q.language, q.question, q.best_score, q.user_hash,"
            " q.article_ids, (SELECT p.article_id FROM picks p WHERE p.question = q.question"
            " AND p.user_hash IS q.user_hash AND p.picked_at >= q.asked_at"
            " ORDER BY p.id LIMIT 1)"
            " FROM questions q WHERE q.answered = 0 ORDER BY q.id DESC"
        )
        params: tuple[int, ...] = ()
        if limit is not None:
            sql += " LIMIT ?"
            params = (limit,)
        with self._connect() as db:
            rows = db.execute(sql, params).fetchall()
        return [
            LoggedQuestion(
                asked, lang, text, score, user, tuple(a for a in ids.split(",") if a), picked
            )
            for asked, lang, text, score, user, ids, picked in rows
        ]

    def labels(self, days: int) -> list[CitizenLabel]:
        """The picks and 👍 of the last ``days`` days, newest first (a 👍 names the first
        article its answer cited; a 👎 says what was wrong, not which article is right, so it
        gives none)."""
        since = (dt.datetime.now(dt.UTC) - dt.timedelta(days=days)).isoformat(timespec="seconds")
        with self._connect() as db:
            rows = db.execute(
                "SELECT question, article_id, 'picked', picked_at, user_hash FROM picks"
                " WHERE picked_at >= ?"
                " UNION ALL SELECT question, article_ids, 'helpful', given_at, user_hash"
                " FROM feedback WHERE helpful = 1 AND article_ids != '' AND given_at >= ?"
                " ORDER BY 4 DESC",
                (since, since),
            ).fetchall()
        return [
            CitizenLabel(question, ids.split(",")[0] or None, kind, at, user)
            for question, ids, kind, at, user in rows
        ]

    def stats(self, days: int, top_unanswered: int = 10) -> Stats:
        """Questions by language (answered vs not), 👍/👎, most frequent unanswered questions."""
        since = (dt.datetime.now(dt.UTC) - dt.timedelta(days=days)).isoformat(timespec="seconds")
        with self._connect() as db:
            per_language = db.execute(
                "SELECT language, COUNT(*), SUM(answered) FROM questions WHERE asked_at >= ?"
                " GROUP BY language ORDER BY language",
                (since,),
            ).fetchall()
            helpful, not_helpful = db.execute(
                "SELECT COALESCE(SUM(helpful), 0), COALESCE(SUM(1 - helpful), 0) FROM feedback"
                " WHERE given_at >= ?",
                (since,),
            ).fetchone()
            frequent = db.execute(
                "SELECT question, COUNT(*) AS n FROM questions WHERE answered = 0"
                " AND asked_at >= ? GROUP BY lower(question) ORDER BY n DESC, MAX(id) DESC"
                " LIMIT ?",
                (since, top_unanswered),
            ).fetchall()
        return Stats(
            days=days,
            by_language=tuple(
                LanguageStats(lang, total, answered or 0, total - (answered or 0))
                for lang, total, answered in per_language
            ),
            helpful=int(helpful),
            not_helpful=int(not_helpful),
            frequent_unanswered=tuple((q, int(n)) for q, n in frequent),
        )
