"""End to end: the real bot (``python -m bot``, long polling) against a Telegram Bot API emulator
on loopback, with the real Rasa server and action server (engine, model, index).

The emulator (``tests/emulator``) stands in for Telegram: the test plays the citizen there and
reads what the bot sent. The index is built from ``knowledge/`` plus one fictional article
written here whose answer is longer than Telegram's 4,096 characters. Needs the trained Rasa
model (``scripts/rasa_train.py`` trains it if it is out of date) and the embedding model.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.rasa_client import load_salt, sender_id
from bot.supervisor import ROOT
from samvad import COMMANDS, LANGUAGES, MAX_MESSAGE_CHARS, AuditLog, Lang, QuestionLog, say
from samvad.messages import text as catalogue
from tests.conftest import copy_articles
from tests.emulator import BotApiEmulator, SentMessage
from tests.servers import Process, RasaStack, bot_process, build_index, free_port, log_troubles

pytestmark = pytest.mark.slow

TOKEN = "7700123456:AAE-samvad-e2e-test-token-Q1w2E3r4T5y6U7i8"
FLOOD_LIMIT = 8
LONG_ARTICLE_ID = "masunda-heritage-walk-route"
LONG_ARTICLE_URL = "https://example.org/thane/heritage-walk"
LONG_QUESTION = "What is the route of the Masunda Lake heritage walk in Thane?"
JAPAN_TITLE = {
    "mr": "जपानच्या मिनिस्ट्री ऑफ लँड",
    "en": "Japan's Ministry of Land, Infrastructure and Transport",
}
CHOSEN = {"mr": "ठीक आहे, आता मी मराठीत", "en": "OK, I will answer in English"}
ABSTAINED = {"mr": "माफ करा, या प्रश्नाचे उत्तर देणारा लेख", "en": "Sorry, I don't have an article"}
TEXT_ONLY = {"mr": "माफ करा, मी सध्या फक्त लिहिलेले संदेश", "en": "Sorry, I can only read text"}
UNAVAILABLE = {"mr": "माफ करा, आत्ता उत्तर देणारी सेवा उपलब्ध नाही", "en": "Sorry, the answering"}
SOURCE_LABEL: dict[str, str] = {lang: f"{catalogue('source', lang)}:" for lang in LANGUAGES}
DATE = {"mr": "२९ नोव्हेंबर २०२६", "en": "29 November 2026"}
MORE = "/more"
HELPFUL = '/feedback{"helpful":true}'


def long_article() -> str:
    """A fictional English article whose only sentence is about 5,000 characters long."""
    places = ["temple", "well", "school", "market", "ghat", "library", "garden", "gate"]
    stops = [
        f"the old {places[i % len(places)]} of lane {i + 1} near the heritage marker {i + 1}"
        for i in range(90)
    ]
    sentence = (
        "The Masunda Lake heritage walk route in Thane starts at the lake's eastern steps and "
        "passes, in this order, " + ", ".join(stops) + " before it ends at the Masunda Lake "
        "heritage walk office."
    )
    return (
        f"---\nid: {LONG_ARTICLE_ID}\nlang: en\n"
        "title: Masunda Lake heritage walk route in Thane\n"
        f"date: 2026-11-29\nsource: {LONG_ARTICLE_URL}\ntags: [heritage, walk]\n---\n"
        f"{sentence}\n"
    )


@dataclass
class Running:
    """Everything the tests talk to."""

    emulator: BotApiEmulator
    stack: RasaStack
    bot: Process
    workdir: Path


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    knowledge = tmp_path_factory.mktemp("knowledge")
    copy_articles(ROOT / "knowledge", knowledge)
    (knowledge / f"{LONG_ARTICLE_ID}.en.md").write_text(long_article(), encoding="utf-8")
    return build_index(knowledge, tmp_path_factory.mktemp("index"))


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory, index_dir: Path) -> Iterator[Running]:
    workdir = tmp_path_factory.mktemp("bot-e2e")
    stack = RasaStack(workdir, index_dir)
    emulator = BotApiEmulator(TOKEN).start()
    bot = bot_process(
        workdir, TOKEN, emulator.base_url, stack.url,
        SAMVAD_DATA_DIR=str(stack.data_dir), SAMVAD_TRACKER_DB=str(workdir / "tracker.db"),
        SAMVAD_INDEX_DIR=str(index_dir), SAMVAD_FLOOD_MESSAGES=str(FLOOD_LIMIT),
        SAMVAD_FLOOD_SECONDS="60", SAMVAD_RASA_TIMEOUT="60", SAMVAD_LOG_LEVEL="DEBUG",
        SAMVAD_TYPING_DELAY="0",  # "typing…" at once, so every answer here is preceded by it
    )  # fmt: skip
    try:
        stack.start()
        bot.start(timeout=60)
        yield Running(emulator, stack, bot, workdir)
    finally:
        bot.stop()
        stack.stop()
        emulator.stop()


class Citizen:
    """One private chat with the bot, seen from the citizen's side."""

    def __init__(self, emulator: BotApiEmulator, chat_id: int) -> None:
        self.emulator, self.chat_id = emulator, chat_id
        self.seen = len(emulator.messages(chat_id))

    def _wait(self, count: int, timeout: float) -> list[SentMessage]:
        found = self.emulator.wait_for_messages(self.chat_id, count, self.seen, timeout)
        self.seen += len(found)
        return found

    def says(self, text: str, replies: int = 1, timeout: float = 90.0) -> list[SentMessage]:
        self.emulator.send_text(self.chat_id, text)
        return self._wait(replies, timeout)

    def command(self, command: str, replies: int = 1) -> list[SentMessage]:
        self.emulator.send_command(self.chat_id, command)
        return self._wait(replies, 30.0)

    def presses(
        self, message: SentMessage, data: str, replies: int = 1, timeout: float = 90.0
    ) -> list[SentMessage]:
        self.emulator.press_button(message, data)
        return self._wait(replies, timeout)

    def sends_sticker(self) -> list[SentMessage]:
        self.emulator.send_sticker(self.chat_id)
        return self._wait(1, 30.0)

    def sends_voice(self) -> list[SentMessage]:
        self.emulator.send_voice(self.chat_id)
        return self._wait(1, 30.0)

    def chooses(self, language: str) -> SentMessage:
        welcome = self.command("/start")[0]
        (reply,) = self.presses(welcome, f'/choose_language{{"language":"{language}"}}')
        return reply

    def no_more_messages(self, wait: float = 2.0) -> bool:
        time.sleep(wait)
        return len(self.emulator.messages(self.chat_id)) == self.seen


