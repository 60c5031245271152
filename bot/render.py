"""Turn Rasa's REST replies into safe Telegram messages (HTML parse mode).

- Every text is HTML-escaped; only the markup added here is real markup.
- The engine's source line (``Source: <title> (<date>)``, ``स्रोत: …``) becomes a bold label, the
  title (a link when the article has a web address) and the date written out in the line's
  language (``29 November 2026`` / ``२९ नोव्हेंबर २०२६``). When the engine was unsure and offers
  articles, their numbered lines (``1. <title> (<date>)``) get the same treatment.
- Texts longer than Telegram's 4,096 characters are split at sentence ends (। ॥ . ? !), else at
  line breaks, else between words; the buttons go with the last part.
- Rasa buttons become an inline keyboard whose ``callback_data`` is the Rasa payload. Telegram
  allows 64 bytes of callback data: a longer payload is kept in a :class:`PayloadStore` and
  the button carries a short key instead.
- A message that is only Rasa ``custom`` JSON (the answer's facts) is not shown; its facts
  (language, sources) are attached to the text before it.
"""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.texts import Lang, as_language, script_language

TELEGRAM_TEXT_LIMIT = 4096
CALLBACK_DATA_LIMIT = 64
# Room for what rendering adds to a part (the 📄 before the source line).
RENDER_MARGIN = 16

MONTHS: dict[Lang, tuple[str, ...]] = {
    "en": (
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ),
    "mr": (
        "जानेवारी", "फेब्रुवारी", "मार्च", "एप्रिल", "मे", "जून",
        "जुलै", "ऑगस्ट", "सप्टेंबर", "ऑक्टोबर", "नोव्हेंबर", "डिसेंबर",
    ),
}  # fmt: skip
SOURCE_LABELS: dict[str, Lang] = {"Source": "en", "स्रोत": "mr"}
_DEVANAGARI_DIGITS = str.maketrans("0123456789", "०१२३४५६७८९")
_SOURCE_LINE = re.compile(
    r"^(?:🔗\s*)?(?P<label>Source|स्रोत):\s*(?P<title>.+?)\s*\((?P<date>\d{4}-\d{2}-\d{2})\)\s*$"
)
_URL_LINE = re.compile(r"^(?:🔗\s*)?(?:(?:Source|स्रोत):\s*)?(?P<url>https?://\S+)\s*$")
# "1. <title> (<date>)": an article the engine offers when it is not sure.
OFFER_LINE = re.compile(r"^(?P<n>\d)\. (?P<title>.+?) \((?P<date>\d{4}-\d{2}-\d{2})\)$")
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
# A sentence ends at । ॥ . ? ! (plus closing quotes or brackets) followed by white space.
_SENTENCE_END = re.compile("(?<=[।॥.?!])[\"'\u201d\u2019)\\]]*[ \\t]+|\\n+")
_CLAUSE_END = re.compile("[,;:\u2014\u2013][ \\t]+")


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units: an emoji counts as two)."""
    return len(text.encode("utf-16-le")) // 2


def escape(text: str) -> str:
    """Escape text for Telegram's HTML parse mode."""
    return html.escape(text, quote=False)


def format_date(iso_date: str, language: Lang) -> str:
    """``2026-11-29`` → ``29 November 2026`` or ``२९ नोव्हेंबर २०२६``; other strings unchanged."""
    match = _DATE.match(iso_date.strip())
    if not match:
        return iso_date
    year, month, day = (int(part) for part in match.groups())
    if not 1 <= month <= 12 or not 1 <= day <= 31:
        return iso_date
    written = f"{day} {MONTHS[language][month - 1]} {year}"
    return written.translate(_DEVANAGARI_DIGITS) if language == "mr" else written


# --- splitting ----------------------------------------------------------------------------------


def _segments(text: str) -> list[str]:
    """Sentences (and lines), each keeping the white space that follows it."""
    pieces: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        pieces.append(text[start : match.end()])
        start = match.end()
    if start < len(text):
        pieces.append(text[start:])
    return pieces


def _safe_cut(text: str, cut: int) -> int:
    """Move a cut left so it does not separate a letter from its vowel signs or a surrogate."""
    while cut > 1 and unicodedata.category(text[cut]) in ("Mn", "Mc", "Me"):
        cut -= 1
    return cut


def _prefix_within(text: str, limit: int) -> int:
    """The largest number of characters of ``text`` whose UTF-16 length fits ``limit``."""
    used = 0
    for position, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > limit:
            return position
    return len(text)


