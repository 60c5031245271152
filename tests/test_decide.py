"""Deciding from the signals: the four thresholds, and the calibrated chance's two bands."""

from __future__ import annotations

import pytest

from samvad.decide import Bands, Thresholds, Verdict, decide
from samvad.reply import Signals

THRESHOLDS = Thresholds(0.80, 0.18, 0.84, 0.21)
BANDS = Bands(answer_at=1.0, offer_at=-0.5)


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
    assert decide(signals, THRESHOLDS, bands=BANDS) == verdict  # no chance: the thresholds


@pytest.mark.parametrize(
    ("signals", "verdict"),
    [
        (Signals(0.86, 0.25, chance=1.5), "answer"),
        (Signals(0.86, 0.25, chance=1.0), "answer"),
        (Signals(0.86, 0.25, chance=0.5), "offer"),
        (Signals(0.82, 0.19, chance=3.0), "answer"),
        (Signals(0.79, 0.25, chance=0.0), "offer"),
        (Signals(0.86, 0.10, chance=-0.5), "offer"),
        (Signals(0.79, 0.25, chance=-0.6), "refuse"),
        (Signals(0.79, 0.25, chance=3.0), "answer"),
    ],
    ids=["answer", "answer at the band", "doubted: offered", "sure: answered under the higher pair",
         "under the lower pair: offered", "offered at the offer band",
         "under both: refused", "under the lower pair, answered when sure"],
)  # fmt: skip
def test_the_chance_decides_by_its_bands_on_either_side_of_the_lower_pair(
    signals: Signals, verdict: Verdict
) -> None:
    assert decide(signals, THRESHOLDS, bands=BANDS) == verdict


def test_nothing_found_is_refused_whatever_the_chance() -> None:
    signals = Signals(0.95, 0.4, chance=5.0)
    assert decide(signals, THRESHOLDS, found=False, bands=BANDS) == "refuse"
