"""The staff command line, run in-process with the real model and index."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from samvad.answers import AnswerEngine
from samvad.calibration import FEATURES, DecisionModel, city_calibration_file
from samvad.cli import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, main
from samvad.messages import text as catalogue
from samvad.settings import AGREEMENT_BELOW, Settings
from tests.conftest import REAL_KNOWLEDGE, copy_articles

DEV_QUESTIONS = Path(__file__).parent / "fixtures" / "dev_questions.jsonl"

SEED = "tmc-japan-mlit-smart-city-agreement"


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


@pytest.fixture(scope="module")
def indexed_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real knowledge folder, indexed once with ``samvad index``."""
    root = tmp_path_factory.mktemp("cli")
    copy_articles(REAL_KNOWLEDGE, root / "knowledge")
    code, output = run(
        "index", "--knowledge", str(root / "knowledge"), "--index", str(root / "index")
    )
    assert code == EXIT_OK, output
    assert "2 added" in output
    return root


def folders(root: Path) -> list[str]:
    return ["--knowledge", str(root / "knowledge"), "--index", str(root / "index")]


@pytest.mark.slow
@pytest.mark.parametrize(
    "question",
    [
        "Which Japanese ministry signed an agreement with Thane Municipal Corporation?",
        "ठाणे महानगरपालिकेने जपानसोबत कोणता करार केला?",
    ],
    ids=["english", "marathi"],
)
def test_ask_returns_the_seed_article_first(indexed_folder: Path, question: str) -> None:
    code, output = run("ask", question, "--json", *folders(indexed_folder))
    assert code == EXIT_OK
    record = json.loads(output)
    assert record["passages"][0]["article_id"] == SEED
    assert record["answer"]["citation"]["article_id"] == SEED
    assert record["answer"]["outcome"] == "answered"
    assert record["answer"]["signals"]["agreement"] >= AGREEMENT_BELOW


@pytest.mark.slow
def test_ask_text_shows_the_answer_as_a_citizen_sees_it(indexed_folder: Path) -> None:
    code, output = run("ask", "जपानसोबत करार कोणी केला?", "--top-k", "1", *folders(indexed_folder))
    assert code == EXIT_OK
    assert (
        f"{catalogue('source', 'mr')}:" in output
        and "Best passages" in output
        and "agreement" in output
    )


@pytest.mark.slow
def test_batch_keeps_order_and_passes_other_keys_through(
    indexed_folder: Path, tmp_path: Path
) -> None:
    batch = tmp_path / "questions.jsonl"
    lines = [
        {"question": "Who signed the smart city agreement?", "ref": 1},
        {"question": "स्मार्ट सिटी करार कोणासोबत झाला?", "ref": 2},
        {"question": "asdfgh qwerty", "ref": 3},
    ]
    batch.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines), "utf-8")
    code, output = run("ask", "--batch", str(batch), *folders(indexed_folder))
    assert code == EXIT_OK
    records = [json.loads(line) for line in output.splitlines()]
    assert [r["ref"] for r in records] == [1, 2, 3]
    assert [r["answer"]["language"] for r in records] == ["en", "mr", "en"]
    assert records[2]["answer"]["outcome"] == "refused"


@pytest.mark.slow
def test_index_reports_skipped_files_and_exits_1(indexed_folder: Path, tmp_path: Path) -> None:
    root = tmp_path / "copy"
    shutil.copytree(indexed_folder, root, symlinks=True)
    (root / "knowledge" / "bad.md").write_text("---\nid: bad\nlang: xx\n---\ntext\n", "utf-8")
    code, output = run("index", *folders(root))
    assert code == EXIT_PROBLEMS
    assert "0 added, 0 updated, 0 removed, 2 unchanged, 1 skipped" in output
    assert "skipped bad.md:1: the required field 'title' is missing" in output


@pytest.mark.parametrize(
    ("content", "code", "words"),
    [
        (None, EXIT_OK, "2 articles are fine, 0 files have problems."),
        ("---\ntitle: x\n---\ntext\n", EXIT_PROBLEMS, "bad.md:1: the required field 'id'"),
    ],
    ids=["clean", "broken"],
)
def test_check_validates_without_indexing(
    tmp_path: Path, content: str | None, code: int, words: str
) -> None:
    copy_articles(REAL_KNOWLEDGE, tmp_path)
    if content is not None:
        (tmp_path / "bad.md").write_text(content, "utf-8")
    exit_code, output = run("check", "--knowledge", str(tmp_path))
    assert exit_code == code
    assert words in output
    assert not (tmp_path / "index").exists()


def test_check_validates_the_topics_file_too(tmp_path: Path) -> None:
    copy_articles(REAL_KNOWLEDGE, tmp_path)
    (tmp_path / "topics.yml").write_text("water:\n  mr: पाणी\n", "utf-8")
    exit_code, output = run("check", "--knowledge", str(tmp_path))
    assert exit_code == EXIT_PROBLEMS
    assert "topics.yml:" in output and "topics.yml has problems (listed above)." in output


