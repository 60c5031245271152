"""Broadcast benchmark: one notice to N subscribers through the Bot API emulator.

    .venv/bin/python bench/broadcast.py                    # 10,000 subscribers
    .venv/bin/python bench/broadcast.py --subscribers 2000

The emulator (``tests/emulator/limits.py``) enforces Telegram's flood limit — more than 30
messages in any second get ``429 retry after`` — and counts every send it receives. N
subscribers (half Marathi, half English) and one confirmed notice are written straight into
the store (``samvad.Subscriptions``, ``samvad.Outbox``), exactly what staff pressing "send"
leaves; then the real bot (``python -m bot``, long polling, python-telegram-bot with
``AIORateLimiter``; no Rasa needed) starts and delivers it from its outbox.

Prints: messages a second (first to last delivery), the most sends in any one second (a
sliding window; Telegram's limit is 30), the 429s the emulator had to answer, and lost (a
subscriber who got nothing) and duplicated (a subscriber who got it more than once).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from samvad import Outbox, Subscriptions, Summary  # noqa: E402
from tests.emulator.limits import OVERALL_PER_SECOND, LimitedBotApi  # noqa: E402
from tests.servers import bot_process, free_port  # noqa: E402

TOKEN = "7700123456:AAE-samvad-broadcast-bench-token-Q1w2E3r4T5"
STAFF = 9001
FIRST_CHAT = 20_000_000
VERSIONS = [
    Summary("water-cut-bench", "mr", "कोपरी परिसरात पाणीपुरवठा बंद", "2026-12-01",
            "https://example.org/tmc/notices/bench", ("water",),
            ("कोपरी परिसरात शनिवारी सकाळी १० ते रात्री १० पाणीपुरवठा बंद राहील.",)),
    Summary("water-cut-bench", "en", "Water supply cut in Kopri", "2026-12-01",
            "https://example.org/tmc/notices/bench", ("water",),
            ("Water supply in Kopri will be shut on Saturday from 10 am to 10 pm.",)),
]  # fmt: skip


def seed(data_dir: Path, subscribers: int) -> int:
    """N subscribers of "water" and one notice to them, confirmed by staff; its id."""
    chats = range(FIRST_CHAT, FIRST_CHAT + subscribers)
    Subscriptions(data_dir).subscribe_many(
        ((chat, f"bench-{chat}", "mr" if chat % 2 else "en") for chat in chats), "water"
    )
    outbox = Outbox(data_dir)
    notice = outbox.propose("water-cut-bench", ["water"], staff_id=STAFF)
    confirmed = outbox.confirm(notice.id, STAFF, STAFF, VERSIONS)
    assert confirmed is not None and confirmed.total == subscribers
    return notice.id


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--timeout", type=float, default=1800.0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="samvad-broadcast-") as tmp:
        workdir = Path(tmp)
        data_dir = workdir / "data"
        seeded_at = time.monotonic()
        seed(data_dir, args.subscribers)
        seeding = time.monotonic() - seeded_at
        emulator = LimitedBotApi(TOKEN)
        emulator.start()
        bot = bot_process(
            workdir, TOKEN, emulator.base_url, f"http://127.0.0.1:{free_port()}",
            SAMVAD_DATA_DIR=str(data_dir), SAMVAD_INDEX_DIR=str(workdir / "index"),
            SAMVAD_KNOWLEDGE_DIR=str(workdir / "knowledge"), SAMVAD_STAFF_IDS=str(STAFF),
            SAMVAD_LOG_LEVEL="WARNING",
        )  # fmt: skip
        try:
            started = time.monotonic()
            bot.start(timeout=60)
            deadline = started + args.timeout
            done = None
            while done is None and time.monotonic() < deadline:
                done = next((m for m in emulator.messages(STAFF) if m.text.startswith("✅")),
                            None)  # fmt: skip
                time.sleep(0.5)
            wall = time.monotonic() - started
            time.sleep(3.0)  # anything arriving now would be a duplicate
        finally:
            bot.stop()
            emulator.stop()
    notices = [m for m in emulator.sent if m.chat_id >= FIRST_CHAT]
    got = Counter(m.chat_id for m in notices)
    lost = sum(1 for chat in range(FIRST_CHAT, FIRST_CHAT + args.subscribers) if chat not in got)
    duplicated = sum(count - 1 for count in got.values() if count > 1)
    times = sorted(m.sent_at for m in notices)
    span = times[-1] - times[0] if len(times) > 1 else 0.0
    rate = (len(times) - 1) / span if span else 0.0
    print(f"subscribers: {args.subscribers:,} (seeded in {seeding:.1f} s)")
    print(f"delivered: {len(got):,} in {span:.1f} s ({wall:.1f} s from the bot's start)")
    print(f"messages/s: {rate:.1f} (Telegram's limit: {OVERALL_PER_SECOND}/s)")
    print(f"most sends in any one second: {emulator.peak_per_second(attempts=True)}")
    print(f"429 answered: {emulator.too_many}")
    print(f"lost: {lost}, duplicated: {duplicated}")
    print(f"staff were told: {done.text if done else 'nothing (timed out)'}".replace("\n", " | "))
    return 0 if done is not None and lost == 0 and duplicated == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
