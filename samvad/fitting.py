"""Fitting the calibrated decision to questions: the shipped fit and a city's own.

The calibrated decision (``samvad/calibration.py``) is a logistic regression over some of
four signals of the search (its ``inputs``: the shipped fit three, a city's all four), with
an answer band and an offer band. It is fitted on questions whose right article is known:
``bench/decision.py --save`` fits the shipped one on the fixture questions, and ``samvad
calibrate FILE`` fits a city's own on the questions its staff wrote for its articles (the
format of ``samvad eval``), because a fit carries badly from one corpus to another
(``bench/abstention.py``: fitted on the fixtures, it answers MahaSQuAD's questions with 23 %
of the answers wrong).

Each question gives an :class:`Observation`: its signals, whether it has a right article,
whether the top article is that one, and whether it is among the articles an offer would
hold (``samvad.answers.Retrieval.offered``). The answer band is the
lowest chance at which at most ``wrong`` of what would be answered is wrong; the offer band
the chance the right article reaches for ``offer_recall`` of the questions that could be
offered it.

>>> right = [Observation((0.88, 0.30, 0.9, 0.05), True, True, True) for _ in range(3)]
>>> lost = [Observation((0.80, 0.15, 0.1, 0.01), False, False, True) for _ in range(3)]
>>> model = fit_decision(right + lost, "demo", "sentences", minimum=(3, 3))
>>> model.chance((0.90, 0.32, 1.0, 0.06)) > model.answer_at > model.chance((0.8, 0.15, 0.1, 0))
True
>>> auroc(np.array([0.9, 0.8, 0.1]), np.array([True, True, False]))
1.0
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from samvad.calibration import (
    FEATURES,
    CalibrationError,
    DecisionModel,
    Features,
    decision_features,
    input_columns,
)
from samvad.decide import Verdict
from samvad.reply import Signals

# A fit needs at least this many questions whose top article is right, and this many whose
# top article is not (wrong, or the question is one no article answers): fewer cannot place
# an answer band at 5 % wrong.
MIN_RIGHT = 20
MIN_NOT_RIGHT = 10
DEFAULT_WRONG = 0.05
DEFAULT_OFFER_RECALL = 0.9


class FittingError(CalibrationError):
    """The questions cannot give a fit (too few of a kind); the message says what to add."""


@dataclass(frozen=True)
class Observation:
    """One question searched: its decision features, whether the top article is the right
    one, whether the right article is among those an offer would hold, and whether the
    question has a right article at all (``in_scope``; one marked none has not)."""

    features: Features
    right: bool
    reachable: bool
    in_scope: bool


def observe(signals: Signals, offered: Sequence[str], expected: str | None) -> Observation:
    """The observation of a search with ``signals`` whose offer would hold ``offered``
    (article ids, the top article first: ``Retrieval.offered``) for a question whose right
    article is ``expected`` (``None``: none is).

    >>> observe(Signals(0.86, 0.3, coverage=0.5), ["b", "a"], "a").reachable
    True
    >>> observe(Signals(0.86, 0.3, coverage=0.5), ["b", "a"], None).right
    False
    """
    top = offered[0] if offered else None
    return Observation(
        decision_features(signals),
        expected is not None and top == expected,
        expected is not None and expected in offered,
        expected is not None,
    )


@dataclass(frozen=True)
class Tally:
    """What one decision does to a set of observed questions: of the ``in_scope`` ones,
    how many it answers from the right article (``right``) or a wrong one (``wrong``) and
    how many reach their article in one tap (answered right, or offered it; no fact check);
    of the ``outside`` ones (no right article), how many it answers or offers articles to."""

    in_scope: int
    right: int
    wrong: int
    one_tap: int
    outside: int
    outside_answered: int
    outside_offered: int

    @property
    def right_share(self) -> float:
        """Answered right, as a share of the in-scope questions (0.0 with none)."""
        return self.right / max(self.in_scope, 1)

    @property
    def one_tap_share(self) -> float:
        """Reached in one tap, as a share of the in-scope questions (0.0 with none)."""
        return self.one_tap / max(self.in_scope, 1)


def tally(observations: Sequence[Observation], verdicts: Sequence[Verdict]) -> Tally:
    """Count what ``verdicts`` (one per observation) do to ``observations``.

    >>> found = Observation((0.9, 0.3, 0.9, 0.05), True, True, True)
    >>> outside = Observation((0.8, 0.1, 0.1, 0.0), False, False, False)
    >>> tally([found, found, outside], ["answer", "refuse", "offer"])
    Tally(in_scope=2, right=1, wrong=0, one_tap=1, outside=1, outside_answered=0, outside_offered=1)
    """
    rows = list(zip(observations, verdicts, strict=True))
    scoped = [(o, v) for o, v in rows if o.in_scope]
    others = [v for o, v in rows if not o.in_scope]
    return Tally(
        len(scoped),
        sum(v == "answer" and o.right for o, v in scoped),
        sum(v == "answer" and not o.right for o, v in scoped),
        sum((v == "answer" and o.right) or (v == "offer" and o.reachable) for o, v in scoped),
        len(others),
        sum(v == "answer" for v in others),
        sum(v == "offer" for v in others),
    )


def fit_logistic(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], steps: int = 3000
) -> npt.NDArray[np.float64]:
    """Weights (with a bias last) of a logistic regression of ``y`` (0 or 1) on the rows of
    ``x``, by gradient descent with an L2 penalty of 0.01."""
    features = np.hstack([x, np.ones((len(x), 1))])
    weights = np.zeros(features.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-features @ weights))
        weights -= 0.5 * (features.T @ (p - y) / len(y) + 0.01 * weights)
    return weights


def fit_standardised(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The columns' means and spreads of ``x``, and the weights (bias last) of
    :func:`fit_logistic` of ``y`` on ``x`` standardised by them; :func:`log_odds` applies
    them to any rows."""
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-9
    return mean, scale, fit_logistic((x - mean) / scale, y)


