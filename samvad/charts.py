"""Charts of what citizens asked, for staff: ``/stats`` on Telegram and ``samvad report --html``.

:func:`daily_stats` counts the question log per day (India Standard Time) and language, each
question as *answered*, *offered* (not answered, but the closest articles were offered) or
*refused* (no article), plus 👍/👎 per day and the unanswered questions asked most often.
:func:`chart_png` and :func:`chart_svg` draw it with matplotlib (Agg, no screen): one panel per
language with the three outcomes stacked, and the feedback below. :func:`html_report` is a
self-contained page — the chart inline as SVG, the tables, no script and nothing fetched (its
Content-Security-Policy forbids it). Labels are in both languages (Marathi first), drawn with
the Noto Sans Devanagari font the ``fontpkg-noto-sans-devanagari`` package ships.

matplotlib is imported only when a chart is drawn, so a process that never draws one (the
action server) never loads it.

>>> import tempfile
>>> from samvad.question_log import QuestionLog
>>> folder = Path(tempfile.mkdtemp())
>>> QuestionLog(folder, salt="s").record_question("पाणी?", "mr", 0.3, answered=False)
>>> stats = daily_stats(folder, 7)
>>> len(stats.days), stats.totals("mr"), stats.totals("en")
(7, Outcomes(answered=0, offered=0, refused=1), Outcomes(answered=0, offered=0, refused=0))
"""

from __future__ import annotations

import datetime as dt
import html
import importlib.resources
import io
import logging
import re
import sqlite3
import threading
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from samvad.language import LANGUAGES, Lang
from samvad.messages import both
from samvad.sqlite_db import DB_NAME

logger = logging.getLogger(__name__)

# The corporation's days: India Standard Time (UTC+05:30, no daylight saving).
IST = dt.timezone(dt.timedelta(hours=5, minutes=30), "IST")
CHART_ID = "questions-per-day"
COLOURS = {"answered": "#2e7d32", "offered": "#f9a825", "refused": "#c62828"}
FEEDBACK_COLOURS = {"helpful": "#1565c0", "not_helpful": "#8e24aa"}
FONT_FAMILY = ["DejaVu Sans", "Noto Sans Devanagari"]
_font_lock = threading.Lock()
_font_ready = False


@dataclass(frozen=True)
class Outcomes:
    """Questions of one day (or period) by outcome."""

    answered: int = 0
    offered: int = 0
    refused: int = 0

    @property
    def questions(self) -> int:
        """All of them."""
        return self.answered + self.offered + self.refused

    def __add__(self, other: Outcomes) -> Outcomes:
        return Outcomes(
            self.answered + other.answered,
            self.offered + other.offered,
            self.refused + other.refused,
        )


@dataclass(frozen=True)
class DailyStats:
    """What citizens asked per day over a period (oldest day first)."""

    days: tuple[dt.date, ...]
    by_language: dict[Lang, tuple[Outcomes, ...]]
    helpful: tuple[int, ...]
    not_helpful: tuple[int, ...]
    top_unanswered: tuple[tuple[str, int], ...]

    def totals(self, language: Lang) -> Outcomes:
        """The period's questions in ``language``."""
        total = Outcomes()
        for day in self.by_language[language]:
            total = total + day
        return total

    @property
    def questions(self) -> int:
        """Every question of the period."""
        return sum(self.totals(lang).questions for lang in LANGUAGES)


def _has_table(db: sqlite3.Connection, table: str) -> bool:
    found = db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (table,))
    return found.fetchone() is not None


# SQLite's datetime() reads the stored UTC times (ISO 8601 with an offset) and shifts them.
_LOCAL_DAY = "substr(datetime({column}, '+5 hours', '+30 minutes'), 1, 10)"


