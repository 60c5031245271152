"""The bot's side of notices without Telegram: the notice message (valid Telegram HTML, in the
subscriber's language), button data (at most 64 bytes, never a Rasa payload), the offer under
an answer, staff's progress lines, the /stats period and the pacing of sends."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from pathlib import Path

import pytest

from bot.flood import FloodLimiter
from bot.handlers import (
    ALLOWED_PAYLOAD,
    DROP_NOTICE_DATA,
    NOTICE_PATTERN,
    READ_NOTICE_DATA,
    SEND_NOTICE_DATA,
    SUBSCRIBE_DATA,
    TOGGLE_DATA,
    UNSUBSCRIBE_DATA,
    Services,
    offer_subscription,
)
from bot.notices import Pacer, done_text, progress_text
from bot.rasa_client import RasaClient
from bot.render import Reply, keyboard, notice_html, render_reply
from bot.staff import chart_days
from samvad import (
    TOPICS_FILE,
    Answer,
    CatalogReader,
    Citation,
    Lang,
    Notice,
    Outbox,
    Progress,
    Subscriptions,
    Summary,
    TopicsReader,
    text,
)
from tests.emulator.server import parse_html

SUMMARY = {
    "mr": Summary("water-cut-kopri", "mr", "कोपरीत पाणी बंद", "2026-12-05",
                  "https://example.org/w?a=1&b=<2>", ("water",),
                  ("कोपरीत शनिवारी पाणी बंद राहील.", "टँकरसाठी फोन करा.")),
    "en": Summary("water-cut-kopri", "en", "Water cut in <Kopri> & Naupada", "2026-12-05", None,
                  ("water",), ("Water will be off on Saturday.",)),
}  # fmt: skip
LABEL = {"mr": "पाणी", "en": "Water"}


@pytest.mark.parametrize("reader", ["mr", "en"])
@pytest.mark.parametrize("version", ["mr", "en"])
def test_a_notice_is_valid_telegram_html_in_the_readers_language(
    reader: Lang, version: Lang
) -> None:
    summary = SUMMARY[version]
    other = reader != version
    shown, links = parse_html(notice_html(summary, other, LABEL[reader], reader))
    assert shown.startswith(f"{text('notice_header', reader)} · {LABEL[reader]}")
    assert " ".join(summary.sentences) in shown
    assert f"📄 {text('source', reader)}: {summary.title} · " in shown
    assert (text("notice_other_language", reader) in shown) is other
    assert links == ([summary.source_url] if summary.source_url else [])
    assert len(shown) <= 4096


def test_every_button_the_bot_handles_fits_and_never_goes_to_rasa() -> None:
    longest_topic = "a" * 32
    data = [
        SUBSCRIBE_DATA + longest_topic,
        UNSUBSCRIBE_DATA + longest_topic,
        UNSUBSCRIBE_DATA + "*",
        TOGGLE_DATA + longest_topic,
        READ_NOTICE_DATA + "9" * 12,
        SEND_NOTICE_DATA + "9" * 12,
        DROP_NOTICE_DATA + "1",
    ]
    for item in data:
        assert len(item.encode()) <= 64, item
        assert NOTICE_PATTERN.match(item), item
        assert not ALLOWED_PAYLOAD.match(item), item
    for forged in [
        SUBSCRIBE_DATA + "water\n",
        SUBSCRIBE_DATA + "a" * 33,
        READ_NOTICE_DATA + "x",
        SEND_NOTICE_DATA + "1 or 1=1",
        "samvad:forget:yes",
        '/choose_article{"article_id":"x"}',
    ]:
        assert not NOTICE_PATTERN.match(forged), forged


def staff_notice(total: int) -> Notice:
    return Notice(3, "water-cut-kopri", ("water",), "sending", "", 7, 7, "",
                  (SUMMARY["mr"], SUMMARY["en"]), 7, 11, total, 0, 0, 0, 8, None)  # fmt: skip


def test_staff_see_how_far_a_notice_got() -> None:
    notice = staff_notice(1234)
    sending = progress_text(notice, Progress(1234, pending=430, sending=4, sent=795, blocked=5))
    assert sending.endswith("«कोपरीत पाणी बंद» — 800 / 1,234")
    done = done_text(notice, Progress(1234, sent=1228, blocked=5, failed=0))
    assert "पोहोचली / delivered: 1,228 / 1,234" in done
    assert "had blocked the bot (removed): 5" in done
    assert "unsubscribed meanwhile: 1" in done  # 1,234 - 1,228 - 5
    assert "sent again after the bot stopped: 8" in done
    assert "could not be sent" not in done  # nothing failed: not shown


@pytest.mark.parametrize(
    ("args", "days"),
    [(None, 7), ([], 7), (["30"], 30), (["1"], 1), (["90"], 90), (["91"], 7), (["x"], 7),
     (["०७"], 7), (["-3"], 7)],
)  # fmt: skip
def test_the_stats_period(args: list[str] | None, days: int) -> None:
    assert chart_days(args) == days


def test_sends_are_paced_evenly_never_a_burst() -> None:
    async def run() -> list[float]:
        pacer, started = Pacer(200.0), []
        loop = asyncio.get_running_loop()

        async def worker() -> None:
            for _ in range(25):
                await pacer.wait()
                started.append(loop.time())

        await asyncio.gather(*(worker() for _ in range(4)))
        return sorted(started)

    begun = time.monotonic()
    started = asyncio.run(run())
    assert time.monotonic() - begun >= 99 / 200 - 0.01
    assert started[-1] - started[0] >= 99 / 200 - 0.01  # never ahead of the schedule
    in_a_tenth = max(sum(1 for t in started if s <= t < s + 0.1) for s in started)
    assert in_a_tenth <= 21  # 200 a second: about 20 in any tenth of a second


def test_a_stalled_event_loop_does_not_bunch_the_sends_that_follow() -> None:
    """The loop blocked for 50 ms (a slow handler): the sends waiting meanwhile still start one
    interval apart, not all at once when it is free again."""

    async def run() -> list[float]:
        pacer, started = Pacer(100.0), []
        loop = asyncio.get_running_loop()

        async def worker(stalls: bool) -> None:
            for n in range(10):
                await pacer.wait()
                started.append(loop.time())
                if stalls and n == 2:
                    time.sleep(0.05)  # blocks the whole loop, as a slow handler would

        await asyncio.gather(worker(True), *(worker(False) for _ in range(3)))
        return sorted(started)

    started = asyncio.run(run())
    gaps = [b - a for a, b in itertools.pairwise(started)]
    assert min(gaps) >= 0.01 - 0.001


def catalogue_index(index: Path, tags: list[str]) -> Path:
    """An index generation with only a ``catalog.json`` (what the offer reads)."""
    folder = index / "gen-offer"
    folder.mkdir(parents=True)
    entries = [{"id": "water-cut-kopri", "lang": "en", "title": "Water cut", "date": "2026-12-05",
                "source": None, "tags": tags}]  # fmt: skip
    (folder / "catalog.json").write_text(json.dumps({"articles": entries}), encoding="utf-8")
    (index / "current").symlink_to("gen-offer")
    return index


def shared_services(tmp_path: Path, tags: list[str]) -> Services:
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir(parents=True)
    (knowledge / TOPICS_FILE).write_text(
        "water:\n  mr: पाणी\n  en: Water\n  tags: [water, पाणी]\n", encoding="utf-8"
    )
    return Services(
        rasa=RasaClient("http://127.0.0.1:9"),
        topics=CatalogReader(catalogue_index(tmp_path / "index", tags)),
        flood=FloodLimiter(10, 60.0),
        salt=b"s",
        subscriptions=Subscriptions(tmp_path / "data"),
        outbox=Outbox(tmp_path / "data"),
        topic_file=TopicsReader(knowledge),
    )


def answer(language: Lang, outcome: str = "answered") -> Reply:
    cited = Citation("water-cut-kopri", "Water cut", language, "2026-12-05")
    said = Answer("answered", language, "q", ("Water is off.",), cited)
    if outcome != "answered":
        said = Answer("refused", language, "q")
    return Reply("", [], said)


@pytest.mark.parametrize("language", ["mr", "en"])
def test_an_answer_offers_its_articles_topic_in_the_answers_language(
    tmp_path: Path, language: Lang
) -> None:
    shared = shared_services(tmp_path, ["notice", "WATER"])
    replies = [answer(language)]
    asyncio.run(offer_subscription(shared, 42, replies))
    (offer,) = replies[0].footer
    assert offer.title == f"{text('button_subscribe_offer', language)} {LABEL[language]}"
    assert offer.payload == SUBSCRIBE_DATA + "water"
    (part,) = render_reply(replies[0])
    assert part.rows[-1] == (offer,)  # its own row, last
    assert keyboard(part.rows, shared.payloads) is not None


def test_no_offer_when_subscribed_no_topic_or_no_answer(tmp_path: Path) -> None:
    shared = shared_services(tmp_path, ["water"])
    shared.subscriptions.subscribe(42, "h", "en", "water")
    subscribed = [answer("en")]
    asyncio.run(offer_subscription(shared, 42, subscribed))
    refused = [answer("en", "refused")]
    asyncio.run(offer_subscription(shared, 43, refused))
    assert subscribed[0].footer == [] and refused[0].footer == []
    other = shared_services(tmp_path / "other", ["tax"])
    untagged = [answer("mr")]
    asyncio.run(offer_subscription(other, 44, untagged))
    assert untagged[0].footer == []
