"""The Rasa custom actions against the real answer engine: buttons, slots, languages, errors.

The engine is real throughout: the real model, a real FAISS index over the fictional corpus
plus the real articles, and a real SQLite question log in a temp folder. The error paths use
real failures too: a question log whose folder has vanished, and a model cache that is empty.
Language handling and the fallback need no engine and run fast.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import actions as samvad_actions
from actions.actions import (
    BUTTON_NONE_OF_THESE,
    MESSAGES,
    PAYLOAD_CHOOSE_ARTICLE,
    PAYLOAD_HELPFUL,
    PAYLOAD_MORE,
    PAYLOAD_NOT_HELPFUL,
    SOURCE_LABEL,
    ActionAnswer,
    ActionChooseArticle,
    ActionDefaultFallback,
    ActionFeedback,
    ActionMore,
    ActionSetLanguage,
    answer_text,
    message_language,
)
from samvad.answers import AnswerEngine
from samvad.indexer import build_index
from samvad.model import Embedder
from samvad.question_log import QuestionLog
from samvad.settings import Settings
from tests.conftest import FICTIONAL_CORPUS, REAL_KNOWLEDGE, copy_articles

slow = pytest.mark.slow

USER = "citizen-1"

# Questions with the article and fact they must find: from tests/fixtures/dev_questions.jsonl,
# except the English water-cut one, the Marathi question's translation (as in test_answers.py):
# both English dev questions on this article get the right article but not the dev fact.
WATER = "water-cut-ghodbunder"
WATER_URL = "https://example.org/tmc/notices/water-cut-ghodbunder"
WATER_QUESTIONS = {
    "mr": ("घोडबंदरला पाणी नेमकं कोणत्या दिवशी बंद असणार आहे?", "12 मार्च 2026"),
    "en": ("On which date is water supply shut in Ghodbunder?", "12 March 2026"),
}
MONSOON = "monsoon-control-room-2026"
MONSOON_QUESTIONS = {
    "mr": "आपत्ती नियंत्रण कक्ष २४ तास चालू असतो का?",
    "en": "flood helpline number thane monsoon",
}
# Questions the engine is not sure of (it offers the property-tax article instead of answering):
# one in scope, one on a neighbouring topic (dev questions).
TAX = "property-tax-rebate-2026"
UNSURE_QUESTIONS = {
    "mr": "कर ऑनलाइन भरला तर आणखी काही सवलत आहे का?",
    "en": "how to file income tax return online",
}
# Gibberish the real engine abstains on, in each script.
GIBBERISH = {"mr": "कखग घचछ", "en": "asdfgh qwerty"}
BOTH = pytest.mark.parametrize("lang", ["mr", "en"], ids=["marathi", "english"])


@pytest.fixture(scope="module")
def real_engine(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> AnswerEngine:
    """The real engine over the fictional corpus plus ``knowledge/``; logs to a temp folder."""
    root = tmp_path_factory.mktemp("actions-engine")
    copy_articles(FICTIONAL_CORPUS, root / "knowledge")
    copy_articles(REAL_KNOWLEDGE, root / "knowledge")
    settings = Settings(
        root / "knowledge", root / "index", root / "data", Settings.from_env().model
    )
    build_index(settings, embedder)
    return AnswerEngine(settings, embedder, QuestionLog(settings.data_dir, salt="test"))


@pytest.fixture
def engine(real_engine: AnswerEngine) -> Iterator[AnswerEngine]:
    """The real engine, injected as the action server's engine for one test."""
    samvad_actions.reset_engine(real_engine)
    yield real_engine
    samvad_actions.reset_engine(None)


@pytest.fixture
def broken_engine(
    real_engine: AnswerEngine, embedder: Embedder, tmp_path: Path
) -> Iterator[AnswerEngine]:
    """A real engine whose question-log folder has vanished, so every question or feedback
    raises a real ``sqlite3.OperationalError`` ("unable to open database file")."""
    log_dir = tmp_path / "log"
    broken = AnswerEngine(real_engine.settings, embedder, QuestionLog(log_dir, salt="test"))
    shutil.rmtree(log_dir)
    samvad_actions.reset_engine(broken)
    yield broken
    samvad_actions.reset_engine(None)


