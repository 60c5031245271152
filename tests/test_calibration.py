"""The calibrated chance: its file form, its checks, which models get it, and its inputs."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from pathlib import Path

import pytest

from samvad.calibration import (
    FEATURES,
    SHIPPED_INPUTS,
    CalibrationError,
    DecisionModel,
    LiveCalibration,
    calibration_file,
    calibration_for,
    city_calibration_file,
    decision_features,
    fitted_with,
)
from samvad.decide import Bands, Thresholds, Verdict
from samvad.reply import Signals
from samvad.settings import DEFAULT_MODEL

DEMO = DecisionModel(
    "demo",
    "sentences",
    (0.85, 0.24, 0.5, 0.0),
    (0.03, 0.06, 0.2, 0.05),
    (0.4, 0.6, 1.4, 0.5),
    1.5,
    answer_at=1.0,
    offer_at=-0.5,
)


def test_the_shipped_calibration_of_the_default_model_reads_back() -> None:
    model = calibration_for({"model": DEFAULT_MODEL})
    assert model is not None and model.model == DEFAULT_MODEL
    assert model.search_mode == "sentences"
    assert DecisionModel.from_json(calibration_file(DEFAULT_MODEL).read_text("utf-8")) == model
    assert DecisionModel.from_json(model.to_json()) == model
    assert model.bands == Bands(model.answer_at, model.offer_at)


LOW = Thresholds(0.80, 0.12, 0.86, 0.22)


@pytest.mark.parametrize(
    ("signals", "found", "verdict"),
    [
        (Signals(0.90, 0.35, coverage=0.9), True, "answer"),
        (Signals(0.84, 0.20, coverage=0.3), True, "offer"),
        (Signals(0.79, 0.20, coverage=0.4), True, "offer"),
        (Signals(0.79, 0.30, coverage=0.9), True, "answer"),
        (Signals(0.70, 0.02, coverage=0.0), True, "refuse"),
        (Signals(0.90, 0.35, coverage=0.9), False, "refuse"),
    ],
    ids=[
        "sure",
        "unsure",
        "under the lower pair, near",
        "under the lower pair, sure",
        "far",
        "nothing found",
    ],
)
def test_a_model_decides_by_its_own_chance_and_bands(
    signals: Signals, found: bool, verdict: Verdict
) -> None:
    assert signals.chance is None  # the model supplies it
    assert DEMO.verdict(signals, LOW, found) == verdict


def test_every_signal_raises_the_shipped_chance() -> None:
    model = calibration_for({"model": DEFAULT_MODEL})
    assert model is not None and all(w > 0 for w in model.weights)
    assert model.inputs == ("confidence", "agreement", "coverage")  # no margin: see calibration.py
    at_mean = dict(zip(model.inputs, model.mean, strict=True))
    typical = decision_features(Signals(at_mean["confidence"], at_mean["agreement"],
                                        coverage=at_mean["coverage"], margin=0.05))  # fmt: skip
    for at, name in enumerate(FEATURES):
        raised = list(typical)
        raised[at] += model.scale[model.inputs.index(name)] if name in model.inputs else 1.0
        a, b, c, d = raised
        if name in model.inputs:
            assert model.chance((a, b, c, d)) > model.chance(typical), name
        else:
            assert model.chance((a, b, c, d)) == model.chance(typical), name


@pytest.mark.parametrize(
    "identity",
    [
        {"model": "someone/other-model"},
        {"model": DEFAULT_MODEL, "built_from": {"adapter": {"rank": 8}}},
    ],
    ids=["model without a calibration", "model merged with an adapter"],
)
def test_no_calibration_where_none_was_fitted(identity: dict[str, object]) -> None:
    assert calibration_for(identity) is None


def _damaged(key: str, value: object) -> str:
    data = json.loads(DEMO.to_json())
    data[key] = value
    return json.dumps(data)


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        '{"model": "m"}',
        _damaged("features", {"confidence": {"mean": 0.8, "scale": 0.1}}),
        _damaged("features", {"bm25": {"mean": 8.0, "scale": 3.0, "weight": 1}}),
        _damaged("features", {}),
        _damaged("bias", "high"),
        _damaged("answer_at", "high"),
        _damaged("answer_at", float("nan")),
        _damaged("offer_at", None),
        _damaged("offer_at", 2.0),
    ],
    ids=[
        "not json",
        "no features",
        "a weight missing",
        "an input Samvad does not know",
        "no inputs",
        "bias text",
        "band text",
        "nan",
        "no offer band",
        "offer band over the answer band",
    ],
)
def test_a_damaged_calibration_file_is_one_clear_error(text: str) -> None:
    with pytest.raises(CalibrationError, match="calibration"):
        DecisionModel.from_json(text)


@pytest.mark.parametrize(
    "inputs",
    [SHIPPED_INPUTS, ("confidence", "margin"), FEATURES],
    ids=["as shipped", "two of them", "all four"],
)
def test_a_calibration_reads_only_its_own_inputs_and_reads_back(inputs: tuple[str, ...]) -> None:
    n = len(inputs)
    model = DecisionModel("m", "sentences", (0.5,) * n, (0.1,) * n, (1.0,) * n, 0.0, 1.0, 0.0,
                          inputs=inputs)  # fmt: skip
    assert DecisionModel.from_json(model.to_json()) == model
    base = decision_features(Signals(0.5, 0.5, coverage=0.5, margin=0.5))
    for at, name in enumerate(FEATURES):
        moved = list(base)
        moved[at] += 0.1
        a, b, c, d = moved
        assert (model.chance((a, b, c, d)) != model.chance(base)) == (name in inputs), name


def test_inputs_out_of_order_or_unknown_are_refused() -> None:
    for inputs in [("agreement", "confidence"), ("bm25",), ()]:
        with pytest.raises(CalibrationError, match="inputs are some of"):
            DecisionModel("m", "s", (0.5,) * len(inputs), (0.1,) * len(inputs),
                          (1.0,) * len(inputs), 0.0, 1.0, 0.0, inputs=inputs)  # fmt: skip


def test_a_scale_must_be_positive() -> None:
    with pytest.raises(CalibrationError, match="scale of a calibration"):
        DecisionModel("m", "sentences", DEMO.mean, (0.0, 1.0, 1.0, 1.0), DEMO.weights, 0, 1, 0)


@pytest.mark.parametrize(
    ("signals", "features"),
    [
        (Signals(0.86, 0.3, coverage=0.6, margin=0.04), (0.86, 0.3, 0.6, 0.04)),
        (Signals(0.81, None, coverage=0.2, margin=0.01), (0.81, 0.0, 0.2, 0.01)),
        (Signals(0.81, 0.2, margin=0.02), (0.81, 0.2, 0.0, 0.02)),
        (Signals(0.81, 0.2, coverage=0.3), (0.81, 0.2, 0.3, 0.0)),
    ],
    ids=["all measured", "without agreement", "without coverage", "without margin"],
)
def test_the_features_are_the_signals_with_unmeasured_ones_as_zero(
    signals: Signals, features: tuple[float, float, float, float]
) -> None:
    assert decision_features(signals) == features


def _city_file(data_dir: Path, model: DecisionModel) -> None:
    """Write a city calibration as ``samvad calibrate`` does: a new file put in place."""
    path = city_calibration_file(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name("partial")
    partial.write_text(model.to_json(), encoding="utf-8")
    partial.replace(path)


def test_a_city_calibration_for_the_model_replaces_the_shipped_one(tmp_path: Path) -> None:
    city = replace(DEMO, model=DEFAULT_MODEL, info={"script": "samvad calibrate"})
    _city_file(tmp_path, city)
    assert calibration_for({"model": DEFAULT_MODEL}, tmp_path) == city
    assert calibration_for({"model": DEFAULT_MODEL}, tmp_path / "elsewhere") == calibration_for(
        {"model": DEFAULT_MODEL}
    )


@pytest.mark.parametrize(
    ("written", "identity"),
    [
        (replace(DEMO, model="someone/other-model"), {"model": DEFAULT_MODEL}),
        (
            replace(DEMO, model=DEFAULT_MODEL),
            {"model": DEFAULT_MODEL, "built_from": {"adapter": {"rank": 8}}},
        ),
        (None, {"model": DEFAULT_MODEL}),
    ],
    ids=["fitted for another model", "fitted without the adapter now merged", "unreadable"],
)
def test_a_city_calibration_that_does_not_fit_is_passed_over_with_a_warning(
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    written: DecisionModel | None,
    identity: dict[str, object],
) -> None:
    if written is None:
        city_calibration_file(tmp_path).write_text("{not json", encoding="utf-8")
    else:
        _city_file(tmp_path, written)
    with caplog.at_level(logging.WARNING, logger="samvad.calibration"):
        found = calibration_for(identity, tmp_path)
    assert found == calibration_for(identity)
    assert "samvad calibrate" in caplog.text and str(city_calibration_file(tmp_path)) in caplog.text


def test_a_city_calibration_fitted_with_the_adapter_serves_that_model(tmp_path: Path) -> None:
    identity: dict[str, object] = {"model": DEFAULT_MODEL, "built_from": {"adapter": {"rank": 8}}}
    city = replace(DEMO, model=DEFAULT_MODEL, info={"adapter": fitted_with(identity)})
    _city_file(tmp_path, city)
    assert calibration_for(identity, tmp_path) == city


def test_a_live_calibration_follows_the_city_file(tmp_path: Path) -> None:
    identity: dict[str, object] = {"model": DEFAULT_MODEL}
    live = LiveCalibration(identity, tmp_path)
    shipped = calibration_for(identity)
    assert live.current() == shipped
    city = replace(DEMO, model=DEFAULT_MODEL)
    _city_file(tmp_path, city)
    assert live.current() == city
    refit = replace(city, answer_at=2.0)
    _city_file(tmp_path, refit)
    assert live.current() == refit
    city_calibration_file(tmp_path).unlink()
    assert live.current() == shipped