def log_odds(
    x: npt.NDArray[np.float64],
    mean: npt.NDArray[np.float64],
    scale: npt.NDArray[np.float64],
    weights: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    """The log-odds of each row of ``x`` under a :func:`fit_standardised` fit."""
    return np.hstack([(x - mean) / scale, np.ones((len(x), 1))]) @ weights


def lowest_threshold(
    scores: npt.NDArray[np.float64], right: npt.NDArray[np.bool_], share: float
) -> float | None:
    """The lowest of ``scores`` at which at most ``share`` of the questions scoring at it
    or above are not ``right`` (``None``: at none).

    >>> lowest_threshold(np.array([0.2, 0.9, 0.5]), np.array([False, True, True]), 0.0)
    0.5
    """
    return next((float(t) for t in np.sort(scores) if (~right[scores >= t]).mean() <= share), None)


def auroc(scores: npt.NDArray[np.float64], positive: npt.NDArray[np.bool_]) -> float:
    """Probability that a random positive scores above a random negative (a tie counts as
    the negative above: the cautious reading); NaN without both."""
    pos, neg = scores[positive], scores[~positive]
    if not len(pos) or not len(neg):
        return float("nan")
    order = np.argsort(np.concatenate([pos, neg]), kind="stable")
    ranks = np.empty(len(order))
    ranks[order] = np.arange(1, len(order) + 1)
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def check_enough(
    observations: Sequence[Observation], minimum: tuple[int, int] = (MIN_RIGHT, MIN_NOT_RIGHT)
) -> None:
    """:class:`FittingError` unless ``observations`` hold at least ``minimum`` questions
    whose top article is right and whose is not."""
    right = sum(o.right for o in observations)
    other = len(observations) - right
    if right < minimum[0] or other < minimum[1]:
        raise FittingError(
            f"a fit needs at least {minimum[0]} questions whose article is found first and "
            f"{minimum[1]} whose is not (or that no article answers, marked none); these give "
            f"{right} and {other}: add questions"
        )


def fit_decision(
    observations: Sequence[Observation],
    model: str,
    search_mode: str,
    wrong: float = DEFAULT_WRONG,
    offer_recall: float = DEFAULT_OFFER_RECALL,
    info: dict[str, object] | None = None,
    minimum: tuple[int, int] = (MIN_RIGHT, MIN_NOT_RIGHT),
    inputs: tuple[str, ...] = FEATURES,
) -> DecisionModel:
    """The logistic regression over the ``inputs`` of ``observations`` with its answer
    band (at most ``wrong`` of what is answered is wrong) and offer band (``offer_recall``
    of the reachable questions offered), for ``model`` searched in ``search_mode``.

    Raises :class:`FittingError` for fewer observations of a kind than ``minimum``
    (:func:`check_enough`) and :class:`ValueError` for a share outside 0..1."""
    if not 0 < wrong < 1 or not 0 < offer_recall < 1:
        raise ValueError("wrong and offer_recall are shares between 0 and 1")
    check_enough(observations, minimum)
    x = np.array([o.features for o in observations], dtype=float)[:, input_columns(inputs)]
    right = np.array([o.right for o in observations])
    mean, scale, weights = fit_standardised(x, right.astype(float))
    p = log_odds(x, mean, scale, weights)
    lowest = lowest_threshold(p, right, wrong)
    answer_at = float(p.max()) if lowest is None else lowest
    reachable = np.array([o.reachable for o in observations])
    offer_at = float(np.quantile(p[reachable], 1 - offer_recall)) if reachable.any() else 0.0
    return DecisionModel(
        model,
        search_mode,
        tuple(float(v) for v in mean),
        tuple(float(v) for v in scale),
        tuple(float(v) for v in weights[:-1]),
        float(weights[-1]),
        answer_at,
        min(offer_at, answer_at),
        inputs,
        dict(info or {}),
    )


def cross_validated(
    observations: Sequence[Observation],
    folds: int = 5,
    wrong: float = DEFAULT_WRONG,
    offer_recall: float = DEFAULT_OFFER_RECALL,
    seed: int = 0,
    inputs: tuple[str, ...] = FEATURES,
) -> list[DecisionModel]:
    """For each observation, the model fitted without its fold (``folds`` seeded folds):
    what the fit does on questions it did not see. The folds are drawn within the right
    and the other observations apart, so each fold's fit keeps their proportion and meets
    the minimum of :func:`check_enough` scaled down by its share of the questions."""
    rng = np.random.default_rng(seed)
    fold_of = np.empty(len(observations), dtype=int)
    right = np.array([o.right for o in observations])
    for kind in (True, False):
        members = rng.permutation(np.flatnonzero(right == kind))
        fold_of[members] = np.arange(len(members)) % folds
    share = (folds - 1) / folds
    minimum = (int(MIN_RIGHT * share), int(MIN_NOT_RIGHT * share))
    fitted = [
        fit_decision(
            [o for o, f in zip(observations, fold_of, strict=True) if f != fold],
            "",
            "",
            wrong,
            offer_recall,
            minimum=minimum,
            inputs=inputs,
        )
        for fold in range(folds)
    ]
    return [fitted[int(f)] for f in fold_of]
