"""The calibrated chance: its file form, its checks, which models get it, and its inputs."""

from __future__ import annotations

import json

import pytest

from samvad.calibration import (
    FEATURES,
    CalibrationError,
    DecisionModel,
    calibration_file,
    calibration_for,
    decision_features,
)
from samvad.reply import Signals
from samvad.retriever import Hit
from samvad.segment import StoredArticle, StoredChunk
from samvad.settings import DEFAULT_MODEL

DEMO = DecisionModel(
    "demo",
    "sentences",
    (0.85, 0.24, 3.7, 0.04),
    (0.03, 0.06, 2.2, 0.1),
    (0.4, 0.6, 0.9, 1.5),
    1.5,
    answer_at=1.0,
)


def test_the_shipped_calibration_of_the_default_model_reads_back() -> None:
    model = calibration_for({"model": DEFAULT_MODEL})
    assert model is not None and model.model == DEFAULT_MODEL
    assert model.search_mode == "sentences"
    assert DecisionModel.from_json(calibration_file(DEFAULT_MODEL).read_text("utf-8")) == model
    assert DecisionModel.from_json(model.to_json()) == model


def test_every_signal_raises_the_shipped_chance() -> None:
    model = calibration_for({"model": DEFAULT_MODEL})
    assert model is not None and all(w > 0 for w in model.weights)
    for at, name in enumerate(FEATURES):
        raised = list(model.mean)
        raised[at] += model.scale[at]
        a, b, c, d = raised
        assert model.chance((a, b, c, d)) > model.chance(model.mean), name


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
        _damaged("features", {"confidence": {"mean": 0.8, "scale": 0.1, "weight": 1}}),
        _damaged("bias", "high"),
        _damaged("answer_at", "high"),
        _damaged("answer_at", float("nan")),
    ],
    ids=["not json", "no features", "a feature missing", "bias text", "band text", "nan"],
)
def test_a_damaged_calibration_file_is_one_clear_error(text: str) -> None:
    with pytest.raises(CalibrationError, match="calibration"):
        DecisionModel.from_json(text)


def test_a_scale_must_be_positive() -> None:
    with pytest.raises(CalibrationError, match="scale of a calibration"):
        DecisionModel("m", "sentences", DEMO.mean, (0.0, 1.0, 1.0, 1.0), DEMO.weights, 0, 1)


@pytest.mark.parametrize(
    ("signals", "features"),
    [
        (Signals(0.86, 0.3), (0.86, 0.3, 0.0, 0.0)),
        (Signals(0.81, None), (0.81, 0.0, 0.0, 0.0)),
    ],
    ids=["with agreement", "without agreement"],
)
def test_without_hits_only_the_signals_count(
    signals: Signals, features: tuple[float, float, float, float]
) -> None:
    assert decision_features(signals, []) == features


def _hit(article_id: str, dense: float, lexical: float) -> Hit:
    article = StoredArticle(f"{article_id}/mr", article_id, "mr", "t", "2026-01-01", "p", "h")
    chunk = StoredChunk(0, f"{article_id}#0", article.key, 0, "", ("वाक्य.",))
    return Hit(chunk, article, dense, dense, lexical)


@pytest.mark.parametrize(
    ("hits", "bm25", "margin"),
    [
        ([_hit("water", 0.88, 2.0), _hit("water", 0.86, 5.0), _hit("tax", 0.83, 1.0)], 5.0, 0.05),
        ([_hit("water", 0.88, 2.0), _hit("water", 0.84, 0.0)], 2.0, 0.0),
    ],
    ids=["margin to the next article", "one article only: no margin"],
)
def test_the_hits_give_the_best_bm25_and_the_margin_to_another_article(
    hits: list[Hit], bm25: float, margin: float
) -> None:
    confidence, agreement, best, gap = decision_features(Signals(0.88, 0.3), hits)
    assert (confidence, agreement, best) == (0.88, 0.3, bm25)
    assert gap == pytest.approx(margin)