_chat_ids = iter(range(1001, 2000))


@pytest.fixture
def citizen(running: Running) -> Citizen:
    return Citizen(running.emulator, next(_chat_ids))


def test_bot_connected_and_set_its_commands_in_both_languages(running: Running) -> None:
    assert running.emulator.calls["getMe"] >= 1
    assert {c["command"] for c in running.emulator.commands[""]} == set(COMMANDS)
    assert "mr" in running.emulator.commands


def test_start_welcomes_in_both_languages_with_language_buttons(citizen: Citizen) -> None:
    (welcome,) = citizen.command("/start")
    assert "नमस्कार! मी संवाद" in welcome.text
    assert "Hello! I am Samvad" in welcome.text
    assert welcome.callback_data == [
        '/choose_language{"language":"mr"}',
        '/choose_language{"language":"en"}',
    ]


@pytest.mark.parametrize("language", ["mr", "en"])
def test_language_choice_is_confirmed_and_the_buttons_go_away(
    running: Running, citizen: Citizen, language: str
) -> None:
    welcome = citizen.command("/start")[0]
    (reply,) = citizen.presses(welcome, f'/choose_language{{"language":"{language}"}}')
    assert reply.text.startswith(CHOSEN[language])
    assert running.emulator.answered_callbacks  # the button's spinner was stopped
    edited = next(m for m in running.emulator.messages(citizen.chat_id) if m is welcome)
    assert edited.reply_markup is None


