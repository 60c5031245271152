"""The topics citizens can subscribe to, kept by staff in ``knowledge/topics.yml``.

A topic has a short key, a Marathi and an English label, and the article ``tags`` it stands
for (the key itself when none are given)::

    water:
      mr: पाणी
      en: Water
      tags: [water, water-cut, पाणी]

An article belongs to every topic one of whose tags it carries (tags compare without regard to
case). The indexer reads only ``*.md`` files, so this file never becomes an article. A file
with mistakes gives :class:`~samvad.articles.ArticleError` values (``topics.yml:LINE: reason``)
like articles do; :class:`TopicsReader` then keeps serving the last good version.

>>> topics, errors = parse_topics("water:\\n  mr: पाणी\\n  en: Water\\n".encode(), "topics.yml")
>>> [t.key for t in topics.for_tags(["Water", "notice"])], errors
(['water'], [])
>>> parse_topics("water:\\n  mr: पाणी\\n".encode(), "topics.yml")[1][0].reason
"topic 'water' needs an English label ('en: ...')"
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from samvad.articles import ArticleError
from samvad.language import LANGUAGES, Lang

TOPICS_FILE = "topics.yml"
# Short enough for Telegram's 64 bytes of button data ("samvad:sub:+:" + key).
TOPIC_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
MAX_LABEL_CHARS = 40
MAX_TOPICS_BYTES = 64 * 1024
MAX_TAGS = 50
TOPIC_FIELDS = ("mr", "en", "tags")
LANGUAGE_NAMES = {"mr": "a Marathi", "en": "an English"}


@dataclass(frozen=True)
class Topic:
    """One topic: its key, its label in each language, the article tags it stands for."""

    key: str
    labels: tuple[tuple[Lang, str], ...]
    tags: tuple[str, ...]

    def label(self, language: Lang | None, separator: str = " / ") -> str:
        """The label in ``language``; both (Marathi first) when it is ``None``."""
        labels = dict(self.labels)
        if language is None:
            return separator.join(labels[lang] for lang in LANGUAGES)
        return labels[language]


@dataclass(frozen=True)
class Topics:
    """The topics of one version of ``topics.yml``, in the file's order."""

    topics: tuple[Topic, ...] = ()

    def __iter__(self) -> Iterator[Topic]:
        return iter(self.topics)

    def __len__(self) -> int:
        return len(self.topics)

    def get(self, key: str) -> Topic | None:
        """The topic with ``key`` (``None``: no such topic)."""
        return next((t for t in self.topics if t.key == key), None)

    def find(self, word: str) -> Topic | None:
        """The topic a citizen named: its key, a label or one of its tags (any case)."""
        wanted = " ".join(word.split()).casefold()
        for topic in self.topics:
            names = {topic.key, *(label for _, label in topic.labels), *topic.tags}
            if wanted in {name.casefold() for name in names}:
                return topic
        return None

    def for_tags(self, tags: Iterable[str]) -> list[Topic]:
        """The topics an article with ``tags`` belongs to, in the file's order."""
        wanted = {tag.strip().casefold() for tag in tags}
        return [t for t in self.topics if wanted & {tag.casefold() for tag in t.tags}]


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _scalar(node: yaml.Node) -> str | None:
    if isinstance(node, yaml.ScalarNode) and node.tag != "tag:yaml.org,2002:null":
        return str(node.value).strip()
    return None


