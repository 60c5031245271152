"""The embedder: bfloat16 questions stay interchangeable with float32 ones; token states line up."""

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
def exact(embedder: Embedder) -> Embedder:
    """The same model with questions embedded in float32."""
    return Embedder(
        Path(str(embedder.identity["path"])),
        name=str(embedder.identity["model"]),
        fast_queries=False,
    )


def test_fast_questions_match_float32_ones(embedder: Embedder, exact: Embedder) -> None:
    assert embedder.fast_queries and not exact.fast_queries
    fast, slow = embedder.embed_queries(QUESTIONS), exact.embed_queries(QUESTIONS)
    assert fast.dtype == np.float32
    assert np.allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-5)
    assert float((fast * slow).sum(axis=1).min()) > 0.9995


@pytest.mark.parametrize("kind", ["query", "passage", "plain"])
def test_token_states_come_with_the_same_vectors(embedder: Embedder, kind: str) -> None:
    vectors, states = embedder.embed_with_token_states(QUESTIONS, kind)  # type: ignore[arg-type]
    if kind == "query":
        expected = embedder.embed_queries(QUESTIONS)
    elif kind == "passage":
        expected = embedder.embed_passages(QUESTIONS)
    else:
        expected = vectors
    assert float((vectors * expected).sum(axis=1).min()) > 0.9999
    tokenizer = embedder._model.tokenizer
    for text, text_states in zip(QUESTIONS, states, strict=True):
        pieces = tokenizer(text, add_special_tokens=False)["input_ids"]
        assert text_states.shape == (len(pieces), embedder.dimension)
