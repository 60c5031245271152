"""A small Telegram Bot API emulator on loopback, for the real python-telegram-bot code.

Why not the npm package ``telegram-test-api``: its 4.2.1 (latest) cannot serve PTB 22 — its
``getMe`` has no ``is_bot`` (PTB: ``User.__init__() missing ... 'is_bot'``), ``sendMessage``
returns dates in milliseconds (PTB: ``year 58880 is out of range``), and ``sendChatAction`` and
``setMyCommands`` are unknown methods (HTTP 500). Its ``getUpdates`` also ignores ``offset``
and ``timeout`` (no long polling). This emulator speaks the parts of the Bot API Samvad uses,
with Telegram's checks that matter for it:

- ``getFile`` and the file download URL (``/file/bot<token>/<file_path>``) for documents a
  user sent with :meth:`BotApiEmulator.send_document`;
- ``getMe``, ``getUpdates`` (``offset`` confirms, ``timeout`` long-polls, ``limit``),
  ``sendMessage``, ``sendChatAction``, ``answerCallbackQuery``, ``editMessageReplyMarkup``,
  ``editMessageText``, ``setMyCommands``/``getMyCommands``/``deleteMyCommands``,
  ``deleteWebhook``/``setWebhook``/``getWebhookInfo``, ``logOut``/``close``;
- a wrong token → 401; an unknown method → 404;
- ``sendMessage`` text: 1-4,096 characters after entity parsing; ``parse_mode=HTML`` must be
  well-formed with Telegram's tags only (else 400 "can't parse entities");
- inline buttons: ``callback_data`` 1-64 bytes, or a ``url``; a non-empty text.

The user side (what a citizen does) is called directly from the test: :meth:`send_text`,
:meth:`send_command`, :meth:`send_sticker`, :meth:`send_document`, :meth:`press_button`, and
the bot's messages are read with :meth:`wait_for_messages`. For fuzzing there are more kinds
of update: :meth:`send_photo`, :meth:`send_message_with` (any fields), :meth:`send_edited_text`,
:meth:`send_forwarded_text`, :meth:`send_forwarded_document`, :meth:`send_channel_post`,
:meth:`send_callback_data` (forged button presses) and :meth:`send_update` (anything).
Requests are served by a thread pool (stdlib ``ThreadingHTTPServer``), so it can be driven from
synchronous test code.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

ALLOWED_TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
     "tg-spoiler", "span", "blockquote", "tg-emoji"}
)  # fmt: skip
CHAT_ACTIONS = frozenset(
    {"typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
     "upload_document", "choose_sticker", "find_location", "record_video_note",
     "upload_video_note"}
)  # fmt: skip
JSON_FIELDS = frozenset({"reply_markup", "allowed_updates", "commands", "scope", "entities",
                         "link_preview_options", "reply_parameters"})  # fmt: skip


class ApiServer(ThreadingHTTPServer):
    """A thread per request, and a listen backlog the size of a burst: the stdlib's default of
    5 pending connections makes a burst of the bot's concurrent requests wait for TCP
    retransmits (seconds), which no real Bot API server does."""

    daemon_threads = True
    request_queue_size = 1024


class ApiError(Exception):
    """A Bot API error reply."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code, self.description = code, description


class _TelegramHtml(HTMLParser):
    """Checks Telegram HTML and collects the visible text and the links."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.links: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            raise ApiError(400, f"Bad Request: can't parse entities: Unsupported start tag {tag!r}")
        if tag == "a":
            href = dict(attrs).get("href")
            if not href:
                raise ApiError(400, "Bad Request: can't parse entities: a link without href")
            self.links.append(href)
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            raise ApiError(400, f"Bad Request: can't parse entities: unexpected end tag {tag!r}")
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse_html(text: str) -> tuple[str, list[str]]:
    """Visible text and links of Telegram HTML; raises :class:`ApiError` like Telegram."""
    parser = _TelegramHtml()
    parser.feed(text)
    parser.close()
    if parser.open:
        raise ApiError(400, f"Bad Request: can't parse entities: unclosed tag {parser.open[-1]!r}")
    return "".join(parser.text), parser.links


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, as Telegram counts."""
    return len(text.encode("utf-16-le")) // 2


