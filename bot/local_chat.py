"""A chat in the terminal through the same path as Telegram: Rasa's REST channel and the actions.

Type a question; type the number of a button to press it; ``/topics``, ``/lang``, ``/start``
work as on Telegram; ``/quit`` (or Ctrl-D) ends the chat.
"""

from __future__ import annotations

import asyncio
import getpass
import sys
import threading
from typing import TextIO

from bot.rasa_client import RasaClient, RasaUnavailableError, load_salt, sender_id
from bot.render import Button, Reply, read_replies
from samvad import (
    LANGUAGE_BUTTONS,
    LANGUAGE_PROMPT,
    CatalogReader,
    Lang,
    Settings,
    accept,
    both,
    plain_text,
    say,
    script_language,
)

QUIT = ("/quit", "/exit", "/q")


def _lines(stream: TextIO) -> asyncio.Queue[str | None]:
    """Lines of ``stream`` read by a daemon thread (so a waiting read never blocks exit)."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str | None] = asyncio.Queue()

    def read() -> None:
        while True:
            line = stream.readline()
            loop.call_soon_threadsafe(queue.put_nowait, line if line else None)
            if not line:
                return

    threading.Thread(target=read, name="local-chat-input", daemon=True).start()
    return queue


class LocalChat:
    """One terminal conversation."""

    def __init__(self, config: Settings, out: TextIO) -> None:
        self.config = config
        self.out = out
        self.rasa = RasaClient(
            config.rasa_urls, timeout=config.rasa_timeout, token=config.rasa_token
        )
        self.topics = CatalogReader(config.index_dir)
        salt = load_salt(config.data_dir, config.sender_salt)
        self.sender = sender_id(getpass.getuser(), salt, channel="local")
        self.language: Lang | None = None
        self.buttons: list[Button] = []

    def show(self, text: str) -> None:
        self.out.write(text.rstrip() + "\n")
        self.out.flush()

    def show_buttons(self, buttons: list[Button]) -> None:
        self.buttons = [b for b in buttons if b.payload]
        if self.buttons:
            self.show("   " + "   ".join(f"[{i}] {b.title}" for i, b in enumerate(self.buttons, 1)))

    @staticmethod
    def _text(reply: Reply) -> str:
        """The reply as plain text: an answer rendered from its structure, else its text."""
        return plain_text(reply.answer) if reply.answer is not None else reply.text

    async def ask(self, message: str) -> None:
        try:
            replies = read_replies(await self.rasa.send(self.sender, message))
        except RasaUnavailableError:
            self.show("संवाद: " + say("unavailable", self.language or script_language(message)))
            return
        if not replies:
            self.show("संवाद: " + say("not_understood", self.language))
        buttons: list[Button] = []
        for reply in replies:
            self.language = reply.language or self.language
            self.show("संवाद: " + self._text(reply))
            buttons.extend(reply.buttons)
        self.show_buttons(buttons)

    def welcome(self) -> None:
        self.show("संवाद: " + say("welcome", "mr"))
        self.show("Samvad: " + say("welcome", "en"))
        self.choose_language()

    def choose_language(self) -> None:
        self.show(LANGUAGE_PROMPT)
        self.show_buttons([Button(title, payload=payload) for title, payload in LANGUAGE_BUTTONS])

    async def show_topics(self) -> None:
        titles = await asyncio.to_thread(self.topics.titles, self.language or "mr")
        if not titles:
            self.show(say("no_topics", self.language))
            return
        self.show(say("topics_header", self.language, " / "))
        self.show("\n".join(f"  • {t}" for t in titles))

    async def handle(self, line: str) -> bool:
        """Handle one typed line; ``False`` to end the chat."""
        text = line.strip()
        if not text:
            return True
        if text.lower() in QUIT:
            return False
        if text.isdigit() and 1 <= int(text) <= len(self.buttons):
            payload = self.buttons[int(text) - 1].payload or ""
            self.buttons = []
            await self.ask(payload)
        elif text == "/start":
            self.welcome()
        elif text == "/lang":
            self.choose_language()
        elif text == "/topics":
            await self.show_topics()
        elif text == "/help":
            await self.ask("/help")
        else:
            await self.ask(accept(text.lstrip("/")).text)
        return True


async def local_chat(
    config: Settings, stdin: TextIO | None = None, out: TextIO | None = None
) -> int:
    """Chat until ``/quit`` or end of input."""
    chat = LocalChat(config, out or sys.stdout)
    lines = _lines(stdin or sys.stdin)
    chat.show(f"Samvad local chat — Rasa at {', '.join(config.rasa_urls)}. /quit to leave.")
    chat.welcome()
    try:
        while True:
            line = await lines.get()
            if line is None or not await chat.handle(line):
                break
    finally:
        await chat.rasa.aclose()
    chat.show("संवाद: " + both("goodbye", " "))
    return 0


def run_local_chat(config: Settings) -> int:
    """Run :func:`local_chat` on the terminal."""
    try:
        return asyncio.run(local_chat(config))
    except KeyboardInterrupt:
        return 0
