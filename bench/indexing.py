"""Indexing throughput, edit-to-live time under questions, and the engine's resident memory.

Synthetic articles are built from the Maharashtra legislature question/answer records (MIT,
``../shared/data/mahmls-questions``): Marathi and English texts of realistic length.

For each size: a full index from scratch in each precision asked for (side by side, same
corpus); then, as deployed, ``samvad watch`` runs in its own process (its debounce) while an
engine here answers dev questions without pause, and each of a few edits is timed from the
file write until the engine answers from the new text. Last, a separate process loads the
engine as the action server does and reports its resident memory.

    .venv/bin/python -m bench.indexing --sizes 1000 10000 --precisions float32 bfloat16
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench.common import (
    DEV_QUESTIONS,
    article_text,
    dev_questions,
    load_embedder,
    mahmls_rows,
    temp_workdir,
)
from samvad.answers import AnswerEngine
from samvad.indexer import build_index
from samvad.precision import Precision, choose_precision
from samvad.settings import Settings
from samvad.watcher import DEFAULT_DEBOUNCE_SECONDS

BODY_CHARS = 500
EDITS = 5


def _texts() -> list[tuple[str, str, str]]:
    """(lang, title, body) records from the legislature data, both languages."""
    records = []
    for lang in ("mr", "en"):
        for row in mahmls_rows(2021, lang) + mahmls_rows(2020, lang):
            values = [str(v).strip() for v in row.values() if v]
            title = values[0] if values else ""
            body = " ".join(sorted(values[1:], key=len, reverse=True)[:2])
            if title and len(body) > 80:
                records.append((lang, title[:120], body[:BODY_CHARS]))
    return records


def write_corpus(folder: Path, size: int) -> None:
    """Write ``size`` synthetic article files into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for n, (lang, title, body) in zip(range(size), itertools.cycle(_texts()), strict=False):
        article_id = f"synthetic-{n}"
        text = article_text(article_id, lang, title, f"{body} (#{n})")
        (folder / f"{article_id}.{lang}.md").write_text(text, "utf-8")


class Asker(threading.Thread):
    """Answers the dev questions in a loop until stopped; counts answers and failures."""

    def __init__(self, engine: AnswerEngine) -> None:
        super().__init__(daemon=True)
        self.engine = engine
        self.questions = [q.question for q in dev_questions(DEV_QUESTIONS)]
        self.stop = threading.Event()
        self.answered = 0
        self.failed: list[str] = []
        self.seconds: list[float] = []

    def run(self) -> None:
        for question in itertools.cycle(self.questions):
            if self.stop.is_set():
                return
            started = time.perf_counter()
            try:
                self.engine.answer(question)
            except Exception as exc:  # a failed answer is what this benchmark counts
                self.failed.append(f"{type(exc).__name__}: {exc}")
                continue
            self.seconds.append(time.perf_counter() - started)
            self.answered += 1


def edits_live(settings: Settings, precision: Precision) -> tuple[list[float], Asker]:
    """Seconds from writing each edit until the engine serves it, with questions running.

    As deployed: ``samvad watch`` in its own process indexes; this process's engine (the
    action server's) answers questions without pause and picks the new generation up."""
    embedder = load_embedder(threads=1, precision=precision)
    engine = AnswerEngine(settings, embedder, log=None)
    work = settings.index_dir.parent
    env = {
        **os.environ,
        "SAMVAD_DATA_DIR": str(work / "data"),
        "SAMVAD_TRACKER_DB": str(work / "tracker.db"),
        "SAMVAD_PRECISION": precision,
    }
    said = work / "watcher.out"
    samvad = Path(sys.executable).parent / "samvad"
    command = [str(samvad), "watch", "--knowledge", str(settings.knowledge_dir)]
    with said.open("w") as out:
        watcher = subprocess.Popen(
            [*command, "--index", str(settings.index_dir)], env=env, stdout=out, stderr=out
        )
    asker = Asker(engine)
    delays = []
    try:
        while "Watching" not in said.read_text():  # its first pass reads every file
            if watcher.poll() is not None:
                raise RuntimeError(f"samvad watch stopped: {said.read_text()[-500:]}")
            time.sleep(0.5)
        asker.start()
        for n in range(EDITS):
            time.sleep(2.0)  # questions flow before each edit; edits do not batch up
            path = next(settings.knowledge_dir.glob(f"synthetic-{7 + 31 * n}.*.md"))
            key = "/".join(path.name.split(".")[:2])
            marker = f"Samvad benchmark edit {n} at {time.time():.6f}."  # new in every run
            started = time.perf_counter()
            path.write_text(path.read_text("utf-8") + f"\n{marker}\n", "utf-8")
            while time.perf_counter() - started < 60:
                snapshot = engine.index.current().snapshot
                article = snapshot.articles[key]
                if any(marker in snapshot.chunks[v].text for v in article.vector_ids):
                    break
                time.sleep(0.02)
            delays.append(time.perf_counter() - started)
    finally:
        watcher.terminate()
        watcher.wait(timeout=30)
        asker.stop.set()
        if asker.is_alive():
            asker.join(timeout=30)
    return delays, asker


