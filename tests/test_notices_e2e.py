"""Subscriptions and notices end to end: the real bot (``python -m bot``) against the Bot API
emulator with Telegram's limits (``tests/emulator/limits.py``: 30 messages a second, 429 with
``retry_after``, 403 for a blocked user, photos), the real Rasa stack and engine.

Three citizens: one subscribes with ``/subscribe`` in Marathi, one with the button under an
English answer, one to nothing. Staff add a water-cut article (``/add``, Marathi; then its
English translation as a file) and confirm the notice: each subscriber gets exactly one, in
their language; "read more" answers from the article; an edit is not sent again. Then a
broadcast to 2,000 more subscribers (written straight into the store) is killed with SIGKILL
halfway, while messages are on their way, and the restarted bot finishes it: nobody twice,
nobody skipped, the blocked ones removed. ``/stats`` sends staff a chart; a citizen's
``/stats`` is an unknown command.
"""

from __future__ import annotations

import io
import shutil
import signal
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

from samvad import TOPICS_FILE, AuditLog, Lang, Subscriptions
from samvad.messages import text as catalogue
from tests.conftest import FICTIONAL_CORPUS, REAL_KNOWLEDGE, copy_articles
from tests.emulator import SentMessage
from tests.emulator.limits import LimitedBotApi
from tests.servers import Process, RasaStack, bot_process, build_index

pytestmark = [pytest.mark.servers, pytest.mark.model]  # the index build needs the model

TOKEN = "7700123456:AAE-samvad-notice-test-token-Q1w2E3r4T5y6U7i8"
STAFF, MARATHI, ENGLISH, NOBODY = 8001, 8002, 8003, 8004
INDEX_TIMEOUT = 240.0
ARTICLE_ID = "water-cut-kopri-december"
ARTICLES = {
    "mr": f"---\nid: {ARTICLE_ID}\nlang: mr\ntitle: कोपरी परिसरात ५ डिसेंबर रोजी पाणीपुरवठा बंद\n"
    "date: 2026-12-01\nsource: https://example.org/tmc/notices/water-cut-kopri\n"
    "tags: [water, notice]\n---\nठाणे महानगरपालिकेच्या पाणीपुरवठा विभागाने कोपरी परिसरात शनिवार, "
    "५ डिसेंबर २०२६ रोजी सकाळी १० ते रात्री १० या वेळेत पाणीपुरवठा बंद राहील असे जाहीर केले आहे. "
    "कोपरी पुलाजवळील मुख्य जलवाहिनीच्या दुरुस्तीसाठी पाणीपुरवठा बंद ठेवण्यात येणार आहे.\n\n"
    "टँकरसाठी नागरिकांनी कोपरी प्रभाग समिती कार्यालयाशी संपर्क साधावा.\n",
    "en": f"---\nid: {ARTICLE_ID}\nlang: en\ntitle: Water supply cut in Kopri on 5 December\n"
    "date: 2026-12-01\nsource: https://example.org/tmc/notices/water-cut-kopri\n"
    "tags: [water, notice]\n---\nThane Municipal Corporation's Water Supply Department has "
    "announced that water supply in Kopri will be shut on Saturday, 5 December 2026, from 10 am "
    "to 10 pm. The shutdown is needed to repair the main pipeline near the Kopri bridge.\n\n"
    "For a water tanker, citizens should contact the Kopri ward committee office.\n",
}
FIRST_SENTENCE = {
    "mr": "ठाणे महानगरपालिकेच्या पाणीपुरवठा विभागाने कोपरी परिसरात शनिवार",
    "en": "Thane Municipal Corporation's Water Supply Department has announced",
}
HEADER = {"mr": "📣 नवीन सूचना · पाणी", "en": "📣 New notice · Water"}
ANSWERED_QUESTION = "On which date is water supply shut in Ghodbunder?"
SUBSCRIBE_WATER = "samvad:sub:+:water"
TOGGLE_WATER = "samvad:sub:t:water"
BROADCAST = 2000
FIRST_CHAT = 7_000_000


