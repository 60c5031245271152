"""Article format: valid files load, each kind of mistake is reported with its line."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from samvad.articles import ArticleFormatError, load_knowledge, parse_article

MARATHI = """---
id: water-cut-kopri
lang: mr
title: कोपरी भागात पाणीपुरवठा बंद
date: 2026-03-05
source: https://example.org/tmc/water-cut-kopri
tags: [पाणी, notice]
---
कोपरी भागात १२ मार्च रोजी पाणीपुरवठा बंद राहील।
"""

ENGLISH = """---
id: water-cut-kopri
lang: en
title: Water supply cut in Kopri
date: 2026-03-05
---
Water supply in Kopri will be off on 12 March.
"""


@pytest.mark.parametrize(
    ("text", "lang", "title"),
    [
        (MARATHI, "mr", "कोपरी भागात पाणीपुरवठा बंद"),
        (ENGLISH, "en", "Water supply cut in Kopri"),
    ],
)
def test_valid_article_parses(text: str, lang: str, title: str) -> None:
    article = parse_article(text.encode(), "a.md")
    assert (article.id, article.lang, article.title) == ("water-cut-kopri", lang, title)
    assert article.date == dt.date(2026, 3, 5)
    assert article.body_line == 9 if lang == "mr" else 7
    assert len(article.content_hash) == 64


def test_optional_fields_are_kept() -> None:
    article = parse_article(MARATHI.encode(), "a.md")
    assert article.source == "https://example.org/tmc/water-cut-kopri"
    assert article.tags == ("पाणी", "notice")


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("id: x\n", 1, "must start with a '---'"),
        ("---\nid: x\nlang: mr\n", 1, "never closed"),
        (MARATHI.replace("lang: mr", "lang: hi"), 3, "'mr' (Marathi) or 'en'"),
        (ENGLISH.replace("lang: en", "lang: fr"), 3, "'mr' (Marathi) or 'en'"),
        (MARATHI.replace("date: 2026-03-05", "date: 2026-02-30"), 5, "real date"),
        (ENGLISH.replace("date: 2026-03-05", "date: 5 March"), 5, "real date"),
        (MARATHI.replace("id: water-cut-kopri", "id: Water Cut"), 2, "lowercase"),
        (ENGLISH.replace("title: Water supply cut in Kopri\n", ""), 1, "'title' is missing"),
        (MARATHI.replace("source: https://", "source: ftp://"), 6, "web address"),
        (ENGLISH.replace("date: 2026-03-05", "date: 2026-03-05\ntitel: x"), 6, "unknown field"),
        (ENGLISH.replace("title: Water", "title: [Water"), 4, "not valid YAML"),
        (ENGLISH.split("---\nWater")[0] + "---\n\n", 6, "no text"),
    ],
    ids=[
        "no-front-matter",
        "unclosed",
        "lang-hindi",
        "lang-french",
        "impossible-date-mr",
        "words-date-en",
        "bad-id",
        "missing-title",
        "bad-source",
        "unknown-field",
        "broken-yaml",
        "empty-body",
    ],
)
def test_format_errors_name_line_and_reason(text: str, line: int, words: str) -> None:
    with pytest.raises(ArticleFormatError) as caught:
        parse_article(text.encode(), "bad.md")
    assert caught.value.line == line
    assert words in caught.value.reason


def test_non_utf8_file_is_reported_with_its_line() -> None:
    data = ENGLISH.encode() + "पाणी".encode("utf-16")
    with pytest.raises(ArticleFormatError, match="not UTF-8"):
        parse_article(data, "bad.md")


def test_load_knowledge_skips_bad_files_and_keeps_the_rest(tmp_path: Path) -> None:
    (tmp_path / "good.mr.md").write_text(MARATHI, encoding="utf-8")
    (tmp_path / "good.en.md").write_text(ENGLISH, encoding="utf-8")
    (tmp_path / "broken.md").write_text(ENGLISH.replace("lang: en", "lang: xx"), "utf-8")
    (tmp_path / "README.md").write_text("# notes for staff\n", encoding="utf-8")
    articles, errors = load_knowledge(tmp_path)
    assert sorted(a.path for a in articles) == ["good.en.md", "good.mr.md"]
    assert [str(e) for e in errors] == [
        "broken.md:3: lang 'xx' must be 'mr' (Marathi) or 'en' (English)"
    ]


def test_duplicate_id_and_lang_is_reported(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text(ENGLISH, encoding="utf-8")
    (tmp_path / "b.md").write_text(ENGLISH.replace("Kopri.", "Kopri East."), encoding="utf-8")
    articles, errors = load_knowledge(tmp_path)
    assert [a.path for a in articles] == ["a.md"]
    assert errors[0].path == "b.md"
    assert "already has id 'water-cut-kopri'" in errors[0].reason


def test_real_knowledge_folder_is_valid() -> None:
    articles, errors = load_knowledge(Path(__file__).parents[1] / "knowledge")
    assert errors == []
    assert {a.lang for a in articles if a.id == "tmc-japan-mlit-smart-city-agreement"} == {
        "mr",
        "en",
    }


@pytest.mark.parametrize(("text", "lang"), [(MARATHI, "mr"), (ENGLISH, "en")])
def test_reading_the_folder_again_parses_only_what_changed(
    tmp_path: Path, text: str, lang: str
) -> None:
    """Unchanged files come back as the very article parsed before; an edited one is parsed
    again, and one broken by the edit is still reported (a failure is never remembered)."""
    path = tmp_path / f"kopri.{lang}.md"
    path.write_text(text, encoding="utf-8")
    (first,), _ = load_knowledge(tmp_path)
    (again,), _ = load_knowledge(tmp_path)
    assert again is first
    path.write_text(text + "Edited.\n", encoding="utf-8")
    (edited,), _ = load_knowledge(tmp_path)
    assert edited is not first and edited.body.endswith("Edited.")
    assert edited.content_hash != first.content_hash
    path.write_text(text.replace(f"lang: {lang}", "lang: xx"), encoding="utf-8")
    for _ in range(2):
        articles, errors = load_knowledge(tmp_path)
        assert articles == [] and [e.line for e in errors] == [3]
    path.write_text(text, encoding="utf-8")
    (restored,), _ = load_knowledge(tmp_path)
    assert restored == first
