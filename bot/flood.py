"""A per-user flood limit: at most N messages in a sliding window of S seconds.

>>> limiter = FloodLimiter(max_messages=2, window=10.0)
>>> [limiter.allow(7, now=t) for t in (0.0, 1.0, 2.0, 11.5)]
[True, True, False, True]
"""

from __future__ import annotations

import time
from collections import deque


class FloodLimiter:
    """Counts each user's recent messages; says when to refuse and when to warn (once)."""

    def __init__(self, max_messages: int, window: float, max_users: int = 100_000) -> None:
        self.max_messages = max_messages
        self.window = window
        self.max_users = max_users
        self._seen: dict[int, deque[float]] = {}
        self._warned: dict[int, float] = {}

    def allow(self, user_id: int, now: float | None = None) -> bool:
        """Record a message from ``user_id``; ``False`` when it is over the limit."""
        now = time.monotonic() if now is None else now
        if len(self._seen) >= self.max_users:
            self._forget_idle(now)
        recent = self._seen.setdefault(user_id, deque())
        while recent and recent[0] <= now - self.window:
            recent.popleft()
        if len(recent) >= self.max_messages:
            return False
        recent.append(now)
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
