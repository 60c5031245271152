"""Topic subscriptions and notices on Telegram.

Citizens: ``/subscribe`` shows the topics of ``knowledge/topics.yml`` as buttons (a press
subscribes, or unsubscribes a ✅ one), ``/subscribe पाणी`` subscribes at once; ``/unsubscribe``
(buttons, ``/unsubscribe water`` or ``/unsubscribe all``) and ``/mysubscriptions``. Below an
answer from an article with a topic the chat does not have, the bot adds "🔔 tell me about
new notices: <topic>" (:func:`bot.handlers.offer_subscription`). A chat that blocks the bot is
forgotten at once (Telegram tells the bot: ``my_chat_member``).

Staff: when a **new** article (an id never seen before — added with ``/add``, a ``.md`` upload,
``/reload`` or a file the knowledge watcher indexed) belongs to a topic somebody subscribed
to, the bot asks ("send to N subscribers of पाणी / Water?", buttons "send" / "don't send") —
the staff member who added it, or every staff member for a file found in the index. An edit
of an article is not new: it is sent again only when staff ask, with ``/notify ARTICLE_ID``.

Sending (:class:`NoticeSender`): every (notice, subscriber) pair is a row of the persistent outbox
(:class:`samvad.Outbox`, which documents the states and the crash window: *at least once*).
Up to :data:`NOTICE_CONCURRENCY` deliveries are in flight, started at most
:data:`NOTICE_RATE` a second, evenly spaced — under Telegram's ~30 messages a second, leaving
room for answers, which share python-telegram-bot's ``AIORateLimiter`` with it (it also waits
out a ``RetryAfter``). A 403 (the citizen blocked the bot) removes the subscriber. The staff
member sees "sending: 800 / 1,234" updated every few seconds, then a summary; every proposal,
decision, resumption and completion is in the audit. A clean stop lets what is in flight
finish; a restart resumes where the outbox says.

All button data starts ``samvad:`` (:data:`bot.handlers.NOTICE_PATTERN`): the bot handles it
itself and never sends it to Rasa. A citizen pressing a staff button — forged — gets what any
expired button gets.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import MutableMapping
from typing import Any

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatMemberStatus, ChatType, ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application

from bot.handlers import (
    DROP_NOTICE_DATA,
    NO_PREVIEW,
    READ_NOTICE_DATA,
    SEND_NOTICE_DATA,
    SUBSCRIBE_DATA,
    TOGGLE_DATA,
    UNSUBSCRIBE_DATA,
    Context,
    Services,
    ask_rasa,
    chat_language,
    send_html,
    send_text,
    services,
    stop_spinner,
)
from bot.rasa_client import sender_id
from bot.render import Button, PayloadStore, button_rows, escape, keyboard, notice_html
from samvad import (
    DEFAULT_LANGUAGE,
    AuditLog,
    Delivery,
    Lang,
    Notice,
    Progress,
    Settings,
    Summary,
    Topic,
    accept,
    article_summaries,
    as_language,
    both,
    current_generation,
    say,
    summary_for,
    text,
)

logger = logging.getLogger(__name__)

AnyApplication = Application[Any, Any, Any, Any, Any, Any]
# Notices started per second (Telegram allows about 30 in all; the rest is for answers).
NOTICE_RATE = 25.0
# Deliveries in flight at once (enough for the rate over a slow link; it is also the most
# that a hard crash can leave in doubt, to be sent again).
NOTICE_CONCURRENCY = 8
PROGRESS_SECONDS = 3.0
IDLE_SECONDS = 2.0
RETRY_SECONDS = 5.0
STOP_SECONDS = 15.0
ALL_TOPICS = "*"
ALL_WORDS = frozenset({"all", "सर्व", "sagle", "sarva"})
# Telegram's descriptions of a chat the bot can no longer write to.
GONE = ("chat not found", "user is deactivated", "bot was blocked", "bot was kicked")


def _config(bot_data: MutableMapping[str, Any]) -> Settings:
    config: Settings = bot_data["config"]
    return config


def _services(bot_data: MutableMapping[str, Any]) -> Services:
    shared: Services = bot_data["services"]
    return shared


def staff_lock(bot_data: MutableMapping[str, Any]) -> asyncio.Lock:
    """The lock staff changes to the knowledge folder and the check for new articles share."""
    lock = bot_data.get("staff_lock")
    if not isinstance(lock, asyncio.Lock):
        lock = asyncio.Lock()
        bot_data["staff_lock"] = lock
    return lock


async def _audit(config: Settings, staff: int, action: str, target: str, outcome: str,
                 detail: str) -> None:  # fmt: skip
    await asyncio.to_thread(AuditLog(config.data_dir).record, staff, action, target, outcome,
                            detail)  # fmt: skip


def number(value: int) -> str:
    """``1234`` → ``1,234``."""
    return f"{value:,}"


# --- citizens -----------------------------------------------------------------------------------


async def notice_language(update: Update, context: Context) -> Lang:
    """The language a chat's notices go in: its conversation's, else the one it subscribed
    in before, else its Telegram app's, else Marathi."""
    known = chat_language(update, context)
    if known is not None:
        return known
    chat = update.effective_chat
    if chat is not None:
        stored = await asyncio.to_thread(services(context).subscriptions.language_of, chat.id)
        if stored is not None:
            return stored
    user = update.effective_user
    code = (user.language_code or "")[:2] if user is not None else ""
    return as_language(code) or DEFAULT_LANGUAGE


