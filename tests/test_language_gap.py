"""The cross-language cosine gap: its file form, its checks, and which models get it."""

from __future__ import annotations

import pytest

from samvad.language import prepare_query
from samvad.language_gap import LanguageGap, LanguageGapError, gap_file, gap_for
from samvad.settings import DEFAULT_MODEL


def test_the_shipped_gap_of_the_default_model_reads_back_and_raises_cross_language_pairs() -> None:
    gap = gap_for({"model": DEFAULT_MODEL})
    assert gap is not None and gap.model == DEFAULT_MODEL
    assert 0.0 < gap.of("en", "mr") < 0.2 and 0.0 < gap.of("mr", "en") < 0.2
    assert LanguageGap.from_json(gap_file(DEFAULT_MODEL).read_text("utf-8")) == gap


@pytest.mark.parametrize(
    "identity",
    [
        {"model": "someone/other-model"},
        {"model": DEFAULT_MODEL, "built_from": {"adapter": {"rank": 8}}},
    ],
    ids=["unmeasured model", "model merged with an adapter"],
)
def test_no_gap_where_it_was_not_measured(identity: dict[str, object]) -> None:
    assert gap_for(identity) is None


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        '{"model": "m"}',
        '{"model": "m", "gaps": {"en-mr": 0.1}}',
        '{"model": "m", "gaps": {"en>mr": 3}}',
    ],
    ids=["not json", "no gaps", "key without >", "out of range"],
)
def test_a_damaged_gap_file_is_one_clear_error(text: str) -> None:
    with pytest.raises(LanguageGapError, match="gap"):
        LanguageGap.from_json(text)


@pytest.mark.parametrize(
    ("question", "loanwords", "langs"),
    [
        ("पाणी कधी येणार?", False, ("mr",)),
        ("When will the water come?", False, ("en",)),
        ("pani kadhi yenar", False, (None, "mr")),
        ("पाणी कधी येणार?", True, ("mr",)),
        ("When will the water come?", True, ("en",)),
        ("swimming pool kadhi chalu", True, (None, None)),
    ],
    ids=[
        "marathi",
        "english",
        "romanized",
        "marathi-loanwords",
        "english-loanwords",
        "romanized-loanwords-no-gap",
    ],
)
def test_each_phrasing_has_the_language_of_its_script(
    question: str, loanwords: bool, langs: tuple[str | None, ...]
) -> None:
    assert prepare_query(question, loanwords=loanwords).phrasing_langs == langs
