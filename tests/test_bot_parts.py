"""The bot's small parts: flood limit, secret redaction in logs, settings, the chat-id hash."""

from __future__ import annotations

import asyncio
import logging
import socket
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from telegram import Bot

from bot.flood import FloodLimiter
from bot.handlers import typing
from bot.logs import REDACTED, RedactingFilter
from bot.rasa_client import load_salt, sender_id
from samvad import Lang, Settings, SettingsError, say, text
from tests.emulator import BotApiEmulator

TOKEN = "7700123456:AAE-samvad-unit-test-token-Q1w2E3r4T5y6U7i8"


def test_flood_limit_is_per_user_and_slides() -> None:
    limiter = FloodLimiter(max_messages=3, window=10.0)
    assert [limiter.allow(1, now=t) for t in (0, 1, 2, 3)] == [True, True, True, False]
    assert limiter.allow(2, now=3)  # another user is not affected
    assert limiter.allow(1, now=10.5)  # the first message left the window


def test_flood_notice_once_per_window() -> None:
    limiter = FloodLimiter(max_messages=1, window=10.0)
    assert [limiter.should_warn(1, now=t) for t in (0, 5, 11)] == [True, False, True]


def _record(message: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("httpx", logging.INFO, __file__, 1, message, args, None)


@pytest.mark.parametrize(
    "record",
    [
        _record("HTTP Request: POST https://api.telegram.org/bot%s/getUpdates", TOKEN),
        _record(f"url=https://api.telegram.org/bot{TOKEN}/sendMessage"),
    ],
)
def test_token_is_redacted_from_messages(record: logging.LogRecord) -> None:
    RedactingFilter([TOKEN]).filter(record)
    assert TOKEN not in record.getMessage() and REDACTED in record.getMessage()


def test_token_shaped_strings_are_redacted_even_when_not_configured() -> None:
    record = _record("failed: bot%s", TOKEN)
    RedactingFilter().filter(record)
    assert TOKEN not in record.getMessage()


def test_token_is_redacted_from_tracebacks() -> None:
    try:
        raise RuntimeError(f"connect failed for /bot{TOKEN}/getMe")
    except RuntimeError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", None, None)
        record.exc_info = sys.exc_info()
    RedactingFilter([TOKEN]).filter(record)
    assert record.exc_text is not None and TOKEN not in record.exc_text


def test_sender_is_a_stable_salted_hash(tmp_path: Path) -> None:
    salt = load_salt(tmp_path)
    assert load_salt(tmp_path) == salt  # kept across restarts
    assert (tmp_path / ".sender_salt").stat().st_mode & 0o777 == 0o600
    first = sender_id(12345, salt)
    assert first == sender_id(12345, salt) and first != sender_id(12346, salt)
    assert "12345" not in first and first.startswith("tg-")
    assert sender_id(12345, b"other salt") != first


def test_a_configured_sender_salt_is_used_and_nothing_is_written(tmp_path: Path) -> None:
    settings = Settings.from_env({"SAMVAD_SENDER_SALT": "kept-elsewhere"})
    assert load_salt(tmp_path / "var", settings.sender_salt) == b"kept-elsewhere"
    assert not (tmp_path / "var").exists()
    assert "kept-elsewhere" not in repr(settings)


def test_settings_from_environment_and_the_token_is_not_in_repr(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {"TELEGRAM_BOT_TOKEN": TOKEN, "SAMVAD_RASA_URL": "http://127.0.0.1:6000/",
         "SAMVAD_FLOOD_MESSAGES": "5", "SAMVAD_FLOOD_SECONDS": "30",
         "SAMVAD_DATA_DIR": str(tmp_path), "SAMVAD_STAFF_IDS": "123, 456"}
    )  # fmt: skip
    assert settings.token == TOKEN and settings.rasa_urls == ("http://127.0.0.1:6000",)
    assert settings.flood_messages == 5 and settings.flood_seconds == 30.0
    assert settings.data_dir == tmp_path and settings.staff_ids == {123, 456}
    assert not settings.webhook
    assert TOKEN not in repr(settings)


def test_webhook_mode_needs_its_address_and_secret() -> None:
    settings = Settings.from_env(
        {"SAMVAD_WEBHOOK_URL": "https://x.example/hook", "SAMVAD_WEBHOOK_SECRET": "s3cret",
         "SAMVAD_WEBHOOK_PORT": "8444"}
    )  # fmt: skip
    assert settings.webhook and settings.webhook_port == 8444
    assert settings.webhook_listen == "127.0.0.1"


@pytest.mark.parametrize(
    "env",
    [
        {"SAMVAD_WEBHOOK_URL": "https://x.example/hook"},
        {"SAMVAD_WEBHOOK_SECRET": "s3cret"},
        {"SAMVAD_RASA_TIMEOUT": "soon"},
        {"SAMVAD_FLOOD_MESSAGES": "0"},
    ],
)
def test_unusable_settings_are_refused(env: dict[str, str]) -> None:
    with pytest.raises(SettingsError):
        Settings.from_env(env)


@pytest.mark.parametrize("language", ["mr", "en"])
def test_messages_in_the_language_or_both(language: Lang) -> None:
    assert say("error", language) == text("error", language)
    both = say("error", None)
    assert both == text("error", "mr") + "\n\n" + text("error", "en")
    assert both.startswith(text("error", "mr"))  # Marathi first


TYPING_TOKEN = "7700111222:AAF-samvad-typing-test-token-K4j5H6g7F8d9S0a1"


@pytest.mark.parametrize(
    ("delay", "work", "shown"),
    [(0.0, 0.05, 1), (0.4, 0.05, 0), (0.4, 0.7, 1)],
    ids=["at-once", "quick-answer-none", "slow-answer-shown"],
)
def test_typing_is_shown_only_once_the_answer_takes_its_delay(
    delay: float, work: float, shown: int
) -> None:
    """Through the Bot API emulator, with python-telegram-bot's own Bot: a quick answer costs
    no "typing…" request; a slow one (or a delay of 0) shows it."""
    emulator = BotApiEmulator(TYPING_TOKEN).start()

    async def run() -> None:
        bot = Bot(TYPING_TOKEN, base_url=emulator.base_url)
        async with bot, typing(bot, 42, delay):
            await asyncio.sleep(work)

    try:
        asyncio.run(run())
        assert [a for c, a, _ in emulator.chat_actions if c == 42] == ["typing"] * shown
    finally:
        emulator.stop()


def test_a_request_the_bot_gives_up_midway_is_dropped_not_refused() -> None:
    """ "typing…" is cancelled when the answer is ready, sometimes mid-request (seen in CI as
    a refused sendChatAction without a chat). As a real Bot API server, the emulator drops an
    incomplete request and records no error; it goes on serving."""
    emulator = BotApiEmulator(TYPING_TOKEN).start()
    try:
        host, port = urlsplit(emulator.base_url).hostname, urlsplit(emulator.base_url).port
        with socket.create_connection((str(host), int(port or 80)), timeout=5) as raw:
            raw.sendall(
                f"POST /bot{TYPING_TOKEN}/sendChatAction HTTP/1.1\r\nHost: x\r\n"
                "Content-Type: application/json\r\nContent-Length: 40\r\n\r\n".encode()
            )
        time.sleep(0.3)

        async def run() -> None:
            async with Bot(TYPING_TOKEN, base_url=emulator.base_url) as bot:
                await bot.send_chat_action(42, "typing")

        asyncio.run(run())
        assert emulator.errors == []
        assert [(c, a) for c, a, _ in emulator.chat_actions] == [(42, "typing")]
    finally:
        emulator.stop()
