"""Rendering the engine's answers for Telegram: from the structure, escaped, split, with buttons.

Every label and sentence Samvad says is taken from the catalogue (``samvad.messages``), and
every date from :func:`samvad.written_date`, so renaming a text there changes no test here.
"""

from __future__ import annotations

import dataclasses
import unicodedata
from collections.abc import Callable
from typing import Any

import pytest

from bot.render import (
    CALLBACK_DATA_LIMIT,
    TELEGRAM_TEXT_LIMIT,
    Button,
    Outgoing,
    PayloadStore,
    Reply,
    button_rows,
    escape,
    keyboard,
    read_replies,
    render_replies,
    render_reply,
    split_text,
    utf16_len,
)
from samvad import (
    Answer,
    Citation,
    Continuation,
    Lang,
    Offer,
    Signals,
    plain_text,
    text,
    to_json,
    written_date,
)
from samvad import messages as catalogue
from tests.emulator.server import parse_html

LANGS = pytest.mark.parametrize("lang", ["mr", "en"])
URL = "https://thanecity.gov.in/news?a=1&b=2"
DATE = "2026-11-29"
SENTENCES: dict[Lang, tuple[str, ...]] = {
    "mr": ("ठाणे महापालिकेने जपानसोबत करार केला.", "<हा> भाग & महत्त्वाचा।"),
    "en": ("Thane signed an agreement with Japan.", "<This> part & matters."),
}
TITLES: dict[Lang, str] = {
    "mr": "ठाणे महानगरपालिका आणि जपान करार",
    "en": "Thane and Japan agreement",
}
OFFERS: dict[Lang, tuple[Offer, ...]] = {
    "mr": (
        Offer("tmc-japan", "ठाणे <आणि> जपान करार", "mr", DATE),
        Offer("birth-cert", "Birth certificate & fees", "en", "2026-01-05"),
    ),
    "en": (
        Offer("tmc-japan", "Thane <and> Japan agreement", "en", DATE),
        Offer("birth-cert", "Birth certificate & fees", "en", "2026-01-05"),
    ),
}


def answered(lang: Lang, url: str | None = URL, other_language: bool = False) -> Answer:
    cited_in: Lang = ("en" if lang == "mr" else "mr") if other_language else lang
    citation = Citation("tmc-japan", TITLES[lang], cited_in, DATE, url, other_language)
    return Answer(
        "answered",
        lang,
        "Japan agreement?",
        SENTENCES[lang],
        citation,
        signals=Signals(0.91, 0.4),
        continuation=Continuation("tmc-japan@1", 2),
    )


def offered(lang: Lang) -> Answer:
    return Answer("offered", lang, "Japan?", offers=OFFERS[lang], signals=Signals(0.82, 0.19))


def refused(lang: Lang, helpline: str | None = None) -> Answer:
    return Answer("refused", lang, "Where is the zoo?", signals=Signals(0.6), helpline=helpline)


def visible(part: Outgoing) -> tuple[str, list[str]]:
    """What the citizen sees of a part, checked the way Telegram checks HTML."""
    return parse_html(part.html)


def source_line(lang: Lang, title: str, date: str = DATE) -> str:
    return f"📄 {text('source', lang)}: {title} · {written_date(date, lang)}"


def rendered(answer: Answer) -> list[Outgoing]:
    return render_reply(Reply(plain_text(answer), [], answer))


# --- answers rendered from the structure --------------------------------------------------------


@LANGS
def test_answer_sentences_are_escaped_and_the_source_line_linked(lang: Lang) -> None:
    (part,) = rendered(answered(lang))
    seen, links = visible(part)
    assert "&lt;" in part.html and "&amp; " in part.html
    assert f"<b>{text('source', lang)}:</b>" in part.html
    assert f"{TITLES[lang]}</a></i> · {written_date(DATE, lang)}" in part.html
    assert links == [URL]
    assert seen == " ".join(SENTENCES[lang]) + "\n\n" + source_line(lang, TITLES[lang])
    assert "https://" not in seen and DATE not in seen


