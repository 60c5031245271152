"""Shared fixtures: the real model (provisioned once, cached) and knowledge folders to index."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from samvad.indexer import IndexReport, build_index
from samvad.model import Embedder, provision_model
from samvad.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
FICTIONAL_CORPUS = ROOT / "tests" / "fixtures" / "corpus"
REAL_KNOWLEDGE = ROOT / "knowledge"


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The configured embedding model, provisioned offline if needed (cached across runs)."""
    settings = Settings.from_env()
    return Embedder(provision_model(settings, show_progress=False).path, name=settings.model)


def copy_articles(source: Path, target: Path) -> None:
    """Copy the article files (not README.md) of ``source`` into ``target``."""
    target.mkdir(parents=True, exist_ok=True)
    for file in source.glob("*.md"):
        if file.name.lower() != "readme.md":
            shutil.copy(file, target / file.name)


@pytest.fixture
def workspace(tmp_path: Path) -> Settings:
    """Settings pointing at an empty knowledge folder and index under ``tmp_path``."""
    (tmp_path / "knowledge").mkdir()
    return Settings.from_env().with_paths(tmp_path / "knowledge", tmp_path / "index")


def index_dev_corpus(root: Path, embedder: Embedder) -> tuple[Settings, IndexReport]:
    """Index the fictional corpus plus the real articles under ``root`` (data in root/data)."""
    copy_articles(FICTIONAL_CORPUS, root / "knowledge")
    copy_articles(REAL_KNOWLEDGE, root / "knowledge")
    base = Settings.from_env()
    settings = Settings(root / "knowledge", root / "index", root / "data", base.model)
    return settings, build_index(settings, embedder)
