"""Retention and erasure on real SQLite files: the question log, the audit, and a tracker
store with Rasa's own ``events`` schema (the real Rasa server writes it in the end-to-end
test of ``/forget``; here it is created with the same columns, no Rasa needed)."""

from __future__ import annotations

import datetime as dt
import io
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from samvad.audit import AuditLog
from samvad.cli import EXIT_OK, EXIT_USAGE, main
from samvad.conversations import Conversations, PostgresConversations, SQLiteConversations
from samvad.question_log import QuestionLog
from samvad.retention import forget_citizen, purge_expired, record_erasure
from samvad.sqlite_db import DB_NAME
from tests.servers import private_stores, services, services_psql

SALT = "retention-test"
# Rasa 3.6's SQLTrackerStore table (rasa/core/tracker_store.py, SQLEvent); on PostgreSQL its
# id is a sequence, as SQLAlchemy makes it there.
RASA_EVENTS = (
    "CREATE TABLE events (id {id} PRIMARY KEY, sender_id VARCHAR(255) NOT NULL, "
    "type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255), "
    "action_name VARCHAR(255), data TEXT)"
)
NO_TRACKER = SQLiteConversations(Path("/nonexistent/tracker.db"))
QUESTIONS = {"mr": "घोडबंदरला पाणी कधी येणार?", "en": "When will water come to Ghodbunder?"}


class Tracker:
    """A tracker store with Rasa's table on one back end, and how the test fills and reads it."""

    store: Conversations

    def insert(self, events: list[tuple[str, float, str]]) -> None:
        """Add user events (sender, timestamp, text)."""
        raise NotImplementedError

    def column(self, name: str) -> list[str]:
        """One column of every stored event, by id."""
        raise NotImplementedError


class SQLiteTracker(Tracker):
    def __init__(self, path: Path) -> None:
        self.path = path
        self.store = SQLiteConversations(path)

    def insert(self, events: list[tuple[str, float, str]]) -> None:
        with closing(sqlite3.connect(self.path)) as db, db:
            db.execute(RASA_EVENTS.format(id="INTEGER"))
            db.executemany(
                "INSERT INTO events (sender_id, type_name, timestamp, data)"
                " VALUES (?, 'user', ?, ?)",
                events,
            )

    def column(self, name: str) -> list[str]:
        return [str(v) for (v,) in rows(self.path, f"SELECT {name} FROM events ORDER BY id")]


class PostgresTracker(Tracker):
    """A fresh database on the private PostgreSQL of ``scripts/services.sh``."""

    def __init__(self, database: str) -> None:
        self.database = database
        services_psql(f"CREATE DATABASE {database}")
        settings = private_stores(database)
        self.store = PostgresConversations(settings.postgres_url, settings.postgres_password_file)

    def insert(self, events: list[tuple[str, float, str]]) -> None:
        values = ", ".join(f"('{sender}', 'user', {at!r}, '{text}')" for sender, at, text in events)
        services_psql(
            RASA_EVENTS.format(id="SERIAL") + "; INSERT INTO events (sender_id, type_name,"
            f" timestamp, data) VALUES {values}",
            self.database,
        )

    def column(self, name: str) -> list[str]:
        return [
            r[0] for r in services_psql(f"SELECT {name} FROM events ORDER BY id", self.database)
        ]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.servers)])
def tracker(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Tracker]:
    """Rasa's tracker table on SQLite (the embedded set-up) and on PostgreSQL (the shared one)."""
    if request.param == "sqlite":
        yield SQLiteTracker(tmp_path / "tracker.db")
        return
    services("start")
    database = f"samvad_retention_{uuid.uuid4().hex[:12]}"
    yield PostgresTracker(database)
    services_psql(f"DROP DATABASE IF EXISTS {database}", check=False)


def rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(path)) as db:
        return list(db.execute(sql).fetchall())


@pytest.fixture
def log(tmp_path: Path) -> QuestionLog:
    return QuestionLog(tmp_path / "data", salt=SALT)


@pytest.mark.parametrize("lang", ["mr", "en"])
def test_forget_removes_every_record_of_one_citizen_only(
    log: QuestionLog, tracker: Tracker, lang: str
) -> None:
    question = QUESTIONS[lang]
    for user in ("chat-a", "chat-b"):
        log.record_question(question, lang, 0.7, False, user, ["water-cut"])
        log.record_pick(question, "water-cut", user)
        log.record_feedback(question, ["water-cut"], True, user)
    now = time.time()
    tracker.insert([("chat-a", now, question), ("chat-a", now, "hi"), ("chat-b", now, question)])
    data_dir = log.path.parent
    erased = forget_citizen(data_dir, tracker.store, log.user_hash("chat-a") or "", "chat-a")
    assert (erased.questions, erased.picks, erased.feedback) == (1, 1, 1)
    assert erased.conversation_events == 2
    for table in ("questions", "picks", "feedback"):
        assert rows(log.path, f"SELECT user_hash FROM {table}") == [(log.user_hash("chat-b"),)]
    assert tracker.column("sender_id") == ["chat-b"]


