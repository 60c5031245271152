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
import logging
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import actions as samvad_actions
from actions.actions import (
    PAYLOAD_CHOOSE_ARTICLE,
    PAYLOAD_HELPFUL,
    PAYLOAD_MORE,
    PAYLOAD_NOT_HELPFUL,
    ActionAnswer,
    ActionChooseArticle,
    ActionDefaultFallback,
    ActionFeedback,
    ActionMore,
    ActionSetLanguage,
)
from samvad import AnswerEngine, Lang, QuestionLog, Settings, build_index, from_json, plain_text
from samvad.messages import text as catalogue
from samvad.model import Embedder
from samvad.segment import new_vector_index
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
    "mr": "यंदाचं घरपट्टीचं बिल अजून घरी आलं नाही, ते कधीपर्यंत येतं?",
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
    settings = Settings.from_env().with_paths(root / "knowledge", root / "index")
    settings = dataclasses.replace(settings, data_dir=root / "data")
    build_index(settings, embedder)
    return AnswerEngine(settings, embedder, QuestionLog(settings.data_dir, salt="test"))


@pytest.fixture
def engine(real_engine: AnswerEngine) -> Iterator[AnswerEngine]:
    """The real engine, injected as the action server's engine for one test."""
    samvad_actions.reset_engine(real_engine)
    yield real_engine
    samvad_actions.reset_engine(None)


@pytest.fixture
def logless_engine(
    real_engine: AnswerEngine, embedder: Embedder, tmp_path: Path
) -> Iterator[AnswerEngine]:
    """A real engine whose question-log folder has vanished, so every write to the log raises
    a real ``sqlite3.OperationalError`` ("unable to open database file")."""
    log_dir = tmp_path / "log"
    broken = AnswerEngine(real_engine.settings, embedder, QuestionLog(log_dir, salt="test"))
    shutil.rmtree(log_dir)
    samvad_actions.reset_engine(broken)
    yield broken
    samvad_actions.reset_engine(None)


@pytest.fixture
def broken_engine(real_engine: AnswerEngine, embedder: Embedder) -> Iterator[AnswerEngine]:
    """A real engine whose in-memory vector index is damaged (vectors of another dimension), so
    every search raises inside FAISS — a fault injected into a real component."""
    broken = AnswerEngine(real_engine.settings, embedder)
    damaged = new_vector_index(8)
    damaged.add_with_ids(np.ones((1, 8), dtype=np.float32), np.array([1], dtype=np.int64))
    broken.index.current().snapshot.vectors = damaged
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
def test_answer_sends_text_buttons_and_sets_slots(engine: AnswerEngine, lang: Lang) -> None:
    question, fact = WATER_QUESTIONS[lang]
    message, slots = ask(question)
    assert fact in message["text"]
    assert message["text"].count(WATER_URL) == 1
    meta = message["custom"]["samvad"]
    assert (meta["kind"], meta["language"], meta["outcome"]) == ("answer", lang, "answered")
    cited = meta["citation"]
    assert (cited["article_id"], cited["language"], cited["source_url"]) == (WATER, lang, WATER_URL)
    assert message["text"] == plain_text(from_json(meta))  # text-only channels read the same
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
    engine: AnswerEngine, lang: Lang, labels: list[str]
) -> None:
    message, _ = ask(WATER_QUESTIONS[lang][0])
    assert [b["title"] for b in message["buttons"]] == labels


