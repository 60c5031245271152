"""Samvad's Rasa custom actions: the thin layer between the conversation and the answer engine.

``action_answer`` asks the engine (``samvad.answers``) and sends its answer with buttons
(or, when the engine is not sure, the closest articles to pick from); ``action_choose_article``
answers from the article picked; ``action_more`` reads on in the same article;
``action_feedback`` records 👍/👎; ``action_set_language`` works out the conversation language
for small talk; and ``action_default_fallback`` replaces Rasa's silent default with a polite
message.

The engine is created once per process, on first use (loading the model and index takes a few
seconds), and engine calls run in a worker thread so the action server stays responsive. Any
engine error becomes a polite bilingual message; the trace goes to the log, never to the citizen.

Start the server from the repository root (the app environment, next to the engine):

    .venv/bin/python -m rasa_sdk --actions actions -p 5055
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

from samvad.language import detect_language

logger = logging.getLogger(__name__)

Event = dict[str, Any]
LANGUAGES = ("mr", "en")
DEFAULT_LANGUAGE = "mr"  # TMC's official language: used when nothing says otherwise for "more"

# Messages sent by these actions (the responses that rules send are in domain.yml).
MESSAGES: dict[str, dict[str, str]] = {
    "engine_error": {
        "mr": "माफ करा, आत्ता उत्तर शोधताना अडचण आली. कृपया थोड्या वेळाने पुन्हा प्रयत्न करा. "
        "Sorry, something went wrong while looking for the answer; please try again later.",
        "en": "Sorry, something went wrong while looking for the answer; please try again later. "
        "माफ करा, आत्ता उत्तर शोधताना अडचण आली. कृपया थोड्या वेळाने पुन्हा प्रयत्न करा.",
    },
    "feedback_thanks": {
        "mr": "अभिप्रायाबद्दल धन्यवाद! त्यामुळे आमची माहिती सुधारण्यास मदत होते.",
        "en": "Thank you for the feedback! It helps us improve the information.",
    },
    "no_more": {
        "mr": "या लेखात यापुढे आणखी माहिती नाही. दुसरा प्रश्न विचारा.",
        "en": "There is nothing more in that article. Please ask another question.",
    },
    "nothing_to_continue": {
        "mr": 'आधी एखादा प्रश्न विचारा, मग "आणखी" लिहून पुढील माहिती वाचता येईल.',
        "en": 'Ask a question first; then type "more" to read on.',
    },
    "not_understood": {
        "mr": "माफ करा, मला समजले नाही. कृपया तुमचा प्रश्न वेगळ्या शब्दांत विचारा.",
        "en": "Sorry, I did not understand. Please ask your question in other words.",
    },
}
BUTTON_MORE = {"mr": "आणखी वाचा", "en": "Read more"}
BUTTON_HELPFUL = {"mr": "👍 उपयोगी", "en": "👍 Helpful"}
BUTTON_NOT_HELPFUL = {"mr": "👎 उपयोगी नाही", "en": "👎 Not helpful"}
SOURCE_LABEL = {"mr": "स्रोत", "en": "Source"}
BUTTON_NONE_OF_THESE = {"mr": "यापैकी काहीही नाही", "en": "None of these"}
PAYLOAD_MORE = "/more"
PAYLOAD_CHOOSE_ARTICLE = "/choose_article"  # + {"article_id": …}; without it: none of these
BUTTON_TITLE_MAX = 60
PAYLOAD_HELPFUL = '/feedback{"helpful":true}'
PAYLOAD_NOT_HELPFUL = '/feedback{"helpful":false}'

# Small-talk words people type in Latin letters that mean the conversation is in Marathi
# (the engine's detector covers question words; these are greetings and thanks).
ROMANIZED_SMALL_TALK = frozenset(
    {
        "namaskar",
        "namaskaar",
        "namaste",
        "ram",
        "dhanyavad",
        "dhanyawad",
        "dhanyavaad",
        "abhari",
        "aabhar",
        "abhar",
        "shubh",
        "suprabhat",
        "bhetu",
        "bhetuya",
        "nirop",
        "yeto",
        "madat",
        "marathi",
        "marathit",
        "marathitun",
    }
)
_WORD = re.compile(r"[a-z]+")
_DEVANAGARI = re.compile(r"[\u0900-\u097f]")
# Words that turn typed feedback negative ("not useful", "उपयोगी नाही", "chukicha").
_NEGATIVE_FEEDBACK = re.compile(
    r"\b(not|no|wrong|incorrect|useless|bad|outdated|old)\b|👎|नाही|नको|चुक|नव्हत|अपूर्ण|जुनी"
    r"|\b(nahi|nai|chuk\w*|navht\w*|apurna|juni)\b",
    re.IGNORECASE,
)


class SourceLike(Protocol):
    """What the actions read from ``samvad.answers.Source``."""

    @property
    def article_id(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def lang(self) -> str: ...
    @property
    def date(self) -> str: ...
    @property
    def source_url(self) -> str | None: ...


class AnswerLike(Protocol):
    """What the actions read from ``samvad.answers.Answer``."""

    @property
    def text(self) -> str: ...
    @property
    def language(self) -> str: ...
    @property
    def abstained(self) -> bool: ...
    @property
    def confidence(self) -> float: ...
    @property
    def sources(self) -> Sequence[SourceLike]: ...
    @property
    def article_key(self) -> str | None: ...
    @property
    def next_ordinal(self) -> int | None: ...
    @property
    def suggestions(self) -> Sequence[SourceLike]: ...


class EngineLike(Protocol):
    """The part of ``samvad.answers.AnswerEngine`` the actions call."""

    def answer(
        self, question: str, language: str | None = None, user_id: str | None = None
    ) -> AnswerLike: ...

    def answer_from_article(
        self,
        question: str,
        article_id: str | None,
        language: str | None = None,
        user_id: str | None = None,
    ) -> AnswerLike: ...

    def more(self, article_key: str, ordinal: int, language: str) -> AnswerLike | None: ...

    def record_feedback(
        self, user_id: str, question: str, article_ids: list[str], helpful: bool
    ) -> None: ...


def create_engine() -> EngineLike:
    """Load the answer engine from the environment's settings (model + index, a few seconds)."""
    from samvad.answers import AnswerEngine
    from samvad.settings import Settings

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


