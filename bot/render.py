"""Turn Rasa's REST replies into safe Telegram messages (HTML parse mode).

- An answer from the engine arrives as Rasa ``custom`` JSON (``{"samvad": …}``, read with
  :func:`samvad.from_json`) next to its plain text; it is rendered from that structure: the
  sentences, then a bold source label, the title (a link when the article has a web address)
  and the date written out in the answer's language (``29 November 2026`` /
  ``२९ नोव्हेंबर २०२६``); offered articles as a numbered list. The plain text Rasa sent with it
  is not read. Any other message (small talk from ``domain.yml``) is shown as its text.
- Every text is HTML-escaped; only the markup added here is real markup.
- Texts longer than Telegram's 4,096 characters are split at sentence ends (। ॥ . ? !), else at
  line breaks, else between words; the buttons go with the last part.
- Rasa buttons become an inline keyboard whose ``callback_data`` is the Rasa payload. Telegram
  allows 64 bytes of callback data: a longer payload is kept in a :class:`PayloadStore` and
  the button carries a short key instead.
"""

from __future__ import annotations

import hashlib
import html
import logging
import re
import unicodedata
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from samvad import (
    Answer,
    Lang,
    ReplyFormatError,
    Summary,
    from_json,
    refusal_text,
    script_language,
    text,
    written_date,
)

TELEGRAM_TEXT_LIMIT = 4096
CALLBACK_DATA_LIMIT = 64
# Room for what rendering adds to a part (the 📄 before the source line).
RENDER_MARGIN = 16

# A sentence ends at । ॥ . ? ! (plus closing quotes or brackets) followed by white space.
_SENTENCE_END = re.compile("(?<=[।॥.?!])[\"'\u201d\u2019)\\]]*[ \\t]+|\\n+")
_CLAUSE_END = re.compile("[,;:\u2014\u2013][ \\t]+")


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units: an emoji counts as two)."""
    return len(text.encode("utf-16-le")) // 2


def escape(text: str) -> str:
    """Escape text for Telegram's HTML parse mode."""
    return html.escape(text, quote=False)


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


logger = logging.getLogger(__name__)


@dataclass
class Reply:
    """One Rasa text message with its buttons and, for the engine's answers, the answer."""

    text: str
    buttons: list[Button] = field(default_factory=list)
    answer: Answer | None = None
    # Buttons the bot adds itself (e.g. "tell me about new notices"), one row each, below.
    footer: list[Button] = field(default_factory=list)

    @property
    def language(self) -> Lang | None:
        """The reply's language: the answer's, else its script's."""
        if self.answer is not None:
            return self.answer.language
        return script_language(self.text)


def _answer(custom: Any) -> Answer | None:
    """The engine's answer in a message's custom JSON (``None``: none, or not understood)."""
    if not isinstance(custom, Mapping) or "samvad" not in custom:
        return None
    try:
        return from_json(custom["samvad"])
    except ReplyFormatError as exc:
        logger.warning("an answer in a format this bot does not read: %s", exc)
        return None


def read_replies(messages: Sequence[Mapping[str, Any]]) -> list[Reply]:
    """Rasa REST messages → replies; an answer's custom JSON attaches to the text before it."""
    replies: list[Reply] = []
    for message in messages:
        if not isinstance(message, Mapping):
            continue
        body = message.get("text")
        answer = _answer(message.get("custom"))
        if isinstance(body, str) and body.strip():
            replies.append(Reply(body.strip(), _buttons(message.get("buttons")), answer))
        elif answer is not None and replies and replies[-1].answer is None:
            replies[-1].answer = answer
        elif answer is not None:
            replies.append(Reply("", [], answer))
        elif message.get("buttons") and replies:
            replies[-1].buttons.extend(_buttons(message.get("buttons")))
    return replies


# A title longer than this is cut when shown (a staff typo must not break a message's limit).
TITLE_SHOWN = 300


def _title(title: str) -> str:
    return title if len(title) <= TITLE_SHOWN else title[: TITLE_SHOWN - 1].rstrip() + "…"


def _citation_html(answer: Answer) -> str:
    """The source line (bold label, title linked to its address, date written out) and the
    other-language note."""
    cited = answer.citation
    if cited is None:
        return ""
    lang = answer.language
    title = escape(_title(cited.title))
    if cited.source_url and cited.source_url.startswith(("https://", "http://")):
        title = f'<a href="{html.escape(cited.source_url, quote=True)}">{title}</a>'
    date = escape(written_date(cited.date, lang))
    line = f"📄 <b>{escape(text('source', lang))}:</b> <i>{title}</i> · {date}"
    if cited.other_language:
        line += "\n" + escape(text("other_language_note", lang))
    return line


