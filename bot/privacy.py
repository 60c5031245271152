"""Citizens' privacy on Telegram: what is kept (``/privacy``) and erasure (``/forget``).

``/forget`` (or typing "माझी माहिती पुसा" / "forget me", or the 🗑 button under the privacy
notice) asks once for confirmation with two buttons; "yes" deletes the citizen's questions,
picks and feedback and their Rasa conversation (:func:`samvad.forget_citizen`), forgets what
the bot itself remembers of the chat, replies in the citizen's language with the number of
records removed, and records the erasure in the audit with counts only. The buttons carry
``samvad:forget:yes`` / ``samvad:forget:no`` (and the notice's button ``samvad:forget:ask``),
which the bot handles itself and never sends to Rasa.
"""

from __future__ import annotations

import asyncio
import logging
import re

from telegram import Update
from telegram.error import TelegramError

from bot.handlers import (
    Context,
    chat_language,
    privacy_notice,
    send_html,
    services,
    stop_spinner,
)
from bot.rasa_client import sender_id
from bot.render import Button, button_rows, escape, keyboard
from samvad import (
    QuestionLog,
    Settings,
    conversation_store,
    forget_citizen,
    record_erasure,
    say,
)

logger = logging.getLogger(__name__)

FORGET_ASK = "samvad:forget:ask"
FORGET_YES = "samvad:forget:yes"
FORGET_NO = "samvad:forget:no"
FORGET_PATTERN = re.compile(r"^samvad:forget:(ask|yes|no)$")
# Typed requests to erase (the command itself is /forget).
FORGET_WORDS = re.compile(
    r"^\s*(माझी\s+माहिती\s+(पुसा|हटवा|काढा)|माहिती\s+पुसा|forget\s+me|erase\s+my\s+data|"
    r"delete\s+my\s+data)\s*[.!]?\s*$",
    re.IGNORECASE,
)


def _settings(context: Context) -> Settings:
    settings: Settings = context.bot_data["config"]
    return settings


async def on_privacy(update: Update, context: Context) -> None:
    """/privacy: the notice, with the erase button."""
    chat = update.effective_chat
    if chat is None:
        return
    language = chat_language(update, context)
    notice = privacy_notice(context, language)
    button = Button(say("button_forget", language, " / "), payload=FORGET_ASK)
    markup = keyboard(button_rows([button]), services(context).payloads)
    await send_html(context.bot, chat.id, escape(notice), markup)


async def on_forget(update: Update, context: Context) -> None:
    """/forget or a typed request: ask to confirm, with a yes and a cancel button."""
    chat = update.effective_chat
    if chat is None:
        return
    language = chat_language(update, context)
    buttons = [
        Button(say("button_forget_yes", language, " / "), payload=FORGET_YES),
        Button(say("button_cancel", language, " / "), payload=FORGET_NO),
    ]
    markup = keyboard(button_rows(buttons), services(context).payloads)
    await send_html(context.bot, chat.id, escape(say("forget_confirm", language)), markup)


async def on_forget_button(update: Update, context: Context) -> None:
    """The confirmation's buttons: erase everything of this chat, or nothing."""
    query = update.callback_query
    chat = update.effective_chat
    if query is None or chat is None:
        return
    await stop_spinner(update)
    if query.data == FORGET_ASK:
        await on_forget(update, context)
        return
    try:
        await query.edit_message_reply_markup(None)
    except TelegramError as exc:
        logger.debug("could not remove the confirmation buttons: %s", exc)
    language = chat_language(update, context)
    if query.data != FORGET_YES:
        await send_html(context.bot, chat.id, escape(say("forget_cancelled", language)))
        return
    settings = _settings(context)
    sender = sender_id(chat.id, services(context).salt)
    log = QuestionLog(settings.data_dir, settings.user_salt)
    erased = await asyncio.to_thread(
        forget_citizen,
        settings.data_dir,
        conversation_store(settings),
        log.user_hash(sender) or "",
        sender,
    )
    await asyncio.to_thread(record_erasure, settings.data_dir, erased)
    if context.chat_data is not None:
        context.chat_data.clear()
    logger.info("a citizen's data was erased on request: %s", erased.summary())
    done = say("forget_done", language).format(count=erased.total)
    await send_html(context.bot, chat.id, escape(done))
