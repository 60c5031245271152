"""``knowledge/topics.yml``: what citizens can subscribe to, checked like articles are
(``topics.yml:LINE: reason``), and which topics an article's tags belong to."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from samvad import TOPICS_FILE, Lang, TopicsReader, load_topics, parse_topics

ROOT = Path(__file__).resolve().parents[1]
GOOD = """\
# comment
water:
  mr: पाणी
  en: Water
  tags: [water, Water-Cut, पाणी]
property-tax:
  mr: मालमत्ता कर
  en: Property tax
"""


def errors_of(text: str) -> list[str]:
    return [str(e) for e in parse_topics(text.encode(), TOPICS_FILE)[1]]


def test_the_shipped_topics_file_is_valid_and_covers_the_real_articles() -> None:
    topics, errors = load_topics(ROOT / "knowledge")
    assert errors == []
    assert len(topics) >= 5
    assert [t.key for t in topics.for_tags(["smart-city", "japan"])] == ["smart-city"]


@pytest.mark.parametrize(
    ("language", "labels"),
    [("mr", ["पाणी", "मालमत्ता कर"]), ("en", ["Water", "Property tax"])],
)
def test_labels_in_each_language(language: Lang, labels: list[str]) -> None:
    topics, errors = parse_topics(GOOD.encode())
    assert errors == []
    assert [t.label(language) for t in topics] == labels
    assert topics.topics[0].label(None) == "पाणी / Water"


@pytest.mark.parametrize(
    ("tags", "keys"),
    [
        (["water"], ["water"]),
        (["WATER-CUT", "notice"], ["water"]),
        (["पाणी"], ["water"]),
        (["property-tax", "water"], ["water", "property-tax"]),  # the file's order
        (["notice"], []),
        ([], []),
    ],
)
def test_an_article_belongs_to_the_topics_of_its_tags(tags: list[str], keys: list[str]) -> None:
    topics, _ = parse_topics(GOOD.encode())
    assert [t.key for t in topics.for_tags(tags)] == keys


def test_without_tags_a_topic_stands_for_its_own_key() -> None:
    topics, _ = parse_topics(GOOD.encode())
    assert topics.get("property-tax") is not None
    assert [t.key for t in topics.for_tags(["Property-Tax"])] == ["property-tax"]


@pytest.mark.parametrize(
    ("word", "key"),
    [("water", "water"), ("पाणी", "water"), ("Property  Tax", "property-tax"), ("bus", None)],
)
def test_a_citizen_names_a_topic_by_key_label_or_tag(word: str, key: str | None) -> None:
    topics, _ = parse_topics(GOOD.encode())
    found = topics.find(word)
    assert (found.key if found else None) == key


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("Water:\n  mr: पाणी\n  en: Water\n", "topics.yml:1: topic 'Water' must be 1-32"),
        ("water:\n  en: Water\n", "topics.yml:1: topic 'water' needs a Marathi label"),
        ("water:\n  mr: पाणी\n", "topics.yml:1: topic 'water' needs an English label"),
        ("water:\n  mr: पाणी\n  en:\n", "topics.yml:3: the 'en' label of topic 'water' must"),
        ("water:\n  mr: पाणी\n  en: W\n  colour: blue\n", "topics.yml:4: unknown field 'colour'"),
        ("water:\n  mr: पाणी\n  en: W\n  tags: water\n", "topics.yml:4: tags of topic 'water'"),
        ("water:\n  mr: पाणी\n  en: W\n  mr: ज\n", "topics.yml:4: topic 'water' has 'mr' twice"),
        ("water: पाणी\n", "topics.yml:1: topic 'water' must have 'mr:', 'en:'"),
        ("water:\n  mr: पाणी\n  en: " + "W" * 41 + "\n", "topics.yml:3: the 'en' label"),
        ("- water\n", "topics.yml:1: the file must be 'topic:' entries"),
        ("water:\n  mr: [\n", "topics.yml:3: not valid YAML"),
        ("a: &x\n  mr: m\n  en: e\nb: *x\n", "topics.yml:4: topics.yml must not use YAML aliases"),
        ("water: !!str x\n", "topics.yml:1: topics.yml must not use YAML tags"),
    ],
)
def test_mistakes_are_named_with_file_and_line(text: str, error: str) -> None:
    found = errors_of(text)
    assert len(found) == 1 and found[0].startswith(error), found


def test_a_topic_with_a_mistake_is_left_out_the_others_kept() -> None:
    text = GOOD + "roads:\n  mr: रस्ते\n"
    topics, errors = parse_topics(text.encode())
    assert [t.key for t in topics] == ["water", "property-tax"]
    assert [str(e) for e in errors] == [
        "topics.yml:9: topic 'roads' needs an English label ('en: ...')"
    ]


def test_a_tag_belongs_to_one_topic_and_a_key_appears_once() -> None:
    text = GOOD + "supply:\n  mr: पुरवठा\n  en: Supply\n  tags: [WATER]\n"
    text += "water:\n  mr: पाणी\n  en: Water\n"
    assert errors_of(text) == [
        "topics.yml:9: tag 'WATER' of topic 'supply' already belongs to topic 'water'; a tag "
        "may belong to one topic only",
        "topics.yml:13: topic 'water' is there twice",
    ]


def test_not_utf8_and_too_large_and_empty() -> None:
    assert errors_of("") == []
    (bad,) = parse_topics(b"water:\n  mr: \xff\n", TOPICS_FILE)[1]
    assert (bad.line, bad.reason) == (2, "the file is not UTF-8 text; save it as UTF-8")
    (big,) = parse_topics(b"#" * (64 * 1024 + 1), TOPICS_FILE)[1]
    assert big.reason.startswith("the file is larger than")


def test_the_reader_follows_edits_and_keeps_the_last_good_version(tmp_path: Path) -> None:
    reader = TopicsReader(tmp_path)
    assert len(reader.current()) == 0  # no file: no topics
    path = tmp_path / TOPICS_FILE
    path.write_text(GOOD, encoding="utf-8")
    assert [t.key for t in reader.current()] == ["water", "property-tax"]
    path.write_text(GOOD + "roads:\n  mr: रस्ते\n", encoding="utf-8")
    os.utime(path, ns=(1, 1))  # a different stamp even within the same clock tick
    assert [t.key for t in reader.current()] == ["water", "property-tax"]
    assert [e.line for e in reader.errors] == [9]
    path.write_text("roads:\n  mr: रस्ते\n  en: Roads\n", encoding="utf-8")
    assert [t.key for t in reader.current()] == ["roads"] and reader.errors == []


def test_the_indexer_never_reads_the_topics_file(tmp_path: Path) -> None:
    from samvad import article_files

    (tmp_path / TOPICS_FILE).write_text(GOOD, encoding="utf-8")
    assert article_files(tmp_path) == []
