"""Where the time of an answered message goes: bot → Rasa → action server → engine → back.

    .venv/bin/python -m bench.profile [--rounds 10] [--index DIR]

Starts the real parts on free loopback ports: Rasa 3.6 (``bench/profile_rasa.py`` under
``.venv-rasa``: Rasa's own server, in-process, the current model from
``scripts/rasa_train.py`` — trained first only if missing), the real action server (rasa-sdk's
app with the project's ``actions`` package, run here in one process: ``--serve-actions``), the
real engine, model and index (a temporary index of the dev corpus ``tests/fixtures/corpus`` and
``knowledge/``, or ``--index`` / ``SAMVAD_INDEX_DIR``), with a temporary tracker store and
question log. It then sends questions one at a time with the bot's own client
(``bot.rasa_client.RasaClient``) and renders each reply with ``bot/render.py``, as the bot
does.

Nothing in ``samvad/``, ``actions/`` or ``bot/`` is changed: methods of Rasa's classes, of
rasa-sdk and of the engine are wrapped, in their own processes, with wall-clock
(``time.perf_counter``) and CPU (``time.process_time``, the whole process) timers; each server
appends one JSON line per message. A row's CPU is that of the process it runs in (so the
action call's is Rasa's own while it waits); the whole path's and the REST round trip's are
the three processes' together (the client's ``process_time`` plus the servers' per-thread
``/proc/PID/task/*/schedstat``).

Questions: distinct Marathi, English and romanized-Marathi questions from ``tests/fixtures``
(dev, held-out, questions_v2), asked until ``--rounds`` per language were *answered*; ones the
engine offered or refused are asked too but left out of the table (their count is printed).
A few cross-lingual questions warm everything up first. ``share`` is the stage's total wall
time over the whole path's, so nested rows overlap their parents; rows in parentheses are a
parent's time not covered by its timed children. It prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import inspect
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"
FIXTURES = ROOT / "tests" / "fixtures"
QUESTION_FILES = (
    FIXTURES / "dev_questions.jsonl",
    FIXTURES / "heldout_questions.jsonl",
    FIXTURES / "questions_v2" / "tuning.jsonl",
    FIXTURES / "questions_v2" / "kept_aside.jsonl",
)
LANGUAGES = ("mr", "en", "romanized")  # the ``kind`` of a question in the fixtures
WARMUP_KINDS = ("cross_lingual", "cross")
WARMUP = 8
SENDERS = 5  # conversations the questions rotate over, so trackers grow as in a chat

Stages = dict[str, list[float]]  # stage -> [wall s, CPU s, calls]


# --- timers (used in the action server process) ---------------------------------------------

_STAGES: Stages = {}
_STAGES_LOCK = threading.Lock()


def _add(stages: Stages, stage: str, wall: float, cpu: float) -> None:
    with _STAGES_LOCK:
        totals = stages.setdefault(stage, [0.0, 0.0, 0.0])
        totals[0] += wall
        totals[1] += cpu
        totals[2] += 1


def wrap(owner: Any, name: str, stage: str) -> None:
    """Replace ``owner.name`` (function or coroutine function) by a version that adds the wall
    and CPU time of each call to ``stage``."""
    original: Callable[..., Any] = inspect.getattr_static(owner, name)
    if inspect.iscoroutinefunction(original):

        @functools.wraps(original)
        async def timed_async(*args: Any, **kwargs: Any) -> Any:
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                return await original(*args, **kwargs)
            finally:
                _add(_STAGES, stage, time.perf_counter() - wall, time.process_time() - cpu)

        setattr(owner, name, timed_async)
        return

    @functools.wraps(original)
    def timed(*args: Any, **kwargs: Any) -> Any:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return original(*args, **kwargs)
        finally:
            _add(_STAGES, stage, time.perf_counter() - wall, time.process_time() - cpu)

    setattr(owner, name, timed)


def serve_actions(port: int, out: Path) -> None:
    """rasa-sdk's action server with the project's actions, in this one process, with the
    engine's and the action server's stages timed; one JSON line per ``/webhook`` call."""
    from rasa_sdk.endpoint import create_app
    from rasa_sdk.executor import ActionExecutor

    import actions.actions as project_actions
    import samvad.answers as answers
    from samvad.index_store import IndexSnapshot, LiveIndex
    from samvad.latent_terms import LatentTermEncoder
    from samvad.lexical import LexicalIndex
    from samvad.model import Embedder
    from samvad.question_log import QuestionLog
    from samvad.retriever import Retriever

    wrap(ActionExecutor, "run", "executor")
    wrap(project_actions, "_call_engine", "engine_call")
    wrap(project_actions, "send_answer", "send_answer")
    wrap(answers.AnswerEngine, "answer_with_passages", "engine")
    wrap(answers, "accept", "mask")
    wrap(LiveIndex, "current", "index_current")
    wrap(answers, "prepare_query", "prepare")
    wrap(Embedder, "embed_with_token_states", "embed")
    wrap(Embedder, "embed_queries", "embed")
    wrap(LatentTermEncoder, "encode_many", "latent")
    wrap(Retriever, "dense_scores", "dense")
    wrap(IndexSnapshot, "search", "faiss")
    wrap(LexicalIndex, "scores", "bm25")
    wrap(Retriever, "rank", "fusion")
    wrap(answers.AnswerEngine, "verdict", "decide")
    for composer in ("_from_article", "_offer", "_refusal"):
        wrap(answers.AnswerEngine, composer, "compose")
    wrap(QuestionLog, "record_question", "question_log")

    executor = ActionExecutor()
    executor.register_package("actions")
    app = create_app(executor)
    started: dict[str, float] = {}
    domain_bytes: list[int] = []

    @app.on_request  # type: ignore[untyped-decorator]
    async def before(request: Any) -> None:
        if request.path == "/webhook":
            with _STAGES_LOCK:
                _STAGES.clear()
            started.update(wall=time.perf_counter(), cpu=time.process_time())

    @app.on_response  # type: ignore[untyped-decorator]
    async def after(request: Any, response: Any) -> None:
        if request.path != "/webhook" or not started:
            return
        wall, cpu = time.perf_counter() - started["wall"], time.process_time() - started["cpu"]
        _add(_STAGES, "handler", wall, cpu)
        if not domain_bytes:  # the domain is the same in every call: measured once
            domain = (request.json or {}).get("domain")
            domain_bytes.append(len(json.dumps(domain).encode()) if domain else 0)
        record = {
            "stages": _STAGES,
            "request_bytes": len(request.body),
            "response_bytes": len(response.body or b""),
            "domain_bytes": domain_bytes[0],
        }
        with out.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")

    app.run(host="127.0.0.1", port=port, single_process=True, access_log=False, motd=False)


# --- the benchmark (the main process) --------------------------------------------------------


def questions() -> tuple[dict[str, list[str]], list[str]]:
    """Distinct questions per language kind, and the warm-up questions (none of those)."""
    by_kind: dict[str, list[str]] = {kind: [] for kind in (*LANGUAGES, "warmup")}
    seen: set[str] = set()
    for path in QUESTION_FILES:
        for line in path.read_text("utf-8").splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            text, kind = " ".join(str(row["question"]).split()), str(row["kind"])
            if text.casefold() in seen:
                continue
            if kind in LANGUAGES:
                by_kind[kind].append(text)
            elif kind in WARMUP_KINDS and len(by_kind["warmup"]) < WARMUP:
                by_kind["warmup"].append(text)
            else:
                continue
            seen.add(text.casefold())
    warmup = by_kind.pop("warmup")
    return by_kind, warmup


def temp_index(work: Path) -> Path:
    """An index of the dev corpus and ``knowledge/``, built by ``samvad index``."""
    from bench.common import DEV_CORPUS
    from tests.servers import build_index

    knowledge = work / "knowledge"
    knowledge.mkdir(parents=True)
    for folder in (DEV_CORPUS, ROOT / "knowledge"):
        for file in (*folder.glob("*.md"), *folder.glob("topics.yml")):
            if file.name.lower() != "readme.md":
                shutil.copy(file, knowledge / file.name)
    return build_index(knowledge, work / "index")


def cpu_seconds(pid: int) -> float:
    """CPU time so far of every live thread of process ``pid`` (nanosecond resolution)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            total += int((task / "schedstat").read_text().split()[0])
        except (OSError, IndexError, ValueError):
            continue
    return total / 1e9


