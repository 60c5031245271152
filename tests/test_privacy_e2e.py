"""Issue 14's acceptance test: personal data a citizen types is stored and logged nowhere.

Through the real bot (``python -m bot`` against the Bot API emulator, logging at DEBUG, where
python-telegram-bot logs whole updates) and straight to Rasa's REST channel, with the real Rasa
server and action server (engine, model, an index of ``knowledge/``), citizens send Marathi and
English messages holding an Aadhaar number, a mobile number and an e-mail address. Then
everything is stopped (so every log is flushed) and every stored place is read directly: all
tables of the question log (``<data_dir>/samvad.db``), all tables of Rasa's tracker store (the
stack's ``tracker.db``) and every other file the stack and the bot wrote (their logs). None of
the values may be there in any spacing or script; the question log holds the placeholders.

A message posted straight to the REST channel (not through the bot) is masked by Rasa's own
input channel (``connectors/masked_rest.py``) before Rasa records it.
"""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.supervisor import ROOT
from samvad import LANGUAGES, mask, text
from samvad.privacy import verhoeff_valid
from tests.conftest import copy_articles
from tests.emulator import BotApiEmulator
from tests.servers import RasaStack, bot_process, build_index

pytestmark = [pytest.mark.servers, pytest.mark.model]

TOKEN = "7700123457:AAE-samvad-privacy-e2e-token-Z9x8C7v6B5n4M3b2"
TO_ASCII = str.maketrans("०१२३४५६७८९", "0123456789")
TO_DEVANAGARI = str.maketrans("0123456789", "०१२३४५६७८९")
PLACEHOLDERS = ("[aadhaar]", "[phone]", "[email]")


def with_check_digit(first_eleven: str) -> str:
    """An Aadhaar-shaped number: ``first_eleven`` and its Verhoeff check digit."""
    return next(first_eleven + d for d in "0123456789" if verhoeff_valid(first_eleven + d))


AADHAAR = [
    with_check_digit(n) for n in ("27384950617", "36271845093", "58203716492", "71936482057")
]


@dataclass(frozen=True)
class Typed:
    """One citizen's message and the personal data in it, exactly as typed."""

    language: str
    text: str
    values: tuple[str, ...]

    @property
    def logged(self) -> str:
        """What the question log should hold for it."""
        return mask(" ".join(self.text.split()))


def _typed(language: str, template: str, *values: str) -> Typed:
    return Typed(language, template.format(*values), values)


THROUGH_THE_BOT = [
    _typed(
        "en",
        "My Aadhaar {} is not linked, my phone is {}, mail {}. "
        "What did Thane Municipal Corporation agree with the Japanese ministry?",
        f"{AADHAAR[0][:4]} {AADHAAR[0][4:8]} {AADHAAR[0][8:]}",
        "97693 58214",
        "nagrik.alpha@example.com",
    ),
    _typed(
        "mr",
        "माझा आधार {} आहे, फोन {}, ईमेल {}. "
        "जपानच्या मंत्रालयासोबत ठाणे महापालिकेने कोणत्या क्षेत्रात सहकार्य करार केला?",
        AADHAAR[1].translate(TO_DEVANAGARI),
        "+91 86527 40391",
        "nagrik.beta@example.org",
    ),
]
STRAIGHT_TO_RASA = [
    _typed(
        "en",
        "Aadhaar {}, mobile {}, e-mail {}: how do I get a new water connection?",
        f"{AADHAAR[2][:4]}-{AADHAAR[2][4:8]}-{AADHAAR[2][8:]}",
        "0 79481 26350",
        "rest.gamma@example.net",
    ),
    _typed(
        "mr",
        "आधार {}, मोबाइल {} आणि ईमेल {} — नवीन नळ जोडणीसाठी अर्ज कसा करायचा?",
        AADHAAR[3],
        "९८४५७ ३२६१०",
        "rest.delta@example.in",
    ),
]
EVERYONE = THROUGH_THE_BOT + STRAIGHT_TO_RASA


# --- finding a value in whatever form it was stored ------------------------------------------

_JSON_DEVANAGARI_DIGIT = re.compile(r"\\u096([6-9a-fA-F])")
_SPACING = re.compile(r"[\s\-\u2010-\u2015.()+\u00a0\u202f]")


def squeeze(text: str) -> str:
    """ASCII digits (JSON escapes of Devanagari digits decoded too), no spaces, hyphens, dots
    or brackets, lower case: a value is found here in any spacing, script or case."""
    text = _JSON_DEVANAGARI_DIGIT.sub(lambda m: str(int(m.group(1), 16) - 6), text)
    return _SPACING.sub("", text.translate(TO_ASCII)).lower()


def needles(value: str) -> set[str]:
    """What betrays ``value``: all of it squeezed, and a number's last 10 digits (a mobile
    number without +91 or 0)."""
    squeezed = squeeze(value)
    found = {squeezed}
    if squeezed.isdigit():
        found.add(squeezed[-10:])
    return found


def leaked(haystack: str, values: Iterable[str]) -> list[str]:
    """The ``values`` found in ``haystack``."""
    squeezed = squeeze(haystack)
    return [v for v in values if any(n in squeezed for n in needles(v))]


def values_of(messages: list[Typed]) -> list[str]:
    return [value for typed in messages for value in typed.values]


# --- the run ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finished:
    """A finished run: where its processes kept things, and what the citizens got back."""

    workdir: Path
    data_dir: Path
    replies: dict[str, list[str]]


