"""Fuzzing the running bot: a seeded, bounded stream of random Telegram updates through the Bot
API emulator, against the real bot (``python -m bot``) and the real Rasa stack.

Texts (Marathi, English, romanized, emoji, markup, control, zero-width and bidi characters,
4,096 characters and more), commands known and unknown, photos and documents with captions,
stickers, voice, locations, empty messages, edited messages, channel posts, forwarded messages,
membership changes and forged button presses (any data, no data, expired keys, keys from another
chat's buttons, payloads with JSON injected) go in. Then:

- the bot is still running, and still answers a normal question;
- every update got exactly the messages it should, counted per chat: each update comes from a
  chat of its own, so every message the emulator saw for that chat belongs to it. What Rasa said
  is known exactly: the bot's Rasa URL points at a recording proxy here, so the messages the bot
  owed for an update are its own (a welcome, "text only, please", a notice…) plus Rasa's replies
  rendered (:func:`bot.render.render_replies`; a long answer is several messages) — and those
  are compared text for text. Edited messages and channel posts get nothing (an edited
  command included: citizen commands take new messages only);
- every button press was answered (its spinner stopped);
- nothing the bot sent holds a traceback, an ``Error:``, a file path or the token; the bot
  logged no handler error and made no request the Bot API refused (but taking the buttons off a
  made-up message).

The flood limit is set out of reach (``SAMVAD_FLOOD_MESSAGES``), so it cannot drop an update
and confound the count. The same seed gives the same updates.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from bot.handlers import ALLOWED_PAYLOAD
from bot.rasa_client import sender_id
from bot.render import PayloadStore, render_replies
from bot.supervisor import ROOT
from samvad import accept
from samvad.messages import text as catalogue
from tests.emulator import BotApiEmulator
from tests.emulator.server import ApiServer, parse_html
from tests.servers import Process, RasaStack, bot_process, build_index, log_troubles

pytestmark = [pytest.mark.servers, pytest.mark.model]

TOKEN = "7700654321:AAF-samvad-fuzz-test-token-Z9x8C7v6B5n4M3L2"
SEED = 20260514
UPDATES = 300
BATCH = 30
SALT = "fuzz-sender-salt"
FORWARDING_STAFF = tuple(range(880_001, 880_009))
JAPAN_QUESTION = "What did Thane Municipal Corporation agree with the Japanese ministry?"
JAPAN_TITLE = "Japan's Ministry of Land, Infrastructure and Transport"
UNSURE_QUESTION = "Is there free wifi in Thane city?"
LONG_ARTICLE_ID = "fuzz-long-walk-route"
LONG_QUESTION = "What is the route of the Masunda Lake heritage walk in Thane?"
LEAKS = re.compile(
    r"Traceback|Error:|File \"|\.py\b|site-packages|/work/|/tmp/|/home/|/usr/|"
    + re.escape(TOKEN.split(":")[1])
)


# --- the Rasa recorder ------------------------------------------------------------------------


@dataclass
class Exchange:
    sender: str
    message: str
    status: int
    replies: list[dict[str, Any]]


class RasaRecorder:
    """A transparent HTTP proxy in front of Rasa that records every REST-channel exchange."""

    def __init__(self, target: str) -> None:
        self.target = target.rstrip("/")
        self.exchanges: list[Exchange] = []
        self.active = 0
        self._lock = threading.Lock()
        self._server = ApiServer(("127.0.0.1", 0), self._handler())

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> RasaRecorder:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def of(self, sender: str) -> list[Exchange]:
        with self._lock:
            return [e for e in self.exchanges if e.sender == sender]

    def state(self) -> tuple[int, int]:
        with self._lock:
            return len(self.exchanges), self.active

    def _forward(
        self, method: str, path: str, body: bytes | None, authorization: str | None
    ) -> tuple[int, bytes]:
        headers = {"Content-Type": "application/json"} if body else {}
        if authorization:  # SAMVAD_RASA_TOKEN, when a stack has one
            headers["Authorization"] = authorization
        request = urllib.request.Request(self.target + path, body, headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                return int(response.status), response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()
        except OSError:
            return 502, b'{"error": "rasa unreachable"}'

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                with recorder._lock:
                    recorder.active += 1
                try:
                    status, answer = recorder._forward(
                        method, self.path, body, self.headers.get("Authorization")
                    )
                    if self.path.endswith("/webhook") and body:
                        asked = json.loads(body)
                        replies = json.loads(answer) if status == 200 else []
                        with recorder._lock:
                            recorder.exchanges.append(
                                Exchange(asked["sender"], asked["message"], status, replies)
                            )
                finally:
                    with recorder._lock:
                        recorder.active -= 1
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

        return Handler


# --- the running system -----------------------------------------------------------------------


def long_article() -> str:
    """An English article whose one sentence is about 5,000 characters: a multi-part answer."""
    stops = [f"the old gate of lane {i} near heritage marker {i}" for i in range(1, 91)]
    sentence = (
        "The Masunda Lake heritage walk route in Thane starts at the lake's eastern steps and "
        "passes, in this order, " + ", ".join(stops) + " before it ends at the walk office."
    )
    return (
        f"---\nid: {LONG_ARTICLE_ID}\nlang: en\ntitle: Masunda Lake heritage walk route\n"
        "date: 2026-11-29\nsource: https://example.org/thane/walk\n---\n"
        f"{sentence}\n"
    )


@dataclass
class Running:
    emulator: BotApiEmulator
    recorder: RasaRecorder
    bot: Process
    workdir: Path


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    workdir = tmp_path_factory.mktemp("bot-fuzz")
    knowledge = workdir / "knowledge"
    knowledge.mkdir()
    for article in (ROOT / "knowledge").glob("*.md"):
        if article.name.lower() != "readme.md":
            shutil.copy(article, knowledge / article.name)
    (knowledge / f"{LONG_ARTICLE_ID}.en.md").write_text(long_article(), encoding="utf-8")
    index_dir = build_index(knowledge, workdir / "index")
    stack = RasaStack(workdir, index_dir)
    emulator = BotApiEmulator(TOKEN).start()
    recorder = RasaRecorder(stack.url).start()
    bot = bot_process(
        workdir, TOKEN, emulator.base_url, recorder.url,
        SAMVAD_INDEX_DIR=str(index_dir), SAMVAD_KNOWLEDGE_DIR=str(knowledge),
        SAMVAD_FLOOD_MESSAGES="100000", SAMVAD_FLOOD_SECONDS="60", SAMVAD_RASA_TIMEOUT="90",
        SAMVAD_SENDER_SALT=SALT, SAMVAD_STAFF_IDS=",".join(map(str, FORWARDING_STAFF)),
    )  # fmt: skip
    try:
        stack.start()
        bot.start(timeout=60)
        yield Running(emulator, recorder, bot, workdir)
    finally:
        bot.stop()
        stack.stop()
        recorder.stop()
        emulator.stop()


def settle(running: Running, quiet: float = 2.0, timeout: float = 180.0) -> None:
    """Wait until for ``quiet`` seconds the bot has sent nothing, Rasa had no request and every
    update was fetched."""
    emulator, recorder = running.emulator, running.recorder
    deadline = time.monotonic() + timeout
    last: tuple[int, ...] = ()
    since = time.monotonic()
    while time.monotonic() < deadline:
        state = (len(emulator.sent), *recorder.state(), emulator.pending_updates())
        if state != last:
            last, since = state, time.monotonic()
        elif state[2] == 0 and state[3] == 0 and time.monotonic() - since >= quiet:
            return
        time.sleep(0.2)
    raise TimeoutError(f"the bot did not settle in {timeout:.0f} s: {last}")


# --- the updates ------------------------------------------------------------------------------


@dataclass
class Update:
    """One update sent, and what the bot owes for it besides Rasa's replies."""

    number: int
    kind: str
    chat_id: int
    shown: str  # what was sent, for failure messages
    own: int = 1  # messages the bot itself sends (not Rasa's)
    to_rasa: bool = False  # whether it must reach Rasa (exactly once)
    rasa_first: bool = False  # Rasa's replies come before the bot's own message (/help)
    query_id: str | None = None


