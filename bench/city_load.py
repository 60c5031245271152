"""City load benchmark: citizens arriving open-loop, through the Telegram path, on several set-ups.

    .venv/bin/python bench/city_load.py                                  # the whole ladder
    .venv/bin/python bench/city_load.py --configs default --rates 2 --seconds 10   # a quick try

What it does, for each configuration named in ``--configs`` (each started fresh, one after
the other, with the same questions and the same random seed):

1. starts Samvad as that configuration runs it (see below), the Bot API emulator
   (``tests/emulator``) and the real bot (``python -m bot``, long polling);
2. warms up (the engine loads its model on first use) at ``--warmup-rate`` messages/s;
3. climbs the rate ladder ``--rates``: at each rate, citizens arrive at random (Poisson, or
   evenly spaced with jitter: ``--arrivals even``), **without waiting for anyone's reply** —
   the arrival rate is set, whatever the system does (open loop). Each citizen is a chat of its
   own and sends 1, 2 or 3 messages; its next message only after the reply to the previous one
   arrived plus a think time (``--think``), so one chat's messages stay in order. New citizens
   arrive at rate/2 per second (2 messages each on average), so messages are offered at the
   rate. Arrivals start ``--ramp`` seconds before the measured window of ``--seconds`` seconds
   and go on until the window's messages are answered, so the window sees a steady load;
4. prints one line per rate, then a side-by-side table: per configuration, the highest rate
   with p95 latency ≤ ``--target-p95`` (1 s), nothing lost, duplicated or apologised for.

Questions: every message is a different text, drawn from the project's question sets
(``tests/fixtures/*.jsonl`` and ``tests/fixtures/questions_v2/*.jsonl``: Marathi, English and
romanized Marathi). They are far fewer than a ladder needs, so after the first use of each, a
variant is made by putting a citizen's name and ward number in front ("मी सुनीता, प्रभाग 7:
…", "mi Sunita, prabhag 7: …", "Sunita from ward 7 here: …"); the output says how many
messages were variants. No figure comes from answering the same text twice.

Figures, per rate step:

- offered: messages sent in the window per second; served: first replies received in the
  window per second (in the bot's apology or not);
- p50/p95/p99/max: latency of the window's messages, from the emulator receiving the
  citizen's update to the bot's first reply message for it;
- lost: messages (of the whole step) with no reply within ``--timeout``; a citizen whose
  message is lost sends nothing more;
- dup: replies beyond the expected ones: a message counts as duplicated when the bot sent it
  the same message text twice (the way a twice-handled update shows), checked after a quiet
  period of ``--quiet`` seconds; replies arriving even later are added up at the end;
- apol.: messages whose reply was the bot's or the engine's apology ("Sorry, something went
  wrong…": Rasa did not answer within SAMVAD_RASA_TIMEOUT, 30 s, or failed);
- API/s: the bot's ``sendMessage`` + ``sendChatAction`` ("typing…") requests per second in
  the window: the bot's PTB ``AIORateLimiter`` lets at most 30 such requests a second through
  (Telegram's overall flood limit), whatever the configuration;
- cpu: CPU time of each part in the window, in % of one core (the machine's cores: ``nproc``);
  "host" is the whole machine's busy time (200 = two cores fully busy), which also counts
  what the kernel spends on the loopback traffic and anything else running.

A step with p95 above ``--give-up-p95`` or anything lost ends that configuration's ladder
(higher rates would only queue more).

Configurations:

- ``default``: what ``make run`` gives: SQLite tracker store, in-memory lock store, one Rasa
  server, one action server, the bot's default settings;
- ``eager-typing``: ``default`` with "typing…" sent before every answer
  (``SAMVAD_TYPING_DELAY=0``, what the bot did before that setting), to compare with it;
- ``tuned``: one host, existing knobs only: ``SAMVAD_STORES=shared`` (Redis lock store and
  PostgreSQL tracker store, from ``scripts/services.sh``; Rasa ignores ``SANIC_WORKERS``
  with the in-memory lock store), ``SANIC_WORKERS=--tuned-rasa-workers`` for Rasa,
  ``ACTION_SERVER_SANIC_WORKERS=--tuned-action-workers`` for the action server, and
  ``SAMVAD_CONCURRENT_UPDATES=256`` for the bot;
- ``replicas``: two Rasa servers, each with its own action server, on the same Redis and
  PostgreSQL, behind a private nginx (Debian's; the configuration is ``deploy/nginx-rasa.conf``
  filled in) on loopback; the bot talks to nginx. ``SAMVAD_CONCURRENT_UPDATES=256`` too.

Shared stores use a PostgreSQL database and Redis key prefix of this run's own (the database
is dropped at the end). Needs ``scripts/services.sh start`` for ``tuned`` and ``replicas``,
and ``/usr/sbin/nginx`` (``apt-get install -y nginx``) for ``replicas``. Prints figures,
asserts nothing; service logs stay in the printed work folder with ``--keep``.
"""

