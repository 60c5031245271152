"""Romanized Marathi (and English loanwords) matched against the words the index really holds.

Open transliteration of "pani kadhi yenar" is a guess (पनी? पाणी?); the words it should become
are not: they are in the indexed articles. Both scripts are reduced to one phonetic spelling
in which the differences casual typing loses are merged — vowel length (a/aa, i/ee, u/oo),
aspiration (kh→k, dh→d, bh→b…), retroflex and dental (ट/त, ड/द, ण/न, ळ/ल), v/w, z/j, sh/s,
ph/f, doubled letters, and the schwa Marathi does not pronounce at the end of a word — so
"pani", "paani" and "panee" all meet पाणी, and "parking", "tanker", "online" meet पार्किंग,
टँकर, ऑनलाइन. :class:`Vocabulary` keeps every Devanagari word of an index generation under
its consonant skeleton; :meth:`Vocabulary.match` returns, for a Latin word, the corpus word
whose phonetic spelling is closest (same consonants; fewest vowel edits, at most half the
letters), the most frequent on ties. The script mapping itself is this module's; nothing is
guessed that is not in the corpus.

>>> phonetic("पाणी"), phonetic("paani"), phonetic("panee")
('pani', 'pani', 'pani')
>>> phonetic("घोडबंदर"), phonetic("ghodbunder"), phonetic("कचरा"), phonetic("kachra")
('godabandar', 'godbunder', 'kacara', 'kacra')
>>> vocabulary = Vocabulary.from_texts(["पाणीपुरवठा बंद राहील. पाणी टँकर मिळेल. पार्किंग ऑनलाइन"])
>>> vocabulary.match("pani"), vocabulary.match("paani"), vocabulary.match("parking")
('पाणी', 'पाणी', 'पार्किंग')
>>> vocabulary.match("tanker"), vocabulary.match("online"), vocabulary.match("kuthe") is None
('टँकर', 'ऑनलाइन', True)

The engine builds it from an index's analysed terms (Marathi words without their case
endings, so "tanker" meets टँकरने through टँकर).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

# Devanagari letters in the merged phonetic alphabet (consonants carry no vowel here).
_CONSONANTS = {
    **dict.fromkeys("कखक़ख़", "k"),
    **dict.fromkeys("गघग़", "g"),
    **dict.fromkeys("चछ", "c"),
    **dict.fromkeys("जझज़", "j"),
    **dict.fromkeys("टठतथ", "t"),
    **dict.fromkeys("डढदधड़ढ़", "d"),
    **dict.fromkeys("णनङञ", "n"),
    **dict.fromkeys("पफफ़", "p"),
    **dict.fromkeys("बभ", "b"),
    "म": "m",
    "य": "y",
    **dict.fromkeys("रऱ", "r"),
    **dict.fromkeys("लळ", "l"),
    "व": "v",
    **dict.fromkeys("शषस", "s"),
    "ह": "h",
}
_VOWEL_SIGNS = {
    **dict.fromkeys("ा", "a"),
    **dict.fromkeys("िी", "i"),
    **dict.fromkeys("ुू", "u"),
    **dict.fromkeys("ेैॅ", "e"),
    **dict.fromkeys("ोौॉ", "o"),
    "ृ": "ru",
}
_VOWELS = {
    **dict.fromkeys("अआॲ", "a"),
    **dict.fromkeys("इई", "i"),
    **dict.fromkeys("उऊ", "u"),
    **dict.fromkeys("एऐऍ", "e"),
    **dict.fromkeys("ओऔऑ", "o"),
    "ऋ": "ru",
}
_NASALS = "ंँ"
_VIRAMA = "्"
_DEVANAGARI_WORD = re.compile(r"[\u0900-\u097f]+")
_LATIN_WORD = re.compile(r"[a-z]+")
# Latin spellings merged like the Devanagari ones (longest first).
_LATIN_RULES = [
    ("chh", "C"),
    ("ksh", "ks"),
    ("kh", "k"),
    ("gh", "g"),
    ("ch", "C"),
    ("jh", "j"),
    ("zh", "j"),
    ("th", "t"),
    ("dh", "d"),
    ("ph", "p"),
    ("bh", "b"),
    ("sh", "s"),
    ("aa", "a"),
    ("ee", "i"),
    ("oo", "u"),
    ("ai", "e"),
    ("au", "o"),
    ("ck", "k"),
    ("f", "p"),
    ("w", "v"),
    ("z", "j"),
    ("q", "k"),
    ("x", "ks"),
]
_LATIN = re.compile("|".join(re.escape(a) for a, _ in _LATIN_RULES))
_LATIN_MAP = dict(_LATIN_RULES)
_VOWEL_LETTERS = frozenset("aeiou")
MIN_LETTERS = 3


def _collapse(spelling: str) -> str:
    """Doubled letters once ("pattern" → "patern", "कट्टा" → "kata")."""
    return re.sub(r"(.)\1+", r"\1", spelling)


def _devanagari(word: str) -> str:
    out: list[str] = []
    pending_schwa = False
    for char in word:
        if char in _CONSONANTS:
            if pending_schwa:
                out.append("a")
            out.append(_CONSONANTS[char])
            pending_schwa = True
        elif char in _VOWEL_SIGNS:
            out.append(_VOWEL_SIGNS[char])
            pending_schwa = False
        elif char == _VIRAMA:
            pending_schwa = False
        elif char in _NASALS:
            if pending_schwa:
                out.append("a")
            out.append("n")
            pending_schwa = False
        elif char in _VOWELS:
            if pending_schwa:
                out.append("a")
            out.append(_VOWELS[char])
            pending_schwa = False
    return "".join(out)  # a final schwa is not pronounced: never added


def _latin(word: str) -> str:
    merged = _LATIN.sub(lambda m: _LATIN_MAP[m.group(0)], word.lower())
    merged = re.sub(r"(?<=[^aeiou])h", "", merged)  # aspiration left over ("bhh", "kha")
    merged = re.sub(r"y$", "i", merged)
    # "ch" is च; an English "c" on its own sounds k ("cut" → कट)
    return merged.replace("c", "k").replace("C", "c")


def phonetic(word: str) -> str:
    """``word`` (Devanagari or Latin letters) in the merged phonetic spelling."""
    spelling = _devanagari(word) if _DEVANAGARI_WORD.fullmatch(word) else _latin(word)
    return _collapse(spelling)


def skeleton(spelling: str) -> str:
    """The consonants of a phonetic spelling: the bucket words are looked up in."""
    return "".join(c for c in spelling if c not in _VOWEL_LETTERS)


def edit_distance(a: str, b: str, bound: int) -> int:
    """Levenshtein distance of ``a`` and ``b``, or ``bound + 1`` once it must exceed ``bound``."""
    if abs(len(a) - len(b)) > bound:
        return bound + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > bound:
            return bound + 1
        previous = current
    return previous[-1]


@dataclass(frozen=True)
class _Entry:
    word: str
    spelling: str
    count: int


class Vocabulary:
    """The Devanagari words of an index generation, looked up by how they sound."""

    def __init__(self, counts: Counter[str]) -> None:
        buckets: defaultdict[str, list[_Entry]] = defaultdict(list)
        for word, count in counts.items():
            spelling = phonetic(word)
            if len(spelling) >= MIN_LETTERS:
                buckets[skeleton(spelling)].append(_Entry(word, spelling, count))
        self._buckets = dict(buckets)
        self.size = len(counts)

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> Vocabulary:
        """The vocabulary of ``texts`` (every Devanagari word, with how often it occurs)."""
        counts: Counter[str] = Counter()
        for text in texts:
            counts.update(_DEVANAGARI_WORD.findall(text))
        return cls(counts)

    def match(self, latin_word: str) -> str | None:
        """The corpus word ``latin_word`` most likely stands for, or ``None``."""
        spelling = phonetic(latin_word.lower())
        if len(spelling) < MIN_LETTERS or not _LATIN_WORD.fullmatch(latin_word.lower()):
            return None
        # Within a bucket the consonants agree: only vowels differ.
        bound = max(2, len(spelling) // 2)
        best: tuple[int, int, str] | None = None
        for entry in self._buckets.get(skeleton(spelling), ()):
            distance = edit_distance(spelling, entry.spelling, bound)
            if distance <= bound and (best is None or (distance, -entry.count) < best[:2]):
                best = (distance, -entry.count, entry.word)
        return best[2] if best is not None else None

    def corpus_words(self, text: str) -> list[str]:
        """The corpus words the Latin words of ``text`` stand for, in order (unmatched words
        are left out).

        >>> Vocabulary.from_texts(["पाणी टँकर"]).corpus_words("paani tanker kuthe")
        ['पाणी', 'टँकर']
        """
        return [m for w in re.findall(r"[A-Za-z]+", text) if (m := self.match(w)) is not None]
