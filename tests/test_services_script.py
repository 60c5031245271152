"""``scripts/services.sh``: what it says when it cannot do its job (no services started here).

The script's own start and stop are exercised by the shared-stores tests
(``tests/test_shared_stores_e2e.py``); these check that a port another program holds stops
``start`` with one line naming that program and the setting to change, before anything is
installed, written or started.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT

SCRIPT = ROOT / "scripts" / "services.sh"


@pytest.fixture
def held_port() -> Iterator[int]:
    """A loopback port this test process listens on for the test's duration."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield int(listener.getsockname()[1])


@pytest.mark.parametrize(
    ("service", "setting"),
    [("redis", "SAMVAD_SERVICES_REDIS_PORT"), ("postgres", "SAMVAD_SERVICES_POSTGRES_PORT")],
)
def test_a_port_held_by_another_program_stops_start_with_one_line_naming_it(
    held_port: int, tmp_path: Path, service: str, setting: str
) -> None:
    services_dir = tmp_path / "services"
    env = {**os.environ, "SAMVAD_SERVICES_DIR": str(services_dir), setting: str(held_port)}
    result = subprocess.run(
        ["bash", str(SCRIPT), "start", service],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    error = result.stderr.strip()
    assert "\n" not in error
    assert f"{service} cannot start: port {held_port} is taken by" in error
    assert f"set {setting} to a free port" in error
    if shutil.which("ss"):
        # ss names a process of the same user: this test's own Python.
        assert f"(pid {os.getpid()})" in error
    assert not services_dir.exists()
