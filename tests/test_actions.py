"""The Rasa custom actions against a fake engine: buttons, slots, languages, errors."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import actions as samvad_actions
from actions.actions import (
    MESSAGES,
    PAYLOAD_HELPFUL,
    PAYLOAD_MORE,
    PAYLOAD_NOT_HELPFUL,
    ActionAnswer,
    ActionDefaultFallback,
    ActionFeedback,
    ActionMore,
    ActionSetLanguage,
    AnswerLike,
    message_language,
)

ARTICLE_ID = "tmc-water-cut-kopri"
URL = "https://thanecity.gov.in/notice/123"


@dataclass(frozen=True)
class FakeSource:
    article_id: str = ARTICLE_ID
    title: str = "Water cut in Kopri"
    lang: str = "en"
    date: str = "2026-11-01"
    source_url: str | None = URL
    path: str = "knowledge/tmc-water-cut-kopri.en.md"


@dataclass(frozen=True)
class FakeAnswer:
    text: str
    language: str
    abstained: bool = False
    confidence: float = 0.81
    sources: tuple[FakeSource, ...] = (FakeSource(),)
    article_key: str | None = None
    next_ordinal: int | None = None


ANSWERS = {
    "mr": FakeAnswer(
        "कोपरीत गुरुवारी पाणीपुरवठा बंद राहील.\n\nस्रोत: कोपरी पाणीकपात (2026-11-01)",
        "mr",
        sources=(FakeSource(lang="mr", title="कोपरी पाणीकपात"),),
        article_key=f"{ARTICLE_ID}/mr",
        next_ordinal=1,
    ),
    "en": FakeAnswer(
        f"Water supply in Kopri is shut on Thursday.\n\nSource: Water cut in Kopri\n{URL}",
        "en",
        article_key=f"{ARTICLE_ID}/en",
        next_ordinal=1,
    ),
}
QUESTIONS = {"mr": "कोपरीत पाणी कधी बंद आहे?", "en": "When is the water cut in Kopri?"}


@dataclass
class FakeEngine:
    """Records calls; answers from ANSWERS; ``fail`` makes every call raise."""

    fail: bool = False
    more_answer: FakeAnswer | None = None
    answer_override: FakeAnswer | None = None
    calls: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)

    def _check(self) -> None:
        if self.fail:
            raise RuntimeError("index exploded")

    def answer(
        self, question: str, language: str | None = None, user_id: str | None = None
    ) -> AnswerLike:
        self.calls.append(("answer", (question, language, user_id)))
        self._check()
        if self.answer_override is not None:
            return self.answer_override
        return ANSWERS["mr" if message_language(question) == "mr" else "en"]

    def more(self, article_key: str, ordinal: int, language: str) -> AnswerLike | None:
        self.calls.append(("more", (article_key, ordinal, language)))
        self._check()
        return self.more_answer

    def record_feedback(
        self, user_id: str, question: str, article_ids: list[str], helpful: bool
    ) -> None:
        self.calls.append(("feedback", (user_id, question, article_ids, helpful)))
        self._check()


@pytest.fixture
def engine() -> Iterator[FakeEngine]:
    fake = FakeEngine()
    samvad_actions.reset_engine(fake)
    yield fake
    samvad_actions.reset_engine(None)


def make_tracker(
    text: str,
    intent: str = "ask_question",
    slots: dict[str, Any] | None = None,
    entities: list[dict[str, Any]] | None = None,
) -> Tracker:
    latest: dict[str, Any] = {"text": text, "intent": {"name": intent, "confidence": 0.9}}
    latest["entities"] = entities or []
    return Tracker("citizen-1", slots or {}, latest, [], False, None, None, "action_listen")


def run(action: Action, tracker: Tracker) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Run an action; return the messages it sent and the slots it set (name → value)."""
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, {}))
    slots = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
    other = [e for e in events if e.get("event") != "slot"]
    if other:
        slots["_events"] = [e["event"] for e in other]
    return dispatcher.messages, slots


@pytest.mark.parametrize("lang", ["mr", "en"])
def test_answer_sends_text_buttons_and_sets_slots(engine: FakeEngine, lang: str) -> None:
    messages, slots = run(ActionAnswer(), make_tracker(QUESTIONS[lang]))
    assert len(messages) == 1
    message = messages[0]
    assert message["text"].startswith(ANSWERS[lang].text)
    assert URL in message["text"]
    assert message["text"].count(URL) == 1
    assert [b["payload"] for b in message["buttons"]] == [
        PAYLOAD_MORE,
        PAYLOAD_HELPFUL,
        PAYLOAD_NOT_HELPFUL,
    ]
    assert message["custom"]["samvad"]["sources"][0]["article_id"] == ARTICLE_ID
    assert message["custom"]["samvad"]["language"] == lang
    assert slots == {
        "language": lang,
        "last_question": QUESTIONS[lang],
        "last_article_key": f"{ARTICLE_ID}/{lang}",
        "next_ordinal": 1,
        "last_article_ids": [ARTICLE_ID],
    }
    assert engine.calls == [("answer", (QUESTIONS[lang], None, "citizen-1"))]


