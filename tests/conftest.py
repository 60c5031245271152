"""Shared fixtures, and the markers that sort the suite into what needs the model or servers.

Markers (registered in ``pyproject.toml``), applied here by :func:`pytest_collection_modifyitems`
so a test file rarely has to say them itself:

- ``model``: needs the embedding model. Every test that uses the :func:`embedder` fixture (even
  through another fixture), every ``slow`` or ``servers`` test, and the doctest of
  ``samvad/model.py``.
- ``servers``: starts real processes: Rasa, the action server or the bot (the modules in
  :data:`SERVER_MODULES`).
- ``slow``: the older marker, kept for the files that still use it; it counts as ``model``.

``make test-fast`` runs ``-m "not model and not servers"`` (plus the engine's doctests) with the
model made unavailable, so a test that needs it without saying so fails there instead of
provisioning it. ``make test`` runs everything.

Indexing the development corpus (the fictional articles plus ``knowledge/``) is done once per
run (xdist workers share it); :func:`index_dev_corpus` and :func:`dev_index_copy` hand out copies.
"""

from __future__ import annotations

import copy
import fcntl
import hashlib
import json
import os
import pickle
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from samvad.indexer import IndexReport, build_index
from samvad.model import Embedder, provision_model
from samvad.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
ENGINE = ROOT / "samvad"
FICTIONAL_CORPUS = TESTS / "fixtures" / "corpus"
REAL_KNOWLEDGE = ROOT / "knowledge"

MODEL_FIXTURE = "embedder"
SERVER_MODULES = frozenset(
    {
        "test_rasa_conversation.py",
        "test_bot_e2e.py",
        "test_staff_e2e.py",
        "test_privacy_e2e.py",
        "test_fuzz_bot.py",
        "test_webhook_e2e.py",
        "test_notices_e2e.py",
        "test_report_browser.py",
        "test_shared_stores_e2e.py",
    }
)
RASA_MODULES = frozenset(
    {
        "test_rasa_conversation.py",
        "test_bot_e2e.py",
        "test_privacy_e2e.py",
        "test_fuzz_bot.py",
        "test_notices_e2e.py",
        "test_shared_stores_e2e.py",
    }
)
MODEL_DOCTESTS = frozenset({"model.py"})


def _markers_for(item: pytest.Item) -> list[str]:
    """The markers ``item`` gets from the scheme above (it may have some already)."""
    names: list[str] = []
    if item.path.parent == TESTS and item.path.name in SERVER_MODULES:
        names += ["servers", "model"]
    if item.path.parent == ENGINE and item.path.name in MODEL_DOCTESTS:
        names.append("model")
    if MODEL_FIXTURE in getattr(item, "fixturenames", ()) or item.get_closest_marker("slow"):
        names.append("model")
    return names


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every item by the scheme above.

    Runs before ``-m`` selects, so ``-m "not model"`` sees these markers.
    """
    for item in items:
        for name in _markers_for(item):
            if item.get_closest_marker(name) is None:
                item.add_marker(name)


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The configured embedding model, provisioned offline if needed (cached across runs)."""
    settings = Settings.from_env()
    return Embedder(provision_model(settings, show_progress=False).path, name=settings.model)


@pytest.fixture(scope="module", autouse=True)
def _rasa_model_trained(request: pytest.FixtureRequest) -> None:
    """Before a module that runs Rasa: train its model if it is out of date, one process at a
    time (xdist workers and other test runs share ``var/rasa/models``)."""
    if request.path.parent == TESTS and request.path.name in RASA_MODULES:
        from tests.servers import trained_rasa_model

        trained_rasa_model()


def copy_articles(source: Path, target: Path) -> None:
    """Copy the article files (not README.md) of ``source`` into ``target``."""
    target.mkdir(parents=True, exist_ok=True)
    for file in source.glob("*.md"):
        if file.name.lower() != "readme.md":
            shutil.copy(file, target / file.name)


@pytest.fixture
def workspace(tmp_path: Path) -> Settings:
    """Settings pointing at an empty knowledge folder, index and data folder under
    ``tmp_path``."""
    (tmp_path / "knowledge").mkdir()
    settings = Settings.from_env().with_paths(tmp_path / "knowledge", tmp_path / "index")
    return replace(settings, data_dir=tmp_path / "data")


