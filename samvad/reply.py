"""The answer the engine returns, and its JSON contract between the action server and channels.

:class:`Answer` is the one structure every part uses: the engine returns it, the Rasa action
sends it as the message's custom JSON (``{"samvad": to_json(answer)}``), and each channel —
Telegram (``bot/render.py``), the local chat, ``samvad ask`` — formats it for its citizens.
Nothing parses the text another part wrote. :func:`plain_text` is the rendering for text-only
channels (the text Rasa sends beside the JSON).

The JSON is versioned (:data:`SCHEMA_VERSION`): :func:`from_json` reads what :func:`to_json`
writes, and raises :class:`ReplyFormatError` for anything else, so a channel can fall back to
the plain text of a reply it does not understand.

Schema version 1::

    {"schema": 1, "kind": "answer" | "more",
     "outcome": "answered" | "offered" | "refused" | "empty",
     "language": "mr" | "en", "question": str, "sentences": [str, ...],
     "citation": null | {"article_id", "title", "language", "date", "source_url",
                         "other_language": bool},
     "offers": [{"article_id", "title", "language", "date"}, ...],
     "signals": {"confidence": float, "agreement": float | null, "chance": float | null,
                 "coverage": float | null, "margin": float | null},
     "romanized": bool, "continuation": null | {"article_key": str, "next_ordinal": int},
     "helpline": str | null}

>>> answer = Answer("refused", "en", "Where is the zoo?", signals=Signals(0.61, 0.05))
>>> from_json(to_json(answer)) == answer
True
>>> plain_text(answer).startswith("Sorry, I don't have an article")
True
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast

from samvad.language import LANGUAGES, Lang
from samvad.messages import text, written_date

SCHEMA_VERSION = 1
Outcome = Literal["answered", "offered", "refused", "empty"]
OUTCOMES: tuple[Outcome, ...] = ("answered", "offered", "refused", "empty")
Kind = Literal["answer", "more"]


class ReplyFormatError(ValueError):
    """A custom JSON payload that is not a Samvad answer of a known schema version."""


@dataclass(frozen=True)
class Citation:
    """The article an answer's sentences were copied from."""

    article_id: str
    title: str
    language: Lang
    date: str
    source_url: str | None = None
    other_language: bool = False


@dataclass(frozen=True)
class Offer:
    """An article the engine offers when it is not sure it answers the question."""

    article_id: str
    title: str
    language: Lang
    date: str


@dataclass(frozen=True)
class Signals:
    """How sure the engine was: best dense cosine, concept agreement (``None``: not measured,
    for a model without a latent-term head), the calibrated chance, as log-odds, that the
    top article is the right one (``None``: no calibration applies; see ``calibration.py``),
    the top article's coverage of the question's words (``None``: not measured; see
    ``coverage.py``) and its dense margin: the top passage's cosine less that of the first
    passage of another article (``None``: nothing found)."""

    confidence: float = 0.0
    agreement: float | None = None
    chance: float | None = None
    coverage: float | None = None
    margin: float | None = None


@dataclass(frozen=True)
class Continuation:
    """Where "read more" continues: the article version and the next passage's ordinal."""

    article_key: str
    next_ordinal: int


@dataclass(frozen=True)
class Answer:
    """What the engine says to one question.

    - ``answered``: ``sentences`` copied from the article in ``citation``;
    - ``offered``: not sure; ``offers`` lists the closest articles, nothing is answered;
    - ``refused``: no article covers the question (it was logged for staff);
    - ``empty``: there was no question.
    """

    outcome: Outcome
    language: Lang
    question: str = ""
    sentences: tuple[str, ...] = ()
    citation: Citation | None = None
    offers: tuple[Offer, ...] = ()
    signals: Signals = Signals()
    romanized: bool = False
    continuation: Continuation | None = None
    kind: Kind = "answer"
    helpline: str | None = None

    @property
    def answered(self) -> bool:
        """Whether the citizen gets sentences from an article."""
        return self.outcome == "answered"

    @property
    def article_ids(self) -> list[str]:
        """The cited article's id (answered) or the offered ones (offered); else none."""
        if self.citation is not None:
            return [self.citation.article_id]
        return [offer.article_id for offer in self.offers]


def _rounded(signal: float | None) -> float | None:
    """A signal as the JSON holds it: rounded to 4 places (``None`` stays ``None``)."""
    return None if signal is None else round(float(signal), 4)


def to_json(answer: Answer) -> dict[str, Any]:
    """The JSON form of ``answer`` (schema :data:`SCHEMA_VERSION`), ready for ``json.dumps``."""
    citation = answer.citation
    return {
        "schema": SCHEMA_VERSION,
        "kind": answer.kind,
        "outcome": answer.outcome,
        "language": answer.language,
        "question": answer.question,
        "sentences": list(answer.sentences),
        "citation": None
        if citation is None
        else {
            "article_id": citation.article_id,
            "title": citation.title,
            "language": citation.language,
            "date": citation.date,
            "source_url": citation.source_url,
            "other_language": citation.other_language,
        },
        "offers": [
            {"article_id": o.article_id, "title": o.title, "language": o.language, "date": o.date}
            for o in answer.offers
        ],
        "signals": {
            "confidence": _rounded(answer.signals.confidence),
            "agreement": _rounded(answer.signals.agreement),
            "chance": _rounded(answer.signals.chance),
            "coverage": _rounded(answer.signals.coverage),
            "margin": _rounded(answer.signals.margin),
        },
        "romanized": answer.romanized,
        "continuation": None
        if answer.continuation is None
        else {
            "article_key": answer.continuation.article_key,
            "next_ordinal": answer.continuation.next_ordinal,
        },
        "helpline": answer.helpline,
    }