def test_erased_text_leaves_no_copy_in_the_database_files(log: QuestionLog, tmp_path: Path) -> None:
    secret = "पाणी-प्रश्न-खास-42"
    log.record_question(secret, "mr", 0.7, False, "chat-a")
    log.record_feedback(secret, ["x"], False, "chat-a")
    tracker = SQLiteTracker(tmp_path / "tracker.db")
    tracker.insert([("chat-a", time.time(), secret)])
    forget_citizen(log.path.parent, tracker.store, log.user_hash("chat-a") or "", "chat-a")
    needle = secret.encode()
    for path in [*log.path.parent.iterdir(), tracker.path]:
        assert needle not in path.read_bytes(), path.name


def test_staff_forget_by_hash_finds_the_conversation(log: QuestionLog, tracker: Tracker) -> None:
    log.record_question("q", "en", 0.7, False, "chat-a")
    tracker.insert([("chat-a", time.time(), "q"), ("chat-b", time.time(), "q")])
    erased = forget_citizen(
        log.path.parent, tracker.store, log.user_hash("chat-a") or "", sender_id=None, salt=SALT
    )
    assert (erased.questions, erased.conversation_events) == (1, 1)
    assert tracker.column("sender_id") == ["chat-b"]


def test_purge_keeps_only_the_retention_period(log: QuestionLog, tracker: Tracker) -> None:
    now = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    log.record_question("new", "en", 0.7, False, "chat-a")
    log.record_question("old", "en", 0.7, False, "chat-a")
    log.record_feedback("old", ["x"], True, "chat-a")
    AuditLog(log.path.parent).record(7, "add", "a.en.md")
    old = (now - dt.timedelta(days=100)).isoformat(timespec="seconds")
    recent = (now - dt.timedelta(days=1)).isoformat(timespec="seconds")
    with closing(sqlite3.connect(log.path)) as db, db:
        db.execute("UPDATE questions SET asked_at = ? WHERE question = 'old'", (old,))
        db.execute("UPDATE questions SET asked_at = ? WHERE question = 'new'", (recent,))
        db.execute("UPDATE feedback SET given_at = ?", (old,))
        db.execute("UPDATE audit SET at = ?", (old,))
    tracker.insert(
        [
            ("chat-a", (now - dt.timedelta(days=100)).timestamp(), "old"),
            ("chat-a", (now - dt.timedelta(days=1)).timestamp(), "new"),
        ]
    )
    erased = purge_expired(log.path.parent, tracker.store, 90, 365, now=now)
    assert (erased.questions, erased.feedback, erased.conversation_events) == (1, 1, 1)
    assert erased.audit == 0  # staff actions are kept longer
    assert rows(log.path, "SELECT question FROM questions") == [("new",)]
    assert tracker.column("data") == ["new"]
    assert purge_expired(log.path.parent, tracker.store, 90, 30, now=now).audit == 1


def test_an_erasure_is_audited_with_counts_only(log: QuestionLog) -> None:
    log.record_question("मला आधार अपडेट करायचा आहे", "mr", 0.7, False, "chat-a")
    data_dir = log.path.parent
    erased = forget_citizen(data_dir, NO_TRACKER, log.user_hash("chat-a") or "")
    record_erasure(data_dir, erased)
    (entry,) = AuditLog(data_dir).entries()
    assert (entry.action, entry.target, entry.staff_id) == ("forget", "citizen", 0)
    assert "1 questions" in entry.detail
    assert "आधार" not in entry.detail and (log.user_hash("chat-a") or "") not in entry.detail


def test_missing_stores_are_not_an_error(tmp_path: Path) -> None:
    none = SQLiteConversations(tmp_path / "none.db")
    assert forget_citizen(tmp_path, none, "0" * 16).total == 0
    assert purge_expired(tmp_path, none, 90, 365).total == 0
    assert not (tmp_path / DB_NAME).exists()


def test_cli_purge_and_forget(
    log: QuestionLog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log.record_question("q", "en", 0.7, False, "chat-a")
    monkeypatch.setenv("SAMVAD_DATA_DIR", str(log.path.parent))
    monkeypatch.setenv("SAMVAD_USER_SALT", SALT)
    monkeypatch.setenv("SAMVAD_TRACKER_DB", str(tmp_path / "none.db"))
    out = io.StringIO()
    assert main(["purge"], out) == EXIT_OK and "0 questions" in out.getvalue()
    out = io.StringIO()
    assert main(["forget", log.user_hash("chat-a") or "", "--staff-id", "7"], out) == EXIT_OK
    assert "1 questions" in out.getvalue()
    assert AuditLog(log.path.parent).entries()[0].staff_id == 7
    assert main(["forget", "not-a-hash"], io.StringIO()) == EXIT_USAGE