@dataclass
class SentMessage:
    """A message the bot sent."""

    message_id: int
    chat_id: int
    text: str  # visible text (markup parsed)
    raw: str  # as sent
    parse_mode: str | None
    reply_markup: dict[str, Any] | None
    links: list[str] = field(default_factory=list)
    sent_at: float = 0.0

    @property
    def buttons(self) -> list[dict[str, Any]]:
        """All inline buttons, row by row."""
        if not self.reply_markup:
            return []
        return [b for row in self.reply_markup.get("inline_keyboard", []) for b in row]

    @property
    def callback_data(self) -> list[str]:
        """The callback data of its buttons."""
        return [b["callback_data"] for b in self.buttons if "callback_data" in b]

    def as_api(self, bot_user: dict[str, Any]) -> dict[str, Any]:
        """The Message object Telegram returns for it."""
        message: dict[str, Any] = {
            "message_id": self.message_id,
            "from": bot_user,
            "chat": {"id": self.chat_id, "type": "private", "first_name": "Citizen"},
            "date": int(self.sent_at),
            "text": self.text,
        }
        if self.reply_markup:
            message["reply_markup"] = self.reply_markup
        return message


def _check_markup(markup: Any) -> dict[str, Any] | None:
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    rows = markup.get("inline_keyboard")
    if rows is None:
        return markup
    for row in rows:
        for button in row:
            if not str(button.get("text", "")).strip():
                raise ApiError(
                    400, "Bad Request: text buttons are unallowed in the inline keyboard"
                )
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= 64:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
            if data is None and not button.get("url"):
                raise ApiError(400, "Bad Request: BUTTON_TYPE_INVALID")
    return markup