@pytest.mark.parametrize(
    ("question", "language"),
    [
        ("जपानच्या मंत्रालयासोबत ठाणे महापालिकेने कोणत्या क्षेत्रात सहकार्य करार केला?", "mr"),
        ("What did Thane Municipal Corporation agree with the Japanese ministry?", "en"),
        ("japan chya mantralaya barobar thane mahapalikecha karar kashasathi aahe?", "mr"),
    ],
    ids=["marathi", "english", "romanized"],
)
def test_question_is_answered_with_its_source_after_typing(
    running: Running, citizen: Citizen, question: str, language: str
) -> None:
    asked_at = time.time()
    (answer,) = citizen.says(question)
    assert JAPAN_TITLE[language] in answer.text
    assert f"📄 {SOURCE_LABEL[language]}" in answer.text
    assert DATE[language] in answer.text
    assert "<b>" in answer.raw and answer.parse_mode == "HTML"
    assert HELPFUL in answer.callback_data
    typing = [t for c, a, t in running.emulator.chat_actions if c == citizen.chat_id]
    assert typing and asked_at <= typing[0] <= answer.sent_at


def test_more_continues_the_article_and_feedback_is_stored(
    running: Running, citizen: Citizen
) -> None:
    citizen.chooses("en")
    (answer,) = citizen.says("Who attended the agreement ceremony in Japan?")
    (more,) = citizen.presses(answer, MORE)
    assert more.text != answer.text and SOURCE_LABEL["en"] in more.text
    assert MORE not in running.emulator.messages(citizen.chat_id)[-2].callback_data
    before = _feedback_count(running)
    (thanks,) = citizen.presses(more, HELPFUL)
    assert thanks.text.startswith("Thank you for the feedback")
    assert _feedback_count(running) == before + 1
    assert not any(d.startswith("/feedback") for d in more.callback_data)  # no second vote


def _feedback_count(running: Running) -> int:
    with sqlite3.connect(running.stack.data_dir / "samvad.db") as db:
        (count,) = db.execute("SELECT COUNT(*) FROM feedback").fetchone()
    return int(count)


@pytest.mark.parametrize(
    ("question", "language"),
    [("नवीन नळ जोडणीसाठी अर्ज कसा करायचा?", "mr"), ("How do I get a new water connection?", "en")],
    ids=["marathi", "english"],
)
def test_question_without_an_article_is_not_answered(
    citizen: Citizen, question: str, language: str
) -> None:
    citizen.chooses(language)
    (reply,) = citizen.says(question)
    assert reply.text.startswith(ABSTAINED[language])
    assert reply.buttons == []


# Not covered by any article here, but close enough to the seed article that the engine is unsure.
UNSURE_QUESTION = "Is there free wifi in Thane city?"
NONE_OF_THESE = "/choose_article"


@pytest.mark.parametrize("pick", ["article", "none"])
def test_unsure_question_offers_the_article_as_a_button(citizen: Citizen, pick: str) -> None:
    citizen.chooses("en")
    (offer,) = citizen.says(UNSURE_QUESTION)
    assert offer.text.startswith("I'm not sure I have an article")
    assert "\n1. Thane Municipal Corporation and Japan" in offer.text
    assert JAPAN_TITLE["en"] in offer.text and offer.text.endswith(DATE["en"])
    article_button, none_button = offer.buttons
    assert article_button["text"].startswith("Thane Municipal Corporation and Japan")
    # The article's payload is longer than Telegram's 64 bytes of callback data: a short key.
    assert len(article_button["callback_data"].encode()) <= 64
    assert none_button == {"text": "None of these", "callback_data": NONE_OF_THESE}
    if pick == "article":
        (answer,) = citizen.presses(offer, article_button["callback_data"])
        assert JAPAN_TITLE["en"] in answer.text and f"📄 {SOURCE_LABEL['en']}" in answer.text
        assert HELPFUL in answer.callback_data
    else:
        (reply,) = citizen.presses(offer, NONE_OF_THESE)
        assert reply.text.startswith(ABSTAINED["en"]) and reply.buttons == []