def _cut_long_sentence(sentence: str, limit: int) -> tuple[str, str]:
    """Cut one over-long sentence: after a clause mark, else between words, else anywhere."""
    room = _prefix_within(sentence, limit)
    head = sentence[:room]
    clause = [m.end() for m in _CLAUSE_END.finditer(head)]
    if clause and clause[-1] > room // 2:
        cut = clause[-1]
    else:
        space = max(head.rfind(" "), head.rfind("\n"), head.rfind("\t"))
        cut = space + 1 if space > 0 else _safe_cut(sentence, room)
    return sentence[:cut], sentence[cut:]


def split_text(text: str, limit: int = TELEGRAM_TEXT_LIMIT) -> list[str]:
    """Split ``text`` into parts of at most ``limit`` UTF-16 units, at sentence ends if possible.

    Nothing is lost: joining the parts gives the text back up to the white space at the cuts.
    """
    if limit < 2:
        raise ValueError("limit too small")
    text = text.strip()
    if utf16_len(text) <= limit:
        return [text] if text else []
    parts: list[str] = []
    current = ""
    for segment in _segments(text):
        if utf16_len(current + segment.rstrip()) <= limit:
            current += segment
            continue
        if current.strip():
            parts.append(current.strip())
        current = segment
        while utf16_len(current.rstrip()) > limit:
            head, current = _cut_long_sentence(current, limit)
            parts.append(head.strip())
    if current.strip():
        parts.append(current.strip())
    return [p for p in parts if p]


# --- buttons ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Button:
    """One button: pressing sends ``payload`` to Rasa, or opens ``url``."""

    title: str
    payload: str | None = None
    url: str | None = None


class PayloadStore:
    """Keeps payloads too long for ``callback_data`` under short keys (most recent 10,000)."""

    PREFIX = "#"

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._payloads: OrderedDict[str, str] = OrderedDict()

    def callback_data(self, payload: str) -> str:
        """``payload`` itself when it fits in 64 bytes, else a key that :meth:`payload` resolves."""
        if len(payload.encode()) <= CALLBACK_DATA_LIMIT and not payload.startswith(self.PREFIX):
            return payload
        key = self.PREFIX + hashlib.sha256(payload.encode()).hexdigest()[:24]
        self._payloads[key] = payload
        self._payloads.move_to_end(key)
        while len(self._payloads) > self.capacity:
            self._payloads.popitem(last=False)
        return key

    def payload(self, data: str) -> str | None:
        """The payload a button's ``callback_data`` stands for (``None``: forgotten)."""
        if data.startswith(self.PREFIX):
            return self._payloads.get(data)
        return data


def button_rows(buttons: Sequence[Button]) -> list[list[Button]]:
    """Lay buttons out in rows: three short ones, two medium ones, or one long one per row."""
    rows: list[list[Button]] = []
    widest = max((len(b.title) for b in buttons), default=0)
    per_row = 3 if widest <= 12 else 2 if widest <= 20 else 1
    for button in buttons:
        if button.payload == "/more" or not rows or len(rows[-1]) >= per_row:
            rows.append([button])
        else:
            rows[-1].append(button)
        if button.payload == "/more":
            rows.append([])
    return [row for row in rows if row]


def keyboard(rows: Sequence[Sequence[Button]], store: PayloadStore) -> InlineKeyboardMarkup | None:
    """An inline keyboard for ``rows`` (``None`` when there are no buttons)."""
    keyboard_rows = []
    for row in rows:
        built = []
        for button in row:
            if button.url:
                built.append(InlineKeyboardButton(button.title, url=button.url))
            elif button.payload:
                built.append(
                    InlineKeyboardButton(
                        button.title, callback_data=store.callback_data(button.payload)
                    )
                )
        if built:
            keyboard_rows.append(built)
    return InlineKeyboardMarkup(keyboard_rows) if keyboard_rows else None


def _buttons(raw: Any) -> list[Button]:
    found: list[Button] = []
    if not isinstance(raw, list):
        return found
    for item in raw:
        if not isinstance(item, Mapping):
            continue
        title = str(item.get("title") or "").strip()
        payload = str(item.get("payload") or "").strip()
        if not title or not payload:
            continue
        if payload.startswith(("https://", "http://")):
            found.append(Button(title, url=payload))
        else:
            found.append(Button(title, payload=payload))
    return found


