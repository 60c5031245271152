"""Talk to Rasa's REST channel: ``POST /webhooks/rest/webhook {"sender", "message"}``.

The sender is a salted hash of the Telegram chat id, so Rasa's conversation store and the logs
never hold the chat id itself; the salt is kept in the data folder, so the same chat keeps its
conversation (language, last answer) across restarts.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from samvad import stored_secret

logger = logging.getLogger(__name__)

SALT_FILE = ".sender_salt"
WEBHOOK_PATH = "/webhooks/rest/webhook"
HEALTH_PATH = "/webhooks/rest/"

RasaMessage = dict[str, Any]
# A request that never reached the server: safe to send to another one.
UNREACHED = (httpx.ConnectError, httpx.ConnectTimeout)


class RasaUnavailableError(RuntimeError):
    """Rasa (or the action server behind it) did not answer usably in time."""


def load_salt(data_dir: Path, configured: str | None = None) -> bytes:
    """The configured salt, else one created once in ``data_dir`` (readable by the owner only)."""
    if configured:
        return configured.encode()
    data_dir.mkdir(parents=True, exist_ok=True)
    return stored_secret(data_dir / SALT_FILE).encode()


def sender_id(chat_id: int | str, salt: bytes, channel: str = "tg") -> str:
    """The Rasa sender for a chat: ``tg-`` and 24 hex digits of an HMAC of the chat id."""
    digest = hmac.new(salt, f"{channel}:{chat_id}".encode(), hashlib.sha256).hexdigest()
    return f"{channel}-{digest[:24]}"


def server_order(sender: str, servers: int) -> list[int]:
    """The order in which a sender's message tries the Rasa servers: its own first (a stable
    hash of the sender, so a chat keeps to one server), then the others in turn.

    >>> server_order("tg-0a1b", 1), sorted(server_order("tg-0a1b", 3))
    ([0], [0, 1, 2])
    >>> server_order("tg-0a1b", 3) == server_order("tg-0a1b", 3)
    True
    """
    first = int.from_bytes(hashlib.sha256(sender.encode()).digest()[:4], "big") % servers
    return [(first + step) % servers for step in range(servers)]


class RasaClient:
    """An async client for the REST channel of one or more Rasa servers.

    With several (servers sharing Rasa's tracker and lock stores), each sender keeps to one
    (:func:`server_order`); a message that cannot reach its server goes to the next one.
    """

    def __init__(
        self,
        base_urls: str | Sequence[str],
        timeout: float = 30.0,
        max_connections: int = 100,
        transport: httpx.AsyncBaseTransport | None = None,
        token: str | None = None,
    ) -> None:
        urls = [base_urls] if isinstance(base_urls, str) else list(base_urls)
        if not urls:
            raise ValueError("RasaClient needs at least one Rasa address")
        self.base_urls = tuple(url.rstrip("/") for url in urls)
        self._clients = [
            httpx.AsyncClient(
                base_url=url,
                headers={"Authorization": f"Bearer {token}"} if token else None,
                timeout=httpx.Timeout(timeout, connect=3.0),
                limits=httpx.Limits(max_connections=max_connections),
                transport=transport,
            )
            for url in self.base_urls
        ]

    async def send(self, sender: str, message: str) -> list[RasaMessage]:
        """Send one message (text or ``/payload``) and return Rasa's replies.

        Raises :class:`RasaUnavailableError` when Rasa is down, slow or answers with an error.
        A request that never reached a server (connection refused, or no connection in time)
        goes to the next server (a refused one is tried once more first); one that may have
        reached it is not sent again, so no message is processed twice.
        """
        body = {"sender": sender, "message": message}
        order = server_order(sender, len(self._clients))
        for position, server in enumerate(order):
            try:
                response = await self._post(server, body)
                break
            except UNREACHED as exc:
                if position == len(order) - 1:
                    raise RasaUnavailableError(f"cannot connect to Rasa: {exc}") from exc
                logger.warning(
                    "Rasa at %s cannot be reached; this message goes to %s",
                    self.base_urls[server],
                    self.base_urls[order[position + 1]],
                )
        if response.status_code != 200:
            raise RasaUnavailableError(f"Rasa answered HTTP {response.status_code}")
        try:
            replies = response.json()
        except ValueError as exc:
            raise RasaUnavailableError("Rasa answered something that is not JSON") from exc
        if not isinstance(replies, list):
            raise RasaUnavailableError("Rasa answered JSON that is not a list of messages")
        return [r for r in replies if isinstance(r, dict)]

    async def _post(self, server: int, body: dict[str, str]) -> httpx.Response:
        """POST to one server, once more if the first connection was refused; a request that
        may have reached the server is never sent again. Raises :data:`UNREACHED` when it
        never reached the server."""
        client = self._clients[server]
        try:
            with contextlib.suppress(httpx.ConnectError):
                return await client.post(WEBHOOK_PATH, json=body)
            return await client.post(WEBHOOK_PATH, json=body)
        except UNREACHED:
            raise
        except httpx.TimeoutException as exc:
            raise RasaUnavailableError(f"Rasa did not answer in time: {exc!r}") from exc
        except httpx.HTTPError as exc:
            raise RasaUnavailableError(f"Rasa request failed: {exc!r}") from exc

    async def healthy(self) -> bool:
        """Whether at least one server's REST channel answers its health check."""
        for client in self._clients:
            try:
                response = await client.get(HEALTH_PATH, timeout=3.0)
            except httpx.HTTPError:
                continue
            if response.status_code == 200:
                return True
        return False

    async def aclose(self) -> None:
        """Close the connection pools."""
        for client in self._clients:
            await client.aclose()
