"""``samvad report --html`` in a real browser: Debian's Chromium, headless, with no network
features, renders the page; the chart is in the page it built and is drawn on the screen.

Chromium is a program this test starts (``make test`` installs it: see the Makefile), hence
the ``servers`` marker: ``make test-fast`` leaves it out.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from samvad import QuestionLog, daily_stats, html_report

pytestmark = pytest.mark.servers

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or "chromium"
WINDOW = (1200, 1600)
ANSWERED = (0x2E, 0x7D, 0x32)
REFUSED = (0xC6, 0x28, 0x28)


def chromium(profile: Path, *arguments: str) -> subprocess.CompletedProcess[bytes]:
    """Headless Chromium with a throw-away profile and nothing that goes online by itself."""
    command = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", f"--user-data-dir={profile}", "--hide-scrollbars",
        f"--window-size={WINDOW[0]},{WINDOW[1]}", *arguments,
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, timeout=120, check=True)


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("report")
    log = QuestionLog(folder, salt="browser")
    for n in range(12):
        lang = "mr" if n % 3 else "en"
        log.record_question(f"प्रश्न {n % 4}", lang, 0.4, answered=n % 2 == 0,
                            article_ids=["water-cut"] if n % 4 == 1 else None)  # fmt: skip
    log.record_feedback("प्रश्न 1", ["water-cut"], True)
    target = folder / "report.html"
    target.write_text(html_report(daily_stats(folder, 7)), encoding="utf-8")
    return target


def test_the_chart_is_in_the_page_the_browser_built(page: Path, tmp_path: Path) -> None:
    done = chromium(tmp_path / "profile", "--dump-dom", page.as_uri())
    dom = done.stdout.decode("utf-8")
    assert '<svg id="questions-per-day"' in dom
    chart = dom[dom.index('<svg id="questions-per-day"') : dom.index("</svg>")]
    assert chart.count("<path") > 50  # bars, axes and the labels' glyphs
    assert 'id="unanswered"' in dom and "प्रश्न" in dom


def test_the_chart_is_drawn_on_the_screen(page: Path, tmp_path: Path) -> None:
    shot = tmp_path / "shot.png"
    chromium(tmp_path / "profile", f"--screenshot={shot}", page.as_uri())
    with Image.open(io.BytesIO(shot.read_bytes())) as image:
        image.load()
        assert image.size == WINDOW
        pixels = image.convert("RGB")
    chart_area = pixels.crop((0, 0, WINDOW[0], 900))
    colours = dict((colour, count) for count, colour in chart_area.getcolors(2_000_000) or [])
    assert colours.get(ANSWERED, 0) > 500  # the answered bars are painted
    assert colours.get(REFUSED, 0) > 100
    white = colours.get((255, 255, 255), 0)
    assert white < 0.97 * WINDOW[0] * 900  # not a blank page
