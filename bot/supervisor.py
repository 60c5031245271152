"""One command for all of Samvad: the action server, the Rasa server and the bot.

    .venv/bin/python -m bot.supervisor                 # Telegram when TELEGRAM_BOT_TOKEN is set,
                                                       # else a local chat in this terminal

It trains the Rasa model and builds the index first if they are missing or out of date, starts
the action server, Rasa and the knowledge watcher (``samvad watch``: an edited article goes
live without a restart; healthy once it printed "Watching") side by side, each in its own
process group with its log in ``var/log/<name>.log``, waits until each answers its health
check, then starts the bot (its readiness: connected to Telegram) or opens the local chat. With
Telegram, every line they write is also shown here, prefixed with its name. Ctrl-C (or SIGTERM)
stops the bot, then the watcher, Rasa and the action server — each gets SIGTERM and 20 s before
SIGKILL. If any of them exits on its own, the others are stopped too and the exit status is 1.

Options: ``--actions-port`` (5055), ``--rasa-port`` (5005), ``--endpoints FILE`` (default: a copy
of ``endpoints.yml`` pointing at the chosen action port, with PostgreSQL and Redis as Rasa's
tracker and lock stores when ``SAMVAD_STORES=shared``), ``--log-dir``, ``--local`` (local chat
even when a token is set). The command lines are in :func:`action_server_command` and
:func:`rasa_command`, which the tests and ``bench/load.py`` use as well.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

import httpx
import yaml

from samvad import Settings, SettingsError, current_generation

ROOT = Path(__file__).resolve().parent.parent
APP_PYTHON = Path(sys.executable)
RASA_BIN = Path(os.environ.get("SAMVAD_RASA_BIN") or ROOT / ".venv-rasa" / "bin" / "rasa")
STOP_GRACE = 20.0
START_TIMEOUTS = {"actions": 180.0, "rasa": 300.0, "bot": 90.0, "watcher": 180.0}
WATCHER_READY = "Watching"


class StartupError(RuntimeError):
    """A service did not come up."""


def action_server_command(port: int) -> list[str]:
    """The action server (app environment, next to the engine)."""
    return [str(APP_PYTHON), "-m", "rasa_sdk", "--actions", "actions", "-p", str(port)]


def rasa_command(port: int, model: Path, endpoints: Path) -> list[str]:
    """The Rasa server with the REST channel, on loopback."""
    return [
        str(RASA_BIN), "run", "-i", "127.0.0.1", "-p", str(port), "--model", str(model),
        "--endpoints", str(endpoints), "--credentials", str(ROOT / "credentials.yml"),
    ]  # fmt: skip


def watcher_command() -> list[str]:
    """``samvad watch``: re-index by itself when a file in ``knowledge/`` changes."""
    return [str(APP_PYTHON), "-m", "samvad.cli", "watch"]


def service_env(**extra: str) -> dict[str, str]:
    """The environment of the services: loopback only, no telemetry."""
    return dict(os.environ, SANIC_HOST="127.0.0.1", RASA_TELEMETRY_ENABLED="false", **extra)


def _secret(path: Path, variable: str) -> str:
    """The password kept in ``path`` (its first line); a missing file is a one-line error."""
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError:
        raise StartupError(
            f"SAMVAD_STORES=shared needs the password file {path} ({variable}): "
            "run scripts/services.sh start, or point the variable at your own"
        ) from None


def shared_stores(settings: Settings, key_prefix: str = "samvad") -> dict[str, Any]:
    """Rasa 3.6's own ``tracker_store`` (SQL on PostgreSQL; ``login_db`` lets Rasa create the
    database when missing) and ``lock_store`` (Redis; ``key_prefix`` must be alphanumeric)
    blocks for ``settings``' PostgreSQL and Redis."""
    postgres, redis = urlsplit(settings.postgres_url), urlsplit(settings.redis_url)
    lock_store: dict[str, Any] = {
        "type": "redis",
        "url": redis.hostname,
        "port": redis.port or 6379,
        "password": _secret(settings.redis_password_file, "SAMVAD_REDIS_PASSWORD_FILE"),
        "db": int(redis.path.strip("/") or 0),
        "key_prefix": key_prefix,
    }
    if redis.username:
        lock_store["username"] = redis.username
    return {
        "tracker_store": {
            # Rasa's SQL tracker store, its connections pinged before use
            "type": "connectors.tracker_store.CheckedSQLTrackerStore",
            "dialect": "postgresql",
            "url": postgres.hostname,
            "port": postgres.port or 5432,
            "db": postgres.path.strip("/"),
            "username": postgres.username,
            "password": _secret(settings.postgres_password_file, "SAMVAD_POSTGRES_PASSWORD_FILE"),
            "login_db": "postgres",
        },
        "lock_store": lock_store,
    }