# --- messages -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Facts:
    """What Rasa's custom JSON says about an answer (``custom.samvad``)."""

    language: Lang | None = None
    abstained: bool = False
    kind: str = ""
    sources: tuple[Mapping[str, Any], ...] = ()
    suggestions: tuple[str, ...] = ()

    @classmethod
    def from_custom(cls, custom: Any) -> Facts | None:
        """Read ``{"samvad": {...}}``; ``None`` when it is something else."""
        if not isinstance(custom, Mapping) or not isinstance(custom.get("samvad"), Mapping):
            return None
        facts = custom["samvad"]
        sources = facts.get("sources")
        suggestions = facts.get("suggestions")
        return cls(
            language=as_language(facts.get("language")),
            abstained=bool(facts.get("abstained")),
            kind=str(facts.get("kind") or ""),
            sources=tuple(s for s in sources if isinstance(s, Mapping))
            if isinstance(sources, list)
            else (),
            suggestions=tuple(str(s) for s in suggestions) if isinstance(suggestions, list) else (),
        )


@dataclass
class Reply:
    """One Rasa text message with its buttons and the facts that came with it."""

    text: str
    buttons: list[Button] = field(default_factory=list)
    facts: Facts | None = None

    @property
    def language(self) -> Lang | None:
        """The reply's language: from the facts, else from its script."""
        if self.facts is not None and self.facts.language is not None:
            return self.facts.language
        return script_language(self.text)


def read_replies(messages: Sequence[Mapping[str, Any]]) -> list[Reply]:
    """Rasa REST messages → replies; custom JSON attaches to the text message it follows."""
    replies: list[Reply] = []
    for message in messages:
        if not isinstance(message, Mapping):
            continue
        text = message.get("text")
        facts = Facts.from_custom(message.get("custom"))
        if isinstance(text, str) and text.strip():
            replies.append(Reply(text.strip(), _buttons(message.get("buttons")), facts))
        elif facts is not None and replies and replies[-1].facts is None:
            replies[-1].facts = facts
        elif message.get("buttons") and replies:
            replies[-1].buttons.extend(_buttons(message.get("buttons")))
    return replies


def _source_url(facts: Facts | None) -> str | None:
    if facts is None or not facts.sources:
        return None
    url = facts.sources[0].get("source_url")
    return url if isinstance(url, str) and url.startswith(("https://", "http://")) else None


def render_html(text: str, facts: Facts | None = None) -> str:
    """HTML for one text part: escaped, with the source line formatted (and linked)."""
    lines = text.split("\n")
    url = _source_url(facts)
    source_at = next((i for i, line in enumerate(lines) if _SOURCE_LINE.match(line)), None)
    if source_at is not None:
        for i in range(source_at + 1, len(lines)):
            found = _URL_LINE.match(lines[i])
            if found:
                url = url or found.group("url")
                if found.group("url") == url:
                    lines[i] = "\0"  # shown as the title's link instead
    offers = facts is not None and bool(facts.suggestions)
    offer_language = (facts.language if facts else None) or script_language(text) or "en"
    out: list[str] = []
    for i, line in enumerate(lines):
        if line == "\0":
            continue
        offered = OFFER_LINE.match(line) if offers else None
        if offered is not None:
            date = escape(format_date(offered.group("date"), offer_language))
            out.append(f"{offered.group('n')}. <i>{escape(offered.group('title'))}</i> · {date}")
            continue
        match = _SOURCE_LINE.match(line) if i == source_at else None
        if match is None:
            out.append(escape(line))
            continue
        lang = SOURCE_LABELS[match.group("label")]
        title = escape(match.group("title"))
        if url:
            title = f'<a href="{html.escape(url, quote=True)}">{title}</a>'
        date = escape(format_date(match.group("date"), lang))
        out.append(f"📄 <b>{escape(match.group('label'))}:</b> <i>{title}</i> · {date}")
    return "\n".join(out)


@dataclass(frozen=True)
class Outgoing:
    """One Telegram message ready to send."""

    html: str
    rows: tuple[tuple[Button, ...], ...] = ()


def render_reply(reply: Reply, limit: int = TELEGRAM_TEXT_LIMIT) -> list[Outgoing]:
    """One reply → one or more messages; the keyboard goes with the last one."""
    parts = split_text(reply.text, limit - RENDER_MARGIN)
    rows = tuple(tuple(row) for row in button_rows(reply.buttons))
    return [
        Outgoing(render_html(part, reply.facts), rows if i == len(parts) - 1 else ())
        for i, part in enumerate(parts)
    ]


def render_replies(
    messages: Sequence[Mapping[str, Any]], limit: int = TELEGRAM_TEXT_LIMIT
) -> tuple[list[Outgoing], Lang | None]:
    """All of Rasa's messages → Telegram messages, and the language they are in (if clear)."""
    replies = read_replies(messages)
    outgoing = [part for reply in replies for part in render_reply(reply, limit)]
    languages = {reply.language for reply in replies} - {None}
    language = languages.pop() if len(languages) == 1 else None
    return outgoing, language