@slow
@BOTH
def test_answer_is_logged_with_a_hashed_user(engine: AnswerEngine, lang: Lang) -> None:
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
@BOTH
def test_refusal_has_no_buttons_and_forgets_the_article(engine: AnswerEngine, lang: Lang) -> None:
    _, earlier = ask(WATER_QUESTIONS[lang][0])
    messages, slots = run(ActionAnswer(), make_tracker(GIBBERISH[lang], slots=earlier))
    assert len(messages) == 1
    message = messages[0]
    assert message["buttons"] == []
    meta = message["custom"]["samvad"]
    assert (meta["outcome"], meta["language"], meta["citation"]) == ("refused", lang, None)
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
def test_unsure_answer_offers_articles_as_buttons(engine: AnswerEngine, lang: Lang) -> None:
    question = UNSURE_QUESTIONS[lang]
    message, slots = ask(question)
    meta = message["custom"]["samvad"]
    assert meta["outcome"] == "offered" and meta["citation"] is None
    offers = [offer["article_id"] for offer in meta["offers"]]
    assert TAX in offers
    # One button per offered article, in the engine's order, then "none of these".
    assert payloads(message)[:-1] == [
        PAYLOAD_CHOOSE_ARTICLE + json.dumps({"article_id": article}) for article in offers
    ]
    assert message["buttons"][-1] == {
        "title": catalogue("button_none_of_these", lang),
        "payload": PAYLOAD_CHOOSE_ARTICLE,
    }
    assert all(len(b["title"]) <= samvad_actions.BUTTON_TITLE_MAX for b in message["buttons"])
    assert slots["language"] == lang and slots["last_question"] == question
    assert slots["last_article_key"] is None and slots["last_article_ids"] == []


@slow
@BOTH
def test_picked_article_is_answered_with_its_buttons(engine: AnswerEngine, lang: Lang) -> None:
    state = {"language": lang, "last_question": UNSURE_QUESTIONS[lang]}
    picked = [{"entity": "article_id", "value": TAX}]
    messages, slots = run(
        ActionChooseArticle(), make_tracker("/choose_article", "choose_article", state, picked)
    )
    (message,) = messages
    meta = message["custom"]["samvad"]
    assert meta["outcome"] == "answered" and meta["citation"]["article_id"] == TAX
    assert meta["language"] == lang
    assert PAYLOAD_HELPFUL in payloads(message)
    assert slots["last_article_key"] == f"{TAX}/{lang}" and slots["last_article_ids"] == [TAX]


@slow
@BOTH
def test_none_of_these_says_there_is_no_article(engine: AnswerEngine, lang: Lang) -> None:
    state = {"language": lang, "last_question": UNSURE_QUESTIONS[lang]}
    messages, slots = run(
        ActionChooseArticle(), make_tracker("/choose_article", "choose_article", state)
    )
    (message,) = messages
    meta = message["custom"]["samvad"]
    assert message["buttons"] == [] and (meta["outcome"], meta["language"]) == ("refused", lang)
    assert slots["last_article_key"] is None


@BOTH
def test_picking_before_any_question(lang: Lang) -> None:
    tracker = make_tracker("/choose_article", "choose_article", {"language": lang})
    messages, slots = run(ActionChooseArticle(), tracker)
    assert [m["text"] for m in messages] == [catalogue("nothing_to_continue", lang)]
    assert slots == {}


@slow
@pytest.mark.parametrize(("lang", "slot"), [("mr", "mr"), ("en", "en"), ("mr", None)])
def test_engine_error_is_a_polite_message_in_the_reply_language(
    broken_engine: AnswerEngine, lang: Lang, slot: str | None
) -> None:
    question, _ = WATER_QUESTIONS[lang]
    with pytest.raises(AssertionError):
        broken_engine.answer(question)
    messages, slots = run(ActionAnswer(), make_tracker(question, slots={"language": slot}))
    assert [m["text"] for m in messages] == [catalogue("engine_error", lang)]
    assert "Traceback" not in messages[0]["text"]
    assert slots == {}


@slow
def test_an_unavailable_question_log_still_answers_and_is_logged_once(
    logless_engine: AnswerEngine, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="samvad.answers"):
        for lang in ("mr", "en"):
            message, slots = ask(WATER_QUESTIONS[lang][0])
            assert message["custom"]["samvad"]["outcome"] == "answered"
            assert slots["last_article_ids"] == [WATER]
    failures = [r for r in caplog.records if "question log is unavailable" in r.getMessage()]
    assert len(failures) == 1


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
            assert [m["text"] for m in messages] == [catalogue("engine_error", "en")]
            assert slots == {}
        monkeypatch.setenv("SAMVAD_MODEL_CACHE", str(model_cache))
        message, slots = ask(WATER_QUESTIONS["en"][0])
    finally:
        samvad_actions.reset_engine(None)
    assert message["custom"]["samvad"]["citation"]["article_id"] == WATER
    assert slots["last_article_key"] == f"{WATER}/en"