from __future__ import annotations

import argparse
import contextlib
import heapq
import json
import math
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from samvad.messages import text as say  # noqa: E402
from samvad.settings import Settings  # noqa: E402
from tests.emulator import BotApiEmulator  # noqa: E402
from tests.servers import (  # noqa: E402
    SERVICES_PASSWORD,
    Process,
    RasaStack,
    bot_process,
    build_index,
    free_port,
    http_ok,
    private_stores,
    services_psql,
    trained_rasa_model,
)

TOKEN = "7700123456:AAE-samvad-city-load-token-Q1w2E3r4T5y6U7i8"
QUESTION_FILES = (
    ROOT / "tests" / "fixtures" / "dev_questions.jsonl",
    ROOT / "tests" / "fixtures" / "heldout_questions.jsonl",
    ROOT / "tests" / "fixtures" / "questions_v2" / "tuning.jsonl",
    ROOT / "tests" / "fixtures" / "questions_v2" / "kept_aside.jsonl",
)
CORPORA = (ROOT / "knowledge", ROOT / "tests" / "fixtures" / "corpus")
NGINX_TEMPLATE = ROOT / "deploy" / "nginx-rasa.conf"
NGINX_BIN = Path(shutil.which("nginx") or "/usr/sbin/nginx")
DEVANAGARI = re.compile("[\u0900-\u097f]")
NAMES = (
    ("सुनीता", "Sunita"), ("राजेश", "Rajesh"), ("प्रिया", "Priya"), ("अमोल", "Amol"),
    ("मीना", "Meena"), ("संदीप", "Sandeep"), ("कविता", "Kavita"), ("नितीन", "Nitin"),
    ("स्वाती", "Swati"), ("गणेश", "Ganesh"), ("अश्विनी", "Ashwini"), ("विजय", "Vijay"),
)  # fmt: skip
APOLOGIES = tuple(
    say(key, lang).split(".")[0].split(";")[0]
    for key in ("error", "engine_error")
    for lang in ("mr", "en")
)
MESSAGES_PER_CITIZEN = (1, 2, 3)  # equally likely: 2 on average


# --- questions -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    text: str
    style: str  # "mr" (Devanagari), "rom" (romanized Marathi) or "en"


def load_questions() -> list[Question]:
    """Every distinct question of the project's question sets."""
    seen: dict[str, Question] = {}
    for path in QUESTION_FILES:
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            question = " ".join(str(row["question"]).split())
            if DEVANAGARI.search(question):
                style = "mr"
            else:
                style = "rom" if row.get("lang") == "mr" else "en"
            seen.setdefault(question, Question(question, style))
    return list(seen.values())


def variant(question: Question, round_: int, position: int) -> str:
    """The ``round_``-th (1, 2, …) variant of ``question``: a citizen's name and ward in front."""
    marathi, latin = NAMES[(round_ + position) % len(NAMES)]
    if question.style == "mr":
        return f"मी {marathi}, प्रभाग {round_}: {question.text}"
    if question.style == "rom":
        return f"mi {latin}, prabhag {round_}: {question.text}"
    return f"{latin} from ward {round_} here: {question.text}"


class QuestionPool:
    """Distinct message texts: the questions in a seeded order, then their variants."""

    def __init__(self, questions: list[Question], seed: int) -> None:
        self.questions = list(questions)
        random.Random(seed).shuffle(self.questions)
        self.taken = 0
        self.seen: set[str] = set()

    @property
    def variants(self) -> int:
        return max(0, self.taken - len(self.questions))

    def take(self) -> str:
        round_, position = divmod(self.taken, len(self.questions))
        self.taken += 1
        question = self.questions[position]
        text = question.text if round_ == 0 else variant(question, round_, position)
        assert text not in self.seen, text  # by construction; guards future edits
        self.seen.add(text)
        return text


# --- measuring -----------------------------------------------------------------------------


@dataclass
class Message:
    """One message a citizen sent, and what came back."""

    chat: int
    at: float  # time.monotonic() just before the emulator received the update
    first: float | None = None  # the bot's first reply for it
    replies: list[str] = field(default_factory=list)

    def latency(self) -> float | None:
        return None if self.first is None else self.first - self.at