@dataclass
class Running:
    emulator: LimitedBotApi
    stack: RasaStack
    bot: Process
    workdir: Path
    knowledge: Path

    @property
    def data_dir(self) -> Path:
        return self.stack.data_dir

    def audit(self, action: str = "notice") -> list[tuple[str, str]]:
        return [(e.outcome, e.detail) for e in AuditLog(self.data_dir).entries() if
                e.action == action]  # fmt: skip


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    workdir = tmp_path_factory.mktemp("notices")
    knowledge = workdir / "knowledge"
    copy_articles(REAL_KNOWLEDGE, knowledge)
    for article in FICTIONAL_CORPUS.glob("water-cut-ghodbunder.*.md"):  # a water answer
        shutil.copy(article, knowledge / article.name)
    shutil.copy(REAL_KNOWLEDGE / TOPICS_FILE, knowledge / TOPICS_FILE)
    index = build_index(knowledge, workdir / "index")
    stack = RasaStack(workdir, index)
    emulator = LimitedBotApi(TOKEN)
    emulator.start()
    bot = bot_process(
        workdir, TOKEN, emulator.base_url, stack.url,
        SAMVAD_DATA_DIR=str(stack.data_dir), SAMVAD_TRACKER_DB=str(workdir / "tracker.db"),
        SAMVAD_INDEX_DIR=str(index), SAMVAD_KNOWLEDGE_DIR=str(knowledge),
        SAMVAD_STAFF_IDS=str(STAFF), SAMVAD_STAFF_CHECK_SECONDS="0.5",
        SAMVAD_FLOOD_MESSAGES="1000", SAMVAD_RASA_TIMEOUT="60", SAMVAD_LOG_LEVEL="INFO",
    )  # fmt: skip
    try:
        stack.start()
        bot.start(timeout=60)
        yield Running(emulator, stack, bot, workdir, knowledge)
    finally:
        bot.stop()
        stack.stop()
        emulator.stop()


class Chat:
    """One private chat, seen from the user's side."""

    def __init__(self, emulator: LimitedBotApi, chat_id: int) -> None:
        self.emulator, self.chat_id = emulator, chat_id
        self.seen = len(emulator.messages(chat_id))

    def next(self, count: int = 1, timeout: float = 90.0) -> list[SentMessage]:
        found = self.emulator.wait_for_messages(self.chat_id, count, self.seen, timeout)
        self.seen += len(found)
        return found

    def command(self, command: str, timeout: float = 60.0) -> SentMessage:
        self.emulator.send_command(self.chat_id, command)
        return self.next(1, timeout)[0]

    def says(self, words: str) -> SentMessage:
        self.emulator.send_text(self.chat_id, words)
        return self.next(1)[0]

    def presses(self, message: SentMessage, data: str, timeout: float = 90.0) -> SentMessage:
        self.emulator.press_button(message, data)
        return self.next(1, timeout)[0]

    def quiet(self, seconds: float = 2.0) -> bool:
        time.sleep(seconds)
        return len(self.emulator.messages(self.chat_id)) == self.seen


@pytest.fixture(scope="module")
def chats(running: Running) -> dict[int, Chat]:
    return {chat: Chat(running.emulator, chat) for chat in (STAFF, MARATHI, ENGLISH, NOBODY)}


