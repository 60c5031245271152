"""``python -m bot``: Samvad on Telegram (long polling, or a webhook when one is configured).

Without ``TELEGRAM_BOT_TOKEN`` it opens a local chat in the terminal instead, through the same
Rasa REST channel. To start the action server and Rasa as well, use ``python -m bot.supervisor``.
"""

from __future__ import annotations

import logging
import sys
from urllib.parse import urlparse

from telegram import Update

from bot.app import build_application
from bot.logs import configure_logging
from samvad import Settings, SettingsError

logger = logging.getLogger("bot")


def main() -> int:
    """Run the bot until it is stopped (Ctrl-C or SIGTERM)."""
    try:
        config = Settings.from_env()
    except SettingsError as exc:
        print(f"samvad bot: {exc}", file=sys.stderr)
        return 2
    configure_logging(config.log_level, [config.token, config.webhook_secret])
    if not config.token:
        from bot.local_chat import run_local_chat

        return run_local_chat(config)
    application = build_application(config)
    if config.webhook and config.webhook_url and config.webhook_secret:
        logger.info("receiving updates by webhook on %s:%d", config.webhook_listen,
                    config.webhook_port)  # fmt: skip
        try:
            application.run_webhook(
                listen=config.webhook_listen,
                port=config.webhook_port,
                url_path=urlparse(config.webhook_url).path.lstrip("/"),
                webhook_url=config.webhook_url,
                secret_token=config.webhook_secret,
                allowed_updates=Update.ALL_TYPES,
            )
        except RuntimeError as exc:
            print(f"samvad bot: webhook mode needs python-telegram-bot[webhooks]: {exc}",
                  file=sys.stderr)  # fmt: skip
            return 2
    else:
        logger.info("receiving updates by long polling")
        application.run_polling(allowed_updates=Update.ALL_TYPES)
    return 0


if __name__ == "__main__":
    sys.exit(main())