def resident_memory(settings: Settings) -> float:
    """MB resident in a fresh process holding the engine (as the action server does), after
    one answer."""
    env = {
        **os.environ,
        "SAMVAD_KNOWLEDGE_DIR": str(settings.knowledge_dir),
        "SAMVAD_INDEX_DIR": str(settings.index_dir),
    }
    done = subprocess.run(
        [sys.executable, "-m", "bench.indexing", "--report-memory"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(done.stdout.strip().splitlines()[-1])


def report_memory() -> None:
    """Load the engine from the environment's settings, answer once, print VmRSS in MB."""
    settings = Settings.from_env()
    embedder = load_embedder(threads=1, precision=choose_precision(settings.precision))
    AnswerEngine(settings, embedder, log=None).answer("पाणी कधी येईल?")
    status = Path("/proc/self/status").read_text()
    rss_kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS"))
    print(rss_kb / 1024)


def main() -> None:
    """Full index per size and precision, then edits going live, then resident memory."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", nargs="+", type=int, default=[1000, 10000])
    parser.add_argument(
        "--precisions",
        nargs="+",
        choices=["float32", "bfloat16"],
        default=[choose_precision("auto")],
        help="index in each (default: what this CPU runs fast)",
    )
    parser.add_argument(
        "--existing",
        type=Path,
        metavar="WORK",
        help="skip the full index: time edits on a work folder an earlier run left (its path "
        "is printed), index of the last precision",
    )
    parser.add_argument("--report-memory", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.report_memory:
        report_memory()
        return
    for size in args.sizes:
        work = args.existing or temp_workdir(f"index-{size}")
        print(f"{size:6} articles: work folder {work}", flush=True)
        if args.existing is None:
            write_corpus(work / "knowledge", size)
        settings = Settings.from_env().with_paths(work / "knowledge", work / "index")
        for precision in args.precisions if args.existing is None else []:
            index = work / f"index-{precision}"
            # every core (an earlier size's edit pass left torch at one thread)
            embedder = load_embedder(threads=os.cpu_count(), precision=precision)
            started = time.perf_counter()
            report = build_index(settings.with_paths(index_dir=index), embedder, True)
            full = time.perf_counter() - started
            print(
                f"{size:6} articles, {precision:8}: full index {full:7.1f} s "
                f"({size / full:5.1f} articles/s, {report.chunks_embedded} passages)",
                flush=True,
            )
            settings = settings.with_paths(index_dir=index)
        settings = settings.with_paths(index_dir=work / f"index-{args.precisions[-1]}")
        delays, asker = edits_live(settings, args.precisions[-1])
        per_answer = statistics.median(asker.seconds) * 1000 if asker.seconds else 0.0
        print(
            f"{size:6} articles: {EDITS} edits live after "
            f"{', '.join(f'{d:.2f}' for d in delays)} s (median {statistics.median(delays):.2f} s, "
            f"samvad watch's {DEFAULT_DEBOUNCE_SECONDS} s debounce included); "
            f"meanwhile {asker.answered} questions answered "
            f"(p50 {per_answer:.0f} ms), {len(asker.failed)} failed"
            + (f" — first: {asker.failed[0]}" if asker.failed else ""),
            flush=True,
        )
        print(f"{size:6} articles: engine process resident {resident_memory(settings):.0f} MB")


if __name__ == "__main__":
    main()