def _language(value: Any) -> str | None:
    """``mr`` / ``en`` from a slot or entity value ("mr", "Marathi", "इंग्रजी"…), else ``None``."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().lower()
    if text in LANGUAGES:
        return text
    if text.startswith(("mar", "मरा")):
        return "mr"
    if text.startswith(("eng", "ing", "इंग")):
        return "en"
    return None


def message_language(text: str) -> str | None:
    """The language a small-talk message is clearly in, or ``None`` when it does not say.

    Devanagari means Marathi; Latin letters mean Marathi when they contain romanized Marathi
    words ("namaskar", "dhanyavad", "kay aahe"). Plain English-looking text returns ``None``,
    because "hi", "thanks" and "ok" are what Marathi speakers type too.
    """
    if _DEVANAGARI.search(text):
        return "mr"
    if any(word in ROMANIZED_SMALL_TALK for word in _WORD.findall(text.lower())):
        return "mr"
    # One word is too little for the detector ("hi" is also a Marathi word).
    if len(_WORD.findall(text.lower())) > 1 and detect_language(text).romanized:
        return "mr"
    return None


def _slot_language(tracker: Tracker) -> str | None:
    return _language(tracker.get_slot("language"))


def _reply_language(tracker: Tracker) -> str:
    """Language for a message from these actions: the slot, else the message's, else Marathi."""
    text = str(tracker.latest_message.get("text") or "")
    return _slot_language(tracker) or message_language(text) or DEFAULT_LANGUAGE


