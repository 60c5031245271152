"""Rasa's REST channel, with what citizens type masked and capped before Rasa sees it.

``credentials.yml`` names this class instead of Rasa's plain ``rest`` channel, at the same
address (``/webhooks/rest/webhook``). Every message — from the bot, which masks already, or
posted straight to the channel — passes :func:`samvad.privacy.accept`: personal numbers become
placeholders (so Rasa's tracker store never holds them) and only the first
``MAX_MESSAGE_CHARS`` characters are kept (so a pasted 100,000-character text costs what a
question costs). Button payloads (``/intent{...}``) pass unchanged when short.

The Rasa server runs in its own environment, without the engine's dependencies, so the
privacy module — standard library only, by design (a test checks) — is loaded from its file
rather than through the ``samvad`` package.
"""

from __future__ import annotations

import hmac
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from rasa.core.channels.rest import RestInput
from sanic import response

PRIVACY_FILE = Path(__file__).resolve().parents[1] / "samvad" / "privacy.py"


def _load_privacy() -> ModuleType:
    spec = importlib.util.spec_from_file_location("samvad_privacy_for_rasa", PRIVACY_FILE)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {PRIVACY_FILE}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # the import system's own recipe for a module from a file
    spec.loader.exec_module(module)
    return module


privacy = _load_privacy()


TOKEN_VARIABLE = "SAMVAD_RASA_TOKEN"


def _given_token(request: Any) -> str:
    header = str(request.headers.get("authorization", ""))
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return str(request.args.get("token", ""))


class MaskedRestInput(RestInput):  # type: ignore[misc]
    """The REST channel (name ``rest``) whose messages are masked and capped; with
    ``SAMVAD_RASA_TOKEN`` set, a message without that token (``Authorization: Bearer …`` or
    ``?token=…``) is refused with 401 and nothing is processed. The health check (``GET``
    of the channel's root) stays open."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    def blueprint(self, on_new_message: Any) -> Any:
        webhook = super().blueprint(on_new_message)
        token = os.environ.get(TOKEN_VARIABLE, "").strip()
        if token:

            async def require_token(request: Any) -> Any:
                if request.method == "GET":
                    return None
                if hmac.compare_digest(_given_token(request).encode(), token.encode()):
                    return None
                return response.json({"error": "a valid token is needed"}, status=401)

            webhook.middleware("request")(require_token)
        return webhook

    def _extract_message(self, req: Any) -> str | None:
        message = super()._extract_message(req)
        if not isinstance(message, str):
            return None
        accepted: str = privacy.accept(message).text
        return accepted
