"""Shared pieces for the benchmarks: evaluation sets, temporary indexes, percentiles."""

from __future__ import annotations

import gzip
import json
import shutil
import statistics
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from samvad.indexer import build_index
from samvad.model import Embedder, provision_model
from samvad.precision import Precision
from samvad.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
DEV_CORPUS = ROOT / "tests" / "fixtures" / "corpus"
DEV_QUESTIONS = ROOT / "tests" / "fixtures" / "dev_questions.jsonl"
HELDOUT_QUESTIONS = ROOT / "tests" / "fixtures" / "heldout_questions.jsonl"


@dataclass(frozen=True)
class EvalQuestion:
    """A benchmark question and what a right answer looks like."""

    question: str
    kind: str
    lang: str
    expected_article: str | None
    expected_fact: str | None = None


def load_embedder(
    threads: int | None = None, precision: Precision = "float32", adapter: str | None = None
) -> Embedder:
    """The configured model, provisioned if needed (``threads=1`` as the engine serves), with
    questions run in ``precision``; ``adapter`` overrides ``SAMVAD_MODEL_ADAPTER``."""
    settings = Settings.from_env()
    if adapter is not None:
        settings = replace(settings, model_adapter=adapter)
    path = provision_model(settings, show_progress=False).path
    return Embedder(path, name=settings.model, threads=threads, precision=precision)


def article_text(article_id: str, lang: str, title: str, body: str) -> str:
    """A valid knowledge file for a benchmark record."""
    safe_title = json.dumps(title, ensure_ascii=False)
    return (
        f"---\nid: {article_id}\nlang: {lang}\ntitle: {safe_title}\ndate: 2026-01-01\n---\n{body}\n"
    )


def build_temp_index(
    folders: Iterable[Path], embedder: Embedder, work: Path
) -> tuple[Settings, float]:
    """Copy article folders into ``work/knowledge``, index them; return settings and seconds."""
    import time

    knowledge = work / "knowledge"
    knowledge.mkdir(parents=True, exist_ok=True)
    for folder in folders:
        for file in folder.glob("*.md"):
            if file.name.lower() != "readme.md":
                shutil.copy(file, knowledge / file.name)
    # The data folder too: a city's own calibration (samvad calibrate) is not the benchmark's.
    settings = replace(
        Settings.from_env().with_paths(knowledge, work / "index"), data_dir=work / "data"
    )
    started = time.perf_counter()
    build_index(settings, embedder)
    return settings, time.perf_counter() - started


def dev_questions(path: Path = DEV_QUESTIONS) -> list[EvalQuestion]:
    """The project's own dev questions (fictional corpus + the real seed article); pass
    ``HELDOUT_QUESTIONS`` for the held-out set that no threshold was fitted on."""
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line]
    return [
        EvalQuestion(r["question"], r["kind"], r["lang"], r["expected_article"], r["expected_fact"])
        for r in rows
    ]


def write_tatoeba(work: Path, limit: int = 1000) -> list[EvalQuestion]:
    """English Tatoeba sentences as articles; their Marathi translations as questions."""
    folder = SHARED_DATA / "tatoeba-mar-eng"
    marathi = (folder / "tatoeba.mar-eng.mar").read_text("utf-8").splitlines()[:limit]
    english = (folder / "tatoeba.mar-eng.eng").read_text("utf-8").splitlines()[:limit]
    work.mkdir(parents=True, exist_ok=True)
    questions = []
    for n, (mr, en) in enumerate(zip(marathi, english, strict=True)):
        article_id = f"tatoeba-{n}"
        (work / f"{article_id}.en.md").write_text(
            article_text(article_id, "en", f"Sentence {n}", en), "utf-8"
        )
        questions.append(EvalQuestion(mr, "cross_lingual", "mr", article_id))
    return questions


def write_mahasquad(work: Path, limit: int = 300) -> list[EvalQuestion]:
    """MahaSQuAD contexts as Marathi articles; its questions (first ``limit``) as questions."""
    data = json.loads((SHARED_DATA / "l3cube" / "L3Cube-MahaSQuAD" / "test_gold.json").read_text())
    work.mkdir(parents=True, exist_ok=True)
    context_ids: dict[str, str] = {}
    questions: list[EvalQuestion] = []
    for row in data:
        article_id = context_ids.setdefault(row["context"], f"squad-{len(context_ids)}")
        if len(questions) < limit:
            questions.append(EvalQuestion(row["question"], "mr", "mr", article_id))
    for context, article_id in context_ids.items():
        (work / f"{article_id}.mr.md").write_text(
            article_text(article_id, "mr", article_id, context), "utf-8"
        )
    return questions


def mahmls_rows(year: int, lang: str) -> list[dict[str, str]]:
    """Rows of a Maharashtra legislature question/answer CSV (used for synthetic articles)."""
    import csv

    path = SHARED_DATA / "mahmls-questions" / f"{year}-question_answer_{lang}.csv.gz"
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def percentile(values: list[float], pct: float) -> float:
    """The ``pct`` percentile (0 to 100) of ``values``, interpolated."""
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(pct) - 1]


def temp_workdir(prefix: str) -> Path:
    """A fresh temporary folder for one benchmark run."""
    return Path(tempfile.mkdtemp(prefix=f"samvad-{prefix}-"))
