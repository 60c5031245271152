"""Staff on Telegram, end to end: the real bot (``python -m bot``) against the Bot API emulator,
the real engine and index; no Rasa (staff commands, unknown commands and documents never reach
it), so these start in seconds.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.supervisor import ROOT
from samvad.answers import AnswerEngine
from samvad.audit import AuditLog
from samvad.indexer import build_index
from samvad.model import Embedder
from samvad.question_log import QuestionLog
from samvad.settings import Settings
from tests.emulator import BotApiEmulator, SentMessage
from tests.emulator.limits import LimitedBotApi
from tests.servers import Process, bot_process, free_port

pytestmark = pytest.mark.servers

TOKEN = "7700123456:AAE-samvad-staff-test-token-Q1w2E3r4T5y6U7i8"
STAFF, CITIZEN = 5001, 5002
INDEX_TIMEOUT = 240.0
ARTICLES = {
    "mr": "---\nid: ward-office-hours\nlang: mr\ntitle: प्रभाग कार्यालयाच्या वेळा\n"
    "date: 2026-05-01\n---\nठाणे महापालिकेची प्रभाग कार्यालये दर शनिवारी सकाळी आठ ते दुपारी बारा "
    "या वेळेत नागरिकांसाठी विशेष तक्रार निवारण दिवस भरवतात.\n",
    "en": "---\nid: ward-office-hours\nlang: en\ntitle: Ward office hours\n"
    "date: 2026-05-01\n---\nThane ward offices hold a special grievance day for citizens every "
    "Saturday from eight in the morning to noon.\n",
}
QUESTIONS = {
    "mr": "प्रभाग कार्यालयांचा तक्रार निवारण दिवस कधी असतो?",
    "en": "When do Thane ward offices hold the grievance day?",
}
MALFORMED = (
    "---\nid: ward-office-hours\nlang: en\ntitle: Ward office hours\ndate: 2026-13-01\n---\nX.\n"
)


@dataclass
class Running:
    emulator: LimitedBotApi
    bot: Process
    settings: Settings
    data_dir: Path


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[Running]:
    workdir = tmp_path_factory.mktemp("staff")
    knowledge = workdir / "knowledge"
    knowledge.mkdir()
    for article in (ROOT / "knowledge").glob("*.md"):
        if article.name.lower() != "readme.md":
            shutil.copy(article, knowledge / article.name)
    settings = Settings.from_env().with_paths(knowledge, workdir / "index")
    build_index(settings, embedder)
    data_dir = workdir / "bot-data"  # where tests.servers.bot_process keeps the bot's data
    log = QuestionLog(data_dir, salt="test")
    for question, lang, answered in [
        ("पाणीपट्टी कुठे भरायची?", "mr", False),
        ("पाणीपट्टी कुठे भरायची?", "mr", False),
        ("जपान करार कधी झाला?", "mr", True),
        ("Where do I pay the water bill?", "en", False),
    ]:
        log.record_question(question, lang, 0.2, answered=answered)
    log.record_feedback("जपान करार कधी झाला?", ["x"], helpful=True)
    emulator = LimitedBotApi(TOKEN)  # it takes photos too (/stats sends a chart)
    emulator.start()
    bot = bot_process(
        workdir, TOKEN, emulator.base_url, f"http://127.0.0.1:{free_port()}",
        SAMVAD_KNOWLEDGE_DIR=str(knowledge), SAMVAD_INDEX_DIR=str(settings.index_dir),
        SAMVAD_STAFF_IDS=f"{STAFF}, 9999", SAMVAD_STAFF_CHECK_SECONDS="0.5",
        SAMVAD_USER_SALT="test", SAMVAD_LOG_LEVEL="DEBUG",
    )  # fmt: skip
    try:
        bot.start(timeout=60)
        yield Running(emulator, bot, settings, data_dir)
    finally:
        bot.stop()
        emulator.stop()


class Chat:
    """One private chat, seen from the user's side."""

    def __init__(self, emulator: BotApiEmulator, user_id: int) -> None:
        self.emulator, self.chat_id = emulator, user_id
        self.seen = len(emulator.messages(user_id))

    def _wait(self, count: int, timeout: float) -> list[SentMessage]:
        found = self.emulator.wait_for_messages(self.chat_id, count, self.seen, timeout)
        self.seen += len(found)
        return found

    def command(self, text: str, timeout: float = 30.0) -> SentMessage:
        self.emulator.send_command(self.chat_id, text)
        return self._wait(1, timeout)[0]

    def document(self, name: str, content: str, caption: str | None = None) -> SentMessage:
        self.emulator.send_document(self.chat_id, name, content.encode("utf-8"), caption)
        return self._wait(1, INDEX_TIMEOUT)[0]

    def next_message(self, timeout: float = 30.0) -> SentMessage:
        return self._wait(1, timeout)[0]


@pytest.fixture
def staff(running: Running) -> Chat:
    return Chat(running.emulator, STAFF)


@pytest.fixture
def citizen(running: Running) -> Chat:
    return Chat(running.emulator, CITIZEN)


@pytest.mark.parametrize("command", ["/stats", "/unanswered", "/reload", "/check", "/add"])
def test_citizen_gets_the_ordinary_unknown_command_reply(citizen: Chat, command: str) -> None:
    ordinary = citizen.command("/nosuchcommand").text
    reply = citizen.command(command).text
    assert reply == ordinary
    assert "हा आदेश मला माहीत नाही" in reply and "I don't know that command" in reply
    assert "/stats" not in reply and "/reload" not in reply