@dataclass
class Citizen:
    chat: int
    arrives: float  # seconds after the step's start
    questions: list[str]
    thinks: list[float]  # seconds between a reply and the next message
    sent: list[Message] = field(default_factory=list)
    started: bool = False


class CityEmulator(BotApiEmulator):
    """The Bot API emulator, telling :class:`Load` about each message the bot sends."""

    def __init__(self, token: str, load: Load) -> None:
        super().__init__(token)
        self.load = load
        # A bot stopped in the middle of a long poll resets its connection: not worth a
        # traceback on the terminal (the stdlib server prints one per such request).
        setattr(self._server, "handle_error", lambda request, address: None)  # noqa: B010

    def _api_sendmessage(self, params: dict[str, Any]) -> Any:
        result = super()._api_sendmessage(params)
        self.load.on_reply(int(result["chat"]["id"]), str(params.get("text") or ""))
        return result


class Load:
    """The citizens of one configuration's run: sends their messages when due (one scheduler
    thread), records the bot's replies (from the emulator's threads)."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.cond = threading.Condition()
        self.due: list[tuple[float, int, int]] = []  # (monotonic time, seq, chat)
        self.citizens: dict[int, Citizen] = {}
        self.stray = 0  # replies to chats no citizen has
        self.seq = 0
        self.closing = False
        self.emulator = CityEmulator(TOKEN, self)
        self.thread = threading.Thread(target=self._scheduler, daemon=True)

    def start(self) -> None:
        self.emulator.start()
        self.thread.start()

    def stop(self) -> None:
        with self.cond:
            self.closing = True
            self.cond.notify_all()
        self.thread.join(timeout=5)
        self.emulator.stop()

    def _push(self, when: float, chat: int) -> None:
        self.seq += 1
        heapq.heappush(self.due, (when, self.seq, chat))
        self.cond.notify_all()

    def add(self, citizen: Citizen, when: float) -> None:
        """A citizen whose first message is due at ``when`` (monotonic)."""
        with self.cond:
            self.citizens[citizen.chat] = citizen
            citizen.started = True
            self._push(when, citizen.chat)

    def _scheduler(self) -> None:
        while True:
            with self.cond:
                while not self.closing and (not self.due or self.due[0][0] > time.monotonic()):
                    wait = self.due[0][0] - time.monotonic() if self.due else 1.0
                    self.cond.wait(max(0.0, min(wait, 1.0)))
                if self.closing:
                    return
                _, _, chat = heapq.heappop(self.due)
                citizen = self.citizens[chat]
                question = citizen.questions[len(citizen.sent)]
                citizen.sent.append(Message(chat, time.monotonic()))
            self.emulator.send_text(chat, question)

    def on_reply(self, chat: int, raw: str) -> None:
        now = time.monotonic()
        with self.cond:
            citizen = self.citizens.get(chat)
            if citizen is None or not citizen.sent:
                self.stray += 1
                return
            message = citizen.sent[-1]
            message.replies.append(raw)
            if message.first is not None:
                return
            message.first = now
            k = len(citizen.sent)
            if now - message.at <= self.timeout and k < len(citizen.questions):
                self._push(now + citizen.thinks[k - 1], chat)

    def finished(self, citizen: Citizen, now: float) -> bool:
        """Whether ``citizen`` will send nothing more (answered all, or one message lost)."""
        if not citizen.sent:
            return not citizen.started
        last = citizen.sent[-1]
        if last.first is None:
            return now - last.at > self.timeout
        return len(citizen.sent) == len(citizen.questions) or last.first - last.at > self.timeout

    def api_calls(self) -> int:
        """Bot API requests so far that Telegram's (and PTB's) overall flood limit counts:
        ``sendMessage`` and ``sendChatAction`` (the "typing…" the bot shows meanwhile)."""
        calls = dict(self.emulator.calls)
        return sum(n for m, n in calls.items() if m.lower() in ("sendmessage", "sendchataction"))

    def wait_single(self, chat: int, text: str, timeout: float) -> float | None:
        """Send one message now and wait for its reply; its latency (``None``: none came)."""
        citizen = Citizen(chat, 0.0, [text], [])
        self.add(citizen, time.monotonic())
        deadline = time.monotonic() + timeout
        with self.cond:
            while time.monotonic() < deadline:
                if citizen.sent and citizen.sent[0].first is not None:
                    return citizen.sent[0].latency()
                self.cond.wait(0.5)
        return None


# --- CPU use -------------------------------------------------------------------------------


def _proc_table() -> dict[int, tuple[int, str, float]]:
    """pid → (parent pid, command name, CPU seconds used) of every process."""
    tick = os.sysconf("SC_CLK_TCK")
    table: dict[int, tuple[int, str, float]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        table[int(entry)] = (int(fields[1]), name, (int(fields[11]) + int(fields[12])) / tick)
    return table


def cpu_seconds(groups: dict[str, list[int]]) -> dict[str, float]:
    """CPU seconds used so far by each group of processes (with their children, live ones
    only); also "postgres" and "redis" by name, and "bench" (this process)."""
    table = _proc_table()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in table.items():
        children.setdefault(ppid, []).append(pid)

    def tree(pid: int) -> float:
        return (table[pid][2] if pid in table else 0.0) + sum(
            tree(c) for c in children.get(pid, [])
        )

    used = {name: sum(tree(pid) for pid in pids) for name, pids in groups.items()}
    used["postgres"] = sum(t for _, n, t in table.values() if n.startswith("postgres"))
    used["redis"] = sum(t for _, n, t in table.values() if n.startswith("redis"))
    used["bench"] = table.get(os.getpid(), (0, "", 0.0))[2]
    # The whole host, busy time of all cores (200 = two cores fully busy): includes what the
    # kernel spends on loopback traffic, which no process above is charged with.
    cpu = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    ticks = [int(v) for v in cpu]
    used["host"] = (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")
    return used


# --- the configurations --------------------------------------------------------------------


@dataclass(frozen=True)
class Config:
    name: str
    summary: str
    shared: bool = False
    replicas: int = 1
    rasa_workers: int = 1
    action_workers: int = 1
    bot_env: dict[str, str] = field(default_factory=dict)


def configs(args: argparse.Namespace) -> dict[str, Config]:
    tuned_bot = {"SAMVAD_CONCURRENT_UPDATES": "256"}
    rw, aw = args.tuned_rasa_workers, args.tuned_action_workers
    return {
        "default": Config("default", "SQLite tracker, 1 Rasa, 1 action server (make run)"),
        "eager-typing": Config(
            "eager-typing",
            "as default, but \"typing…\" before every answer (SAMVAD_TYPING_DELAY=0, as "
            "before that setting)",
            bot_env={"SAMVAD_TYPING_DELAY": "0"},
        ),
        "tuned": Config(
            "tuned",
            f"shared stores, 1 Rasa with SANIC_WORKERS={rw}, "
            f"action server with ACTION_SERVER_SANIC_WORKERS={aw}, bot 256 updates at once",
            shared=True, rasa_workers=rw, action_workers=aw, bot_env=tuned_bot,
        ),
        "replicas": Config(
            "replicas",
            "shared stores, 2 x (Rasa + action server) behind nginx, bot 256 updates at once",
            shared=True, replicas=2, bot_env=tuned_bot,
        ),
    }  # fmt: skip


class Nginx:
    """A private nginx on loopback, from :data:`NGINX_TEMPLATE`, in front of ``upstreams``."""

    def __init__(self, workdir: Path, upstreams: list[str]) -> None:
        self.prefix = workdir / "nginx"
        self.prefix.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        servers = "\n        ".join(
            f"server {u.removeprefix('http://')} max_fails=1 fail_timeout=10s;" for u in upstreams
        )
        values = {"@LISTEN@": f"127.0.0.1:{self.port}", "@RASA_SERVERS@": servers,
                  "@PREFIX@": str(self.prefix)}  # fmt: skip
        lines = []
        for line in NGINX_TEMPLATE.read_text(encoding="utf-8").splitlines():
            if not line.lstrip().startswith("#"):  # the comments keep the @...@ words
                for word, value in values.items():
                    line = line.replace(word, value)
            lines.append(line)
        self.conf = self.prefix / "nginx.conf"
        self.conf.write_text("\n".join(lines) + "\n", encoding="utf-8")
        self.log = self.prefix / "error.log"
        base = [str(NGINX_BIN), "-p", str(self.prefix), "-e", str(self.log), "-c", str(self.conf)]
        self.process = Process(
            "nginx", [*base, "-g", "daemon off;"], dict(os.environ),
            lambda: http_ok(f"{self.url}/webhooks/rest/"), self.prefix / "stdout.log",
        )  # fmt: skip
        self.check = [*base, "-t"]

    def start(self) -> None:
        checked = subprocess.run(self.check, capture_output=True, text=True, check=False)
        if checked.returncode != 0:
            raise RuntimeError(f"nginx -t failed: {checked.stderr.strip()}")
        self.process.start(timeout=30)

    def stop(self) -> None:
        if self.process.process is not None and self.process.running:
            self.process.process.send_signal(signal.SIGQUIT)  # graceful
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.process.wait(timeout=10)
        self.process.stop()


class Deployment:
    """One configuration's services (not the bot)."""

    def __init__(self, config: Config, workdir: Path, index_dir: Path, model: Path,
                 run_id: str) -> None:  # fmt: skip
        self.config = config
        self.database: str | None = None
        stores: Settings | None = None
        if config.shared:
            self.database = f"samvad_city_{run_id}_{config.name}"
            stores = private_stores(self.database)
        self.stacks: list[RasaStack] = []
        for n in range(config.replicas):
            stack = RasaStack(workdir / f"rasa{n + 1}", index_dir, model=model, stores=stores,
                              key_prefix=f"city{run_id}{config.name}")  # fmt: skip
            stack.rasa.env = dict(stack.rasa.env, SANIC_WORKERS=str(config.rasa_workers))
            stack.actions.env = dict(
                stack.actions.env, ACTION_SERVER_SANIC_WORKERS=str(config.action_workers)
            )
            self.stacks.append(stack)
        self.nginx = Nginx(workdir, [s.url for s in self.stacks]) if config.replicas > 1 else None

    @property
    def url(self) -> str:
        return self.nginx.url if self.nginx is not None else self.stacks[0].url

    def start(self) -> None:
        for stack in self.stacks:
            stack.start()
        if self.nginx is not None:
            self.nginx.start()

    def stop(self) -> None:
        if self.nginx is not None:
            self.nginx.stop()
        for stack in self.stacks:
            stack.stop()
        if self.database is not None:
            services_psql(f"DROP DATABASE IF EXISTS {self.database}", check=False)

    def cpu_groups(self) -> dict[str, list[int]]:
        def pids(processes: list[Process]) -> list[int]:
            return [p.process.pid for p in processes if p.process is not None]

        several = len(self.stacks) > 1
        groups: dict[str, list[int]] = {}
        for n, stack in enumerate(self.stacks, start=1):
            suffix = str(n) if several else ""
            groups[f"rasa{suffix}"] = pids([stack.rasa])
            groups[f"actions{suffix}"] = pids([stack.actions])
        if self.nginx is not None:
            groups["nginx"] = pids([self.nginx.process])
        return groups


