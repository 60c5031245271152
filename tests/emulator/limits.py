"""The Bot API emulator with Telegram's limits, for notices and charts (``tests/emulator``).

:class:`LimitedBotApi` is a :class:`~tests.emulator.server.BotApiEmulator` that also does what
broadcasting and ``/stats`` meet on the real Telegram:

- **flood limit**: more than :data:`OVERALL_PER_SECOND` messages (``sendMessage``,
  ``sendPhoto``) accepted in any one second → ``429 Too Many Requests: retry after N`` with
  ``parameters.retry_after``, as Telegram answers (python-telegram-bot raises ``RetryAfter``);
  :meth:`refuse_next` makes the next sends get a 429 whatever the rate, to test that it is
  honoured;
- **blocked users**: a chat in :attr:`blocked` gets ``403 Forbidden: bot was blocked by the
  user``;
- ``sendPhoto`` with an uploaded file (multipart form data): a PNG or JPEG of at most 10 MB, a
  caption of at most 1,024 characters; recorded in :attr:`photos` (not in ``sent``);
- **held sends**, for crash tests: :meth:`hold` makes messages to some chats wait, after a
  number of them went through, as if the network stalled; :meth:`release` lets them go on, or
  — ``drop=True`` — answers them with an error, unrecorded, as if they never reached Telegram
  (the bot that sent them was killed meanwhile).

Every accepted message's time is in :attr:`accepted_at` (and every send's, refused ones too,
in :attr:`attempted_at`), to measure the rate.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.emulator.server import JSON_FIELDS, ApiError, BotApiEmulator, parse_html

OVERALL_PER_SECOND = 30
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_CAPTION = 1024
RETRY_AFTER = re.compile(r"retry after (\d+)")
SENDS = frozenset({"sendmessage", "sendphoto"})


@dataclass
class SentPhoto:
    """A photo the bot sent."""

    message_id: int
    chat_id: int
    data: bytes
    caption: str
    sent_at: float


def parse_multipart(content_type: str, body: bytes) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The form fields and the uploaded files (by field name) of a multipart request."""
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    fields: dict[str, Any] = {}
    files: dict[str, bytes] = {}
    if not message.is_multipart():
        raise ApiError(400, "Bad Request: can't parse the multipart form")
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        raw = part.get_payload(decode=True)
        content = raw if isinstance(raw, bytes) else b""
        if not isinstance(name, str):
            continue
        if part.get_filename() is not None:
            files[name] = content
        else:
            fields[name] = content.decode("utf-8")
    return fields, files


