"""End to end: the real action server and the real Rasa server, talking over the REST channel.

Starts ``.venv/bin/python -m rasa_sdk --actions actions`` (engine + model + an index built from
``knowledge/`` into a temporary folder) and ``.venv-rasa/bin/rasa run`` with the trained model
(``scripts/rasa_train.py`` trains it first if it is out of date), both on free loopback ports,
with a temporary SQLite tracker store. Then it chats: Marathi, English and romanized Marathi
questions must come back from the right article in the right language, small talk must not touch
retrieval, and a restarted Rasa server must remember the chosen language.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import urllib.error
from collections.abc import Iterator
from pathlib import Path

import pytest

from samvad import script_language
from tests.servers import (
    RasaReply,
    RasaStack,
    answer_facts,
    build_index,
    http_ok,
    reply_texts,
    say_to_rasa,
)

ROOT = Path(__file__).resolve().parent.parent
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
JAPAN_ARTICLE = "tmc-japan-mlit-smart-city-agreement"
# This module's Rasa runs with SAMVAD_RASA_TOKEN set, as a deployment that exposes Rasa would.
TOKEN = "rasa-token-for-tests-7f3a"

pytestmark = pytest.mark.slow


def payloads(reply: RasaReply) -> list[str]:
    return [b["payload"] for m in reply for b in m.get("buttons", [])]


@pytest.fixture(scope="module")
def rasa_model() -> Path:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "rasa_train.py")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    model = Path(result.stdout.strip().splitlines()[-1])
    assert model.is_file()
    return model


def rasa_command(*args: str, workdir: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(RASA), *args],
        cwd=workdir or ROOT,
        env=dict(os.environ, RASA_TELEMETRY_ENABLED="false"),
        capture_output=True,
        text=True,
        check=False,
    )


def test_training_data_validates_without_warnings() -> None:
    result = rasa_command("data", "validate", "--fail-on-warnings")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_rasa_test_stories_pass_in_both_languages(rasa_model: Path, tmp_path: Path) -> None:
    result = rasa_command(
        "test", "core", "--stories", str(ROOT / "tests" / "rasa"), "--model", str(rasa_model),
        "--out", str(tmp_path), "--fail-on-prediction-errors", "--no-plot",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads((tmp_path / "story_report.json").read_text(encoding="utf-8"))
    assert report["conversation_accuracy"]["accuracy"] == 1.0


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_index(ROOT / "knowledge", tmp_path_factory.mktemp("index"))


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory, rasa_model: Path, index_dir: Path
) -> Iterator[RasaStack]:
    running = RasaStack(tmp_path_factory.mktemp("rasa"), index_dir, rasa_model, token=TOKEN)
    try:
        running.start()
        yield running
    finally:
        running.stop()


@pytest.mark.parametrize(
    ("question", "language"),
    [
        ("जपानच्या मंत्रालयासोबत ठाणे महापालिकेने कोणत्या क्षेत्रात सहकार्य करार केला?", "mr"),
        ("What did Thane Municipal Corporation agree with the Japanese ministry?", "en"),
        ("japan chya mantralaya barobar thane mahapalikecha karar kashasathi aahe?", "mr"),
    ],
    ids=["marathi", "english", "romanized"],
)
def test_question_is_answered_from_the_right_article(
    stack: RasaStack, question: str, language: str
) -> None:
    reply = stack.say(f"asker-{language}-{len(question)}", question)
    facts = answer_facts(reply)
    assert facts["outcome"] == "answered"
    assert facts["language"] == language
    assert facts["citation"]["article_id"] == JAPAN_ARTICLE
    assert facts["citation"]["language"] == language
    assert '/feedback{"helpful":true}' in payloads(reply)


@pytest.mark.parametrize(
    ("greeting", "expected"),
    [("नमस्कार", "नमस्कार! मी संवाद"), ("Hello, how are you?", "Hello! I am Samvad")],
    ids=["marathi", "english"],
)
def test_small_talk_in_the_right_language_without_retrieval(
    stack: RasaStack, greeting: str, expected: str
) -> None:
    reply = stack.say(f"greeter-{greeting}", greeting)
    assert reply_texts(reply).startswith(expected)
    assert not any("custom" in m for m in reply)


def test_language_buttons_arrive_with_their_payloads(stack: RasaStack) -> None:
    reply = stack.say("undecided", "change language")
    assert payloads(reply) == [
        '/choose_language{"language":"mr"}',
        '/choose_language{"language":"en"}',
    ]


def test_gibberish_is_not_answered_confidently(stack: RasaStack) -> None:
    reply = stack.say("typist", "asdfgh qwerty")
    facts = answer_facts(reply)
    assert facts["outcome"] == "refused"
    assert payloads(reply) == []


# Not covered by the seed article, though close enough that the engine is unsure: it offers
# the article rather than answering.
UNSURE_QUESTION = "Is there free wifi in Thane city?"


@pytest.mark.parametrize("pick", ["article", "none"])
def test_unsure_question_offers_the_article_and_the_pick_is_answered(
    stack: RasaStack, pick: str
) -> None:
    sender = f"unsure-{pick}"
    offer = stack.say(sender, UNSURE_QUESTION)
    facts = answer_facts(offer)
    assert facts["outcome"] == "offered"
    assert [o["article_id"] for o in facts["offers"]] == [JAPAN_ARTICLE]
    buttons = payloads(offer)
    assert buttons == [f'/choose_article{{"article_id": "{JAPAN_ARTICLE}"}}', "/choose_article"]
    picked = stack.say(sender, buttons[0] if pick == "article" else buttons[1])
    facts = answer_facts(picked)
    if pick == "article":
        assert facts["outcome"] == "answered" and facts["language"] == "en"
        assert facts["citation"]["article_id"] == JAPAN_ARTICLE
        assert '/feedback{"helpful":true}' in payloads(picked)
    else:
        assert (facts["outcome"], facts["language"]) == ("refused", "en")
        assert payloads(picked) == []
    with sqlite3.connect(stack.data_dir / "samvad.db") as db:
        logged = db.execute(
            "SELECT answered, article_ids FROM questions WHERE question = ?", (UNSURE_QUESTION,)
        ).fetchall()
        picks = db.execute(
            "SELECT article_id FROM picks WHERE question = ?", (UNSURE_QUESTION,)
        ).fetchall()
    assert (0, JAPAN_ARTICLE) in logged and all(answered == 0 for answered, _ in logged)
    assert ((JAPAN_ARTICLE if pick == "article" else ""),) in picks


def test_none_of_these_typed_in_marathi_is_understood(stack: RasaStack) -> None:
    sender = "typed-none"
    offers = answer_facts(stack.say(sender, UNSURE_QUESTION))["offers"]
    assert [o["article_id"] for o in offers] == [JAPAN_ARTICLE]
    reply = stack.say(sender, "यापैकी काहीही नाही")
    assert answer_facts(reply)["outcome"] == "refused" and payloads(reply) == []


def test_more_and_feedback_after_an_answer(stack: RasaStack) -> None:
    sender = "reader"
    first = answer_facts(stack.say(sender, "Who attended the agreement ceremony in Japan?"))
    assert first["outcome"] == "answered"
    more = stack.say(sender, "/more")
    assert reply_texts(more)
    feedback = stack.say(sender, '/feedback{"helpful":true}')
    assert reply_texts(feedback).startswith("Thank you for the feedback")
    with sqlite3.connect(stack.data_dir / "samvad.db") as db:
        (count,) = db.execute("SELECT COUNT(*) FROM feedback").fetchone()
    assert count >= 1


def test_restart_keeps_the_chosen_language(stack: RasaStack) -> None:
    sender = "returning-citizen"
    chosen = stack.say(sender, '/choose_language{"language":"mr"}')
    assert reply_texts(chosen).startswith("ठीक आहे, आता मी मराठीत")
    stack.rasa.stop()
    stack.rasa.start()
    # An English greeting would get English; the stored choice keeps it Marathi.
    assert reply_texts(stack.say(sender, "Hello, how are you?")).startswith("नमस्कार! मी संवाद")


def reply_language(reply: RasaReply) -> str | None:
    """The language of a reply: its answer's, else the script of its text."""
    facts = [m["custom"]["samvad"] for m in reply if "samvad" in m.get("custom", {})]
    if facts:
        language: str = facts[0]["language"]
        return language
    return script_language(reply_texts(reply))