def read_new(path: Path, position: list[int]) -> list[dict[str, Any]]:
    """The JSON lines appended to ``path`` since ``position[0]``; moves the position on."""
    if not path.exists():
        return []
    with path.open("rb") as handle:
        handle.seek(position[0])
        data = handle.read()
    complete = data[: data.rfind(b"\n") + 1]
    position[0] += len(complete)
    return [json.loads(line) for line in complete.splitlines() if line.strip()]


def merged(records: list[dict[str, Any]]) -> Stages:
    """The stage totals of several records (calls of one message) added up."""
    total: Stages = {}
    for record in records:
        for stage, (wall, cpu, calls) in record["stages"].items():
            into = total.setdefault(stage, [0.0, 0.0, 0.0])
            into[0] += wall
            into[1] += cpu
            into[2] += calls
    return total


@dataclass
class Sample:
    """One answered message: its stages' [wall, cpu, calls], and its action payload sizes."""

    lang: str
    stages: Stages
    request_bytes: int = 0
    response_bytes: int = 0
    domain_bytes: int = 0


@dataclass
class Run:
    """Everything measured."""

    samples: list[Sample] = field(default_factory=list)
    not_answered: dict[str, int] = field(default_factory=dict)
    asked: int = 0


async def one_message(
    client: Any, sender: str, question: str, pids: tuple[int, int]
) -> tuple[list[dict[str, Any]], Stages]:
    """Send one question as the bot does and render the reply; the client-side stages."""
    from bot.render import read_replies, render_reply

    stages: Stages = {}
    servers_cpu = sum(cpu_seconds(pid) for pid in pids)
    wall, cpu = time.perf_counter(), time.process_time()
    replies: list[dict[str, Any]] = await client.send(sender, question)
    round_wall, round_cpu = time.perf_counter() - wall, time.process_time() - cpu
    round_cpu += sum(cpu_seconds(pid) for pid in pids) - servers_cpu
    stages["rest"] = [round_wall, round_cpu, 1]
    wall, cpu = time.perf_counter(), time.process_time()
    read = read_replies(replies)
    stages["read_replies"] = [time.perf_counter() - wall, time.process_time() - cpu, 1]
    wall, cpu = time.perf_counter(), time.process_time()
    for reply in read:
        render_reply(reply)
    stages["render"] = [time.perf_counter() - wall, time.process_time() - cpu, 1]
    parts = [stages[s] for s in ("rest", "read_replies", "render")]
    stages["whole"] = [sum(p[0] for p in parts), sum(p[1] for p in parts), 1]
    return replies, stages


