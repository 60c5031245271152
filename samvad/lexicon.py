"""A Marathi-English word lexicon: the search terms of one language that stand for a term of the
other, so BM25 can judge an article written only in the other language.

The lexicon is a word list kept apart from code (``samvad/words/lexicon.tsv``), built by
``scripts/build_lexicon.py`` from the Maharashtra legislature's questions and answers, which
exist row for row in both languages (MIT). Each line holds a search term (an analyzer stem,
:func:`samvad.analyzer.analyze`) and, best first, the terms of the other script that stand
most often in the other language's version of the same titles, questions and answers. The
file is rebuilt whenever the analyzer's stems change.

    >>> lexicon = Lexicon({"hawker": ("फेरीवाल",), "फेरीवाल": ("hawker", "vendor")})
    >>> lexicon.translate(["फेरीवाल", "licence"])
    ('hawker', 'vendor')
    >>> Lexicon.from_text(lexicon.to_text()) == lexicon
    True
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from samvad.analyzer import is_devanagari, joined_stem

LEXICON_FILE = Path(__file__).resolve().parent / "words" / "lexicon.tsv"


@dataclass(frozen=True)
class Lexicon:
    """Each known term's translations, best first (a term and its translations differ in
    script; ``ValueError`` otherwise)."""

    entries: Mapping[str, tuple[str, ...]]

    def __post_init__(self) -> None:
        for term, translations in self.entries.items():
            if not term or not translations:
                raise ValueError(f"lexicon entry {term!r} has no translation")
            for translation in translations:
                if is_devanagari(translation) == is_devanagari(term):
                    raise ValueError(f"lexicon entry {term!r} → {translation!r}: same script")

    def translate(self, terms: Iterable[str]) -> tuple[str, ...]:
        """The translations of each of ``terms`` the lexicon knows, in order (unknown terms
        give none)."""
        return tuple(t for term in terms for t in self.entries.get(term, ()))

    def joined(self, word: str) -> tuple[str, ...]:
        """The translations of the known term an unknown Devanagari ``word`` begins with
        (:func:`samvad.analyzer.joined_stem`: शिष्यवृत्तीविषय, "about the scholarship"). A
        known word, a Latin one or one without such a term gives none.

        >>> Lexicon({"शिबिर": ("camp",)}).joined("शिबिराविषय")
        ('camp',)
        """
        if word in self.entries or not is_devanagari(word):
            return ()
        found = joined_stem(word, self.entries)
        return () if found is None else self.entries[found]

    def to_text(self) -> str:
        """The lexicon as the file holds it: ``term<TAB>translation<TAB>…`` lines, sorted."""
        return "".join(
            "\t".join((term, *self.entries[term])) + "\n" for term in sorted(self.entries)
        )

    @classmethod
    def from_text(cls, text: str) -> Lexicon:
        """Read what :meth:`to_text` wrote (``#`` lines are comments); ``ValueError`` names
        the first bad line."""
        entries: dict[str, tuple[str, ...]] = {}
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip() or line.startswith("#"):
                continue
            term, *translations = line.split("\t")
            if not translations or term in entries:
                raise ValueError(f"lexicon line {number}: {line[:60]!r}")
            entries[term] = tuple(translations)
        return cls(entries)

    def save(self, path: Path, header: str = "") -> None:
        """Write the lexicon to ``path``, after ``header`` lines as ``#`` comments."""
        comments = "".join(f"# {line}".rstrip() + "\n" for line in header.splitlines())
        path.write_text(comments + self.to_text(), "utf-8")

    @classmethod
    def load(cls, path: Path = LEXICON_FILE) -> Lexicon:
        """Read a lexicon file written by :meth:`save`."""
        return cls.from_text(path.read_text("utf-8"))


@functools.cache
def shipped_lexicon() -> Lexicon:
    """The lexicon that ships with Samvad, read once."""
    return Lexicon.load()