def _label(shared: Services, key: str, language: Lang | None) -> str:
    topic = shared.topic_file.current().get(key)
    return topic.label(language) if topic is not None else key


def _topic_rows(topics: list[Topic], have: set[str], language: Lang | None) -> list[list[Button]]:
    buttons = [
        Button(("✅ " if t.key in have else "") + t.label(language), payload=TOGGLE_DATA + t.key)
        for t in topics
    ]
    return button_rows(buttons)


async def _say(update: Update, context: Context, message: str) -> None:
    chat = update.effective_chat
    if chat is not None:
        await send_text(context.bot, chat.id, message, services(context).payloads)


async def subscribe(update: Update, context: Context, topic: Topic) -> bool:
    """Subscribe this chat to ``topic`` and say so (with what is kept, at the first one);
    whether it is new."""
    chat = update.effective_chat
    if chat is None:
        return False
    shared = services(context)
    language = await notice_language(update, context)
    had = await asyncio.to_thread(shared.subscriptions.topics_of, chat.id)
    sender = sender_id(chat.id, shared.salt)
    added = await asyncio.to_thread(
        shared.subscriptions.subscribe, chat.id, sender, language, topic.key
    )
    said = (
        f"{text('subscribed' if added else 'already_subscribed', language)} {topic.label(language)}"
    )
    if not had:
        said += f"\n\n{text('subscription_privacy', language)}"
    await _say(update, context, said)
    return added


async def unsubscribe(update: Update, context: Context, key: str) -> None:
    """Stop ``key`` (or every topic: :data:`ALL_TOPICS`) for this chat and say so."""
    chat = update.effective_chat
    if chat is None:
        return
    shared = services(context)
    language = await notice_language(update, context)
    if key == ALL_TOPICS:
        removed = await asyncio.to_thread(shared.subscriptions.unsubscribe_all, chat.id)
        await _say(update, context, text("unsubscribed_all" if removed else "no_subscriptions",
                                         language))  # fmt: skip
        return
    done = await asyncio.to_thread(shared.subscriptions.unsubscribe, chat.id, key)
    label = _label(shared, key, language)
    await _say(update, context, f"{text('unsubscribed' if done else 'not_subscribed', language)} "
                                f"{label}")  # fmt: skip


async def on_subscribe(update: Update, context: Context) -> None:
    """/subscribe: the topics as buttons; ``/subscribe TOPIC`` subscribes at once."""
    chat = update.effective_chat
    if chat is None:
        return
    shared = services(context)
    language = chat_language(update, context)
    topics = await asyncio.to_thread(shared.topic_file.current)
    if not topics:
        await _say(update, context, say("no_topics_to_subscribe", language))
        return
    words = " ".join(context.args or [])
    if words:
        topic = topics.find(words)
        if topic is None:
            await _say(update, context, say("unknown_topic", language))
        else:
            await subscribe(update, context, topic)
        return
    have = set(await asyncio.to_thread(shared.subscriptions.topics_of, chat.id))
    markup = keyboard(_topic_rows(list(topics), have, language), shared.payloads)
    header = f"{say('subscribe_header', language)}\n\n{say('subscription_privacy', language)}"
    await send_html(context.bot, chat.id, escape(header), markup)