def _is_sqlite(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(16) == b"SQLite format 3\x00"


def tables(db: Path) -> dict[str, tuple[list[str], list[tuple[Any, ...]]]]:
    """Every table of ``db``: its column names and rows."""
    with contextlib.closing(sqlite3.connect(db)) as connection:
        names = [
            row[0]
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        ]
        found = {}
        for name in names:
            cursor = connection.execute(f'SELECT * FROM "{name}"')
            found[name] = ([c[0] for c in cursor.description], cursor.fetchall())
        return found


def as_text(row: Iterable[Any]) -> str:
    return " ".join(c.decode("utf-8", "replace") if isinstance(c, bytes) else str(c) for c in row)


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    knowledge = tmp_path_factory.mktemp("knowledge")
    copy_articles(ROOT / "knowledge", knowledge)
    return build_index(knowledge, tmp_path_factory.mktemp("index"))


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory, index_dir: Path) -> Finished:
    workdir = tmp_path_factory.mktemp("privacy-e2e")
    stack = RasaStack(workdir, index_dir)
    emulator = BotApiEmulator(TOKEN).start()
    bot = bot_process(
        workdir, TOKEN, emulator.base_url, stack.url,
        SAMVAD_INDEX_DIR=str(index_dir), SAMVAD_RASA_TIMEOUT="60", SAMVAD_LOG_LEVEL="DEBUG",
    )  # fmt: skip
    replies: dict[str, list[str]] = {}
    try:
        stack.start()
        bot.start(timeout=60)
        for chat_id, typed in enumerate(THROUGH_THE_BOT, 4101):
            seen = len(emulator.messages(chat_id))
            emulator.send_text(chat_id, typed.text)
            sent = emulator.wait_for_messages(chat_id, 1, seen, timeout=90.0)
            replies[typed.text] = [m.text for m in sent]
        for number, typed in enumerate(STRAIGHT_TO_RASA):
            answered = stack.say(f"privacy-rest-{number}", typed.text)
            replies[typed.text] = [str(m["text"]) for m in answered if m.get("text")]
    finally:
        bot.stop()
        stack.stop()
        emulator.stop()
    return Finished(workdir, stack.data_dir, replies)


# --- the checks ---------------------------------------------------------------------------


@pytest.mark.parametrize("typed", EVERYONE, ids=["bot-en", "bot-mr", "rest-en", "rest-mr"])
def test_the_citizen_still_gets_a_reply(finished: Finished, typed: Typed) -> None:
    replies = finished.replies[typed.text]
    assert replies and all(r.strip() for r in replies)
    apologies = [
        text(k, lang) for k in ("unavailable", "error", "engine_error") for lang in LANGUAGES
    ]
    assert not [r for r in replies if r.startswith(tuple(apologies))]


def test_the_question_log_holds_placeholders_and_no_personal_data(finished: Finished) -> None:
    db = finished.data_dir / "samvad.db"
    everything = tables(db)
    for name, (_, rows) in everything.items():
        for row in rows:
            assert leaked(as_text(row), values_of(EVERYONE)) == [], (name, row)
    columns, rows = everything["questions"]
    questions = [row[columns.index("question")] for row in rows]
    for typed in EVERYONE:
        assert typed.logged in questions
        assert all(p in typed.logged for p in PLACEHOLDERS)


def _events(finished: Finished) -> list[dict[str, Any]]:
    columns, rows = tables(finished.workdir / "tracker.db")["events"]
    return [dict(zip(columns, row, strict=True)) for row in rows]


def test_rasas_tracker_store_never_holds_what_came_through_the_bot(finished: Finished) -> None:
    everything = tables(finished.workdir / "tracker.db")
    assert "events" in everything
    for name, (_, rows) in everything.items():
        for row in rows:
            assert leaked(as_text(row), values_of(THROUGH_THE_BOT)) == [], (name, row)
    said = [json.loads(e["data"]).get("text") for e in _events(finished)]
    for typed in THROUGH_THE_BOT:
        assert mask(typed.text) in said  # the bot forwarded the masked text


def test_rasas_tracker_store_masks_every_event_of_a_rest_message(finished: Finished) -> None:
    """Slots (``last_question``), the bot's answers and every other event are masked for a
    message posted straight to Rasa too."""
    slots = []
    for event in _events(finished):
        data = json.loads(event["data"])
        assert leaked(event["data"], values_of(STRAIGHT_TO_RASA)) == [], event
        if data.get("event") == "slot" and data.get("name") == "last_question":
            slots.append(data.get("value"))
    for typed in STRAIGHT_TO_RASA:
        assert typed.logged in slots


def test_rasas_tracker_store_masks_even_a_message_posted_straight_to_it(
    finished: Finished,
) -> None:
    users = [e["data"] for e in _events(finished) if e["type_name"] == "user"]
    assert leaked("\n".join(users), values_of(STRAIGHT_TO_RASA)) == []


def test_no_log_or_other_file_holds_personal_data(finished: Finished) -> None:
    files = [
        path
        for path in sorted(finished.workdir.rglob("*"))
        if path.is_file() and not path.name.endswith(("-wal", "-shm", "-journal"))
    ]
    logs = {path.name for path in files if path.suffix == ".log"}
    assert {"actions.log", "rasa.log", "bot.log"} <= logs
    for path in files:
        if _is_sqlite(path):
            continue  # read table by table above
        content = path.read_bytes().decode("utf-8", "replace")
        assert leaked(content, values_of(EVERYONE)) == [], path
    bot_log = (finished.workdir / "bot.log").read_text(encoding="utf-8")
    # python-telegram-bot logged the updates at DEBUG, masked: the filter was at work.
    assert all(p in bot_log for p in PLACEHOLDERS)