def test_long_answer_is_split_with_nothing_lost(citizen: Citizen) -> None:
    citizen.chooses("en")
    citizen.emulator.send_text(citizen.chat_id, LONG_QUESTION)
    parts = citizen._wait(2, 90.0)
    assert citizen.no_more_messages()
    assert all(len(p.text) <= 4096 for p in parts)
    assert parts[0].buttons == [] and HELPFUL in parts[-1].callback_data
    joined = " ".join(p.text for p in parts)
    assert "heritage marker 1," in joined and "heritage marker 90 before" in joined
    assert "heritage walk office." in joined
    assert parts[0].text.endswith(",")  # cut after a clause, not inside a word
    assert LONG_ARTICLE_URL in parts[-1].links


@pytest.mark.parametrize("language", ["mr", "en"])
@pytest.mark.parametrize("kind", ["sticker", "voice"])
def test_non_text_gets_text_only_please(citizen: Citizen, language: str, kind: str) -> None:
    citizen.chooses(language)
    (reply,) = citizen.sends_sticker() if kind == "sticker" else citizen.sends_voice()
    assert reply.text.startswith(TEXT_ONLY[language])


def test_topics_lists_titles_in_the_chosen_language(citizen: Citizen) -> None:
    citizen.chooses("mr")
    (topics,) = citizen.command("/topics")
    assert JAPAN_TITLE["mr"] in topics.text
    assert "Masunda Lake heritage walk" in topics.text  # only in English: shown in English


def test_flood_limit_sends_one_polite_notice(citizen: Citizen) -> None:
    for _ in range(FLOOD_LIMIT + 4):
        citizen.emulator.send_text(citizen.chat_id, "hello")
    replies = citizen._wait(FLOOD_LIMIT + 1, 60.0)
    assert citizen.no_more_messages()
    # The notice goes in the chat's language: not known yet (both languages), or Marathi when
    # the reply to the first "hello" (Marathi, the default) came back before the flood did.
    notices = [r for r in replies if any(catalogue("flood", lang) in r.text for lang in LANGUAGES)]
    assert len(notices) == 1, [r.text for r in replies]


def test_token_never_reaches_the_log(running: Running) -> None:
    log = (running.workdir / "bot.log").read_text(encoding="utf-8")
    assert "getUpdates" in log or "connected to Telegram" in log
    assert TOKEN not in log and TOKEN.split(":")[1] not in log


def _citizen_rows(running: Running, user_hash: str) -> dict[str, int]:
    with sqlite3.connect(running.stack.data_dir / "samvad.db") as db:
        return {
            table: db.execute(
                f"SELECT COUNT(*) FROM {table} WHERE user_hash = ?", (user_hash,)
            ).fetchone()[0]
            for table in ("questions", "picks", "feedback")
        }


def _conversation_events(running: Running, sender: str) -> int:
    with sqlite3.connect(running.workdir / "tracker.db") as db:
        count: int = db.execute(
            "SELECT COUNT(*) FROM events WHERE sender_id = ?", (sender,)
        ).fetchone()[0]
    return count


@pytest.mark.parametrize("language", ["mr", "en"])
def test_start_and_help_carry_the_privacy_notice(citizen: Citizen, language: Lang) -> None:
    welcome = citizen.command("/start")[0]
    for lang in ("mr", "en"):
        assert catalogue("privacy", lang).format(days=90) in welcome.text
    citizen.presses(welcome, f'/choose_language{{"language":"{language}"}}')
    replies = citizen.command("/help", replies=2)
    assert catalogue("privacy", language).format(days=90) in replies[-1].text


