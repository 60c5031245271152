"""Measure the model's cross-language cosine gap and write it where the engine finds it.

On the legislature's 2014 rows (MIT, read in place from ``../shared/data/mahmls-questions``;
the same years the adapter trained on, never a report set), each row is a question and its
answer in English and in Marathi. The gap from language Q to language P is

    mean cos(question in Q, own answer in Q) - mean cos(question in Q, own answer in P)

over the first ``--rows`` aligned rows. It is written to ``samvad/gaps/<model>.json``
(:mod:`samvad.language_gap`). Passages are title + answer, as the index embeds them.

    .venv/bin/python scripts/language_gap.py [--rows 600]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import load_embedder, mahmls_rows  # noqa: E402
from samvad.language_gap import LanguageGap, gap_file  # noqa: E402
from samvad.settings import Settings  # noqa: E402

YEAR = 2014


def main() -> None:
    """Embed the rows, compute both gaps, write the file."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=600, help="aligned rows used (600)")
    args = parser.parse_args()
    english, marathi = mahmls_rows(YEAR, "en"), mahmls_rows(YEAR, "mr")
    rows = [
        (en["title"].strip(), en["answer"].strip(), mr["शीर्षक"].strip(), mr["उत्तर"].strip())
        for en, mr in zip(english, marathi, strict=True)
    ]
    rows = [r for r in rows if all(r) and len(r[1]) > 40 and len(r[3]) > 40][: args.rows]
    embedder = load_embedder(precision="float32")
    questions = {
        "en": embedder.embed_queries([r[0] for r in rows]),
        "mr": embedder.embed_queries([r[2] for r in rows]),
    }
    passages = {
        "en": embedder.embed_passages([f"{r[0]}\n{r[1]}" for r in rows], show_progress=True),
        "mr": embedder.embed_passages([f"{r[2]}\n{r[3]}" for r in rows], show_progress=True),
    }

    def mean_cosine(q: str, p: str) -> float:
        return float((questions[q] * passages[p]).sum(axis=1).mean())

    gaps = {
        (q, p): mean_cosine(q, q) - mean_cosine(q, p) for q in ("en", "mr") for p in ("en", "mr")
        if q != p
    }  # fmt: skip
    model = Settings.from_env().model
    script = f"scripts/{Path(__file__).name}"
    info = {"data": f"mahmls-questions {YEAR}", "rows": len(rows), "script": script}
    gap = LanguageGap(model, gaps, info)
    gap_file(model).write_text(gap.to_json() + "\n", "utf-8")
    print(f"{gap_file(model)}: " + ", ".join(f"{q}→{p} {v:+.4f}" for (q, p), v in gaps.items()))


if __name__ == "__main__":
    main()
