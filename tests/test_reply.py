"""The typed answer: its versioned JSON, the plain text for text-only channels, its article ids."""

from __future__ import annotations

import json
from typing import Any

import pytest

from samvad import (
    SCHEMA_VERSION,
    Answer,
    Citation,
    Continuation,
    Lang,
    Offer,
    ReplyFormatError,
    Signals,
    from_json,
    plain_text,
    refusal_text,
    text,
    to_json,
    written_date,
)

LANGS = pytest.mark.parametrize("lang", ["mr", "en"])
URL = "https://thanecity.gov.in/news/japan"
SENTENCES: dict[Lang, tuple[str, ...]] = {
    "mr": ("ठाणे महापालिकेने जपानसोबत करार केला.", "हा करार पाच वर्षांचा आहे।"),
    "en": ("Thane signed an agreement with Japan.", "The agreement runs for five years."),
}
TITLES: dict[Lang, str] = {"mr": "ठाणे आणि जपान करार", "en": "Thane and Japan agreement"}


def other(lang: Lang) -> Lang:
    return "en" if lang == "mr" else "mr"


def answered(
    lang: Lang,
    url: str | None = URL,
    other_language: bool = False,
    agreement: float | None = 0.4,
    chance: float | None = None,
) -> Answer:
    cited_in = other(lang) if other_language else lang
    return Answer(
        "answered",
        lang,
        "Japan agreement?",
        SENTENCES[lang],
        Citation("tmc-japan", TITLES[cited_in], cited_in, "2026-11-29", url, other_language),
        signals=Signals(0.9123, agreement, chance),
        continuation=Continuation("tmc-japan@3f2a", 2),
    )


def offered(lang: Lang) -> Answer:
    return Answer(
        "offered",
        lang,
        "Japan?",
        offers=(
            Offer("tmc-japan", TITLES[lang], lang, "2026-11-29"),
            Offer("birth-cert", TITLES[other(lang)], other(lang), "2026-01-05"),
        ),
        signals=Signals(0.83, 0.2),
    )


def refused(lang: Lang, helpline: str | None = None) -> Answer:
    return Answer(
        "refused", lang, "Where is the zoo?", signals=Signals(0.61, None), helpline=helpline
    )


def empty(lang: Lang) -> Answer:
    return Answer("empty", lang)


ROUND_TRIP = [
    pytest.param(answer, id=f"{name}-{lang}")
    for lang in ("mr", "en")
    for name, answer in [
        ("answered", answered(lang)),
        ("answered-no-url", answered(lang, url=None)),
        ("answered-other-language", answered(lang, other_language=True)),
        ("answered-no-agreement", answered(lang, agreement=None)),
        ("answered-with-chance", answered(lang, chance=2.5)),
        ("more", Answer("answered", lang, "", SENTENCES[lang][1:], kind="more")),
        ("romanized", Answer("answered", lang, "paani kadhi", SENTENCES[lang], romanized=True)),
        ("offered", offered(lang)),
        ("refused", refused(lang)),
        ("refused-helpline", refused(lang, "Helpline 1800-222-108")),
        ("empty", empty(lang)),
    ]
]


@pytest.mark.parametrize("answer", ROUND_TRIP)
def test_json_round_trip(answer: Answer) -> None:
    data = to_json(answer)
    assert data["schema"] == SCHEMA_VERSION
    assert from_json(json.loads(json.dumps(data, ensure_ascii=False))) == answer


def test_signals_are_kept_to_four_places() -> None:
    signals = Signals(0.123456, 0.987654, -1.234567, margin=0.0123456)
    data = to_json(Answer("refused", "en", signals=signals))
    assert data["signals"] == {
        "confidence": 0.1235,
        "agreement": 0.9877,
        "chance": -1.2346,
        "coverage": None,
        "margin": 0.0123,
    }


def test_a_reply_from_before_the_margin_reads_it_as_none() -> None:
    data = to_json(answered("en"))
    del data["signals"]["margin"]
    assert from_json(data).signals.margin is None


def test_a_reply_without_a_chance_reads_as_none() -> None:
    data = to_json(answered("mr"))
    del data["signals"]["chance"]
    assert from_json(data).signals == Signals(0.9123, 0.4, None)


DROP = object()


def broken(key: str, value: Any, base: Answer | None = None) -> dict[str, Any]:
    """The JSON of an answer (by default: answered in English) with one part replaced."""
    data = to_json(base or answered("en"))
    if value is DROP:
        del data[key]
    else:
        data[key] = value
    return data


