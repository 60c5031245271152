"""Build the Marathi-English search lexicon (``samvad/words/lexicon.tsv``, :mod:`samvad.lexicon`).

Recipe: the legislature's 2014 and 2020 rows (MIT, read in place from
``../shared/data/mahmls-questions``; the same years the adapter trained on, never 2021, which
``bench/crosslingual.py`` reports on). Each row is one text per language (title, question and
answer), reduced to its set of search terms by :func:`samvad.analyzer.analyze`. For a term ``e``
of one script and ``m`` of the other, their association is the Dice coefficient over rows,
``2 · rows(e and m) / (rows(e) + rows(m))``. A term keeps its best ``--best`` terms of the other
script with Dice at least ``--min-dice`` and at least ``--min-rows`` rows in common; terms
with a digit are left out (both languages write numbers alike). The parameters were fixed
before measuring.

    .venv/bin/python scripts/build_lexicon.py [--min-dice 0.3] [--min-rows 3] [--best 2]
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from pathlib import Path

from tqdm import tqdm  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import mahmls_rows  # noqa: E402
from samvad.analyzer import analyze, is_devanagari  # noqa: E402
from samvad.lexicon import LEXICON_FILE, Lexicon  # noqa: E402

YEARS = (2014, 2020)


def _is_word(term: str) -> bool:
    return not any(c.isdigit() for c in term)


def row_terms() -> list[tuple[frozenset[str], frozenset[str]]]:
    """Each aligned row's English and Marathi term sets (terms of the other script and terms
    with a digit left out of each)."""
    rows = []
    for year in YEARS:
        for en, mr in zip(mahmls_rows(year, "en"), mahmls_rows(year, "mr"), strict=True):
            english = analyze(" ".join((en["title"], en["question"], en["answer"])))
            marathi = analyze(" ".join((mr["शीर्षक"], mr["प्रश्न"], mr["उत्तर"])))
            latin = frozenset(t for t in english if _is_word(t) and not is_devanagari(t))
            deva = frozenset(t for t in marathi if _is_word(t) and is_devanagari(t))
            if latin and deva:
                rows.append((latin, deva))
    return rows


def build(
    rows: list[tuple[frozenset[str], frozenset[str]]], min_dice: float, min_rows: int, best: int
) -> Lexicon:
    """The lexicon of ``rows`` by the recipe in the module's docstring."""
    english_rows: Counter[str] = Counter()
    marathi_rows: Counter[str] = Counter()
    together: Counter[tuple[str, str]] = Counter()
    for english, marathi in tqdm(rows, desc="rows", unit="row"):
        english_rows.update(english)
        marathi_rows.update(marathi)
        together.update((e, m) for e in english for m in marathi)
    candidates: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for (e, m), both in together.items():
        if both < min_rows:
            continue
        dice = 2 * both / (english_rows[e] + marathi_rows[m])
        if dice >= min_dice:
            candidates[e].append((dice, m))
            candidates[m].append((dice, e))
    return Lexicon(
        {
            term: tuple(t for _, t in sorted(found, key=lambda x: (-x[0], x[1]))[:best])
            for term, found in candidates.items()
        }
    )


def main() -> None:
    """Read the rows, build the lexicon, write it."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--min-dice", type=float, default=0.3, help="least Dice kept (0.3)")
    parser.add_argument("--min-rows", type=int, default=3, help="least rows in common (3)")
    parser.add_argument("--best", type=int, default=2, help="translations per term (2)")
    parser.add_argument("--out", type=Path, default=LEXICON_FILE, help="file written")
    args = parser.parse_args()
    rows = row_terms()
    lexicon = build(rows, args.min_dice, args.min_rows, args.best)
    header = (
        f"Built by scripts/build_lexicon.py from the Maharashtra legislature questions and\n"
        f"answers (MIT; years {', '.join(map(str, YEARS))}, {len(rows)} aligned rows):\n"
        f"Dice >= {args.min_dice}, >= {args.min_rows} rows in common, best {args.best}.\n"
        f"term<TAB>translations, best first. Do not edit by hand: rerun the script."
    )
    lexicon.save(args.out, header)
    print(f"{len(lexicon.entries)} terms written to {args.out}")


if __name__ == "__main__":
    main()
