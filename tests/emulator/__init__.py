"""A Telegram Bot API emulator for tests and benchmarks (see :mod:`tests.emulator.server`)."""

from tests.emulator.server import BotApiEmulator, SentMessage

__all__ = ["BotApiEmulator", "SentMessage"]
