"""Start Samvad's services for tests and benchmarks: the action server, Rasa, and the bot.

The command lines come from :mod:`bot.supervisor` (the one the ``make run`` command uses), so
tests run exactly what production runs; here each service is a plain child process with its
own log file, which a test can stop and start again (e.g. Rasa, to test an outage).

Safe to use from several pytest-xdist workers (or test runs) at once: every stack gets its own
free ports, workdir, endpoints file and tracker database, and the shared Rasa model is trained
by one process at a time (:func:`trained_rasa_model`).

    stack = RasaStack(workdir, index_dir=...); stack.start(); stack.say("u1", "hello"); stack.stop()
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from bot.supervisor import (
    ROOT,
    action_server_command,
    rasa_command,
    rasa_model,
    service_env,
    write_endpoints,
)
from samvad import Settings

START_TIMEOUT = 300.0
RASA_TRAIN_LOCK = ROOT / "var" / "rasa" / "train.lock"
# The project's private Redis and PostgreSQL (scripts/services.sh): where they listen and the
# file with their password.
SERVICES_DIR = Path(os.environ.get("SAMVAD_SERVICES_DIR") or ROOT / "var" / "services")
SERVICES_PASSWORD = SERVICES_DIR / "password"
SERVICES_POSTGRES_PORT = os.environ.get("SAMVAD_SERVICES_POSTGRES_PORT") or "55432"
SERVICES_REDIS_PORT = os.environ.get("SAMVAD_SERVICES_REDIS_PORT") or "56379"


def free_ports(count: int) -> list[int]:
    """``count`` distinct free TCP ports on loopback (each is held until all are chosen)."""
    with contextlib.ExitStack() as stack:
        sockets = [
            stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            for _ in range(count)
        ]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]


def free_port() -> int:
    """A free TCP port on loopback."""
    return free_ports(1)[0]


@functools.cache
def log_troubles(log: Path, limit: int = 40) -> str:
    """The WARNING and ERROR lines of a service's log (and the traceback lines after them), at
    most ``limit``: what a failing test shows beside its assertion."""
    kept: list[str] = []
    keeping = False
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        if " WARNING " in line or " ERROR " in line:
            keeping = True
        elif line[:4].isdigit():  # the next record
            keeping = False
        if keeping:
            kept.append(line)
    return "\n".join(kept[:limit]) or f"(nothing troubling in {log.name})"


def trained_rasa_model() -> Path:
    """The up-to-date Rasa model (:func:`bot.supervisor.rasa_model`), trained first if needed.

    Holds an exclusive lock on :data:`RASA_TRAIN_LOCK` meanwhile, so concurrent workers never
    train into ``var/rasa/models`` at the same time: the first trains, the others find it done.
    """
    RASA_TRAIN_LOCK.parent.mkdir(parents=True, exist_ok=True)
    with RASA_TRAIN_LOCK.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        return rasa_model()


def http_ok(url: str) -> bool:
    """Whether GET ``url`` answers 200 within 2 s."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (OSError, urllib.error.URLError):
        return False


class Process:
    """One child process with its log file; :meth:`start` waits until ``ready()`` is true."""

    def __init__(
        self,
        name: str,
        command: list[str],
        env: dict[str, str],
        ready: Callable[[], bool],
        log_path: Path,
    ) -> None:
        self.name, self.command, self.env, self.ready = name, command, env, ready
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = START_TIMEOUT) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command,
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited early; see {self.log_path}")
            if self.ready():
                return
            time.sleep(0.5)
        self.stop()
        raise TimeoutError(f"{self.name} did not come up in {timeout:.0f} s; see {self.log_path}")

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> int | None:
        """SIGTERM, then SIGKILL after 30 s; the exit status."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        code = self.process.returncode
        self.process = None
        return code


def say_to_rasa(
    rasa_url: str, sender: str, message: str, timeout: float, token: str | None = None
) -> list[dict[str, Any]]:
    """POST one message to Rasa's REST channel at ``rasa_url`` (with ``token`` when given);
    Rasa's replies."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(
        f"{rasa_url}/webhooks/rest/webhook",
        data=json.dumps({"sender": sender, "message": message}).encode(),
        headers=headers,
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        replies: list[dict[str, Any]] = json.loads(response.read())
        return replies


RasaReply = list[dict[str, Any]]


def reply_texts(reply: RasaReply) -> str:
    """The texts of Rasa's REST reply messages, one per line."""
    return "\n".join(m["text"] for m in reply if "text" in m)


def answer_facts(reply: RasaReply) -> dict[str, Any]:
    """The one structured answer (``custom.samvad``) in Rasa's REST reply."""
    facts = [m["custom"]["samvad"] for m in reply if "samvad" in m.get("custom", {})]
    assert len(facts) == 1, reply
    found: dict[str, Any] = facts[0]
    return found