def question_log(engine: AnswerEngine) -> QuestionLog:
    assert engine.log is not None
    return engine.log


def feedback_rows(log: QuestionLog) -> list[tuple[str, str, int, str | None]]:
    """The ``feedback`` table as (question, article_ids, helpful, user_hash), oldest first."""
    with closing(sqlite3.connect(log.path)) as db:
        rows = db.execute(
            "SELECT question, article_ids, helpful, user_hash FROM feedback ORDER BY id"
        ).fetchall()
    return [(str(q), str(ids), int(h), u) for q, ids, h, u in rows]


def make_tracker(
    text: str,
    intent: str = "ask_question",
    slots: dict[str, Any] | None = None,
    entities: list[dict[str, Any]] | None = None,
) -> Tracker:
    latest: dict[str, Any] = {"text": text, "intent": {"name": intent, "confidence": 0.9}}
    latest["entities"] = entities or []
    return Tracker(USER, slots or {}, latest, [], False, None, None, "action_listen")


def run(action: Action, tracker: Tracker) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Run an action; return the messages it sent and the slots it set (name → value)."""
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, {}))
    slots = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
    other = [e for e in events if e.get("event") != "slot"]
    if other:
        slots["_events"] = [e["event"] for e in other]
    return dispatcher.messages, slots


def ask(question: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Ask through ``action_answer``; return its one message and the slots it set."""
    messages, slots = run(ActionAnswer(), make_tracker(question))
    assert len(messages) == 1
    return messages[0], slots


def payloads(message: dict[str, Any]) -> list[str]:
    return [b["payload"] for b in message["buttons"]]


@slow
@BOTH
def test_answer_sends_text_buttons_and_sets_slots(engine: AnswerEngine, lang: str) -> None:
    question, fact = WATER_QUESTIONS[lang]
    message, slots = ask(question)
    assert fact in message["text"]
    assert message["text"].count(WATER_URL) == 1
    meta = message["custom"]["samvad"]
    assert (meta["kind"], meta["language"], meta["abstained"]) == ("answer", lang, False)
    assert [(s["article_id"], s["lang"]) for s in meta["sources"]] == [(WATER, lang)]
    assert meta["sources"][0]["source_url"] == WATER_URL
    assert slots == {
        "language": lang,
        "last_question": question,
        "last_article_key": f"{WATER}/{lang}",
        "next_ordinal": slots["next_ordinal"],
        "last_article_ids": [WATER],
    }
    # The water-cut article has more passages, so "Read more" comes first.
    assert isinstance(slots["next_ordinal"], int)
    assert payloads(message) == [PAYLOAD_MORE, PAYLOAD_HELPFUL, PAYLOAD_NOT_HELPFUL]


@slow
def test_romanized_marathi_is_answered_in_marathi(engine: AnswerEngine) -> None:
    message, slots = ask("pani kadhi band aahe ghodbunder la?")
    assert message["custom"]["samvad"]["language"] == "mr"
    assert "12 मार्च 2026" in message["text"]
    assert (slots["language"], slots["last_article_ids"]) == ("mr", [WATER])


@slow
@pytest.mark.parametrize(
    ("lang", "labels"),
    [
        ("mr", ["आणखी वाचा", "👍 उपयोगी", "👎 उपयोगी नाही"]),
        ("en", ["Read more", "👍 Helpful", "👎 Not helpful"]),
    ],
    ids=["marathi", "english"],
)
def test_button_labels_follow_the_answer_language(
    engine: AnswerEngine, lang: str, labels: list[str]
) -> None:
    message, _ = ask(WATER_QUESTIONS[lang][0])
    assert [b["title"] for b in message["buttons"]] == labels