# --- one rate step -------------------------------------------------------------------------


@dataclass
class Step:
    rate: float
    offered: float
    served: float
    latencies: list[float]
    lost: int
    duplicated: int
    apologies: int
    messages: int
    cpu: dict[str, float]
    api_rate: float

    def pct(self, p: float) -> float:
        values = sorted(self.latencies)
        if not values:
            return math.nan
        return values[min(len(values) - 1, max(0, math.ceil(p / 100 * len(values)) - 1))]

    def ok(self, target_p95: float) -> bool:
        return (
            bool(self.latencies)
            and self.pct(95) <= target_p95
            and self.lost == 0
            and self.duplicated == 0
            and self.apologies == 0
        )

    def row(self) -> str:
        cpu = " ".join(f"{k} {v:.0f}" for k, v in self.cpu.items() if v >= 0.5)
        return (
            f"| {self.rate:5.1f} | {self.offered:6.2f} | {self.served:6.2f} | "
            f"{statistics.median(self.latencies) if self.latencies else math.nan:5.2f} | "
            f"{self.pct(95):5.2f} | {self.pct(99):5.2f} | {self.pct(100):5.2f} | "
            f"{self.lost:4d} | {self.duplicated:3d} | {self.apologies:5d} | {self.messages:5d} | "
            f"{self.api_rate:5.1f} | "
            f"{cpu} |"
        )


