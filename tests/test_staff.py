"""Staff workflow pieces without Telegram: saving an article safely, the audit log, settings,
the /stats text, and the supervisor's watcher health check."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.staff import ArticleRejected, command_body, format_stats, save_article
from bot.supervisor import WATCHER_READY, log_check, watcher_command
from samvad.audit import AuditLog
from samvad.question_log import QuestionLog
from samvad.settings import Settings, SettingsError

ARTICLES = {
    "mr": "---\nid: ward-office-hours\nlang: mr\ntitle: प्रभाग कार्यालयाच्या वेळा\n"
    "date: 2026-05-01\n---\nप्रभाग कार्यालये सकाळी दहा ते संध्याकाळी सहा या वेळेत उघडी असतात.\n",
    "en": "---\nid: ward-office-hours\nlang: en\ntitle: Ward office hours\n"
    "date: 2026-05-01\n---\nWard offices are open from ten in the morning to six in the evening.\n",
}


def files(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden ones too) with its content."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


@pytest.fixture
def knowledge(tmp_path: Path) -> Path:
    folder = tmp_path / "knowledge"
    folder.mkdir()
    return folder


@pytest.mark.parametrize("lang", ["mr", "en"])
@pytest.mark.parametrize(
    "sent_as", ["../../etc/passwd.md", "notes.md", "/tmp/x/../../y.md", "message"]
)
def test_saved_under_id_and_lang_never_the_senders_name(
    knowledge: Path, lang: str, sent_as: str
) -> None:
    saved = save_article(knowledge, ARTICLES[lang].encode(), sent_as, replace=False)
    assert saved.path == Path(f"ward-office-hours.{lang}.md")
    assert (saved.article.lang, saved.replaced) == (lang, False)
    assert files(knowledge) == {f"ward-office-hours.{lang}.md": ARTICLES[lang].encode()}


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("no front matter\n", 1, "must start with a '---' line"),
        ("---\nid: Bad Id\nlang: en\ntitle: T\ndate: 2026-01-01\n---\nText.\n", 2, "id 'Bad Id'"),
        ("---\nid: ok-id\nlang: hi\ntitle: T\ndate: 2026-01-01\n---\nText.\n", 3, "lang 'hi'"),
        ("---\nid: ok-id\nlang: mr\ntitle: शीर्षक\ndate: 2026-02-30\n---\nमजकूर.\n", 5, "date"),
        ("---\nid: ../../x\nlang: en\ntitle: T\ndate: 2026-01-01\n---\nText.\n", 2, "id '../../x'"),
    ],
    ids=["no-front-matter", "bad-id", "bad-lang", "impossible-date-mr", "path-in-id"],
)
def test_malformed_article_is_rejected_with_file_line_reason_and_nothing_saved(
    knowledge: Path, text: str, line: int, reason: str
) -> None:
    before = files(knowledge)
    with pytest.raises(ArticleRejected) as rejected:
        save_article(knowledge, text.encode(), "../bad.md", replace=False)
    (error,) = rejected.value.errors
    assert error.startswith(f"bad.md:{line}: ") and reason in error
    assert rejected.value.exists is None
    assert files(knowledge) == before


def test_overwrite_needs_replace(knowledge: Path) -> None:
    save_article(knowledge, ARTICLES["en"].encode(), "a.md", replace=False)
    edited = ARTICLES["en"].replace("six in the evening", "seven in the evening").encode()
    with pytest.raises(ArticleRejected) as refused:
        save_article(knowledge, edited, "b.md", replace=False)
    assert refused.value.exists == "ward-office-hours.en.md"
    assert (knowledge / "ward-office-hours.en.md").read_text() == ARTICLES["en"]
    saved = save_article(knowledge, edited, "b.md", replace=True)
    assert saved.replaced and (knowledge / "ward-office-hours.en.md").read_bytes() == edited
    assert [p.name for p in knowledge.iterdir()] == ["ward-office-hours.en.md"]  # no temp left


def test_same_content_again_is_unchanged_not_refused(knowledge: Path) -> None:
    save_article(knowledge, ARTICLES["mr"].encode(), "a.md", replace=False)
    again = save_article(knowledge, ARTICLES["mr"].encode(), "a.md", replace=False)
    assert again.unchanged and not again.replaced


def test_replace_writes_to_the_existing_file_of_the_same_article(knowledge: Path) -> None:
    (knowledge / "water").mkdir()
    (knowledge / "water" / "hours.md").write_text(ARTICLES["en"], encoding="utf-8")
    edited = ARTICLES["en"].replace("ten in the morning", "nine in the morning").encode()
    with pytest.raises(ArticleRejected):
        save_article(knowledge, edited, "x.md", replace=False)
    saved = save_article(knowledge, edited, "x.md", replace=True)
    assert saved.path == Path("water/hours.md")
    assert set(files(knowledge)) == {"water/hours.md"}


def test_audit_rows_keep_time_staff_and_action(tmp_path: Path) -> None:
    QuestionLog(tmp_path)  # same database file as the question log
    audit = AuditLog(tmp_path)
    audit.record(5001, "add", "ward-office-hours.mr.md", "ok", "प्रभाग कार्यालयाच्या वेळा (mr)")
    audit.record(5002, "reload", outcome="failed", detail="no model")
    newest, oldest = audit.entries()
    assert (newest.staff_id, newest.action, newest.outcome) == (5002, "reload", "failed")
    assert (oldest.staff_id, oldest.action, oldest.target) == (
        5001,
        "add",
        "ward-office-hours.mr.md",
    )
    assert oldest.at.endswith("+00:00")
    assert audit.path == tmp_path / "samvad.db"


@pytest.mark.parametrize(
    ("raw", "ids"), [("", frozenset()), ("5001", {5001}), (" 5001, 5002 ,", {5001, 5002})]
)
def test_staff_ids_from_settings(raw: str, ids: frozenset[int]) -> None:
    assert Settings.from_env({"SAMVAD_STAFF_IDS": raw}).staff_ids == ids


def test_staff_ids_must_be_numbers() -> None:
    with pytest.raises(SettingsError, match="SAMVAD_STAFF_IDS"):
        Settings.from_env({"SAMVAD_STAFF_IDS": "5001,@ramesh"})


@pytest.mark.parametrize(
    ("text", "body"),
    [
        ("/add\n---\nid: x", "---\nid: x"),
        ("/add@samvad_test_bot ---\nid: x", "---\nid: x"),
        ("/replace\n\n---\nid: x\n", "---\nid: x"),
        ("/add", ""),
    ],
)
def test_command_body_keeps_the_article_lines(text: str, body: str) -> None:
    assert command_body(text) == body


def test_stats_text_counts_by_language_and_feedback(tmp_path: Path) -> None:
    log = QuestionLog(tmp_path, salt="s")
    log.record_question("पाणी कधी येईल?", "mr", 0.1, answered=False)
    log.record_question("जपान करार काय?", "mr", 0.9, answered=True)
    log.record_question("When is the water cut?", "en", 0.1, answered=False)
    log.record_feedback("जपान करार काय?", ["a"], helpful=True)
    text = format_stats(log.stats(1), log.stats(7))
    assert "गेले २४ तास / Last 24 hours: 3" in text and "गेले ७ दिवस / Last 7 days: 3" in text
    assert "mr: 2 — ✅ 1 answered / उत्तर दिले, 🤷 1 don't know / माहीत नाही" in text
    assert "en: 1 — ✅ 0 answered" in text and "👍 1  👎 0" in text


def test_watcher_is_healthy_only_after_a_new_watching_line(tmp_path: Path) -> None:
    log = tmp_path / "watcher.log"
    log.write_text(f"{WATCHER_READY} knowledge (from the previous run)\n")
    check = log_check(log, WATCHER_READY)

    async def healthy() -> bool:
        return await check()

    assert not asyncio.run(healthy())
    with log.open("a") as handle:
        handle.write("[10:00:00] 0 added, 0 updated\nWatching knowledge (Ctrl-C to stop)\n")
    assert asyncio.run(healthy())
    assert watcher_command()[-1] == "watch"


@pytest.mark.model  # the watcher process indexes with the embedding model
def test_supervisor_watcher_service_becomes_healthy_and_stops(
    tmp_path: Path, knowledge: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.supervisor import watcher_service

    (knowledge / "ward-office-hours.en.md").write_text(ARTICLES["en"], encoding="utf-8")
    monkeypatch.setenv("SAMVAD_KNOWLEDGE_DIR", str(knowledge))
    monkeypatch.setenv("SAMVAD_INDEX_DIR", str(tmp_path / "index"))

    async def run() -> int | None:
        service = watcher_service(tmp_path / "log", None)
        await service.start()
        try:
            await service.wait_healthy(240.0)
        finally:
            code = await service.stop()
        return code

    assert asyncio.run(run()) == 0
    log = (tmp_path / "log" / "watcher.log").read_text(encoding="utf-8")
    assert "1 added" in log and f"Watching {knowledge}" in log