@pytest.mark.parametrize(
    ("language", "question"),
    [
        ("mr", "ठाणे महापालिकेने जपानसोबत कोणता करार केला?"),
        ("en", "What did Thane Municipal Corporation agree with Japan?"),
    ],
)
def test_forget_erases_every_stored_trace_of_the_citizen(
    running: Running, citizen: Citizen, language: Lang, question: str
) -> None:
    citizen.chooses(language)
    answer = citizen.says(question)[0]
    citizen.presses(answer, HELPFUL)
    sender = sender_id(citizen.chat_id, load_salt(running.stack.data_dir, None))
    user_hash = QuestionLog(running.stack.data_dir).user_hash(sender) or ""
    assert _citizen_rows(running, user_hash)["questions"] >= 1
    assert _conversation_events(running, sender) > 0
    (confirm,) = citizen.command("/forget")
    assert confirm.text == catalogue("forget_confirm", language)
    (done,) = citizen.presses(confirm, "samvad:forget:yes")
    assert done.text.startswith(catalogue("forget_done", language).split("{")[0])
    assert _citizen_rows(running, user_hash) == {"questions": 0, "picks": 0, "feedback": 0}
    assert _conversation_events(running, sender) == 0
    (entry,) = [e for e in AuditLog(running.stack.data_dir).entries() if e.action == "forget"][:1]
    assert (
        entry.target == "citizen" and question not in entry.detail and user_hash not in entry.detail
    )
    assert JAPAN_TITLE[language] in citizen.says(question)[0].text  # and it still answers


def test_forget_can_be_cancelled(running: Running, citizen: Citizen) -> None:
    citizen.chooses("en")
    citizen.says("What did Thane Municipal Corporation agree with Japan?")
    sender = sender_id(citizen.chat_id, load_salt(running.stack.data_dir, None))
    before = _conversation_events(running, sender)
    (confirm,) = citizen.says("forget me")
    (cancelled,) = citizen.presses(confirm, "samvad:forget:no")
    assert cancelled.text == catalogue("forget_cancelled", "en")
    assert _conversation_events(running, sender) == before


def test_a_long_message_is_cut_and_the_citizen_told(citizen: Citizen) -> None:
    citizen.chooses("en")
    pasted = "What did Thane Municipal Corporation agree with Japan? " + "blah " * 900
    notice, answer = citizen.says(pasted, replies=2)
    assert notice.text == catalogue("message_cut", "en").format(limit=MAX_MESSAGE_CHARS)
    assert answer.text


def test_long_messages_in_a_burst_cost_more_and_starve_no_one(running: Running) -> None:
    """50 messages of Telegram's maximum length from 5 chats at once, while 10 other citizens
    ask ordinary questions: every ordinary citizen gets their answer; a long message costs 3
    of a chat's 8 flood units, so each pasting chat gets two cut-and-answered messages and one
    flood notice, and nothing more (the rest is refused by the flood limit, as it says)."""
    question = "What did Thane Municipal Corporation agree with Japan?"
    long = (question + " " + "blah " * 900)[:4096]
    pasting = [Citizen(running.emulator, next(_chat_ids)) for _ in range(5)]
    asking = [Citizen(running.emulator, next(_chat_ids)) for _ in range(10)]
    for n in range(10):
        for chat in pasting:
            running.emulator.send_text(chat.chat_id, long)
        if n < len(asking):
            running.emulator.send_text(asking[n].chat_id, question)
    for chat in asking:
        (answer,) = chat._wait(1, 120.0)
        assert JAPAN_TITLE["en"] in answer.text
    cut = catalogue("message_cut", "en").format(limit=MAX_MESSAGE_CHARS)
    # The pasting chats never chose a language: both, or English once an English answer came
    # back before the flood limit was reached (the bot then knows the chat's language).
    flood = {say("flood", None), say("flood", "en")}
    for chat in pasting:
        got = [m.text for m in chat._wait(5, 120.0)]
        troubles = log_troubles(running.workdir / "bot.log")
        assert got.count(cut) == 2, troubles
        assert sum(text in flood for text in got) == 1, troubles
        assert sum(JAPAN_TITLE["en"] in text for text in got) == 2
        assert chat.no_more_messages()
    assert running.bot.running