class BotApiEmulator:
    """The emulated Telegram: one bot token, any number of private chats."""

    def __init__(self, token: str, host: str = "127.0.0.1", port: int = 0) -> None:
        self.token = token
        self.bot_user = {
            "id": int(token.split(":", 1)[0]) if token.split(":", 1)[0].isdigit() else 1,
            "is_bot": True,
            "first_name": "Samvad",
            "username": "samvad_test_bot",
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self._lock = threading.Condition()
        self._updates: list[dict[str, Any]] = []
        self._next_update = 1
        self._next_message = 1
        self._next_callback = 1
        self.sent: list[SentMessage] = []
        self.chat_actions: list[tuple[int, str, float]] = []
        self.answered_callbacks: list[str] = []
        self.edits: list[dict[str, Any]] = []
        self.commands: dict[str, list[dict[str, str]]] = {}
        self.calls: dict[str, int] = defaultdict(int)
        self.errors: list[tuple[str, str]] = []
        self.webhook_url = ""
        self.files: dict[str, tuple[str, bytes]] = {}  # file_id -> (file_path, content)
        self._server = ApiServer((host, port), self._handler_class())
        self._thread: threading.Thread | None = None
        self._closing = False

    # --- lifecycle ----------------------------------------------------------------------------

    @property
    def port(self) -> int:
        port: int = self._server.server_address[1]
        return port

    @property
    def base_url(self) -> str:
        """What to give PTB as ``base_url`` (it appends the token)."""
        return f"http://127.0.0.1:{self.port}/bot"

    def start(self) -> BotApiEmulator:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._lock:
            self._closing = True
            self._lock.notify_all()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> BotApiEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- the citizen's side -------------------------------------------------------------------

    @staticmethod
    def user(chat_id: int, language_code: str | None = None) -> dict[str, Any]:
        """The Telegram user of a private chat (same id as the chat)."""
        user: dict[str, Any] = {"id": chat_id, "is_bot": False, "first_name": f"Citizen{chat_id}"}
        if language_code:
            user["language_code"] = language_code
        return user

    def _push(self, kind: str, payload: dict[str, Any]) -> int:
        with self._lock:
            update_id = self._next_update
            self._next_update += 1
            self._updates.append({"update_id": update_id, kind: payload})
            self._lock.notify_all()
            return update_id

    def _user_message(self, chat_id: int, extra: dict[str, Any]) -> int:
        with self._lock:
            message_id = self._next_message
            self._next_message += 1
        message = {
            "message_id": message_id,
            "from": self.user(chat_id),
            "chat": {"id": chat_id, "type": "private", "first_name": f"Citizen{chat_id}"},
            "date": int(time.time()),
            **extra,
        }
        self._push("message", message)
        return message_id

    def send_text(self, chat_id: int, text: str) -> int:
        """The citizen types ``text``; returns the message id."""
        return self._user_message(chat_id, {"text": text})

    def send_command(self, chat_id: int, command: str) -> int:
        """The citizen sends ``/command`` (with the bot_command entity Telegram adds)."""
        text = command if command.startswith("/") else f"/{command}"
        name_length = len(text.split()[0])
        entities = [{"type": "bot_command", "offset": 0, "length": name_length}]
        return self._user_message(chat_id, {"text": text, "entities": entities})

    def send_sticker(self, chat_id: int) -> int:
        """The citizen sends a sticker."""
        sticker = {
            "file_id": "CAACAgIAAxkBAAIBsticker", "file_unique_id": "AgADsticker",
            "type": "regular", "width": 512, "height": 512,
            "is_animated": False, "is_video": False, "emoji": "👍",
        }  # fmt: skip
        return self._user_message(chat_id, {"sticker": sticker})

    def send_voice(self, chat_id: int) -> int:
        """The citizen sends a voice note."""
        voice = {"file_id": "AwACAgIvoice", "file_unique_id": "AgADvoice", "duration": 3}
        return self._user_message(chat_id, {"voice": voice})

    def send_document(
        self,
        chat_id: int,
        file_name: str,
        content: bytes,
        caption: str | None = None,
        mime_type: str = "text/markdown",
    ) -> int:
        """The user sends a file (the bot can fetch it with ``getFile`` + download)."""
        with self._lock:
            number = len(self.files) + 1
        file_id = f"BQACAgIdoc{number}"
        self.files[file_id] = (f"documents/file_{number}", content)
        document = {
            "file_id": file_id, "file_unique_id": f"AgADdoc{number}",
            "file_name": file_name, "mime_type": mime_type, "file_size": len(content),
        }  # fmt: skip
        extra: dict[str, Any] = {"document": document}
        if caption is not None:
            extra["caption"] = caption
            if caption.startswith("/"):
                length = len(caption.split()[0])
                extra["caption_entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return self._user_message(chat_id, extra)

    def press_button(self, message: SentMessage, callback_data: str) -> str:
        """The citizen presses the button with ``callback_data`` on a bot message."""
        if callback_data not in message.callback_data:
            raise ValueError(f"no button {callback_data!r} on message {message.message_id}")
        with self._lock:
            query_id = str(self._next_callback)
            self._next_callback += 1
            current = self._find(message.chat_id, message.message_id)
        query = {
            "id": query_id,
            "from": self.user(message.chat_id),
            "message": (current or message).as_api(self.bot_user),
            "chat_instance": f"ci-{message.chat_id}",
            "data": callback_data,
        }
        self._push("callback_query", query)
        return query_id

    # --- more kinds of update (fuzzing: tests/test_fuzz_bot.py) --------------------------------

    @staticmethod
    def _command_entities(text: str, field: str = "entities") -> dict[str, Any]:
        """The bot_command entity Telegram adds to a text that starts with ``/word``."""
        if not text.startswith("/") or len(text) < 2 or text[1].isspace():
            return {}
        return {field: [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]}

    def send_update(self, kind: str, payload: dict[str, Any]) -> int:
        """Push any update as is (``kind``: ``message``, ``my_chat_member``, …); its update id."""
        return self._push(kind, payload)

    def send_message_with(self, chat_id: int, **fields: Any) -> int:
        """The citizen sends a message with exactly these fields (``text=""``, ``location=…``,
        ``dice=…``, nothing at all…); returns the message id."""
        return self._user_message(chat_id, fields)

    def send_photo(self, chat_id: int, caption: str | None = None) -> int:
        """The citizen sends a photo, with a caption (a ``/command`` caption gets its entity)."""
        photo = [{"file_id": f"AgACAgIphoto{size}", "file_unique_id": f"AQADphoto{size}",
                  "width": size, "height": size, "file_size": size * 40}
                 for size in (90, 320, 800)]  # fmt: skip
        extra: dict[str, Any] = {"photo": photo}
        if caption is not None:
            extra["caption"] = caption
            extra.update(self._command_entities(caption, "caption_entities"))
        return self._user_message(chat_id, extra)

    def send_edited_text(self, chat_id: int, message_id: int, text: str) -> int:
        """The citizen edits their message ``message_id`` to ``text`` (an ``edited_message``
        update; a ``/command`` gets its entity); returns the update id."""
        message = {
            "message_id": message_id,
            "from": self.user(chat_id),
            "chat": {"id": chat_id, "type": "private", "first_name": f"Citizen{chat_id}"},
            "date": int(time.time()) - 60,
            "edit_date": int(time.time()),
            "text": text,
            **self._command_entities(text),
        }
        return self._push("edited_message", message)

    def send_forwarded_text(self, chat_id: int, text: str, from_user: int = 4242) -> int:
        """The citizen forwards someone's message ``text`` (a ``forward_origin``; a ``/command``
        keeps its entity, as Telegram's clients do); returns the message id."""
        origin = {
            "type": "user",
            "date": int(time.time()) - 3600,
            "sender_user": self.user(from_user),
        }
        extra = {"text": text, "forward_origin": origin, **self._command_entities(text)}
        return self._user_message(chat_id, extra)

    def send_forwarded_document(
        self, chat_id: int, file_name: str, content: bytes, from_user: int = 4242
    ) -> int:
        """The user forwards a file someone else sent."""
        with self._lock:
            number = len(self.files) + 1
        file_id = f"BQACAgIfwd{number}"
        self.files[file_id] = (f"documents/file_{number}", content)
        document = {"file_id": file_id, "file_unique_id": f"AgADfwd{number}",
                    "file_name": file_name, "mime_type": "text/markdown",
                    "file_size": len(content)}  # fmt: skip
        origin = {
            "type": "user",
            "date": int(time.time()) - 3600,
            "sender_user": self.user(from_user),
        }
        return self._user_message(chat_id, {"document": document, "forward_origin": origin})

    def send_channel_post(self, channel_id: int, text: str, edited: bool = False) -> int:
        """A post in a channel the bot is in (``channel_post``, or ``edited_channel_post``):
        no ``from``, the channel as ``sender_chat``; returns the update id."""
        channel = {"id": channel_id, "type": "channel", "title": f"Channel{channel_id}"}
        with self._lock:
            message_id = self._next_message
            self._next_message += 1
        post: dict[str, Any] = {
            "message_id": message_id,
            "sender_chat": channel,
            "chat": channel,
            "date": int(time.time()),
            "text": text,
            **self._command_entities(text),
        }
        if edited:
            post["edit_date"] = int(time.time())
        return self._push("edited_channel_post" if edited else "channel_post", post)

    def send_callback_data(
        self, chat_id: int, data: str | None, message: SentMessage | None = None
    ) -> str:
        """A button press with any ``data`` (``None``: none, as for a game), forged: no button
        need carry it. On ``message``, else on a bot message that never existed (with one
        button, so the bot tries to take it off); returns the query id."""
        with self._lock:
            query_id = str(self._next_callback)
            self._next_callback += 1
            fake_id = 10**9 + self._next_callback
        if message is not None:
            shown = message.as_api(self.bot_user)
        else:
            shown = SentMessage(
                fake_id, chat_id, "…", "…", None,
                {"inline_keyboard": [[{"text": "👍", "callback_data": "x"}]]},
                sent_at=time.time(),
            ).as_api(self.bot_user)  # fmt: skip
        query: dict[str, Any] = {
            "id": query_id,
            "from": self.user(chat_id),
            "message": shown,
            "chat_instance": f"ci-{chat_id}",
        }
        if data is not None:
            query["data"] = data
        self._push("callback_query", query)
        return query_id

    def answered(self, query_id: str) -> bool:
        """Whether the bot answered the callback query ``query_id`` (stopped its spinner)."""
        with self._lock:
            return query_id in self.answered_callbacks

    def messages(self, chat_id: int) -> list[SentMessage]:
        """Every message the bot sent to ``chat_id``, in order."""
        with self._lock:
            return [m for m in self.sent if m.chat_id == chat_id]

    def wait_for_messages(
        self, chat_id: int, count: int, after: int = 0, timeout: float = 60.0
    ) -> list[SentMessage]:
        """Wait until the bot has sent ``count`` messages to ``chat_id`` past the first ``after``.

        Returns exactly those (raises ``TimeoutError`` with what did arrive).
        """
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                found = [m for m in self.sent if m.chat_id == chat_id][after:]
                if len(found) >= count:
                    return found[:count]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    texts = [m.text[:80] for m in found]
                    raise TimeoutError(f"chat {chat_id}: {len(found)}/{count} messages: {texts}")
                self._lock.wait(remaining)

    def pending_updates(self) -> int:
        """Updates not yet confirmed by the bot."""
        with self._lock:
            return len(self._updates)

    # --- the Bot API side ---------------------------------------------------------------------

    def _find(self, chat_id: int, message_id: int) -> SentMessage | None:
        for message in self.sent:
            if message.chat_id == chat_id and message.message_id == message_id:
                return message
        return None

    def call(self, method: str, params: dict[str, Any]) -> Any:
        """Handle one Bot API call (as the HTTP handler does); raises :class:`ApiError`."""
        self.calls[method] += 1
        handler = getattr(self, f"_api_{method.lower()}", None)
        if handler is None:
            raise ApiError(404, "Not Found")
        return handler(params)

    def _api_getme(self, params: dict[str, Any]) -> Any:
        return self.bot_user

    def _api_logout(self, params: dict[str, Any]) -> Any:
        return True

    _api_close = _api_logout

    def _api_deletewebhook(self, params: dict[str, Any]) -> Any:
        self.webhook_url = ""
        return True

    def _api_setwebhook(self, params: dict[str, Any]) -> Any:
        self.webhook_url = str(params.get("url", ""))
        return True

    def _api_getwebhookinfo(self, params: dict[str, Any]) -> Any:
        return {"url": self.webhook_url, "has_custom_certificate": False,
                "pending_update_count": self.pending_updates()}  # fmt: skip

    def _api_setmycommands(self, params: dict[str, Any]) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list) or not commands:
            raise ApiError(400, "Bad Request: commands must be a non-empty list")
        self.commands[str(params.get("language_code") or "")] = commands
        return True

    def _api_getmycommands(self, params: dict[str, Any]) -> Any:
        return self.commands.get(str(params.get("language_code") or ""), [])

    def _api_deletemycommands(self, params: dict[str, Any]) -> Any:
        self.commands.pop(str(params.get("language_code") or ""), None)
        return True

    def _api_getupdates(self, params: dict[str, Any]) -> Any:
        offset = int(params.get("offset") or 0)
        limit = max(1, min(100, int(params.get("limit") or 100)))
        timeout = max(0.0, float(params.get("timeout") or 0))
        deadline = time.monotonic() + timeout
        with self._lock:
            if offset:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            while not self._updates and not self._closing:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._lock.wait(remaining)
            return self._updates[:limit]

    def _chat_id(self, params: dict[str, Any]) -> int:
        try:
            return int(params["chat_id"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ApiError(400, "Bad Request: chat not found") from exc

    def _api_sendmessage(self, params: dict[str, Any]) -> Any:
        chat_id = self._chat_id(params)
        raw = str(params.get("text") or "")
        parse_mode = params.get("parse_mode")
        if parse_mode == "HTML":
            text, links = parse_html(raw)
        elif parse_mode:
            raise ApiError(400, f"Bad Request: unsupported parse_mode {parse_mode!r} here")
        else:
            text, links = raw, []
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if utf16_len(text) > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        markup = _check_markup(params.get("reply_markup"))
        with self._lock:
            message = SentMessage(
                self._next_message, chat_id, text, raw, parse_mode, markup, links, time.time()
            )
            self._next_message += 1
            self.sent.append(message)
            self._lock.notify_all()
            return message.as_api(self.bot_user)

    def _api_getfile(self, params: dict[str, Any]) -> Any:
        file_id = str(params.get("file_id") or "")
        if file_id not in self.files:
            raise ApiError(400, "Bad Request: invalid file_id")
        path, content = self.files[file_id]
        return {"file_id": file_id, "file_unique_id": f"u-{file_id}", "file_size": len(content),
                "file_path": path}  # fmt: skip

    def file_content(self, file_path: str) -> bytes:
        """The bytes behind a ``file_path`` from ``getFile``; raises :class:`ApiError` (404)."""
        for path, content in self.files.values():
            if path == file_path:
                return content
        raise ApiError(404, "Not Found")

    def _api_sendchataction(self, params: dict[str, Any]) -> Any:
        chat_id = self._chat_id(params)
        action = str(params.get("action"))
        if action not in CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        with self._lock:
            self.chat_actions.append((chat_id, action, time.time()))
        return True

    def _api_answercallbackquery(self, params: dict[str, Any]) -> Any:
        query_id = str(params.get("callback_query_id") or "")
        if not query_id.isdigit() or int(query_id) >= self._next_callback:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired")
        with self._lock:
            self.answered_callbacks.append(query_id)
        return True

    def _api_editmessagereplymarkup(self, params: dict[str, Any]) -> Any:
        chat_id = self._chat_id(params)
        message_id = int(params.get("message_id") or 0)
        markup = _check_markup(params.get("reply_markup"))
        with self._lock:
            message = self._find(chat_id, message_id)
            if message is None:
                raise ApiError(400, "Bad Request: message to edit not found")
            if markup == message.reply_markup:
                raise ApiError(400, "Bad Request: message is not modified")
            message.reply_markup = markup
            self.edits.append({"chat_id": chat_id, "message_id": message_id, "markup": markup})
            return message.as_api(self.bot_user)

    def _api_editmessagetext(self, params: dict[str, Any]) -> Any:
        chat_id = self._chat_id(params)
        message_id = int(params.get("message_id") or 0)
        with self._lock:
            message = self._find(chat_id, message_id)
            if message is None:
                raise ApiError(400, "Bad Request: message to edit not found")
            raw = str(params.get("text") or "")
            text, links = parse_html(raw) if params.get("parse_mode") == "HTML" else (raw, [])
            message.raw, message.text, message.links = raw, text, links
            message.reply_markup = _check_markup(params.get("reply_markup"))
            self.edits.append({"chat_id": chat_id, "message_id": message_id, "text": text})
            return message.as_api(self.bot_user)

    # --- HTTP ---------------------------------------------------------------------------------

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        emulator = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

            def _params(self) -> dict[str, Any]:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if len(body) < length:  # the client gave up mid-request (a cancelled task):
                    raise ConnectionAbortedError  # a real server drops it, records nothing
                kind = self.headers.get("Content-Type", "")
                params: dict[str, Any] = {}
                if "json" in kind and body:
                    loaded = json.loads(body)
                    params = loaded if isinstance(loaded, dict) else {}
                elif body:
                    params = {k: v[-1] for k, v in parse_qs(body.decode()).items()}
                query = urlsplit(self.path).query
                params.update({k: v[-1] for k, v in parse_qs(query).items()})
                for name in JSON_FIELDS & params.keys():
                    if isinstance(params[name], str):
                        try:
                            params[name] = json.loads(params[name])
                        except ValueError as exc:
                            raise ApiError(400, f"Bad Request: can't parse {name}") from exc
                return params

            def _reply(self, status: int, payload: dict[str, Any]) -> None:
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    return  # the bot went away during a long poll

            def _download(self, parts: list[str]) -> None:
                try:
                    if len(parts) < 3 or parts[1][3:] != emulator.token:
                        raise ApiError(401, "Unauthorized")
                    content = emulator.file_content("/".join(parts[2:]))
                except ApiError as exc:
                    self._reply(exc.code, {"ok": False, "error_code": exc.code,
                                           "description": exc.description})  # fmt: skip
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def _serve(self) -> None:
                path = urlsplit(self.path).path
                parts = path.strip("/").split("/")
                if parts[0] == "file":  # PTB percent-encodes the path (the token's ":")
                    self._download(unquote(path).strip("/").split("/"))
                    return
                try:
                    if len(parts) != 2 or not parts[0].startswith("bot"):
                        raise ApiError(404, "Not Found")
                    if parts[0][3:] != emulator.token:
                        raise ApiError(401, "Unauthorized")
                    params = self._params()
                    result = emulator.call(parts[1], params)
                except ConnectionAbortedError:
                    self.close_connection = True
                    return
                except ApiError as exc:
                    emulator.errors.append((parts[-1], exc.description))
                    self._reply(exc.code, {"ok": False, "error_code": exc.code,
                                           "description": exc.description})  # fmt: skip
                    return
                self._reply(200, {"ok": True, "result": result})

            def do_POST(self) -> None:
                self._serve()

            def do_GET(self) -> None:
                self._serve()

        return Handler