def write_endpoints(
    target: Path,
    action_port: int,
    tracker_db: Path | None = None,
    settings: Settings | None = None,
    key_prefix: str = "samvad",
) -> Path:
    """A copy of ``endpoints.yml`` whose action endpoint (and optionally tracker db) is changed;
    with ``settings.stores == "shared"``, PostgreSQL and Redis (:func:`shared_stores`) replace the
    SQLite tracker store. The copy may hold passwords, so only its owner may read it."""
    loaded = yaml.safe_load((ROOT / "endpoints.yml").read_text(encoding="utf-8"))
    endpoints: dict[str, Any] = loaded if isinstance(loaded, dict) else {}
    endpoints["action_endpoint"] = {"url": f"http://127.0.0.1:{action_port}/webhook"}
    if settings is not None and settings.stores == "shared":
        endpoints.update(shared_stores(settings, key_prefix))
    store = endpoints.get("tracker_store")
    if isinstance(store, dict) and store.get("dialect") == "sqlite":
        db = tracker_db or ROOT / str(store.get("db", "var/rasa/tracker.db"))
        db.parent.mkdir(parents=True, exist_ok=True)
        store["db"] = str(db)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.touch(mode=0o600)
    target.chmod(0o600)
    target.write_text(yaml.safe_dump(endpoints, sort_keys=False), encoding="utf-8")
    return target


