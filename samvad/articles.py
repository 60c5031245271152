"""Read and validate the articles staff keep in ``knowledge/``.

One Markdown file per article and language, starting with YAML front matter::

    ---
    id: property-tax-rebate-2026
    lang: en
    title: Property tax rebate for early payment
    date: 2026-04-01
    source: https://thanecity.gov.in/
    tags: [tax, rebate]
    ---
    The article text, in paragraphs...

A file that breaks the format becomes an :class:`ArticleError` carrying its path, line and a
plain-words reason; the other files are still loaded.

>>> from pathlib import Path
>>> articles, errors = load_knowledge(Path("knowledge"))
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from samvad.language import LANGUAGES

REQUIRED_FIELDS = ("id", "lang", "title", "date")
OPTIONAL_FIELDS = ("source", "tags")
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
FRONT_MATTER_FENCE = "---"
NOT_ARTICLES = frozenset({"readme.md"})
# The largest article file read (the same limit as an article sent to the bot by staff).
MAX_ARTICLE_BYTES = 256 * 1024
# Front matter is a flat map whose ``tags`` may be a list: anything deeper is a mistake (and
# PyYAML's composer recurses per level). Aliases are refused: expanding one nested many times
# (a "billion laughs") takes unbounded memory; explicit tags (``!!int``) can fail in PyYAML's
# constructors with errors that are not YAML errors. Neither has a use in an article.
MAX_FRONT_MATTER_DEPTH = 4
# int() and str() refuse numbers over 4,300 digits; no id, tag or date is that long.
MAX_NUMBER_CHARS = 100


class _FrontMatterLoader(yaml.SafeLoader):
    """SafeLoader that leaves dates as text, so an impossible date gets our own message."""


_FrontMatterLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    if len(str(node.value)) > MAX_NUMBER_CHARS:
        raise yaml.constructor.ConstructorError(
            None, None, f"a number longer than {MAX_NUMBER_CHARS} characters", node.start_mark
        )
    return loader.construct_yaml_int(node)


_FrontMatterLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)


@dataclass(frozen=True)
class ArticleError:
    """A problem with one knowledge file: where it is and what is wrong, in plain words."""

    path: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason}"


@dataclass(frozen=True)
class Article:
    """One validated article in one language."""

    id: str
    lang: str
    title: str
    date: dt.date
    body: str
    path: str
    content_hash: str
    body_line: int = 1
    source: str | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)

    @property
    def key(self) -> str:
        """Identify this language version: ``<id>/<lang>``."""
        return f"{self.id}/{self.lang}"


class ArticleFormatError(ValueError):
    """Raised by :func:`parse_article` with the line and reason of the first problem found."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


def content_hash(data: bytes) -> str:
    """Return the hex SHA-256 of a file's bytes (used to spot edited files)."""
    return hashlib.sha256(data).hexdigest()


def article_files(knowledge_dir: Path) -> list[Path]:
    """List the article files under ``knowledge_dir`` (``*.md`` except README, none hidden or
    in a hidden folder), sorted. One directory scan per folder, no stat per regular file: at
    10,000 articles this is 0.1 s (``Path.rglob`` and ``is_file`` took 0.7 s)."""
    found: list[Path] = []
    folders = [str(knowledge_dir)] if knowledge_dir.is_dir() else []
    while folders:
        with os.scandir(folders.pop()) as entries:
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                if entry.is_dir():
                    folders.append(entry.path)
                elif (
                    entry.name.endswith(".md")
                    and entry.name.lower() not in NOT_ARTICLES
                    and entry.is_file()
                ):
                    found.append(Path(entry.path))
    return sorted(found)


