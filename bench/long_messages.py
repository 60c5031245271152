"""Long pasted texts against ordinary questions, through the whole Telegram path.

A few chats paste messages of Telegram's maximum length (4,096 characters) in a burst while
other citizens ask ordinary questions, once each; the figures are the ordinary citizens'
latency (sending → the answer arriving at the Bot API emulator), how many of them were lost,
and how long the pasted messages took. The path is the real one: emulator → bot → Rasa (its
REST channel masks and caps too) → action server → engine. The bot runs with Samvad's usual
flood limit (12 units a minute; a long message costs 3).

    .venv/bin/python bench/long_messages.py [--pasting 5] [--each 10] [--asking 20]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import percentile  # noqa: E402
from tests.emulator import BotApiEmulator  # noqa: E402
from tests.servers import RasaStack, bot_process, build_index  # noqa: E402

TOKEN = "7700123456:AAE-samvad-long-messages-token-Q1w2E3r4T5y6"
QUESTION = "What did Thane Municipal Corporation agree with Japan?"
ANSWER_MARK = "Japan"


def main() -> None:
    """Start everything, run the burst, print the figures, stop everything."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pasting", type=int, default=5, help="chats pasting long texts (5)")
    parser.add_argument("--each", type=int, default=10, help="long messages per chat (10)")
    parser.add_argument("--asking", type=int, default=20, help="ordinary citizens (20)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="samvad-long-"))
    index = build_index(ROOT / "knowledge", work / "index")
    stack = RasaStack(work, index)
    emulator = BotApiEmulator(TOKEN).start()
    bot = bot_process(work, TOKEN, emulator.base_url, stack.url, SAMVAD_INDEX_DIR=str(index))
    long = (QUESTION + " " + "blah " * 900)[:4096]
    try:
        stack.start()
        bot.start(timeout=120)
        emulator.send_text(1, QUESTION)  # warm up the whole path
        emulator.wait_for_messages(1, 1, 0, 120)
        asked: dict[int, float] = {}
        answered: dict[int, float] = {}
        pasted_at = time.time()

        def paste(chat: int) -> None:
            for _ in range(args.each):
                emulator.send_text(chat, long)

        pasters = [threading.Thread(target=paste, args=(100 + n,)) for n in range(args.pasting)]
        for thread in pasters:
            thread.start()
        for n in range(args.asking):
            chat = 1000 + n
            asked[chat] = time.time()
            emulator.send_text(chat, QUESTION)
            time.sleep(0.05)
        for thread in pasters:
            thread.join()
        deadline = time.monotonic() + 120
        while len(answered) < len(asked) and time.monotonic() < deadline:
            for chat in asked:
                if chat not in answered:
                    sent = emulator.messages(chat)
                    if any(ANSWER_MARK in m.text for m in sent):
                        answered[chat] = sent[-1].sent_at
            time.sleep(0.02)
        pasted_done = max(
            (m.sent_at for n in range(args.pasting) for m in emulator.messages(100 + n)),
            default=pasted_at,
        )
    finally:
        bot.stop()
        stack.stop()
        emulator.stop()
    latencies = [answered[c] - asked[c] for c in answered]
    print(
        f"{args.pasting} chats x {args.each} messages of 4,096 characters, "
        f"{args.asking} ordinary questions at the same time"
    )
    print(
        f"ordinary citizens: answered {len(answered)} / {len(asked)} (lost "
        f"{len(asked) - len(answered)}), latency p50 {percentile(latencies, 50):.2f} s, "
        f"p95 {percentile(latencies, 95):.2f} s"
    )
    print(f"pasted messages: last reply {pasted_done - pasted_at:.1f} s after the burst")


if __name__ == "__main__":
    main()
