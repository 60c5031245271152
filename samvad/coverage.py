"""Coverage: how much of what a question asks about an article speaks of.

A question on a neighbouring topic ("any free *dental* check-up camp?" against the eye camp,
"how to get a *caste* certificate" against the birth certificate) reads close to a real one
by the dense cosine and shares most concepts, but one of its telling words is nowhere in the
article. Coverage is the share of the question's words, each weighted by how few of the
index's articles hold it, that the article holds in one of its versions.

Each word counts in every form it can take in an article (:class:`QuestionWord`): itself,
its translations by the search lexicon (``samvad/lexicon.py``; for a Marathi word with a
postposition joined on, शिष्यवृत्तीविषयी, its stem's) and, for a word of romanized
Marathi, its Devanagari reading and that reading's spelling-tolerant skeleton. A word's
weight is ln(1 + (N + 1) / (n + 0.5)) for N articles of which n hold one of its forms: a word
no article holds weighs most, and a word every article holds still counts (BM25's idf would
give it almost nothing, so in a folder of one article every word it shares would vanish).
Telling a common word from a rare one needs articles to count in: with fewer than
:data:`MIN_ARTICLES` (fixed before measuring) coverage is not measured, and the calibrated
decision, which needs it, gives way to the thresholds (``samvad/answers.py``).

>>> words = (QuestionWord("dental", frozenset({"dental", "दंत"})),
...          QuestionWord("camp", frozenset({"camp", "शिबिर"})))
>>> frequency = {"camp": 3, "शिबिर": 2}.get
>>> round(coverage(words, frozenset({"camp", "eye"}), lambda t: frequency(t, 0), 100), 2)
0.36
>>> coverage(words, frozenset({"camp", "dental"}), lambda t: frequency(t, 0), 100)
1.0
>>> coverage((), frozenset({"camp"}), lambda t: 0, 100)
0.0
"""

from __future__ import annotations

import math
from collections.abc import Callable, Container, Sequence
from dataclasses import dataclass

# Coverage is measured over an index of at least this many articles (article ids).
MIN_ARTICLES = 5


@dataclass(frozen=True)
class QuestionWord:
    """A word of the question and every form an article may hold it in (itself included)."""

    word: str
    forms: frozenset[str]


def word_weight(word: QuestionWord, frequency: Callable[[str], int], documents: int) -> float:
    """ln(1 + (N + 1) / (n + 0.5)) for N ``documents``, n of them holding a form of the word
    (the forms' ``frequency`` summed, at most N)."""
    held = min(documents, sum(frequency(form) for form in word.forms))
    return math.log(1 + (documents + 1) / (held + 0.5))


def coverage(
    words: Sequence[QuestionWord],
    article_terms: Container[str],
    frequency: Callable[[str], int],
    documents: int,
) -> float:
    """The weighted share (0..1) of ``words`` that ``article_terms`` holds in some form, each
    weighed by :func:`word_weight` over ``documents`` with ``frequency``; 0.0 for a question
    without words."""
    weights = [(w, word_weight(w, frequency, documents)) for w in words]
    total = sum(weight for _, weight in weights)
    if total <= 0:
        return 0.0
    held = sum(weight for w, weight in weights if any(f in article_terms for f in w.forms))
    return held / total