def test_ask_needs_a_question_or_a_batch(capsys: pytest.CaptureFixture[str]) -> None:
    assert run("ask")[0] == EXIT_USAGE
    assert "give either a QUESTION or --batch FILE" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "lines"),
    [
        (
            ["--csv"],
            [
                "asked_at,language,question,best_score,user_hash,offered_articles,picked_article",
                ",en,When is the bus?,0.820,",
                ",mr,पाणी?,0.500,",
            ],
        ),
        (
            [],
            [
                "When is the bus?  (best score 0.820; offered: tmt-routes, seed; picked: none)",
                "[mr]  पाणी?  (best score 0.500)",
            ],
        ),
    ],
    ids=["csv", "text"],
)
def test_unanswered_shows_the_articles_offered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], lines: list[str]
) -> None:
    from samvad.question_log import QuestionLog

    monkeypatch.setenv("SAMVAD_DATA_DIR", str(tmp_path))
    log = QuestionLog(tmp_path)
    log.record_question("पाणी?", "mr", 0.5, answered=False, user_id="1")
    log.record_question("When is the bus?", "en", 0.82, False, "2", ["tmt-routes", "seed"])
    log.record_pick("When is the bus?", None, "2")
    code, output = run("unanswered", *args)
    assert code == EXIT_OK
    printed = output.splitlines()
    assert len(printed) == len(lines)
    for line, expected in zip(printed, lines, strict=True):
        assert expected in line
    if args:
        assert printed[1].endswith(",tmt-routes seed,none") and printed[2].endswith(",,")


def test_picks_writes_what_citizens_named_as_a_file_eval_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from samvad.evaluation import Case, read_cases
    from samvad.question_log import QuestionLog

    monkeypatch.setenv("SAMVAD_DATA_DIR", str(tmp_path))
    log = QuestionLog(tmp_path)
    log.record_pick("घरपट्टी कधी भरायची?", "property-tax-rebate-2026", "1")
    log.record_pick("Gharpatti kadhi bharaychi?", None, "2")
    log.record_feedback("When is the water cut?", ["water-cut-kopri"], helpful=True, user_id="3")
    log.record_feedback("Bus pass fee?", ["tmt-pass"], helpful=False, user_id="4")
    code, output = run("picks", "--days", "30")
    assert code == EXIT_OK
    written = tmp_path / "from-citizens.csv"
    written.write_text(output, encoding="utf-8")
    assert sorted(read_cases(written), key=lambda c: c.question) == [
        Case("Gharpatti kadhi bharaychi?", None),
        Case("When is the water cut?", "water-cut-kopri"),
        Case("घरपट्टी कधी भरायची?", "property-tax-rebate-2026"),
    ]
    assert "3 questions from 3 picks and 👍 of the last 30 days" in capsys.readouterr().err