@pytest.mark.parametrize(("lang", "more_label"), [("mr", "आणखी वाचा"), ("en", "Read more")])
def test_button_labels_follow_the_answer_language(
    engine: FakeEngine, lang: str, more_label: str
) -> None:
    messages, _ = run(ActionAnswer(), make_tracker(QUESTIONS[lang]))
    assert messages[0]["buttons"][0]["title"] == more_label


@pytest.mark.parametrize("lang", ["mr", "en"])
def test_abstention_has_no_buttons_and_forgets_the_article(engine: FakeEngine, lang: str) -> None:
    engine.answer_override = FakeAnswer(
        "माहिती उपलब्ध नाही." if lang == "mr" else "I have no article on that.",
        lang,
        abstained=True,
        confidence=0.2,
        sources=(),
    )
    messages, slots = run(ActionAnswer(), make_tracker("asdfgh qwerty"))
    assert messages[0]["buttons"] == []
    assert messages[0]["custom"]["samvad"]["abstained"] is True
    assert slots["language"] == lang
    assert slots["last_article_key"] is None
    assert slots["last_article_ids"] == []


def test_missing_source_link_is_added_to_the_text(engine: FakeEngine) -> None:
    engine.answer_override = FakeAnswer("Kopri water cut on Thursday.", "en")
    messages, _ = run(ActionAnswer(), make_tracker(QUESTIONS["en"]))
    assert messages[0]["text"].endswith(f"Source: {URL}")


@pytest.mark.parametrize(("lang", "slot"), [("mr", "mr"), ("en", "en"), ("mr", None)])
def test_engine_error_is_a_polite_bilingual_message(
    engine: FakeEngine, lang: str, slot: str | None
) -> None:
    engine.fail = True
    messages, slots = run(ActionAnswer(), make_tracker(QUESTIONS[lang], slots={"language": slot}))
    assert [m["text"] for m in messages] == [MESSAGES["engine_error"][lang]]
    assert "Traceback" not in messages[0]["text"]
    assert "exploded" not in messages[0]["text"]
    assert slots == {}


