"""The calibrated chance that the top article answers a question, from the search's signals.

The four thresholds look at two signals one at a time. A small logistic regression over
some of four — dense ``confidence``, concept ``agreement``, the top article's ``coverage`` of
the question's words (``samvad/coverage.py``) and the dense ``margin`` to the next article;
each file names the ones it was fitted on (its ``inputs``) — estimates the chance (as
log-odds) that the top article is the right one; an out-of-scope question has none.
``bench/decision.py --save`` fits it on the fitting questions (dev and tuning) and ships it as
``samvad/calibrations/<model>.json``, with the band it chose there: ``answer_at``, the lowest
chance at which at most 5 % of what is answered there came from a wrong article or was out of
scope, and ``offer_at``, the chance the right article reaches for 90 % of the fitting
questions whose right article is among the offered ones. At the answer band the
engine answers; under it the chance decides between offering and refusing below the lower
thresholds, and offers above them (:func:`samvad.decide.decide`).

The margin's scale changes with the corpus (more articles, closer neighbours), so the
shipped fit, which must serve articles it was not fitted on, leaves it out (on the fixture
questions it fitted on it added nothing: 142 against 144 answered right, cross-validated). A
city's own fit (``samvad calibrate``) uses all four: fitted on a corpus, the margin lets it
answer far more at the same share wrong (``bench/abstention.py``, cross-validated on the
calibration half: MahaSQuAD 0.11 → 0.37 of the answerable questions, legislature 0.23 →
0.28). The BM25 score grows with the corpus and adds nothing over these. The signals belong
to one model and one search mode, so a file records the search mode it was fitted under,
and :func:`calibration_for` gives none for another model or one merged with an adapter.

>>> model = DecisionModel("demo", "sentences", (0.8, 0.2, 0.5), (0.05, 0.05, 0.2),
...                       (1.0, 1.0, 2.0), 0.5, answer_at=1.0, offer_at=-1.0,
...                       inputs=("confidence", "agreement", "coverage"))
>>> round(model.chance((0.85, 0.25, 0.7, 0.03)), 2), round(model.chance((0.75, 0.15, 0.1, 0.9)), 2)
(4.5, -5.5)
>>> DecisionModel.from_json(model.to_json()) == model
True
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from samvad.decide import Bands, Thresholds, Verdict, decide
from samvad.reply import Signals
from samvad.shipped import shipped_file, shipped_for

CALIBRATIONS_DIR = Path(__file__).resolve().parent / "calibrations"
FEATURES = ("confidence", "agreement", "coverage", "margin")
# The inputs of the shipped fit: all but the margin (the module docstring says why).
SHIPPED_INPUTS = ("confidence", "agreement", "coverage")
CITY_CALIBRATION = "calibration.json"
LOG = logging.getLogger(__name__)

Features = tuple[float, float, float, float]


class CalibrationError(ValueError):
    """A calibration file is unreadable or its numbers do not make a decision."""


def input_columns(inputs: Sequence[str]) -> list[int]:
    """The positions in :data:`FEATURES` (and in :data:`Features`) of ``inputs``.

    >>> input_columns(SHIPPED_INPUTS)
    [0, 1, 2]
    """
    return [FEATURES.index(name) for name in inputs]


def decision_features(signals: Signals) -> Features:
    """The inputs of the chance, in :data:`FEATURES`' order; an agreement, a coverage or a
    margin of ``None`` (not measured) counts as 0."""
    return (
        signals.confidence,
        signals.agreement if signals.agreement is not None else 0.0,
        signals.coverage if signals.coverage is not None else 0.0,
        signals.margin if signals.margin is not None else 0.0,
    )


@dataclass(frozen=True)
class DecisionModel:
    """A fitted logistic regression over its ``inputs`` (some of :data:`FEATURES`, in that
    order), standardised by ``mean`` and ``scale`` (one of each per input), and its two
    bands: answer at ``answer_at`` or over it; offer, even under the lower thresholds, at
    ``offer_at`` or over it (at most ``answer_at``)."""

    model: str
    search_mode: str
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    answer_at: float
    offer_at: float
    inputs: tuple[str, ...] = FEATURES
    info: dict[str, object] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        numbers = (*self.mean, *self.scale, *self.weights, self.bias, self.answer_at, self.offer_at)
        if not all(math.isfinite(n) for n in numbers):
            raise CalibrationError("every number of a calibration must be finite")
        if not self.inputs or tuple(n for n in FEATURES if n in self.inputs) != self.inputs:
            raise CalibrationError(
                f"a calibration's inputs are some of {', '.join(FEATURES)}, in that order"
            )
        if len(self.mean) != len(self.inputs) or len(self.scale) != len(self.inputs):
            raise CalibrationError("a calibration needs one mean and scale per input")
        if len(self.weights) != len(self.inputs):
            raise CalibrationError("a calibration needs one weight per input")
        if any(s <= 0 for s in self.scale):
            raise CalibrationError("every scale of a calibration must be positive")
        if self.offer_at > self.answer_at:
            raise CalibrationError("a calibration's offer_at must be at most its answer_at")

    @property
    def bands(self) -> Bands:
        """Its answer and offer bands, for :func:`samvad.decide.decide`."""
        return Bands(self.answer_at, self.offer_at)

    def chance(self, features: Features) -> float:
        """The log-odds that the top article is the right one (higher: surer), from all the
        :data:`FEATURES` of a search (:func:`decision_features`); it reads its inputs."""
        chosen = (features[column] for column in input_columns(self.inputs))
        return self.bias + sum(
            w * (x - m) / s
            for w, x, m, s in zip(self.weights, chosen, self.mean, self.scale, strict=True)
        )

    def verdict(self, signals: Signals, thresholds: Thresholds, found: bool = True) -> Verdict:
        """What the calibrated decision (:func:`samvad.decide.decide` with this model's
        chance and bands) says to a search with ``signals`` (agreement and coverage
        measured) that ``found`` something."""
        chance = self.chance(decision_features(signals))
        return decide(replace(signals, chance=chance), thresholds, found, self.bands)

    def to_json(self) -> str:
        """The file form, read back by :meth:`from_json`."""
        columns = {
            name: {"mean": m, "scale": s, "weight": w}
            for name, m, s, w in zip(self.inputs, self.mean, self.scale, self.weights, strict=True)
        }
        return json.dumps(
            {
                "model": self.model,
                "search_mode": self.search_mode,
                "features": {k: {f: round(v, 6) for f, v in c.items()} for k, c in columns.items()},
                "bias": round(self.bias, 6),
                "answer_at": round(self.answer_at, 6),
                "offer_at": round(self.offer_at, 6),
                "info": self.info,
            },
            indent=2,
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, text: str) -> DecisionModel:
        """Parse :meth:`to_json`'s form; :class:`CalibrationError` when it is not that."""
        try:
            data = json.loads(text)
            named = data["features"]
            unknown = [name for name in named if name not in FEATURES]
            if unknown:
                raise CalibrationError(f"a calibration input Samvad does not know: {unknown[0]}")
            inputs = tuple(name for name in FEATURES if name in named)
            columns = [named[name] for name in inputs]

            def column(key: str) -> tuple[float, ...]:
                return tuple(float(f[key]) for f in columns)

            return cls(
                str(data["model"]),
                str(data["search_mode"]),
                column("mean"),
                column("scale"),
                column("weight"),
                float(data["bias"]),
                float(data["answer_at"]),
                float(data["offer_at"]),
                inputs,
                dict(data.get("info", {})),
            )
        except CalibrationError:
            raise
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise CalibrationError(f"unreadable calibration: {error!r}") from error


