"""Talk to Rasa's REST channel: ``POST /webhooks/rest/webhook {"sender", "message"}``.

The sender is a salted hash of the Telegram chat id, so Rasa's conversation store and the logs
never hold the chat id itself; the salt is kept in the data folder, so the same chat keeps its
conversation (language, last answer) across restarts.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from pathlib import Path
from typing import Any

import httpx

from samvad import stored_secret

logger = logging.getLogger(__name__)

SALT_FILE = ".sender_salt"
WEBHOOK_PATH = "/webhooks/rest/webhook"
HEALTH_PATH = "/webhooks/rest/"

RasaMessage = dict[str, Any]


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


class RasaClient:
    """An async client for one Rasa server's REST channel."""

    def __init__(
        self,
        base_url: str,
        timeout: float = 30.0,
        max_connections: int = 100,
        transport: httpx.AsyncBaseTransport | None = None,
        token: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = httpx.AsyncClient(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {token}"} if token else None,
            timeout=httpx.Timeout(timeout, connect=3.0),
            limits=httpx.Limits(max_connections=max_connections),
            transport=transport,
        )

    async def send(self, sender: str, message: str) -> list[RasaMessage]:
        """Send one message (text or ``/payload``) and return Rasa's replies.

        Raises :class:`RasaUnavailableError` when Rasa is down, slow or answers with an error.
        A request that never reached Rasa (connection refused) is tried once more; one that
        may have reached it is not, so no message is processed twice.
        """
        body = {"sender": sender, "message": message}
        for attempt in (1, 2):
            try:
                response = await self._client.post(WEBHOOK_PATH, json=body)
                break
            except httpx.ConnectError as exc:
                if attempt == 2:
                    raise RasaUnavailableError(f"cannot connect to Rasa: {exc}") from exc
            except httpx.TimeoutException as exc:
                raise RasaUnavailableError(f"Rasa did not answer in time: {exc!r}") from exc
            except httpx.HTTPError as exc:
                raise RasaUnavailableError(f"Rasa request failed: {exc!r}") from exc
        if response.status_code != 200:
            raise RasaUnavailableError(f"Rasa answered HTTP {response.status_code}")
        try:
            replies = response.json()
        except ValueError as exc:
            raise RasaUnavailableError("Rasa answered something that is not JSON") from exc
        if not isinstance(replies, list):
            raise RasaUnavailableError("Rasa answered JSON that is not a list of messages")
        return [r for r in replies if isinstance(r, dict)]

    async def healthy(self) -> bool:
        """Whether the REST channel answers its health check."""
        try:
            response = await self._client.get(HEALTH_PATH, timeout=3.0)
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()
