"""The Telegram handlers: commands, text, button presses, non-text messages, flood limit, errors.

Each chat's updates are handled one at a time (a lock per chat) so replies keep their order,
while different chats are handled concurrently. Everything a citizen types goes to Rasa's REST
channel; the bot itself answers only ``/start``, ``/lang``, ``/topics``, the commands list,
"text only, please", the flood notice and the apology when something fails — and the
subscriptions and notices of :mod:`bot.notices` (whose buttons never go to Rasa). Below an
answer from an article with a topic (``knowledge/topics.yml``) the chat has not subscribed
to, the bot adds a button to subscribe (:func:`offer_subscription`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import cast

from telegram import Bot, InlineKeyboardMarkup, LinkPreviewOptions, Message, Update
from telegram.constants import ChatAction, ParseMode
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.flood import FloodLimiter, message_cost
from bot.rasa_client import RasaClient, RasaUnavailableError, sender_id
from bot.render import (
    Button,
    Outgoing,
    PayloadStore,
    Reply,
    button_rows,
    escape,
    keyboard,
    read_replies,
    render_reply,
)
from samvad import (
    LANGUAGE_BUTTONS,
    LANGUAGE_PROMPT,
    MAX_MESSAGE_CHARS,
    CatalogReader,
    Lang,
    Outbox,
    Subscriptions,
    TopicsReader,
    accept,
    as_language,
    say,
    script_language,
    text,
)

logger = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE
TYPING_REFRESH = 4.5  # Telegram shows "typing…" for 5 s
# The only payloads a button press may send to Rasa: exactly those Samvad's own buttons carry
# (actions/actions.py, domain.yml), matched whole.
ALLOWED_PAYLOAD = re.compile(
    r'/(?:more|help|choose_article|choose_article\{"article_id": "[a-z0-9][a-z0-9-]{0,79}"\}'
    r'|choose_language\{"language":"(?:mr|en)"\}|feedback\{"helpful":(?:true|false)\})'
)
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
# Button data the bot handles itself (bot/notices.py), never sent to Rasa: subscribe to a topic
# (+ its key), unsubscribe (+ key, or "*" for all), toggle in the /subscribe list, "read more"
# of a notice (+ its number), and staff's send / don't send of a notice (+ its number).
SUBSCRIBE_DATA = "samvad:sub:+:"
UNSUBSCRIBE_DATA = "samvad:sub:-:"
TOGGLE_DATA = "samvad:sub:t:"
READ_NOTICE_DATA = "samvad:read:"
SEND_NOTICE_DATA = "samvad:notice:send:"
DROP_NOTICE_DATA = "samvad:notice:drop:"
NOTICE_PATTERN = re.compile(
    r"\Asamvad:(sub:[+t-]:[a-z0-9*][a-z0-9-]{0,31}|read:[0-9]{1,12}|notice:(send|drop):[0-9]{1,12})\Z"
)


@dataclass
class Services:
    """What the handlers share; kept in ``application.bot_data["services"]``."""

    rasa: RasaClient
    topics: CatalogReader  # the index's catalogue (article titles and tags)
    flood: FloodLimiter
    salt: bytes
    subscriptions: Subscriptions
    outbox: Outbox
    topic_file: TopicsReader  # knowledge/topics.yml: what citizens can subscribe to
    payloads: PayloadStore = field(default_factory=PayloadStore)
    _locks: weakref.WeakValueDictionary[int, asyncio.Lock] = field(
        default_factory=weakref.WeakValueDictionary
    )

    def lock_for(self, chat_id: int) -> asyncio.Lock:
        """The lock that keeps one chat's updates in order."""
        lock = self._locks.get(chat_id)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[chat_id] = lock
        return lock


def services(context: Context) -> Services:
    """The shared services of the running application."""
    return cast(Services, context.bot_data["services"])


def chat_language(update: Update, context: Context) -> Lang | None:
    """The language this chat is known to use (``None``: not known yet → both languages)."""
    data = context.chat_data if context.chat_data is not None else {}
    return as_language(data.get("lang"))


def remember_language(context: Context, language: Lang | None) -> None:
    """Remember the chat's language for the bot's own messages."""
    if language is not None and context.chat_data is not None:
        context.chat_data["lang"] = language


