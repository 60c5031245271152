"""A bad setting stops every Samvad process at start-up with one line naming the variable:
the staff command line, the bot, the supervisor of ``make run`` and the action server (which
rasa-sdk starts by importing ``actions``). None of them needs the model for this."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROGRAMS = {
    "samvad": [sys.executable, "-m", "samvad.cli", "check"],
    "bot": [sys.executable, "-m", "bot"],
    "supervisor": [sys.executable, "-m", "bot.supervisor", "--no-train"],
    "action-server": [sys.executable, "-c", "import actions.actions"],
}
BAD = {
    "SAMVAD_ABSTAIN_BELOW": "high",
    "SAMVAD_PRECISION": "fastest",
    "SAMVAD_RASA_TIMEOUT": "soon",
    "SAMVAD_STAFF_IDS": "alice",
}


@pytest.mark.parametrize("program", sorted(PROGRAMS))
@pytest.mark.parametrize(("variable", "value"), sorted(BAD.items()))
def test_a_bad_setting_stops_start_up_with_one_line(
    program: str, variable: str, value: str, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SAMVAD_", "TELEGRAM_"))}
    env.update({variable: value, "SAMVAD_DATA_DIR": str(tmp_path), "HF_HUB_OFFLINE": "1"})
    done = subprocess.run(
        PROGRAMS[program], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and variable in lines[0] and repr(value) in lines[0], done.stderr
    assert "Traceback" not in done.stderr