def test_language_switches_with_the_message_until_the_citizen_chooses(stack: RasaStack) -> None:
    """Marathi question → Marathi answer; English out-of-scope message → English refusal;
    the Marathi button → Marathi from then on, even to English text."""
    sender = "switching-citizen"
    marathi = stack.say(sender, "जपानच्या मंत्रालयासोबत ठाणे महापालिकेने कोणता करार केला?")
    assert answer_facts(marathi)["outcome"] == "answered"
    assert reply_language(marathi) == "mr"
    petrol = stack.say(sender, "What is the price of petrol in Delhi?")
    assert reply_language(petrol) == "en"
    assert not any(m.get("custom", {}).get("samvad", {}).get("outcome") == "answered"
                   for m in petrol)  # fmt: skip
    chosen = stack.say(sender, '/choose_language{"language":"mr"}')
    assert reply_language(chosen) == "mr"
    english = stack.say(sender, "What did Thane Municipal Corporation agree with Japan?")
    facts = answer_facts(english)
    assert (facts["outcome"], facts["language"]) == ("answered", "mr")
    assert facts["citation"]["language"] == "mr"
    assert reply_language(stack.say(sender, "What is the price of petrol in Delhi?")) == "mr"


@pytest.mark.parametrize("token", [None, "wrong-token"], ids=["no-token", "wrong-token"])
def test_with_a_token_set_rasa_refuses_messages_without_it(
    stack: RasaStack, token: str | None
) -> None:
    with pytest.raises(urllib.error.HTTPError) as refused:
        say_to_rasa(stack.url, "intruder", "What did Thane agree with Japan?", 30, token)
    assert refused.value.code == 401
    with sqlite3.connect(stack.workdir / "tracker.db") as db:
        (events,) = db.execute(
            "SELECT COUNT(*) FROM events WHERE sender_id = 'intruder'"
        ).fetchone()
    assert events == 0  # nothing was processed
    assert http_ok(f"{stack.url}/webhooks/rest/")  # the health check stays open