def test_an_action_server_restart_gets_an_apology_then_answers(running: Running) -> None:
    citizen = Citizen(running.emulator, next(_chat_ids))
    citizen.chooses("en")
    question = "What did Thane Municipal Corporation agree with Japan?"
    running.stack.actions.stop()
    try:
        (apology,) = citizen.says(question)
        assert apology.text == catalogue("error", "en")
    finally:
        running.stack.actions.start()
    assert JAPAN_TITLE["en"] in citizen.says(question)[0].text


@pytest.mark.parametrize(
    ("language", "question"),
    [
        ("mr", "ठाणे महापालिकेने जपानसोबत कोणता करार केला?"),
        ("en", "What did Thane Municipal Corporation agree with Japan?"),
    ],
)
def test_rasa_outage_gets_an_apology_and_the_bot_recovers(
    running: Running, language: str, question: str
) -> None:
    """Runs last in the module: stops Rasa, asks, starts Rasa again, asks again."""
    citizen = Citizen(running.emulator, next(_chat_ids))
    citizen.chooses(language)
    running.stack.rasa.stop()
    try:
        (apology,) = citizen.says(question)
        assert apology.text.startswith(UNAVAILABLE[language])
        assert running.bot.running
    finally:
        running.stack.rasa.start()
    (answer,) = citizen.says(question)
    assert JAPAN_TITLE[language] in answer.text


def test_one_command_runs_the_local_chat_and_stops_everything(
    tmp_path: Path, index_dir: Path
) -> None:
    """``python -m bot.supervisor`` without a token: a chat in the terminal, then a clean stop."""
    env = {k: v for k, v in __import__("os").environ.items() if k != "TELEGRAM_BOT_TOKEN"}
    endpoints = tmp_path / "endpoints.yml"
    from bot.supervisor import write_endpoints

    action_port, rasa_port = free_port(), free_port()
    write_endpoints(endpoints, action_port, tmp_path / "tracker.db")
    env.update(SAMVAD_INDEX_DIR=str(index_dir), SAMVAD_DATA_DIR=str(tmp_path / "data"))
    result = subprocess.run(
        [sys.executable, "-m", "bot.supervisor", "--actions-port", str(action_port),
         "--rasa-port", str(rasa_port), "--endpoints", str(endpoints),
         "--log-dir", str(tmp_path / "log"), "--no-train"],
        input=f"2\nhello\n{UNSURE_QUESTION}\n1\n/quit\n", capture_output=True, text=True,
        env=env, cwd=ROOT,
        timeout=400, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert CHOSEN["en"] in result.stdout
    assert "Hello! I am Samvad, the Thane Municipal Corporation helper. Ask me" in result.stdout
    # The unsure question's offer, its buttons as numbers, and the answer to pressing "1".
    offer = result.stdout[result.stdout.index("I'm not sure I have an article") :]
    assert "\n1. Thane Municipal Corporation and Japan" in offer and f"({DATE['en']})" in offer
    assert "[1] Thane Municipal Corporation and Japan" in offer and "[2] None of these" in offer
    assert (
        f"{SOURCE_LABEL['en']} Thane Municipal Corporation and Japan"
        in offer[offer.index("[2] None") :]
    )
    assert "rasa stopped" in result.stdout and "actions stopped" in result.stdout
