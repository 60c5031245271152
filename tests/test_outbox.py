"""Subscriptions, notices and the outbox on real SQLite files: the store, the delivery state
machine, a restart in the crash window, erasure, and the summaries notices carry."""

from __future__ import annotations

import json
import sqlite3
import threading
from contextlib import closing
from pathlib import Path

import pytest

from samvad import (
    Delivery,
    Lang,
    Outbox,
    Subscriptions,
    Summary,
    article_summaries,
    forget_citizen,
    summary_for,
)
from samvad.sqlite_db import DB_NAME

SALT = "outbox-test"


def summary(lang: Lang, article_id: str = "water-cut-kopri") -> Summary:
    title = {"mr": "कोपरीत पाणी बंद", "en": "Water cut in Kopri"}[lang]
    return Summary(article_id, lang, title, "2026-12-03", None, ("water",), (f"{title}.",))


@pytest.fixture
def subs(tmp_path: Path) -> Subscriptions:
    return Subscriptions(tmp_path)


@pytest.fixture
def outbox(tmp_path: Path, subs: Subscriptions) -> Outbox:
    return Outbox(tmp_path)


def rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(path)) as db:
        return list(db.execute(sql).fetchall())


def confirmed(outbox: Outbox, topics: list[str], article_id: str = "water-cut-kopri") -> int:
    notice = outbox.propose(article_id, topics, staff_id=7)
    done = outbox.confirm(notice.id, 7, 7, [summary("mr", article_id), summary("en", article_id)])
    assert done is not None
    return done.id


def drain(outbox: Outbox) -> list[Delivery]:
    """Send everything owed (each delivery accepted), in claim order."""
    sent = []
    while (delivery := outbox.claim()) is not None:
        outbox.mark_sent(delivery)
        sent.append(delivery)
    return sent


# --- subscriptions ------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["mr", "en"])
def test_a_subscription_keeps_chat_and_language_while_it_lasts(
    subs: Subscriptions, lang: Lang
) -> None:
    assert subs.subscribe(11, "hash-11", lang, "water")
    assert not subs.subscribe(11, "hash-11", lang, "water")  # once only
    assert subs.subscribe(11, "hash-11", lang, "roads")
    assert sorted(subs.topics_of(11)) == ["roads", "water"]
    assert subs.language_of(11) == lang
    other: Lang = "en" if lang == "mr" else "mr"
    subs.set_language(11, other)
    assert subs.language_of(11) == other
    assert subs.unsubscribe(11, "water") and not subs.unsubscribe(11, "water")
    assert subs.language_of(11) == other  # still subscribed to roads
    assert subs.unsubscribe(11, "roads")
    assert subs.language_of(11) is None  # the last one gone: the chat id is not kept
    assert rows(subs.path, "SELECT * FROM subscribers") == []


def test_counts_are_of_chats_not_subscriptions(subs: Subscriptions) -> None:
    subs.subscribe(1, "h1", "mr", "water")
    subs.subscribe(1, "h1", "mr", "roads")
    subs.subscribe(2, "h2", "en", "roads")
    assert subs.count(["water", "roads"]) == 2
    assert subs.count(["water"]) == 1 and subs.count([]) == 0
    assert subs.subscribed_topics() == {"water", "roads"}
    assert subs.unsubscribe_all(1) == 2 and subs.count(["water", "roads"]) == 1


def test_many_subscribers_are_added_in_one_transaction(subs: Subscriptions) -> None:
    added = subs.subscribe_many(((n, f"h{n}", "mr" if n % 2 else "en") for n in range(500)), "w")
    assert added == 500 and subs.count(["w"]) == 500
    assert dict(subs.chats())[3] == "mr" and dict(subs.chats())[4] == "en"


# --- notices and the outbox ---------------------------------------------------------------------


def test_confirming_owes_the_notice_to_each_subscribed_chat_once_in_its_language(
    subs: Subscriptions, outbox: Outbox
) -> None:
    subs.subscribe(1, "h1", "mr", "water")
    subs.subscribe(2, "h2", "en", "water")
    subs.subscribe(2, "h2", "en", "roads")  # two of the notice's topics: still one message
    subs.subscribe(3, "h3", "en", "tax")  # not one of its topics
    notice_id = confirmed(outbox, ["water", "roads"])
    subs.subscribe(4, "h4", "mr", "water")  # after "send": not in this notice
    sent = drain(outbox)
    assert sorted((d.chat_id, d.language) for d in sent) == [(1, "mr"), (2, "en")]
    progress = outbox.progress(notice_id)
    assert (progress.total, progress.sent, progress.finished) == (2, 2, True)