async def on_unsubscribe(update: Update, context: Context) -> None:
    """/unsubscribe: the chat's topics as buttons (and "all"); ``/unsubscribe TOPIC`` or
    ``/unsubscribe all`` at once."""
    chat = update.effective_chat
    if chat is None:
        return
    shared = services(context)
    language = chat_language(update, context)
    have = await asyncio.to_thread(shared.subscriptions.topics_of, chat.id)
    words = " ".join(context.args or []).strip()
    if words:
        if words.casefold() in ALL_WORDS:
            await unsubscribe(update, context, ALL_TOPICS)
            return
        topic = shared.topic_file.current().find(words)
        key = topic.key if topic is not None else words.lower()
        await unsubscribe(update, context, key)
        return
    if not have:
        await _say(update, context, say("no_subscriptions", language))
        return
    buttons = [
        Button(_label(shared, key, language), payload=UNSUBSCRIBE_DATA + key) for key in have
    ]
    buttons.append(Button(say("button_all_topics", language, " / "),
                          payload=UNSUBSCRIBE_DATA + ALL_TOPICS))  # fmt: skip
    markup = keyboard(button_rows(buttons), shared.payloads)
    await send_html(context.bot, chat.id, escape(say("unsubscribe_header", language)), markup)


async def on_my_subscriptions(update: Update, context: Context) -> None:
    """/mysubscriptions: the chat's topics."""
    chat = update.effective_chat
    if chat is None:
        return
    shared = services(context)
    language = chat_language(update, context)
    have = await asyncio.to_thread(shared.subscriptions.topics_of, chat.id)
    if not have:
        await _say(update, context, say("no_subscriptions", language))
        return
    lines = [say("my_subscriptions", language, " / ")]
    lines += [f"• {_label(shared, key, language)}" for key in have]
    lines.append(say("subscriptions_footer", language))
    await _say(update, context, "\n".join(lines))


async def on_my_chat_member(update: Update, context: Context) -> None:
    """The citizen blocked the bot (or deleted the chat): forget their subscriptions now."""
    member = update.my_chat_member
    if member is None or member.chat.type != ChatType.PRIVATE:
        return
    if member.new_chat_member.status in (ChatMemberStatus.BANNED, ChatMemberStatus.LEFT):
        dropped = await asyncio.to_thread(services(context).subscriptions.drop_chat,
                                          member.chat.id)  # fmt: skip
        if dropped:
            logger.info("a subscriber blocked the bot; %d subscription(s) removed", dropped)


async def _edit_buttons(update: Update, rows: list[list[Button]] | None, context: Context) -> None:
    query = update.callback_query
    if query is None or not isinstance(query.message, Message):
        return
    markup = keyboard(rows, services(context).payloads) if rows else None
    try:
        await query.edit_message_reply_markup(markup)
    except TelegramError as exc:
        logger.debug("could not update the pressed message's buttons: %s", exc)


def _without(message: Message | None, data: str, store: PayloadStore) -> list[list[Button]] | None:
    """The message's buttons less those carrying ``data`` (``None``: nothing to change); a
    shortened payload (``#key``) is kept as the payload it stands for."""
    if message is None or message.reply_markup is None:
        return None
    rows = []
    for row in message.reply_markup.inline_keyboard:
        kept = []
        for button in row:
            if button.callback_data == data:
                continue
            if button.url:
                kept.append(Button(button.text, url=button.url))
            elif isinstance(button.callback_data, str):
                payload = store.payload(button.callback_data)
                if payload is not None:
                    kept.append(Button(button.text, payload=payload))
        if kept:
            rows.append(kept)
    return rows


