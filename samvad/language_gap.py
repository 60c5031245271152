"""How much lower a model's cosine runs across languages, so both languages compete fairly.

A multilingual model scores a question against a passage in its own language higher than
against the same content in the other language: on the legislature's 2014 rows (MIT), an
English title meets its own English answer at a mean cosine of 0.914 but its Marathi answer at
0.856. So an English question about a Marathi-only article loses to any English article near
the topic, and its confidence falls under the answer threshold. The **gap** is that difference,
measured once per model on public parallel text (``scripts/language_gap.py``) and shipped as
``samvad/gaps/<model>.json``; the retriever adds it to a cross-language cosine of a passage
whose article has no version in the question's language.

Only script-clear phrasings get a gap: a Devanagari phrasing is Marathi, a Latin one English.
The Latin phrasing of a romanized Marathi question gets none: it already meets English articles
in their own script (a gap measured for Latin-letter Marathi pushed romanized questions toward
English articles on the tuning questions). Nor does its Devanagari phrasing when that writes
the English words as loanwords (``samvad/loanwords.py``): then the gap lifted English articles
on neighbouring topics ("driving licence renew karaycha ahe RTO madhe" answered from the
hawker-licence article; on the fitting questions, with the calibrated decision, romanized
answered from a wrong article 3 → 0, out of scope answered 3 → 1 of 8).

>>> gap = LanguageGap("demo", {("en", "mr"): 0.06, ("mr", "en"): 0.04})
>>> gap.of("en", "mr"), gap.of("mr", "mr"), gap.of(None, "en")
(0.06, 0.0, 0.0)
>>> LanguageGap.from_json(gap.to_json()) == gap
True
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from samvad.shipped import shipped_file, shipped_for

GAPS_DIR = Path(__file__).resolve().parent / "gaps"


class LanguageGapError(ValueError):
    """A gap file is unreadable or holds values outside -1..1."""


@dataclass(frozen=True)
class LanguageGap:
    """Cosine added when a question in one language meets a passage in another."""

    model: str
    gaps: dict[tuple[str, str], float]
    info: dict[str, object] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        for pair, value in self.gaps.items():
            if not -1.0 <= value <= 1.0:
                raise LanguageGapError(f"gap {pair} must lie in -1..1, got {value}")

    def of(self, question_lang: str | None, passage_lang: str) -> float:
        """The gap for this pair (0 for the same language or a question of unclear script)."""
        if question_lang is None or question_lang == passage_lang:
            return 0.0
        return self.gaps.get((question_lang, passage_lang), 0.0)

    def to_json(self) -> str:
        """The file form, read back by :meth:`from_json`."""
        rows = {f"{q}>{p}": round(v, 6) for (q, p), v in sorted(self.gaps.items())}
        return json.dumps({"model": self.model, "gaps": rows, "info": self.info}, indent=2)

    @classmethod
    def from_json(cls, text: str) -> LanguageGap:
        """Parse :meth:`to_json`'s form; :class:`LanguageGapError` when it is not that."""
        try:
            data = json.loads(text)
            gaps = {tuple(k.split(">", 1)): float(v) for k, v in data["gaps"].items()}
            if any(len(pair) != 2 for pair in gaps):
                raise ValueError("a gap key must read 'question>passage'")
            return cls(str(data["model"]), gaps, dict(data.get("info", {})))
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise LanguageGapError(f"unreadable language gap: {error}") from error


def gap_file(model: str) -> Path:
    """Where the shipped gap of ``model`` lives (``intfloat/x`` → ``intfloat--x.json``)."""
    return shipped_file(GAPS_DIR, model)


def gap_for(identity: dict[str, object]) -> LanguageGap | None:
    """The shipped gap for an embedder's ``identity``, or ``None``: for a model with no gap
    measured, and for one merged with an adapter (its gap was not measured)."""
    path = shipped_for(GAPS_DIR, identity)
    return None if path is None else LanguageGap.from_json(path.read_text("utf-8"))