def test_a_notice_is_decided_once(subs: Subscriptions, outbox: Outbox) -> None:
    subs.subscribe(1, "h1", "mr", "water")
    notice = outbox.propose("water-cut-kopri", ["water"], staff_id=7)
    assert outbox.claim() is None  # proposed, not confirmed: nothing goes out
    assert outbox.confirm(notice.id, 8, 8, [summary("mr")]) is not None
    assert outbox.confirm(notice.id, 9, 9, [summary("mr")]) is None
    assert not outbox.drop(notice.id, 9)
    shown = outbox.notice(notice.id)
    assert shown is not None and (shown.state, shown.decided_by, shown.total) == ("sending", 8, 1)
    assert [v.language for v in shown.versions] == ["mr"]
    dropped = outbox.propose("other-article", ["water"], staff_id=7)
    assert outbox.drop(dropped.id, 7) and outbox.confirm(dropped.id, 7, 7, []) is None


def test_the_delivery_states(subs: Subscriptions, outbox: Outbox) -> None:
    for chat in range(1, 6):
        subs.subscribe(chat, f"h{chat}", "mr", "water")
    notice_id = confirmed(outbox, ["water"])
    claimed = [outbox.claim() for _ in range(5)]
    assert [d.chat_id for d in claimed if d] == [1, 2, 3, 4, 5]  # in subscription order
    one, two, three, four, five = (d for d in claimed if d)
    assert all(d.attempts == 1 for d in (one, two, three, four, five))
    outbox.mark_sent(one)
    outbox.mark_blocked(two)
    outbox.mark_failed(three)
    assert outbox.retry_later(four, 3600)  # a rate limit: later, not now
    subs.unsubscribe(5, "water")  # in flight: the message may be on its way, it stays
    outbox.mark_sent(five)
    progress = outbox.progress(notice_id)
    assert (progress.pending, progress.sending, progress.sent) == (1, 0, 2)
    assert (progress.blocked, progress.failed, progress.settled) == (1, 1, 4)
    assert outbox.claim() is None  # four waits
    assert outbox.finish(notice_id) is None  # not finished yet
    again = outbox.claim(now=4e12)
    assert again is not None and (again.chat_id, again.attempts) == (4, 2)
    outbox.mark_sent(again)
    final = outbox.finish(notice_id)
    assert final is not None and (final.sent, final.blocked, final.failed) == (3, 1, 1)
    assert outbox.finish(notice_id) is None  # once
    assert rows(outbox.path, "SELECT * FROM outbox") == []  # the chat ids go with the rows
    assert outbox.progress(notice_id) == final
    assert 2 not in [chat for chat, _ in subs.chats()]  # blocked: forgotten


def test_a_blocked_chat_is_owed_nothing_more(subs: Subscriptions, outbox: Outbox) -> None:
    subs.subscribe(1, "h1", "mr", "water")
    subs.subscribe(1, "h1", "mr", "roads")
    first = confirmed(outbox, ["water"], "first")
    second = confirmed(outbox, ["roads"], "second")
    delivery = outbox.claim()
    assert delivery is not None and delivery.notice_id == first
    outbox.mark_blocked(delivery)
    assert outbox.claim() is None
    assert outbox.progress(second).blocked == 1
    assert subs.topics_of(1) == [] and subs.language_of(1) is None


def test_unsubscribing_withdraws_what_was_not_sent_yet(subs: Subscriptions, outbox: Outbox) -> None:
    subs.subscribe(1, "h1", "mr", "water")
    subs.subscribe(2, "h2", "en", "water")
    notice_id = confirmed(outbox, ["water"])
    subs.unsubscribe(2, "water")
    assert [d.chat_id for d in drain(outbox)] == [1]
    final = outbox.finish(notice_id)
    assert final is not None and (final.total, final.sent, final.withdrawn) == (2, 1, 1)