PIECES = [
    "पाणी", "कधी", "येणार", "ठाणे", "महापालिकेने", "जपानसोबत", "करार", "pani", "kadhi", "yenar",
    "aahe", "japan", "karar", "water", "supply", "Thane", "agreement", "Japan", "?", "!", "।",
    ".", ",", "<b>", "</i>", "<a href='javascript:alert(1)'>", "&amp;", "&", "<", ">", "\u200b",
    "\u200c", "\u200d", "\ufeff", "\u202e", "\u2066", "\u2069", "\x00", "\x07", "\x1b", "\t",
    "\r", "\n", "\u2028", "👍", "🙏🏽", "🇮🇳", "👨\u200d👩\u200d👧", "9820012345", "१०", "10.5",
    "{", "}", '"', "/", "#", "*", "`", "_", "~", "|",
]  # fmt: skip
TEXTS = [
    "पाणी कधी येणार?",
    "जपानच्या मंत्रालयासोबत ठाणे महापालिकेने कोणत्या क्षेत्रात सहकार्य करार केला?",
    JAPAN_QUESTION,
    UNSURE_QUESTION,
    LONG_QUESTION,
    "pani kadhi yenar",
    "japan chya mantralaya barobar thane mahapalikecha karar kashasathi aahe?",
    "namaskar", "hello", "thank you", "ok", "in English please", "मराठीत बोला", "more", "आणखी",
    "👍", "🙏🏽🙏🏽", "<b>bold</b> & <script>alert(1)</script>", "&lt;i&gt;not markup&lt;/i&gt;",
    "\u202eabc\u200b", "\x00\x07bell", "पाणी\u200dकधी", "/ hello", "\\x00 %s %n {0}",
    '/choose_article{"article_id":"tmc-japan-mlit-smart-city-agreement"}',
    "पाणी " * 819 + "प",  # 4,096 characters
    "a" * 4096,
    "👍" * 2048,  # 4,096 UTF-16 units
    "x " * 3000,  # over Telegram's limit: the emulator delivers it anyway
]  # fmt: skip
COMMANDS: dict[str, tuple[int, bool]] = {  # command: (own messages, reaches Rasa)
    "/start": (1, False),
    "/start@samvad_test_bot": (1, False),
    "/start@some_other_bot": (1, False),  # not ours: an unknown command
    "/start extra words": (1, False),
    "/topics": (1, False),
    "/lang": (1, False),
    "/lang en": (0, True),
    "/lang mr": (0, True),
    "/lang xx": (1, False),
    "/help": (1, True),
    "/foo": (1, False),
    "/stats": (1, False),  # a staff command from a citizen: unknown
    "/reload": (1, False),
    "/add\n---\nid: x": (1, False),
    "/more": (1, False),
    "/choose_article": (1, False),
    "/" + "x" * 40: (1, False),
}
# An edited command runs nothing (citizen commands take new messages only): no reply.
EDITED_COMMANDS = ("/start", "/topics", "/help", "/lang en", "/forget", "/foo", "/stats")