def daily_stats(
    data_dir: Path, days: int, today: dt.date | None = None, top_unanswered: int = 10
) -> DailyStats:
    """The last ``days`` days up to ``today`` (India time) from ``<data_dir>/samvad.db``."""
    if days < 1:
        raise ValueError("days must be at least 1")
    today = today or dt.datetime.now(IST).date()
    period = tuple(today - dt.timedelta(days=n) for n in range(days - 1, -1, -1))
    start = dt.datetime.combine(period[0], dt.time(), IST).astimezone(dt.UTC)
    since = start.isoformat(timespec="seconds")
    index = {day.isoformat(): n for n, day in enumerate(period)}
    counts = {lang: [Outcomes() for _ in period] for lang in LANGUAGES}
    helpful, not_helpful = [0] * days, [0] * days
    frequent: list[tuple[str, int]] = []
    path = data_dir / DB_NAME
    if path.is_file():
        with closing(sqlite3.connect(path, timeout=10)) as db:
            if _has_table(db, "questions"):
                rows = db.execute(
                    f"SELECT {_LOCAL_DAY.format(column='asked_at')}, language, answered,"
                    " article_ids != '', COUNT(*) FROM questions WHERE asked_at >= ?"
                    " GROUP BY 1, 2, 3, 4",
                    (since,),
                ).fetchall()
                for day, lang, answered, offered, n in rows:
                    if day not in index or lang not in counts:
                        continue
                    at = index[day]
                    if answered:
                        add = Outcomes(answered=n)
                    elif offered:
                        add = Outcomes(offered=n)
                    else:
                        add = Outcomes(refused=n)
                    counts[lang][at] = counts[lang][at] + add
                frequent = [
                    (str(q), int(n))
                    for q, n in db.execute(
                        "SELECT question, COUNT(*) AS n FROM questions WHERE answered = 0"
                        " AND asked_at >= ? GROUP BY lower(question)"
                        " ORDER BY n DESC, MAX(id) DESC LIMIT ?",
                        (since, top_unanswered),
                    ).fetchall()
                ]
            if _has_table(db, "feedback"):
                for day, good, n in db.execute(
                    f"SELECT {_LOCAL_DAY.format(column='given_at')}, helpful, COUNT(*)"
                    " FROM feedback WHERE given_at >= ? GROUP BY 1, 2",
                    (since,),
                ).fetchall():
                    if day in index:
                        (helpful if good else not_helpful)[index[day]] += int(n)
    return DailyStats(
        period,
        {lang: tuple(values) for lang, values in counts.items()},
        tuple(helpful),
        tuple(not_helpful),
        tuple(frequent),
    )


# --- drawing ------------------------------------------------------------------------------------


def _register_font() -> None:
    """Make the bundled Devanagari font known to matplotlib (once per process)."""
    global _font_ready
    with _font_lock:
        if _font_ready:
            return
        from matplotlib import font_manager

        try:
            folder = importlib.resources.files("fontpkg_noto_sans_devanagari") / "files"
            for font in folder.iterdir():
                if font.name.endswith((".ttf", ".otf")):
                    font_manager.fontManager.addfont(str(font))
        except (ModuleNotFoundError, OSError) as exc:
            logger.warning("no Devanagari font for charts (%s): Marathi labels will not show", exc)
        _font_ready = True


def _label(day: dt.date) -> str:
    return f"{day.day:02d}.{day.month:02d}"


