"""Rendering Rasa replies for Telegram: escaping, source line, dates, splitting, buttons."""

from __future__ import annotations

from typing import Any

import pytest

from bot.render import (
    CALLBACK_DATA_LIMIT,
    Button,
    PayloadStore,
    button_rows,
    escape,
    format_date,
    keyboard,
    read_replies,
    render_html,
    render_replies,
    split_text,
    utf16_len,
)
from bot.texts import script_language
from tests.emulator.server import parse_html

ANSWERS = {
    "mr": "ठाणे महापालिकेने जपानसोबत करार केला. <हा> भाग & महत्त्वाचा।\n\n"
    "स्रोत: ठाणे महानगरपालिका आणि जपान करार (2026-11-29)\nhttps://thanecity.gov.in/news?a=1&b=2",
    "en": "Thane signed an agreement with Japan. <This> part & matters.\n\n"
    "Source: Thane and Japan agreement (2026-11-29)\nhttps://thanecity.gov.in/news?a=1&b=2",
}
TITLES = {"mr": "ठाणे महानगरपालिका आणि जपान करार", "en": "Thane and Japan agreement"}
DATES = {"mr": "२९ नोव्हेंबर २०२६", "en": "29 November 2026"}
LABELS = {"mr": "स्रोत", "en": "Source"}


@pytest.mark.parametrize(
    ("iso", "language", "written"),
    [
        ("2026-11-29", "mr", "२९ नोव्हेंबर २०२६"),
        ("2026-11-29", "en", "29 November 2026"),
        ("2026-01-05", "mr", "५ जानेवारी २०२६"),
        ("2026-01-05", "en", "5 January 2026"),
        ("2026-13-05", "en", "2026-13-05"),
        ("soon", "mr", "soon"),
    ],
)
def test_dates_are_written_out_in_the_language(iso: str, language: str, written: str) -> None:
    assert format_date(iso, language) == written  # type: ignore[arg-type]


@pytest.mark.parametrize("language", ["mr", "en"])
def test_answer_is_escaped_and_its_source_line_formatted(language: str) -> None:
    rendered = render_html(ANSWERS[language])
    text, links = parse_html(rendered)  # Telegram's parser accepts it
    assert "&lt;" in rendered and "&amp; " in rendered
    assert f"<b>{LABELS[language]}:</b>" in rendered
    assert f"{TITLES[language]}</a></i> · {DATES[language]}" in rendered
    assert links == ["https://thanecity.gov.in/news?a=1&b=2"]
    assert "https://" not in text  # the bare address became the title's link
    assert "<" in text and "&" in text  # the citizen sees the original characters


OFFERS = {
    "mr": "मला खात्री नाही की … यापैकी कशाबद्दल?\n1. ठाणे <आणि> जपान करार (2026-11-29)\n"
    "2. Birth certificate & fees (2026-01-05)",
    "en": "I'm not sure … one of them?\n1. Thane <and> Japan agreement (2026-11-29)\n"
    "2. Birth certificate & fees (2026-01-05)",
}
OFFERED_LINES = {
    "mr": (
        "1. ठाणे <आणि> जपान करार · २९ नोव्हेंबर २०२६",
        "2. Birth certificate & fees · ५ जानेवारी २०२६",
    ),
    "en": (
        "1. Thane <and> Japan agreement · 29 November 2026",
        "2. Birth certificate & fees · 5 January 2026",
    ),
}


@pytest.mark.parametrize("language", ["mr", "en"])
def test_offered_articles_are_listed_with_written_out_dates(language: str) -> None:
    (reply,) = read_replies(
        [
            {"text": OFFERS[language], "buttons": [{"title": "x", "payload": "/choose_article"}]},
            {"custom": {"samvad": {"language": language, "suggestions": ["a", "b"]}}},
        ]
    )
    assert reply.facts is not None and reply.facts.suggestions == ("a", "b")
    rendered = render_html(reply.text, reply.facts)
    assert "<i>" in rendered and "&lt;" in rendered
    text, _ = parse_html(rendered)
    assert text.splitlines()[1:] == list(OFFERED_LINES[language])


def test_numbered_lines_stay_as_typed_without_offers() -> None:
    text = "Steps:\n1. Pay the fee (2026-01-05)"
    assert render_html(text) == escape(text)


def test_text_that_looks_like_markup_stays_text() -> None:
    hostile = '<a href="javascript:alert(1)">click</a> <b>bold</b> & <script>'
    rendered = render_html(hostile)
    text, links = parse_html(rendered)
    assert text == hostile and links == []


def test_source_without_address_is_not_a_link() -> None:
    rendered = render_html("Answer.\n\nSource: Title (2026-11-29)")
    assert "<a " not in rendered and "<i>Title</i>" in rendered