def answer_body(answer: Answer) -> str:
    """The answer's own words as plain text, before any citation: the sentences, the "not
    sure" sentence, or the refusal."""
    if answer.outcome == "answered":
        return " ".join(answer.sentences)
    if answer.outcome == "offered":
        return text("offered", answer.language)
    if answer.outcome == "refused":
        return refusal_text(answer)
    return text("empty", answer.language)


def _offers_html(answer: Answer) -> list[str]:
    lang = answer.language
    return [
        f"{n}. <i>{escape(_title(o.title))}</i> · {escape(written_date(o.date, lang))}"
        for n, o in enumerate(answer.offers, start=1)
    ]


@dataclass(frozen=True)
class Outgoing:
    """One Telegram message ready to send."""

    html: str
    rows: tuple[tuple[Button, ...], ...] = ()


def parse_visible(markup: str) -> str:
    """The text a citizen sees of an HTML line Samvad made (its tags off, entities undone)."""
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


def _parts(body: str, tail: list[str], limit: int) -> list[str]:
    """HTML parts: ``body`` (plain text) split and escaped, then the ``tail`` lines (HTML)
    added to the last part while it fits, else in parts of their own."""
    parts = [escape(p) for p in split_text(body, limit - RENDER_MARGIN)]
    for line in tail:
        if utf16_len(line) > limit:  # an unusual date or title: shown cut, never over the limit
            line = escape(split_text(parse_visible(line), limit - RENDER_MARGIN)[0])
        joiner = "\n\n" if parts and line.startswith("📄") else "\n"
        if parts and utf16_len(parts[-1] + joiner + line) <= limit:
            parts[-1] += joiner + line
        else:
            parts.append(line)
    return parts


def render_reply(reply: Reply, limit: int = TELEGRAM_TEXT_LIMIT) -> list[Outgoing]:
    """One reply → one or more messages; the keyboard goes with the last one."""
    answer = reply.answer
    if answer is None:
        parts = _parts(reply.text, [], limit)
    else:
        tail = _offers_html(answer) if answer.outcome == "offered" else []
        citation = _citation_html(answer) if answer.outcome == "answered" else ""
        parts = _parts(answer_body(answer), [*tail, citation] if citation else tail, limit)
    if not parts and reply.buttons:  # buttons need a message to go with
        fallback = reply.text or text("empty", reply.language or "mr")
        parts = [escape(p) for p in split_text(fallback, limit - RENDER_MARGIN)]
    rows = tuple(tuple(row) for row in button_rows(reply.buttons))
    rows += tuple((button,) for button in reply.footer)
    return [Outgoing(part, rows if i == len(parts) - 1 else ()) for i, part in enumerate(parts)]


def notice_html(summary: Summary, other_language: bool, topic: str, language: Lang) -> str:
    """A notice to a subscriber: the header (with the topic), the article's first sentences,
    the source line (title linked, date written out) and, when the article is not in the
    subscriber's ``language``, the note saying so. Labels are in ``language``."""
    title = escape(_title(summary.title))
    if summary.source_url and summary.source_url.startswith(("https://", "http://")):
        title = f'<a href="{html.escape(summary.source_url, quote=True)}">{title}</a>'
    date = escape(written_date(summary.date, language))
    lines = [
        f"<b>{escape(text('notice_header', language))} · {escape(topic)}</b>",
        "",
        escape(" ".join(summary.sentences) or summary.title),
        "",
        f"📄 <b>{escape(text('source', language))}:</b> <i>{title}</i> · {date}",
    ]
    if other_language:
        lines.append(escape(text("notice_other_language", language)))
    return "\n".join(lines)


def render_replies(
    messages: Sequence[Mapping[str, Any]], limit: int = TELEGRAM_TEXT_LIMIT
) -> tuple[list[Outgoing], Lang | None]:
    """All of Rasa's messages → Telegram messages, and the language they are in (if clear)."""
    replies = read_replies(messages)
    outgoing = [part for reply in replies for part in render_reply(reply, limit)]
    languages = {reply.language for reply in replies} - {None}
    language = languages.pop() if len(languages) == 1 else None
    return outgoing, language