@slow
@BOTH
def test_answer_is_logged_with_a_hashed_user(engine: AnswerEngine, lang: str) -> None:
    question, _ = WATER_QUESTIONS[lang]
    ask(question)
    log = question_log(engine)
    with closing(sqlite3.connect(log.path)) as db:
        row = db.execute(
            "SELECT question, language, answered, article_ids, user_hash FROM questions"
            " ORDER BY id DESC LIMIT 1"
        ).fetchone()
    assert tuple(row) == (question, lang, 1, WATER, log.user_hash(USER))


@slow
@pytest.mark.parametrize(("lang", "words"), [("mr", "माफ करा"), ("en", "Sorry")], ids=["mr", "en"])
def test_abstention_has_no_buttons_and_forgets_the_article(
    engine: AnswerEngine, lang: str, words: str
) -> None:
    _, earlier = ask(WATER_QUESTIONS[lang][0])
    messages, slots = run(ActionAnswer(), make_tracker(GIBBERISH[lang], slots=earlier))
    assert len(messages) == 1
    message = messages[0]
    assert message["text"].startswith(words)
    assert message["buttons"] == []
    assert message["custom"]["samvad"]["abstained"] is True
    assert message["custom"]["samvad"]["sources"] == []
    assert slots == {
        "language": lang,
        "last_question": GIBBERISH[lang],
        "last_article_key": None,
        "next_ordinal": None,
        "last_article_ids": [],
    }
    unanswered = question_log(engine).unanswered(limit=1)[0]
    assert (unanswered.question, unanswered.language) == (GIBBERISH[lang], lang)


@slow
@BOTH
def test_unsure_answer_offers_articles_as_buttons(engine: AnswerEngine, lang: str) -> None:
    question = UNSURE_QUESTIONS[lang]
    message, slots = ask(question)
    meta = message["custom"]["samvad"]
    assert meta["abstained"] and meta["sources"] == [] and meta["suggestions"][0] == TAX
    offered = payloads(message)
    assert offered[0] == PAYLOAD_CHOOSE_ARTICLE + json.dumps({"article_id": TAX})
    assert len(offered) == len(meta["suggestions"]) + 1
    assert message["buttons"][-1] == {
        "title": BUTTON_NONE_OF_THESE[lang],
        "payload": PAYLOAD_CHOOSE_ARTICLE,
    }
    assert all(len(b["title"]) <= samvad_actions.BUTTON_TITLE_MAX for b in message["buttons"])
    assert slots["language"] == lang and slots["last_question"] == question
    assert slots["last_article_key"] is None and slots["last_article_ids"] == []


@slow
@BOTH
def test_picked_article_is_answered_with_its_buttons(engine: AnswerEngine, lang: str) -> None:
    state = {"language": lang, "last_question": UNSURE_QUESTIONS[lang]}
    picked = [{"entity": "article_id", "value": TAX}]
    messages, slots = run(
        ActionChooseArticle(), make_tracker("/choose_article", "choose_article", state, picked)
    )
    (message,) = messages
    meta = message["custom"]["samvad"]
    assert not meta["abstained"] and meta["sources"][0]["article_id"] == TAX
    assert meta["language"] == lang and SOURCE_LABEL[lang] in message["text"]
    assert PAYLOAD_HELPFUL in payloads(message)
    assert slots["last_article_key"] == f"{TAX}/{lang}" and slots["last_article_ids"] == [TAX]


@slow
@BOTH
def test_none_of_these_says_there_is_no_article(engine: AnswerEngine, lang: str) -> None:
    state = {"language": lang, "last_question": UNSURE_QUESTIONS[lang]}
    messages, slots = run(
        ActionChooseArticle(), make_tracker("/choose_article", "choose_article", state)
    )
    (message,) = messages
    assert message["text"].startswith("माफ करा" if lang == "mr" else "Sorry")
    assert message["buttons"] == [] and message["custom"]["samvad"]["abstained"]
    assert slots["last_article_key"] is None


@BOTH
def test_picking_before_any_question(lang: str) -> None:
    tracker = make_tracker("/choose_article", "choose_article", {"language": lang})
    messages, slots = run(ActionChooseArticle(), tracker)
    assert [m["text"] for m in messages] == [MESSAGES["nothing_to_continue"][lang]]
    assert slots == {}