@slow
@BOTH
def test_more_reads_the_long_article_to_the_end(engine: AnswerEngine, lang: Lang) -> None:
    message, slots = ask(MONSOON_QUESTIONS[lang])
    key = f"{MONSOON}/{lang}"
    assert slots["last_article_key"] == key
    passages = len(engine.index.current().snapshot.articles[key].vector_ids)
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
        assert (meta["kind"], meta["language"]) == ("more", lang)
        assert f"{meta['citation']['article_id']}/{meta['citation']['language']}" == key
        next_ordinal = set_slots["next_ordinal"]
        assert next_ordinal == (ordinal + 1 if ordinal + 1 < passages else None)
        more_button = [PAYLOAD_MORE] if next_ordinal is not None else []
        assert payloads(more) == [*more_button, PAYLOAD_HELPFUL, PAYLOAD_NOT_HELPFUL]
        ordinal = next_ordinal
    assert len(seen) > 2


@slow
@BOTH
def test_more_past_the_end_of_the_article(engine: AnswerEngine, lang: Lang) -> None:
    key = f"{MONSOON}/{lang}"
    past_end = float(len(engine.index.current().snapshot.articles[key].vector_ids))
    slots = {"language": lang, "last_article_key": key, "next_ordinal": past_end}
    messages, set_slots = run(ActionMore(), make_tracker("aankhi", "more", slots))
    assert [m["text"] for m in messages] == [catalogue("no_more", lang)]
    assert set_slots == {"next_ordinal": None}


@slow
@BOTH
def test_more_after_the_last_passage(engine: AnswerEngine, lang: Lang) -> None:
    slots = {"language": lang, "last_article_key": f"{MONSOON}/{lang}", "next_ordinal": None}
    messages, set_slots = run(ActionMore(), make_tracker("more", "more", slots))
    assert [m["text"] for m in messages] == [catalogue("no_more", lang)]
    assert set_slots == {}


@slow
@pytest.mark.parametrize(("text", "lang"), [("आणखी", "mr"), ("more", "en")])
def test_more_before_any_question(engine: AnswerEngine, text: str, lang: Lang) -> None:
    slots = {"language": "en"} if lang == "en" else {}
    messages, set_slots = run(ActionMore(), make_tracker(text, "more", slots))
    assert [m["text"] for m in messages] == [catalogue("nothing_to_continue", lang)]
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
    engine: AnswerEngine, lang: Lang, text: str, entities: list[dict[str, Any]], helpful: bool
) -> None:
    question, _ = WATER_QUESTIONS[lang]
    _, answered = ask(question)
    log = question_log(engine)
    before = feedback_rows(log)
    tracker = make_tracker(text, "feedback", answered, entities)
    messages, slots = run(ActionFeedback(), tracker)
    assert [m["text"] for m in messages] == [catalogue("feedback_thanks", lang)]
    assert slots == {}
    assert feedback_rows(log) == [*before, (question, WATER, int(helpful), log.user_hash(USER))]


@slow
@BOTH
def test_feedback_without_an_answer_records_nothing(engine: AnswerEngine, lang: Lang) -> None:
    log = question_log(engine)
    before = feedback_rows(log)
    messages, _ = run(ActionFeedback(), make_tracker("👍", "feedback", {"language": lang}))
    assert [m["text"] for m in messages] == [catalogue("feedback_thanks", lang)]
    assert feedback_rows(log) == before


@slow
@BOTH
def test_feedback_thanks_even_if_recording_fails(logless_engine: AnswerEngine, lang: Lang) -> None:
    question, _ = WATER_QUESTIONS[lang]
    assert logless_engine.log is not None
    with pytest.raises(sqlite3.OperationalError):
        logless_engine.log.record_feedback(question, [WATER], False, USER)
    answered = {"language": lang, "last_question": question, "last_article_ids": [WATER]}
    messages, _ = run(ActionFeedback(), make_tracker("👎", "feedback", answered))
    assert [m["text"] for m in messages] == [catalogue("feedback_thanks", lang)]


MR = [{"entity": "language", "value": "mr"}]
EN = [{"entity": "language", "value": "en"}]
PETROL = "What is the price of petrol in Delhi?"