def test_after_too_many_tries_a_delivery_fails(subs: Subscriptions, outbox: Outbox) -> None:
    subs.subscribe(1, "h1", "mr", "water")
    notice_id = confirmed(outbox, ["water"])
    for _ in range(5):
        delivery = outbox.claim(now=4e12)
        assert delivery is not None
        retried = outbox.retry_later(delivery, 0)
    assert not retried and outbox.claim(now=4e12) is None
    assert outbox.progress(notice_id).failed == 1


def test_a_restart_in_the_crash_window_sends_again_at_least_once(
    subs: Subscriptions, outbox: Outbox, tmp_path: Path
) -> None:
    """Three claimed; one marked sent; one reached Telegram but the process died before it was
    marked; one never left. After the restart both unmarked ones go out again: nobody is left
    out, and the one in the window gets it twice — the documented residual."""
    for chat in range(1, 6):
        subs.subscribe(chat, f"h{chat}", "en", "water")
    notice_id = confirmed(outbox, ["water"])
    telegram: list[int] = []  # what Telegram received
    marked, in_window, never_left = (outbox.claim() for _ in range(3))
    assert marked and in_window and never_left
    telegram.append(marked.chat_id)
    outbox.mark_sent(marked)
    telegram.append(in_window.chat_id)  # ... and the process is killed here
    restarted = Outbox(tmp_path)
    assert restarted.recover() == 2
    telegram += [d.chat_id for d in drain(restarted)]
    assert sorted(set(telegram)) == [1, 2, 3, 4, 5]  # nobody skipped
    assert [c for c in set(telegram) if telegram.count(c) > 1] == [in_window.chat_id]
    notice = restarted.notice(notice_id)
    assert notice is not None and notice.resent == 2
    assert restarted.recover() == 0


