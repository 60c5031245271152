"""Retention and erasure on real SQLite files: the question log, the audit, and a tracker
store with Rasa's own ``events`` schema (the real Rasa server writes it in the end-to-end
test of ``/forget``; here it is created with the same columns, no Rasa needed)."""

from __future__ import annotations

import datetime as dt
import io
import sqlite3
import time
from contextlib import closing
from pathlib import Path

import pytest

from samvad.audit import AuditLog
from samvad.cli import EXIT_OK, EXIT_USAGE, main
from samvad.question_log import QuestionLog
from samvad.retention import forget_citizen, purge_expired, record_erasure
from samvad.sqlite_db import DB_NAME

SALT = "retention-test"
# Rasa 3.6's SQLTrackerStore table (rasa/core/tracker_store.py, SQLEvent).
RASA_EVENTS = (
    "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL, "
    "type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255), "
    "action_name VARCHAR(255), data TEXT)"
)
QUESTIONS = {"mr": "घोडबंदरला पाणी कधी येणार?", "en": "When will water come to Ghodbunder?"}


def tracker_store(path: Path, events: list[tuple[str, float, str]]) -> Path:
    with closing(sqlite3.connect(path)) as db, db:
        db.execute(RASA_EVENTS)
        db.executemany(
            "INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (?, 'user', ?, ?)",
            events,
        )
    return path


def rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(path)) as db:
        return list(db.execute(sql).fetchall())


@pytest.fixture
def log(tmp_path: Path) -> QuestionLog:
    return QuestionLog(tmp_path / "data", salt=SALT)


@pytest.mark.parametrize("lang", ["mr", "en"])
def test_forget_removes_every_record_of_one_citizen_only(
    log: QuestionLog, tmp_path: Path, lang: str
) -> None:
    question = QUESTIONS[lang]
    for user in ("chat-a", "chat-b"):
        log.record_question(question, lang, 0.7, False, user, ["water-cut"])
        log.record_pick(question, "water-cut", user)
        log.record_feedback(question, ["water-cut"], True, user)
    now = time.time()
    tracker = tracker_store(
        tmp_path / "tracker.db",
        [("chat-a", now, question), ("chat-a", now, "hi"), ("chat-b", now, question)],
    )
    data_dir = log.path.parent
    erased = forget_citizen(data_dir, tracker, log.user_hash("chat-a") or "", "chat-a")
    assert (erased.questions, erased.picks, erased.feedback) == (1, 1, 1)
    assert erased.conversation_events == 2
    for table in ("questions", "picks", "feedback"):
        assert rows(log.path, f"SELECT user_hash FROM {table}") == [(log.user_hash("chat-b"),)]
    assert rows(tracker, "SELECT sender_id FROM events") == [("chat-b",)]


def test_erased_text_leaves_no_copy_in_the_database_files(log: QuestionLog, tmp_path: Path) -> None:
    secret = "पाणी-प्रश्न-खास-42"
    log.record_question(secret, "mr", 0.7, False, "chat-a")
    log.record_feedback(secret, ["x"], False, "chat-a")
    tracker = tracker_store(tmp_path / "tracker.db", [("chat-a", time.time(), secret)])
    forget_citizen(log.path.parent, tracker, log.user_hash("chat-a") or "", "chat-a")
    needle = secret.encode()
    for path in [*log.path.parent.iterdir(), tracker]:
        assert needle not in path.read_bytes(), path.name


def test_staff_forget_by_hash_finds_the_conversation(log: QuestionLog, tmp_path: Path) -> None:
    log.record_question("q", "en", 0.7, False, "chat-a")
    tracker = tracker_store(tmp_path / "tracker.db", [("chat-a", time.time(), "q")])
    erased = forget_citizen(
        log.path.parent, tracker, log.user_hash("chat-a") or "", sender_id=None, salt=SALT
    )
    assert (erased.questions, erased.conversation_events) == (1, 1)


def test_purge_keeps_only_the_retention_period(log: QuestionLog, tmp_path: Path) -> None:
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
    tracker = tracker_store(
        tmp_path / "tracker.db",
        [
            ("chat-a", (now - dt.timedelta(days=100)).timestamp(), "old"),
            ("chat-a", (now - dt.timedelta(days=1)).timestamp(), "new"),
        ],
    )
    erased = purge_expired(log.path.parent, tracker, 90, 365, now=now)
    assert (erased.questions, erased.feedback, erased.conversation_events) == (1, 1, 1)
    assert erased.audit == 0  # staff actions are kept longer
    assert rows(log.path, "SELECT question FROM questions") == [("new",)]
    assert rows(tracker, "SELECT data FROM events") == [("new",)]
    assert purge_expired(log.path.parent, tracker, 90, 30, now=now).audit == 1


def test_an_erasure_is_audited_with_counts_only(log: QuestionLog) -> None:
    log.record_question("मला आधार अपडेट करायचा आहे", "mr", 0.7, False, "chat-a")
    data_dir = log.path.parent
    erased = forget_citizen(data_dir, data_dir / "none.db", log.user_hash("chat-a") or "")
    record_erasure(data_dir, erased)
    (entry,) = AuditLog(data_dir).entries()
    assert (entry.action, entry.target, entry.staff_id) == ("forget", "citizen", 0)
    assert "1 questions" in entry.detail
    assert "आधार" not in entry.detail and (log.user_hash("chat-a") or "") not in entry.detail


def test_missing_stores_are_not_an_error(tmp_path: Path) -> None:
    assert forget_citizen(tmp_path, tmp_path / "none.db", "0" * 16).total == 0
    assert purge_expired(tmp_path, tmp_path / "none.db", 90, 365).total == 0
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