@pytest.mark.parametrize(
    ("intent", "text", "entities", "slots", "expected"),
    [
        # an explicit choice, by button payload or in words, is kept and wins from then on
        ("choose_language", '/choose_language{"language":"mr"}', MR, {"language": "en"}, "mr!"),
        ("choose_language", '/choose_language{"language":"en"}', EN, {}, "en!"),
        ("choose_language", "मराठीत बोला", [], {"language": "en"}, "mr!"),
        ("choose_language", "English please", [], {"language": "mr"}, "en!"),
        ("choose_language", "इंग्रजीत सांगा", [{"entity": "language", "value": "इंग्रजीत"}], {}, "en!"),
        # "change language" switches away from this turn's language
        ("choose_language", "भाषा बदला", [], {"language": "mr"}, "en!"),
        ("choose_language", "change language", [], {"language": "en"}, "mr!"),
        ("choose_language", "change language", [], {}, None),
        # otherwise: the language the message is clearly in, else the last one, else Marathi
        ("greet", "नमस्कार", [], {}, "mr"),
        ("greet", "नमस्कार", [], {"language": "en"}, "mr"),
        ("thanks", "khup dhanyavad", [], {}, "mr"),
        ("out_of_scope", PETROL, [], {"language": "mr"}, "en"),
        ("out_of_scope", "petrol cha bhav kay aahe", [], {"language": "en"}, "mr"),
        ("greet", "hello", [], {}, "mr"),
        ("greet", "hi", [], {"language": "en"}, "en"),
        ("thanks", "thank you", [], {"language": "mr"}, "mr"),
        ("goodbye", "bye", [], {"language": "en"}, "en"),
        # a choice made earlier wins over the message's own language
        ("out_of_scope", PETROL, [], {"language": "mr", "chosen_language": "mr"}, "mr"),
        ("greet", "नमस्कार", [], {"language": "en", "chosen_language": "en"}, "en"),
    ],
)
def test_set_language_follows_the_one_policy(
    intent: str,
    text: str,
    entities: list[dict[str, Any]],
    slots: dict[str, Any],
    expected: str | None,
) -> None:
    """``expected`` is this turn's language; with ``!`` it is also kept as the choice;
    ``None``: nothing is set (the response's buttons ask)."""
    tracker = make_tracker(text, intent, slots, entities)
    messages, set_slots = run(ActionSetLanguage(), tracker)
    assert messages == []
    if expected is None:
        assert set_slots == {}
        return
    assert set_slots["language"] == expected.rstrip("!")
    if expected.endswith("!"):
        assert set_slots["chosen_language"] == expected.rstrip("!")
    else:
        assert "chosen_language" not in set_slots


@slow
@pytest.mark.parametrize(
    ("question", "slots", "lang"),
    [
        (PETROL, {"language": "mr"}, "en"),
        ("pani kadhi band aahe ghodbunder la?", {"language": "en"}, "mr"),
        (WATER_QUESTIONS["en"][0], {"language": "en", "chosen_language": "mr"}, "mr"),
        (WATER_QUESTIONS["mr"][0], {"language": "mr", "chosen_language": "en"}, "en"),
    ],
    ids=["english-after-marathi", "romanized-after-english", "chosen-marathi", "chosen-english"],
)
def test_answers_and_refusals_follow_the_same_policy(
    engine: AnswerEngine, question: str, slots: dict[str, Any], lang: str
) -> None:
    messages, set_slots = run(ActionAnswer(), make_tracker(question, slots=slots))
    (message,) = messages
    assert message["custom"]["samvad"]["language"] == lang
    assert set_slots["language"] == lang


@pytest.mark.parametrize(("text", "lang"), [("काय?", "mr"), ("asdf", "en")])
def test_default_fallback_apologises_and_reverts(text: str, lang: Lang) -> None:
    slots = {"language": "en"} if lang == "en" else {}
    messages, events = run(ActionDefaultFallback(), make_tracker(text, "greet", slots))
    assert [m["text"] for m in messages] == [catalogue("not_understood", lang)]
    assert events == {"_events": ["rewind"]}