def test_engine_that_cannot_load_is_retried_and_reported_politely(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    attempts: list[int] = []

    def broken() -> FakeEngine:
        attempts.append(1)
        raise FileNotFoundError("no index in var/index")

    monkeypatch.setattr(samvad_actions, "engine_factory", broken)
    samvad_actions.reset_engine(None)
    for _ in range(2):
        messages, _ = run(ActionAnswer(), make_tracker(QUESTIONS["en"]))
        assert messages[0]["text"] == MESSAGES["engine_error"]["en"]
    assert len(attempts) == 2
    samvad_actions.reset_engine(None)


@pytest.mark.parametrize("lang", ["mr", "en"])
def test_more_sends_the_next_passage(engine: FakeEngine, lang: str) -> None:
    engine.more_answer = FakeAnswer("second passage", lang, next_ordinal=None)
    slots = {"language": lang, "last_article_key": f"{ARTICLE_ID}/{lang}", "next_ordinal": 1}
    messages, set_slots = run(ActionMore(), make_tracker("more", "more", slots))
    assert messages[0]["text"].startswith("second passage")
    assert PAYLOAD_MORE not in [b["payload"] for b in messages[0]["buttons"]]
    assert set_slots == {"next_ordinal": None}
    assert engine.calls == [("more", (f"{ARTICLE_ID}/{lang}", 1, lang))]


@pytest.mark.parametrize("lang", ["mr", "en"])
def test_more_at_the_end_of_the_article(engine: FakeEngine, lang: str) -> None:
    slots = {"language": lang, "last_article_key": f"{ARTICLE_ID}/{lang}", "next_ordinal": 3.0}
    messages, set_slots = run(ActionMore(), make_tracker("aankhi", "more", slots))
    assert [m["text"] for m in messages] == [MESSAGES["no_more"][lang]]
    assert set_slots == {"next_ordinal": None}
    assert engine.calls == [("more", (f"{ARTICLE_ID}/{lang}", 3, lang))]


@pytest.mark.parametrize(("text", "lang"), [("आणखी", "mr"), ("more", "en")])
def test_more_before_any_question(engine: FakeEngine, text: str, lang: str) -> None:
    slots = {"language": "en"} if lang == "en" else {}
    messages, set_slots = run(ActionMore(), make_tracker(text, "more", slots))
    assert [m["text"] for m in messages] == [MESSAGES["nothing_to_continue"][lang]]
    assert set_slots == {}
    assert engine.calls == []


ANSWERED = {"last_question": "When is the water cut?", "last_article_ids": [ARTICLE_ID]}


@pytest.mark.parametrize(
    ("text", "entities", "helpful"),
    [
        (PAYLOAD_HELPFUL, [{"entity": "helpful", "value": True}], True),
        (PAYLOAD_NOT_HELPFUL, [{"entity": "helpful", "value": False}], False),
        ("उत्तर उपयोगी होते", [], True),
        ("उत्तर उपयोगी नाही", [], False),
        ("this was useful", [], True),
        ("wrong answer", [], False),
        ("uttar chukiche aahe", [], False),
    ],
)
def test_feedback_is_recorded(
    engine: FakeEngine, text: str, entities: list[dict[str, Any]], helpful: bool
) -> None:
    tracker = make_tracker(text, "feedback", {"language": "en", **ANSWERED}, entities)
    messages, slots = run(ActionFeedback(), tracker)
    assert [m["text"] for m in messages] == [MESSAGES["feedback_thanks"]["en"]]
    assert engine.calls == [
        ("feedback", ("citizen-1", ANSWERED["last_question"], [ARTICLE_ID], helpful))
    ]
    assert slots == {}


@pytest.mark.parametrize("lang", ["mr", "en"])
def test_feedback_without_an_answer_records_nothing(engine: FakeEngine, lang: str) -> None:
    messages, _ = run(ActionFeedback(), make_tracker("👍", "feedback", {"language": lang}))
    assert [m["text"] for m in messages] == [MESSAGES["feedback_thanks"][lang]]
    assert engine.calls == []


def test_feedback_thanks_even_if_recording_fails(engine: FakeEngine) -> None:
    engine.fail = True
    tracker = make_tracker("👎", "feedback", {"language": "mr", **ANSWERED})
    messages, _ = run(ActionFeedback(), tracker)
    assert [m["text"] for m in messages] == [MESSAGES["feedback_thanks"]["mr"]]


MR = [{"entity": "language", "value": "mr"}]
EN = [{"entity": "language", "value": "en"}]


@pytest.mark.parametrize(
    ("intent", "text", "entities", "current", "expected"),
    [
        # an explicit choice, by button payload or in words, wins
        ("choose_language", '/choose_language{"language":"mr"}', MR, "en", "mr"),
        ("choose_language", '/choose_language{"language":"en"}', EN, None, "en"),
        ("choose_language", "मराठीत बोला", [], "en", "mr"),
        ("choose_language", "English please", [], "mr", "en"),
        ("choose_language", "इंग्रजीत सांगा", [{"entity": "language", "value": "इंग्रजीत"}], "mr", "en"),
        # "change language" switches to the other one, or leaves the choice open
        ("choose_language", "भाषा बदला", [], "mr", "en"),
        ("choose_language", "change language", [], "en", "mr"),
        ("choose_language", "change language", [], None, None),
        # small talk: Devanagari or romanized Marathi → mr; English keeps the current language
        ("greet", "नमस्कार", [], None, "mr"),
        ("greet", "नमस्कार", [], "en", "mr"),
        ("thanks", "khup dhanyavad", [], None, "mr"),
        ("greet", "hello", [], None, "en"),
        ("greet", "hi", [], None, "en"),
        ("thanks", "thank you", [], "mr", "mr"),
        ("goodbye", "bye", [], "en", "en"),
    ],
)
def test_set_language(
    intent: str,
    text: str,
    entities: list[dict[str, Any]],
    current: str | None,
    expected: str | None,
) -> None:
    tracker = make_tracker(text, intent, {"language": current}, entities)
    messages, slots = run(ActionSetLanguage(), tracker)
    assert messages == []
    assert slots.get("language", current) == expected


@pytest.mark.parametrize(("text", "lang"), [("asdf", "en"), ("काय?", "mr")])
def test_default_fallback_apologises_and_reverts(text: str, lang: str) -> None:
    slots = {"language": "en"} if lang == "en" else {}
    messages, events = run(ActionDefaultFallback(), make_tracker(text, "greet", slots))
    assert [m["text"] for m in messages] == [MESSAGES["not_understood"][lang]]
    assert events == {"_events": ["rewind"]}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ठाण्यात पाणी कधी येईल?", "mr"),
        ("pani kadhi yeil?", "mr"),
        ("namaskar", "mr"),
        ("When will the water come?", None),
        ("hi", None),
    ],
)
def test_message_language(text: str, expected: str | None) -> None:
    assert message_language(text) == expected