class _FileError(Exception):
    """A mistake that makes the whole file unusable."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line, self.reason = line, reason


def _check_events(text: str) -> None:
    """Refuse aliases and explicit tags (as articles' front matter does) before composing."""
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        line = event.start_mark.line + 1 if event.start_mark is not None else 1
        if isinstance(event, yaml.AliasEvent):
            raise _FileError(line, "topics.yml must not use YAML aliases (*name)")
        tag = getattr(event, "tag", None)
        if tag not in (None, "!"):
            raise _FileError(line, f"topics.yml must not use YAML tags ({tag})")


def _topic(key_node: yaml.Node, value: yaml.Node, path: str) -> Topic | ArticleError:
    key = _scalar(key_node) or ""
    line = _line(key_node)

    def fail(at: int, reason: str) -> ArticleError:
        return ArticleError(path, at, reason)

    if not TOPIC_PATTERN.match(key):
        return fail(
            line,
            f"topic '{key}' must be 1-32 lowercase letters a-z, digits and hyphens "
            "(e.g. water or property-tax)",
        )
    if not isinstance(value, yaml.MappingNode):
        return fail(line, f"topic '{key}' must have 'mr:', 'en:' and (optionally) 'tags:' lines")
    fields: dict[str, yaml.Node] = {}
    for field_node, field_value in value.value:
        name = _scalar(field_node) or ""
        if name not in TOPIC_FIELDS:
            return fail(
                _line(field_node),
                f"unknown field '{name}' in topic '{key}' (allowed: {', '.join(TOPIC_FIELDS)})",
            )
        if name in fields:
            return fail(_line(field_node), f"topic '{key}' has '{name}' twice")
        fields[name] = field_value
    labels: list[tuple[Lang, str]] = []
    for lang in LANGUAGES:
        if lang not in fields:
            return fail(line, f"topic '{key}' needs {LANGUAGE_NAMES[lang]} label ('{lang}: ...')")
        label = _scalar(fields[lang])
        if not label:
            return fail(_line(fields[lang]), f"the '{lang}' label of topic '{key}' must be text")
        if len(label) > MAX_LABEL_CHARS or "\n" in label:
            return fail(
                _line(fields[lang]),
                f"the '{lang}' label of topic '{key}' must be one line of at most "
                f"{MAX_LABEL_CHARS} characters",
            )
        labels.append((lang, label))
    tags: list[str] = [key]
    if "tags" in fields:
        node = fields["tags"]
        if not isinstance(node, yaml.SequenceNode) or not node.value:
            return fail(_line(node), f"tags of topic '{key}' must be a list, e.g. [water, पाणी]")
        tags = []
        for item in node.value:
            tag = _scalar(item)
            if not tag or "\n" in tag:
                return fail(_line(item), f"a tag of topic '{key}' must be a word, not empty")
            tags.append(tag)
        if len(tags) > MAX_TAGS:
            return fail(_line(node), f"topic '{key}' has more than {MAX_TAGS} tags")
    return Topic(key, tuple(labels), tuple(dict.fromkeys(tags)))


def parse_topics(data: bytes, path: str = TOPICS_FILE) -> tuple[Topics, list[ArticleError]]:
    """The topics in ``data`` (a ``topics.yml``) and one error per mistake; a topic with a
    mistake is left out, the others are kept."""
    if len(data) > MAX_TOPICS_BYTES:
        too_big = f"the file is larger than {MAX_TOPICS_BYTES} bytes"
        return Topics(), [ArticleError(path, 1, too_big)]
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return Topics(), [ArticleError(path, line, "the file is not UTF-8 text; save it as UTF-8")]
    try:
        _check_events(text)
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except _FileError as exc:
        return Topics(), [ArticleError(path, exc.line, exc.reason)]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        return Topics(), [ArticleError(path, line, f"not valid YAML ({exc.problem or 'syntax'})")]
    except yaml.YAMLError as exc:
        return Topics(), [ArticleError(path, 1, f"not valid YAML ({exc})")]
    if root is None:
        return Topics(), []
    if not isinstance(root, yaml.MappingNode):
        return Topics(), [ArticleError(path, _line(root), "the file must be 'topic:' entries")]
    topics: list[Topic] = []
    errors: list[ArticleError] = []
    owners: dict[str, str] = {}
    for key_node, value in root.value:
        made = _topic(key_node, value, path)
        if isinstance(made, ArticleError):
            errors.append(made)
            continue
        if any(t.key == made.key for t in topics):
            errors.append(ArticleError(path, _line(key_node), f"topic '{made.key}' is there twice"))
            continue
        taken = [t for t in made.tags if t.casefold() in owners]
        if taken:
            errors.append(
                ArticleError(
                    path,
                    _line(key_node),
                    f"tag '{taken[0]}' of topic '{made.key}' already belongs to topic "
                    f"'{owners[taken[0].casefold()]}'; a tag may belong to one topic only",
                )
            )
            continue
        owners.update({t.casefold(): made.key for t in made.tags})
        topics.append(made)
    return Topics(tuple(topics)), errors


def load_topics(knowledge_dir: Path) -> tuple[Topics, list[ArticleError]]:
    """``knowledge_dir/topics.yml`` read and checked (no file: no topics, no error)."""
    path = knowledge_dir / TOPICS_FILE
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_TOPICS_BYTES + 1)
    except FileNotFoundError:
        return Topics(), []
    except OSError as exc:
        return Topics(), [ArticleError(TOPICS_FILE, 1, f"the file cannot be read ({exc.strerror})")]
    return parse_topics(data, TOPICS_FILE)


class TopicsReader:
    """The current topics, re-read only when ``topics.yml`` changed; a version with mistakes is
    not used while a good one was read before (the last good one stays, as for articles)."""

    def __init__(self, knowledge_dir: Path) -> None:
        self.path = knowledge_dir / TOPICS_FILE
        self.knowledge_dir = knowledge_dir
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._topics = Topics()
        self._good = False
        self.errors: list[ArticleError] = []

    def current(self) -> Topics:
        """The topics in service."""
        stamp = (0, 0)
        with contextlib.suppress(OSError):
            stat = self.path.stat()
            stamp = (stat.st_size, stat.st_mtime_ns)
        with self._lock:
            if stamp != self._stamp:
                self._stamp = stamp
                topics, errors = load_topics(self.knowledge_dir)
                self.errors = errors
                if not errors or not self._good:
                    self._topics, self._good = topics, not errors
            return self._topics
