"""Rasa's own server with timers around its stages: the Rasa half of ``bench/profile.py``.

    .venv-rasa/bin/python bench/profile_rasa.py OUT.jsonl run -i 127.0.0.1 -p PORT --model …

Everything after ``OUT.jsonl`` is ``rasa``'s own command line; the server is Rasa 3.6's, in
this process (one Sanic worker, as ``make run`` runs it). Before it starts, some methods of
Rasa's classes are wrapped — not edited — with wall-clock (``time.perf_counter``) and CPU
(``time.process_time``: every thread of this process, TensorFlow's included) timers. Each
message Rasa handles appends one JSON line to ``OUT.jsonl``: ``{"stages": {name: [wall s,
cpu s, calls]}}``. ``bench/profile.py`` starts this and reads the lines; it prints the table.

Runs under the Rasa environment (Python 3.10), so it imports nothing from ``samvad``.
"""

from __future__ import annotations

import functools
import inspect
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this folder is first on sys.path; take it off, so that bench/profile.py
# never stands in for the standard library's ``profile`` (which cProfile imports).
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

# stage -> [wall seconds, CPU seconds, calls], for the message being handled
STAGES: dict[str, list[float]] = {}


def add(stage: str, wall: float, cpu: float) -> None:
    """Add one timed call to ``stage``."""
    totals = STAGES.setdefault(stage, [0.0, 0.0, 0.0])
    totals[0] += wall
    totals[1] += cpu
    totals[2] += 1


def wrap(owner: Any, name: str, stage: str) -> None:
    """Replace ``owner.name`` (a function or coroutine function, plain or static) by a timed
    version that adds each call to ``stage``."""
    raw = inspect.getattr_static(owner, name)
    static = isinstance(raw, staticmethod)
    original: Callable[..., Any] = raw.__func__ if static else raw
    if inspect.iscoroutinefunction(original):

        @functools.wraps(original)
        async def timed_async(*args: Any, **kwargs: Any) -> Any:
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                return await original(*args, **kwargs)
            finally:
                add(stage, time.perf_counter() - wall, time.process_time() - cpu)

        timed: Callable[..., Any] = timed_async
    else:

        @functools.wraps(original)
        def timed_sync(*args: Any, **kwargs: Any) -> Any:
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                return original(*args, **kwargs)
            finally:
                add(stage, time.perf_counter() - wall, time.process_time() - cpu)

        timed = timed_sync
    setattr(owner, name, staticmethod(timed) if static else timed)


def install(out: Path) -> None:
    """Wrap Rasa's stages; every handled message appends its stage totals to ``out``."""
    from rasa.core.actions.action import RemoteAction
    from rasa.core.agent import Agent
    from rasa.core.processor import MessageProcessor
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.utils.endpoints import EndpointConfig

    wrap(SQLTrackerStore, "retrieve", "tracker_retrieve")
    wrap(SQLTrackerStore, "save", "tracker_save")
    wrap(MessageProcessor, "parse_message", "nlu")
    wrap(MessageProcessor, "run_action_extract_slots", "extract_slots")
    wrap(MessageProcessor, "_predict_next_with_tracker", "policies")
    wrap(MessageProcessor, "handle_message", "processor")
    wrap(RemoteAction, "run", "remote_action")
    wrap(RemoteAction, "_action_call_format", "action_payload")
    wrap(RemoteAction, "_validate_action_result", "action_validate")
    wrap(EndpointConfig, "request", "action_http")

    handle = Agent.handle_message
    out.parent.mkdir(parents=True, exist_ok=True)

    @functools.wraps(handle)
    async def handle_message(self: Any, message: Any) -> Any:
        STAGES.clear()
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return await handle(self, message)
        finally:
            add("agent", time.perf_counter() - wall, time.process_time() - cpu)
            with out.open("a", encoding="utf-8") as handle_out:
                handle_out.write(json.dumps({"stages": STAGES}) + "\n")

    Agent.handle_message = handle_message


def main(argv: list[str]) -> None:
    if len(argv) < 2:
        raise SystemExit(__doc__)
    install(Path(argv[0]))
    sys.path.insert(0, str(ROOT))  # connectors.masked_rest, named in credentials.yml
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *argv[1:]]
    rasa_main()


if __name__ == "__main__":
    main(sys.argv[1:])