def outcome(replies: list[dict[str, Any]]) -> str:
    for message in replies:
        custom = message.get("custom")
        if isinstance(custom, dict) and isinstance(custom.get("samvad"), dict):
            return str(custom["samvad"].get("outcome"))
    return "no engine answer"


async def measure(
    rasa_url: str, rounds: int, pids: tuple[int, int], rasa_out: Path, actions_out: Path
) -> Run:
    from bot.rasa_client import RasaClient

    pool, warmup = questions()
    run = Run()
    rasa_pos, actions_pos = [0], [0]
    client = RasaClient(rasa_url, timeout=120.0)
    try:
        for i, question in enumerate(warmup):
            await client.send(f"profile-{i % SENDERS}", question)  # each conversation begun
        read_new(rasa_out, rasa_pos)
        read_new(actions_out, actions_pos)
        answered = dict.fromkeys(LANGUAGES, 0)
        queues = {lang: list(pool[lang]) for lang in LANGUAGES}
        turn = 0
        while any(answered[lang] < rounds and queues[lang] for lang in LANGUAGES):
            for lang in LANGUAGES:
                if answered[lang] >= rounds or not queues[lang]:
                    continue
                question = queues[lang].pop(0)
                replies, stages = await one_message(
                    client, f"profile-{turn % SENDERS}", question, pids
                )
                turn += 1
                run.asked += 1
                rasa_records = read_new(rasa_out, rasa_pos)
                action_records = read_new(actions_out, actions_pos)
                got = outcome(replies)
                if got != "answered":
                    run.not_answered[got] = run.not_answered.get(got, 0) + 1
                    continue
                answered[lang] += 1
                stages.update(merged(rasa_records))
                stages.update(merged(action_records))
                sample = Sample(lang, stages)
                if action_records:
                    sample.request_bytes = sum(r["request_bytes"] for r in action_records)
                    sample.response_bytes = sum(r["response_bytes"] for r in action_records)
                    sample.domain_bytes = action_records[0]["domain_bytes"]
                run.samples.append(sample)
        short = [lang for lang in LANGUAGES if answered[lang] < rounds]
        if short:
            print(f"(ran out of distinct questions for: {', '.join(short)})")
    finally:
        await client.aclose()
    return run


