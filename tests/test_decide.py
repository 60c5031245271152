"""Deciding from the signals: the four thresholds, and what the calibrated chance changes."""

from __future__ import annotations

import pytest

from samvad.decide import Thresholds, Verdict, decide
from samvad.reply import Signals

THRESHOLDS = Thresholds(0.80, 0.18, 0.84, 0.21)
ANSWER_AT = 1.0


@pytest.mark.parametrize(
    ("signals", "verdict"),
    [
        (Signals(0.86, 0.25), "answer"),
        (Signals(0.82, 0.25), "offer"),
        (Signals(0.86, 0.19), "offer"),
        (Signals(0.79, 0.25), "refuse"),
        (Signals(0.86, 0.10), "refuse"),
        (Signals(0.86, None), "answer"),
    ],
    ids=["both high", "confidence between", "agreement between", "confidence low",
         "agreement low", "no agreement measured"],
)  # fmt: skip
def test_the_thresholds_alone(signals: Signals, verdict: Verdict) -> None:
    assert decide(signals, THRESHOLDS) == verdict
    assert decide(signals, THRESHOLDS, answer_at=ANSWER_AT) == verdict  # no chance: no change


@pytest.mark.parametrize(
    ("signals", "verdict"),
    [
        (Signals(0.86, 0.25, chance=1.5), "answer"),
        (Signals(0.86, 0.25, chance=1.0), "answer"),
        (Signals(0.86, 0.25, chance=0.5), "offer"),
        (Signals(0.82, 0.25, chance=3.0), "offer"),
        (Signals(0.79, 0.25, chance=3.0), "refuse"),
        (Signals(0.86, 0.10, chance=3.0), "refuse"),
    ],
    ids=["answer kept", "answer at the band", "doubted answer offered", "offer stays",
         "refusal stays (confidence)", "refusal stays (agreement)"],
)  # fmt: skip
def test_the_chance_only_turns_answers_it_doubts_into_offers(
    signals: Signals, verdict: Verdict
) -> None:
    assert decide(signals, THRESHOLDS, answer_at=ANSWER_AT) == verdict


def test_nothing_found_is_refused_whatever_the_chance() -> None:
    signals = Signals(0.95, 0.4, chance=5.0)
    assert decide(signals, THRESHOLDS, found=False, answer_at=ANSWER_AT) == "refuse"
