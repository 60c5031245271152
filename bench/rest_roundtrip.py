"""REST round-trip time of Samvad's Rasa stack: p50 / p95 for answered questions and small talk.

Either measures servers that are already running (``--url``), or starts its own action server
(app env) and Rasa server (Rasa env, current model from ``scripts/rasa_train.py``) on free
loopback ports, with a temporary tracker store and the index in ``SAMVAD_INDEX_DIR``
(default ``var/index``). Each round trip is one POST to ``/webhooks/rest/webhook``, timed from
request to complete reply, one at a time.

    .venv/bin/python bench/rest_roundtrip.py [--rounds 60] [--url http://127.0.0.1:5005]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from samvad.settings import Settings  # noqa: E402
from tests.servers import RasaStack  # noqa: E402

QUESTIONS = [
    "ठाणे महानगरपालिकेने जपानसोबत कोणता करार केला?",
    "Which Japanese ministry signed the agreement with Thane Municipal Corporation?",
    "japan sobat thane mahapalikecha karar kashasathi aahe?",
    "करार समारंभाला कोण उपस्थित होते?",
    "Who attended the signing ceremony?",
]
SMALL_TALK = ["नमस्कार", "hello", "धन्यवाद", "thank you"]


def post(url: str, sender: str, message: str) -> tuple[float, list[dict[str, Any]]]:
    """One round trip; returns (seconds, reply)."""
    request = urllib.request.Request(
        f"{url}/webhooks/rest/webhook",
        data=json.dumps({"sender": sender, "message": message}).encode(),
        headers={"Content-Type": "application/json"},
    )
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=120) as response:
        reply: list[dict[str, Any]] = json.loads(response.read())
    return time.perf_counter() - started, reply


def answered(reply: list[dict[str, Any]]) -> bool:
    facts = [m["custom"]["samvad"] for m in reply if "samvad" in m.get("custom", {})]
    return bool(facts) and facts[0]["outcome"] == "answered"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def measure(url: str, rounds: int) -> None:
    for i, question in enumerate(QUESTIONS):  # warm up: engine load, first inference
        post(url, f"warmup-{i}", question)
    timings: dict[str, list[float]] = {"answered question": [], "small talk": []}
    unanswered = 0
    for i in range(rounds):
        seconds, reply = post(url, f"bench-{i % 10}", QUESTIONS[i % len(QUESTIONS)])
        if answered(reply):
            timings["answered question"].append(seconds)
        else:
            unanswered += 1
        seconds, _ = post(url, f"bench-{i % 10}", SMALL_TALK[i % len(SMALL_TALK)])
        timings["small talk"].append(seconds)
    print(f"{'kind':<18} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'mean ms':>8}")
    for kind, values in timings.items():
        if values:
            print(
                f"{kind:<18} {len(values):>4} {percentile(values, 0.5) * 1000:>8.0f} "
                f"{percentile(values, 0.95) * 1000:>8.0f} {statistics.fmean(values) * 1000:>8.0f}"
            )
    if unanswered:
        print(f"({unanswered} questions were not answered and are left out)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=60, help="questions to time (60)")
    parser.add_argument("--url", help="an already running Rasa server, e.g. http://127.0.0.1:5005")
    args = parser.parse_args(argv)
    if args.url:
        measure(args.url.rstrip("/"), args.rounds)
        return 0
    with tempfile.TemporaryDirectory(prefix="samvad-bench-") as tmp:
        settings = Settings.from_env()
        stack = RasaStack(Path(tmp), settings.index_dir)
        stack.start()
        try:
            print(f"servers up; timing {args.rounds} rounds")
            measure(stack.url, args.rounds)
        finally:
            stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