def test_citizen_md_file_is_just_a_non_text_message(running: Running, citizen: Chat) -> None:
    before = snapshot(running.settings.knowledge_dir)
    reply = citizen.document("ward.md", ARTICLES["en"], caption="/replace")
    assert "फक्त लिहिलेले संदेश" in reply.text and "I can only read text" in reply.text
    assert snapshot(running.settings.knowledge_dir) == before
    assert running.emulator.calls["getFile"] == 0


def test_staff_stats(running: Running, staff: Chat) -> None:
    text = staff.command("/stats").text
    (chart,) = running.emulator.photos_to(STAFF)
    assert chart.data.startswith(b"\x89PNG\r\n\x1a\n") and "7" in chart.caption
    assert "गेले २४ तास / Last 24 hours: 4" in text and "गेले ७ दिवस / Last 7 days: 4" in text
    assert "mr: 3 — ✅ 1 answered / उत्तर दिले, 🤷 2 don't know / माहीत नाही" in text
    assert "en: 1 — ✅ 0 answered" in text and "👍 1  👎 0" in text


def test_staff_unanswered_most_frequent_first(staff: Chat) -> None:
    lines = staff.command("/unanswered").text.splitlines()
    assert lines[1:] == ["2x  पाणीपट्टी कुठे भरायची?", "1x  Where do I pay the water bill?"]


def test_staff_check(staff: Chat) -> None:
    text = staff.command("/check").text
    assert text.startswith("✅ सर्व लेख बरोबर आहेत / All articles are fine: 2 ✅, 0 ⚠️")


@pytest.mark.parametrize("how", ["document", "add"])
def test_malformed_article_from_staff_is_rejected_and_nothing_changes(
    running: Running, staff: Chat, how: str
) -> None:
    before = snapshot(running.settings.knowledge_dir)
    if how == "document":
        reply = staff.document("../../ward.md", MALFORMED)
        shown = "ward.md"
    else:
        reply = staff.command(f"/add\n{MALFORMED}")
        shown = "message"
    assert "लेख नाकारला" in reply.text and "Article rejected, nothing saved" in reply.text
    assert f"{shown}:5: date '2026-13-01' must be a real date" in reply.text
    assert snapshot(running.settings.knowledge_dir) == before
    last = AuditLog(running.data_dir).entries(1)[0]
    assert (last.staff_id, last.action, last.outcome) == (STAFF, "add", "rejected")


def test_add_saves_indexes_answers_then_refuses_overwrite_without_replace(
    running: Running, staff: Chat, embedder: Embedder
) -> None:
    knowledge = running.settings.knowledge_dir
    reply = staff.command(f"/add\n{ARTICLES['en']}", timeout=INDEX_TIMEOUT)
    assert "लेख जतन केला / Article saved: «Ward office hours» — en" in reply.text
    assert "1 added" in reply.text
    assert (knowledge / "ward-office-hours.en.md").read_text(encoding="utf-8") == ARTICLES["en"]
    reply = staff.document("मराठी लेख.md", ARTICLES["mr"])
    assert "Article saved: «प्रभाग कार्यालयाच्या वेळा» — mr (ward-office-hours.mr.md)" in reply.text
    engine = AnswerEngine(running.settings, embedder, log=None)
    for lang, question in QUESTIONS.items():
        answer = engine.answer(question)
        assert answer.answered and answer.citation is not None
        assert (answer.citation.article_id, answer.citation.language) == ("ward-office-hours", lang)

    edited = ARTICLES["en"].replace("noon", "one in the afternoon")
    before = snapshot(knowledge)
    refused = staff.document("ward.md", edited)
    assert "/replace" in refused.text and "already exists" in refused.text
    assert snapshot(knowledge) == before
    replaced = staff.document("ward.md", edited, caption="/replace")
    assert "लेख बदलला / Article replaced: «Ward office hours» — en" in replaced.text
    assert "1 updated" in replaced.text
    assert (knowledge / "ward-office-hours.en.md").read_text(encoding="utf-8") == edited

    actions = [
        (e.staff_id, e.action, e.target, e.outcome) for e in AuditLog(running.data_dir).entries(4)
    ]
    assert actions == [
        (STAFF, "replace", "ward-office-hours.en.md", "ok"),
        (STAFF, "add", "ward-office-hours.en.md", "refused"),
        (STAFF, "add", "ward-office-hours.mr.md", "ok"),
        (STAFF, "add", "ward-office-hours.en.md", "ok"),
    ]


def test_reload_says_what_changed_and_is_audited(running: Running, staff: Chat) -> None:
    extra = ARTICLES["en"].replace("ward-office-hours", "ward-office-saturday")
    (running.settings.knowledge_dir / "ward-office-saturday.en.md").write_text(extra, "utf-8")
    reply = staff.command("/reload", timeout=INDEX_TIMEOUT)
    assert reply.text.startswith("🔄 अनुक्रमणिका अद्ययावत केली / Index updated:")
    assert "1 added" in reply.text and "ward-office-saturday.en.md" in reply.text
    last = AuditLog(running.data_dir).entries(1)[0]
    assert (last.staff_id, last.action, last.outcome) == (STAFF, "reload", "ok")


def test_staff_are_told_when_a_knowledge_file_fails_validation(
    running: Running, staff: Chat, citizen: Chat
) -> None:
    time.sleep(1.5)  # the bot has seen the current folder
    (running.settings.knowledge_dir / "broken.md").write_text(MALFORMED, encoding="utf-8")
    try:
        note = staff.next_message(timeout=20)
        assert "ज्ञान फाइल तपासणीत चूक" in note.text and "failed validation" in note.text
        assert "broken.md:5: date '2026-13-01'" in note.text
        assert citizen.emulator.messages(CITIZEN)[citizen.seen :] == []
    finally:
        (running.settings.knowledge_dir / "broken.md").unlink()