def eventually(check: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Whether ``check`` holds within ``timeout`` seconds (an edit may follow a reply)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def subscribers(running: Running) -> dict[int, str]:
    return dict(Subscriptions(running.data_dir).chats())


def notices_to(running: Running, chat_id: int) -> list[SentMessage]:
    return [m for m in running.emulator.messages(chat_id) if m.text.startswith("📣 ")]


def test_citizens_subscribe_in_their_language(running: Running, chats: dict[int, Chat]) -> None:
    marathi, english, nobody = chats[MARATHI], chats[ENGLISH], chats[NOBODY]
    marathi.command("/lang mr")
    listing = marathi.command("/subscribe")
    assert listing.text.startswith(catalogue("subscribe_header", "mr"))
    assert TOGGLE_WATER in listing.callback_data
    assert all(len(d.encode()) <= 64 for d in listing.callback_data)
    done = marathi.presses(listing, TOGGLE_WATER)
    assert done.text.startswith(f"{catalogue('subscribed', 'mr')} पाणी")
    assert catalogue("subscription_privacy", "mr") in done.text  # what is kept, at the first
    assert eventually(lambda: any(b["text"] == "✅ पाणी" for b in listing.buttons))

    answer = english.says(ANSWERED_QUESTION)
    assert "12 March 2026" in answer.text
    offer = next(b for b in answer.buttons if b.get("callback_data") == SUBSCRIBE_WATER)
    assert offer["text"] == f"{catalogue('button_subscribe_offer', 'en')} Water"
    assert answer.buttons[-1] == offer  # a row of its own, below the answer's buttons
    done = english.presses(answer, SUBSCRIBE_WATER)
    assert done.text.startswith(f"{catalogue('subscribed', 'en')} Water")
    assert eventually(lambda: SUBSCRIBE_WATER not in answer.callback_data)  # the offer goes
    assert '/feedback{"helpful":true}' in answer.callback_data  # the rest stays

    nobody.says(ANSWERED_QUESTION)
    mine = marathi.command("/mysubscriptions")
    assert mine.text.startswith(catalogue("my_subscriptions", "mr")) and "• पाणी" in mine.text
    assert subscribers(running) == {MARATHI: "mr", ENGLISH: "en"}


def test_staff_add_a_water_cut_and_each_subscriber_gets_one_notice_in_their_language(
    running: Running, chats: dict[int, Chat]
) -> None:
    staff = chats[STAFF]
    saved = staff.command(f"/add\n{ARTICLES['mr']}", timeout=INDEX_TIMEOUT)
    assert "Article saved" in saved.text and "1 added" in saved.text
    (ask,) = staff.next()
    assert "Send a notice of the new article to subscribers?" in ask.text
    assert "पाणी / Water" in ask.text and "सदस्य / subscribers: 2" in ask.text
    running.emulator.send_document(STAFF, "kopri.md", ARTICLES["en"].encode())
    (translated,) = staff.next(timeout=INDEX_TIMEOUT)
    assert "Article saved: «Water supply cut in Kopri on 5 December» — en" in translated.text
    assert staff.quiet(1.5)  # a translation is not a new article: no second question

    (progress,) = [staff.presses(ask, data) for data in ask.callback_data if ":send:" in data]
    assert progress.text.startswith("📤 ") and "/ 2" in progress.text
    (done,) = staff.next(timeout=60)
    assert done.text.startswith(catalogue("staff_notice_done", "mr"))
    assert "पोहोचली / delivered: 2 / 2" in done.text
    readers: list[tuple[int, Lang]] = [(MARATHI, "mr"), (ENGLISH, "en")]
    for chat_id, lang in readers:
        (notice,) = chats[chat_id].next(timeout=30)
        assert notice.text.startswith(HEADER[lang])
        assert FIRST_SENTENCE[lang] in notice.text
        assert f"{catalogue('source', lang)}:" in notice.text and notice.links
        assert catalogue("notice_other_language", lang) not in notice.text
        assert [b["text"] for b in notice.buttons] == [
            catalogue("button_more", lang),
            catalogue("button_unsubscribe", lang),
        ]
        assert all(len(d.encode()) <= 64 for d in notice.callback_data)
    assert notices_to(running, NOBODY) == [] and chats[NOBODY].quiet(0.5)
    outcomes = [outcome for outcome, _ in running.audit()]
    assert outcomes[:3] == ["done", "confirmed", "proposed"]
    assert running.emulator.peak_per_second(attempts=True) <= 30


def test_read_more_answers_from_the_article(running: Running, chats: dict[int, Chat]) -> None:
    marathi = chats[MARATHI]
    (notice,) = notices_to(running, MARATHI)
    read = next(d for d in notice.callback_data if d.startswith("samvad:read:"))
    answer = marathi.presses(notice, read)
    assert "कोपरी परिसरात ५ डिसेंबर रोजी पाणीपुरवठा बंद" in answer.text
    assert f"📄 {catalogue('source', 'mr')}:" in answer.text


def test_an_edit_of_a_sent_article_is_not_sent_again(
    running: Running, chats: dict[int, Chat]
) -> None:
    staff = chats[STAFF]
    edited = ARTICLES["en"].replace("10 pm", "8 pm")
    running.emulator.send_document(STAFF, "kopri.md", edited.encode(), caption="/replace")
    (replaced,) = staff.next(timeout=INDEX_TIMEOUT)
    assert "Article replaced" in replaced.text
    assert f"/notify {ARTICLE_ID}" in replaced.text  # how to send it again, if staff want to
    assert staff.quiet(2.0) and chats[ENGLISH].quiet(0.5)
    assert len(notices_to(running, ENGLISH)) == 1


def test_unsubscribe_from_the_notice(running: Running, chats: dict[int, Chat]) -> None:
    (notice,) = notices_to(running, ENGLISH)
    gone = chats[ENGLISH].presses(notice, "samvad:sub:-:water")
    assert gone.text == f"{catalogue('unsubscribed', 'en')} Water"
    assert ENGLISH not in subscribers(running)  # nor is its chat id kept


def test_stats_is_a_chart_for_staff_and_nothing_for_citizens(
    running: Running, chats: dict[int, Chat]
) -> None:
    before = len(running.emulator.photos_to(STAFF))
    numbers = chats[STAFF].command("/stats 30")
    (photo,) = running.emulator.wait_for_photos(STAFF, 1, before)
    assert photo.caption.startswith("📊 ") and "30" in photo.caption
    with Image.open(io.BytesIO(photo.data)) as image:
        image.load()
        assert image.size == (1100, 640)
    assert "गेले ७ दिवस / Last 7 days:" in numbers.text
    ordinary = chats[NOBODY].command("/nosuchcommand").text
    assert chats[NOBODY].command("/stats").text == ordinary
    assert chats[NOBODY].command("/notify x").text == ordinary
    assert running.emulator.photos_to(NOBODY) == []


def test_a_broadcast_killed_halfway_finishes_after_a_restart_with_nobody_twice_or_skipped(
    running: Running, chats: dict[int, Chat]
) -> None:
    emulator, staff = running.emulator, chats[STAFF]
    seeded = range(FIRST_CHAT, FIRST_CHAT + BROADCAST)
    Subscriptions(running.data_dir).subscribe_many(
        ((chat, f"seeded-{chat}", "mr" if chat % 2 else "en") for chat in seeded), "water"
    )
    blocked = {FIRST_CHAT + n for n in (3, 500, 1500, 1999)}
    emulator.blocked |= blocked
    left = FIRST_CHAT + 7  # blocks the bot before the notice: Telegram tells the bot
    bot = emulator.bot_user
    emulator.send_update("my_chat_member", {
        "chat": {"id": left, "type": "private", "first_name": "C"}, "from": emulator.user(left),
        "date": int(time.time()), "old_chat_member": {"status": "member", "user": bot},
        "new_chat_member": {"status": "kicked", "user": bot, "until_date": 0},
    })  # fmt: skip
    assert eventually(lambda: left not in subscribers(running), timeout=30)
    owed = len(subscribers(running))  # the 2,000 less the one gone, and the Marathi citizen
    assert owed == BROADCAST

    ask = staff.command(f"/notify {ARTICLE_ID}")
    assert "Send this notice again?" in ask.text and f"subscribers: {owed:,}" in ask.text
    emulator.refuse_next(2, retry_after=1)  # Telegram's flood limit: the bot must wait
    emulator.hold(set(seeded), after=BROADCAST // 2)
    send = next(d for d in ask.callback_data if ":send:" in d)
    progress = staff.presses(ask, send)
    assert f"/ {owed:,}" in progress.text

    in_flight = emulator.wait_until_held(1, timeout=180)
    time.sleep(0.5)  # the others in flight join the held ones
    assert running.bot.process is not None
    running.bot.process.send_signal(signal.SIGKILL)
    running.bot.process.wait(timeout=30)
    running.bot.process = None
    in_flight = emulator.release(drop=True)  # they never reached Telegram
    assert in_flight >= 1
    with closing(sqlite3.connect(running.data_dir / "samvad.db")) as db:
        states = dict(db.execute("SELECT state, COUNT(*) FROM outbox GROUP BY state").fetchall())
    assert states.get("sending", 0) >= 1  # the crash window: claimed, never marked
    assert 0 < states.get("sent", 0) < owed

    (running.workdir / "bot.ready").unlink()
    running.bot.start(timeout=60)
    (done,) = staff.next(timeout=300)
    assert done.text.startswith(catalogue("staff_notice_done", "mr")), done.text
    got = Counter(m.chat_id for m in emulator.sent if m.chat_id >= FIRST_CHAT
                  and m.text.startswith("📣 "))  # fmt: skip
    twice = [chat for chat, count in got.items() if count > 1]
    skipped = [c for c in seeded if c not in got and c not in blocked and c != left]
    assert twice == [] and skipped == []
    assert not (blocked | {left}) & set(got)
    assert len(notices_to(running, MARATHI)) == 2  # this one too, once
    delivered = owed - len(blocked)
    assert f"पोहोचली / delivered: {delivered:,} / {owed:,}" in done.text
    assert f": {len(blocked)}" in done.text  # the blocked ones, counted and removed
    assert not blocked & set(subscribers(running))
    edited = next(m for m in emulator.messages(STAFF) if m.message_id == progress.message_id)
    assert edited.text.endswith(f"{owed:,} / {owed:,}")  # the same message, to the end
    assert emulator.too_many >= 2 and emulator.peak_per_second() <= 30
    outcomes = [outcome for outcome, _ in running.audit()]
    assert outcomes[:4] == ["done", "resumed", "confirmed", "proposed"]