STEP_HEADER = (
    "| rate | offered/s | served/s | p50 s | p95 s | p99 s | max s | lost | dup | apol. | "
    "msgs | API/s | cpu % of one core (window) |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def plan(rate: float, horizon: float, pool: QuestionPool, rng: random.Random, first_chat: int,
         arrivals: str, think: tuple[float, float]) -> list[Citizen]:  # fmt: skip
    """Citizens arriving over ``horizon`` seconds so that messages are offered at ``rate``."""
    citizen_rate = rate / statistics.mean(MESSAGES_PER_CITIZEN)
    citizens: list[Citizen] = []
    t = 0.0
    while True:
        if arrivals == "poisson":
            t += rng.expovariate(citizen_rate)
            when = t
        else:
            t += 1 / citizen_rate
            when = max(0.0, t + rng.uniform(-0.4, 0.4) / citizen_rate)
        if when >= horizon:
            return citizens
        count = rng.choice(MESSAGES_PER_CITIZEN)
        questions = [pool.take() for _ in range(count)]
        thinks = [rng.uniform(*think) for _ in range(count - 1)]
        citizens.append(Citizen(first_chat + len(citizens), when, questions, thinks))


def is_apology(raw: str) -> bool:
    return any(a in raw for a in APOLOGIES)


def run_step(load: Load, citizens: list[Citizen], rate: float, args: argparse.Namespace,
             groups: dict[str, list[int]]) -> Step:  # fmt: skip
    """Feed ``citizens`` (arrival times from now); measure the window after the ramp."""
    start = time.monotonic() + 0.2
    window = (start + args.ramp, start + args.ramp + args.seconds)
    cpu_before: dict[str, float] = {}
    cpu_at = window[0]
    calls_before = 0
    fed = 0
    while True:
        now = time.monotonic()
        if not cpu_before and now >= window[0]:
            cpu_before = cpu_seconds(groups)
            calls_before = load.api_calls()
            cpu_at = now
        if cpu_before and now >= window[1]:
            break
        while fed < len(citizens) and start + citizens[fed].arrives <= now + 0.05:
            load.add(citizens[fed], start + citizens[fed].arrives)
            fed += 1
        time.sleep(0.02)
    cpu_after = cpu_seconds(groups)
    api_rate = (load.api_calls() - calls_before) / args.seconds
    cpu_span = time.monotonic() - cpu_at
    cpu = {k: 100 * (cpu_after[k] - cpu_before.get(k, 0.0)) / cpu_span for k in cpu_after}

    def in_window(c: Citizen) -> bool:
        return any(window[0] <= m.at < window[1] for m in c.sent)

    # Keep the load on until every message sent in the window is done, then stop arriving.
    deadline = window[1] + args.timeout + 2 * args.think[1] + 5
    while time.monotonic() < deadline:
        now = time.monotonic()
        with load.cond:
            busy = [c for c in citizens[:fed] if in_window(c) and not load.finished(c, now)]
        if not busy:
            break
        while fed < len(citizens) and start + citizens[fed].arrives <= now + 0.05:
            load.add(citizens[fed], start + citizens[fed].arrives)
            fed += 1
        time.sleep(0.05)
    # Then let the rest finish (nothing new arrives), and wait the quiet period.
    deadline = time.monotonic() + args.timeout + 2 * args.think[1] + 5
    while time.monotonic() < deadline:
        now = time.monotonic()
        with load.cond:
            if all(load.finished(c, now) for c in citizens[:fed]):
                break
        time.sleep(0.1)
    time.sleep(args.quiet)

    with load.cond:
        sent = [m for c in citizens[:fed] for m in c.sent]
        windowed = [m for m in sent if window[0] <= m.at < window[1]]
        latencies = [lat for m in windowed if (lat := m.latency()) is not None]
        lost = sum(1 for m in sent if m.first is None or m.first - m.at > args.timeout)
        duplicated = sum(len(m.replies) - len(set(m.replies)) for m in sent)
        apologies = sum(1 for m in sent if m.replies and is_apology(m.replies[0]))
        served = sum(1 for m in sent if m.first is not None and window[0] <= m.first < window[1])
    return Step(rate, len(windowed) / args.seconds, served / args.seconds, latencies, lost,
                duplicated, apologies, len(sent), cpu, api_rate)  # fmt: skip


