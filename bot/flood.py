"""A per-user flood limit: at most N units of cost in a sliding window of S seconds.

An ordinary message costs one unit; a long one costs more (:func:`message_cost`), so a few
chats pasting long texts cannot starve the others.

>>> limiter = FloodLimiter(max_messages=2, window=10.0)
>>> [limiter.allow(7, now=t) for t in (0.0, 1.0, 2.0, 11.5)]
[True, True, False, True]
>>> limiter.allow(8, cost=3, now=0.0), limiter.allow(9, cost=2, now=0.0)
(False, True)
>>> message_cost("pani kadhi yenar?"), message_cost("x" * 4096)
(1, 3)
"""

from __future__ import annotations

import time
from collections import deque

# A message costs one unit per this many characters of what is kept of it (at most
# MAX_MESSAGE_CHARS), at least one.
CHARS_PER_UNIT = 250
MAX_COST = 3


def message_cost(text: str) -> int:
    """The flood-limit cost of a message: 1 for a question, up to :data:`MAX_COST` for a long
    text (what Samvad keeps of it is capped, so the cost is too)."""
    return min(MAX_COST, 1 + len(text) // CHARS_PER_UNIT)


class FloodLimiter:
    """Counts each user's recent messages; says when to refuse and when to warn (once)."""

    def __init__(self, max_messages: int, window: float, max_users: int = 100_000) -> None:
        self.max_messages = max_messages
        self.window = window
        self.max_users = max_users
        self._seen: dict[int, deque[float]] = {}
        self._warned: dict[int, float] = {}

    def allow(self, user_id: int, cost: int = 1, now: float | None = None) -> bool:
        """Record a message of ``cost`` units from ``user_id``; ``False`` (and nothing
        recorded) when it would go over the limit."""
        now = time.monotonic() if now is None else now
        if len(self._seen) >= self.max_users:
            self._forget_idle(now)
        recent = self._seen.setdefault(user_id, deque())
        while recent and recent[0] <= now - self.window:
            recent.popleft()
        if len(recent) + cost > self.max_messages:
            return False
        recent.extend([now] * cost)
        return True

    def should_warn(self, user_id: int, now: float | None = None) -> bool:
        """``True`` at most once per window for a user who is over the limit."""
        now = time.monotonic() if now is None else now
        last = self._warned.get(user_id)
        if last is not None and now - last < self.window:
            return False
        self._warned[user_id] = now
        return True

    def _forget_idle(self, now: float) -> None:
        idle = [u for u, r in self._seen.items() if not r or r[-1] <= now - self.window]
        for user in idle:
            self._seen.pop(user, None)
            self._warned.pop(user, None)
