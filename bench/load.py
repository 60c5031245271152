"""Load benchmark: N citizens at once, through the Telegram path or straight to Rasa's REST channel.

    .venv/bin/python bench/load.py                       # N = 10, 50, 100 through the emulator
    .venv/bin/python bench/load.py --via rest            # the same load posted to Rasa directly
    .venv/bin/python bench/load.py --users 10 --messages 5

``--via telegram`` (default) is the whole path a citizen's message takes: the Bot API emulator
(``tests/emulator``) → the real bot (``python -m bot``, long polling, python-telegram-bot) →
Rasa (REST channel) → the action server → the engine → back to the emulator. ``--via rest``
leaves out the emulator and the bot, to show how much of the time is theirs.

Each simulated citizen (its own chat) sends ``--messages`` messages one after another, each
after the previous reply arrived: a Marathi question, a greeting, an English question, a
romanized question, … (see ``SCRIPT``). Latency is from sending a message to its first reply;
a message with no reply within ``--timeout`` is *lost*; a reply beyond the one expected per
message (checked again after a pause at the end) is *duplicated*. The bot runs with Samvad's
usual settings except a flood limit high enough for the test. Prints one table row per N.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from samvad.settings import Settings  # noqa: E402
from tests.emulator import BotApiEmulator  # noqa: E402
from tests.servers import RasaStack, bot_process, build_index, say_to_rasa  # noqa: E402

TOKEN = "7700123456:AAE-samvad-load-test-token-Q1w2E3r4T5y6U7i8"
SCRIPT = (
    "जपानच्या मंत्रालयासोबत ठाणे महापालिकेने कोणत्या क्षेत्रात सहकार्य करार केला?",
    "नमस्कार",
    "What did Thane Municipal Corporation agree with the Japanese ministry?",
    "japan chya mantralaya barobar thane mahapalikecha karar kashasathi aahe?",
    "Who attended the agreement ceremony in Japan?",
)


@dataclass
class Result:
    """What one run measured."""

    users: int
    messages: int
    seconds: float
    latencies: list[float] = field(default_factory=list)
    lost: int = 0
    duplicated: int = 0

    def row(self) -> str:
        lat = sorted(self.latencies) or [float("nan")]
        p50 = statistics.median(lat)
        p95 = lat[min(len(lat) - 1, round(0.95 * (len(lat) - 1)))]
        rate = self.messages / self.seconds if self.seconds else 0.0
        return (
            f"| {self.users:>3} | {self.messages:>4} | {self.seconds:6.1f} | {rate:6.2f} | "
            f"{p50:5.2f} | {p95:5.2f} | {lat[-1]:5.2f} | {self.lost} | {self.duplicated} |"
        )


HEADER = (
    "| N | messages | wall s | msg/s | p50 s | p95 s | max s | lost | duplicated |\n"
    "|---|---|---|---|---|---|---|---|---|"
)


def run_telegram(emulator: BotApiEmulator, users: int, per_user: int, timeout: float,
                 first_chat: int) -> Result:  # fmt: skip
    chats = list(range(first_chat, first_chat + users))
    latencies: list[float] = []
    lost = 0
    lock = threading.Lock()

    def citizen(chat: int) -> None:
        nonlocal lost
        for k in range(per_user):
            sent = time.time()
            emulator.send_text(chat, SCRIPT[(chat + k) % len(SCRIPT)])
            try:
                (reply,) = emulator.wait_for_messages(chat, 1, after=k, timeout=timeout)
            except TimeoutError:
                with lock:
                    lost += per_user - k
                return
            with lock:
                latencies.append(reply.sent_at - sent)

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=users) as pool:
        list(pool.map(citizen, chats))
    seconds = time.monotonic() - started
    time.sleep(3.0)  # anything arriving now is a duplicate
    duplicated = sum(max(0, len(emulator.messages(c)) - per_user) for c in chats)
    return Result(users, users * per_user, seconds, latencies, lost, duplicated)


def run_rest(rasa_url: str, users: int, per_user: int, timeout: float, first_chat: int) -> Result:
    latencies: list[float] = []
    lost = duplicated = 0
    lock = threading.Lock()

    def citizen(chat: int) -> None:
        nonlocal lost, duplicated
        for k in range(per_user):
            sent = time.monotonic()
            try:
                replies = say_to_rasa(
                    rasa_url, f"load-{chat}", SCRIPT[(chat + k) % len(SCRIPT)], timeout
                )
            except OSError:
                with lock:
                    lost += 1
                continue
            texts = [r for r in replies if r.get("text")]
            with lock:
                latencies.append(time.monotonic() - sent)
                lost += 0 if texts else 1
                duplicated += max(0, len(texts) - 1)

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=users) as pool:
        list(pool.map(citizen, range(first_chat, first_chat + users)))
    return Result(users, users * per_user, time.monotonic() - started, latencies, lost,
                  duplicated)  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, nargs="+", default=[10, 50, 100])
    parser.add_argument("--messages", type=int, default=3, help="messages per citizen (3)")
    parser.add_argument("--via", choices=("telegram", "rest"), default="telegram")
    parser.add_argument("--timeout", type=float, default=180.0)
    parser.add_argument("--index", type=Path, help="index folder (default: build from knowledge/)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="samvad-load-") as tmp:
        workdir = Path(tmp)
        index_dir = args.index or build_index(Settings().knowledge_dir.resolve(),
                                              workdir / "index")  # fmt: skip
        stack = RasaStack(workdir, index_dir)
        emulator = BotApiEmulator(TOKEN).start()
        bot = bot_process(
            workdir, TOKEN, emulator.base_url, stack.url, SAMVAD_INDEX_DIR=str(index_dir),
            SAMVAD_FLOOD_MESSAGES="1000", SAMVAD_CONCURRENT_UPDATES="256",
            SAMVAD_RASA_TIMEOUT=str(args.timeout), SAMVAD_LOG_LEVEL="WARNING",
        )  # fmt: skip
        try:
            stack.start()
            stack.say("warm-up", SCRIPT[0])  # the engine loads its model on first use
            runner: Callable[[int, int], Result]
            if args.via == "telegram":
                bot.start(timeout=60)
                runner = lambda n, first: run_telegram(  # noqa: E731
                    emulator, n, args.messages, args.timeout, first
                )
            else:
                runner = lambda n, first: run_rest(  # noqa: E731
                    stack.url, n, args.messages, args.timeout, first
                )
            print(f"via {args.via}; {args.messages} messages per citizen; "
                  f"script: {len(SCRIPT)} messages in rotation", flush=True)  # fmt: skip
            print(HEADER, flush=True)
            first = 10_000
            for users in args.users:
                print(runner(users, first).row(), flush=True)
                first += users
        finally:
            bot.stop()
            stack.stop()
            emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