def test_concurrent_senders_never_claim_the_same_delivery(
    subs: Subscriptions, outbox: Outbox
) -> None:
    subs.subscribe_many(((n, f"h{n}", "mr") for n in range(400)), "water")
    confirmed(outbox, ["water"])
    claimed: list[int] = []
    lock = threading.Lock()

    def sender() -> None:
        mine = Outbox(outbox.path.parent)
        while (delivery := mine.claim()) is not None:
            mine.mark_sent(delivery)
            with lock:
                claimed.append(delivery.chat_id)

    threads = [threading.Thread(target=sender) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(claimed) == list(range(400))


def test_an_article_is_new_once_and_the_first_start_knows_what_is_there(outbox: Outbox) -> None:
    assert outbox.seed_known_articles(["japan", "water"])
    assert not outbox.seed_known_articles(["tax"])  # only the first time
    assert outbox.claim_new_articles(["japan", "water", "tax"]) == ["tax"]
    assert outbox.claim_new_articles(["tax", "bus", "bus"]) == ["bus"]


def test_the_last_sent_notice_of_an_article(subs: Subscriptions, outbox: Outbox) -> None:
    subs.subscribe(1, "h1", "mr", "water")
    assert outbox.last_sent("water-cut-kopri") is None
    proposed = outbox.propose("water-cut-kopri", ["water"])
    assert outbox.last_sent("water-cut-kopri") is None  # proposed is not sent
    confirmed_id = confirmed(outbox, ["water"])
    last = outbox.last_sent("water-cut-kopri")
    assert last is not None and last.id == confirmed_id != proposed.id


# --- erasure ------------------------------------------------------------------------------------


@pytest.mark.parametrize("by", ["citizen", "staff"])
def test_forget_erases_the_subscriptions_and_what_is_owed(
    subs: Subscriptions, outbox: Outbox, tmp_path: Path, by: str
) -> None:
    from samvad import QuestionLog, SQLiteConversations

    log = QuestionLog(tmp_path, salt=SALT)
    no_tracker = SQLiteConversations(tmp_path / "none.db")
    subs.subscribe(1, "sender-1", "mr", "water")
    subs.subscribe(1, "sender-1", "mr", "roads")
    subs.subscribe(2, "sender-2", "en", "water")
    notice_id = confirmed(outbox, ["water"])
    user_hash = log.user_hash("sender-1") or ""
    if by == "citizen":
        erased = forget_citizen(tmp_path, no_tracker, user_hash, "sender-1")
    else:
        erased = forget_citizen(tmp_path, no_tracker, user_hash, salt=SALT)
    assert erased.subscriptions == 2 and erased.total == 2
    assert "2 subscriptions" in erased.summary()
    assert [chat for chat, _ in subs.chats()] == [2]
    assert rows(tmp_path / DB_NAME, "SELECT chat_id FROM outbox") == [(2,)]
    assert [d.chat_id for d in drain(outbox)] == [2]
    final = outbox.finish(notice_id)
    assert final is not None and (final.total, final.sent, final.withdrawn) == (2, 1, 1)


# --- summaries ----------------------------------------------------------------------------------


def index_with(tmp_path: Path, versions: dict[str, list[str]]) -> Path:
    """An index generation whose one segment holds only ``records.json`` (what summaries
    read): article ``water-cut-kopri`` in each language given, its first chunk's sentences,
    and an older version of it that the generation dropped."""
    index = tmp_path / "index"
    folder = index / "gen-test"
    segment = index / "segments" / "seg-test"
    folder.mkdir(parents=True)
    segment.mkdir(parents=True)
    articles, chunks = [], []
    for n, (lang, sentences) in enumerate(versions.items()):
        articles.append(
            {"key": f"water-cut-kopri/{lang}", "id": "water-cut-kopri", "lang": lang,
             "title": f"title-{lang}", "date": "2026-12-03", "path": f"w.{lang}.md",
             "content_hash": "x", "source": "https://example.org/w", "tags": ["water"],
             "vector_ids": [n * 10 + 1, n * 10 + 2]}
        )  # fmt: skip
        for ordinal, said in enumerate([sentences, ["Later."]]):
            chunks.append(
                {"vector_id": n * 10 + 1 + ordinal, "chunk_id": f"c{n}{ordinal}",
                 "article_key": lang, "ordinal": ordinal, "heading": "", "sentences": said,
                 "tokens": []}
            )  # fmt: skip
    articles.append({**articles[0], "key": "water-cut-kopri/old", "title": "dropped"})
    (segment / "records.json").write_text(json.dumps({"articles": articles, "chunks": chunks}))
    listed = {"name": "seg-test", "dropped": ["water-cut-kopri/old"]}
    (folder / "manifest.json").write_text(json.dumps({"segments": [listed]}))
    (index / "current").symlink_to("gen-test")
    return index


@pytest.mark.parametrize(
    ("reader", "expected", "other"), [("mr", "mr", False), ("en", "en", False)]
)
def test_each_reader_gets_their_language_version(
    tmp_path: Path, reader: Lang, expected: Lang, other: bool
) -> None:
    index = index_with(tmp_path, {"mr": ["पहिले वाक्य।", "दुसरे."], "en": ["One.", "Two."]})
    versions = article_summaries(index, "water-cut-kopri")
    assert list(versions) == ["mr", "en"]
    chosen = summary_for(versions, reader)
    assert chosen is not None
    assert (chosen[0].language, chosen[1]) == (expected, other)
    assert chosen[0].sentences == tuple(versions[expected].sentences)
    assert chosen[0].source_url == "https://example.org/w" and chosen[0].tags == ("water",)


@pytest.mark.parametrize(("only", "reader"), [("mr", "en"), ("en", "mr")])
def test_without_their_version_a_reader_gets_the_other_with_a_note(
    tmp_path: Path, only: Lang, reader: Lang
) -> None:
    index = index_with(tmp_path, {only: ["Only sentence."]})
    chosen = summary_for(article_summaries(index, "water-cut-kopri"), reader)
    assert chosen is not None and chosen[0].language == only and chosen[1] is True


def test_a_summary_is_the_first_sentences_of_the_first_passage(tmp_path: Path) -> None:
    sentences = ["One.", "Two.", "Three.", "Four."]
    index = index_with(tmp_path, {"en": sentences})
    (english,) = article_summaries(index, "water-cut-kopri").values()
    assert english.sentences == ("One.", "Two.", "Three.")
    assert english.title == "title-en"  # not the version the generation dropped
    assert article_summaries(index, "no-such-article") == {}
    assert article_summaries(tmp_path / "no-index", "water-cut-kopri") == {}
    long = index_with(tmp_path / "long", {"en": ["word " * 400]})
    (cut,) = article_summaries(long, "water-cut-kopri").values()
    assert len(cut.sentences) == 1 and cut.sentences[0].endswith("…")
    assert len(cut.sentences[0]) <= 701
    assert Summary.from_json(english.to_json()) == english