def parse_article(data: bytes, path: str) -> Article:
    """Parse one article file's bytes; raise :class:`ArticleFormatError` if it breaks the format."""
    if len(data) > MAX_ARTICLE_BYTES:
        raise ArticleFormatError(
            1, f"the file is larger than {MAX_ARTICLE_BYTES} bytes; split it into shorter articles"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ArticleFormatError(line, "the file is not UTF-8 text; save it as UTF-8") from exc
    text = text.removeprefix("\ufeff").replace("\r\n", "\n")
    lines = text.split("\n")
    if not lines or lines[0].strip() != FRONT_MATTER_FENCE:
        raise ArticleFormatError(
            1, "the file must start with a '---' line that opens the front matter"
        )
    try:
        closing = next(i for i in range(1, len(lines)) if lines[i].strip() == FRONT_MATTER_FENCE)
    except StopIteration:
        raise ArticleFormatError(
            1, "the front matter is never closed: add a '---' line after the last field"
        ) from None
    fields, key_lines = _parse_front_matter("\n".join(lines[1:closing]))
    body_lines = lines[closing + 1 :]
    body = "\n".join(body_lines).strip()
    if not body:
        raise ArticleFormatError(closing + 1, "the article has no text after the front matter")
    first_body_line = closing + 2 + next(i for i, ln in enumerate(body_lines) if ln.strip())
    values = _validate_fields(fields, key_lines)
    return Article(
        id=values["id"],
        lang=values["lang"],
        title=values["title"],
        date=values["date"],
        source=values.get("source"),
        tags=tuple(values.get("tags", ())),
        body=body,
        path=path,
        content_hash=content_hash(data),
        body_line=first_body_line,
    )


def _parse_front_matter(front: str) -> tuple[dict[str, Any], dict[str, int]]:
    """Return the front matter's fields and the file line of each key."""
    try:
        _check_front_matter_events(front)
        node = yaml.compose(front, Loader=_FrontMatterLoader)
        fields = yaml.load(front, Loader=_FrontMatterLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.context_mark or exc.problem_mark
        line = mark.line + 2 if mark is not None else 1
        problem = exc.problem or "invalid YAML"
        raise ArticleFormatError(line, f"the front matter is not valid YAML ({problem})") from exc
    except yaml.reader.ReaderError as exc:  # a control character: no mark, a position
        line = front[: exc.position].count("\n") + 2
        raise ArticleFormatError(
            line, f"the front matter contains a control character (U+{exc.character:04X})"
        ) from exc
    if not isinstance(fields, dict) or not isinstance(node, yaml.MappingNode):
        raise ArticleFormatError(2, "the front matter must be 'field: value' lines")
    key_lines = {
        str(key.value): key.start_mark.line + 2
        for key, _ in node.value
        if isinstance(key, yaml.ScalarNode)
    }
    return {str(k): v for k, v in fields.items()}, key_lines


def _check_front_matter_events(front: str) -> None:
    """Refuse aliases, explicit tags and deep nesting before anything is built from them."""
    depth = 0
    for event in yaml.parse(front, Loader=_FrontMatterLoader):
        line = event.start_mark.line + 2 if event.start_mark is not None else 2
        if isinstance(event, yaml.AliasEvent):
            raise ArticleFormatError(line, "the front matter must not use YAML aliases (*name)")
        tag = getattr(event, "tag", None)  # scalars and collections; "!" only says "text"
        if tag not in (None, "!"):
            raise ArticleFormatError(line, f"the front matter must not use YAML tags ({tag})")
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_FRONT_MATTER_DEPTH:
                raise ArticleFormatError(line, "the front matter is nested too deeply")
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _validate_fields(fields: dict[str, Any], key_lines: dict[str, int]) -> dict[str, Any]:
    """Check each front-matter field; return them cleaned, or raise with the field's line."""
    for key in fields:
        if key not in REQUIRED_FIELDS + OPTIONAL_FIELDS:
            allowed = ", ".join(REQUIRED_FIELDS + OPTIONAL_FIELDS)
            raise ArticleFormatError(
                key_lines.get(key, 2), f"unknown field '{key}' (allowed fields: {allowed})"
            )
    for key in REQUIRED_FIELDS:
        if fields.get(key) in (None, ""):
            raise ArticleFormatError(1, f"the required field '{key}' is missing or empty")

    def fail(key: str, reason: str) -> ArticleFormatError:
        return ArticleFormatError(key_lines.get(key, 2), reason)

    article_id = str(fields["id"]).strip()
    if not ID_PATTERN.match(article_id):
        raise fail(
            "id",
            f"id '{article_id}' must use only lowercase letters a-z, digits and hyphens "
            "(e.g. water-cut-ghodbunder-road); translations share the same id",
        )
    lang = str(fields["lang"]).strip()
    if lang not in LANGUAGES:
        raise fail("lang", f"lang '{lang}' must be 'mr' (Marathi) or 'en' (English)")
    title = fields["title"]
    if not isinstance(title, str) or not title.strip():
        raise fail("title", "title must be text")
    date = fields["date"]
    if isinstance(date, str):
        try:
            date = dt.date.fromisoformat(date.strip())
        except ValueError:
            date = None
    if not isinstance(date, dt.date):
        raise fail("date", f"date '{fields['date']}' must be a real date written YYYY-MM-DD")
    values: dict[str, Any] = {"id": article_id, "lang": lang, "title": title.strip(), "date": date}
    source = fields.get("source")
    if source is not None:
        if not isinstance(source, str) or not re.match(r"^https?://\S+$", source.strip()):
            raise fail("source", "source must be a web address starting with http:// or https://")
        values["source"] = source.strip()
    tags = fields.get("tags")
    if tags is not None:
        if isinstance(tags, str):
            tags = [t.strip() for t in tags.split(",") if t.strip()]
        if not isinstance(tags, list) or not all(isinstance(t, str | int) for t in tags):
            raise fail("tags", "tags must be a list of words, e.g. tags: [water, ghodbunder]")
        values["tags"] = [str(t) for t in tags]
    return values


# Parsing the front matter (YAML) is most of the time of reading knowledge/: 2.7 s of 2.9 for
# 1,000 files. A process that reads the folder again after an edit (the watcher) parses only
# the files whose bytes it has not seen; articles are immutable, so sharing them is safe.
@functools.lru_cache(maxsize=65536)
def _parse_remembered(data: bytes, path: str) -> Article:
    return parse_article(data, path)


def load_knowledge(knowledge_dir: Path) -> tuple[list[Article], list[ArticleError]]:
    """Read every article under ``knowledge_dir``.

    Returns the valid articles and one error per file that was skipped. Two files with the same
    ``id`` and ``lang`` are a mistake: the first (by path) is kept, the other is reported.
    """
    articles: list[Article] = []
    errors: list[ArticleError] = []
    seen: dict[str, str] = {}
    for file in article_files(knowledge_dir):
        rel = file.relative_to(knowledge_dir).as_posix()
        try:
            with file.open("rb") as handle:  # never more than one byte over the limit
                article = _parse_remembered(handle.read(MAX_ARTICLE_BYTES + 1), rel)
        except ArticleFormatError as exc:
            errors.append(ArticleError(rel, exc.line, exc.reason))
            continue
        except OSError as exc:
            errors.append(ArticleError(rel, 1, f"the file cannot be read ({exc.strerror})"))
            continue
        if article.key in seen:
            errors.append(
                ArticleError(
                    rel,
                    1,
                    f"another file ({seen[article.key]}) already has id '{article.id}' and "
                    f"lang '{article.lang}'; give this one a different id or lang",
                )
            )
            continue
        seen[article.key] = rel
        articles.append(article)
    return articles, errors
