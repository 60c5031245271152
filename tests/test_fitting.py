"""Fitting the calibrated decision: the bands, the minimum, the folds (no model needed)."""

from __future__ import annotations

import numpy as np
import pytest

from samvad.calibration import Features
from samvad.decide import Verdict
from samvad.fitting import (
    MIN_NOT_RIGHT,
    MIN_RIGHT,
    FittingError,
    Observation,
    Tally,
    auroc,
    check_enough,
    cross_validated,
    fit_decision,
    lowest_threshold,
    observe,
    tally,
)
from samvad.reply import Signals


def _observations(right: int, other: int, seed: int = 1) -> list[Observation]:
    """``right`` questions found with high signals, ``other`` with low ones, overlapping."""
    rng = np.random.default_rng(seed)

    def features(centre: tuple[float, float, float, float]) -> Features:
        a, b, c, d = (float(v) for v in rng.normal(centre, (0.02, 0.04, 0.2, 0.02)))
        return (a, b, c, d)

    found = [Observation(features((0.87, 0.28, 0.7, 0.05)), True, True, True) for _ in range(right)]
    lost = [
        Observation(features((0.83, 0.19, 0.2, 0.01)), False, False, True) for _ in range(other)
    ]
    return found + lost


def test_the_answer_band_keeps_wrong_answers_within_the_share() -> None:
    observations = _observations(60, 40)
    model = fit_decision(observations, "m", "sentences", wrong=0.05)
    answered = [o for o in observations if model.chance(o.features) >= model.answer_at]
    assert answered and sum(not o.right for o in answered) <= 0.05 * len(answered)
    assert model.offer_at <= model.answer_at
    assert all(w > 0 for w in model.weights)


def test_a_stricter_share_answers_less() -> None:
    observations = _observations(60, 40)
    strict = fit_decision(observations, "m", "sentences", wrong=0.01)
    loose = fit_decision(observations, "m", "sentences", wrong=0.2)
    assert strict.answer_at >= loose.answer_at


@pytest.mark.parametrize(
    ("right", "other"),
    [(MIN_RIGHT - 1, MIN_NOT_RIGHT), (MIN_RIGHT, MIN_NOT_RIGHT - 1)],
    ids=["too few found first", "too few not found"],
)
def test_too_few_questions_of_a_kind_are_refused_with_the_counts(right: int, other: int) -> None:
    with pytest.raises(FittingError, match=f"give {right} and {other}: add questions"):
        fit_decision(_observations(right, other), "m", "sentences")


def test_the_minimum_itself_is_enough_even_for_every_fold() -> None:
    observations = _observations(MIN_RIGHT, MIN_NOT_RIGHT)
    check_enough(observations)
    held_out = cross_validated(observations, folds=5)
    assert len(held_out) == len(observations)
    assert len({id(m) for m in held_out}) == 5


def test_each_question_is_scored_by_a_fit_that_did_not_see_it() -> None:
    observations = _observations(40, 20)
    odd = Observation((0.95, 0.45, 1.0, 0.1), False, False, True)  # very sure, and wrong
    with_odd = [*observations, odd]
    held_out = cross_validated(with_odd)
    seen = fit_decision(with_odd, "m", "sentences")
    unseen = held_out[-1]
    assert unseen.chance(odd.features) > seen.chance(odd.features)


@pytest.mark.parametrize("share", [0.0, 1.0, -0.1])
def test_a_share_outside_zero_and_one_is_refused(share: float) -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        fit_decision(_observations(30, 20), "m", "sentences", wrong=share)


@pytest.mark.parametrize(
    ("offered", "expected", "right", "reachable"),
    [
        (["water-cut", "tax"], "water-cut", True, True),
        (["tax", "water-cut"], "water-cut", False, True),
        (["a", "b", "c"], "water-cut", False, False),
        (["tax"], None, False, False),
        ([], "water-cut", False, False),
    ],
    ids=["first", "second", "not offered", "none expected", "nothing found"],
)
def test_an_observation_says_whether_the_article_was_first_or_offered(
    offered: list[str], expected: str | None, right: bool, reachable: bool
) -> None:
    seen = observe(Signals(0.86, 0.25, coverage=0.4, margin=0.03), offered, expected)
    assert (seen.right, seen.reachable, seen.in_scope) == (right, reachable, expected is not None)
    assert seen.features == (0.86, 0.25, 0.4, 0.03)


FOUND = Observation((0.9, 0.3, 0.9, 0.05), True, True, True)
OFFERED = Observation((0.84, 0.2, 0.5, 0.02), False, True, True)
MISSED = Observation((0.83, 0.2, 0.3, 0.01), False, False, True)
OUTSIDE = Observation((0.8, 0.1, 0.1, 0.0), False, False, False)


@pytest.mark.parametrize(
    ("observed", "verdicts", "expected"),
    [
        ([FOUND, OFFERED], ["answer", "offer"], Tally(2, 1, 0, 2, 0, 0, 0)),
        ([OFFERED, MISSED], ["answer", "offer"], Tally(2, 0, 1, 0, 0, 0, 0)),
        ([FOUND, OUTSIDE, OUTSIDE], ["refuse", "answer", "offer"], Tally(1, 0, 0, 0, 2, 1, 1)),
    ],
    ids=["answered and offered", "wrong answer, offer without it", "out of scope"],
)
def test_a_tally_counts_what_each_verdict_does_to_its_question(
    observed: list[Observation], verdicts: list[Verdict], expected: Tally
) -> None:
    assert tally(observed, verdicts) == expected


def test_a_tally_of_no_questions_gives_zero_shares() -> None:
    empty = tally([], [])
    assert (empty.right_share, empty.one_tap_share) == (0.0, 0.0)


def test_auroc_reads_a_tie_cautiously_and_needs_both_kinds() -> None:
    assert auroc(np.array([0.9, 0.2]), np.array([True, False])) == 1.0
    assert auroc(np.array([0.5, 0.5]), np.array([True, False])) == 0.0
    assert np.isnan(auroc(np.array([0.5]), np.array([True])))


@pytest.mark.parametrize(
    ("share", "expected"),
    [(0.0, 0.8), (0.34, 0.5), (0.5, 0.2)],
    ids=["none wrong", "one in three wrong", "half wrong"],
)
def test_the_lowest_threshold_keeps_wrong_within_the_share(share: float, expected: float) -> None:
    scores = np.array([0.2, 0.5, 0.8, 0.6])
    right = np.array([False, True, True, False])
    assert lowest_threshold(scores, right, share) == expected


def test_no_threshold_when_every_score_is_wrong() -> None:
    assert lowest_threshold(np.array([0.3, 0.7]), np.array([False, False]), 0.05) is None
