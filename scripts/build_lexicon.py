"""Build the Marathi-English search lexicon (``samvad/words/lexicon.tsv``, :mod:`samvad.lexicon`).

Recipe: the legislature's 2014 and 2020 rows (MIT, read in place from
``../shared/data/mahmls-questions``; the same years the adapter trained on, never 2021, which
``bench/crosslingual.py`` and ``bench/abstention.py`` report on). Each row gives three aligned
units, its title, its question and its answer, each one text per language, reduced to its set
of search terms by :func:`samvad.analyzer.analyze`. For a term ``e`` of one script and ``m``
of the other, their association is the Dice coefficient over units,
``2 · units(e and m) / (units(e) + units(m))``. A term keeps its best ``--best`` terms of the
other script with Dice at least ``--min-dice`` and at least ``--min-units`` units in common;
terms with a digit are left out (both languages write numbers alike). The parameters were
fixed before measuring. The unit was a whole row (title, question and answer together) until
measured: the shorter units tie a word to its translation rather than to the row's topic
("swimming" → जलतरण, where the whole row gave none), and on the fitting questions
(``bench/decision.py --fitting-only``) the refitted chance's AUROC rose 0.985 → 0.993 (dev)
and 0.867 → 0.878 (tuning), with no more answered wrong or out of scope.

    .venv/bin/python scripts/build_lexicon.py [--min-dice 0.3] [--min-units 3] [--best 2]
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
FIELDS = (("title", "शीर्षक"), ("question", "प्रश्न"), ("answer", "उत्तर"))
"""The aligned units of a row: its English and Marathi column names."""


def _is_word(term: str) -> bool:
    return not any(c.isdigit() for c in term)


def unit_terms() -> list[tuple[frozenset[str], frozenset[str]]]:
    """Each aligned unit's English and Marathi term sets (a row's title, question and answer,
    each in both languages; terms of the other script and terms with a digit left out, and a
    unit with no term left on a side skipped)."""
    units = []
    for year in YEARS:
        for en, mr in zip(mahmls_rows(year, "en"), mahmls_rows(year, "mr"), strict=True):
            for english_field, marathi_field in FIELDS:
                english = analyze(en[english_field])
                marathi = analyze(mr[marathi_field])
                latin = frozenset(t for t in english if _is_word(t) and not is_devanagari(t))
                deva = frozenset(t for t in marathi if _is_word(t) and is_devanagari(t))
                if latin and deva:
                    units.append((latin, deva))
    return units


def build(
    units: list[tuple[frozenset[str], frozenset[str]]], min_dice: float, min_units: int, best: int
) -> Lexicon:
    """The lexicon of ``units`` by the recipe in the module's docstring."""
    english_units: Counter[str] = Counter()
    marathi_units: Counter[str] = Counter()
    together: Counter[tuple[str, str]] = Counter()
    for english, marathi in tqdm(units, desc="units", unit="unit"):
        english_units.update(english)
        marathi_units.update(marathi)
        together.update((e, m) for e in english for m in marathi)
    candidates: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for (e, m), both in together.items():
        if both < min_units:
            continue
        dice = 2 * both / (english_units[e] + marathi_units[m])
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
    """Read the units, build the lexicon, write it."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--min-dice", type=float, default=0.3, help="least Dice kept (0.3)")
    parser.add_argument("--min-units", type=int, default=3, help="least units in common (3)")
    parser.add_argument("--best", type=int, default=2, help="translations per term (2)")
    parser.add_argument("--out", type=Path, default=LEXICON_FILE, help="file written")
    args = parser.parse_args()
    units = unit_terms()
    lexicon = build(units, args.min_dice, args.min_units, args.best)
    header = (
        f"Built by scripts/build_lexicon.py from the Maharashtra legislature questions and\n"
        f"answers (MIT; years {', '.join(map(str, YEARS))}, {len(units)} aligned units:\n"
        f"titles, questions and answers):\n"
        f"Dice >= {args.min_dice}, >= {args.min_units} units in common, best {args.best}.\n"
        f"term<TAB>translations, best first. Do not edit by hand: rerun the script."
    )
    lexicon.save(args.out, header)
    print(f"{len(lexicon.entries)} terms written to {args.out}")


if __name__ == "__main__":
    main()