async def _toggle(update: Update, context: Context, key: str) -> None:
    chat = update.effective_chat
    shared = services(context)
    topics = shared.topic_file.current()
    topic = topics.get(key)
    if chat is None:
        return
    have = set(await asyncio.to_thread(shared.subscriptions.topics_of, chat.id))
    if key in have:
        await unsubscribe(update, context, key)
        have.discard(key)
    elif topic is None:
        await _say(update, context, say("unknown_topic", chat_language(update, context)))
        return
    else:
        await subscribe(update, context, topic)
        have.add(key)
    await _edit_buttons(update, _topic_rows(list(topics), have, chat_language(update, context)),
                        context)  # fmt: skip


async def _read_more(update: Update, context: Context, notice_id: int) -> None:
    """A notice's "read more": the article's title asked as the citizen's question, answered
    from that article (see :func:`bot.handlers.ask_rasa`)."""
    chat = update.effective_chat
    if chat is None:
        return
    shared = services(context)
    notice = await asyncio.to_thread(shared.outbox.notice, notice_id)
    language = await notice_language(update, context)
    versions = {v.language: v for v in notice.versions} if notice is not None else {}
    chosen = summary_for(versions, language)
    if notice is None or chosen is None:
        await _say(update, context, text("notice_gone", language))
        return
    question = accept(chosen[0].title).text
    await ask_rasa(update, context, question, article_id=notice.article_id)


async def on_button(update: Update, context: Context) -> None:
    """Every ``samvad:sub:…``, ``samvad:read:…`` and ``samvad:notice:…`` button."""
    query = update.callback_query
    if query is None or update.effective_chat is None:
        return
    data = query.data or ""
    await stop_spinner(update)
    if data.startswith((SEND_NOTICE_DATA, DROP_NOTICE_DATA)):
        await _staff_decides(update, context, data)
    elif data.startswith(TOGGLE_DATA):
        await _toggle(update, context, data.removeprefix(TOGGLE_DATA))
    elif data.startswith(SUBSCRIBE_DATA):
        topic = services(context).topic_file.current().get(data.removeprefix(SUBSCRIBE_DATA))
        if topic is None:
            await _say(update, context, say("unknown_topic", chat_language(update, context)))
            return
        await subscribe(update, context, topic)
        message = query.message if isinstance(query.message, Message) else None
        rows = _without(message, data, services(context).payloads)
        if rows is not None:
            await _edit_buttons(update, rows, context)
    elif data.startswith(UNSUBSCRIBE_DATA):
        await unsubscribe(update, context, data.removeprefix(UNSUBSCRIBE_DATA))
    elif data.startswith(READ_NOTICE_DATA):
        await _read_more(update, context, int(data.removeprefix(READ_NOTICE_DATA)))


# --- staff: which articles are new, and the question to send ------------------------------------


def _catalogue_ids(shared: Services) -> list[str]:
    catalog = shared.topics.current()
    return sorted({entry.id for entry in catalog.entries}) if catalog is not None else []


def seed_known_articles(bot_data: MutableMapping[str, Any]) -> None:
    """At the first start ever: the articles there are not new (later starts: nothing; an
    article added while the bot was down is proposed by :func:`watch_new_articles`)."""
    shared = _services(bot_data)
    shared.outbox.seed_known_articles(_catalogue_ids(shared))


def claim_new_articles(bot_data: MutableMapping[str, Any]) -> list[str]:
    """The ids in the current index never seen before, now recorded as seen (call under
    :func:`staff_lock`; at the very first start the articles there are recorded, not new)."""
    shared = _services(bot_data)
    ids = _catalogue_ids(shared)
    if shared.outbox.seed_known_articles(ids):
        return []
    return shared.outbox.claim_new_articles(ids)


def _proposal(entries_titles: list[str], article_id: str, topics: list[Topic], count: int,
              before: Notice | None) -> str:  # fmt: skip
    if before is None:
        head = both("staff_notice_ask", " / ")
    else:
        when = (before.finished_at or before.decided_at or "")[:10]
        sent = f"{both('staff_notice_sent', ' / ')}: {number(before.sent)}"
        head = f"{both('staff_notice_again', ' / ')} ({when}; {sent})."
    labels = ", ".join(t.label(None) for t in topics)
    return "\n".join(
        [
            head,
            " / ".join(f"«{title}»" for title in entries_titles),
            f"id: {article_id}",
            f"{both('staff_notice_topics', ' / ')}: {labels}",
            f"{both('staff_notice_subscribers', ' / ')}: {number(count)}",
        ]
    )


