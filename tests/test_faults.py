"""Faults survived, on the real parts: an index build killed at random points, damaged index
files, a full disk during indexing.

The kill test runs ``samvad index`` as a child process and SIGKILLs it at seeded random
moments; the full-disk test indexes onto a small tmpfs mounted for the test (root only; where
mounting is not allowed the test is skipped and says why).
"""

from __future__ import annotations

import json
import logging
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from samvad import AnswerEngine, IndexDamagedError, build_index, current_generation
from samvad.index_store import IndexSnapshot
from samvad.model import Embedder
from samvad.segment import SEGMENTS_DIR
from samvad.settings import Settings
from tests.conftest import ROOT

pytestmark = pytest.mark.model

QUESTION = "Which Japanese ministry signed an agreement with Thane Municipal Corporation?"
SEED_ARTICLE = "tmc-japan-mlit-smart-city-agreement"


def extra_articles(folder: Path, count: int, start: int = 0) -> None:
    """Write ``count`` small fictional articles (enough work for a build to take a while)."""
    for n in range(start, start + count):
        (folder / f"notice-{n}.en.md").write_text(
            f"---\nid: notice-{n}\nlang: en\ntitle: Ward {n} road repair notice\n"
            f"date: 2026-03-{1 + n % 28:02d}\n---\n"
            f"The road in ward {n} is closed for repairs from 9 am to 5 pm. "
            f"Buses on route {n} take the service road. Call the ward {n} office for help.\n\n"
            f"Residents of ward {n} can park on the school ground during the work.\n",
            encoding="utf-8",
        )


def answers_seed(settings: Settings, embedder: Embedder) -> bool:
    answer = AnswerEngine(settings, embedder).answer(QUESTION)
    return answer.citation is not None and answer.citation.article_id == SEED_ARTICLE


def samvad_index(settings: Settings) -> subprocess.Popen[bytes]:
    env = dict(
        os.environ,
        SAMVAD_KNOWLEDGE_DIR=str(settings.knowledge_dir),
        SAMVAD_INDEX_DIR=str(settings.index_dir),
        SAMVAD_DATA_DIR=str(settings.data_dir),
    )
    return subprocess.Popen(
        [sys.executable, "-m", "samvad.cli", "index"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def test_an_index_build_killed_anywhere_leaves_the_last_good_generation(
    dev_index_copy: Settings, embedder: Embedder
) -> None:
    settings = dev_index_copy
    good = current_generation(settings.index_dir)
    extra_articles(settings.knowledge_dir, 40)
    rng = random.Random(20261201)
    for delay in sorted(rng.uniform(0.5, 12.0) for _ in range(5)):
        build = samvad_index(settings)
        time.sleep(delay)
        build.send_signal(signal.SIGKILL)
        build.wait(timeout=30)
        served = IndexSnapshot.require(settings.index_dir)
        assert served.generation == current_generation(settings.index_dir)
        if served.generation != good:  # the build got to its atomic switch before the kill
            good = served.generation
            assert "notice-0/en" in served.articles
    assert answers_seed(settings, embedder)
    report = build_index(settings, embedder)
    assert report.skipped == []
    assert len(IndexSnapshot.require(settings.index_dir).articles) >= 40
    assert not list(settings.index_dir.glob(".gen-*.partial"))
    assert not list(settings.index_dir.glob(f"{SEGMENTS_DIR}/.seg-*.partial"))


def newest_segment(generation: Path) -> Path:
    """The folder of the last segment a generation lists (the one its build wrote)."""
    manifest = json.loads((generation / "manifest.json").read_text(encoding="utf-8"))
    name: str = manifest["segments"][-1]["name"]
    return generation.parent / SEGMENTS_DIR / name


@pytest.mark.parametrize(
    ("damaged", "how"),
    [
        ("vectors.faiss", "truncate"),
        ("latent.npz", "garbage"),
        ("manifest.json", "delete"),
    ],
)
def test_a_damaged_generation_is_named_passed_over_and_rebuilt(
    dev_index_copy: Settings,
    embedder: Embedder,
    caplog: pytest.LogCaptureFixture,
    damaged: str,
    how: str,
) -> None:
    settings = dev_index_copy
    older = current_generation(settings.index_dir)
    extra_articles(settings.knowledge_dir, 1)
    build_index(settings, embedder)  # a second generation; the first is kept beside it
    newest = settings.index_dir / str(current_generation(settings.index_dir))
    target = newest / damaged if damaged == "manifest.json" else newest_segment(newest) / damaged
    if how == "truncate":
        target.write_bytes(target.read_bytes()[: target.stat().st_size // 2])
    elif how == "garbage":
        target.write_bytes(os.urandom(target.stat().st_size))
    else:
        target.unlink()
    with pytest.raises(IndexDamagedError, match=rf"{newest.name} is damaged \(.*{damaged}"):
        IndexSnapshot.load(settings.index_dir)
    with caplog.at_level(logging.ERROR):
        engine = AnswerEngine(settings, embedder)
    assert engine.index.generation == older  # the last good generation serves
    assert any(damaged in r.getMessage() for r in caplog.records)
    assert engine.answer(QUESTION).citation is not None
    report = build_index(settings, embedder)
    assert report.rebuild_reason is not None and "damaged" in report.rebuild_reason
    assert IndexSnapshot.require(settings.index_dir).generation == report.generation
    assert engine.index.current().snapshot.generation == report.generation


def test_no_readable_generation_is_a_clear_error(
    dev_index_copy: Settings, embedder: Embedder
) -> None:
    settings = dev_index_copy
    for segment in (settings.index_dir / SEGMENTS_DIR).iterdir():
        (segment / "records.json").write_text("{", encoding="utf-8")
    with pytest.raises(IndexDamagedError, match="run 'samvad index' to rebuild it"):
        AnswerEngine(settings, embedder)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 600 kB tmpfs, unmounted afterwards."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"a tmpfs cannot be mounted here ({done.stderr.strip()}): needs root")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_keeps_the_last_good_generation(
    tmp_path: Path, small_disk: Path, embedder: Embedder
) -> None:
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    shutil.copy(ROOT / "knowledge" / f"{SEED_ARTICLE}.en.md", knowledge)
    base = Settings.from_env().with_paths(knowledge, small_disk / "index")
    build_index(base, embedder)
    good = current_generation(base.index_dir)
    extra_articles(knowledge, 60)
    build = samvad_index(base)
    _, stderr = build.communicate(timeout=600)
    assert build.returncode != 0
    message = stderr.decode().strip().splitlines()[-1]
    assert "the disk is full" in message and "Traceback" not in stderr.decode()
    assert current_generation(base.index_dir) == good
    assert not list(base.index_dir.glob(".gen-*.partial"))
    assert not list(base.index_dir.glob(f"{SEGMENTS_DIR}/.seg-*.partial"))
    assert answers_seed(base, embedder)
