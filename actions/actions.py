"""Samvad's Rasa custom actions: the thin layer between the conversation and the answer engine.

``action_answer`` asks the engine (``samvad.answers``) and sends its answer with buttons
(or, when the engine is not sure, the closest articles to pick from); ``action_choose_article``
answers from the article picked; ``action_more`` reads on in the same article;
``action_feedback`` records 👍/👎; ``action_set_language`` applies the language policy
(``samvad.reply_language``) for small talk; and ``action_default_fallback`` replaces Rasa's
silent default with a polite message.

The engine is created once per process, on first use (loading the model and index takes a few
seconds), and engine calls run in a worker thread so the action server stays responsive. Any
engine error becomes a polite message in the reply's language; the trace goes to the log,
never to the citizen.

Start the server from the repository root (the app environment, next to the engine):

    .venv/bin/python -m rasa_sdk --actions actions -p 5055
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sys
import threading
from collections.abc import Callable
from typing import Any, Protocol

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

from samvad import (
    Answer,
    AnswerEngine,
    Lang,
    PersonalDataFilter,
    Settings,
    SettingsError,
    accept,
    as_language,
    named_language,
    plain_text,
    reply_language,
    text,
    to_json,
)

logger = logging.getLogger(__name__)

Event = dict[str, Any]

PAYLOAD_MORE = "/more"
PAYLOAD_CHOOSE_ARTICLE = "/choose_article"  # + {"article_id": …}; without it: none of these
BUTTON_TITLE_MAX = 60
PAYLOAD_HELPFUL = '/feedback{"helpful":true}'
PAYLOAD_NOT_HELPFUL = '/feedback{"helpful":false}'

# Words that turn typed feedback negative ("not useful", "उपयोगी नाही", "chukicha").
_NEGATIVE_FEEDBACK = re.compile(
    r"\b(not|no|wrong|incorrect|useless|bad|outdated|old)\b|👎|नाही|नको|चुक|नव्हत|अपूर्ण|जुनी"
    r"|\b(nahi|nai|chuk\w*|navht\w*|apurna|juni)\b",
    re.IGNORECASE,
)


class EngineLike(Protocol):
    """The part of :class:`samvad.AnswerEngine` the actions call."""

    def answer(
        self, question: str, language: Lang | None = None, user_id: str | None = None
    ) -> Answer: ...

    def answer_from_article(
        self,
        question: str,
        article_id: str | None,
        language: Lang | None = None,
        user_id: str | None = None,
    ) -> Answer: ...

    def more(self, article_key: str, ordinal: int, language: Lang) -> Answer | None: ...

    def record_feedback(
        self, user_id: str, question: str, article_ids: list[str], helpful: bool
    ) -> None: ...


def check_settings() -> Settings:
    """The environment's settings; a bad value stops the action server with one line naming
    the variable (at start-up, not at the first citizen's question)."""
    try:
        return Settings.from_env()
    except SettingsError as exc:
        print(f"samvad action server: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


check_settings()

_LOG_FILTER = PersonalDataFilter()


def mask_log_records() -> None:
    """Put :class:`samvad.PersonalDataFilter` on every log handler of this process.

    rasa-sdk imports this module twice: in its main process, after ``coloredlogs`` gave the
    root logger its handler (and ``--log-file`` one to the ``rasa_sdk`` logger), and again in
    the Sanic worker that runs the actions, where logging is never configured and warnings
    and tracebacks go to :data:`logging.lastResort`. So the filter goes on the handlers of the
    root and every other logger and on the last-resort handler; called at import and again
    when the engine is first made, in case a handler was added since.
    """
    handlers = list(logging.getLogger().handlers)
    for known in logging.Logger.manager.loggerDict.values():
        if isinstance(known, logging.Logger):
            handlers += known.handlers
    if logging.lastResort is not None:
        handlers.append(logging.lastResort)
    for handler in handlers:
        if not any(isinstance(f, PersonalDataFilter) for f in handler.filters):
            handler.addFilter(_LOG_FILTER)


mask_log_records()


def create_engine() -> EngineLike:
    """Load the answer engine from the environment's settings (model + index, a few seconds)."""
    engine: EngineLike = AnswerEngine.from_settings(Settings.from_env())
    return engine


_engine: EngineLike | None = None
_engine_lock = threading.Lock()
engine_factory: Callable[[], EngineLike] = create_engine


def get_engine() -> EngineLike:
    """The process's engine, created on first use; a failed load is retried on the next call."""
    global _engine
    with _engine_lock:
        if _engine is None:
            mask_log_records()
            _engine = engine_factory()
        return _engine


def reset_engine(engine: EngineLike | None = None) -> None:
    """Replace the process's engine (``None``: create it again on next use). For tests."""
    global _engine
    with _engine_lock:
        _engine = engine


async def _call_engine(call: Callable[[EngineLike], Any]) -> Any:
    def run() -> Any:
        return call(get_engine())

    return await asyncio.to_thread(run)


def _reply_language(tracker: Tracker) -> Lang:
    """The language of this turn's reply (:func:`samvad.reply_language`): the citizen's explicit
    choice, else the message's clear language, else the conversation's last, else Marathi."""
    message = str(tracker.latest_message.get("text") or "")
    return reply_language(
        as_language(tracker.get_slot("chosen_language")),
        message,
        as_language(tracker.get_slot("language")),
    )


def _entity_values(tracker: Tracker, entity: str) -> list[Any]:
    entities = tracker.latest_message.get("entities") or []
    return [e.get("value") for e in entities if e.get("entity") == entity]


def _offer_buttons(answer: Answer) -> list[dict[str, str]]:
    """One button per article offered, then "none of these"."""
    buttons = []
    for offered in answer.offers:
        title = offered.title
        if len(title) > BUTTON_TITLE_MAX:
            title = title[: BUTTON_TITLE_MAX - 1].rstrip() + "…"
        payload = PAYLOAD_CHOOSE_ARTICLE + json.dumps({"article_id": offered.article_id})
        buttons.append({"title": title, "payload": payload})
    buttons.append(
        {"title": text("button_none_of_these", answer.language), "payload": PAYLOAD_CHOOSE_ARTICLE}
    )
    return buttons


def answer_buttons(answer: Answer) -> list[dict[str, str]]:
    """The buttons that go with an answer: offers, or "more" and 👍/👎, or none."""
    if answer.outcome == "offered":
        return _offer_buttons(answer)
    if not answer.answered:
        return []
    lang = answer.language
    buttons = []
    if answer.continuation is not None:
        buttons.append({"title": text("button_more", lang), "payload": PAYLOAD_MORE})
    buttons.append({"title": text("button_helpful", lang), "payload": PAYLOAD_HELPFUL})
    buttons.append({"title": text("button_not_helpful", lang), "payload": PAYLOAD_NOT_HELPFUL})
    return buttons


def send_answer(dispatcher: CollectingDispatcher, answer: Answer) -> None:
    """Send one answer: the plain text for text-only channels, the buttons, and the answer
    itself as the message's custom JSON (``{"samvad": samvad.to_json(answer)}``)."""
    dispatcher.utter_message(
        text=plain_text(answer),
        buttons=answer_buttons(answer),
        json_message={"samvad": to_json(answer)},
    )


def send_message(dispatcher: CollectingDispatcher, key: str, language: Lang) -> None:
    """Send the catalogue text ``key`` (``samvad.messages``) in ``language``."""
    dispatcher.utter_message(text=text(key, language))


class ActionAnswer(Action):  # type: ignore[misc]
    """Answer a city question from the articles (or offer, or refuse) and remember it."""

    def name(self) -> str:
        return "action_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[Event]:
        question = accept(str(tracker.latest_message.get("text") or "").strip()).text
        language = _reply_language(tracker)
        if not question:
            send_message(dispatcher, "not_understood", language)
            return []
        try:
            answer: Answer = await _call_engine(
                lambda engine: engine.answer(question, language, tracker.sender_id)
            )
        except Exception:
            logger.exception("the answer engine failed on a question")
            send_message(dispatcher, "engine_error", language)
            return []
        send_answer(dispatcher, answer)
        return answer_events(answer, question)


def answer_events(answer: Answer, question: str) -> list[Event]:
    """Slots that remember an answer for "more", feedback and picking an offered article."""
    answered = answer.answered
    continuation = answer.continuation if answered else None
    return [
        SlotSet("language", answer.language),
        SlotSet("last_question", question),
        SlotSet("last_article_key", continuation.article_key if continuation else None),
        SlotSet("next_ordinal", continuation.next_ordinal if continuation else None),
        SlotSet("last_article_ids", answer.article_ids if answered else []),
    ]


class ActionChooseArticle(Action):  # type: ignore[misc]
    """Answer the last question from the article the citizen picked among those offered, or
    say there is no article when they picked none of them."""

    def name(self) -> str:
        return "action_choose_article"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[Event]:
        question = tracker.get_slot("last_question")
        language = _reply_language(tracker)
        if not isinstance(question, str) or not question:
            send_message(dispatcher, "nothing_to_continue", language)
            return []
        picked = next((str(v) for v in _entity_values(tracker, "article_id") if v), None)
        try:
            answer: Answer = await _call_engine(
                lambda engine: engine.answer_from_article(
                    question, picked, language, tracker.sender_id
                )
            )
        except Exception:
            logger.exception("the answer engine failed on a picked article")
            send_message(dispatcher, "engine_error", language)
            return []
        send_answer(dispatcher, answer)
        return answer_events(answer, question)


class ActionMore(Action):  # type: ignore[misc]
    """Send the next passage of the last answered article."""

    def name(self) -> str:
        return "action_more"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[Event]:
        language = _reply_language(tracker)
        key = tracker.get_slot("last_article_key")
        ordinal = tracker.get_slot("next_ordinal")
        if not isinstance(key, str) or not key:
            send_message(dispatcher, "nothing_to_continue", language)
            return []
        if not isinstance(ordinal, int | float) or isinstance(ordinal, bool):
            send_message(dispatcher, "no_more", language)
            return []
        try:
            more: Answer | None = await _call_engine(
                lambda engine: engine.more(key, int(ordinal), language)
            )
        except Exception:
            logger.exception("the answer engine failed on 'more'")
            send_message(dispatcher, "engine_error", language)
            return []
        if more is None:
            send_message(dispatcher, "no_more", language)
            return [SlotSet("next_ordinal", None)]
        send_answer(dispatcher, more)
        following = more.continuation.next_ordinal if more.continuation else None
        return [SlotSet("next_ordinal", following), SlotSet("language", language)]


def feedback_is_helpful(tracker: Tracker) -> bool:
    """👍 or 👎: the button's ``helpful`` entity, else negative words in the typed message."""
    for value in _entity_values(tracker, "helpful"):
        if isinstance(value, bool):
            return value
        if str(value).strip().lower() in ("true", "yes", "1"):
            return True
        if str(value).strip().lower() in ("false", "no", "0"):
            return False
    message = str(tracker.latest_message.get("text") or "")
    return _NEGATIVE_FEEDBACK.search(message) is None


class ActionFeedback(Action):  # type: ignore[misc]
    """Record whether the last answer helped, and thank the citizen."""

    def name(self) -> str:
        return "action_feedback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[Event]:
        question = tracker.get_slot("last_question")
        article_ids = tracker.get_slot("last_article_ids") or []
        if isinstance(question, str) and question and article_ids:
            helpful = feedback_is_helpful(tracker)
            ids = [str(a) for a in article_ids]
            try:
                await _call_engine(
                    lambda engine: engine.record_feedback(tracker.sender_id, question, ids, helpful)
                )
            except Exception:
                logger.exception("could not record feedback")
        send_message(dispatcher, "feedback_thanks", _reply_language(tracker))
        return []


class ActionSetLanguage(Action):  # type: ignore[misc]
    """Set the language slots before a small-talk response, by the one language policy.

    An explicit choice (a language button, "मराठीत बोला", "in English please") is kept in
    ``chosen_language`` and wins from then on; "change language" without naming one switches
    to the other language (or, in a conversation with no language yet, leaves the choice to
    the buttons of the response). Otherwise ``language`` becomes this turn's reply language
    (:func:`samvad.reply_language`), which the responses in ``domain.yml`` follow.
    """

    def name(self) -> str:
        return "action_set_language"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[Event]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if intent == "choose_language":
            message = str(tracker.latest_message.get("text") or "")
            chosen = next(
                (lang for v in _entity_values(tracker, "language") if (lang := as_language(v))),
                None,
            ) or named_language(message)
            if chosen is None:
                current = as_language(tracker.get_slot("chosen_language")) or as_language(
                    tracker.get_slot("language")
                )
                if current is None:  # nothing to switch from: the response offers both
                    return []
                chosen = "en" if current == "mr" else "mr"
            return [SlotSet("chosen_language", chosen), SlotSet("language", chosen)]
        return [SlotSet("language", _reply_language(tracker))]


class ActionDefaultFallback(Action):  # type: ignore[misc]
    """When the dialogue policies are unsure: a polite "please rephrase" instead of silence."""

    def name(self) -> str:
        return "action_default_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[Event]:
        send_message(dispatcher, "not_understood", _reply_language(tracker))
        return [UserUtteranceReverted()]