def dev_settings(root: Path) -> Settings:
    """Settings for a dev-corpus workspace: ``root``/knowledge, ``root``/index, ``root``/data;
    the model from the environment, everything else at its default."""
    return Settings(
        knowledge_dir=root / "knowledge",
        index_dir=root / "index",
        data_dir=root / "data",
        model=Settings.from_env().model,
    )


def _build_dev_corpus(root: Path, embedder: Embedder) -> tuple[Settings, IndexReport]:
    """Copy the fictional corpus and the real articles into ``root``/knowledge; index them."""
    copy_articles(FICTIONAL_CORPUS, root / "knowledge")
    copy_articles(REAL_KNOWLEDGE, root / "knowledge")
    settings = dev_settings(root)
    return settings, build_index(settings, embedder)


@dataclass(frozen=True)
class _Prebuilt:
    root: Path
    report: IndexReport


class _DevIndexes:
    """The dev corpus built once per test run and model, in the run's temporary folder.

    Under pytest-xdist the workers of one run share one build: the first to need it builds it
    while holding a lock in the run's temporary folder; the others wait, then read it.
    """

    def __init__(self) -> None:
        self.factory: pytest.TempPathFactory | None = None
        self.built: dict[str, _Prebuilt] = {}

    def prebuilt(self, embedder: Embedder) -> _Prebuilt | None:
        """The one real build for ``embedder`` (made now if needed); ``None`` outside a session."""
        if self.factory is None:
            return None
        identity = json.dumps(embedder.identity, sort_keys=True, default=str)
        if identity not in self.built:
            self.built[identity] = self._build(self.factory, identity, embedder)
        return self.built[identity]

    @staticmethod
    def _build(factory: pytest.TempPathFactory, identity: str, embedder: Embedder) -> _Prebuilt:
        if "PYTEST_XDIST_WORKER" not in os.environ:
            root = factory.mktemp("dev-corpus-index")
            return _Prebuilt(root, _build_dev_corpus(root, embedder)[1])
        digest = hashlib.sha256(identity.encode()).hexdigest()[:12]
        shared = factory.getbasetemp().parent / f"dev-corpus-index-{digest}"
        shared.mkdir(exist_ok=True)
        tree, done = shared / "tree", shared / "report.pickle"
        with (shared / "lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not done.exists():
                shutil.rmtree(tree, ignore_errors=True)  # left by a worker that failed
                done.write_bytes(pickle.dumps(_build_dev_corpus(tree, embedder)[1]))
        report = pickle.loads(done.read_bytes())
        assert isinstance(report, IndexReport)
        return _Prebuilt(tree, report)


_DEV_INDEXES = _DevIndexes()


@pytest.fixture(scope="session", autouse=True)
def _dev_index_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Lets :func:`index_dev_corpus` keep its one build in this session's temporary folder."""
    _DEV_INDEXES.factory = tmp_path_factory
    yield
    _DEV_INDEXES.factory = None
    _DEV_INDEXES.built.clear()


def index_dev_corpus(root: Path, embedder: Embedder) -> tuple[Settings, IndexReport]:
    """The fictional corpus plus the real articles, indexed, under ``root`` (data in root/data).

    Within a test run the corpus is indexed once per model (see :class:`_DevIndexes`); ``root``
    gets a copy of that knowledge folder and index (its ``current`` link stays relative), and
    the report returned is a copy of that one real build's report. A ``root`` that already has
    a knowledge/ or index/ folder, or a call outside a session, gets a real build of its own.
    """
    if (root / "knowledge").exists() or (root / "index").exists():
        return _build_dev_corpus(root, embedder)
    prebuilt = _DEV_INDEXES.prebuilt(embedder)
    if prebuilt is None:
        return _build_dev_corpus(root, embedder)
    for name in ("knowledge", "index"):
        shutil.copytree(prebuilt.root / name, root / name, symlinks=True)
    return dev_settings(root), copy.deepcopy(prebuilt.report)


@pytest.fixture
def dev_index_copy(tmp_path: Path, embedder: Embedder) -> Settings:
    """A private, already indexed copy of the dev corpus under ``tmp_path`` that a test may
    change (knowledge/, index/, data/ for logs)."""
    settings, _ = index_dev_corpus(tmp_path, embedder)
    return settings
