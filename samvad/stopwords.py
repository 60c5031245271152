"""The stop words: word lists kept apart from the code that uses them (``samvad/words/``).

- :data:`MARATHI_STOPWORDS` and :data:`ENGLISH_STOPWORDS`: what :func:`samvad.analyzer.analyze`
  drops before text becomes search terms; the English ones also tell an English message from
  romanized Marathi (``samvad/language.py``);
- :data:`ROMANIZED_STOPWORDS`: Marathi function words as people type them in Latin letters,
  which a romanized question's coverage leaves out (:func:`samvad.language.question_words`).

Each file holds one word a line; ``#`` starts a comment.

>>> "आणि" in MARATHI_STOPWORDS, "the" in ENGLISH_STOPWORDS, "madhe" in ROMANIZED_STOPWORDS
(True, True, True)
>>> sorted(read_words(["# a comment", "ahe  # the auxiliary", "", "madhe"]))
['ahe', 'madhe']
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

WORDS_DIR = Path(__file__).with_name("words")


def read_words(lines: Iterable[str]) -> frozenset[str]:
    """The words of a word list's ``lines``: one a line, ``#`` to the line's end a comment,
    blank lines skipped."""
    return frozenset(word for line in lines if (word := line.split("#")[0].strip()))


def _load(name: str) -> frozenset[str]:
    return read_words((WORDS_DIR / name).read_text("utf-8").splitlines())


MARATHI_STOPWORDS = _load("stopwords.mr.txt")
ENGLISH_STOPWORDS = _load("stopwords.en.txt")
ROMANIZED_STOPWORDS = _load("stopwords.romanized.txt")
