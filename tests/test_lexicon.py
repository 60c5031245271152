"""The Marathi-English search lexicon: the shipped file, translation, and its file format."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from samvad.analyzer import analyze
from samvad.lexicon import LEXICON_FILE, Lexicon, shipped_lexicon


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("फेरीवाल्यांसाठी", "hawker"),
        ("hawkers", "फेरीवाल"),
        ("डासांची", "mosquito"),
        ("mosquito", "डास"),
        ("शिबिरात", "camp"),
        ("camp", "शिबिर"),
        ("शिष्यवृत्ती", "scholarship"),
        ("scholarship", "शिष्यवृत्त"),
    ],
)
def test_the_shipped_lexicon_translates_civic_words_both_ways(words: str, expected: str) -> None:
    assert expected in shipped_lexicon().translate(analyze(words))


@pytest.mark.parametrize("words", ["kachra gadi", "Kawamura", "२०२६", "12th"])
def test_unknown_words_and_numbers_have_no_translation(words: str) -> None:
    assert shipped_lexicon().translate(analyze(words)) == ()


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("शिष्यवृत्तीविषयी", ("scholarship",)),
        ("फेरीवाल्यांबद्दल", ("hawker",)),
    ],
    ids=["विषयी", "बद्दल"],
)
def test_a_word_with_a_joined_postposition_takes_its_stems_translation(
    word: str, expected: tuple[str, ...]
) -> None:
    (term,) = analyze(word)
    assert shipped_lexicon().translate([term]) == ()
    assert set(expected) <= set(shipped_lexicon().joined(term))


@pytest.mark.parametrize("word", ["camp", "शिबिर", "कखग"], ids=["Latin", "known", "no stem"])
def test_only_an_unknown_devanagari_word_is_read_by_its_stem(word: str) -> None:
    lexicon = Lexicon({"शिबिर": ("camp",), "camp": ("शिबिर",)})
    assert lexicon.joined(word) == ()


def test_the_shipped_file_says_how_it_was_built() -> None:
    header = LEXICON_FILE.read_text("utf-8").splitlines()[0]
    assert header.startswith("# Built by scripts/build_lexicon.py")


def test_save_and_load_are_symmetric(tmp_path: Path) -> None:
    lexicon = Lexicon({"tree": ("झाड", "वृक्ष"), "झाड": ("tree",)})
    path = tmp_path / "lexicon.tsv"
    lexicon.save(path, header="made by a test\nsecond line")
    assert Lexicon.load(path) == lexicon
    assert path.read_text("utf-8").startswith("# made by a test\n# second line\n")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("tree\n", "lexicon line 1"),
        ("# comment\ntree\tझाड\ntree\tवृक्ष\n", "lexicon line 3"),
        ("tree\tforest\n", "same script"),
        ("झाड\tवृक्ष\n", "same script"),
    ],
)
def test_a_bad_lexicon_file_is_refused_with_the_reason(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Lexicon.from_text(text)


ROOT = Path(__file__).resolve().parents[1]
LEGISLATURE_DATA = ROOT.parent / "shared" / "data" / "mahmls-questions"


@pytest.mark.slow
@pytest.mark.skipif(
    not LEGISLATURE_DATA.is_dir(),
    reason="the public legislature data (../shared/data/mahmls-questions) is not beside this "
    "checkout",
)
def test_the_script_rebuilds_the_shipped_file_exactly(tmp_path: Path) -> None:
    """The committed file is what its recipe gives (about 45 s: every legislature row)."""
    out = tmp_path / "lexicon.tsv"
    script = ROOT / "scripts" / "build_lexicon.py"
    subprocess.run([sys.executable, str(script), "--out", str(out)], check=True, timeout=600)
    assert out.read_text("utf-8") == LEXICON_FILE.read_text("utf-8")
