"""Live updates: an edited article goes into service while questions keep being answered."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from samvad.answers import AnswerEngine
from samvad.indexer import IndexReport
from samvad.model import Embedder
from samvad.reply import Answer
from samvad.settings import Settings
from samvad.watcher import KnowledgeWatcher

pytestmark = pytest.mark.model

LIVE_WITHIN_SECONDS = 20.0
WATER = "water-cut-ghodbunder"


def said(answer: Answer) -> str:
    """The sentences the answer copied from its article."""
    return " ".join(answer.sentences)


@pytest.fixture
def live(dev_index_copy: Settings, embedder: Embedder) -> tuple[Settings, AnswerEngine]:
    """A private indexed copy of the dev corpus and an engine answering from it."""
    return dev_index_copy, AnswerEngine(dev_index_copy, embedder, log=None)


class ReportCollector:
    """Keeps the watcher's reports and signals when the first one arrives."""

    def __init__(self) -> None:
        self.reports: list[IndexReport] = []
        self.arrived = threading.Event()

    def __call__(self, report: IndexReport) -> None:
        self.reports.append(report)
        self.arrived.set()


@pytest.mark.parametrize(
    ("file", "old", "new", "question"),
    [
        (
            "water-cut-ghodbunder.en.md",
            "12 March 2026",
            "26 March 2026",
            "On which date is water supply shut in Ghodbunder?",
        ),
        (
            "water-cut-ghodbunder.mr.md",
            "12 मार्च 2026",
            "26 मार्च 2026",
            "घोडबंदरला पाणी नेमकं कोणत्या दिवशी बंद असणार आहे?",
        ),
    ],
    ids=["english", "marathi"],
)
def test_edit_goes_live_while_questions_are_answered(
    live: tuple[Settings, AnswerEngine], file: str, old: str, new: str, question: str
) -> None:
    settings, engine = live
    collector = ReportCollector()
    watcher = KnowledgeWatcher(settings, engine.embedder, collector, 0.3)
    answers: list[Answer] = []
    failures: list[BaseException] = []
    stop = threading.Event()

    def ask_in_a_loop() -> None:
        while not stop.is_set():
            try:
                answers.append(engine.answer(question))
            except BaseException as exc:  # a failed question is what this test looks for
                failures.append(exc)

    asker = threading.Thread(target=ask_in_a_loop)
    watcher.start()
    asker.start()
    try:
        time.sleep(0.5)
        path = settings.knowledge_dir / file
        edited_at = time.monotonic()
        path.write_text(path.read_text("utf-8").replace(old, new), "utf-8")
        assert collector.arrived.wait(LIVE_WITHIN_SECONDS)
        while not any(new in said(a) for a in answers[-3:]):
            assert time.monotonic() - edited_at < LIVE_WITHIN_SECONDS
            time.sleep(0.05)
    finally:
        stop.set()
        asker.join()
        watcher.stop()
    assert failures == []
    assert all(a.answered and a.article_ids == [WATER] for a in answers)
    assert collector.reports[0].updated == [file]
    assert any(old in said(a) for a in answers)


def test_broken_file_keeps_the_last_good_version_live(
    live: tuple[Settings, AnswerEngine],
) -> None:
    settings, engine = live
    collector = ReportCollector()
    watcher = KnowledgeWatcher(settings, engine.embedder, collector, 0.3)
    watcher.start()
    try:
        path = settings.knowledge_dir / "water-cut-ghodbunder.en.md"
        path.write_text(path.read_text("utf-8").replace("lang: en", "lang: english"), "utf-8")
        assert collector.arrived.wait(LIVE_WITHIN_SECONDS)
    finally:
        watcher.stop()
    assert [e.path for e in collector.reports[0].skipped] == ["water-cut-ghodbunder.en.md"]
    answer = engine.answer("On which date is water supply shut in Ghodbunder?")
    assert answer.answered and answer.article_ids == [WATER]
    assert "12 March 2026" in said(answer)


def test_watcher_refuses_a_missing_folder(tmp_path: Path, embedder: Embedder) -> None:
    settings = Settings.from_env().with_paths(tmp_path / "absent", tmp_path / "index")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        KnowledgeWatcher(settings, embedder)
