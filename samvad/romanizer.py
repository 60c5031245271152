"""Marathi typed in Latin letters the way people type it, for training data and benchmarks.

Citizens write "pani kadhi yenar", not a scholarly transliteration: the silent ``a`` is
dropped (at the end of a word, and between a vowel-consonant and a consonant-vowel), vowel
length is mostly lost or written double ("panee"), and spellings vary from writer to writer
(``v``/``w``, ``sh``/``s``, ``ch``/``c``, ``ph``/``f``). :func:`romanize` renders Devanagari
so, choosing among the variants with a seeded ``random.Random``; it is used to make the
adapter's training pairs (``scripts/train_adapter.py``) and romanized benchmark questions. The
engine never uses it: questions are matched against the corpus's own words
(:mod:`samvad.phonetic`), not guessed.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

_CONSONANTS: dict[str, tuple[str, ...]] = {
    "क": ("k",), "ख": ("kh",), "ग": ("g",), "घ": ("gh",), "ङ": ("n",),
    "च": ("ch",), "छ": ("chh", "ch"), "ज": ("j",), "झ": ("jh", "zh", "z"), "ञ": ("n",),
    "ट": ("t",), "ठ": ("th",), "ड": ("d",), "ढ": ("dh",), "ण": ("n",),
    "त": ("t",), "थ": ("th",), "द": ("d",), "ध": ("dh",), "न": ("n",),
    "प": ("p",), "फ": ("ph", "f"), "ब": ("b",), "भ": ("bh",), "म": ("m",),
    "य": ("y",), "र": ("r",), "ल": ("l",), "व": ("v", "w"), "श": ("sh", "s"),
    "ष": ("sh",), "स": ("s",), "ह": ("h",), "ळ": ("l",),
    "क़": ("k", "q"), "ज़": ("z",), "फ़": ("f",), "ड़": ("d",), "ढ़": ("dh",),
}  # fmt: skip
_VOWELS: dict[str, tuple[str, ...]] = {
    "अ": ("a",), "आ": ("a", "aa"), "इ": ("i",), "ई": ("i", "ee"), "उ": ("u",),
    "ऊ": ("u", "oo"), "ऋ": ("ru",), "ए": ("e",), "ऐ": ("ai",), "ओ": ("o",), "औ": ("au",),
    "ॲ": ("a", "e"), "ऑ": ("o",),
}  # fmt: skip
_SIGNS: dict[str, tuple[str, ...]] = {
    "ा": ("a", "aa"), "ि": ("i",), "ी": ("i", "ee"), "ु": ("u",), "ू": ("u", "oo"),
    "ृ": ("ru",), "े": ("e",), "ै": ("ai",), "ो": ("o",), "ौ": ("au",), "ॅ": ("a", "e"),
    "ॉ": ("o",),
}  # fmt: skip
_VIRAMA, _NUKTA, _VISARGA = "\u094d", "\u093c", "\u0903"
_NASALS = {"ं": "n", "ँ": "n"}
_DIGITS = str.maketrans("०१२३४५६७८९", "0123456789")


@dataclass
class _Syllable:
    consonant: str
    vowel: str
    schwa: bool  # the vowel is the inherent one, which may be silent
    coda: str = ""


def romanize(text: str, rng: random.Random) -> str:
    """Marathi in Latin letters as people type it: schwa dropped, vowel length often lost,
    spellings varying (``v``/``w``, ``sh``/``s``, ``aa``/``a``…) at random from ``rng``.

    >>> romanize("पाणी कधी येणार घोडबंदर", random.Random(0))
    'pani kadhi yenar ghodbandar'
    >>> romanize("पाणी कधी येणार घोडबंदर", random.Random(1))
    'panee kadhee yenaar ghodbandar'
    """
    doubling = rng.random() < 0.3  # this writer spells long vowels double
    words = []
    for word in text.translate(_DIGITS).split():
        words.append(_romanize_word(word, rng, doubling))
    out = " ".join(w for w in words if w)
    return out.replace("।", "").strip()


def _pick(options: tuple[str, ...], rng: random.Random, doubling: bool) -> str:
    if len(options) == 1:
        return options[0]
    long_form = [o for o in options if len(o) == 2 and o[0] == o[1]]
    if long_form:
        return long_form[0] if doubling and rng.random() < 0.8 else options[0]
    return options[0] if rng.random() < 0.7 else rng.choice(options[1:])


def _romanize_word(word: str, rng: random.Random, doubling: bool) -> str:
    syllables: list[_Syllable] = []
    plain: list[str] = []
    i = 0
    while i < len(word):
        char = word[i]
        if i + 1 < len(word) and word[i + 1] == _NUKTA and char + _NUKTA in _CONSONANTS:
            char, i = char + _NUKTA, i + 1
        if char in _CONSONANTS:
            syllables.append(_Syllable(_pick(_CONSONANTS[char], rng, doubling), "a", True))
        elif char == _VIRAMA and syllables:
            syllables[-1].vowel, syllables[-1].schwa = "", False
        elif char in _SIGNS and syllables:
            syllables[-1].vowel, syllables[-1].schwa = _pick(_SIGNS[char], rng, doubling), False
        elif char in _VOWELS:
            syllables.append(_Syllable("", _pick(_VOWELS[char], rng, doubling), False))
        elif char in _NASALS and syllables:
            syllables[-1].coda += _NASALS[char]
        elif char == _VISARGA and syllables:
            syllables[-1].coda += "h"
        elif re.match(r"[A-Za-z0-9]", char):
            plain.append(char.lower())
        i += 1
    if not syllables:
        return "".join(plain)
    last = syllables[-1]
    if len(syllables) > 1 and last.schwa and not last.coda:
        last.vowel = ""
    for n in range(1, len(syllables) - 1):
        here, before, after = syllables[n], syllables[n - 1], syllables[n + 1]
        silent = here.schwa and not here.coda and here.consonant
        if silent and before.vowel and after.vowel and after.consonant:  # VC_CV: the a goes
            here.vowel = ""
    return "".join(s.consonant + s.vowel + s.coda for s in syllables) + "".join(plain)