CITATION = to_json(answered("en"))["citation"]
OFFER = to_json(offered("en"))["offers"][0]
REJECTED = [
    pytest.param(None, id="null"),
    pytest.param([to_json(answered("en"))], id="list"),
    pytest.param("answered", id="text"),
    pytest.param(broken("schema", DROP), id="schema-missing"),
    pytest.param(broken("schema", SCHEMA_VERSION + 1), id="schema-newer"),
    pytest.param(broken("schema", "1"), id="schema-as-text"),
    pytest.param(broken("outcome", "maybe"), id="outcome-unknown"),
    pytest.param(broken("outcome", DROP), id="outcome-missing"),
    pytest.param(broken("kind", "summary"), id="kind-unknown"),
    pytest.param(broken("language", "hi"), id="language-unknown"),
    pytest.param(broken("language", DROP), id="language-missing"),
    pytest.param(broken("question", 5), id="question-not-text"),
    pytest.param(broken("sentences", "one sentence"), id="sentences-text"),
    pytest.param(broken("sentences", ["ok", 3]), id="sentences-not-texts"),
    pytest.param(broken("citation", "tmc-japan"), id="citation-not-object"),
    pytest.param(broken("citation", {**CITATION, "language": "fr"}), id="citation-language"),
    pytest.param(broken("citation", {**CITATION, "title": None}), id="citation-title"),
    pytest.param(broken("citation", {**CITATION, "source_url": 7}), id="citation-url"),
    pytest.param(broken("offers", "tmc-japan", offered("en")), id="offers-text"),
    pytest.param(broken("offers", OFFER, offered("en")), id="offers-object"),
    pytest.param(broken("offers", ["tmc-japan"], offered("en")), id="offers-not-objects"),
    pytest.param(broken("offers", [{**OFFER, "language": "xx"}]), id="offer-language"),
    pytest.param(broken("offers", [{**OFFER, "date": None}]), id="offer-date"),
    pytest.param(broken("signals", [0.9, 0.4]), id="signals-not-object"),
    pytest.param(broken("signals", {"confidence": "high"}), id="confidence-text"),
    pytest.param(broken("signals", {"confidence": 0.9, "agreement": [1]}), id="agreement-list"),
    pytest.param(broken("signals", {"confidence": 0.9, "chance": "high"}), id="chance-text"),
    pytest.param(broken("signals", {"confidence": True}), id="confidence-bool"),
    pytest.param(broken("offers", {}, offered("en")), id="offers-empty-object"),
    pytest.param(broken("sentences", 0), id="sentences-zero"),
    pytest.param(broken("schema", True), id="schema-bool"),
    pytest.param(broken("schema", 1.0), id="schema-float"),
    pytest.param(
        broken("continuation", {"article_key": "k", "next_ordinal": True}),
        id="continuation-ordinal-bool",
    ),
    pytest.param(broken("continuation", "tmc-japan@3f2a"), id="continuation-text"),
    pytest.param(broken("continuation", {"article_key": "k"}), id="continuation-no-ordinal"),
    pytest.param(
        broken("continuation", {"article_key": "k", "next_ordinal": "2"}),
        id="continuation-ordinal-text",
    ),
    pytest.param(broken("continuation", {"next_ordinal": 2}), id="continuation-no-key"),
    pytest.param(broken("helpline", ["call"]), id="helpline-not-text"),
]


@pytest.mark.parametrize("data", REJECTED)
def test_from_json_rejects_what_to_json_does_not_write(data: Any) -> None:
    with pytest.raises(ReplyFormatError):
        from_json(data)


def test_missing_optional_parts_take_their_defaults() -> None:
    data = {"schema": SCHEMA_VERSION, "outcome": "empty", "language": "mr", "question": ""}
    assert from_json(data) == Answer("empty", "mr")


# --- plain text -----------------------------------------------------------------------------


@LANGS
def test_plain_answer_has_its_sentences_source_date_and_address(lang: Lang) -> None:
    plain = plain_text(answered(lang))
    written = written_date("2026-11-29", lang)
    assert plain.splitlines() == [
        " ".join(SENTENCES[lang]),
        "",
        f"{text('source', lang)}: {TITLES[lang]} ({written})",
        URL,
    ]
    assert "2026-11-29" not in plain and text("other_language_note", lang) not in plain


@LANGS
def test_plain_answer_from_the_other_language_says_so(lang: Lang) -> None:
    plain = plain_text(answered(lang, url=None, other_language=True))
    assert plain.splitlines()[-2:] == [
        f"{text('source', lang)}: {TITLES[other(lang)]} ({written_date('2026-11-29', lang)})",
        text("other_language_note", lang),
    ]
    assert "https://" not in plain


@LANGS
def test_plain_answer_without_citation_is_its_sentences(lang: Lang) -> None:
    answer = Answer("answered", lang, sentences=SENTENCES[lang])
    assert plain_text(answer) == " ".join(SENTENCES[lang])


@LANGS
def test_plain_offer_lists_the_articles_with_dates_written_out(lang: Lang) -> None:
    answer = offered(lang)
    assert plain_text(answer).splitlines() == [
        text("offered", lang),
        f"1. {TITLES[lang]} ({written_date('2026-11-29', lang)})",
        f"2. {TITLES[other(lang)]} ({written_date('2026-01-05', lang)})",
    ]
    assert text("source", lang) not in plain_text(answer)


@LANGS
def test_plain_refusal_has_the_catalogue_helpline_unless_one_is_configured(lang: Lang) -> None:
    default = plain_text(refused(lang))
    assert default == refusal_text(refused(lang))
    assert default == text("refused", lang).format(helpline=text("helpline", lang))
    configured = plain_text(refused(lang, "Helpline 1800-222-108"))
    assert "Helpline 1800-222-108" in configured and text("helpline", lang) not in configured
    assert configured == text("refused", lang).format(helpline="Helpline 1800-222-108")


@LANGS
def test_plain_empty_asks_for_the_question(lang: Lang) -> None:
    assert plain_text(empty(lang)) == text("empty", lang)


# --- article ids ----------------------------------------------------------------------------


@LANGS
def test_article_ids_are_the_cited_or_the_offered_ones(lang: Lang) -> None:
    assert answered(lang).article_ids == ["tmc-japan"]
    assert offered(lang).article_ids == ["tmc-japan", "birth-cert"]
    assert refused(lang).article_ids == [] and empty(lang).article_ids == []
    assert Answer("answered", lang, sentences=SENTENCES[lang]).article_ids == []


@LANGS
def test_only_answered_answers_count_as_answered(lang: Lang) -> None:
    assert [a.answered for a in (answered(lang), offered(lang), refused(lang), empty(lang))] == [
        True,
        False,
        False,
        False,
    ]
