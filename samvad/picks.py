"""Questions for ``samvad eval`` and ``samvad calibrate`` from what citizens told the bot.

When the bot is unsure it offers articles and the citizen picks one (or "None of these");
after an answer a citizen may give a 👍. Each is a citizen's word on which article answers
their question (:class:`samvad.question_log.CitizenLabel`). :func:`cases_from_labels` makes
one case per question from them: the same question (the same words, whatever the case and
punctuation) asked by several citizens counts each citizen once, with their latest word, and
takes the article most of them named (on a tie, the most recent word). A word given without a
pseudonym counts as one citizen's. Staff review the file
before using it: "None of these" says that none of the *offered* articles answers the
question, not that no article does, so a ``none`` whose article exists should be corrected.

>>> from samvad.question_log import CitizenLabel
>>> def said(question, article, citizen, day):
...     return CitizenLabel(question, article, "picked", f"2026-12-0{day}T10:00", citizen)
>>> labels = [
...     said("पाणी कधी येणार?", "water-cut", "a", 4),
...     said("Pani kadhi yenar?", None, "b", 3),
...     said("pani kadhi yenar?", "water-cut", "c", 2),
...     said("pani kadhi yenar", "tax", "c", 1),  # c's earlier word: only the latest counts
...     said("pani  kadhi yenar?", "water-cut", "d", 1),
... ]
>>> [(c.case.question, c.case.article, c.agreeing, c.disagreeing)
...  for c in cases_from_labels(labels)]
[('पाणी कधी येणार?', 'water-cut', 1, 0), ('Pani kadhi yenar?', 'water-cut', 2, 1)]
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from samvad.analyzer import words
from samvad.evaluation import Case
from samvad.question_log import CitizenLabel


@dataclass(frozen=True)
class CitizenCase:
    """A question and the article citizens named for it (``None``: none of those offered):
    ``agreeing`` citizens named it, ``disagreeing`` named another."""

    case: Case
    agreeing: int
    disagreeing: int

    @property
    def notes(self) -> dict[str, object]:
        """The columns staff see beside the case in the written file."""
        return {"citizens_agreeing": self.agreeing, "citizens_disagreeing": self.disagreeing}


def cases_from_labels(labels: Sequence[CitizenLabel]) -> list[CitizenCase]:
    """One case per question of ``labels`` (given newest first, as
    :meth:`samvad.question_log.QuestionLog.labels` gives them), most recently asked first;
    the question is written as it was asked last."""
    latest: dict[str, dict[str, CitizenLabel]] = {}
    for position, label in enumerate(labels):
        citizens = latest.setdefault(" ".join(words(label.question)), {})
        # Without a pseudonym (a caller that sent no user id) nothing tells one citizen's
        # words from another's: each counts as a citizen of its own.
        who = label.user_hash if label.user_hash is not None else f"unnamed #{position}"
        citizens.setdefault(who, label)
    cases = []
    for said in latest.values():
        newest = list(said.values())
        votes = Counter(label.article for label in newest)
        best = max(votes.values())
        article = next(label.article for label in newest if votes[label.article] == best)
        cases.append(CitizenCase(Case(newest[0].question, article), best, len(newest) - best))
    return cases