async def propose(
    application: AnyApplication, article_id: str, targets: list[int], staff_id: int = 0
) -> Notice | str:
    """Ask ``targets`` (staff chats) whether to send a notice of ``article_id`` to the
    subscribers of its topics. The notice, or why there is none (a catalogue key)."""
    shared = _services(application.bot_data)
    config = _config(application.bot_data)
    catalog = await asyncio.to_thread(shared.topics.current)
    entries = [e for e in catalog.entries if e.id == article_id] if catalog is not None else []
    if not entries:
        return "staff_notify_unknown"
    tags = [tag for entry in entries for tag in entry.tags]
    topics = (await asyncio.to_thread(shared.topic_file.current)).for_tags(tags)
    if not topics:
        return "staff_notice_no_topics"
    keys = [t.key for t in topics]
    count = await asyncio.to_thread(shared.subscriptions.count, keys)
    if count == 0:
        return "staff_notice_no_subscribers"
    before = await asyncio.to_thread(shared.outbox.last_sent, article_id)
    notice = await asyncio.to_thread(shared.outbox.propose, article_id, keys, staff_id)
    order = {"mr": 0, "en": 1}
    titles = [e.title for e in sorted(entries, key=lambda e: order.get(e.lang, 2))]
    message = _proposal(titles, article_id, topics, count, before)
    buttons = [
        Button(both("button_notice_send", " / "), payload=f"{SEND_NOTICE_DATA}{notice.id}"),
        Button(both("button_notice_drop", " / "), payload=f"{DROP_NOTICE_DATA}{notice.id}"),
    ]
    for chat_id in targets:
        markup = keyboard([buttons], shared.payloads)
        try:
            await send_html(application.bot, chat_id, escape(message), markup)
        except TelegramError as exc:
            logger.warning("could not ask staff member %s about a notice: %s", chat_id, exc)
    await _audit(config, staff_id, "notice", article_id, "proposed",
                 f"notice {notice.id}: {count} subscribers of {', '.join(keys)}")  # fmt: skip
    return notice


async def propose_new(application: AnyApplication, article_ids: list[str], targets: list[int],
                      staff_id: int = 0) -> None:  # fmt: skip
    """:func:`propose` for each new article (one with no subscribed topic is only logged)."""
    for article_id in article_ids:
        made = await propose(application, article_id, targets, staff_id)
        if isinstance(made, str):
            logger.info("new article %s: no notice (%s)", article_id, made)


async def watch_new_articles(application: AnyApplication, config: Settings) -> None:
    """Propose notices for articles that appear in the index by themselves (a file dropped
    into ``knowledge/`` and indexed by the watcher) to every staff member; runs until
    cancelled."""
    last: str | None = None
    while True:
        try:
            generation = await asyncio.to_thread(current_generation, config.index_dir)
            if generation is not None and generation != last:
                async with staff_lock(application.bot_data):
                    new = await asyncio.to_thread(claim_new_articles, application.bot_data)
                last = generation
                await propose_new(application, new, sorted(config.staff_ids))
        except (OSError, ValueError, KeyError) as exc:
            logger.warning("could not look for new articles: %s", exc)
        await asyncio.sleep(config.staff_check_seconds)


async def on_notify(update: Update, context: Context) -> None:
    """/notify ARTICLE_ID (staff only): propose a notice of an existing article — to send an
    edited one again, or one added before anybody subscribed."""
    chat = update.effective_chat
    user = update.effective_user
    if chat is None or user is None:
        return
    article_id = " ".join(context.args or []).strip()
    if not article_id:
        await _say(update, context, both("staff_notify_usage", " / "))
        return
    made = await propose(context.application, article_id, [chat.id], user.id)
    if isinstance(made, str):
        detail = f" {article_id}" if made == "staff_notify_unknown" else ""
        await _say(update, context, f"{both(made, ' / ')}{detail}")