def _entity_values(tracker: Tracker, entity: str) -> list[Any]:
    entities = tracker.latest_message.get("entities") or []
    return [e.get("value") for e in entities if e.get("entity") == entity]


def _suggestion_buttons(answer: AnswerLike) -> list[dict[str, str]]:
    """One button per article offered, then "none of these"."""
    lang = answer.language if answer.language in LANGUAGES else DEFAULT_LANGUAGE
    buttons = []
    for source in answer.suggestions:
        title = source.title
        if len(title) > BUTTON_TITLE_MAX:
            title = title[: BUTTON_TITLE_MAX - 1].rstrip() + "…"
        payload = PAYLOAD_CHOOSE_ARTICLE + json.dumps({"article_id": source.article_id})
        buttons.append({"title": title, "payload": payload})
    buttons.append({"title": BUTTON_NONE_OF_THESE[lang], "payload": PAYLOAD_CHOOSE_ARTICLE})
    return buttons


def _answer_buttons(answer: AnswerLike) -> list[dict[str, str]]:
    if answer.suggestions:
        return _suggestion_buttons(answer)
    if answer.abstained:
        return []
    lang = answer.language if answer.language in LANGUAGES else DEFAULT_LANGUAGE
    buttons = []
    if answer.article_key and answer.next_ordinal is not None:
        buttons.append({"title": BUTTON_MORE[lang], "payload": PAYLOAD_MORE})
    buttons.append({"title": BUTTON_HELPFUL[lang], "payload": PAYLOAD_HELPFUL})
    buttons.append({"title": BUTTON_NOT_HELPFUL[lang], "payload": PAYLOAD_NOT_HELPFUL})
    return buttons


def answer_text(answer: AnswerLike) -> str:
    """The answer's text, plus the source link on its own line when the text lacks it."""
    text = answer.text
    url = answer.sources[0].source_url if answer.sources and not answer.abstained else None
    if url and url not in text:
        lang = answer.language if answer.language in LANGUAGES else DEFAULT_LANGUAGE
        text = f"{text}\n🔗 {SOURCE_LABEL[lang]}: {url}"
    return text


def answer_metadata(answer: AnswerLike, kind: str) -> dict[str, Any]:
    """Machine-readable facts about an answer, sent as the message's custom JSON.

    Front ends can turn ``sources[].source_url`` into a real link button; tests read the
    article id from here instead of parsing the citizen-facing text.
    """
    return {
        "samvad": {
            "kind": kind,
            "language": answer.language,
            "abstained": answer.abstained,
            "confidence": round(float(answer.confidence), 4),
            "article_key": answer.article_key,
            "suggestions": [s.article_id for s in answer.suggestions],
            "sources": [
                {
                    "article_id": s.article_id,
                    "title": s.title,
                    "lang": s.lang,
                    "date": s.date,
                    "source_url": s.source_url,
                }
                for s in answer.sources
            ],
        }
    }


def send_answer(dispatcher: CollectingDispatcher, answer: AnswerLike, kind: str) -> None:
    """Send one answer: text with buttons, and the custom JSON in the same message."""
    dispatcher.utter_message(
        text=answer_text(answer),
        buttons=_answer_buttons(answer),
        json_message=answer_metadata(answer, kind),
    )


def send_message(dispatcher: CollectingDispatcher, key: str, language: str) -> None:
    """Send one of :data:`MESSAGES` in ``language``."""
    dispatcher.utter_message(text=MESSAGES[key][language])


class ActionAnswer(Action):  # type: ignore[misc]
    """Answer a city question from the articles (or abstain) and remember it for "more"."""

    def name(self) -> str:
        return "action_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[Event]:
        question = str(tracker.latest_message.get("text") or "").strip()
        if not question:
            send_message(dispatcher, "not_understood", _reply_language(tracker))
            return []
        try:
            answer: AnswerLike = await _call_engine(
                lambda engine: engine.answer(question, user_id=tracker.sender_id)
            )
        except Exception:
            logger.exception("the answer engine failed on a question")
            send_message(dispatcher, "engine_error", detect_language(question).lang)
            return []
        send_answer(dispatcher, answer, "answer")
        return answer_events(answer, question, tracker)


