"""Picking an answer's sentences, with vectors made by hand (no model): by similarity, and a
sentence that holds the fact asked for joining when the picked ones hold none."""

from __future__ import annotations

import numpy as np
import pytest

from samvad.compose import MAX_SENTENCES, pick_sentences
from samvad.facts import Asked
from samvad.index_store import IndexSnapshot
from samvad.segment import Segment, StoredArticle, StoredChunk

SENTENCES = {
    "mr": (
        "घोडबंदर भागात जलवाहिनीचे काम होणार आहे.",
        "या कामामुळे पाणीपुरवठा बंद राहील.",
        "नागरिकांनी पाणी साठवून ठेवावे.",
        "पाणीपुरवठा १२ मार्च रोजी सकाळी ९ ते रात्री ९ बंद राहील.",
    ),
    "en": (
        "Pipeline work will be done in Ghodbunder.",
        "Because of the work the water supply will be off.",
        "Citizens should store water.",
        "The supply will be off on 12 March from 9 am to 9 pm.",
    ),
}
# Similarity of each sentence to the question: the fact is in the least similar one.
SIMILARITY = (0.90, 0.89, 0.88, 0.70)


def snapshot_with(lang: str) -> tuple[IndexSnapshot, StoredChunk, np.ndarray]:
    """One article of one chunk whose sentence vectors have the similarities above to the
    question vector returned."""
    question = np.zeros(4, dtype=np.float32)
    question[0] = 1.0
    rows = [np.array([s, np.sqrt(1 - s * s), 0, 0], dtype=np.float32) for s in SIMILARITY]
    chunk = StoredChunk(1, "water/c0", f"water/{lang}", 0, "", SENTENCES[lang])
    article = StoredArticle(
        f"water/{lang}", "water", lang, "Water", "2026-03-01", "w.md", "h", vector_ids=(1,)
    )
    segment = Segment.new(4)
    segment.add(article, [chunk], question[None, :], np.vstack(rows), [])
    return IndexSnapshot.empty().with_segment(segment), chunk, question[None, :]


@pytest.mark.parametrize("lang", ["mr", "en"])
def test_the_closest_sentences_in_article_order(lang: str) -> None:
    snapshot, chunk, question = snapshot_with(lang)
    picked = pick_sentences(chunk, question, snapshot)
    assert picked == list(SENTENCES[lang][:MAX_SENTENCES])


@pytest.mark.parametrize("lang", ["mr", "en"])
def test_a_sentence_with_the_fact_asked_for_takes_the_last_place(lang: str) -> None:
    snapshot, chunk, question = snapshot_with(lang)
    picked = pick_sentences(chunk, question, snapshot, "when")
    assert picked == [*SENTENCES[lang][:2], SENTENCES[lang][3]]


@pytest.mark.parametrize("lang", ["mr", "en"])
@pytest.mark.parametrize("wanted", ["phone", "number", "duration"])
def test_nothing_changes_when_no_sentence_holds_it(lang: str, wanted: Asked) -> None:
    snapshot, chunk, question = snapshot_with(lang)
    assert pick_sentences(chunk, question, snapshot, wanted) == list(SENTENCES[lang][:3])


@pytest.mark.parametrize("lang", ["mr", "en"])
def test_the_fact_may_come_from_another_passage_of_the_article(lang: str) -> None:
    """The first passage has no sentence with a time; the article's second one does."""
    question = np.array([[1.0, 0, 0, 0]], dtype=np.float32)
    near = np.array([[0.9, np.sqrt(1 - 0.81), 0, 0]] * 3, dtype=np.float32)
    first = StoredChunk(1, "water/c0", f"water/{lang}", 0, "", SENTENCES[lang][:3])
    second = StoredChunk(2, "water/c1", f"water/{lang}", 1, "", SENTENCES[lang][3:])
    article = StoredArticle(
        f"water/{lang}", "water", lang, "Water", "2026-03-01", "w.md", "h", vector_ids=(1, 2)
    )
    segment = Segment.new(4)
    segment.add(article, [first, second], np.vstack([question, question]),
                np.vstack([near, [[0.5, np.sqrt(0.75), 0, 0]]]), [])  # fmt: skip
    snapshot = IndexSnapshot.empty().with_segment(segment)
    assert pick_sentences(first, question, snapshot) == list(SENTENCES[lang][:3])
    assert pick_sentences(first, question, snapshot, "when") == [
        *SENTENCES[lang][:2],
        SENTENCES[lang][3],
    ]
