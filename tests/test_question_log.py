"""The SQLite log for staff: questions, unanswered ones, feedback, hashed user ids."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from samvad.question_log import QuestionLog


@pytest.fixture
def log(tmp_path: Path) -> QuestionLog:
    return QuestionLog(tmp_path, salt="fixed-salt")


@pytest.mark.parametrize(
    ("question", "lang"), [("पाणी कधी येईल?", "mr"), ("When will water come?", "en")]
)
def test_unanswered_questions_are_listed_newest_first(
    log: QuestionLog, question: str, lang: str
) -> None:
    log.record_question("old question", lang, 0.5, answered=False, user_id="7")
    log.record_question("answered one", lang, 0.9, answered=True, user_id="7")
    log.record_question(question, lang, 0.71, answered=False, user_id="7")
    rows = log.unanswered()
    assert [r.question for r in rows] == [question, "old question"]
    assert rows[0].language == lang
    assert rows[0].best_score == pytest.approx(0.71)
    assert [r.question for r in log.unanswered(limit=1)] == [question]


@pytest.mark.parametrize(
    ("picked", "shown"),
    [("tax-rebate", "tax-rebate"), (None, ""), ("no pick", None)],
    ids=["article", "none-of-these", "no-pick"],
)
def test_the_citizens_pick_among_offered_articles_is_shown_with_the_question(
    log: QuestionLog, picked: str | None, shown: str | None
) -> None:
    log.record_question("कर सवलत?", "mr", 0.82, False, "7", ["tax-rebate", "water-cut"])
    log.record_question("कर सवलत?", "mr", 0.82, False, "8", ["tax-rebate", "water-cut"])
    if picked != "no pick":
        log.record_pick("कर सवलत?", picked, "7")
    other, mine = log.unanswered()
    assert mine.offered == ("tax-rebate", "water-cut") and mine.picked == shown
    assert other.picked is None  # another citizen's question: not their pick


def test_user_ids_are_stored_only_as_salted_hashes(log: QuestionLog, tmp_path: Path) -> None:
    log.record_question("q", "en", 0.1, answered=False, user_id="123456789")
    log.record_feedback("q", ["a"], helpful=True, user_id="123456789")
    dump = "\n".join(sqlite3.connect(tmp_path / "samvad.db").iterdump())
    assert "123456789" not in dump
    assert log.user_hash("123456789") == log.user_hash("123456789") != log.user_hash("1")
    assert QuestionLog(tmp_path, salt="other").user_hash("123456789") != log.user_hash("123456789")


def test_generated_salt_is_kept_private_and_stable(tmp_path: Path) -> None:
    first = QuestionLog(tmp_path).user_hash("42")
    assert QuestionLog(tmp_path).user_hash("42") == first
    assert (tmp_path / ".user_salt").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize("helpful", [True, False])
def test_feedback_is_stored_with_question_and_articles(
    log: QuestionLog, tmp_path: Path, helpful: bool
) -> None:
    log.record_feedback("कर सवलत?", ["property-tax-rebate-2026"], helpful, user_id="9")
    row = (
        sqlite3.connect(tmp_path / "samvad.db")
        .execute("SELECT question, article_ids, helpful FROM feedback")
        .fetchone()
    )
    assert row == ("कर सवलत?", "property-tax-rebate-2026", int(helpful))


def test_stats_count_by_language_feedback_and_frequent_unanswered(log: QuestionLog) -> None:
    for question, lang, answered in [
        ("पाणी कधी येईल?", "mr", True),
        ("बस पास कुठे?", "mr", False),
        ("बस पास कुठे?", "mr", False),
        ("Bus pass?", "en", False),
        ("Tax rebate?", "en", True),
    ]:
        log.record_question(question, lang, 0.8, answered, user_id="1")
    log.record_feedback("Tax rebate?", ["property-tax-rebate-2026"], True)
    log.record_feedback("पाणी कधी येईल?", ["water-cut-ghodbunder"], False)
    stats = log.stats(days=7)
    assert stats.questions == 5
    assert [(s.language, s.questions, s.answered, s.unanswered) for s in stats.by_language] == [
        ("en", 2, 1, 1),
        ("mr", 3, 1, 2),
    ]
    assert (stats.helpful, stats.not_helpful) == (1, 1)
    assert stats.frequent_unanswered[0] == ("बस पास कुठे?", 2)


@pytest.mark.parametrize(
    ("question", "article"),
    [("घरपट्टी कधी भरायची?", "property-tax-rebate-2026"), ("When is the water cut?", "water-cut")],
    ids=["marathi", "english"],
)
def test_labels_are_the_picks_and_thumbs_up_newest_first(
    log: QuestionLog, tmp_path: Path, question: str, article: str
) -> None:
    log.record_pick(question, article, "7")
    log.record_pick(question, None, "8")
    log.record_feedback(question, [article, "other"], helpful=True, user_id="9")
    log.record_feedback(question, ["wrong-one"], helpful=False, user_id="10")
    with sqlite3.connect(tmp_path / "samvad.db") as db:  # give each its own time, in order
        db.execute("UPDATE picks SET picked_at = '2026-01-0' || id || 'T10:00:00+00:00'")
        db.execute("UPDATE feedback SET given_at = '2026-01-05T10:00:00+00:00'")
    labels = log.labels(days=100000)
    assert [(x.article, x.kind) for x in labels] == [
        (article, "helpful"),
        (None, "picked"),
        (article, "picked"),
    ]  # the 👎 names no right article
    assert {x.question for x in labels} == {question}
    assert labels[0].user_hash == log.user_hash("9")


def test_labels_older_than_the_period_are_left_out(log: QuestionLog, tmp_path: Path) -> None:
    log.record_pick("पाणी कधी?", "water-cut", "7")
    log.record_pick("Bus pass?", "tmt-pass", "8")
    with sqlite3.connect(tmp_path / "samvad.db") as db:
        db.execute("UPDATE picks SET picked_at = '2020-01-01T00:00:00+00:00' WHERE id = 1")
    assert [x.question for x in log.labels(days=30)] == ["Bus pass?"]
