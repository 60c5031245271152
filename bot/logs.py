"""Logging that never shows secrets: the bot token and webhook secret are redacted everywhere.

httpx logs every request URL at INFO, and Telegram URLs contain the token
(``https://api.telegram.org/bot<token>/getUpdates``), so httpx/httpcore are lowered to WARNING
and every record passes through :class:`RedactingFilter` on the way out, then through
:class:`samvad.PersonalDataFilter` (Aadhaar and phone numbers, e-mail, PAN and vehicle numbers a
citizen typed become ``[aadhaar]``, ``[phone]``…; PTB logs whole updates at DEBUG).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from samvad import PersonalDataFilter

# Anything shaped like a Telegram bot token, even one we were not told about.
TOKEN_SHAPE = re.compile(r"(?<!\d)\d{5,16}:[A-Za-z0-9_-]{30,}")
REDACTED = "[REDACTED]"


class RedactingFilter(logging.Filter):
    """Replace the given secrets (and anything token-shaped) in messages and tracebacks."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        """``text`` with every secret replaced by ``[REDACTED]``."""
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return TOKEN_SHAPE.sub(REDACTED, text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def configure_logging(level: str = "INFO", secrets: Iterable[str | None] = ()) -> None:
    """Log to stderr with secrets redacted and personal data masked; keep httpx's per-request
    lines out of the log."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter(secrets))  # first: a token's digits look like a phone
    handler.addFilter(PersonalDataFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
