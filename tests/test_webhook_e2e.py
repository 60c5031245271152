"""The bot in webhook mode (real ``python -m bot``, PTB's webhook server) binds to loopback and
rejects updates without the secret token: 403, and nothing is processed.

Rasa is deliberately not running: a processed message then gets the "service unavailable"
apology through the Bot API emulator, which is how the test sees that it was processed.
"""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from samvad.messages import text as catalogue
from tests.emulator import BotApiEmulator
from tests.servers import Process, bot_process, free_ports

pytestmark = pytest.mark.servers

TOKEN = "7700123456:AAE-webhook-test-token-Q1w2E3r4T5y6U7i8o9"
SECRET = "webhook-secret-for-tests"
HOOK_PATH = "telegram-hook"


def post_update(port: int, chat_id: int, secret: str | None) -> int:
    """POST one text update to the bot's webhook; the HTTP status."""
    update = {
        "update_id": 5000 + chat_id,
        "message": {
            "message_id": 1,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "Citizen"},
            "text": "When will water come to Ghodbunder?",
        },
    }
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/{HOOK_PATH}", json.dumps(update).encode(), headers
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def _wait_until_listening(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listens on port {port}")


@pytest.fixture(scope="module")
def webhook_bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[BotApiEmulator, int]]:
    workdir = tmp_path_factory.mktemp("webhook")
    hook_port, dead_rasa_port = free_ports(2)
    emulator = BotApiEmulator(TOKEN).start()
    bot: Process = bot_process(
        workdir, TOKEN, emulator.base_url, f"http://127.0.0.1:{dead_rasa_port}",
        SAMVAD_WEBHOOK_URL=f"http://127.0.0.1:{hook_port}/{HOOK_PATH}",
        SAMVAD_WEBHOOK_SECRET=SECRET, SAMVAD_WEBHOOK_PORT=str(hook_port),
        SAMVAD_RASA_TIMEOUT="2", SAMVAD_INDEX_DIR=str(workdir / "no-index"),
    )  # fmt: skip
    try:
        bot.start(timeout=60)
        _wait_until_listening(hook_port)  # the ready file comes before the webhook server
        yield emulator, hook_port
    finally:
        bot.stop()
        emulator.stop()


@pytest.mark.parametrize("secret", [None, "wrong-secret"], ids=["no-secret", "wrong-secret"])
def test_an_update_without_the_secret_is_refused_and_not_processed(
    webhook_bot: tuple[BotApiEmulator, int], secret: str | None
) -> None:
    emulator, port = webhook_bot
    chat = 71 if secret is None else 72
    assert post_update(port, chat, secret) == 403
    time.sleep(3)
    assert emulator.messages(chat) == []


def test_an_update_with_the_secret_is_processed(webhook_bot: tuple[BotApiEmulator, int]) -> None:
    emulator, port = webhook_bot
    assert post_update(port, 73, SECRET) == 200
    (reply,) = emulator.wait_for_messages(73, 1, 0, 30.0)
    assert reply.text == catalogue("unavailable", "en")


def test_the_webhook_was_registered_with_its_secret(
    webhook_bot: tuple[BotApiEmulator, int],
) -> None:
    emulator, port = webhook_bot
    info = emulator.call("getWebhookInfo", {})
    assert info["url"] == f"http://127.0.0.1:{port}/{HOOK_PATH}"


def test_the_webhook_listens_on_loopback_only(webhook_bot: tuple[BotApiEmulator, int]) -> None:
    _, port = webhook_bot
    listening = Path("/proc/net/tcp").read_text(encoding="ascii").splitlines()[1:]
    local = [line.split()[1] for line in listening if line.split()[3] == "0A"]  # LISTEN
    assert f"0100007F:{port:04X}" in local
    assert f"00000000:{port:04X}" not in local