# (label, stage key or None for a heading, depth); "-" keys are remainders computed below.
ROWS: list[tuple[str, str, int]] = [
    ("whole: bot → Rasa → actions → engine → back", "whole", 0),
    ("REST round trip (bot's RasaClient; CPU: 3 processes)", "rest", 1),
    ("Rasa: Agent.handle_message (lock + processor)", "agent", 2),
    ("tracker store: retrieve (SQLite)", "tracker_retrieve", 3),
    ("NLU pipeline (parse_message)", "nlu", 3),
    ("slot extraction (action_extract_slots)", "extract_slots", 3),
    ("policies / prediction (all calls)", "policies", 3),
    ("custom action (RemoteAction.run)", "remote_action", 3),
    ("payload build (tracker state + domain)", "action_payload", 4),
    ("HTTP round trip to the action server", "action_http", 4),
    ("action server handler (request in → response out)", "handler", 5),
    ("ActionExecutor.run", "executor", 6),
    ("engine call (incl. worker-thread hop)", "engine_call", 7),
    ("engine: answer_with_passages", "engine", 8),
    ("masking (privacy.accept)", "mask", 9),
    ("index generation check", "index_current", 9),
    ("query preparation", "prepare", 9),
    ("embedding (model forward)", "embed", 9),
    ("latent terms (concept vectors)", "latent", 9),
    ("search: dense (FAISS + best per chunk)", "dense", 9),
    ("FAISS IndexFlatIP.search", "faiss", 10),
    ("search: BM25", "bm25", 9),
    ("search: fusion (RRF) + hits", "fusion", 9),
    ("decision (signals + verdict)", "decide", 9),
    ("composition (sentences, citation)", "compose", 9),
    ("question log (SQLite write)", "question_log", 9),
    ("(engine: rest)", "-engine", 9),
    ("(thread hop, engine call glue)", "-engine_call", 8),
    ("send_answer (to_json, plain text, buttons)", "send_answer", 7),
    ("(executor: tracker parse, events, rest)", "-executor", 7),
    ("(handler: JSON in/out, Sanic)", "-handler", 6),
    ("(HTTP: new aiohttp session, TCP, transport; no CPU)", "-action_http", 5),
    ("response validation (jsonschema)", "action_validate", 4),
    ("(custom action: events, utterances)", "-remote_action", 4),
    ("tracker store: save (SQLite)", "tracker_save", 3),
    ("(Rasa: rest of handle_message)", "-agent", 3),
    ("(REST channel, Sanic, HTTP, JSON; CPU: 3 processes)", "-rest", 2),
    ("bot: read_replies (custom JSON → Answer)", "read_replies", 1),
    ("bot: render_reply (HTML, keyboard rows)", "render", 1),
]
CHILDREN: dict[str, tuple[str, ...]] = {
    "engine": ("mask", "index_current", "prepare", "embed", "latent", "dense", "bm25",
               "fusion", "decide", "compose", "question_log"),
    "dense": ("faiss",),
    "engine_call": ("engine",),
    "executor": ("engine_call", "send_answer"),
    "handler": ("executor",),
    "action_http": ("handler",),
    "remote_action": ("action_payload", "action_http", "action_validate"),
    "agent": ("tracker_retrieve", "nlu", "extract_slots", "policies", "remote_action",
              "tracker_save"),
    "rest": ("agent",),
}  # fmt: skip
# The CPU a remainder leaves: a parent's CPU minus these children's (``rest`` counts the CPU of
# all three processes, so both servers' timed parts come off); an HTTP wait has no CPU of its
# own to split (its parent is Rasa's, its child the action server's).
CPU_CHILDREN: dict[str, tuple[str, ...]] = {"rest": ("agent", "handler"), "action_http": ()}