# --- one configuration ---------------------------------------------------------------------


@dataclass
class ConfigResult:
    config: Config
    steps: list[Step] = field(default_factory=list)
    late_duplicates: int = 0
    failed: str = ""

    def best(self, target_p95: float) -> Step | None:
        good = [s for s in self.steps if s.ok(target_p95)]
        return max(good, key=lambda s: s.rate) if good else None


def run_config(
    config: Config,
    args: argparse.Namespace,
    questions: list[Question],
    index_dir: Path,
    model: Path,
    workdir: Path,
    run_id: str,
) -> ConfigResult:
    result = ConfigResult(config)
    pool = QuestionPool(questions, args.seed)
    load = Load(args.timeout)
    deployment = Deployment(config, workdir, index_dir, model, run_id)
    bot: Process | None = None
    print(f"\n## {config.name}: {config.summary}", flush=True)
    started = time.monotonic()
    try:
        load.start()
        deployment.start()
        bot = bot_process(
            workdir, TOKEN, load.emulator.base_url, deployment.url,
            SAMVAD_INDEX_DIR=str(index_dir), SAMVAD_LOG_LEVEL="WARNING", **config.bot_env,
        )  # fmt: skip
        bot.start(timeout=90)
        print(f"started in {time.monotonic() - started:.0f} s (logs: {workdir})", flush=True)
        chat = 1_000_000
        first = load.wait_single(chat, pool.take(), timeout=300)
        chat += 1
        print(f"first reply after {first if first is None else round(first, 1)} s", flush=True)
        groups = deployment.cpu_groups()
        groups["bot"] = [bot.process.pid] if bot.process is not None else []
        rng = random.Random(f"{args.seed}:warm-up")
        horizon = args.warmup_seconds
        warm = plan(args.warmup_rate, horizon, pool, rng, chat, args.arrivals, args.think)
        chat += len(warm)
        warm_args = argparse.Namespace(**{**vars(args), "ramp": 0.0, "seconds": horizon})
        step = run_step(load, warm, args.warmup_rate, warm_args, groups)
        print(f"warm-up: {step.messages} messages at {args.warmup_rate}/s, p50 "
              f"{statistics.median(step.latencies) if step.latencies else math.nan:.2f} s, "
              f"max {step.pct(100):.2f} s, lost {step.lost}", flush=True)  # fmt: skip
        print(STEP_HEADER, flush=True)
        for n, rate in enumerate(args.rates):
            rng = random.Random(f"{args.seed}:{n}:{rate}")
            horizon = args.ramp + args.seconds + args.timeout + 2 * args.think[1] + 10
            citizens = plan(rate, horizon, pool, rng, chat, args.arrivals, args.think)
            chat += len(citizens)
            step = run_step(load, citizens, rate, args, groups)
            result.steps.append(step)
            print(step.row(), flush=True)
            if step.lost or step.pct(95) > args.give_up_p95:
                rest = [f"{r:g}" for r in args.rates[n + 1 :]]
                if rest:
                    print(f"(overloaded: not running rates {', '.join(rest)})", flush=True)
                break
        time.sleep(args.quiet)
        with load.cond:
            total = sum(
                len(m.replies) - len(set(m.replies)) for c in load.citizens.values() for m in c.sent
            )
            stray = load.stray
        result.late_duplicates = total - sum(s.duplicated for s in result.steps)
        print(f"questions: {pool.taken} distinct texts planned, {pool.variants} of them variants "
              f"(name/ward prefix); duplicates arriving after their step's report: "
              f"{max(0, result.late_duplicates)}; replies to unknown chats: {stray}",
              flush=True)  # fmt: skip
    except (RuntimeError, TimeoutError, OSError) as exc:
        result.failed = str(exc)
        print(f"{config.name} failed: {exc}", flush=True)
    finally:
        if bot is not None:
            bot.stop()
        deployment.stop()
        load.stop()
    return result


