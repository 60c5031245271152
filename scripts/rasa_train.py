"""Train the Rasa model only when its inputs changed; print where the model is.

The inputs are ``config.yml``, ``domain.yml``, every file under ``data/`` and the pinned Rasa
requirements (a Rasa upgrade needs a new model). Their combined hash names the model,
``var/rasa/models/samvad-<hash>.tar.gz``, so an unchanged project reuses its model and a changed
one says which files changed before it retrains. Older Samvad models are deleted after a
successful training.

    .venv/bin/python scripts/rasa_train.py            # train if needed; last line: model path
    .venv/bin/python scripts/rasa_train.py --print-path   # only print the model path (exit 1 if
                                                          # it is missing or out of date)
    .venv-rasa/bin/rasa run --enable-api --model "$(… --print-path)"

Uses only the standard library, so either virtualenv's Python can run it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INPUTS = ("config.yml", "domain.yml", "data", "requirements/rasa.txt")
MANIFEST = "manifest.json"


def input_files(root: Path) -> list[Path]:
    """The files whose content decides the model, in a stable order (paths relative to root)."""
    files: list[Path] = []
    for name in INPUTS:
        path = root / name
        if path.is_dir():
            files.extend(
                p.relative_to(root)
                for p in sorted(path.rglob("*"))
                if p.is_file() and p.suffix in (".yml", ".yaml")
            )
        elif path.is_file():
            files.append(path.relative_to(root))
    return files


def file_hashes(root: Path) -> dict[str, str]:
    """SHA-256 of each input file, keyed by its relative path."""
    return {
        str(rel): hashlib.sha256((root / rel).read_bytes()).hexdigest() for rel in input_files(root)
    }


def combined_hash(hashes: dict[str, str]) -> str:
    """One short hash over all input files (names and contents)."""
    digest = hashlib.sha256()
    for rel in sorted(hashes):
        digest.update(f"{rel}\0{hashes[rel]}\n".encode())
    return digest.hexdigest()[:16]


def model_path(out_dir: Path, hashes: dict[str, str]) -> Path:
    """Where the model trained from exactly these inputs is kept."""
    return out_dir / f"samvad-{combined_hash(hashes)}.tar.gz"


def reasons_to_train(out_dir: Path, hashes: dict[str, str]) -> list[str]:
    """Why the model must be (re)trained; empty when the current model matches the inputs."""
    if model_path(out_dir, hashes).is_file():
        return []
    manifest = out_dir / MANIFEST
    if not manifest.is_file():
        return ["no trained model yet"]
    try:
        previous: dict[str, str] = json.loads(manifest.read_text(encoding="utf-8"))["files"]
    except (ValueError, KeyError, TypeError):
        return ["the record of the last training is unreadable"]
    reasons = [
        f"changed: {rel}"
        for rel in sorted(hashes)
        if rel in previous and previous[rel] != hashes[rel]
    ]
    reasons += [f"new: {rel}" for rel in sorted(hashes) if rel not in previous]
    reasons += [f"removed: {rel}" for rel in sorted(previous) if rel not in hashes]
    return reasons or ["the model file for these inputs is missing"]


def train(root: Path, out_dir: Path, hashes: dict[str, str], rasa: Path) -> Path:
    """Run ``rasa train`` into ``out_dir`` and record the inputs it was trained from."""
    target = model_path(out_dir, hashes)
    env = dict(os.environ, RASA_TELEMETRY_ENABLED="false")
    command = [
        str(rasa),
        "train",
        "--config", "config.yml",
        "--domain", "domain.yml",
        "--data", "data",
        "--out", str(out_dir),
        "--fixed-model-name", target.name.removesuffix(".tar.gz"),
    ]  # fmt: skip
    started = time.monotonic()
    subprocess.run(command, cwd=root, env=env, check=True)
    if not target.is_file():
        raise RuntimeError(f"rasa train finished but {target} was not written")
    record = {
        "model": target.name,
        "files": hashes,
        "trained_seconds": round(time.monotonic() - started, 1),
    }
    (out_dir / MANIFEST).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    for old in out_dir.glob("samvad-*.tar.gz"):
        if old != target:
            old.unlink()
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="project folder (this repo)")
    parser.add_argument(
        "--out", type=Path, default=None, help="model folder (default ROOT/var/rasa/models)"
    )
    parser.add_argument(
        "--rasa", type=Path, default=None, help="rasa command (default ROOT/.venv-rasa/bin/rasa)"
    )
    parser.add_argument("--force", action="store_true", help="train even if nothing changed")
    parser.add_argument(
        "--print-path", action="store_true", help="only print the up-to-date model's path"
    )
    args = parser.parse_args(argv)
    root: Path = args.root.resolve()
    out_dir: Path = (args.out or root / "var" / "rasa" / "models").resolve()
    rasa: Path = args.rasa or root / ".venv-rasa" / "bin" / "rasa"
    hashes = file_hashes(root)
    reasons = ["--force was given"] if args.force else reasons_to_train(out_dir, hashes)
    if args.print_path:
        if reasons:
            print(f"rasa model out of date ({'; '.join(reasons)})", file=sys.stderr)
            return 1
        print(model_path(out_dir, hashes))
        return 0
    out_dir.mkdir(parents=True, exist_ok=True)
    # The default SQLite tracker store (endpoints.yml) lives next to the models.
    (root / "var" / "rasa").mkdir(parents=True, exist_ok=True)
    if not reasons:
        print("Rasa model is up to date (config.yml, domain.yml and data/ unchanged).")
        print(model_path(out_dir, hashes))
        return 0
    print("Training the Rasa model: " + "; ".join(reasons), flush=True)
    try:
        target = train(root, out_dir, hashes, rasa)
    except (OSError, subprocess.CalledProcessError, RuntimeError) as exc:
        print(f"rasa training failed: {exc}", file=sys.stderr)
        return 1
    print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
