"""Build the python-telegram-bot ``Application`` with Samvad's handlers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from telegram import BotCommand, Update
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import handlers, notices, privacy, staff
from bot.flood import FloodLimiter
from bot.rasa_client import RasaClient, load_salt
from samvad import COMMANDS, CatalogReader, Outbox, Settings, Subscriptions, TopicsReader

logger = logging.getLogger(__name__)

SamvadApplication = Application[Any, Any, Any, Any, Any, Any]


def rate_limiter() -> AIORateLimiter | None:
    """Telegram's flood limits, when ``aiolimiter`` (PTB's ``rate-limiter`` extra) is installed."""
    try:
        return AIORateLimiter(max_retries=3)
    except RuntimeError:
        logger.warning(
            "aiolimiter is not installed: running without AIORateLimiter "
            "(install python-telegram-bot[rate-limiter])"
        )
        return None


def commands(language: str) -> list[BotCommand]:
    """The command menu in ``language``."""
    return [BotCommand(name, names[language]) for name, names in COMMANDS.items()]  # type: ignore[index]


async def _post_init(application: SamvadApplication) -> None:
    config: Settings = application.bot_data["config"]
    me = application.bot.bot
    logger.info("connected to Telegram as @%s", me.username)
    await application.bot.set_my_commands(commands("en"))
    await application.bot.set_my_commands(commands("mr"), language_code="mr")
    rasa: RasaClient = application.bot_data["services"].rasa
    if not await rasa.healthy():
        logger.warning(
            "Rasa at %s is not answering yet; replies will apologise", ", ".join(rasa.base_urls)
        )
    async with notices.staff_lock(application.bot_data):
        await asyncio.to_thread(notices.seed_known_articles, application.bot_data)
    sender = notices.NoticeSender(application)
    application.bot_data["notice_sender"] = sender
    await sender.start()
    if config.staff_ids:
        logger.info("%d staff member(s) configured", len(config.staff_ids))
        application.bot_data["validation_task"] = asyncio.create_task(
            staff.watch_validation(application, config)
        )
        application.bot_data["new_articles_task"] = asyncio.create_task(
            notices.watch_new_articles(application, config)
        )
    if config.ready_file is not None:
        config.ready_file.write_text("ready\n", encoding="utf-8")


async def _post_stop(application: SamvadApplication) -> None:
    """Before the bot's connection closes: deliveries in flight finish and are marked."""
    sender = application.bot_data.get("notice_sender")
    if isinstance(sender, notices.NoticeSender):
        await sender.stop()


async def _post_shutdown(application: SamvadApplication) -> None:
    for name in ("validation_task", "new_articles_task"):
        task = application.bot_data.get(name)
        if isinstance(task, asyncio.Task):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    await application.bot_data["services"].rasa.aclose()


def build_application(config: Settings) -> SamvadApplication:
    """The bot, ready for ``run_polling`` / ``run_webhook``."""
    if not config.token:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    builder: ApplicationBuilder[Any, Any, Any, Any, Any, Any] = ApplicationBuilder().token(
        config.token
    )
    if config.base_url:
        base = config.base_url.rstrip("/")
        builder = builder.base_url(base).base_file_url(base.removesuffix("/bot") + "/file/bot")
    limiter = rate_limiter()
    if limiter is not None:
        builder = builder.rate_limiter(limiter)
    application: SamvadApplication = (
        builder.concurrent_updates(config.concurrent_updates)
        .post_init(_post_init)
        .post_stop(_post_stop)
        .post_shutdown(_post_shutdown)
        .build()
    )
    application.bot_data["config"] = config
    application.bot_data["services"] = handlers.Services(
        rasa=RasaClient(config.rasa_urls, timeout=config.rasa_timeout, token=config.rasa_token),
        topics=CatalogReader(config.index_dir),
        flood=FloodLimiter(config.flood_messages, config.flood_seconds),
        salt=load_salt(config.data_dir, config.sender_salt),
        subscriptions=Subscriptions(config.data_dir),
        outbox=Outbox(config.data_dir),
        topic_file=TopicsReader(config.knowledge_dir),
    )
    add_handlers(application)
    return application


# Commands run from new messages only: an edited "/forget" or "/start" is not sent again.
NEW_MESSAGES = filters.UpdateType.MESSAGE


def add_handlers(application: SamvadApplication) -> None:
    """Register Samvad's handlers (the flood guard first, in its own group)."""
    application.add_handler(TypeHandler(Update, handlers.flood_guard), group=-1)
    citizen_commands = {
        "start": handlers.on_start,
        "help": handlers.on_help,
        "lang": handlers.on_lang,
        "topics": handlers.on_topics,
        "privacy": privacy.on_privacy,
        "forget": privacy.on_forget,
        "subscribe": notices.on_subscribe,
        "unsubscribe": notices.on_unsubscribe,
        "mysubscriptions": notices.on_my_subscriptions,
    }
    for name, callback in citizen_commands.items():
        application.add_handler(CommandHandler(name, callback, filters=NEW_MESSAGES))
    application.add_handler(
        CallbackQueryHandler(privacy.on_forget_button, pattern=privacy.FORGET_PATTERN)
    )
    application.add_handler(
        CallbackQueryHandler(notices.on_button, pattern=handlers.NOTICE_PATTERN)
    )
    application.add_handler(
        ChatMemberHandler(notices.on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER)
    )
    application.add_handler(CallbackQueryHandler(handlers.on_button))
    config = application.bot_data.get("config")
    if isinstance(config, Settings) and config.staff_ids:
        staff.add_staff_handlers(application, config.staff_ids)
    only_new = filters.UpdateType.MESSAGE
    application.add_handler(MessageHandler(only_new & filters.COMMAND, handlers.on_unknown_command))
    forget_words = filters.Regex(privacy.FORGET_WORDS)
    application.add_handler(MessageHandler(only_new & forget_words, privacy.on_forget))
    application.add_handler(MessageHandler(only_new & filters.TEXT, handlers.on_text))
    application.add_handler(MessageHandler(only_new & ~filters.TEXT, handlers.on_non_text))
    application.add_error_handler(handlers.on_error)
