"""The bot's settings, read from environment variables (none is required).

- ``TELEGRAM_BOT_TOKEN``: the token from @BotFather; without it ``python -m bot`` opens a
  local chat in the terminal instead.
- ``SAMVAD_RASA_URL`` (``http://127.0.0.1:5005``): the Rasa server's REST channel.
- ``SAMVAD_RASA_TIMEOUT`` (30): seconds to wait for Rasa before apologising to the citizen.
- ``SAMVAD_TELEGRAM_BASE_URL``: Bot API base URL, e.g. ``http://127.0.0.1:PORT/bot`` for an
  emulator (default: Telegram's).
- ``SAMVAD_WEBHOOK_URL`` + ``SAMVAD_WEBHOOK_SECRET``: both set = webhook mode instead of long
  polling; ``SAMVAD_WEBHOOK_LISTEN`` (127.0.0.1) and ``SAMVAD_WEBHOOK_PORT`` (8443) say where
  the webhook server listens (behind a TLS reverse proxy).
- ``SAMVAD_FLOOD_MESSAGES`` (12) per ``SAMVAD_FLOOD_SECONDS`` (60): the per-user flood limit.
- ``SAMVAD_CONCURRENT_UPDATES`` (64): updates handled at once (one chat's stay in order).
- ``SAMVAD_SENDER_SALT``: salt of the chat-id hash sent to Rasa (default: a random salt kept
  in ``SAMVAD_DATA_DIR``).
- ``SAMVAD_LOG_LEVEL`` (INFO); ``SAMVAD_READY_FILE``: written once connected (supervisor).
- ``SAMVAD_STAFF_IDS``: comma-separated Telegram user ids of staff (``/stats``, ``/unanswered``,
  ``/reload``, ``/check``, adding articles); empty = nobody.
- ``SAMVAD_STAFF_CHECK_SECONDS`` (5): how often the bot looks for knowledge files that fail
  validation, to tell staff.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from samvad.settings import Settings

DEFAULT_RASA_URL = "http://127.0.0.1:5005"


class ConfigError(ValueError):
    """A setting has an unusable value."""


def _number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number, not {raw!r}") from exc
    if value <= 0:
        raise ConfigError(f"{name} must be positive")
    return value


def staff_ids(raw: str) -> frozenset[int]:
    """The staff user ids in ``SAMVAD_STAFF_IDS`` ("123, 456")."""
    ids = set()
    for part in raw.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if not part.lstrip("-").isdigit():
            raise ConfigError(f"SAMVAD_STAFF_IDS must be Telegram user ids (numbers), not {part!r}")
        ids.add(int(part))
    return frozenset(ids)


@dataclass(frozen=True)
class BotConfig:
    """What the bot needs to run; :meth:`from_env` reads it from the environment."""

    token: str | None = None
    rasa_url: str = DEFAULT_RASA_URL
    rasa_timeout: float = 30.0
    base_url: str | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    flood_messages: int = 12
    flood_seconds: float = 60.0
    concurrent_updates: int = 64
    sender_salt: str | None = None
    data_dir: Path = Path("var")
    index_dir: Path = Path("var/index")
    log_level: str = "INFO"
    ready_file: Path | None = None
    knowledge_dir: Path = Path("knowledge")
    staff_ids: frozenset[int] = frozenset()
    staff_check_seconds: float = 5.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> BotConfig:
        """Read the settings from ``env`` (default ``os.environ``)."""
        env = os.environ if env is None else env
        engine = Settings.from_env(env)

        def text(name: str) -> str | None:
            return env.get(name, "").strip() or None

        webhook_url, webhook_secret = text("SAMVAD_WEBHOOK_URL"), text("SAMVAD_WEBHOOK_SECRET")
        if bool(webhook_url) != bool(webhook_secret):
            raise ConfigError("set both SAMVAD_WEBHOOK_URL and SAMVAD_WEBHOOK_SECRET, or neither")
        ready = text("SAMVAD_READY_FILE")
        return cls(
            token=text("TELEGRAM_BOT_TOKEN"),
            rasa_url=(text("SAMVAD_RASA_URL") or DEFAULT_RASA_URL).rstrip("/"),
            rasa_timeout=_number(env, "SAMVAD_RASA_TIMEOUT", 30.0),
            base_url=text("SAMVAD_TELEGRAM_BASE_URL"),
            webhook_url=webhook_url,
            webhook_secret=webhook_secret,
            webhook_listen=text("SAMVAD_WEBHOOK_LISTEN") or "127.0.0.1",
            webhook_port=int(_number(env, "SAMVAD_WEBHOOK_PORT", 8443)),
            flood_messages=int(_number(env, "SAMVAD_FLOOD_MESSAGES", 12)),
            flood_seconds=_number(env, "SAMVAD_FLOOD_SECONDS", 60.0),
            concurrent_updates=int(_number(env, "SAMVAD_CONCURRENT_UPDATES", 64)),
            sender_salt=text("SAMVAD_SENDER_SALT"),
            data_dir=engine.data_dir,
            index_dir=engine.index_dir,
            log_level=(text("SAMVAD_LOG_LEVEL") or "INFO").upper(),
            ready_file=Path(ready) if ready else None,
            knowledge_dir=engine.knowledge_dir,
            staff_ids=staff_ids(env.get("SAMVAD_STAFF_IDS", "")),
            staff_check_seconds=_number(env, "SAMVAD_STAFF_CHECK_SECONDS", 5.0),
        )

    @property
    def webhook(self) -> bool:
        """Whether to receive updates by webhook (else long polling)."""
        return self.webhook_url is not None and self.webhook_secret is not None

    def __repr__(self) -> str:  # never show the token or the secrets
        return (
            f"BotConfig(rasa_url={self.rasa_url!r}, base_url={self.base_url!r}, "
            f"webhook={self.webhook}, token={'set' if self.token else 'unset'})"
        )