def private_stores(database: str) -> Settings:
    """Settings for ``SAMVAD_STORES=shared`` on the private services, with Rasa's
    conversations in ``database`` (Rasa creates it when missing)."""
    return replace(
        Settings(),
        stores="shared",
        postgres_url=f"postgresql://samvad@127.0.0.1:{SERVICES_POSTGRES_PORT}/{database}",
        postgres_password_file=SERVICES_PASSWORD,
        redis_url=f"redis://127.0.0.1:{SERVICES_REDIS_PORT}/1",
        redis_password_file=SERVICES_PASSWORD,
    )


def services(*args: str) -> str:
    """``scripts/services.sh ARGS`` (e.g. ``start``); its output (a failure fails the test
    with it)."""
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "services.sh"), *args],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def services_psql(sql: str, database: str = "samvad", check: bool = True) -> list[list[str]]:
    """Rows of ``sql`` run as the role ``samvad`` over TCP on the private PostgreSQL, each a
    list of its columns (``check=False``: an error gives no rows instead of raising)."""
    psql_bin = shutil.which("psql") or "/usr/bin/psql"
    done = subprocess.run(
        [psql_bin, "-X", "-At", "-F", "\t", "-h", "127.0.0.1", "-p", SERVICES_POSTGRES_PORT,
         "-U", "samvad", "-d", database, "-v", "ON_ERROR_STOP=1"],
        input=sql, capture_output=True, text=True, check=check,
        env=dict(os.environ, PGPASSWORD=SERVICES_PASSWORD.read_text(encoding="utf-8").strip()),
    )  # fmt: skip
    return [line.split("\t") for line in done.stdout.splitlines()]


def build_index(knowledge_dir: Path, index_dir: Path) -> Path:
    """``samvad index`` of ``knowledge_dir`` into ``index_dir``."""
    samvad = Path(sys.executable).parent / "samvad"
    subprocess.run(
        [str(samvad), "index", "--knowledge", str(knowledge_dir), "--index", str(index_dir)],
        cwd=ROOT,
        capture_output=True,
        check=True,
    )
    return index_dir


class RasaStack:
    """The action server and the Rasa server on free loopback ports, state under ``workdir``;
    ``model`` defaults to :func:`trained_rasa_model`. With ``stores`` (settings whose
    ``stores`` is ``shared``) Rasa keeps conversations in that PostgreSQL database and locks
    them in that Redis under ``key_prefix``, instead of in ``workdir``/tracker.db."""

    def __init__(
        self,
        workdir: Path,
        index_dir: Path,
        model: Path | None = None,
        token: str | None = None,
        stores: Settings | None = None,
        key_prefix: str = "samvad",
    ) -> None:
        self.workdir = workdir
        self.data_dir = workdir / "data"
        self.token = token
        action_port, rasa_port = free_ports(2)
        endpoints = write_endpoints(
            workdir / "endpoints.yml", action_port, workdir / "tracker.db", stores, key_prefix
        )
        env = service_env(SAMVAD_INDEX_DIR=str(index_dir), SAMVAD_DATA_DIR=str(self.data_dir))
        if token:
            env["SAMVAD_RASA_TOKEN"] = token
        self.url = f"http://127.0.0.1:{rasa_port}"
        self.actions = Process(
            "actions",
            action_server_command(action_port),
            env,
            lambda: http_ok(f"http://127.0.0.1:{action_port}/health"),
            workdir / "actions.log",
        )
        self.rasa = Process(
            "rasa",
            rasa_command(rasa_port, model or trained_rasa_model(), endpoints),
            env,
            lambda: http_ok(f"{self.url}/webhooks/rest/"),
            workdir / "rasa.log",
        )

    def start(self) -> None:
        """Start both (Rasa does not need the action server to load) and wait for both."""
        self.actions.start()
        self.rasa.start()

    def stop(self) -> None:
        self.rasa.stop()
        self.actions.stop()

    def say(self, sender: str, message: str, timeout: float = 120.0) -> list[dict[str, Any]]:
        """POST to the REST channel (with the stack's token, if any); Rasa's replies."""
        return say_to_rasa(self.url, sender, message, timeout, self.token)


def bot_process(
    workdir: Path, token: str, base_url: str, rasa_url: str, **settings: str
) -> Process:
    """``python -m bot`` against the Bot API at ``base_url``; ready once connected."""
    ready = workdir / "bot.ready"
    env = dict(
        os.environ,
        TELEGRAM_BOT_TOKEN=token,
        SAMVAD_TELEGRAM_BASE_URL=base_url,
        SAMVAD_RASA_URL=rasa_url,
        SAMVAD_READY_FILE=str(ready),
        SAMVAD_DATA_DIR=str(workdir / "bot-data"),
    )
    env.update(settings)
    return Process("bot", [sys.executable, "-m", "bot"], env, ready.exists, workdir / "bot.log")
