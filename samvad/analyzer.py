"""Turn Marathi and English text into search terms for the lexical (BM25) index.

What it does, in order: lower case; zero-width joiners go; Unicode NFC; Devanagari digits become
ASCII (१० = 10); punctuation (including ``।`` and ``॥``) separates words while vowel signs,
viramas, anusvara and nukta stay inside them (the classic bug is to treat them as punctuation);
Marathi and English stop words are dropped; Marathi case endings are lightly stripped so
"करारावर" and "करार" meet; English plurals lose their "s".

>>> analyze("ठाणे महानगरपालिकेच्या करारावर १० स्वाक्षऱ्या।")
['ठाण', 'महानगरपालिक', 'करार', '10', 'स्वाक्षऱ']
>>> analyze("Which agreements did Thane sign?")
['agreement', 'thane', 'sign']
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Container

from samvad.stopwords import ENGLISH_STOPWORDS, MARATHI_STOPWORDS

_DEVANAGARI_DIGITS = str.maketrans("०१२३४५६७८९", "0123456789")
# Letters, digits and Devanagari (except the dandas U+0964/U+0965) form words.
_WORD = re.compile(r"[0-9a-z\u00c0-\u024f\u0900-\u0963\u0966-\u097f]+")
_DEVANAGARI = re.compile(r"[\u0900-\u097f]")
_VOWEL_SIGNS = "ािीुूृेैोौं"

# Case endings and postpositions, longest first; applied once per word.
_MARATHI_SUFFIXES = tuple(
    sorted(
        [
            "च्या",
            "चा",
            "ची",
            "चे",
            "ला",
            "ना",
            "ने",
            "नी",
            "त",
            "ात",
            "तील",
            "ातील",
            "मध्ये",
            "ामध्ये",
            "साठी",
            "ासाठी",
            "वर",
            "ावर",
            "मुळे",
            "ामुळे",
            "कडे",
            "ाकडे",
            "कडून",
            "ाकडून",
            "पर्यंत",
            "ापर्यंत",
            "पासून",
            "ापासून",
            "ांना",
            "ांनी",
            "ांचा",
            "ांची",
            "ांचे",
            "ांच्या",
            "ांत",
            "ांमध्ये",
            "ांसाठी",
            "ांवर",
            "च्यात",
            "तून",
            "ातून",
            "शी",
            "ाशी",
            "ही",
            "ाही",
        ],
        key=len,
        reverse=True,
    )
)
_MIN_STEM = 2


def _stem_marathi(word: str) -> str:
    """Strip one case ending, then a trailing vowel sign and an oblique '्य', if a stem remains."""
    for suffix in _MARATHI_SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= _MIN_STEM:
            word = word[: -len(suffix)]
            break
    if len(word) > _MIN_STEM and word[-1] in _VOWEL_SIGNS:
        word = word[:-1]
    if len(word) > _MIN_STEM + 1 and word.endswith("्य"):
        word = word[:-2]
    return word


def _stem_english(word: str) -> str:
    """Light plural stripping: 'agreements' → 'agreement', 'buses' → 'bus'."""
    if len(word) > 4 and word.endswith("ses"):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def normalize(text: str) -> str:
    """Lower case, no zero-width joiners, NFC, ASCII digits.

    NFC comes after the other steps so that it composes what they leave: र + ZWJ + ़ and र + ़
    both become ऱ, and J + ˇ (no capital letter has it) becomes ǰ like j + ˇ does.
    """
    text = text.lower().replace("\u200c", "").replace("\u200d", "")
    return unicodedata.normalize("NFC", text).translate(_DEVANAGARI_DIGITS)


def is_devanagari(text: str) -> bool:
    """Whether ``text`` holds a Devanagari character (a Marathi word, in Samvad's two scripts).

    >>> is_devanagari("पाणी"), is_devanagari("pani"), is_devanagari("12")
    (True, False, False)
    """
    return _DEVANAGARI.search(text) is not None


# The shortest known term a longer Devanagari word is read as (see :func:`joined_stem`).
MIN_JOINED_STEM = 3


def joined_stem(word: str, known: Container[str], shortest: int = MIN_JOINED_STEM) -> str | None:
    """The longest term ``known`` holds that ``word`` begins with, shorter than ``word`` and of
    at least ``shortest`` letters, or ``None``: Marathi joins postpositions to a word
    (शिष्यवृत्तीविषय, जपानसोबत) that :func:`stem` does not take off.

    >>> joined_stem("जपानसोबत", {"जपान", "जप"}), joined_stem("जपानसोबत", {"जप"})
    ('जपान', None)
    """
    return next(
        (word[:end] for end in range(len(word) - 1, shortest - 1, -1) if word[:end] in known),
        None,
    )


def stem(word: str) -> str:
    """A normalised word's stem: a Devanagari word without one case ending ("केंद्रांमध्ये" →
    "केंद्र"), a Latin one without a plural ending ("days" → "day").

    >>> stem("केंद्रांमध्ये"), stem("मेपर्यंत"), stem("offices")
    ('केंद्र', 'मे', 'office')
    """
    if is_devanagari(word):
        return _stem_marathi(word)
    return _stem_english(word)


def words(text: str) -> list[str]:
    """Every normalised word of ``text``, in order (punctuation and spaces dropped).

    >>> words("Pani  kadhi yenar?"), words("पाणी कधी येणार?")
    (['pani', 'kadhi', 'yenar'], ['पाणी', 'कधी', 'येणार'])
    """
    return _WORD.findall(normalize(text))


def analyze(text: str) -> list[str]:
    """Split ``text`` into normalised search terms, dropping stop words."""
    return [term for _, term in analyzed_words(text)]


def analyzed_words(text: str) -> list[tuple[str, str]]:
    """Each word of ``text`` that is not a stop word, as (the word, its search term).

    >>> analyzed_words("kiti divas lagtat")
    [('kiti', 'kiti'), ('divas', 'diva'), ('lagtat', 'lagtat')]
    """
    return [
        (word, stem(word))
        for word in words(text)
        if word not in MARATHI_STOPWORDS and word not in ENGLISH_STOPWORDS
    ]


_SKELETON = str.maketrans(
    {
        "ण": "न",
        "ट": "त",
        "ठ": "थ",
        "ड": "द",
        "ढ": "ध",
        "ळ": "ल",
        "ष": "श",
        "ऱ": "र",
        "ं": "न",
        "ँ": "न",
        "ी": "ि",
        "ू": "ु",
        "ै": "े",
        "ौ": "ो",
        "ॉ": "ो",
        "ॅ": "े",
        "आ": "अ",
        "ई": "इ",
        "ऊ": "उ",
        "ॲ": "अ",
        "ऑ": "ओ",
        "ा": None,
        "्": None,
        "़": None,
    }
)
SKELETON_MARK = "~"


def skeleton(term: str) -> str:
    """A spelling-tolerant key for a Devanagari term, prefixed with ``~``.

    Casual romanized Marathi loses vowel length and the retroflex/dental distinction, so
    "pani" transliterates to पनी, not पाणी; both share the skeleton ``~पनि``.
    """
    return SKELETON_MARK + term.translate(_SKELETON)


def skeletons(terms: list[str]) -> list[str]:
    """Skeleton keys of the Devanagari terms in ``terms`` (others are left out)."""
    return [skeleton(t) for t in terms if is_devanagari(t)]