@LANGS
def test_a_source_without_address_is_not_a_link(lang: Lang) -> None:
    (part,) = rendered(answered(lang, url=None))
    seen, links = visible(part)
    assert links == [] and "<a " not in part.html
    assert f"<i>{TITLES[lang]}</i>" in part.html
    assert seen.endswith(source_line(lang, TITLES[lang]))


@LANGS
def test_a_source_address_that_is_not_web_is_not_a_link(lang: Lang) -> None:
    (part,) = rendered(answered(lang, url="javascript:alert(1)"))
    seen, links = visible(part)
    assert links == [] and "javascript" not in seen


@LANGS
def test_an_answer_from_the_other_language_says_so(lang: Lang) -> None:
    (part,) = rendered(answered(lang, other_language=True))
    seen, _ = visible(part)
    assert seen.endswith(source_line(lang, TITLES[lang]) + "\n" + text("other_language_note", lang))
    (own,) = rendered(answered(lang))
    assert text("other_language_note", lang) not in visible(own)[0]


@LANGS
def test_offered_articles_are_listed_with_written_out_dates(lang: Lang) -> None:
    (part,) = rendered(offered(lang))
    seen, links = visible(part)
    assert links == [] and "<i>" in part.html and "&lt;" in part.html
    assert seen.splitlines() == [
        text("offered", lang),
        *(
            f"{n}. {o.title} · {written_date(o.date, lang)}"
            for n, o in enumerate(OFFERS[lang], start=1)
        ),
    ]
    assert text("source", lang) not in seen


@LANGS
def test_a_refusal_carries_the_catalogue_helpline(lang: Lang) -> None:
    (part,) = rendered(refused(lang))
    seen, _ = visible(part)
    assert seen == text("refused", lang).format(helpline=text("helpline", lang))
    assert text("source", lang) not in seen


@LANGS
def test_a_refusal_carries_the_configured_helpline_escaped(lang: Lang) -> None:
    helpline = "Call 1800-222-108 <24h> & ask for ward 5."
    (part,) = rendered(refused(lang, helpline))
    seen, _ = visible(part)
    assert seen == text("refused", lang).format(helpline=helpline)
    assert text("helpline", lang) not in seen and "&lt;24h&gt; &amp;" in part.html


@LANGS
def test_an_empty_question_gets_the_catalogue_prompt(lang: Lang) -> None:
    (part,) = rendered(Answer("empty", lang))
    assert visible(part) == (text("empty", lang), [])