def rasa_model(train: bool = True) -> Path:
    """The up-to-date Rasa model; trains it (``scripts/rasa_train.py``) when needed."""
    script = [str(APP_PYTHON), str(ROOT / "scripts" / "rasa_train.py")]
    found = subprocess.run([*script, "--print-path"], cwd=ROOT, capture_output=True, text=True)
    if found.returncode == 0:
        return Path(found.stdout.strip().splitlines()[-1])
    if not train:
        raise StartupError(found.stderr.strip() or "no trained Rasa model")
    print("Training the Rasa model (only needed after config.yml, domain.yml or data/ change)…")
    trained = subprocess.run(script, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    if trained.returncode != 0:
        raise StartupError("Rasa training failed (see above)")
    return Path(trained.stdout.strip().splitlines()[-1])


def ensure_index(settings: Settings) -> None:
    """Build the search index when there is none yet."""
    if current_generation(settings.index_dir) is not None:
        return
    print(f"Building the search index in {settings.index_dir} (first run only)…")
    samvad = APP_PYTHON.parent / "samvad"
    subprocess.run([str(samvad), "index"], cwd=ROOT, check=True)


def port_free(port: int) -> bool:
    """Whether nothing listens on 127.0.0.1:``port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def http_check(url: str) -> Callable[[], Awaitable[bool]]:
    """A health check: GET ``url`` answers 200."""

    async def check() -> bool:
        try:
            async with httpx.AsyncClient(timeout=3.0) as client:
                return (await client.get(url)).status_code == 200
        except httpx.HTTPError:
            return False

    return check


def file_check(path: Path) -> Callable[[], Awaitable[bool]]:
    """A health check: ``path`` exists."""

    async def check() -> bool:
        return path.exists()

    return check


def log_check(path: Path, marker: str) -> Callable[[], Awaitable[bool]]:
    """A health check: ``marker`` was written to ``path`` after this check was made."""
    start = path.stat().st_size if path.exists() else 0

    async def check() -> bool:
        try:
            with path.open("rb") as log:
                log.seek(start)
                return marker.encode() in log.read()
        except OSError:
            return False

    return check


@dataclass
class Service:
    """One child process: how to start it, where its log goes, how to tell it is healthy."""

    name: str
    command: list[str]
    env: dict[str, str]
    healthy: Callable[[], Awaitable[bool]]
    log_path: Path
    echo: TextIO | None = None
    process: asyncio.subprocess.Process | None = None
    _pump: asyncio.Task[None] | None = field(default=None, repr=False)

    async def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.process = await asyncio.create_subprocess_exec(
            *self.command,
            cwd=ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches only the supervisor, which stops in order
        )
        self._pump = asyncio.create_task(self._copy_output())

    async def _copy_output(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        with self.log_path.open("ab") as log:
            async for line in self.process.stdout:
                log.write(line)
                log.flush()
                if self.echo is not None:
                    text = line.decode("utf-8", "replace").rstrip()
                    self.echo.write(f"{self.name:>7} | {text}\n")
                    self.echo.flush()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running:
                raise StartupError(f"{self.name} exited during startup; see {self.log_path}")
            if await self.healthy():
                return
            await asyncio.sleep(1.0)
        raise StartupError(
            f"{self.name} was not healthy after {timeout:.0f} s; see {self.log_path}"
        )

    async def stop(self, grace: float = STOP_GRACE) -> int | None:
        """SIGTERM to its process group, then SIGKILL after ``grace`` seconds."""
        if self.process is None:
            return None
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), grace)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                await self.process.wait()
        if self._pump is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump
        return self.process.returncode


class Supervisor:
    """Starts services in order, watches them, stops them in reverse order."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.services: list[Service] = []
        self.stopping = asyncio.Event()

    def say(self, text: str) -> None:
        self.out.write(f"samvad | {text}\n")
        self.out.flush()

    async def start(self, *services: Service) -> None:
        """Start ``services`` side by side and wait until all are healthy."""
        for service in services:
            self.services.append(service)
            self.say(f"starting {service.name} (log: {service.log_path})")
            await service.start()
        started = time.monotonic()
        await asyncio.gather(*(s.wait_healthy(START_TIMEOUTS.get(s.name, 120.0)) for s in services))
        names = ", ".join(s.name for s in services)
        self.say(f"{names} healthy after {time.monotonic() - started:.0f} s")

    async def first_exit(self) -> Service:
        """Wait until one service exits; return it."""
        waits = {asyncio.create_task(s.process.wait()): s for s in self.services if s.process}
        done, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        return waits[done.pop()]

    async def stop_all(self) -> None:
        for service in reversed(self.services):
            if service.running:
                self.say(f"stopping {service.name}")
            code = await service.stop()
            if code is not None:
                self.say(f"{service.name} stopped (exit status {code})")


async def run(args: argparse.Namespace, out: TextIO) -> int:
    """Start everything, run until stopped; the exit status."""
    settings = Settings.from_env()
    config = settings
    local = args.local or not config.token
    for port in (args.actions_port, args.rasa_port):
        if not port_free(port):
            print(f"port {port} is already in use (another Samvad running?)", file=sys.stderr)
            return 2
    ensure_index(settings)
    model = rasa_model(train=not args.no_train)
    log_dir: Path = args.log_dir
    try:
        endpoints = args.endpoints or write_endpoints(
            log_dir / "endpoints.yml", args.actions_port, settings=settings
        )
    except StartupError as exc:
        print(f"samvad: {exc}", file=sys.stderr)
        return 2
    echo = None if local else out
    rasa_url = f"http://127.0.0.1:{args.rasa_port}"
    supervisor = Supervisor(out)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, supervisor.stopping.set)
    status = 0
    try:
        await supervisor.start(
            Service("actions", action_server_command(args.actions_port), service_env(),
                    http_check(f"http://127.0.0.1:{args.actions_port}/health"),
                    log_dir / "actions.log", echo),
            Service("rasa", rasa_command(args.rasa_port, model, endpoints), service_env(),
                    http_check(f"{rasa_url}/webhooks/rest/"), log_dir / "rasa.log", echo),
            watcher_service(log_dir, echo),
        )  # fmt: skip
        if local:
            status = await _local(supervisor, config, rasa_url, log_dir)
        else:
            status = await _telegram(supervisor, rasa_url, log_dir, out)
    except StartupError as exc:
        supervisor.say(f"startup failed: {exc}")
        status = 1
    finally:
        await supervisor.stop_all()
    return status


