"""Staff on Telegram: statistics, unanswered questions, re-index, validation, adding articles.

Only the Telegram user ids in ``SAMVAD_STAFF_IDS`` reach these handlers: they are registered
with a user filter, so for anyone else ``/stats`` is an unknown command and a ``.md`` file is a
non-text message — exactly what a citizen sending the same gets, with no hint that staff
commands exist.

- ``/stats``: a chart (PNG) of questions per day over the last 7 days (``/stats 30``: 30), by
  language, answered / offered / no article stacked, and 👍/👎; then the counts of the last 24
  hours and 7 days and the unanswered questions asked most often, as text;
  ``/unanswered``: the last 7 days' unanswered questions, most frequent first;
- ``/reload``: re-index now (``samvad index`` in a child process, so the bot never loads the
  embedding model) and reply with the index report; ``/check``: the validation report;
- a ``.md`` document (caption ``/replace`` to overwrite), or ``/add`` / ``/replace`` followed by
  the article text: validated with :func:`~samvad.articles.parse_article`, saved
  atomically as ``knowledge/<id>.<lang>.md`` (the name comes from the article, never from the
  sender's file name), indexed, and confirmed with its title and language — or rejected with
  ``file:line: reason`` and nothing saved.

Every add, replace and reload is recorded in the ``audit`` table (:mod:`samvad.audit`).

A new article with a subscribed topic gets the question "send a notice?" after the reply
(:mod:`bot.notices`; ``/notify ARTICLE_ID`` asks it for an existing one).

Validation problems: the bot polls ``knowledge/`` itself (:func:`watch_validation`, a cheap
stat of the files every few seconds; on a change it runs the same validation the watcher and
the indexer use) and messages staff about each new problem. It needs nothing from the watcher
process, so it keeps working whichever process re-indexes and when either restarts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application, CommandHandler, MessageHandler, filters

from bot import notices
from bot.flood import FloodLimiter
from bot.handlers import Context, send_text, services, typing
from samvad import (
    ID_PATTERN,
    LANGUAGES,
    TOPICS_FILE,
    Article,
    ArticleFormatError,
    AuditLog,
    QuestionLog,
    Settings,
    Stats,
    article_files,
    both,
    chart_png,
    daily_stats,
    load_knowledge,
    load_topics,
    parse_article,
)

logger = logging.getLogger(__name__)


def staff_text(key: str) -> str:
    """A staff message in both languages on one line: "Marathi / English"."""
    return both(key, " / ")


MAX_ARTICLE_BYTES = 256 * 1024
# Articles one staff member may add or replace per minute (a mistaken script cannot flood the
# knowledge folder or keep the indexer busy).
UPLOADS_PER_MINUTE = 6
INDEX_TIMEOUT = 600.0
AnyApplication = Application[Any, Any, Any, Any, Any, Any]
COMMAND_PREFIX = re.compile(r"^/[A-Za-z_]+(@\w+)?")


# --- saving an article ------------------------------------------------------------------------


class ArticleRejected(ValueError):
    """The article was not saved: ``errors`` say why (``file:line: reason``)."""

    def __init__(self, errors: list[str], exists: str | None = None) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors
        self.exists = exists  # the existing file that /replace would overwrite


@dataclass(frozen=True)
class SavedArticle:
    """An article written into the knowledge folder."""

    article: Article
    path: Path  # relative to the knowledge folder
    replaced: bool
    unchanged: bool = False


def display_name(name: str | None) -> str:
    """A sender's file name, for messages only (never used as a path)."""
    base = (name or "article.md").replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(ch for ch in base if ch.isprintable())[:64] or "article.md"


def safe_file_name(article: Article) -> str:
    """``<id>.<lang>.md`` — both parts already validated; checked again, never a path."""
    if not ID_PATTERN.match(article.id) or article.lang not in LANGUAGES:
        raise ArticleRejected([f"{article.path}:1: unusable id or lang"])
    name = f"{article.id}.{article.lang}.md"
    if Path(name).name != name or name.startswith("."):
        raise ArticleRejected([f"{article.path}:1: unusable file name {name!r}"])
    return name