def calibration_file(model: str) -> Path:
    """Where the shipped calibration of ``model`` lives (``intfloat/x`` → ``intfloat--x.json``)."""
    return shipped_file(CALIBRATIONS_DIR, model)


def city_calibration_file(data_dir: Path) -> Path:
    """Where ``samvad calibrate`` keeps a city's own calibration: in its data folder."""
    return data_dir / CITY_CALIBRATION


def fitted_with(identity: dict[str, object]) -> object:
    """What of an embedder's ``identity`` a city's calibration must match besides the model
    name: the adapter merged into it (``None`` for none)."""
    built_from = identity.get("built_from")
    return built_from.get("adapter") if isinstance(built_from, dict) else None


def calibration_for(
    identity: dict[str, object], data_dir: Path | None = None
) -> DecisionModel | None:
    """The calibration for an embedder's ``identity``: the city's own in ``data_dir``
    (:func:`city_calibration_file`) when it was fitted for this model, else the shipped one,
    else ``None`` (a model with none shipped, or one merged with an adapter, whose signals
    were not fitted). A city file that is unreadable or fitted for another model is passed
    over with a warning in the log."""
    if data_dir is not None:
        path = city_calibration_file(data_dir)
        if path.is_file():
            try:
                city = DecisionModel.from_json(path.read_text("utf-8"))
            except (CalibrationError, OSError, UnicodeDecodeError) as error:
                LOG.warning("ignoring %s: %s; run samvad calibrate again", path, error)
            else:
                if city.model == identity.get("model") and city.info.get("adapter") == fitted_with(
                    identity
                ):
                    return city
                LOG.warning(
                    "ignoring %s: fitted for another model; run samvad calibrate again", path
                )
    shipped = shipped_for(CALIBRATIONS_DIR, identity)
    return None if shipped is None else DecisionModel.from_json(shipped.read_text("utf-8"))


# What LiveCalibration has seen of the city's file before reading it: no stat gives this (a
# missing file is seen as None), so the first question always reads.
_NEVER_READ = (-1, -1, -1)


class LiveCalibration:
    """The calibration for one embedder's ``identity`` that follows the city's file in
    ``data_dir``: :meth:`current` reads it again when the file was written, removed or
    replaced since (one ``stat`` a question), so a new ``samvad calibrate`` takes effect
    without a restart, as an edited article does.

    >>> import tempfile
    >>> live = LiveCalibration({"model": "someone/other-model"}, Path(tempfile.mkdtemp()))
    >>> live.current() is None
    True
    """

    def __init__(self, identity: dict[str, object], data_dir: Path) -> None:
        self._identity = identity
        self._path = city_calibration_file(data_dir)
        self._data_dir = data_dir
        self._seen: tuple[int, int, int] | None = _NEVER_READ
        self._model: DecisionModel | None = None

    def current(self) -> DecisionModel | None:
        """The calibration :func:`calibration_for` gives now."""
        try:
            stat = self._path.stat()
            seen: tuple[int, int, int] | None = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        except OSError:
            seen = None
        if seen != self._seen:
            self._model = calibration_for(self._identity, self._data_dir)
            self._seen = seen
        return self._model