def test_picks_refuses_a_period_under_a_day(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SAMVAD_DATA_DIR", str(tmp_path))
    code, output = run("picks", "--days", "0")
    assert code == EXIT_USAGE and output == ""
    assert capsys.readouterr().err == "samvad picks: error: --days must be at least 1\n"


@pytest.mark.slow
def test_a_folder_of_few_articles_is_decided_by_the_thresholds(indexed_folder: Path) -> None:
    """Coverage needs articles to tell common words from rare ones: without it, no chance."""
    question = "Which Japanese ministry signed an agreement with Thane Municipal Corporation?"
    code, output = run("ask", question, "--json", *folders(indexed_folder))
    assert code == EXIT_OK
    signals = json.loads(output)["answer"]["signals"]
    assert signals["coverage"] is None and signals["chance"] is None
    assert signals["confidence"] > 0


@pytest.mark.slow
def test_ask_offers_the_article_when_not_sure(
    indexed_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the "sure" agreement set out of reach, a good question gets the offer instead."""
    monkeypatch.setenv("SAMVAD_CONFIRM_AGREEMENT_BELOW", "0.99")
    question = "Which Japanese ministry signed an agreement with Thane Municipal Corporation?"
    code, output = run("ask", question, "--json", *folders(indexed_folder))
    assert code == EXIT_OK
    answer = json.loads(output)["answer"]
    assert answer["outcome"] == "offered" and answer["citation"] is None
    (offered,) = answer["offers"]
    assert offered["article_id"] == SEED and offered["language"] == "en"
    assert f"1. {offered['title']} (" in answer["text"]


def test_help_speaks_to_staff(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    for words in ("samvad check", "samvad index", "knowledge/README.md", "SAMVAD_MODEL"):
        assert words in text


@pytest.mark.parametrize("csv_output", [False, True], ids=["text", "csv"])
def test_report_for_staff(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, csv_output: bool
) -> None:
    from samvad.question_log import QuestionLog

    monkeypatch.setenv("SAMVAD_DATA_DIR", str(tmp_path))
    log = QuestionLog(tmp_path)
    log.record_question("बस पास कुठे?", "mr", 0.5, answered=False)
    log.record_question("Tax rebate?", "en", 0.9, answered=True)
    code, output = run("report", "--days", "7", *(["--csv"] if csv_output else []))
    assert code == EXIT_OK
    if csv_output:
        assert "language,mr,1,0,1" in output and "unanswered,बस पास कुठे?,1" in output
    else:
        assert "Last 7 days: 2 questions" in output and "बस पास कुठे?" in output


@pytest.mark.slow
def test_eval_lists_the_misses_and_counts_the_rest(indexed_folder: Path, tmp_path: Path) -> None:
    questions = tmp_path / "ours.csv"
    questions.write_text(
        "question,article\n"
        "ठाणे महानगरपालिकेने जपानसोबत कोणता करार केला?,tmc-japan-mlit-smart-city-agreement\n"
        "Which Japanese ministry signed an agreement with TMC?,"
        "tmc-japan-mlit-smart-city-agreement\n"
        "asdfgh qwerty,none\n"
        "Which Japanese ministry signed an agreement with TMC?,water-cut-ghodbunder\n",
        encoding="utf-8",
    )
    code, output = run("eval", str(questions), *folders(indexed_folder))
    assert code == EXIT_PROBLEMS
    assert output.count("MISS") == 1 and "expected water-cut-ghodbunder" in output
    assert "3 of 4 questions reach their article in one tap." in output


def test_eval_names_a_bad_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    questions = tmp_path / "ours.jsonl"
    questions.write_text('{"question": "ok", "article": "a"}\n{broken\n', encoding="utf-8")
    assert main(["eval", str(questions)]) == EXIT_USAGE
    assert f"{questions}:2:" in capsys.readouterr().err


@pytest.fixture
def calibrating(dev_index_copy: Settings, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The folder options of an indexed dev corpus, its data folder set for the command."""
    monkeypatch.setenv("SAMVAD_DATA_DIR", str(dev_index_copy.data_dir))
    return [
        "--knowledge",
        str(dev_index_copy.knowledge_dir),
        "--index",
        str(dev_index_copy.index_dir),
    ]


@pytest.mark.slow
def test_calibrate_fits_the_city_questions_and_the_engine_then_uses_the_fit(
    calibrating: list[str], dev_index_copy: Settings
) -> None:
    code, output = run("calibrate", str(DEV_QUESTIONS), "--dry-run", *calibrating)
    assert code == EXIT_OK, output
    path = city_calibration_file(dev_index_copy.data_dir)
    assert "Nothing written (--dry-run)." in output and not path.exists()
    assert "Searched 94 questions" in output and "15 are marked none" in output
    assert "today (the shipped calibration)" in output
    assert "new fit, on questions it did not see" in output and "AUROC of the chance" in output

    running = AnswerEngine.from_settings(dev_index_copy)
    shipped = running.calibration
    code, output = run("calibrate", str(DEV_QUESTIONS), *calibrating)
    assert code == EXIT_OK and f"Wrote {path}" in output
    fitted = DecisionModel.from_json(path.read_text("utf-8"))
    assert fitted.info["script"] == "samvad calibrate" and fitted.info["questions"] == 94
    assert fitted.inputs == FEATURES and shipped is not None and "margin" not in shipped.inputs
    assert fitted != shipped and running.calibration == fitted  # no restart
    path.unlink()
    assert running.calibration == shipped

    path.write_text(fitted.to_json(), encoding="utf-8")
    code, output = run("calibrate", str(DEV_QUESTIONS), "--dry-run", *calibrating)
    assert "today (this city's calibration)" in output


@pytest.mark.slow
def test_calibrate_with_too_few_questions_says_what_to_add(
    calibrating: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    questions = tmp_path / "few.csv"
    questions.write_text(
        "question,article\nपाणी कधी येणार?,water-cut-ghodbunder\nmarriage certificate,none\n",
        encoding="utf-8",
    )
    assert main(["calibrate", str(questions), *calibrating]) == EXIT_USAGE
    error = capsys.readouterr().err
    assert f"{questions}: a fit needs at least 20" in error and "add questions" in error
    assert len(error.strip().splitlines()) == 1


@pytest.mark.parametrize("share", ["0", "1.5", "-0.05"])
def test_calibrate_refuses_a_share_outside_zero_and_one(
    share: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["calibrate", str(DEV_QUESTIONS), "--wrong", share]) == EXIT_USAGE
    assert "--wrong is a share between 0 and 1" in capsys.readouterr().err


@pytest.mark.slow
def test_calibrate_refuses_an_index_too_small_for_the_calibrated_decision(
    indexed_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["calibrate", str(DEV_QUESTIONS), *folders(indexed_folder)]) == EXIT_USAGE
    assert "needs an index of at least 5 articles" in capsys.readouterr().err