def _title(notice: Notice) -> str:
    return notice.versions[0].title if notice.versions else notice.article_id


def progress_text(notice: Notice, progress: Progress) -> str:
    """The staff member's "sending: 800 / 1,234" line."""
    return (
        f"{both('staff_notice_sending', ' / ')}: «{_title(notice)}» — "
        f"{number(progress.settled)} / {number(progress.total)}"
    )


def done_text(notice: Notice, progress: Progress) -> str:
    """The summary staff get when a notice is done."""
    lines = [
        f"{both('staff_notice_done', ' / ')}: «{_title(notice)}»",
        f"{both('staff_notice_sent', ' / ')}: {number(progress.sent)} / {number(progress.total)}",
    ]
    for key, count in (
        ("staff_notice_blocked", progress.blocked),
        ("staff_notice_failed", progress.failed),
        ("staff_notice_withdrawn", progress.withdrawn),
        ("staff_notice_resent", notice.resent),
    ):
        if count:
            lines.append(f"{both(key, ' / ')}: {number(count)}")
    return "\n".join(lines)


async def _staff_decides(update: Update, context: Context, data: str) -> None:
    """ "Send" or "don't send" on a proposal — from a staff member only."""
    chat, user = update.effective_chat, update.effective_user
    config = _config(context.bot_data)
    if chat is None or user is None:
        return
    if user.id not in config.staff_ids:  # a forged button: what any expired button gets
        await _say(update, context, say("button_expired", chat_language(update, context)))
        return
    shared = services(context)
    send = data.startswith(SEND_NOTICE_DATA)
    notice_id = int(data.removeprefix(SEND_NOTICE_DATA if send else DROP_NOTICE_DATA))
    notice = await asyncio.to_thread(shared.outbox.notice, notice_id)
    if notice is None or notice.state != "proposed":
        await _say(update, context, both("staff_notice_decided", " / "))
        return
    await _edit_buttons(update, None, context)
    if not send:
        if await asyncio.to_thread(shared.outbox.drop, notice_id, user.id):
            await _audit(config, user.id, "notice", notice.article_id, "dropped",
                         f"notice {notice_id}")  # fmt: skip
            await _say(update, context, f"{both('staff_notice_dropped', ' / ')} "
                                        f"/notify {notice.article_id}")  # fmt: skip
        else:
            await _say(update, context, both("staff_notice_decided", " / "))
        return
    versions = await asyncio.to_thread(article_summaries, config.index_dir, notice.article_id)
    if not versions:
        await asyncio.to_thread(shared.outbox.drop, notice_id, user.id)
        await _audit(config, user.id, "notice", notice.article_id, "failed", "not in the index")
        await _say(update, context, both("staff_notice_no_article", " / "))
        return
    confirmed = await asyncio.to_thread(
        shared.outbox.confirm, notice_id, user.id, chat.id, list(versions.values())
    )
    if confirmed is None:
        await _say(update, context, both("staff_notice_decided", " / "))
        return
    await _audit(config, user.id, "notice", notice.article_id, "confirmed",
                 f"notice {notice_id}: {confirmed.total} subscribers")  # fmt: skip
    if confirmed.total == 0:
        await asyncio.to_thread(shared.outbox.finish, notice_id)
        await _say(update, context, both("staff_notice_empty", " / "))
        return
    progress = Progress(confirmed.total, pending=confirmed.total)
    shown = await context.bot.send_message(chat.id, progress_text(confirmed, progress))
    await asyncio.to_thread(shared.outbox.set_progress_message, notice_id, chat.id,
                            shown.message_id)  # fmt: skip
    sender = context.bot_data.get("notice_sender")
    if isinstance(sender, NoticeSender):
        sender.shown[notice_id] = shown.text or ""
        sender.wake()


# --- sending --------------------------------------------------------------------------------------


