"""Which kind of fact a question asks for — a time or date, a number or amount, a phone number —
and whether a sentence holds one. The word lists are in ``words/fact_cues.yml``.

The answer's sentences are picked by similarity to the question (:mod:`samvad.compose`); when
none of them holds the kind of fact asked for and another sentence of the same passage does,
that one joins them, so "किती वाजता पाणी येईल?" is answered with the sentence that gives the time.

>>> wanted_fact(["पाणी किती वाजता येईल?"]), wanted_fact(["What is the helpline number?"])
('time', 'phone')
>>> wanted_fact(["pani band ka aahe?"]) is None
True
>>> holds_fact("time", "Water is cut on 12 March."), holds_fact("phone", "Call 1800 222 108.")
(True, True)
>>> holds_fact("phone", "Open from 10 to 5."), holds_fact("number", "शुल्क ५० रुपये आहे.")
(False, True)
>>> holds_fact("number", "Ward 12 has a new office."), holds_fact("time", "Room 112 is open.")
(False, False)
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml

from samvad.analyzer import normalize

FactKind = Literal["time", "number", "phone"]
# A question's kind is the first of these whose cue it holds (a phone number is also a number;
# "किती वाजता" asks for a time though "किती" alone asks for a number).
KINDS: tuple[FactKind, ...] = ("phone", "time", "number")
CUES_FILE = Path(__file__).with_name("words") / "fact_cues.yml"
_WORD = re.compile(r"[0-9a-z\u00c0-\u024f\u0900-\u0963\u0966-\u097f₹]+")
_DIGIT = re.compile(r"[0-9]")
_DIGITS = re.compile(r"[0-9.,:]+")
_PHONE = re.compile(r"(?:[0-9][\s-]?){6,}")


@dataclass(frozen=True)
class FactWords:
    """One kind's cue phrases (in a question); the words that make a number beside them that
    kind of fact, and those that are one alone (in a sentence)."""

    cues: frozenset[str]
    words: frozenset[str]
    alone: frozenset[str]


@functools.cache
def fact_words() -> dict[FactKind, FactWords]:
    """The word lists of ``words/fact_cues.yml``, normalised as questions are."""
    raw = yaml.safe_load(CUES_FILE.read_text(encoding="utf-8"))
    return {
        kind: FactWords(
            frozenset(" ".join(_words(str(c))) for c in raw[kind]["cues"]),
            frozenset(w for word in raw[kind]["words"] for w in _words(str(word))),
            frozenset(w for word in raw[kind]["alone"] for w in _words(str(word))),
        )
        for kind in KINDS
    }


def _words(text: str) -> list[str]:
    return _WORD.findall(normalize(text))


def wanted_fact(phrasings: Iterable[str]) -> FactKind | None:
    """The kind of fact a question asks for (any of its phrasings may say it), or ``None``."""
    spaced = [f" {' '.join(_words(p))} " for p in phrasings]
    for kind in KINDS:
        if any(f" {cue} " in text for cue in fact_words()[kind].cues for text in spaced):
            return kind
    return None


def holds_fact(kind: FactKind, sentence: str) -> bool:
    """Whether ``sentence`` holds a fact of ``kind``: a run of six or more digits for a phone
    number; for a time or a number, a number with one of the kind's words beside it or in it
    ("12 March", "सकाळी 9", "10am"; "₹18", "१० टक्के", "30 days"), or a word that is one
    alone (a weekday)."""
    text = normalize(sentence)
    if kind == "phone":
        return _PHONE.search(text) is not None
    known = fact_words()[kind]
    tokens = _words(text)
    for at, token in enumerate(tokens):
        if token in known.alone:
            return True
        if _DIGIT.search(token):
            beside = {
                _DIGITS.sub("", token),
                *tokens[max(at - 1, 0) : at],
                *tokens[at + 1 : at + 2],
            }
            if beside & known.words:
                return True
    return False