def _figure(stats: DailyStats) -> Any:
    """The chart as a matplotlib Figure (no pyplot: nothing global, any thread)."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    days = len(stats.days)
    positions = list(range(days))
    step = 1 if days <= 10 else max(1, round(days / 8))
    ticks = positions[::-1][::step][::-1]
    figure = Figure(figsize=(11, 6.4), dpi=100, layout="constrained")
    grid = figure.add_gridspec(2, 2, height_ratios=[3, 1.3])
    top = max((day.questions for lang in LANGUAGES for day in stats.by_language[lang]), default=0)
    for column, lang in enumerate(LANGUAGES):
        axes = figure.add_subplot(grid[0, column])
        bottom = [0] * days
        for outcome in ("answered", "offered", "refused"):
            values = [getattr(day, outcome) for day in stats.by_language[lang]]
            axes.bar(
                positions,
                values,
                bottom=bottom,
                color=COLOURS[outcome],
                label=both(f"chart_{outcome}", " / "),
                width=0.8,
            )
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
        total = stats.totals(lang)
        axes.set_title(f"{both(f'language_{lang}', ' / ')} ({lang}): {total.questions}")
        axes.set_ylim(0, max(top, 1) * 1.45)  # room for the legend
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_xticks(ticks, [_label(stats.days[p]) for p in ticks])
        axes.set_ylabel(both("chart_questions", " / "))
        axes.spines[["top", "right"]].set_visible(False)
        if column == 0:
            axes.legend(loc="upper left", fontsize=9, frameon=False)
    feedback = figure.add_subplot(grid[1, :])
    feedback.bar(
        positions,
        stats.helpful,
        color=FEEDBACK_COLOURS["helpful"],
        label=f"+ {both('chart_helpful', ' / ')}: {sum(stats.helpful)}",
        width=0.8,
    )
    feedback.bar(
        positions,
        [-n for n in stats.not_helpful],
        color=FEEDBACK_COLOURS["not_helpful"],
        label=f"- {both('chart_not_helpful', ' / ')}: {sum(stats.not_helpful)}",
        width=0.8,
    )
    feedback.axhline(0, color="#555555", linewidth=0.8)
    high = max([*stats.helpful, 1])
    feedback.set_ylim(-max([*stats.not_helpful, 1]) * 1.2, high * 1.9)  # room for the legend
    feedback.set_title(both("chart_feedback", " / "), fontsize=10)
    feedback.yaxis.set_major_locator(MaxNLocator(integer=True))
    feedback.set_xticks(ticks, [_label(stats.days[p]) for p in ticks])
    feedback.spines[["top", "right"]].set_visible(False)
    feedback.legend(loc="upper left", fontsize=9, frameon=False, ncols=2)
    period = f"{stats.days[0].isoformat()} to {stats.days[-1].isoformat()}"
    figure.suptitle(
        f"{both('chart_title', ' / ')} · {days} {both('chart_days', ' / ')} · {period}",
        fontsize=13,
    )
    return figure


def _render(stats: DailyStats, fmt: str) -> bytes:
    import matplotlib

    _register_font()
    with matplotlib.rc_context(
        {
            "font.family": FONT_FAMILY,
            "svg.fonttype": "path",  # glyphs as paths: the page needs no font
            "svg.hashsalt": "samvad",  # the same chart gives the same file
        }
    ):
        figure = _figure(stats)
        buffer = io.BytesIO()
        metadata = {"Software": None} if fmt == "png" else {"Date": None}  # reproducible files
        figure.savefig(buffer, format=fmt, metadata=metadata)
    return buffer.getvalue()


def chart_png(stats: DailyStats) -> bytes:
    """The chart as a PNG image (1,100 by 640 pixels)."""
    return _render(stats, "png")


def chart_svg(stats: DailyStats) -> str:
    """The chart as an ``<svg>`` element (no XML prolog), with ``id="questions-per-day"``,
    ready to be put inline in a page."""
    svg = _render(stats, "svg").decode("utf-8")
    svg = svg[svg.index("<svg") :]
    return re.sub(r"^<svg\b", f'<svg id="{CHART_ID}" role="img"', svg, count=1)


# --- the page -----------------------------------------------------------------------------------

# Where the page's Marathi text is drawn with the embedded font (Devanagari, and the joiners).
DEVANAGARI = re.compile("[\u0900-\u097f\u200c\u200d\u25cc]")


def _devanagari_font(text: str) -> str | None:
    """The bundled Devanagari font cut down to the glyphs ``text`` needs (with the shaping
    rules for conjuncts), as a base64 TrueType file — so the page shows its Marathi on any
    machine, fonts installed or not. ``None`` without the font package."""
    import base64

    subset: Any = importlib.import_module("fontTools.subset")
    instancer: Any = importlib.import_module("fontTools.varLib.instancer")
    ttlib: Any = importlib.import_module("fontTools.ttLib")
    try:
        folder = importlib.resources.files("fontpkg_noto_sans_devanagari") / "files"
        path = next(f for f in folder.iterdir() if f.name.endswith(".ttf"))
    except (ModuleNotFoundError, OSError, StopIteration):
        return None
    font = ttlib.TTFont(str(path))
    if "fvar" in font:  # a variable font: its regular instance is enough, and smaller
        font = instancer.instantiateVariableFont(font, {"wght": 400, "wdth": 100})
    options = subset.Options()
    options.layout_features = ["*"]
    options.hinting = False
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(sorted(set(DEVANAGARI.findall(text)))))
    subsetter.subset(font)
    buffer = io.BytesIO()
    font.save(buffer)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


_STYLE = """
body { font-family: "Samvad Devanagari", "Noto Sans Devanagari", "DejaVu Sans", sans-serif;
       margin: 2rem auto;
       max-width: 1150px; color: #222; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
table { border-collapse: collapse; } th, td { border: 1px solid #ccc; padding: .3rem .7rem; }
td.n { text-align: right; } figure { margin: 0; } svg { max-width: 100%; height: auto; }
"""


def _cell(value: object, number: bool = False) -> str:
    klass = ' class="n"' if number else ""
    return f"<td{klass}>{html.escape(str(value))}</td>"


def html_report(stats: DailyStats, generated: dt.datetime | None = None) -> str:
    """A self-contained HTML page of ``stats``: the chart inline, the tables, no script, no
    fetching (images only as ``data:`` addresses, styles inline)."""
    generated = generated or dt.datetime.now(IST)
    period = f"{stats.days[0].isoformat()} to {stats.days[-1].isoformat()}"
    columns = [
        both("report_language", " / "),
        both("chart_questions", " / "),
        both("chart_answered", " / "),
        both("chart_offered", " / "),
        both("chart_refused", " / "),
    ]
    rows = []
    for lang in LANGUAGES:
        total = stats.totals(lang)
        rows.append(
            "<tr>"
            + _cell(f"{both(f'language_{lang}', ' / ')} ({lang})")
            + "".join(
                _cell(n, True)
                for n in (total.questions, total.answered, total.offered, total.refused)
            )
            + "</tr>"
        )
    unanswered = "".join(
        f"<li>{html.escape(question)} — {count} {html.escape(both('report_times', ' / '))}</li>"
        for question, count in stats.top_unanswered
    )
    title = html.escape(both("report_title", " / "))
    body = [
        "<body>",
        f"<h1>{title}</h1>",
        f"<p>{html.escape(both('report_period', ' / '))}: {period} ({len(stats.days)} "
        f"{html.escape(both('chart_days', ' / '))}) · {stats.questions} "
        f"{html.escape(both('chart_questions', ' / '))} · "
        f"{html.escape(generated.isoformat(timespec='minutes'))}</p>",
        '<figure id="chart">',
        chart_svg(stats),
        "</figure>",
        f"<h2>{html.escape(both('report_by_language', ' / '))}</h2>",
        "<table><thead><tr>"
        + "".join(f"<th>{html.escape(h)}</th>" for h in columns)
        + "</tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>",
        f"<h2>{html.escape(both('chart_feedback', ' / '))}</h2>",
        f"<p>{html.escape(both('chart_helpful', ' / '))}: {sum(stats.helpful)} · "
        f"{html.escape(both('chart_not_helpful', ' / '))}: {sum(stats.not_helpful)}</p>",
        f"<h2>{html.escape(both('report_top_unanswered', ' / '))}</h2>",
        f'<ol id="unanswered">{unanswered}</ol>'
        if unanswered
        else f"<p>{html.escape(both('report_none', ' / '))}</p>",
        "</body>",
        "</html>",
        "",
    ]
    font = _devanagari_font("".join(body))
    face = (
        '@font-face { font-family: "Samvad Devanagari"; '
        f'src: url(data:font/ttf;base64,{font}) format("truetype"); '
        "unicode-range: U+0900-097F, U+200C-200D, U+25CC; }"
        if font
        else ""
    )
    head = [
        "<!DOCTYPE html>",
        '<html lang="mr">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src data:; font-src data:\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{title}</title>",
        f"<style>{face}{_STYLE}</style>",
        "</head>",
    ]
    return "\n".join(head + body)