class Pacer:
    """At most ``rate`` starts a second, evenly spaced: never a burst above the rate, even
    after the event loop stalled (each start is spaced from the previous one's real time)."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self._next = 0.0
        self._turn = asyncio.Lock()

    async def wait(self) -> None:
        """Wait for the next start (one waiter at a time takes it)."""
        loop = asyncio.get_running_loop()
        async with self._turn:
            while (late := self._next - loop.time()) > 0:
                await asyncio.sleep(late)
            self._next = loop.time() + self.interval

    def hold(self, seconds: float) -> None:
        """Start nothing for ``seconds`` (Telegram said: retry after)."""
        self._next = max(self._next, asyncio.get_running_loop().time() + seconds)


def _seconds(exc: RetryAfter) -> float:
    value: Any = exc.retry_after
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


class NoticeSender:
    """Delivers the outbox (see the module's notes); one per running bot."""

    def __init__(self, application: AnyApplication, rate: float = NOTICE_RATE,
                 concurrency: int = NOTICE_CONCURRENCY) -> None:  # fmt: skip
        self.application = application
        self.pacer = Pacer(rate)
        self.concurrency = concurrency
        self.shown: dict[int, str] = {}  # notice id → the progress text staff see now
        self._wake = asyncio.Event()
        self._stopping = False
        self._workers: list[asyncio.Task[None]] = []
        self._reporter: asyncio.Task[None] | None = None
        self._notices: dict[int, Notice] = {}
        self._messages: dict[tuple[int, Lang, str], tuple[str, InlineKeyboardMarkup | None]] = {}

    @property
    def _shared(self) -> Services:
        return _services(self.application.bot_data)

    @property
    def _config(self) -> Settings:
        return _config(self.application.bot_data)

    async def start(self) -> None:
        """Resume after a crash (deliveries left in doubt go out again), then send."""
        resent = await asyncio.to_thread(self._shared.outbox.recover)
        if resent:
            logger.warning("%d notice deliveries were in flight when the bot stopped; they are "
                           "sent again (at least once)", resent)  # fmt: skip
            await _audit(self._config, 0, "notice", "", "resumed",
                         f"{resent} deliveries in doubt after a crash sent again")  # fmt: skip
        self._workers = [asyncio.create_task(self._work()) for _ in range(self.concurrency)]
        self._reporter = asyncio.create_task(self._report())

    def wake(self) -> None:
        """There is something new to send."""
        self._wake.set()

    async def stop(self) -> None:
        """Stop claiming; let the deliveries in flight finish (and be marked), then stop."""
        self._stopping = True
        self._wake.set()
        if self._workers:
            _, late = await asyncio.wait(self._workers, timeout=STOP_SECONDS)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        if self._reporter is not None:
            self._reporter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reporter

    async def _work(self) -> None:
        outbox = self._shared.outbox
        while not self._stopping:
            await self.pacer.wait()
            if self._stopping:
                return
            try:
                delivery = await asyncio.to_thread(outbox.claim)
            except OSError as exc:
                logger.warning("the outbox is unavailable: %s", exc)
                delivery = None
            if delivery is None:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), IDLE_SECONDS)
                continue
            await self._deliver(delivery)

    async def _notice(self, notice_id: int) -> Notice | None:
        if notice_id not in self._notices:
            notice = await asyncio.to_thread(self._shared.outbox.notice, notice_id)
            if notice is None:
                return None
            self._notices[notice_id] = notice
        return self._notices[notice_id]

    async def message(self, delivery: Delivery) -> tuple[str, InlineKeyboardMarkup | None] | None:
        """The message of ``delivery`` (``None``: the notice has no version to send)."""
        key = (delivery.notice_id, delivery.language, delivery.topic)
        if key not in self._messages:
            notice = await self._notice(delivery.notice_id)
            versions: dict[Lang, Summary] = (
                {v.language: v for v in notice.versions} if notice else {}
            )
            chosen = summary_for(versions, delivery.language)
            if chosen is None:
                return None
            summary, other = chosen
            lang = delivery.language
            body = notice_html(summary, other, _label(self._shared, delivery.topic, lang), lang)
            buttons = [
                Button(
                    text("button_more", lang), payload=f"{READ_NOTICE_DATA}{delivery.notice_id}"
                ),
                Button(text("button_unsubscribe", lang), payload=UNSUBSCRIBE_DATA + delivery.topic),
            ]
            self._messages[key] = (body, keyboard([buttons], self._shared.payloads))
        return self._messages[key]

    async def _deliver(self, delivery: Delivery) -> None:
        outbox = self._shared.outbox
        try:
            made = await self.message(delivery)
            if made is None:
                await asyncio.to_thread(outbox.mark_failed, delivery)
                return
            body, markup = made
            await self.application.bot.send_message(
                delivery.chat_id,
                body,
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
                link_preview_options=NO_PREVIEW,
            )
        except Forbidden:
            await asyncio.to_thread(outbox.mark_blocked, delivery)
        except BadRequest as exc:
            if any(gone in exc.message.lower() for gone in GONE):
                await asyncio.to_thread(outbox.mark_blocked, delivery)
            else:
                logger.warning("a notice was refused: %s", exc.message)
                await asyncio.to_thread(outbox.mark_failed, delivery)
        except RetryAfter as exc:  # the rate limiter's own retries ran out
            self.pacer.hold(_seconds(exc))
            await asyncio.to_thread(outbox.retry_later, delivery, _seconds(exc))
        except NetworkError as exc:  # timed out too: it may have arrived; at least once
            logger.info("a notice could not be sent (%s); it will be tried again", exc)
            await asyncio.to_thread(outbox.retry_later, delivery, RETRY_SECONDS)
        except TelegramError as exc:
            logger.warning("a notice could not be sent: %s", exc)
            await asyncio.to_thread(outbox.mark_failed, delivery)
        except Exception:
            logger.exception("a notice delivery failed")
            await asyncio.to_thread(outbox.retry_later, delivery, RETRY_SECONDS)
        else:
            await asyncio.to_thread(outbox.mark_sent, delivery)

    async def _report(self) -> None:
        while not self._stopping:
            try:
                for notice in await asyncio.to_thread(self._shared.outbox.notices, "sending"):
                    await self._report_one(notice)
            except Exception:
                logger.exception("could not report a notice's progress")
            await asyncio.sleep(PROGRESS_SECONDS)

    async def _show(self, notice: Notice, shown: str) -> None:
        """Put ``shown`` in the staff member's progress message (the one sent when they pressed
        "send"; sent anew if it was deleted)."""
        bot = self.application.bot
        if notice.staff_chat is None or notice.progress_message is None:
            return
        if self.shown.get(notice.id) == shown:
            return
        self.shown[notice.id] = shown
        try:
            await bot.edit_message_text(shown, notice.staff_chat, notice.progress_message)
            return
        except BadRequest as exc:
            if "not modified" in exc.message.lower():
                return
            logger.info("the progress message is gone (%s); sending a new one", exc.message)
        except TelegramError as exc:
            logger.info("could not update the progress message: %s", exc)
            return
        with contextlib.suppress(TelegramError):
            message = await bot.send_message(notice.staff_chat, shown)
            await asyncio.to_thread(self._shared.outbox.set_progress_message, notice.id,
                                    notice.staff_chat, message.message_id)  # fmt: skip
            self._notices.pop(notice.id, None)

    async def _report_one(self, notice: Notice) -> None:
        outbox = self._shared.outbox
        progress = await asyncio.to_thread(outbox.progress, notice.id)
        if not progress.finished:
            await self._show(notice, progress_text(notice, progress))
            return
        final = await asyncio.to_thread(outbox.finish, notice.id)
        if final is None:
            return
        await _audit(self._config, notice.decided_by or 0, "notice", notice.article_id, "done",
                     f"notice {notice.id}: {final.sent} sent, {final.blocked} blocked, "
                     f"{final.failed} failed, {final.withdrawn} withdrawn, "
                     f"{notice.resent} in doubt sent again")  # fmt: skip
        await self._show(notice, progress_text(notice, final))
        if notice.staff_chat is not None:
            with contextlib.suppress(TelegramError):
                await self.application.bot.send_message(notice.staff_chat, done_text(notice, final))
        self.shown.pop(notice.id, None)
        self._notices.pop(notice.id, None)
        for key in [k for k in self._messages if k[0] == notice.id]:
            del self._messages[key]
