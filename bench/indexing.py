"""Indexing throughput and the time to take one edited article live, on synthetic corpora.

Synthetic articles are built from the Maharashtra legislature question/answer records (MIT,
``../shared/data/mahmls-questions``): Marathi and English texts of realistic length.

    .venv/bin/python -m bench.indexing --sizes 1000 10000
"""

from __future__ import annotations

import argparse
import itertools
import time
from pathlib import Path

from bench.common import article_text, load_embedder, mahmls_rows, temp_workdir
from samvad.answers import AnswerEngine
from samvad.indexer import build_index
from samvad.settings import Settings

BODY_CHARS = 500


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


def main() -> None:
    """Index each corpus size from scratch, then edit one article and time it going live."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", nargs="+", type=int, default=[1000, 10000])
    args = parser.parse_args()
    embedder = load_embedder()
    for size in args.sizes:
        work = temp_workdir(f"index-{size}")
        settings = Settings.from_env().with_paths(work / "knowledge", work / "index")
        write_corpus(settings.knowledge_dir, size)
        started = time.perf_counter()
        report = build_index(settings, embedder)
        full = time.perf_counter() - started
        engine = AnswerEngine(settings, embedder, log=None)
        edited = next(settings.knowledge_dir.glob("synthetic-7.*.md"))
        edited.write_text(edited.read_text("utf-8") + "\nSamvad benchmark edit.\n", "utf-8")
        started = time.perf_counter()
        edit_report = build_index(settings, embedder)
        reindexed = time.perf_counter() - started
        engine.index.current()  # the running engine notices the new generation and reloads
        live = time.perf_counter() - started
        print(
            f"{size:6} articles: full index {full:7.1f} s "
            f"({size / full:6.1f} articles/s, {report.chunks_embedded} passages); "
            f"one edit: {len(edit_report.updated)} file re-embedded, index written in "
            f"{reindexed:.2f} s, live in the running engine after {live:.2f} s"
        )


if __name__ == "__main__":
    main()