def final_table(results: list[ConfigResult], target_p95: float) -> str:
    lines = [
        f"| configuration | highest rate with p95 ≤ {target_p95:g} s, 0 lost, 0 dup, 0 apol. "
        "| served/s there | p95 s there | highest rate run | its p95 s | its lost |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        if r.failed and not r.steps:
            lines.append(f"| {r.config.name} | failed: {r.failed[:60]} | | | | | |")
            continue
        best = r.best(target_p95)
        top = max(r.steps, key=lambda s: s.rate) if r.steps else None
        lines.append(
            f"| {r.config.name} | "
            + (f"{best.rate:g}/s | {best.served:.2f} | {best.pct(95):.2f}" if best else
               "none | | ")
            + (f" | {top.rate:g}/s | {top.pct(95):.2f} | {top.lost} |" if top else " | | | |")
        )  # fmt: skip
    return "\n".join(lines)


def think_range(value: str) -> tuple[float, float]:
    low, _, high = value.partition("-")
    try:
        pair = (float(low), float(high or low))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r}: expected MIN-MAX seconds, e.g. 2-6") from None
    if pair[0] < 0 or pair[1] < pair[0]:
        raise argparse.ArgumentTypeError(f"{value!r}: expected 0 ≤ MIN ≤ MAX")
    return pair


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/city_load.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--configs",
        nargs="+",
        choices=("default", "eager-typing", "tuned", "replicas"),
        default=["default", "tuned", "replicas"],
        help="configurations to run, in this order (default: all three)",
    )
    parser.add_argument(
        "--rates",
        type=float,
        nargs="+",
        default=[5, 10, 15, 20, 30, 40],
        help="offered messages per second, one step each (5 10 15 20 30 40)",
    )
    parser.add_argument(
        "--seconds", type=float, default=30.0, help="measured window of each step, seconds (30)"
    )
    parser.add_argument(
        "--ramp", type=float, default=5.0, help="seconds of arrivals before each window opens (5)"
    )
    parser.add_argument(
        "--arrivals",
        choices=("poisson", "even"),
        default="poisson",
        help="citizen arrivals: Poisson, or evenly spaced with jitter (poisson)",
    )
    parser.add_argument(
        "--think",
        type=think_range,
        default=(2.0, 6.0),
        metavar="MIN-MAX",
        help="a citizen's think time between a reply and its next message (2-6)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=60.0,
        help="a message with no reply within this many seconds is lost (60)",
    )
    parser.add_argument(
        "--quiet",
        type=float,
        default=3.0,
        help="seconds to wait after a step before counting duplicates (3)",
    )
    parser.add_argument(
        "--target-p95",
        type=float,
        default=1.0,
        help="the p95 latency a step must meet in the final table (1.0)",
    )
    parser.add_argument(
        "--give-up-p95",
        type=float,
        default=5.0,
        help="a step with p95 above this ends the configuration's ladder (5)",
    )
    parser.add_argument(
        "--warmup-rate", type=float, default=2.0, help="messages per second while warming up (2)"
    )
    parser.add_argument(
        "--warmup-seconds", type=float, default=15.0, help="seconds of warm-up arrivals (15)"
    )
    parser.add_argument(
        "--tuned-rasa-workers", type=int, default=2, help="SANIC_WORKERS of Rasa in 'tuned' (2)"
    )
    parser.add_argument(
        "--tuned-action-workers",
        type=int,
        default=2,
        help="ACTION_SERVER_SANIC_WORKERS of the action server in 'tuned' (2)",
    )
    parser.add_argument("--seed", type=int, default=13, help="random seed (13)")
    parser.add_argument(
        "--index",
        type=Path,
        help="index folder to use (default: index knowledge/ and the test corpus)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work folder (service logs)")
    return parser.parse_args(argv)  # fmt: skip