async def keep_language(update: Update, context: Context, language: Lang | None) -> None:
    """:func:`remember_language`, and when it changed, the language the chat's notices go in
    (if it is subscribed)."""
    chat = update.effective_chat
    before = chat_language(update, context)
    remember_language(context, language)
    if chat is not None and language is not None and language != before:
        await asyncio.to_thread(services(context).subscriptions.set_language, chat.id, language)


async def send_html(
    bot: Bot, chat_id: int, html: str, markup: InlineKeyboardMarkup | None = None
) -> Message:
    """Send one HTML message without link previews."""
    return await bot.send_message(
        chat_id,
        html,
        parse_mode=ParseMode.HTML,
        reply_markup=markup,
        link_preview_options=NO_PREVIEW,
    )


async def send_outgoing(bot: Bot, chat_id: int, parts: list[Outgoing], store: PayloadStore) -> None:
    """Send rendered parts in order."""
    for part in parts:
        await send_html(bot, chat_id, part.html, keyboard(part.rows, store))


async def send_text(bot: Bot, chat_id: int, text: str, store: PayloadStore) -> None:
    """Send plain text (escaped, split when long)."""
    await send_outgoing(bot, chat_id, render_reply(Reply(text)), store)


async def stop_spinner(update: Update) -> None:
    """Answer the pressed button's callback query, so its spinner stops. A failure (Telegram
    slow or the query expired) is logged and does not stop the handler: the citizen's answer
    matters more than the spinner."""
    if update.callback_query is None:
        return
    try:
        await update.callback_query.answer()
    except TelegramError as exc:
        logger.warning("could not answer a button press: %s", exc)


@contextlib.asynccontextmanager
async def typing(bot: Bot, chat_id: int, delay: float = 0.0) -> AsyncIterator[None]:
    """Show "typing…" once the block has run ``delay`` seconds (0: at once) and keep it shown
    until the block ends. A quick answer needs none: each "typing…" is one more request
    within Telegram's flood limit."""

    async def show() -> None:
        try:
            await bot.send_chat_action(chat_id, ChatAction.TYPING)
        except TelegramError as exc:
            logger.debug("could not send the typing action: %s", exc)

    async def keep_showing() -> None:
        if delay > 0:
            await asyncio.sleep(delay)
            await show()
        while True:
            await asyncio.sleep(TYPING_REFRESH)
            await show()

    if delay <= 0:
        await show()
    task = asyncio.create_task(keep_showing())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def answered_from(replies: list[Reply], article_id: str) -> bool:
    """Whether one of ``replies`` is an answer from the article ``article_id``."""
    return any(
        r.answer is not None
        and r.answer.outcome == "answered"
        and r.answer.citation is not None
        and r.answer.citation.article_id == article_id
        for r in replies
    )


async def offer_subscription(shared: Services, chat_id: int, replies: list[Reply]) -> None:
    """Below the last answer, a button "tell me about new <topic> notices" for the first topic
    of the cited article (its ``tags``, :mod:`samvad.topics`) the chat does not have yet."""
    answer = next(
        (r.answer for r in reversed(replies) if r.answer is not None and r.answer.citation),
        None,
    )
    if answer is None or answer.citation is None or answer.outcome != "answered":
        return
    catalog = await asyncio.to_thread(shared.topics.current)
    if catalog is None:
        return
    cited = answer.citation.article_id
    tags = [tag for entry in catalog.entries if entry.id == cited for tag in entry.tags]
    topics = (await asyncio.to_thread(shared.topic_file.current)).for_tags(tags)
    if not topics:
        return
    have = set(await asyncio.to_thread(shared.subscriptions.topics_of, chat_id))
    topic = next((t for t in topics if t.key not in have), None)
    if topic is None:
        return
    reply = next(r for r in reversed(replies) if r.answer is answer)
    title = f"{text('button_subscribe_offer', answer.language)} {topic.label(answer.language)}"
    reply.footer.append(Button(title, payload=SUBSCRIBE_DATA + topic.key))