def _language(value: Any, where: str) -> Lang:
    if value not in LANGUAGES:
        raise ReplyFormatError(f"{where}: language must be one of {LANGUAGES}, not {value!r}")
    return cast(Lang, value)


def _str(data: Mapping[str, Any], key: str, where: str, optional: bool = False) -> Any:
    value = data.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise ReplyFormatError(f"{where}: {key} must be text, not {value!r}")
    return value


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ReplyFormatError(f"{where} must be a number, not {value!r}")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise ReplyFormatError(f"{where} must be a finite number")
    return number


def _list(data: Mapping[str, Any], key: str) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise ReplyFormatError(f"{key} must be a list, not {value!r}")
    return value


def from_json(data: Any) -> Answer:
    """Read what :func:`to_json` wrote; :class:`ReplyFormatError` for anything else."""
    if not isinstance(data, Mapping):
        raise ReplyFormatError("a Samvad answer is a JSON object")
    schema = data.get("schema")
    if isinstance(schema, bool) or not isinstance(schema, int) or schema != SCHEMA_VERSION:
        raise ReplyFormatError(f"unknown answer schema {data.get('schema')!r}")
    outcome = data.get("outcome")
    if outcome not in OUTCOMES:
        raise ReplyFormatError(f"unknown outcome {outcome!r}")
    kind = data.get("kind", "answer")
    if kind not in ("answer", "more"):
        raise ReplyFormatError(f"unknown kind {kind!r}")
    raw_citation = data.get("citation")
    citation = None
    if raw_citation is not None:
        if not isinstance(raw_citation, Mapping):
            raise ReplyFormatError("citation must be an object")
        citation = Citation(
            _str(raw_citation, "article_id", "citation"),
            _str(raw_citation, "title", "citation"),
            _language(raw_citation.get("language"), "citation"),
            _str(raw_citation, "date", "citation"),
            _str(raw_citation, "source_url", "citation", optional=True),
            bool(raw_citation.get("other_language")),
        )
    offers = _list(data, "offers")
    sentences = _list(data, "sentences")
    if not all(isinstance(o, Mapping) for o in offers):
        raise ReplyFormatError("offers must be a list of objects")
    if not all(isinstance(s, str) for s in sentences):
        raise ReplyFormatError("sentences must be a list of texts")
    signals = data.get("signals", {})
    if not isinstance(signals, Mapping):
        raise ReplyFormatError("signals must be an object")
    confidence = _number(signals.get("confidence", 0.0), "signals.confidence")
    agreement = signals.get("agreement")
    chance = signals.get("chance")
    covered = signals.get("coverage")
    margin = signals.get("margin")
    continuation = data.get("continuation")
    ordinal = continuation.get("next_ordinal") if isinstance(continuation, Mapping) else None
    if continuation is not None and not (
        isinstance(continuation, Mapping)
        and isinstance(continuation.get("article_key"), str)
        and isinstance(ordinal, int)
        and not isinstance(ordinal, bool)
    ):
        raise ReplyFormatError("continuation must hold article_key and next_ordinal")
    return Answer(
        outcome=cast(Outcome, outcome),
        language=_language(data.get("language"), "answer"),
        question=_str(data, "question", "answer"),
        sentences=tuple(sentences),
        citation=citation,
        offers=tuple(
            Offer(
                _str(o, "article_id", "offer"),
                _str(o, "title", "offer"),
                _language(o.get("language"), "offer"),
                _str(o, "date", "offer"),
            )
            for o in offers
        ),
        signals=Signals(
            confidence,
            None if agreement is None else _number(agreement, "signals.agreement"),
            None if chance is None else _number(chance, "signals.chance"),
            None if covered is None else _number(covered, "signals.coverage"),
            None if margin is None else _number(margin, "signals.margin"),
        ),
        romanized=bool(data.get("romanized")),
        continuation=None
        if continuation is None
        else Continuation(continuation["article_key"], continuation["next_ordinal"]),
        kind=cast(Kind, kind),
        helpline=_str(data, "helpline", "answer", optional=True),
    )


def refusal_text(answer: Answer) -> str:
    """The "no article" sentence in the answer's language, with its helpline line."""
    helpline = answer.helpline or text("helpline", answer.language)
    return text("refused", answer.language).format(helpline=helpline)


def plain_text(answer: Answer) -> str:
    """The answer as plain text, for channels without markup (and the text Rasa sends).

    Answered: the sentences, a blank line, ``Source: title (date written out)``, the link,
    and the other-language note when the article was in the other language. Offered: the
    "not sure" sentence and the numbered offers. Refused and empty: one sentence.
    """
    lang = answer.language
    if answer.outcome == "empty":
        return text("empty", lang)
    if answer.outcome == "refused":
        return refusal_text(answer)
    if answer.outcome == "offered":
        listing = [
            f"{n}. {o.title} ({written_date(o.date, lang)})"
            for n, o in enumerate(answer.offers, start=1)
        ]
        return "\n".join([text("offered", lang), *listing])
    lines = [" ".join(answer.sentences)]
    citation = answer.citation
    if citation is not None:
        lines += [
            "",
            f"{text('source', lang)}: {citation.title} ({written_date(citation.date, lang)})",
        ]
        if citation.source_url:
            lines.append(citation.source_url)
        if citation.other_language:
            lines.append(text("other_language_note", lang))
    return "\n".join(lines)