@pytest.mark.parametrize(
    ("sentence", "end"),
    [("पाणीपुरवठा शनिवारी बंद राहील। ", "।"), ("Water supply will be shut on Saturday. ", ".")],
    ids=["marathi", "english"],
)
def test_long_text_is_split_at_sentence_ends(sentence: str, end: str) -> None:
    text = sentence * 300
    parts = split_text(text, limit=4096)
    assert len(parts) >= 2
    assert all(utf16_len(p) <= 4096 for p in parts)
    assert all(p.endswith(end) for p in parts)
    assert " ".join(parts) == text.strip()


@pytest.mark.parametrize("mark", ["?", "!", "॥"])
def test_questions_and_exclamations_end_sentences_too(mark: str) -> None:
    text = f"Is the office open{mark} " * 50
    parts = split_text(text, limit=100)
    assert all(p.endswith(mark) for p in parts)


def test_an_overlong_sentence_is_cut_after_a_clause_or_between_words() -> None:
    clauses = ", ".join(f"stop {i} near the old temple" for i in range(300)) + "."
    parts = split_text(clauses, limit=1000)
    assert all(utf16_len(p) <= 1000 for p in parts)
    assert all(p.endswith(",") for p in parts[:-1])
    words = "शब्द " * 1000
    cut = split_text(words, limit=999)
    assert all(p.split() == ["शब्द"] * len(p.split()) for p in cut)  # no word cut in half


def test_emoji_count_double_against_the_limit() -> None:
    parts = split_text("👍 " * 3000, limit=4096)
    assert all(utf16_len(p) <= 4096 for p in parts)
    assert max(len(p) for p in parts) < 4096


def test_short_text_is_one_part_and_empty_text_none() -> None:
    assert split_text("  नमस्कार  ") == ["नमस्कार"]
    assert split_text("   ") == []


def test_rasa_messages_become_parts_with_buttons_on_the_last() -> None:
    long_answer = "Thane water notice. " * 400 + "\n\nSource: Water notice (2026-11-29)"
    messages: list[dict[str, Any]] = [
        {
            "recipient_id": "tg-1",
            "text": long_answer,
            "buttons": [
                {"title": "Read more", "payload": "/more"},
                {"title": "👍 Helpful", "payload": '/feedback{"helpful":true}'},
                {"title": "👎 Not helpful", "payload": '/feedback{"helpful":false}'},
            ],
        },
        {"recipient_id": "tg-1", "custom": {"samvad": {"language": "en", "sources": []}}},
    ]
    parts, language = render_replies(messages)
    assert language == "en"
    assert len(parts) == 2
    assert parts[0].rows == ()
    assert [[b.payload for b in row] for row in parts[1].rows] == [
        ["/more"],
        ['/feedback{"helpful":true}', '/feedback{"helpful":false}'],
    ]
    for part in parts:
        text, _ = parse_html(part.html)
        assert utf16_len(text) <= 4096


def test_custom_json_attaches_to_the_text_before_it() -> None:
    replies = read_replies(
        [
            {"text": "उत्तर."},
            {"custom": {"samvad": {"language": "mr", "abstained": True, "sources": []}}},
            {"custom": {"other": 1}},
        ]
    )
    assert len(replies) == 1
    assert replies[0].facts is not None and replies[0].facts.abstained
    assert replies[0].language == "mr"


@pytest.mark.parametrize(
    ("text", "language"),
    [("नमस्कार! मी संवाद", "mr"), ("Hello! I am Samvad", "en"), ("नमस्कार Hello", None)],
)
def test_reply_language_from_its_script(text: str, language: str | None) -> None:
    assert script_language(text) == language


def test_long_payloads_are_kept_server_side() -> None:
    store = PayloadStore(capacity=2)
    short = '/choose_language{"language":"mr"}'
    long = '/feedback{"helpful":true,"note":"' + "x" * 80 + '"}'
    assert store.callback_data(short) == short
    key = store.callback_data(long)
    assert len(key.encode()) <= CALLBACK_DATA_LIMIT
    assert store.payload(key) == long
    store.callback_data(long + "1")
    store.callback_data(long + "2")
    assert store.payload(key) is None  # forgotten past capacity: the bot says "expired"
    markup = keyboard(button_rows([Button("👍", payload=long)]), store)
    assert markup is not None
    data = markup.inline_keyboard[0][0].callback_data
    assert isinstance(data, str) and len(data.encode()) <= CALLBACK_DATA_LIMIT


def test_url_buttons_open_the_address() -> None:
    replies = read_replies(
        [{"text": "x", "buttons": [{"title": "Open", "payload": "https://thanecity.gov.in/"}]}]
    )
    markup = keyboard(button_rows(replies[0].buttons), PayloadStore())
    assert markup is not None and markup.inline_keyboard[0][0].url == "https://thanecity.gov.in/"


def test_escape_leaves_quotes() -> None:
    assert escape('a < b & "c"') == 'a &lt; b &amp; "c"'