async def ask_rasa(
    update: Update, context: Context, message: str, article_id: str | None = None
) -> None:
    """Send ``message`` to Rasa for this chat and deliver the replies, in order.

    With ``article_id`` (a notice's "read more": ``message`` is the article's title), a reply
    that is not an answer from that article is not shown: the bot then picks the article for
    that question (``/choose_article``), so the answer comes from it."""
    chat = update.effective_chat
    if chat is None:
        return
    shared = services(context)
    language = chat_language(update, context) or script_language(message)
    sender = sender_id(chat.id, shared.salt)
    async with shared.lock_for(chat.id):
        async with typing(context.bot, chat.id, context.bot_data["config"].typing_delay):
            try:
                replies = read_replies(await shared.rasa.send(sender, message))
                if article_id is not None and not answered_from(replies, article_id):
                    pick = f'/choose_article{{"article_id":{json.dumps(article_id)}}}'
                    replies = read_replies(await shared.rasa.send(sender, pick))
            except RasaUnavailableError as exc:
                logger.warning("Rasa unavailable: %s", exc)
                await send_text(context.bot, chat.id, say("unavailable", language), shared.payloads)
                return
        await offer_subscription(shared, chat.id, replies)
        parts = [part for reply in replies for part in render_reply(reply)]
        languages = {reply.language for reply in replies} - {None}
        await keep_language(update, context, languages.pop() if len(languages) == 1 else None)
        if not parts:  # Rasa answers every message; nothing means a part behind it failed
            logger.error(
                "Rasa answered nothing: a part behind it failed (its log says which; with "
                "shared stores, is Redis or PostgreSQL down?)"
            )
            parts = render_reply(Reply(say("error", language)))
        await send_outgoing(context.bot, chat.id, parts, shared.payloads)


def language_buttons() -> list[Button]:
    """The two language-choice buttons (their payloads go to Rasa)."""
    return [Button(title, payload=payload) for title, payload in LANGUAGE_BUTTONS]


def privacy_notice(context: Context, language: Lang | None) -> str:
    """What is kept, for how long, how to erase it, and what a subscription keeps (both
    languages when ``language`` is unknown): the one notice /start, /help and /privacy show."""
    days = context.bot_data["config"].retention_days
    return (
        f"{say('privacy', language).format(days=days)}\n\n{say('subscription_privacy', language)}"
    )


async def on_start(update: Update, context: Context) -> None:
    """/start: welcome and the privacy notice in both languages, and the language buttons."""
    chat = update.effective_chat
    if chat is None:
        return
    shared = services(context)
    welcome = "\n\n".join(
        [say("welcome", "mr"), say("welcome", "en"), privacy_notice(context, None)]
    )
    markup = keyboard(button_rows(language_buttons()), shared.payloads)
    await send_html(context.bot, chat.id, escape(f"{welcome}\n\n{LANGUAGE_PROMPT}"), markup)


async def on_lang(update: Update, context: Context) -> None:
    """/lang: the language buttons; ``/lang mr`` or ``/lang en`` chooses at once."""
    chat = update.effective_chat
    if chat is None:
        return
    chosen = as_language(" ".join(context.args or []))
    if chosen is not None:
        await keep_language(update, context, chosen)
        await ask_rasa(update, context, f'/choose_language{{"language":"{chosen}"}}')
        return
    shared = services(context)
    markup = keyboard(button_rows(language_buttons()), shared.payloads)
    await send_html(context.bot, chat.id, escape(LANGUAGE_PROMPT), markup)


async def on_help(update: Update, context: Context) -> None:
    """/help: Rasa's help (in the conversation's language), then the bot's commands and the
    privacy notice."""
    chat = update.effective_chat
    if chat is None:
        return
    await ask_rasa(update, context, "/help")
    language = chat_language(update, context)
    commands = f"{say('commands', language)}\n{say('commands_notices', language)}"
    notice = privacy_notice(context, language)
    await send_text(context.bot, chat.id, f"{commands}\n\n{notice}", services(context).payloads)


async def on_topics(update: Update, context: Context) -> None:
    """/topics: the article titles, in the chat's language where available."""
    chat = update.effective_chat
    if chat is None:
        return
    shared = services(context)
    language = chat_language(update, context)
    titles = await asyncio.to_thread(shared.topics.titles, language or "mr")
    if not titles:
        await send_text(context.bot, chat.id, say("no_topics", language), shared.payloads)
        return
    lines = [say("topics_header", language, " / ")]
    lines += [f"{number}. {title}" for number, title in enumerate(titles, 1)]
    lines.append(say("topics_footer", language, " / "))
    await send_text(context.bot, chat.id, "\n".join(lines), shared.payloads)


async def on_unknown_command(update: Update, context: Context) -> None:
    """An unknown /command: say so, and list the commands."""
    chat = update.effective_chat
    if chat is None:
        return
    language = chat_language(update, context)
    reply = f"{say('unknown_command', language, ' ')}\n{say('commands', language)}"
    await send_text(context.bot, chat.id, reply, services(context).payloads)