def watcher_service(log_dir: Path, echo: TextIO | None) -> Service:
    """The knowledge watcher; healthy once it printed "Watching" (after its first index)."""
    log = log_dir / "watcher.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    return Service("watcher", watcher_command(), service_env(PYTHONUNBUFFERED="1"),
                   log_check(log, WATCHER_READY), log, echo)  # fmt: skip


async def _race(supervisor: Supervisor, main: Awaitable[int] | None = None) -> int:
    """Run until ``main`` ends, a stop is asked for, or a service exits by itself."""
    stop = asyncio.create_task(supervisor.stopping.wait())
    exited = asyncio.create_task(supervisor.first_exit())
    tasks: set[asyncio.Task[Any]] = {stop, exited}
    chat = asyncio.ensure_future(main) if main is not None else None
    if chat is not None:
        tasks.add(chat)
    done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    if exited in done:
        supervisor.say(f"{exited.result().name} exited by itself; stopping the others")
        return 1
    if chat is not None and chat in done:
        return int(chat.result())
    return 0


async def _telegram(supervisor: Supervisor, rasa_url: str, log_dir: Path, out: TextIO) -> int:
    ready = log_dir / "bot.ready"
    ready.unlink(missing_ok=True)
    bot = Service(
        "bot", [str(APP_PYTHON), "-m", "bot"],
        service_env(SAMVAD_RASA_URL=rasa_url, SAMVAD_READY_FILE=str(ready)),
        file_check(ready), log_dir / "bot.log", out,
    )  # fmt: skip
    await supervisor.start(bot)
    supervisor.say("Samvad is running on Telegram. Ctrl-C stops everything.")
    return await _race(supervisor)


async def _local(supervisor: Supervisor, config: Settings, rasa_url: str, log_dir: Path) -> int:
    from dataclasses import replace

    from bot.local_chat import local_chat

    supervisor.say(f"no TELEGRAM_BOT_TOKEN: local chat (server logs in {log_dir}/)")
    return await _race(supervisor, local_chat(replace(config, rasa_urls=(rasa_url,))))


def main(argv: list[str] | None = None) -> int:
    """Start Samvad (``make run``); a bad setting stops it with one line naming it."""
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"samvad: {exc}", file=sys.stderr)
        return 2
    parser = argparse.ArgumentParser(prog="python -m bot.supervisor", description=__doc__)
    parser.add_argument("--actions-port", type=int, default=settings.actions_port)
    parser.add_argument("--rasa-port", type=int, default=settings.rasa_port)
    parser.add_argument("--endpoints", type=Path, help="Rasa endpoints file to use as it is")
    parser.add_argument("--log-dir", type=Path, default=ROOT / "var" / "log")
    parser.add_argument("--local", action="store_true", help="local chat even with a token")
    parser.add_argument("--no-train", action="store_true", help="fail instead of training Rasa")
    args = parser.parse_args(argv)
    from bot.logs import configure_logging

    # The supervisor's own terminal (and the local chat in it) shows warnings and worse only;
    # each service logs at SAMVAD_LOG_LEVEL into its own file.
    level = settings.log_level if settings.log_level in ("ERROR", "CRITICAL") else "WARNING"
    configure_logging(level, [settings.token])
    try:
        return asyncio.run(run(args, sys.stdout))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