@slow
@BOTH
def test_missing_source_link_is_added_to_the_text(engine: AnswerEngine, lang: str) -> None:
    answer = engine.answer(WATER_QUESTIONS[lang][0])
    bare = dataclasses.replace(answer, text=" ".join(answer.sentences))
    assert WATER_URL not in bare.text
    assert answer_text(bare).endswith(f"{SOURCE_LABEL[lang]}: {WATER_URL}")
    assert answer_text(answer) == answer.text


@slow
@pytest.mark.parametrize(("lang", "slot"), [("mr", "mr"), ("en", "en"), ("mr", None)])
def test_engine_error_is_a_polite_bilingual_message(
    broken_engine: AnswerEngine, lang: str, slot: str | None
) -> None:
    question, _ = WATER_QUESTIONS[lang]
    with pytest.raises(sqlite3.OperationalError):
        broken_engine.answer(question)
    messages, slots = run(ActionAnswer(), make_tracker(question, slots={"language": slot}))
    assert [m["text"] for m in messages] == [MESSAGES["engine_error"][lang]]
    assert "Traceback" not in messages[0]["text"]
    assert "database" not in messages[0]["text"]
    assert slots == {}


@slow
def test_engine_that_cannot_load_is_retried_and_reported_politely(
    real_engine: AnswerEngine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The real ``create_engine`` fails while the model cache is empty, then loads once the
    model is there: a failed load is not remembered."""
    settings = real_engine.settings
    model_cache = Settings.from_env().model_cache
    monkeypatch.setattr(samvad_actions, "engine_factory", samvad_actions.create_engine)
    monkeypatch.setenv("SAMVAD_MODEL", settings.model)
    monkeypatch.setenv("SAMVAD_KNOWLEDGE_DIR", str(settings.knowledge_dir))
    monkeypatch.setenv("SAMVAD_INDEX_DIR", str(settings.index_dir))
    monkeypatch.setenv("SAMVAD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SAMVAD_MODEL_CACHE", str(tmp_path / "empty-model-cache"))
    samvad_actions.reset_engine(None)
    try:
        for _ in range(2):
            messages, slots = run(ActionAnswer(), make_tracker(WATER_QUESTIONS["en"][0]))
            assert [m["text"] for m in messages] == [MESSAGES["engine_error"]["en"]]
            assert slots == {}
        monkeypatch.setenv("SAMVAD_MODEL_CACHE", str(model_cache))
        message, slots = ask(WATER_QUESTIONS["en"][0])
    finally:
        samvad_actions.reset_engine(None)
    assert message["custom"]["samvad"]["sources"][0]["article_id"] == WATER
    assert slots["last_article_key"] == f"{WATER}/en"


@slow
@BOTH
def test_more_reads_the_long_article_to_the_end(engine: AnswerEngine, lang: str) -> None:
    message, slots = ask(MONSOON_QUESTIONS[lang])
    key = f"{MONSOON}/{lang}"
    assert slots["last_article_key"] == key
    passages = len(engine.retriever.snapshot.articles[key].vector_ids)
    seen = {message["text"]}
    ordinal = slots["next_ordinal"]
    word = "आणखी" if lang == "mr" else "more"
    while ordinal is not None:
        state = {"language": lang, "last_article_key": key, "next_ordinal": ordinal}
        messages, set_slots = run(ActionMore(), make_tracker(word, "more", state))
        assert len(messages) == 1
        more = messages[0]
        assert more["text"] not in seen
        seen.add(more["text"])
        meta = more["custom"]["samvad"]
        assert (meta["kind"], meta["language"], meta["article_key"]) == ("more", lang, key)
        next_ordinal = set_slots["next_ordinal"]
        assert next_ordinal == (ordinal + 1 if ordinal + 1 < passages else None)
        more_button = [PAYLOAD_MORE] if next_ordinal is not None else []
        assert payloads(more) == [*more_button, PAYLOAD_HELPFUL, PAYLOAD_NOT_HELPFUL]
        ordinal = next_ordinal
    assert len(seen) > 2


@slow
@BOTH
def test_more_past_the_end_of_the_article(engine: AnswerEngine, lang: str) -> None:
    key = f"{MONSOON}/{lang}"
    past_end = float(len(engine.retriever.snapshot.articles[key].vector_ids))
    slots = {"language": lang, "last_article_key": key, "next_ordinal": past_end}
    messages, set_slots = run(ActionMore(), make_tracker("aankhi", "more", slots))
    assert [m["text"] for m in messages] == [MESSAGES["no_more"][lang]]
    assert set_slots == {"next_ordinal": None}


@slow
@BOTH
def test_more_after_the_last_passage(engine: AnswerEngine, lang: str) -> None:
    slots = {"language": lang, "last_article_key": f"{MONSOON}/{lang}", "next_ordinal": None}
    messages, set_slots = run(ActionMore(), make_tracker("more", "more", slots))
    assert [m["text"] for m in messages] == [MESSAGES["no_more"][lang]]
    assert set_slots == {}


@slow
@pytest.mark.parametrize(("text", "lang"), [("आणखी", "mr"), ("more", "en")])
def test_more_before_any_question(engine: AnswerEngine, text: str, lang: str) -> None:
    slots = {"language": "en"} if lang == "en" else {}
    messages, set_slots = run(ActionMore(), make_tracker(text, "more", slots))
    assert [m["text"] for m in messages] == [MESSAGES["nothing_to_continue"][lang]]
    assert set_slots == {}


@slow
@pytest.mark.parametrize(
    ("lang", "text", "entities", "helpful"),
    [
        ("en", PAYLOAD_HELPFUL, [{"entity": "helpful", "value": True}], True),
        ("mr", PAYLOAD_NOT_HELPFUL, [{"entity": "helpful", "value": False}], False),
        ("mr", "उत्तर उपयोगी होते", [], True),
        ("mr", "उत्तर उपयोगी नाही", [], False),
        ("en", "this was useful", [], True),
        ("en", "wrong answer", [], False),
        ("mr", "uttar chukiche aahe", [], False),
    ],
)
def test_feedback_is_recorded(
    engine: AnswerEngine, lang: str, text: str, entities: list[dict[str, Any]], helpful: bool
) -> None:
    question, _ = WATER_QUESTIONS[lang]
    _, answered = ask(question)
    log = question_log(engine)
    before = feedback_rows(log)
    tracker = make_tracker(text, "feedback", answered, entities)
    messages, slots = run(ActionFeedback(), tracker)
    assert [m["text"] for m in messages] == [MESSAGES["feedback_thanks"][lang]]
    assert slots == {}
    assert feedback_rows(log) == [*before, (question, WATER, int(helpful), log.user_hash(USER))]


@slow
@BOTH
def test_feedback_without_an_answer_records_nothing(engine: AnswerEngine, lang: str) -> None:
    log = question_log(engine)
    before = feedback_rows(log)
    messages, _ = run(ActionFeedback(), make_tracker("👍", "feedback", {"language": lang}))
    assert [m["text"] for m in messages] == [MESSAGES["feedback_thanks"][lang]]
    assert feedback_rows(log) == before


@slow
@BOTH
def test_feedback_thanks_even_if_recording_fails(broken_engine: AnswerEngine, lang: str) -> None:
    question, _ = WATER_QUESTIONS[lang]
    with pytest.raises(sqlite3.OperationalError):
        broken_engine.record_feedback(USER, question, [WATER], False)
    answered = {"language": lang, "last_question": question, "last_article_ids": [WATER]}
    messages, _ = run(ActionFeedback(), make_tracker("👎", "feedback", answered))
    assert [m["text"] for m in messages] == [MESSAGES["feedback_thanks"][lang]]


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


@pytest.mark.parametrize(("text", "lang"), [("काय?", "mr"), ("asdf", "en")])
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
