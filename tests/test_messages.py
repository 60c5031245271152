"""The message catalogue: the same keys in both languages, plain text, dates written out."""

from __future__ import annotations

from string import Formatter

import pytest

from samvad import LANGUAGES, Lang
from samvad.messages import (
    COMMANDS,
    EN,
    LANGUAGE_BUTTONS,
    LANGUAGE_PROMPT,
    MR,
    both,
    say,
    text,
    written_date,
)

CATALOGUE_TEXTS = [
    pytest.param(lang, key, id=f"{lang}-{key}") for lang in LANGUAGES for key in sorted(MR)
]
MARKUP = ("<b>", "<i>", "<a ", "</")
# The placeholders the code fills in, by key; every other text has none.
PLACEHOLDERS = {
    "refused": {"helpline"},
    "privacy": {"days"},
    "forget_done": {"count"},
    "message_cut": {"limit"},
}


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(template) if name is not None}


def test_both_catalogues_have_the_same_keys() -> None:
    assert sorted(MR) == sorted(EN)


@pytest.mark.parametrize(("lang", "key"), CATALOGUE_TEXTS)
def test_catalogue_texts_are_plain_text(lang: Lang, key: str) -> None:
    said = text(key, lang)
    assert said.strip() == said and said
    assert [mark for mark in MARKUP if mark in said] == []


@pytest.mark.parametrize(("lang", "key"), CATALOGUE_TEXTS)
def test_placeholders_are_the_ones_the_code_fills(lang: Lang, key: str) -> None:
    assert placeholders(text(key, lang)) == PLACEHOLDERS.get(key, set())


@pytest.mark.parametrize("lang", ["mr", "en"])
def test_the_refusal_has_a_place_for_the_helpline(lang: Lang) -> None:
    assert "{helpline}" in text("refused", lang)
    filled = text("refused", lang).format(helpline=text("helpline", lang))
    assert text("helpline", lang) in filled and "{" not in filled


def test_prompts_buttons_and_commands_are_plain_text_in_both_languages() -> None:
    shown = [LANGUAGE_PROMPT, *(title for title, _ in LANGUAGE_BUTTONS)]
    shown += [described for names in COMMANDS.values() for described in names.values()]
    assert [s for s in shown if any(mark in s for mark in MARKUP)] == []
    assert all(sorted(names) == sorted(LANGUAGES) for names in COMMANDS.values())
    for (_, payload), lang in zip(LANGUAGE_BUTTONS, LANGUAGES, strict=True):
        assert payload.endswith(f'{{"language":"{lang}"}}')


def test_an_unknown_key_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        text("no-such-text", "en")


@pytest.mark.parametrize("lang", ["mr", "en"])
def test_say_is_the_language_or_both_marathi_first(lang: Lang) -> None:
    assert say("goodbye", lang) == text("goodbye", lang)
    assert say("goodbye", None) == both("goodbye") == f"{MR['goodbye']}\n\n{EN['goodbye']}"
    assert both("goodbye", " / ") == f"{MR['goodbye']} / {EN['goodbye']}"


@pytest.mark.parametrize(
    ("iso", "lang", "written"),
    [
        ("2026-11-29", "mr", "२९ नोव्हेंबर २०२६"),
        ("2026-11-29", "en", "29 November 2026"),
        ("2026-01-05", "mr", "५ जानेवारी २०२६"),
        ("2026-01-05", "en", "5 January 2026"),
        ("2026-05-31", "mr", "३१ मे २०२६"),
        ("2026-12-01", "en", "1 December 2026"),
        (" 2026-11-29 ", "en", "29 November 2026"),
        ("2026-13-05", "en", "2026-13-05"),
        ("2026-02-31", "en", "2026-02-31"),
        ("2028-02-29", "mr", "२९ फेब्रुवारी २०२८"),
        ("2026-00-05", "mr", "2026-00-05"),
        ("2026-11-00", "en", "2026-11-00"),
        ("2026-11-32", "mr", "2026-11-32"),
        ("29-11-2026", "en", "29-11-2026"),
        ("2026-1-5", "en", "2026-1-5"),
        ("soon", "mr", "soon"),
        ("", "en", ""),
    ],
)
def test_dates_are_written_out_in_the_language(iso: str, lang: Lang, written: str) -> None:
    assert written_date(iso, lang) == written