@contextlib.contextmanager
def workdir_for(keep: bool) -> Iterator[Path]:
    """A fresh work folder, removed at the end unless ``keep``."""
    folder = Path(tempfile.mkdtemp(prefix="samvad-city-load-"))
    try:
        yield folder
    finally:
        if keep:
            print(f"work folder kept: {folder}", flush=True)
        else:
            shutil.rmtree(folder, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    all_configs = configs(args)
    if "replicas" in args.configs and not NGINX_BIN.exists():
        print("replicas needs nginx: apt-get install -y nginx", file=sys.stderr)
        return 2
    if any(all_configs[c].shared for c in args.configs) and not SERVICES_PASSWORD.exists():
        print("tuned/replicas need the shared stores: bash scripts/services.sh start",
              file=sys.stderr)  # fmt: skip
        return 2
    questions = load_questions()
    run_id = uuid.uuid4().hex[:8]
    rates = " ".join(f"{r:g}" for r in args.rates)
    print(f"city load: configs {' '.join(args.configs)}; rates {rates}"
          f" msg/s; {args.seconds:g} s window after {args.ramp:g} s ramp; {args.arrivals} arrivals;"
          f" 1-3 messages per citizen, think {args.think[0]:g}-{args.think[1]:g} s; timeout "
          f"{args.timeout:g} s; seed {args.seed}; {len(questions)} distinct questions in the "
          f"sets; {os.cpu_count()} CPUs", flush=True)  # fmt: skip
    results: list[ConfigResult] = []
    with workdir_for(args.keep) as workdir:
        index_dir = args.index
        if index_dir is None:
            knowledge = workdir / "knowledge"
            knowledge.mkdir()
            for corpus in CORPORA:
                for file in [*corpus.glob("*.md"), *corpus.glob("*.yml")]:
                    if file.name.lower() != "readme.md":
                        shutil.copy(file, knowledge / file.name)
            index_dir = build_index(knowledge, workdir / "index")
        model = trained_rasa_model()
        for name in args.configs:
            folder = workdir / name
            folder.mkdir()
            results.append(run_config(all_configs[name], args, questions, index_dir, model,
                                      folder, run_id))  # fmt: skip
    print(f"\n## Side by side\n{final_table(results, args.target_p95)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
