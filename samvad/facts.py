"""Which kind of fact a question asks for — a clock time, a date, a length of time, a number or
amount, a phone number, a person, a place — and whether a sentence holds one. The word lists
are in ``words/fact_cues.yml``; words match by their stem (:func:`samvad.analyzer.stem`), so the
lists hold each word once.

The answer's sentences are picked by similarity to the question (:mod:`samvad.compose`); when
none of them holds the kind of fact asked for and another sentence of the same article does,
that one joins them, so "किती वाजता पाणी येईल?" is answered with the sentence that gives the time.

>>> wanted_fact(["पाणी किती वाजता येईल?"]), wanted_fact(["What is the helpline number?"])
('clock', 'phone')
>>> wanted_fact(["pani kadhi yenar?"]), wanted_fact(["kiti divsat milel?"])
('when', 'duration')
>>> wanted_fact(["पाणी कोणत्या नंबरवर कळवायचं?"]), wanted_fact(["ceo kon aahe?"])
('phone', 'person')
>>> wanted_fact(["बस पास कुठे मिळेल?"]), wanted_fact(["Where is the office?"])
('place', 'place')
>>> wanted_fact(["pani band ka aahe?"]) is None
True
>>> answers("when", "Water is cut on 12 March."), answers("when", "Water comes at 9 am.")
(True, True)
>>> answers("clock", "Water is cut on 12 March."), answers("clock", "Open for 2 hours.")
(False, False)
>>> holds_fact("date", "फलक 31 मेपर्यंत काढावेत."), holds_fact("phone", "Call 1800 222 108.")
(True, True)
>>> holds_fact("phone", "Open from 10 to 5."), holds_fact("number", "शुल्क ५० रुपये आहे.")
(False, True)
>>> holds_fact("number", "Ward 12 has a new office."), holds_fact("date", "Room 112 is open.")
(False, False)
>>> holds_fact("place", "३३ नागरी आरोग्य केंद्रांमध्ये लस मिळेल."), holds_fact("person", "Ask the officer.")
(True, True)
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast, get_args

import yaml

from samvad.analyzer import normalize, stem

# What a sentence may hold.
FactKind = Literal["phone", "clock", "date", "duration", "number", "person", "place"]
# What a question may ask for; the file lists them in the order they are tried.
Asked = Literal["phone", "clock", "duration", "date", "person", "place", "when", "number"]
CUES_FILE = Path(__file__).with_name("words") / "fact_cues.yml"
_WORD = re.compile(r"[0-9a-z\u00c0-\u024f\u0900-\u0963\u0966-\u097f₹]+")
_DIGIT = re.compile(r"[0-9]")
_DIGITS = re.compile(r"[0-9.,:]+")
_PHONE = re.compile(r"(?:[0-9][\s-]?){6,}")


@dataclass(frozen=True)
class QuestionKind:
    """One kind of question: its cue phrases (each word as its stem) and the kinds of fact that
    answer it."""

    cues: frozenset[str]
    answered_by: tuple[FactKind, ...]
    # a cue right beside a numeral names that thing's number ("151 number chi bus"), not this
    not_beside_a_number: bool = False


@dataclass(frozen=True)
class FactWords:
    """The words that make a number beside them one kind of fact, and those that are one alone
    (in a sentence), each as its stem."""

    words: frozenset[str]
    alone: frozenset[str]


@dataclass(frozen=True)
class FactCues:
    """``words/fact_cues.yml``: the kinds of question in the order they are tried, and the
    words of each kind of fact."""

    questions: dict[Asked, QuestionKind]
    facts: dict[FactKind, FactWords]


@functools.cache
def fact_cues() -> FactCues:
    """The lists of ``words/fact_cues.yml``, each word normalised and stemmed as questions'
    and sentences' words are; ``ValueError`` when the file names a kind this module does not
    know or leaves one out."""
    raw = yaml.safe_load(CUES_FILE.read_text(encoding="utf-8"))
    asked, kinds = set(get_args(Asked)), set(get_args(FactKind))
    if set(raw["questions"]) != asked or set(raw["facts"]) != kinds:
        raise ValueError(f"{CUES_FILE} must list the questions {asked} and the facts {kinds}")
    questions: dict[Asked, QuestionKind] = {}
    for name, entry in raw["questions"].items():
        answered_by = tuple(str(kind) for kind in entry["answered_by"])
        if not answered_by or not set(answered_by) <= kinds:
            raise ValueError(f"{CUES_FILE}: {name} must be answered by some of {kinds}")
        cues = frozenset(" ".join(_stems(str(c))) for c in entry["cues"])
        questions[cast(Asked, name)] = QuestionKind(
            cues,
            cast(tuple[FactKind, ...], answered_by),
            bool(entry.get("not_beside_a_number", False)),
        )
    facts = {
        cast(FactKind, kind): FactWords(_word_set(entry["words"]), _word_set(entry["alone"]))
        for kind, entry in raw["facts"].items()
    }
    return FactCues(questions, facts)


def _word_set(words: Iterable[object]) -> frozenset[str]:
    return frozenset(w for word in words for w in _stems(str(word)))


def _stems(text: str) -> list[str]:
    return [stem(word) for word in _WORD.findall(normalize(text))]


def wanted_fact(phrasings: Iterable[str]) -> Asked | None:
    """The kind of fact a question asks for (any of its phrasings may say it), or ``None``.

    >>> wanted_fact(["151 number chi bus kiti minitani yete?"])  # a bus's number, not a phone
    'duration'
    """
    words = [_stems(p) for p in phrasings]
    spaced = [f" {' '.join(w)} " for w in words]
    apart = [f" {' '.join(_beside_numbers_masked(w))} " for w in words]
    for name, question in fact_cues().questions.items():
        texts = apart if question.not_beside_a_number else spaced
        if any(f" {cue} " in text for cue in question.cues for text in texts):
            return name
    return None


def _beside_numbers_masked(words: list[str]) -> list[str]:
    """``words`` with each word that stands next to a numeral replaced by ``#``."""
    numeral = [bool(_DIGIT.search(w)) for w in words]
    return [
        "#" if (at > 0 and numeral[at - 1]) or (at + 1 < len(words) and numeral[at + 1]) else w
        for at, w in enumerate(words)
    ]


def answers(asked: Asked, sentence: str) -> bool:
    """Whether ``sentence`` holds a fact of a kind that answers a question asking ``asked``."""
    return any(holds_fact(kind, sentence) for kind in fact_cues().questions[asked].answered_by)


def holds_fact(kind: FactKind, sentence: str) -> bool:
    """Whether ``sentence`` holds a fact of ``kind``: a run of six or more digits for a phone
    number; otherwise a number with one of the kind's words beside it or in it ("12 March",
    "सकाळी 9", "10am"; "₹18", "१० टक्के", "30 days"), or a word that is one alone (a weekday,
    a title, a place). A word counts by its stem ("31 मेपर्यंत" is "31 मे")."""
    text = normalize(sentence)
    if kind == "phone":
        return _PHONE.search(text) is not None
    known = fact_cues().facts[kind]
    tokens = _stems(text)
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
