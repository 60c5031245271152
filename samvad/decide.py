"""Deciding: from the retrieval's confidence signals to answer, offer or refuse.

The engine answers only when two signals agree that an article covers the question:

- ``confidence``: the best dense cosine among the top three passages. It catches gibberish and
  far-off topics, but a question on a neighbouring topic ("income tax return" against the
  property-tax article) scores as high as a real one.
- ``agreement``: the cosine of the question's latent-term vector with the passage's (the
  concepts they share, across Marathi and English; see ``latent_terms.py``), best of the top
  three passages and of the question's phrasings. It is what tells a neighbouring topic apart.
  With a model the bundled latent-term head was not trained for, it is ``None`` and only the
  confidence is checked.

Between "answer" and "no article" there is a third outcome: when both signals clear the lower
thresholds (``abstain_below`` / ``agreement_below``) but not the higher ones (``confirm_below``
/ ``confirm_agreement_below``), the engine does not answer but offers the closest articles.

How the thresholds were calibrated: ``bench/answers.py --calibrate`` scores every dev question
(``tests/fixtures/dev_questions.jsonl``, 79 in scope and 15 out of scope) with the real model and
index. It sweeps the lower pair counting a wrong answer twice as costly as a refusal, then the
higher pair counting an offer as a quarter of a refusal, rounded toward offering; on the dev set
that is the lowest pair at which no out-of-scope question is answered directly. The held-out
questions (``tests/fixtures/heldout_questions.jsonl``) show how far they carry. The values are
the defaults in ``samvad/settings.py``; a deployment sets ``SAMVAD_ABSTAIN_BELOW`` and the others.

With a calibration (``samvad/calibration.py``; ``SAMVAD_DECISION=calibrated``) the signals
also carry a ``chance``: the log-odds, from the signals the calibration names together (the
shipped one: confidence, agreement and the top article's coverage of the question's words; a
city's own also the margin to the next article), that the top article is the right one.
Then the chance decides, with the calibration's two bands: at ``answer_at`` or over it the
engine answers; under it, it offers the closest articles when the signals clear the lower
pair or the chance reaches ``offer_at``, and refuses otherwise. The higher pair is not
consulted. ``answer_at`` was fitted on every fitting question, so the lower pair no longer
holds back an answer the chance is sure of (it used to: a romanized question's cosine runs
low, and "talavat ek batch kiti vel asto" was offered at a chance of 2.0).
``bench/decision.py`` chose this rule on the fitting questions (tuning answered right 0.65 →
0.71, dev 0.87 → 0.89, no more wrong answers or out-of-scope ones answered) and reports it
beside the earlier rule and the thresholds alone on the report-only ones.

>>> thresholds = Thresholds(0.80, 0.18, 0.80, 0.21)
>>> decide(Signals(0.85, 0.30), thresholds), decide(Signals(0.85, 0.19), thresholds)
('answer', 'offer')
>>> decide(Signals(0.79, 0.30), thresholds), decide(Signals(0.90, None), thresholds)
('refuse', 'answer')
>>> bands = Bands(answer_at=1.0, offer_at=-0.5)
>>> decide(Signals(0.85, 0.30, chance=0.4), thresholds, bands=bands)
'offer'
>>> decide(Signals(0.81, 0.19, chance=1.5), thresholds, bands=bands)
'answer'
>>> decide(Signals(0.79, 0.30, chance=0.0), thresholds, bands=bands)
'offer'
>>> decide(Signals(0.79, 0.30, chance=1.5), thresholds, bands=bands)
'answer'
>>> decide(Signals(0.79, 0.30, chance=-1.0), thresholds, bands=bands)
'refuse'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from samvad.reply import Signals
from samvad.settings import Settings

Verdict = Literal["answer", "offer", "refuse"]


@dataclass(frozen=True)
class Thresholds:
    """The lower pair (below it: refuse) and the higher pair (below it: offer)."""

    abstain_below: float
    agreement_below: float
    confirm_below: float
    confirm_agreement_below: float

    def __post_init__(self) -> None:
        values = (
            self.abstain_below,
            self.agreement_below,
            self.confirm_below,
            self.confirm_agreement_below,
        )
        if not all(0.0 <= v <= 1.0 for v in values):
            raise ValueError(f"thresholds must lie in 0..1, got {values}")
        if self.confirm_below < self.abstain_below:
            raise ValueError("confirm_below must be at least abstain_below")
        if self.confirm_agreement_below < self.agreement_below:
            raise ValueError("confirm_agreement_below must be at least agreement_below")

    @classmethod
    def from_settings(cls, settings: Settings) -> Thresholds:
        """The four thresholds of ``settings`` (already validated there)."""
        return cls(
            settings.abstain_below,
            settings.agreement_below,
            settings.confirm_below,
            settings.confirm_agreement_below,
        )


@dataclass(frozen=True)
class Bands:
    """A calibration's bands of chance (log-odds): answer at ``answer_at`` or over it, above
    the lower thresholds; offer at ``offer_at`` or over it, below them."""

    answer_at: float
    offer_at: float


def clears(signals: Signals, confidence_below: float, agreement_below: float) -> bool:
    """Whether both signals reach the given thresholds (an agreement of ``None`` — a model
    without a latent-term head — is not checked)."""
    if signals.confidence < confidence_below:
        return False
    return signals.agreement is None or signals.agreement >= agreement_below


def decide(
    signals: Signals,
    thresholds: Thresholds,
    found: bool = True,
    bands: Bands | None = None,
) -> Verdict:
    """``refuse`` whenever the search ``found`` nothing. With ``bands`` and a
    ``signals.chance``: ``answer`` at ``bands.answer_at`` or over it; under it ``offer`` when
    the signals clear the lower pair or the chance reaches ``bands.offer_at``, else
    ``refuse``. Without: ``refuse`` under the lower pair, ``offer`` under the higher pair,
    else ``answer``."""
    if not found:
        return "refuse"
    lower = clears(signals, thresholds.abstain_below, thresholds.agreement_below)
    if bands is not None and signals.chance is not None:
        if signals.chance >= bands.answer_at:
            return "answer"
        return "offer" if lower or signals.chance >= bands.offer_at else "refuse"
    if not lower:
        return "refuse"
    if not clears(signals, thresholds.confirm_below, thresholds.confirm_agreement_below):
        return "offer"
    return "answer"