def _write_atomically(target: Path, data: bytes, overwrite: bool) -> None:
    """Write via a hidden temp file in the same folder, then rename (or link: no overwrite)."""
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".samvad-", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        if overwrite:
            os.replace(tmp, target)
        else:
            os.link(tmp, target)  # fails if the target appeared meanwhile: never overwrites
    finally:
        tmp.unlink(missing_ok=True)


def save_article(knowledge_dir: Path, data: bytes, name: str, replace: bool) -> SavedArticle:
    """Validate ``data`` and save it as ``knowledge/<id>.<lang>.md``; raise ArticleRejected."""
    shown = display_name(name)
    if len(data) > MAX_ARTICLE_BYTES:
        raise ArticleRejected([f"{shown}:1: the file is larger than {MAX_ARTICLE_BYTES} bytes"])
    try:
        article = parse_article(data, shown)
    except ArticleFormatError as exc:
        raise ArticleRejected([f"{shown}:{exc.line}: {exc.reason}"]) from None
    file_name = safe_file_name(article)
    root = knowledge_dir.resolve()
    relative = Path(file_name)
    # The same id and language may already live in a file under another name: that is the
    # article's file, so /replace overwrites it there (else there would be two).
    articles, _ = load_knowledge(knowledge_dir)
    for other in articles:
        if other.key == article.key:
            relative = Path(other.path)
            break
    target = (root / relative).resolve()
    if target.parent != root and root not in target.parents:
        raise ArticleRejected([f"{shown}:1: unusable file name"])
    exists = target.exists()
    if exists and target.read_bytes() == data:
        return SavedArticle(article, relative, replaced=False, unchanged=True)
    if exists and not replace:
        raise ArticleRejected([staff_text("staff_exists")], exists=relative.as_posix())
    try:
        _write_atomically(target, data, overwrite=exists)
    except FileExistsError:
        raise ArticleRejected([staff_text("staff_exists")], exists=relative.as_posix()) from None
    return SavedArticle(article, relative, replaced=exists)


# --- re-indexing ------------------------------------------------------------------------------