@LANGS
def test_a_renamed_source_label_is_what_citizens_see(
    lang: Lang, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(catalogue.CATALOGUES[lang], "source", "Where this comes from")
    (part,) = rendered(answered(lang))
    assert "<b>Where this comes from:</b>" in part.html


# --- the renderer reads the structure, never the text ---------------------------------------


@LANGS
def test_the_json_is_rendered_not_the_plain_text_beside_it(lang: Lang) -> None:
    label = text("source", lang)
    decoy = f"Something else entirely.\n\n{label}: Fake (2020-01-01)\nhttps://evil.example/"
    parts, language = render_replies(
        [{"text": decoy}, {"custom": {"samvad": to_json(answered(lang))}}]
    )
    assert language == lang
    (part,) = parts
    seen, links = visible(part)
    assert "Something else" not in seen and "Fake" not in seen
    assert links == [URL] and seen.startswith(SENTENCES[lang][0])


@LANGS
def test_an_answer_of_an_unknown_schema_shows_its_plain_text(lang: Lang) -> None:
    answer = answered(lang)
    future = {**to_json(answer), "schema": 99}
    (reply,) = read_replies([{"text": plain_text(answer)}, {"custom": {"samvad": future}}])
    assert reply.answer is None
    parts = render_reply(reply)
    assert [visible(p) for p in parts] == [(plain_text(answer), [])]
    assert "&lt;" in parts[0].html and "<b>" not in parts[0].html


@LANGS
@pytest.mark.parametrize("build", [answered, offered, refused])
def test_raw_rasa_messages_render_like_the_answer(
    lang: Lang, build: Callable[[Lang], Answer]
) -> None:
    answer = build(lang)
    buttons = [{"title": text("button_helpful", lang), "payload": '/feedback{"helpful":true}'}]
    messages: list[dict[str, Any]] = [
        {"recipient_id": "tg-1", "text": plain_text(answer), "buttons": buttons},
        {"recipient_id": "tg-1", "custom": {"samvad": to_json(answer)}},
    ]
    (reply,) = read_replies(messages)
    assert reply.answer == answer and reply.text == plain_text(answer)
    parts, language = render_replies(messages)
    assert language == lang
    assert [p.html for p in parts] == [p.html for p in rendered(answer)]
    assert [[b.payload for b in row] for row in parts[-1].rows] == [['/feedback{"helpful":true}']]


def test_an_answer_without_a_text_before_it_is_still_rendered() -> None:
    parts, language = render_replies([{"custom": {"samvad": to_json(refused("en"))}}])
    assert language == "en" and [visible(p)[0] for p in parts] == [plain_text(refused("en"))]


def test_custom_json_attaches_to_the_text_before_it_and_other_custom_is_ignored() -> None:
    replies = read_replies(
        [
            {"text": text("welcome", "mr")},
            {"text": plain_text(refused("mr"))},
            {"custom": {"samvad": to_json(refused("mr"))}},
            {"custom": {"other": 1}},
        ]
    )
    assert [r.answer for r in replies] == [None, refused("mr")]


# --- small talk and hostile text ------------------------------------------------------------


def test_small_talk_is_escaped_plain_text() -> None:
    (part,) = render_replies([{"text": "Steps:\n1. Pay the fee (2026-01-05) & wait <1 day>"}])[0]
    assert part.html == escape("Steps:\n1. Pay the fee (2026-01-05) & wait <1 day>")


def test_text_that_looks_like_markup_stays_text() -> None:
    hostile = '<a href="javascript:alert(1)">click</a> <b>bold</b> & <script>'
    (part,) = render_replies([{"text": hostile}])[0]
    assert visible(part) == (hostile, [])


@LANGS
def test_hostile_titles_and_sentences_stay_text(lang: Lang) -> None:
    hostile = '<a href="javascript:alert(1)">x</a></i><b>'
    answer = Answer(
        "answered",
        lang,
        sentences=(hostile,),
        citation=Citation("x", hostile, lang, DATE, 'https://x.example/"><b>'),
    )
    (part,) = rendered(answer)
    seen, links = visible(part)
    assert seen == hostile + "\n\n" + source_line(lang, hostile)
    assert links == ['https://x.example/"><b>']


@pytest.mark.parametrize(
    ("said", "language"),
    [("नमस्कार! मी संवाद", "mr"), ("Hello! I am Samvad", "en"), ("नमस्कार Hello", None)],
)
def test_small_talk_language_is_its_script(said: str, language: Lang | None) -> None:
    (reply,) = read_replies([{"text": said}])
    assert reply.language == language
    assert render_replies([{"text": said}])[1] == language


def test_an_answer_language_is_the_answer_not_its_script() -> None:
    (reply,) = read_replies([{"text": "Hello"}, {"custom": {"samvad": to_json(refused("mr"))}}])
    assert reply.language == "mr"


def test_replies_in_two_languages_have_no_single_language() -> None:
    messages = [{"text": text("welcome", "mr")}, {"text": text("welcome", "en")}]
    assert render_replies(messages)[1] is None


# --- long answers ---------------------------------------------------------------------------


MORE_SENTENCE: dict[Lang, str] = {
    "mr": "पाणीपुरवठा शनिवारी सकाळी दहा वाजेपर्यंत बंद राहील।",
    "en": "Water supply will be shut until ten on Saturday morning.",
}


@LANGS
def test_a_long_passage_is_split_with_the_source_on_the_last_part(lang: Lang) -> None:
    sentence = MORE_SENTENCE[lang]
    sentences = (sentence,) * (6000 // (len(sentence) + 1) + 1)
    assert len(" ".join(sentences)) >= 6000
    answer = Answer(
        "answered",
        lang,
        sentences=sentences,
        citation=Citation("water", TITLES[lang], lang, DATE, URL),
        continuation=Continuation("water@1", 3),
        kind="more",
    )
    more = [
        {"title": text("button_more", lang), "payload": "/more"},
        {"title": text("button_helpful", lang), "payload": '/feedback{"helpful":true}'},
        {"title": text("button_not_helpful", lang), "payload": '/feedback{"helpful":false}'},
    ]
    parts, _ = render_replies(
        [{"text": plain_text(answer), "buttons": more}, {"custom": {"samvad": to_json(answer)}}]
    )
    assert len(parts) == 2
    seen = [visible(p) for p in parts]
    assert all(utf16_len(p.html) <= TELEGRAM_TEXT_LIMIT for p in parts)
    assert all(utf16_len(s) <= TELEGRAM_TEXT_LIMIT for s, _ in seen)
    assert seen[0][1] == [] and seen[1][1] == [URL]
    assert text("source", lang) not in seen[0][0]
    assert seen[1][0].endswith(source_line(lang, TITLES[lang]))
    assert all(s.split("\n\n")[0].endswith(sentence[-1]) for s, _ in seen)
    assert parts[0].rows == ()
    assert [[b.payload for b in row] for row in parts[1].rows] == [
        ["/more"],
        ['/feedback{"helpful":true}', '/feedback{"helpful":false}'],
    ]


@LANGS
def test_many_offers_overflow_into_parts_of_their_own(lang: Lang) -> None:
    offers = tuple(Offer(f"a{n}", "Title " * 60, lang, DATE) for n in range(20))
    parts = rendered(Answer("offered", lang, offers=offers))
    assert len(parts) > 1
    seen = [visible(p)[0] for p in parts]
    assert all(utf16_len(p.html) <= TELEGRAM_TEXT_LIMIT for p in parts)
    lines = "\n".join(seen).splitlines()
    assert lines[0] == text("offered", lang) and len(lines) == 21


# --- splitting ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "end"),
    [("पाणीपुरवठा शनिवारी बंद राहील। ", "।"), ("Water supply will be shut on Saturday. ", ".")],
    ids=["mr", "en"],
)
def test_long_text_is_split_at_sentence_ends(sentence: str, end: str) -> None:
    whole = sentence * 300
    parts = split_text(whole, limit=4096)
    assert len(parts) >= 2
    assert all(utf16_len(p) <= 4096 for p in parts)
    assert all(p.endswith(end) for p in parts)
    assert " ".join(parts) == whole.strip()


@pytest.mark.parametrize("mark", ["?", "!", "॥"])
def test_questions_and_exclamations_end_sentences_too(mark: str) -> None:
    parts = split_text(f"Is the office open{mark} " * 50, limit=100)
    assert all(p.endswith(mark) for p in parts)


def test_an_overlong_sentence_is_cut_after_a_clause_or_between_words() -> None:
    clauses = ", ".join(f"stop {i} near the old temple" for i in range(300)) + "."
    parts = split_text(clauses, limit=1000)
    assert all(utf16_len(p) <= 1000 for p in parts)
    assert all(p.endswith(",") for p in parts[:-1])
    cut = split_text("शब्द " * 1000, limit=999)
    assert all(p.split() == ["शब्द"] * len(p.split()) for p in cut)  # no word cut in half


@pytest.mark.parametrize("limit", [30, 31, 33])
def test_a_word_longer_than_the_limit_is_not_cut_before_a_vowel_sign(limit: int) -> None:
    word = "क्षि" * 100  # consonant, virama, consonant, vowel sign
    parts = split_text(word, limit=limit)
    assert "".join(parts) == word
    assert all(utf16_len(p) <= limit for p in parts)
    assert all(unicodedata.category(p[0]) not in ("Mn", "Mc", "Me") for p in parts)


def test_emoji_count_double_against_the_limit() -> None:
    parts = split_text("👍 " * 3000, limit=4096)
    assert all(utf16_len(p) <= 4096 for p in parts)
    assert max(len(p) for p in parts) < 4096
    assert utf16_len("👍") == 2 and utf16_len("क्ष") == 3


def test_short_text_is_one_part_and_empty_text_none() -> None:
    assert split_text("  नमस्कार  ") == ["नमस्कार"]
    assert split_text("   ") == []
    with pytest.raises(ValueError):
        split_text("x", limit=1)


# --- buttons --------------------------------------------------------------------------------


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


def test_a_payload_that_looks_like_a_key_is_kept_too() -> None:
    store = PayloadStore()
    key = store.callback_data("#not-a-key")
    assert key != "#not-a-key" and store.payload(key) == "#not-a-key"


@pytest.mark.parametrize(
    ("titles", "shape"),
    [
        (["a", "b", "c", "d"], [3, 1]),
        (["thirteen char", "b", "c"], [2, 1]),
        (["a title of twenty-one", "b"], [1, 1]),
    ],
)
def test_buttons_are_laid_out_by_their_width(titles: list[str], shape: list[int]) -> None:
    rows = button_rows([Button(t, payload=f"/p{n}") for n, t in enumerate(titles)])
    assert [len(row) for row in rows] == shape


@LANGS
def test_offer_buttons_one_per_row_when_titles_are_long(lang: Lang) -> None:
    buttons = [
        {"title": o.title, "payload": f'/choose_article{{"article_id":"{o.article_id}"}}'}
        for o in OFFERS[lang]
    ] + [{"title": text("button_none_of_these", lang), "payload": "/choose_article"}]
    answer = offered(lang)
    parts, _ = render_replies(
        [{"text": plain_text(answer), "buttons": buttons}, {"custom": {"samvad": to_json(answer)}}]
    )
    assert [[b.title for b in row] for row in parts[-1].rows] == [[b["title"]] for b in buttons]


def test_url_buttons_open_the_address() -> None:
    replies = read_replies(
        [{"text": "x", "buttons": [{"title": "Open", "payload": "https://thanecity.gov.in/"}]}]
    )
    markup = keyboard(button_rows(replies[0].buttons), PayloadStore())
    assert markup is not None and markup.inline_keyboard[0][0].url == "https://thanecity.gov.in/"


def test_buttons_without_title_or_payload_are_dropped_and_lone_buttons_join_the_text() -> None:
    (reply,) = read_replies(
        [
            {"text": "x", "buttons": [{"title": "", "payload": "/a"}, {"title": "B"}, "junk"]},
            {"buttons": [{"title": "C", "payload": "/c"}]},
        ]
    )
    assert reply.buttons == [Button("C", payload="/c")]
    assert keyboard([], PayloadStore()) is None


def test_escape_leaves_quotes() -> None:
    assert escape('a < b & "c"') == 'a &lt; b &amp; "c"'


@pytest.mark.parametrize("lang", ["mr", "en"])
def test_an_overlong_title_is_cut_so_every_part_fits(lang: Lang) -> None:
    long_title = "शीर्षक title " * 500
    answer = answered(lang)
    long = dataclasses.replace(
        answer,
        citation=dataclasses.replace(answer.citation, title=long_title)
        if answer.citation
        else None,
    )
    for part in rendered(long):
        shown, _ = visible(part)
        assert utf16_len(shown) <= TELEGRAM_TEXT_LIMIT
    offers = tuple(dataclasses.replace(o, title=long_title) for o in OFFERS[lang])
    for part in rendered(dataclasses.replace(offered(lang), offers=offers)):
        shown, _ = visible(part)
        assert utf16_len(shown) <= TELEGRAM_TEXT_LIMIT


@pytest.mark.parametrize("lang", ["mr", "en"])
def test_buttons_are_never_lost_with_an_empty_answer(lang: Lang) -> None:
    empty = Answer("answered", lang)
    buttons = [Button("👍", payload='/feedback{"helpful":true}')]
    (part,) = render_reply(Reply("", buttons, empty))
    assert part.rows and parse_html(part.html)[0]