class LimitedBotApi(BotApiEmulator):
    """:class:`BotApiEmulator` with Telegram's flood limit, blocked users, photos and held
    sends (see the module's notes)."""

    def __init__(self, token: str, overall_per_second: int = OVERALL_PER_SECOND) -> None:
        super().__init__(token)
        self.overall_per_second = overall_per_second
        self.blocked: set[int] = set()
        self.photos: list[SentPhoto] = []
        self.accepted_at: list[float] = []
        self.attempted_at: list[float] = []  # every send that reached the limits, refused too
        self.too_many: int = 0  # 429s answered
        self.forbidden: int = 0  # 403s answered
        self._window: deque[float] = deque()
        self._refuse = 0
        self._refuse_seconds = 1
        self._limits = threading.Lock()
        self._hold_chats: frozenset[int] = frozenset()
        self._hold_after: int | None = None
        self._held_passed = 0
        self._dropping = False
        self.held = 0  # sends waiting now
        self.dropped = 0  # sends answered with an error by release(drop=True)

    # --- what a test sets --------------------------------------------------------------------

    def refuse_next(self, count: int, retry_after: int = 1) -> None:
        """The next ``count`` sends get ``429 retry after retry_after``."""
        with self._limits:
            self._refuse, self._refuse_seconds = count, retry_after

    def hold(self, chats: set[int] | frozenset[int], after: int) -> None:
        """Once ``after`` messages to ``chats`` went through, further ones to them wait."""
        with self._lock:
            self._hold_chats, self._hold_after, self._held_passed = frozenset(chats), after, 0

    def release(self, drop: bool = False, timeout: float = 10.0) -> int:
        """Stop holding; waiting sends go through, or (``drop``) fail unrecorded. Returns how
        many were waiting."""
        deadline = time.monotonic() + timeout
        with self._lock:
            waiting = self.held
            self._hold_after, self._dropping = None, drop
            self._lock.notify_all()
            while self.held and time.monotonic() < deadline:
                self._lock.wait(0.05)
            self._dropping = False
            return waiting

    def wait_until_held(self, count: int = 1, timeout: float = 120.0) -> int:
        """Wait until at least ``count`` sends are waiting; how many are."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self.held < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"{self.held}/{count} sends held")
                self._lock.wait(remaining)
            return self.held

    # --- the Bot API side ---------------------------------------------------------------------

    def _hold_here(self, chat_id: int) -> None:
        """Wait while sends to ``chat_id`` are held (with ``self._lock`` not held)."""
        with self._lock:
            if self._hold_after is None or chat_id not in self._hold_chats:
                return
            if self._held_passed < self._hold_after:
                self._held_passed += 1
                return
            self.held += 1
            self._lock.notify_all()
            try:
                while self._hold_after is not None:
                    self._lock.wait()
                if self._dropping:
                    self.dropped += 1
                    raise ApiError(502, "Bad Gateway")
            finally:
                self.held -= 1
                self._lock.notify_all()

    def _admit(self, chat_id: int) -> None:
        """Telegram's checks before a message is accepted: blocked, then the flood limit."""
        if chat_id in self.blocked:
            with self._limits:
                self.forbidden += 1
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        with self._limits:
            now = time.monotonic()
            self.attempted_at.append(time.time())
            if self._refuse > 0:
                self._refuse -= 1
                self.too_many += 1
                raise ApiError(429, f"Too Many Requests: retry after {self._refuse_seconds}")
            while self._window and self._window[0] <= now - 1.0:
                self._window.popleft()
            if len(self._window) >= self.overall_per_second:
                self.too_many += 1
                wait = max(1, round(self._window[0] + 1.0 - now + 0.5))
                raise ApiError(429, f"Too Many Requests: retry after {wait}")
            self._window.append(now)
            self.accepted_at.append(time.time())

    def call(self, method: str, params: dict[str, Any]) -> Any:
        if method.lower() in SENDS:
            chat_id = self._chat_id(params)
            self._hold_here(chat_id)
            self._admit(chat_id)
        return super().call(method, params)

    def _api_sendphoto(self, params: dict[str, Any]) -> Any:
        chat_id = self._chat_id(params)
        data = params.get("photo")
        if not isinstance(data, bytes):
            raise ApiError(400, "Bad Request: there is no photo in the request")
        if len(data) > MAX_PHOTO_BYTES:
            raise ApiError(400, "Bad Request: PHOTO_INVALID_DIMENSIONS")
        if not data.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")):
            raise ApiError(400, "Bad Request: IMAGE_PROCESS_FAILED")
        raw = str(params.get("caption") or "")
        caption = parse_html(raw)[0] if params.get("parse_mode") == "HTML" else raw
        if len(caption) > MAX_CAPTION:
            raise ApiError(400, "Bad Request: message caption is too long")
        with self._lock:
            photo = SentPhoto(self._next_message, chat_id, data, caption, time.time())
            self._next_message += 1
            self.photos.append(photo)
            self._lock.notify_all()
        return {
            "message_id": photo.message_id,
            "from": self.bot_user,
            "chat": {"id": chat_id, "type": "private", "first_name": "Citizen"},
            "date": int(photo.sent_at),
            "photo": [{"file_id": f"photo{photo.message_id}", "file_unique_id":
                       f"p{photo.message_id}", "width": 1100, "height": 640,
                       "file_size": len(data)}],
            "caption": caption,
        }  # fmt: skip

    def photos_to(self, chat_id: int) -> list[SentPhoto]:
        """Every photo the bot sent to ``chat_id``, in order."""
        with self._lock:
            return [p for p in self.photos if p.chat_id == chat_id]

    def wait_for_photos(
        self, chat_id: int, count: int, after: int = 0, timeout: float = 60.0
    ) -> list[SentPhoto]:
        """Wait until the bot sent ``count`` photos to ``chat_id`` past the first ``after``."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                found = [p for p in self.photos if p.chat_id == chat_id][after:]
                if len(found) >= count:
                    return found[:count]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"chat {chat_id}: {len(found)}/{count} photos")
                self._lock.wait(remaining)

    def peak_per_second(self, attempts: bool = False) -> int:
        """The most messages accepted (``attempts``: sent, accepted or refused) in any one
        second, a sliding window."""
        with self._limits:
            times = sorted(self.attempted_at if attempts else self.accepted_at)
        peak, start = 0, 0
        for end, at in enumerate(times):
            while times[start] <= at - 1.0:
                start += 1
            peak = max(peak, end - start + 1)
        return peak

    # --- HTTP -----------------------------------------------------------------------------------

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        base: Any = super()._handler_class()

        class Handler(base):  # type: ignore[misc]
            def _params(self) -> dict[str, Any]:
                kind = self.headers.get("Content-Type", "")
                if not kind.startswith("multipart/form-data"):
                    params: dict[str, Any] = super()._params()
                    return params
                length = int(self.headers.get("Content-Length") or 0)
                fields, files = parse_multipart(kind, self.rfile.read(length) if length else b"")
                for name, value in list(fields.items()):
                    if isinstance(value, str) and value.startswith("attach://"):
                        fields[name] = files.get(value.removeprefix("attach://"), b"")
                fields.update(files)
                for name in JSON_FIELDS & fields.keys():
                    if isinstance(fields[name], str):
                        try:
                            fields[name] = json.loads(fields[name])
                        except ValueError as exc:
                            raise ApiError(400, f"Bad Request: can't parse {name}") from exc
                return fields

            def _reply(self, status: int, payload: dict[str, Any]) -> None:
                if status == 429:
                    found = RETRY_AFTER.search(str(payload.get("description", "")))
                    payload = {**payload, "parameters": {"retry_after": int(found.group(1))
                                                         if found else 1}}  # fmt: skip
                super()._reply(status, payload)

        return Handler