def values(samples: list[Sample], key: str, index: int) -> list[float]:
    """Per-message seconds (``index`` 0: wall, 1: CPU) of stage ``key`` (``-parent``: the
    parent's time its timed children do not cover)."""
    out = []
    for sample in samples:
        stages = sample.stages
        if key.startswith("-"):
            parent = key[1:]
            if parent not in stages:
                continue
            children = CPU_CHILDREN.get(parent, CHILDREN[parent]) if index else CHILDREN[parent]
            if index and not children:
                continue
            covered = sum(stages[c][index] for c in children if c in stages)
            out.append(stages[parent][index] - covered)
        elif key in stages:
            out.append(stages[key][index])
    return out


def pct(data: list[float], q: float) -> float:
    if len(data) == 1:
        return data[0]
    return statistics.quantiles(data, n=100, method="inclusive")[round(q) - 1]


def report(run: Run) -> None:
    samples = run.samples
    langs = {lang: sum(s.lang == lang for s in samples) for lang in LANGUAGES}
    skipped = ", ".join(f"{n} {k}" for k, n in run.not_answered.items()) or "none"
    per_lang = ", ".join(f"{n} {k}" for k, n in langs.items())
    print(
        f"\n{len(samples)} answered messages timed ({per_lang}); "
        f"{run.asked} asked; not answered, left out: {skipped}"
    )
    if not samples:
        return
    whole = sum(values(samples, "whole", 0))
    width = 62
    head = f"{'n':>3} {'wall p50':>9} {'wall p95':>9} {'CPU p50':>8} {'share':>6}"
    print(f"\n{'stage':<{width}} {head}")
    print(f"{'':<{width}} {'':>3} {'ms':>9} {'ms':>9} {'ms':>8} {'%':>6}")
    for label, key, depth in ROWS:
        walls, cpus = values(samples, key, 0), values(samples, key, 1)
        cpu_p50 = f"{pct(cpus, 50) * 1000:>8.2f}" if cpus else f"{'—':>8}"
        name = ("  " * depth + label)[:width]
        if not walls:
            print(f"{name:<{width}} {0:>3} {'—':>9} {'—':>9} {'—':>8} {'—':>6}")
            continue
        calls = values(samples, key, 2) if not key.startswith("-") else []
        many = f" x{statistics.median(calls):.0f}" if calls and statistics.median(calls) > 1 else ""
        name = ("  " * depth + label + many)[:width]
        print(
            f"{name:<{width}} {len(walls):>3} {pct(walls, 50) * 1000:>9.2f} "
            f"{pct(walls, 95) * 1000:>9.2f} {cpu_p50} "
            f"{100 * sum(walls) / whole:>6.1f}"
        )
    sized = [s for s in samples if s.request_bytes]
    if sized:
        requests = [float(s.request_bytes) for s in sized]
        responses = [float(s.response_bytes) for s in sized]
        domain = sized[0].domain_bytes
        print(
            f"\naction call payload (bytes on the wire, JSON body): request p50 "
            f"{pct(requests, 50):,.0f} (min {min(requests):,.0f}, max {max(requests):,.0f}; of "
            f"which the domain {domain:,}), response p50 {pct(responses, 50):,.0f} "
            f"(min {min(responses):,.0f}, max {max(responses):,.0f})"
        )
    for lang in LANGUAGES:
        mine = [s for s in samples if s.lang == lang]
        if mine:
            rest = values(mine, "rest", 0)
            embed = values(mine, "embed", 0)
            print(
                f"{lang:<10} n={len(mine):>3}  REST p50 {pct(rest, 50) * 1000:7.2f} ms  "
                f"embedding p50 {pct(embed, 50) * 1000 if embed else float('nan'):6.2f} ms"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.profile",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 2)[2],
    )
    parser.add_argument(
        "--rounds", type=int, default=10, help="answered questions to time per language (10)"
    )
    parser.add_argument(
        "--index",
        type=Path,
        help="an existing index folder (default: $SAMVAD_INDEX_DIR if set, else a temporary "
        "index of the dev corpus)",
    )
    parser.add_argument("--serve-actions", nargs=2, metavar=("PORT", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_actions:
        serve_actions(int(args.serve_actions[0]), Path(args.serve_actions[1]))
        return 0

    from bot.supervisor import rasa_command, service_env, write_endpoints
    from tests.servers import Process, free_ports, http_ok, trained_rasa_model

    with tempfile.TemporaryDirectory(prefix="samvad-profile-") as tmp:
        work = Path(tmp)
        index = args.index or (
            Path(os.environ["SAMVAD_INDEX_DIR"]) if os.environ.get("SAMVAD_INDEX_DIR") else None
        )
        if index is None:
            print("building a temporary index of the dev corpus…", flush=True)
            index = temp_index(work)
        model = trained_rasa_model()
        action_port, rasa_port = free_ports(2)
        endpoints = write_endpoints(work / "endpoints.yml", action_port, work / "tracker.db")
        env = service_env(SAMVAD_INDEX_DIR=str(index), SAMVAD_DATA_DIR=str(work / "data"))
        rasa_out, actions_out = work / "rasa-stages.jsonl", work / "actions-stages.jsonl"
        actions = Process(
            "actions",
            [sys.executable, "-m", "bench.profile", "--serve-actions", str(action_port),
             str(actions_out)],
            env,
            lambda: http_ok(f"http://127.0.0.1:{action_port}/health"),
            work / "actions.log",
        )  # fmt: skip
        rasa_url = f"http://127.0.0.1:{rasa_port}"
        rasa = Process(
            "rasa",
            [str(RASA_PYTHON), str(ROOT / "bench" / "profile_rasa.py"), str(rasa_out),
             *rasa_command(rasa_port, model, endpoints)[1:]],
            env,
            lambda: http_ok(f"{rasa_url}/webhooks/rest/"),
            work / "rasa.log",
        )  # fmt: skip
        try:
            actions.start()
            rasa.start()
            assert actions.process is not None and rasa.process is not None
            pids = (rasa.process.pid, actions.process.pid)
            print(f"index {index}; Rasa model {model.name}; timing {args.rounds} answered "
                  f"questions per language", flush=True)  # fmt: skip
            run = asyncio.run(measure(rasa_url, args.rounds, pids, rasa_out, actions_out))
        finally:
            rasa.stop()
            actions.stop()
        report(run)
    return 0


if __name__ == "__main__":
    sys.exit(main())