async def on_text(update: Update, context: Context) -> None:
    """A typed message: to Rasa (a leading "/" is dropped so text cannot pose as a payload),
    with personal data masked and its length capped (:func:`samvad.accept`), so Rasa's tracker
    store never holds personal numbers and a pasted text costs what a question costs; the
    citizen is told when the rest was left out."""
    message = update.effective_message
    if message is None or not message.text:
        return
    accepted = accept(message.text.strip().lstrip("/").strip())
    if accepted.cut and update.effective_chat is not None:
        language = chat_language(update, context) or script_language(accepted.text)
        notice = say("message_cut", language).format(limit=MAX_MESSAGE_CHARS)
        await send_text(context.bot, update.effective_chat.id, notice, services(context).payloads)
    if accepted.text:
        await ask_rasa(update, context, accepted.text)
    elif update.effective_chat is not None:  # only slashes or spaces: still a reply
        language = chat_language(update, context)
        await send_text(
            context.bot,
            update.effective_chat.id,
            say("not_understood", language),
            services(context).payloads,
        )


async def on_non_text(update: Update, context: Context) -> None:
    """Voice, photo, sticker, document, location…: ask for text, politely."""
    chat = update.effective_chat
    if chat is None:
        return
    language = chat_language(update, context)
    await send_text(context.bot, chat.id, say("text_only", language), services(context).payloads)


def _intent(payload: str) -> str:
    return payload.split("{", 1)[0]


async def _remove_pressed(update: Update, context: Context, payload: str) -> None:
    """Take the pressed button (and its siblings of the same kind) off the message."""
    query = update.callback_query
    if query is None or not isinstance(query.message, Message):
        return
    markup = query.message.reply_markup
    if markup is None:
        return
    shared = services(context)
    rows = []
    for row in markup.inline_keyboard:
        kept = [
            button
            for button in row
            if not (
                isinstance(button.callback_data, str)
                and _intent(shared.payloads.payload(button.callback_data) or "") == _intent(payload)
            )
        ]
        if kept:
            rows.append(kept)
    try:
        await query.edit_message_reply_markup(InlineKeyboardMarkup(rows) if rows else None)
    except TelegramError as exc:
        logger.debug("could not update the pressed message's buttons: %s", exc)


async def on_button(update: Update, context: Context) -> None:
    """A button press: its payload goes to Rasa, as if the citizen had said it."""
    query = update.callback_query
    chat = update.effective_chat
    if query is None or chat is None:
        return
    shared = services(context)
    payload = shared.payloads.payload(query.data or "")
    await stop_spinner(update)
    if payload is None or not ALLOWED_PAYLOAD.fullmatch(payload):
        language = chat_language(update, context)
        await send_text(context.bot, chat.id, say("button_expired", language), shared.payloads)
        return
    await _remove_pressed(update, context, payload)
    if payload.startswith("/choose_language{"):
        chosen: Lang | None = None
        with contextlib.suppress(ValueError, AttributeError):
            chosen = as_language(json.loads(payload[16:]).get("language"))
        await keep_language(update, context, chosen)
    await ask_rasa(update, context, payload)


async def flood_guard(update: Update, context: Context) -> None:
    """Runs before every other handler: drops a user's updates over the flood limit."""
    user = update.effective_user
    chat = update.effective_chat
    if user is None:
        return
    shared = services(context)
    typed = update.message  # a citizen's own message (a button press costs one unit)
    cost = message_cost(typed.text or typed.caption or "") if typed is not None else 1
    if shared.flood.allow(user.id, cost):
        return
    logger.info("flood limit reached; an update was dropped")
    await stop_spinner(update)
    if chat is not None and shared.flood.should_warn(user.id):
        language = chat_language(update, context)
        try:
            await send_text(context.bot, chat.id, say("flood", language), shared.payloads)
        except TelegramError as exc:  # the update is dropped all the same; no apology
            logger.warning("could not send the flood notice: %s", exc)
    raise ApplicationHandlerStop


async def on_error(update: object, context: Context) -> None:
    """Log the error; tell the citizen, in their language, that something went wrong."""
    logger.error("error while handling an update", exc_info=context.error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    language = chat_language(update, context)
    try:
        await context.bot.send_message(update.effective_chat.id, say("error", language))
    except TelegramError as exc:
        logger.warning("could not tell the user about the error: %s", exc)