def answer_events(answer: AnswerLike, question: str, tracker: Tracker) -> list[Event]:
    """Slots that remember an answer for "more", feedback and picking an offered article."""
    language = answer.language if answer.language in LANGUAGES else None
    answered = not answer.abstained
    return [
        SlotSet("language", language or _slot_language(tracker)),
        SlotSet("last_question", question),
        SlotSet("last_article_key", answer.article_key if answered else None),
        SlotSet("next_ordinal", answer.next_ordinal if answered else None),
        SlotSet("last_article_ids", [s.article_id for s in answer.sources] if answered else []),
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
            answer: AnswerLike = await _call_engine(
                lambda engine: engine.answer_from_article(
                    question, picked, language, tracker.sender_id
                )
            )
        except Exception:
            logger.exception("the answer engine failed on a picked article")
            send_message(dispatcher, "engine_error", language)
            return []
        send_answer(dispatcher, answer, "answer")
        return answer_events(answer, question, tracker)


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
            more: AnswerLike | None = await _call_engine(
                lambda engine: engine.more(key, int(ordinal), language)
            )
        except Exception:
            logger.exception("the answer engine failed on 'more'")
            send_message(dispatcher, "engine_error", language)
            return []
        if more is None:
            send_message(dispatcher, "no_more", language)
            return [SlotSet("next_ordinal", None)]
        send_answer(dispatcher, more, "more")
        return [SlotSet("next_ordinal", more.next_ordinal)]


def feedback_is_helpful(tracker: Tracker) -> bool:
    """👍 or 👎: the button's ``helpful`` entity, else negative words in the typed message."""
    for value in _entity_values(tracker, "helpful"):
        if isinstance(value, bool):
            return value
        if str(value).strip().lower() in ("true", "yes", "1"):
            return True
        if str(value).strip().lower() in ("false", "no", "0"):
            return False
    text = str(tracker.latest_message.get("text") or "")
    return _NEGATIVE_FEEDBACK.search(text) is None


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
    """Set the ``language`` slot before a small-talk response.

    An explicit choice (button payload or "मराठीत बोला" / "English please") wins; "change
    language" without naming one switches to the other language. Otherwise a message in
    Devanagari or romanized Marathi makes it Marathi, and an English-looking message keeps the
    current language, or starts the conversation in English.
    """

    def name(self) -> str:
        return "action_set_language"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[Event]:
        current = _slot_language(tracker)
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        text = str(tracker.latest_message.get("text") or "")
        if intent == "choose_language":
            chosen = next(
                (lang for v in _entity_values(tracker, "language") if (lang := _language(v))),
                None,
            ) or _named_language(text)
            if chosen is None and current is not None:
                chosen = "en" if current == "mr" else "mr"
            new = chosen
        else:
            new = message_language(text) or current or "en"
        return [] if new == current else [SlotSet("language", new)]


def _named_language(text: str) -> str | None:
    """The language a message names ("मराठी", "marathit", "English", "इंग्रजीत"), if exactly one."""
    lowered = text.lower()
    marathi = bool(re.search(r"मराठी|\bmarathi", lowered))
    english = bool(re.search(r"इंग्रजी|इंग्लिश|\benglish|\bingraji|\bingrji", lowered))
    if marathi != english:
        return "mr" if marathi else "en"
    return None


class ActionDefaultFallback(Action):  # type: ignore[misc]
    """When the dialogue policies are unsure: a polite "please rephrase" instead of silence."""

    def name(self) -> str:
        return "action_default_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[Event]:
        send_message(dispatcher, "not_understood", _reply_language(tracker))
        return [UserUtteranceReverted()]