async def run_index(knowledge_dir: Path, index_dir: Path) -> tuple[bool, str]:
    """``samvad index`` in a child process; (whether it ran, its report or error)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "samvad.cli", "index",
        "--knowledge", str(knowledge_dir), "--index", str(index_dir),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        out, err = await asyncio.wait_for(process.communicate(), INDEX_TIMEOUT)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
        return False, f"indexing took longer than {INDEX_TIMEOUT:.0f} s"
    text = out.decode("utf-8", "replace").strip()
    if process.returncode in (0, 1):  # 1: ran, but some files were skipped
        lines = [ln for ln in text.splitlines() if not ln.startswith("Index written to")]
        return True, "\n".join(lines)
    problem = err.decode("utf-8", "replace").strip().splitlines()
    return False, (problem[-1] if problem else text) or f"exit status {process.returncode}"


# --- handlers ---------------------------------------------------------------------------------


def _config(context: Context) -> Settings:
    config: Settings = context.bot_data["config"]
    return config


def _staff_lock(context: Context) -> asyncio.Lock:
    return notices.staff_lock(context.bot_data)


async def _reply(update: Update, context: Context, text: str) -> None:
    chat = update.effective_chat
    if chat is not None:
        await send_text(context.bot, chat.id, text, services(context).payloads)


async def _upload_allowed(update: Update, context: Context) -> bool:
    """Whether this staff member may add another article this minute (else say so)."""
    limiter: FloodLimiter = context.bot_data["staff_uploads"]
    if limiter.allow(_staff_id(update)):
        return True
    await _reply(update, context, staff_text("staff_uploads_too_fast"))
    return False


def _staff_id(update: Update) -> int:
    return update.effective_user.id if update.effective_user is not None else 0


def format_stats(day: Stats, week: Stats) -> str:
    """The /stats reply."""
    lines = [staff_text("staff_stats_header")]
    for label, stats in ((staff_text("staff_day"), day), (staff_text("staff_week"), week)):
        lines.append(f"\n{label}: {stats.questions}")
        for row in stats.by_language:
            lines.append(
                f"  {row.language}: {row.questions} — ✅ {row.answered} answered / उत्तर दिले, "
                f"🤷 {row.unanswered} don't know / माहीत नाही"
            )
        lines.append(f"  👍 {stats.helpful}  👎 {stats.not_helpful}")
    return "\n".join(lines)


CHART_DAYS = 7
MAX_CHART_DAYS = 90


def chart_days(args: list[str] | None) -> int:
    """The period of ``/stats N``: 7 days unless a number from 1 to 90 is given (e.g. 30)."""
    wanted = (args or [""])[0]
    if wanted.isascii() and wanted.isdigit() and 1 <= int(wanted) <= MAX_CHART_DAYS:
        return int(wanted)
    return CHART_DAYS


async def on_stats(update: Update, context: Context) -> None:
    """/stats [DAYS] (staff only): the chart, then the counts and the top unanswered."""
    config = _config(context)
    chat = update.effective_chat
    days = chart_days(context.args)
    log = QuestionLog(config.data_dir)
    day, week, daily = await asyncio.gather(
        asyncio.to_thread(log.stats, 1),
        asyncio.to_thread(log.stats, 7),
        asyncio.to_thread(daily_stats, config.data_dir, days),
    )
    if chat is not None:
        caption = f"{staff_text('staff_chart_caption')} · {days} {staff_text('chart_days')}"
        try:
            png = await asyncio.to_thread(chart_png, daily)
            await context.bot.send_photo(chat.id, png, caption=caption)
        except (TelegramError, OSError, ValueError) as exc:  # the numbers still go out
            logger.warning("could not send the /stats chart: %s", exc)
    lines = [format_stats(day, week)]
    if daily.top_unanswered:
        lines.append(f"\n❓ {staff_text('report_top_unanswered')} ({days} "
                     f"{staff_text('chart_days')}):")  # fmt: skip
        lines += [f"{count}x  {question}" for question, count in daily.top_unanswered]
    await _reply(update, context, "\n".join(lines))


async def on_unanswered(update: Update, context: Context) -> None:
    """/unanswered (staff only): last 7 days, most frequent first."""
    log = QuestionLog(_config(context).data_dir)
    week = await asyncio.to_thread(log.stats, 7, 20)
    if not week.frequent_unanswered:
        await _reply(update, context, staff_text("staff_no_unanswered"))
        return
    lines = [staff_text("staff_unanswered_header")]
    lines += [f"{count}x  {question}" for question, count in week.frequent_unanswered]
    await _reply(update, context, "\n".join(lines))


async def on_check(update: Update, context: Context) -> None:
    """/check (staff only): the validation report."""
    knowledge = _config(context).knowledge_dir
    articles, errors = await asyncio.to_thread(load_knowledge, knowledge)
    topics, topic_errors = await asyncio.to_thread(load_topics, knowledge)
    errors = [*errors, *topic_errors]
    header = staff_text("staff_check_problems") if errors else staff_text("staff_check_ok")
    lines = [f"{header}: {len(articles)} ✅, {len(errors)} ⚠️"]
    lines += [str(error) for error in errors]
    if len(topics):
        lines.append(f"{TOPICS_FILE}: {len(topics)} {staff_text('staff_notice_topics')}")
    await _reply(update, context, "\n".join(lines))


async def _reindex(update: Update, context: Context) -> tuple[bool, str]:
    config = _config(context)
    chat = update.effective_chat
    if chat is None:
        return await run_index(config.knowledge_dir, config.index_dir)
    async with typing(context.bot, chat.id):
        return await run_index(config.knowledge_dir, config.index_dir)


def _audit(context: Context) -> AuditLog:
    return AuditLog(_config(context).data_dir)


async def _claim_new(context: Context) -> list[str]:
    """The articles that are new in the index just built (call under the staff lock)."""
    return await asyncio.to_thread(notices.claim_new_articles, context.bot_data)


async def _propose_new(update: Update, context: Context, new: list[str]) -> None:
    chat = update.effective_chat
    if new and chat is not None:
        await notices.propose_new(context.application, new, [chat.id], _staff_id(update))


async def on_reload(update: Update, context: Context) -> None:
    """/reload (staff only): re-index now and say what changed."""
    async with _staff_lock(context):
        ok, report = await _reindex(update, context)
        new = await _claim_new(context) if ok else []
    outcome = "ok" if ok else "failed"
    first = report.splitlines()[0] if report else ""
    await asyncio.to_thread(_audit(context).record, _staff_id(update), "reload", "", outcome, first)
    await _reply(
        update,
        context,
        f"{staff_text('staff_reloaded' if ok else 'staff_reload_failed')}\n{report}",
    )
    await _propose_new(update, context, new)


async def _add(update: Update, context: Context, data: bytes, name: str, replace: bool) -> None:
    config = _config(context)
    staff = _staff_id(update)
    audit = _audit(context)
    action = "replace" if replace else "add"
    async with _staff_lock(context):
        try:
            saved = await asyncio.to_thread(save_article, config.knowledge_dir, data, name, replace)
        except ArticleRejected as exc:
            outcome = "refused" if exc.exists else "rejected"
            await asyncio.to_thread(
                audit.record, staff, action, exc.exists or "", outcome, "; ".join(exc.errors)
            )
            if exc.exists:
                await _reply(update, context, f"{staff_text('staff_exists')}\n({exc.exists})")
            else:
                await _reply(
                    update, context, "\n".join([staff_text("staff_rejected"), *exc.errors])
                )
            return
        article, path = saved.article, saved.path.as_posix()
        if saved.unchanged:
            await _reply(update, context, f"{staff_text('staff_unchanged')}\n{path}")
            return
        ok, report = await _reindex(update, context)
        new = await _claim_new(context) if ok else []
    done = "replace" if saved.replaced else "add"
    detail = f"{article.title} ({article.lang})"
    await asyncio.to_thread(audit.record, staff, done, path, "ok" if ok else "saved", detail)
    header = staff_text("staff_replaced" if saved.replaced else "staff_saved")
    index_line = report if ok else f"{staff_text('staff_reload_failed')}\n{report}"
    text = (
        f"{header}: «{article.title}» — {article.lang} ({path})\nid: {article.id}\n\n{index_line}"
    )
    if saved.replaced and article.id not in new:
        sent = await asyncio.to_thread(services(context).outbox.last_sent, article.id)
        if sent is not None:
            text += f"\n\n{staff_text('staff_edit_not_resent')} /notify {article.id}"
    await _reply(update, context, text)
    await _propose_new(update, context, new)


def command_body(text: str) -> str:
    """What follows ``/add`` (or ``/replace``), line breaks kept."""
    return COMMAND_PREFIX.sub("", text.strip(), count=1).strip()


async def on_add_text(update: Update, context: Context) -> None:
    """/add or /replace followed by an article (staff only)."""
    message = update.effective_message
    if message is None or not message.text:
        return
    body = command_body(message.text)
    if not body:
        await _reply(update, context, staff_text("staff_add_usage"))
        return
    if not await _upload_allowed(update, context):
        return
    replace = message.text.strip().lower().startswith("/replace")
    await _add(update, context, (body + "\n").encode("utf-8"), "message", replace)


async def on_document(update: Update, context: Context) -> None:
    """A ``.md`` document from staff (caption ``/replace`` to overwrite)."""
    message = update.effective_message
    if message is None or message.document is None:
        return
    document = message.document
    name = display_name(document.file_name)
    if not await _upload_allowed(update, context):
        return
    if document.file_size is not None and document.file_size > MAX_ARTICLE_BYTES:
        await _reply(
            update,
            context,
            "\n".join(
                [
                    staff_text("staff_rejected"),
                    f"{name}:1: the file is larger than {MAX_ARTICLE_BYTES} bytes",
                ]
            ),
        )
        return
    file = await document.get_file()
    data = bytes(await file.download_as_bytearray())
    replace = (message.caption or "").strip().lower().startswith("/replace")
    await _add(update, context, data, name, replace)


# --- telling staff about invalid files --------------------------------------------------------


def knowledge_fingerprint(knowledge_dir: Path) -> tuple[tuple[str, int, int], ...]:
    """Name, size and modification time of every article file and of ``topics.yml`` (cheap:
    no reading)."""
    entries = []
    for file in [*article_files(knowledge_dir), knowledge_dir / TOPICS_FILE]:
        with contextlib.suppress(OSError):
            stat = file.stat()
            entries.append((file.as_posix(), stat.st_size, stat.st_mtime_ns))
    return tuple(entries)


async def notify_staff(application: AnyApplication, staff: frozenset[int], text: str) -> None:
    """Send ``text`` to every staff member (a failure for one does not stop the others)."""
    for staff_id in sorted(staff):
        try:
            await application.bot.send_message(staff_id, text)
        except TelegramError as exc:
            logger.warning("could not notify staff member %s: %s", staff_id, exc)


async def watch_validation(application: AnyApplication, config: Settings) -> None:
    """Tell staff about each new validation problem in ``knowledge/`` (runs until cancelled)."""
    known: set[str] | None = None
    last: tuple[tuple[str, int, int], ...] | None = None
    while True:
        try:
            fingerprint = await asyncio.to_thread(knowledge_fingerprint, config.knowledge_dir)
            if fingerprint != last:
                last = fingerprint
                _, errors = await asyncio.to_thread(load_knowledge, config.knowledge_dir)
                _, topic_errors = await asyncio.to_thread(load_topics, config.knowledge_dir)
                current = {str(error) for error in [*errors, *topic_errors]}
                new = sorted(current - known) if known is not None else []
                if known is None and current:
                    logger.warning("knowledge files with problems: %s", "; ".join(sorted(current)))
                known = current
                if new:
                    logger.warning("knowledge file failed validation: %s", "; ".join(new))
                    await notify_staff(
                        application,
                        config.staff_ids,
                        "\n".join([staff_text("staff_invalid_file"), *new]),
                    )
        except OSError as exc:
            logger.warning("could not check %s: %s", config.knowledge_dir, exc)
        await asyncio.sleep(config.staff_check_seconds)


# --- registration -----------------------------------------------------------------------------


def add_staff_handlers(application: AnyApplication, staff: frozenset[int]) -> None:
    """Register the staff handlers (before the citizens' catch-all handlers)."""
    # New messages only: an edited or forwarded message never runs a staff command.
    only_staff = filters.User(user_id=staff) & filters.UpdateType.MESSAGE & ~filters.FORWARDED
    application.bot_data["staff_uploads"] = FloodLimiter(UPLOADS_PER_MINUTE, 60.0)
    for name, callback in (
        ("stats", on_stats),
        ("unanswered", on_unanswered),
        ("reload", on_reload),
        ("check", on_check),
        ("add", on_add_text),
        ("replace", on_add_text),
        ("notify", notices.on_notify),
    ):
        application.add_handler(CommandHandler(name, callback, filters=only_staff))
    application.add_handler(
        MessageHandler(only_staff & filters.Document.FileExtension("md"), on_document)
    )
