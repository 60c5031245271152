"""Staff charts: what the question log says per day (India time), the PNG ``/stats`` sends,
and the self-contained page ``samvad report --html`` writes. Marathi and English side by
side. (The page in a real browser: ``tests/test_report_browser.py``.)"""

from __future__ import annotations

import datetime as dt
import io
import re
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from PIL import Image

from samvad import Lang, Outcomes, QuestionLog, chart_png, chart_svg, daily_stats, html_report
from samvad.cli import EXIT_OK, main
from samvad.sqlite_db import DB_NAME

TODAY = dt.date(2026, 12, 3)
QUESTIONS: dict[str, str] = {"mr": "पाणी कधी येणार?", "en": "When will the water come?"}


def utc(day: int, hour: int, minute: int = 0) -> str:
    """A stored time: December ``day``, ``hour``:``minute`` UTC."""
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=dt.UTC).isoformat(timespec="seconds")


def seed(folder: Path, lang: Lang) -> None:
    """One language's questions: 3 Dec (IST) two answered, one offered, one refused; 2 Dec one
    refused (19:00 UTC on the 1st is 00:30 IST on the 2nd); 40 days ago one (out of the
    period). Feedback on 3 Dec: two 👍, one 👎."""
    log = QuestionLog(folder, salt="charts")
    plan = [
        (utc(3, 4), True, None),
        (utc(3, 5), True, None),
        (utc(3, 6), False, ["water-cut"]),
        (utc(2, 19), False, None),  # 00:30 on 3 Dec in India
        (utc(1, 19), False, None),  # 00:30 on 2 Dec in India
        ((dt.datetime(2026, 10, 20, tzinfo=dt.UTC)).isoformat(timespec="seconds"), True, None),
    ]
    for _, answered, offered in plan:
        log.record_question(QUESTIONS[lang], lang, 0.5, answered=answered, article_ids=offered)
    for helpful in (True, True, False):
        log.record_feedback(QUESTIONS[lang], ["water-cut"], helpful)
    with closing(sqlite3.connect(folder / DB_NAME)) as db, db:
        ids = [row[0] for row in db.execute("SELECT id FROM questions WHERE language = ?",
                                            (lang,))]  # fmt: skip
        for row_id, (at, _, _) in zip(ids, plan, strict=True):
            db.execute("UPDATE questions SET asked_at = ? WHERE id = ?", (at, row_id))
        db.execute("UPDATE feedback SET given_at = ?", (utc(3, 8),))


@pytest.mark.parametrize("lang", ["mr", "en"])
def test_questions_per_day_by_outcome_in_india_time(tmp_path: Path, lang: Lang) -> None:
    seed(tmp_path, lang)
    stats = daily_stats(tmp_path, 7, today=TODAY)
    assert stats.days[0] == dt.date(2026, 11, 27) and stats.days[-1] == TODAY
    days = stats.by_language[lang]
    assert days[-1] == Outcomes(answered=2, offered=1, refused=1)
    assert days[-2] == Outcomes(refused=1)
    assert sum(d.questions for d in days[:-2]) == 0
    assert stats.totals(lang) == Outcomes(2, 1, 2) and stats.questions == 5
    other: Lang = "en" if lang == "mr" else "mr"
    assert stats.totals(other) == Outcomes()
    assert stats.helpful[-1] == 2 and stats.not_helpful[-1] == 1 and sum(stats.helpful) == 2
    assert stats.top_unanswered == ((QUESTIONS[lang], 3),)


def test_both_languages_side_by_side(tmp_path: Path) -> None:
    seed(tmp_path, "mr")
    seed(tmp_path, "en")
    stats = daily_stats(tmp_path, 30, today=TODAY)
    assert len(stats.days) == 30
    assert stats.totals("mr") == stats.totals("en") == Outcomes(2, 1, 2)
    assert dict(stats.top_unanswered) == {QUESTIONS["mr"]: 3, QUESTIONS["en"]: 3}
    assert sum(stats.helpful) == 4 and sum(stats.not_helpful) == 2


def test_no_log_yet_is_an_empty_period(tmp_path: Path) -> None:
    stats = daily_stats(tmp_path / "nothing", 7, today=TODAY)
    assert stats.questions == 0 and len(stats.days) == 7 and stats.top_unanswered == ()
    with pytest.raises(ValueError):
        daily_stats(tmp_path, 0)


@pytest.mark.parametrize("days", [7, 30])
def test_the_png_decodes_at_its_size(tmp_path: Path, days: int) -> None:
    seed(tmp_path, "mr")
    seed(tmp_path, "en")
    png = chart_png(daily_stats(tmp_path, days, today=TODAY))
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert 10_000 < len(png) < 1_000_000  # well under Telegram's 10 MB for a photo
    with Image.open(io.BytesIO(png)) as image:
        image.load()
        assert image.size == (1100, 640)
        colours = {colour for _, colour in image.convert("RGB").getcolors(1_000_000) or []}
    assert (0x2E, 0x7D, 0x32) in colours  # answered bars
    assert (0xC6, 0x28, 0x28) in colours  # "no article" bars


def test_an_empty_chart_still_draws(tmp_path: Path) -> None:
    with Image.open(io.BytesIO(chart_png(daily_stats(tmp_path, 7, today=TODAY)))) as image:
        assert image.size == (1100, 640)


def test_the_svg_draws_its_text_as_paths(tmp_path: Path) -> None:
    seed(tmp_path, "mr")
    svg = chart_svg(daily_stats(tmp_path, 7, today=TODAY))
    assert svg.startswith('<svg id="questions-per-day"')
    assert "<path" in svg and "<text" not in svg  # no font needed where it is shown
    assert svg == chart_svg(daily_stats(tmp_path, 7, today=TODAY))  # the same chart, the same file


def test_the_page_is_self_contained(tmp_path: Path) -> None:
    seed(tmp_path, "en")
    log = QuestionLog(tmp_path, salt="charts")
    log.record_question('<script>alert("x")</script> & पाणी', "en", 0.1, answered=False)
    page = html_report(daily_stats(tmp_path, 7))
    assert page.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in page
    assert "default-src 'none'" in page  # the browser may fetch nothing
    assert page.count('<svg id="questions-per-day"') == 1
    links = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert [link for link in links if not link.startswith(("#", "data:"))] == []
    assert "<script" not in page and "&lt;script&gt;" in page
    assert "url(data:font/ttf;base64," in page  # the Marathi text's font travels with it
    assert "मराठी / Marathi (mr)" in page and "इंग्रजी / English (en)" in page


def test_samvad_report_html_writes_the_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seed(tmp_path / "data", "mr")
    monkeypatch.setenv("SAMVAD_DATA_DIR", str(tmp_path / "data"))
    target = tmp_path / "out" / "report.html"
    out = io.StringIO()
    assert main(["report", "--days", "30", "--html", str(target)], out) == EXIT_OK
    assert f"Report written to {target}" in out.getvalue()
    assert "Last 30 days" in out.getvalue()
    assert target.read_text(encoding="utf-8").count("<svg") == 1
    assert [p.name for p in target.parent.iterdir()] == ["report.html"]  # no partial left
    csv = io.StringIO()
    assert main(["report", "--csv", "--html", str(target)], csv) == EXIT_OK
    assert csv.getvalue().startswith("section,key,")  # the note went to standard error
    assert "Report written" in capsys.readouterr().err
