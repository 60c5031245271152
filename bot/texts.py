"""Everything the bot itself says (Rasa's responses live in domain.yml), in Marathi and English.

A conversation whose language is not known yet gets both languages, Marathi first.
"""

from __future__ import annotations

import re
from typing import Literal

Lang = Literal["mr", "en"]
LANGUAGES: tuple[Lang, ...] = ("mr", "en")

_DEVANAGARI = re.compile(r"[\u0900-\u097f]")
_LATIN = re.compile(r"[A-Za-z]")

TEXTS: dict[str, dict[Lang, str]] = {
    "welcome": {
        "mr": "नमस्कार! मी <b>संवाद</b>, ठाणे महानगरपालिकेचा मदतनीस. महापालिकेच्या अधिकृत "
        "लेखांमधून मी तुमच्या प्रश्नांची उत्तरे देतो आणि प्रत्येक उत्तराचा स्रोत सांगतो.",
        "en": "Hello! I am <b>Samvad</b>, the Thane Municipal Corporation helper. I answer your "
        "questions from the corporation's official articles and say where each answer comes from.",
    },
    "choose_language": {
        "mr": "भाषा निवडा:",
        "en": "Choose your language:",
    },
    "commands": {
        "mr": "आदेश: /topics — मी कोणत्या विषयांवर उत्तर देऊ शकतो; /lang — भाषा बदला; "
        "/help — मदत. प्रश्न थेट लिहा.",
        "en": "Commands: /topics — what I can answer about; /lang — change language; "
        "/help — help. Just type your question.",
    },
    "topics_header": {
        "mr": "मी या विषयांवर उत्तर देऊ शकतो:",
        "en": "I can answer questions about:",
    },
    "topics_footer": {
        "mr": "यापैकी कशाबद्दलही तुमचा प्रश्न लिहा.",
        "en": "Type your question about any of these.",
    },
    "no_topics": {
        "mr": "माफ करा, सध्या कोणतेही लेख उपलब्ध नाहीत. कृपया नंतर पुन्हा प्रयत्न करा.",
        "en": "Sorry, no articles are available right now. Please try again later.",
    },
    "text_only": {
        "mr": "माफ करा, मी सध्या फक्त लिहिलेले संदेश समजू शकतो. कृपया तुमचा प्रश्न मजकुरात लिहा.",
        "en": "Sorry, I can only read text messages for now. Please type your question.",
    },
    "unknown_command": {
        "mr": "हा आदेश मला माहीत नाही.",
        "en": "I don't know that command.",
    },
    "unavailable": {
        "mr": "माफ करा, आत्ता उत्तर देणारी सेवा उपलब्ध नाही. कृपया थोड्या वेळाने पुन्हा प्रयत्न करा.",
        "en": "Sorry, the answering service is not available right now. Please try again in a "
        "little while.",
    },
    "error": {
        "mr": "माफ करा, काहीतरी चूक झाली. कृपया पुन्हा प्रयत्न करा.",
        "en": "Sorry, something went wrong. Please try again.",
    },
    "not_understood": {
        "mr": "माफ करा, मला समजले नाही. कृपया तुमचा प्रश्न वेगळ्या शब्दांत विचारा.",
        "en": "Sorry, I did not understand. Please ask your question in other words.",
    },
    "flood": {
        "mr": "तुम्ही खूप वेगाने संदेश पाठवत आहात. कृपया थोडे थांबा आणि मग पुन्हा लिहा.",
        "en": "You are sending messages very quickly. Please wait a moment, then write again.",
    },
    "button_expired": {
        "mr": "हे बटण आता चालत नाही. कृपया तुमचा प्रश्न पुन्हा लिहा.",
        "en": "This button no longer works. Please type your question again.",
    },
    "source": {"mr": "स्रोत", "en": "Source"},
}

LANGUAGE_PROMPT = "भाषा निवडा / Choose your language:"
LANGUAGE_BUTTONS: tuple[tuple[str, str], ...] = (
    ("मराठी", '/choose_language{"language":"mr"}'),
    ("English", '/choose_language{"language":"en"}'),
)

COMMANDS: dict[str, dict[Lang, str]] = {
    "start": {"mr": "सुरुवात / Start", "en": "Start / सुरुवात"},
    "topics": {"mr": "विषय / Topics", "en": "Topics / विषय"},
    "lang": {"mr": "भाषा बदला / Language", "en": "Language / भाषा बदला"},
    "help": {"mr": "मदत / Help", "en": "Help / मदत"},
}


def say(key: str, language: Lang | None, separator: str = "\n\n") -> str:
    """The text ``key`` in ``language``; both languages (Marathi first) when it is unknown."""
    variants = TEXTS[key]
    if language is None:
        return separator.join(variants[lang] for lang in LANGUAGES)
    return variants[language]


def as_language(value: object) -> Lang | None:
    """``mr`` / ``en`` from a slot-like value or a Telegram ``language_code``; else ``None``."""
    if not isinstance(value, str):
        return None
    code = value.strip().lower()[:2]
    if code == "mr":
        return "mr"
    if code == "en":
        return "en"
    return None


def script_language(text: str) -> Lang | None:
    """``mr`` for text that is mostly Devanagari, ``en`` for mostly Latin, else ``None``."""
    devanagari = len(_DEVANAGARI.findall(text))
    latin = len(_LATIN.findall(text))
    letters = devanagari + latin
    if letters == 0:
        return None
    share = devanagari / letters
    if share >= 0.8:
        return "mr"
    if share <= 0.2:
        return "en"
    return None
