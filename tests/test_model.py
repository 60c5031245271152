"""The embedder: bfloat16 vectors stay interchangeable with float32 ones; token states line up."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from samvad.model import Embedder

pytestmark = pytest.mark.slow

QUESTIONS = [
    "घोडबंदरला पाणी नेमकं कोणत्या दिवशी बंद असणार आहे?",
    "Which Japanese ministry signed an agreement with Thane?",
    "pani kadhi band aahe ghodbunder la?",
]


@pytest.fixture(scope="module")
def fast(embedder: Embedder) -> Embedder:
    """The same model with questions embedded under bfloat16 autocast."""
    return Embedder(
        Path(str(embedder.identity["path"])),
        name=str(embedder.identity["model"]),
        precision="bfloat16",
    )


def test_bfloat16_questions_match_float32_ones(embedder: Embedder, fast: Embedder) -> None:
    assert (embedder.precision, fast.precision) == ("float32", "bfloat16")
    quick, exact = fast.embed_queries(QUESTIONS), embedder.embed_queries(QUESTIONS)
    assert quick.dtype == np.float32
    assert np.allclose(np.linalg.norm(quick, axis=1), 1.0, atol=1e-5)
    # Measured: at least 0.99998 over the 94 dev questions.
    assert float((quick * exact).sum(axis=1).min()) >= 0.9999


def test_bfloat16_passages_match_float32_ones(embedder: Embedder, fast: Embedder) -> None:
    quick, exact = fast.embed_passages(QUESTIONS), embedder.embed_passages(QUESTIONS)
    assert quick.dtype == np.float32
    # Measured: at least 0.99999 over the fixture corpus's passages and sentences.
    assert float((quick * exact).sum(axis=1).min()) >= 0.9999


def test_auto_is_not_a_precision(embedder: Embedder) -> None:
    with pytest.raises(ValueError, match="choose_precision"):
        Embedder(Path(str(embedder.identity["path"])), precision="auto")  # type: ignore[arg-type]


@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
@pytest.mark.parametrize("kind", ["query", "passage", "plain"])
def test_token_states_come_with_the_same_vectors(
    embedder: Embedder, fast: Embedder, kind: str, precision: str
) -> None:
    model = fast if precision == "bfloat16" else embedder
    vectors, states = model.embed_with_token_states(QUESTIONS, kind)  # type: ignore[arg-type]
    if kind == "query":
        expected = model.embed_queries(QUESTIONS)
    elif kind == "passage":
        expected = model.embed_passages(QUESTIONS)
    else:
        expected = vectors
    assert float((vectors * expected).sum(axis=1).min()) > 0.9999
    tokenizer = model._model.tokenizer
    for text, text_states in zip(QUESTIONS, states, strict=True):
        pieces = tokenizer(text, add_special_tokens=False)["input_ids"]
        assert text_states.shape == (len(pieces), model.dimension)
        assert text_states.dtype == np.float32