def random_text(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return rng.choice(TEXTS)
    words = [rng.choice(PIECES) for _ in range(rng.randint(1, 25))]
    return "".join(w + rng.choice(["", " ", " ", "  "]) for w in words)


def rasa_message(text: str) -> str:
    """What the bot posts to Rasa for a typed ``text`` (``bot.handlers.on_text``)."""
    return accept(text.strip().lstrip("/").strip()).text


def speaks(text: str) -> bool:
    """Whether a typed ``text`` reaches Rasa (see test_a_text_of_only_slashes_gets_a_reply)."""
    return bool(rasa_message(text))


class Fuzzer:
    """Sends seeded random updates, each from a chat of its own."""

    def __init__(
        self, emulator: BotApiEmulator, seed: int, real_data: list[str], keys: dict[str, str]
    ) -> None:
        self.emulator = emulator
        self.rng = random.Random(seed)
        self.real_data = real_data  # callback data of real buttons, in another chat
        self.keys = keys  # what the "#key" among them stand for
        self.sent: list[Update] = []

    def send(self, number: int) -> Update:
        kinds: list[tuple[str, float]] = [
            ("text", 30), ("command", 12), ("media", 14), ("edited", 8), ("channel", 6),
            ("callback", 16), ("forwarded", 6), ("member", 2), ("blank", 3), ("long", 3),
        ]  # fmt: skip
        kind = self.rng.choices([k for k, _ in kinds], [w for _, w in kinds])[0]
        chat_id = 5_000_000 + number
        make: Callable[[Update], Update] = getattr(self, f"_{kind}")
        update = make(Update(number, kind, chat_id, ""))
        self.sent.append(update)
        return update

    def _typed(self, update: Update, text: str) -> Update:
        update.shown = text[:80]
        update.to_rasa = speaks(text)
        cut = accept(text.strip().lstrip("/").strip()).cut
        # the long-message notice, or "please ask in other words" for a text of only slashes
        update.own = (1 if cut else 0) + (0 if update.to_rasa else 1)
        return update

    def _text(self, update: Update) -> Update:
        text = random_text(self.rng)
        while not speaks(text):
            text = random_text(self.rng)
        self.emulator.send_text(update.chat_id, text)
        return self._typed(update, text)

    def _long(self, update: Update) -> Update:
        text = self.rng.choice(["पाणी कधी येणार? ", "When does water come? ", "👍 "]) * 400
        self.emulator.send_text(update.chat_id, text)
        return self._typed(update, text)

    def _forwarded(self, update: Update) -> Update:
        text = self.rng.choice([*TEXTS[:8], "/start"])
        self.emulator.send_forwarded_text(update.chat_id, text)
        if text == "/start":
            update.shown = text
            return update
        return self._typed(update, text)

    def _command(self, update: Update) -> Update:
        command = self.rng.choice(sorted(COMMANDS))
        self.emulator.send_command(update.chat_id, command)
        update.shown = command
        update.own, update.to_rasa = COMMANDS[command]
        update.rasa_first = command == "/help"
        return update

    def _media(self, update: Update) -> Update:
        chat, rng = update.chat_id, self.rng
        caption = rng.choice([None, random_text(rng), "/start", "/replace"])
        what = rng.choice(["sticker", "voice", "photo", "document", "md", "location", "contact",
                           "dice", "video_note"])  # fmt: skip
        if what == "sticker":
            self.emulator.send_sticker(chat)
        elif what == "voice":
            self.emulator.send_voice(chat)
        elif what == "photo":
            self.emulator.send_photo(chat, caption)
        elif what == "document":
            self.emulator.send_document(chat, "scan.pdf", b"%PDF-1.4\n\x00\xff", caption,
                                        "application/pdf")  # fmt: skip
        elif what == "md":  # an article from a citizen: not staff, so "text only"
            self.emulator.send_document(chat, "a.md", b"---\nid: x\n---\nx\n", caption)
        elif what == "location":
            self.emulator.send_message_with(chat, location={"latitude": 19.2, "longitude": 72.9})
        elif what == "contact":
            contact = {"phone_number": "+919820012345", "first_name": "X"}
            self.emulator.send_message_with(chat, contact=contact)
        elif what == "dice":
            self.emulator.send_message_with(chat, dice={"emoji": "🎲", "value": 3})
        else:
            note = {"file_id": "DQACvn", "file_unique_id": "AgADvn", "length": 240, "duration": 2}
            self.emulator.send_message_with(chat, video_note=note)
        update.shown = f"{what} {caption!r}"[:80]
        return update

    def _blank(self, update: Update) -> Update:
        fields = self.rng.choice([{"text": ""}, {}])  # Telegram never sends these; handled
        self.emulator.send_message_with(update.chat_id, **fields)
        update.shown = f"message {fields}"
        return update

    def _edited(self, update: Update) -> Update:
        if self.rng.random() < 0.5:
            text = random_text(self.rng)
        else:
            text = self.rng.choice(EDITED_COMMANDS)
        update.own, update.to_rasa = 0, False
        self.emulator.send_edited_text(update.chat_id, 1, text)  # a message never seen
        update.shown = f"edited to {text[:60]!r}"
        return update

    def _channel(self, update: Update) -> Update:
        update.chat_id = -1_000_000_000_000 - update.number
        text = self.rng.choice([random_text(self.rng), "/start", "/help", "/stats"])
        self.emulator.send_channel_post(update.chat_id, text, edited=self.rng.random() < 0.3)
        update.shown, update.own = f"channel post {text[:60]!r}", 0
        return update

    def _member(self, update: Update) -> Update:
        chat = {"id": update.chat_id, "type": "private", "first_name": "Citizen"}
        bot = self.emulator.bot_user
        self.emulator.send_update(
            "my_chat_member",
            {
                "chat": chat, "from": self.emulator.user(update.chat_id),
                "date": int(time.time()),
                "old_chat_member": {"status": "member", "user": bot},
                "new_chat_member": {"status": "kicked", "user": bot, "until_date": 0},
            },
        )  # fmt: skip
        update.shown, update.own = "blocked the bot", 0
        return update

    def _callback(self, update: Update) -> Update:
        rng = self.rng
        choices: list[Callable[[], str | None]] = [
            lambda: random_text(rng)[:64],
            lambda: None,
            lambda: "#" + "".join(rng.choice("0123456789abcdef") for _ in range(24)),
            lambda: rng.choice(self.real_data) if self.real_data else "/more",
            lambda: rng.choice(
                ["/more", '/feedback{"helpful":true}', '/feedback{"helpful":false}',
                 '/choose_article{"article_id": "tmc-japan-mlit-smart-city-agreement"}',
                 '/choose_article{"article_id": "no-such-article"}', "/choose_article",
                 '/choose_language{"language":"en"}', '/choose_language{"language":"xx"}',
                 "/help"]
            ),
            lambda: rng.choice(
                ['/choose_article{"article_id":"x"}{"language":"en"}', "/more{" + "x" * 300 + "}",
                 '/choose_article{"a":{"b":1}}', "/restart", "/MORE", " /more", "/more x",
                 '{"intent":"more"}', "", "#", "/start"]
            ),
        ]  # fmt: skip
        data = rng.choice(choices)()
        update.query_id = self.emulator.send_callback_data(update.chat_id, data)
        payload = self.resolve(data)
        allowed = payload is not None and ALLOWED_PAYLOAD.fullmatch(payload) is not None
        update.own, update.to_rasa = (0, True) if allowed else (1, False)
        update.shown = f"button {data!r}"[:80]
        return update

    def resolve(self, data: str | None) -> str | None:
        """What the bot's PayloadStore makes of ``data`` (a key of a real button resolves)."""
        if data is None:
            return ""
        if data.startswith("#"):
            return self.keys.get(data)
        return data


# --- the run ----------------------------------------------------------------------------------


@dataclass
class Report:
    seconds: float = 0.0
    kinds: dict[str, int] = field(default_factory=dict)
    rasa_calls: int = 0
    messages: int = 0


def real_buttons(running: Running) -> tuple[list[str], dict[str, str]]:
    """Ask in a chat of its own for an offer and an answer; their buttons' callback data, and
    what each "#key" stands for (from the offer: the payload of an offered article)."""
    emulator, chat = running.emulator, 4_000_001
    emulator.send_text(chat, UNSURE_QUESTION)
    emulator.send_text(chat, JAPAN_QUESTION)
    emulator.wait_for_messages(chat, 2, timeout=180)
    settle(running)
    data = [d for m in emulator.messages(chat) for d in m.callback_data]
    store, keys = PayloadStore(), {}
    for exchange in running.recorder.of(sender_id(chat, SALT.encode())):
        for message in exchange.replies:
            for button in message.get("buttons") or []:
                payload = str(button.get("payload") or "").strip()
                key = store.callback_data(payload)  # the bot's store makes the same key
                if key != payload:
                    keys[key] = payload
    return data, keys


def expected_messages(update: Update, running: Running) -> tuple[int, list[str]]:
    """How many messages ``update`` is owed, and the visible texts of Rasa's part of them."""
    exchanges = running.recorder.of(sender_id(update.chat_id, SALT.encode()))
    rasa_texts: list[str] = []
    count = update.own
    for exchange in exchanges:
        parts, _ = render_replies(exchange.replies)
        if parts:
            rasa_texts += [parse_html(p.html)[0] for p in parts]
            count += len(parts)
        else:
            count += 1  # "not understood"
    return count, rasa_texts


def test_random_updates_never_stop_the_bot_and_each_gets_its_reply(running: Running) -> None:
    emulator, recorder = running.emulator, running.recorder
    data, keys = real_buttons(running)
    fuzzer = Fuzzer(emulator, SEED, data, keys)
    started = time.monotonic()
    for first in range(0, UPDATES, BATCH):
        batch = [fuzzer.send(n) for n in range(first, min(first + BATCH, UPDATES))]
        for update in batch:
            least = update.own + (1 if update.to_rasa else 0)
            if least:
                emulator.wait_for_messages(update.chat_id, least, timeout=180)
        settle(running, quiet=1.5)
    settle(running, quiet=4.0)
    seconds = time.monotonic() - started

    problems: list[str] = []
    for update in fuzzer.sent:
        sender = sender_id(update.chat_id, SALT.encode())
        exchanges = recorder.of(sender)
        if len(exchanges) != (1 if update.to_rasa else 0):
            problems.append(f"#{update.number} {update.shown!r}: {len(exchanges)} Rasa requests")
        if any(e.status != 200 for e in exchanges):
            problems.append(f"#{update.number} {update.shown!r}: Rasa answered an error")
        got = emulator.messages(update.chat_id)
        count, rasa_texts = expected_messages(update, running)
        if len(got) != count:
            texts = [m.text[:60] for m in got]
            problems.append(f"#{update.number} {update.shown!r}: {len(got)}/{count}: {texts}")
            continue
        if rasa_texts:
            shown = got[: len(rasa_texts)] if update.rasa_first else got[update.own :]
            if [m.text for m in shown] != rasa_texts:
                problems.append(f"#{update.number} {update.shown!r}: not what Rasa said")
        if update.query_id is not None and not emulator.answered(update.query_id):
            problems.append(f"#{update.number} {update.shown!r}: the button was not answered")
    citizens = [u for u in fuzzer.sent if u.kind not in ("edited", "channel", "member")]
    silent = [u.shown for u in citizens if not emulator.messages(u.chat_id)]
    leaks = [m.text[:120] for m in emulator.sent if LEAKS.search(m.raw) or TOKEN in m.raw]
    refused = [e for e in emulator.errors if e[0] != "editMessageReplyMarkup"]
    log = (running.workdir / "bot.log").read_text(encoding="utf-8", errors="replace")
    kinds: dict[str, list[int]] = {}  # kind: [updates, messages the bot sent for them]
    for update in fuzzer.sent:
        counts = kinds.setdefault(update.kind, [0, 0])
        counts[0] += 1
        counts[1] += len(emulator.messages(update.chat_id))
    summary = (
        f"{UPDATES} updates in {seconds:.0f} s; kind: [updates, messages] {kinds}; "
        f"{len(recorder.exchanges)} Rasa calls, {len(emulator.sent)} messages sent"
    )
    (running.workdir / "fuzz-summary.txt").write_text(summary + "\n", encoding="utf-8")

    assert running.bot.running, "the bot stopped"
    troubles = log_troubles(running.workdir / "bot.log")
    assert not problems, "\n".join([*problems, troubles])
    assert not silent, silent
    assert not leaks, leaks
    assert not refused, refused
    assert "error while handling an update" not in log, troubles
    assert TOKEN not in log and TOKEN.split(":")[1] not in log

    chat = 4_000_002
    emulator.send_text(chat, JAPAN_QUESTION)
    (answer,) = emulator.wait_for_messages(chat, 1, timeout=120)
    assert JAPAN_TITLE in answer.text


def test_edited_and_forwarded_messages_never_run_a_staff_command(running: Running) -> None:
    """Staff ids here send only edits: nothing answers them (staff handlers take new messages
    only; the citizens' unknown-command handler too)."""
    staff = FORWARDING_STAFF[0]
    before = len(running.emulator.messages(staff))
    for command in ("/stats", "/unanswered", "/check", "/reload"):
        running.emulator.send_edited_text(staff, 1, command)
    settle(running, quiet=3.0)
    assert len(running.emulator.messages(staff)) == before


@pytest.mark.parametrize("what", ["/stats", "/check", "document"])
def test_a_forwarded_message_never_runs_a_staff_command(running: Running, what: str) -> None:
    """A staff member forwarding someone's ``/stats`` or ``.md`` file is a citizen doing so."""
    staff = FORWARDING_STAFF[1 + ["/stats", "/check", "document"].index(what)]
    if what == "document":
        running.emulator.send_forwarded_document(staff, "a.md", b"---\nid: Bad Id\n---\nx\n")
        expected = catalogue("text_only", "en")
    else:
        running.emulator.send_forwarded_text(staff, what)
        expected = catalogue("unknown_command", "en")
    (reply,) = running.emulator.wait_for_messages(staff, 1, timeout=60)
    assert expected in reply.text, reply.text[:200]


@pytest.mark.parametrize("typed", ["/", "//", "///"])
def test_a_text_of_only_slashes_gets_a_reply(running: Running, typed: str) -> None:
    chat = 4_100_000 + len(typed)
    running.emulator.send_text(chat, typed)
    settle(running, quiet=3.0)
    assert running.emulator.messages(chat), "no reply"
