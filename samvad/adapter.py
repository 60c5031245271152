"""A low-rank adapter (LoRA) for the embedding model: saved as one small file, merged into a copy.

An adapter holds, for some of the model's weight matrices ``W`` (``out x in``), two factors
``A`` (``rank x in``) and ``B`` (``out x rank``); the adapted weight is
``W + (alpha / rank) · B @ A``, which is what PEFT's ``merge_and_unload`` computes. Merged, the
result is an ordinary sentence-transformers folder: nothing at run time knows an adapter was
used, and the index records the merged model's own fingerprint.

The file is a ``safetensors`` file: ``<weight name>.lora_A`` and ``<weight name>.lora_B`` for
each adapted weight (weight names as in the model's ``model.safetensors``, without
``.weight``), and the metadata (rank, alpha, the base model's fingerprint, and how it was
trained) in its header. :func:`save_adapter` and :func:`load_adapter` are each other's inverse.

>>> import numpy as np, tempfile
>>> from pathlib import Path
>>> a, b = np.ones((2, 3), np.float32), np.full((4, 2), 0.5, np.float32)
>>> file = Path(tempfile.mkdtemp()) / "adapter.safetensors"
>>> save_adapter(file, {"layer.query": (a, b)}, rank=2, alpha=4, info={"seed": "7"})
>>> adapter = load_adapter(file)
>>> adapter.rank, adapter.alpha, adapter.info["seed"], adapter.delta("layer.query")[0].tolist()
(2, 4.0, '7', [2.0, 2.0, 2.0])
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from samvad.settings import DEFAULT_MODEL, MODEL_MANIFEST, Settings

ADAPTERS_DIR = Path(__file__).parent / "adapters"
WEIGHTS_FILE = "model.safetensors"

Matrix = npt.NDArray[np.float32]


def adapter_file(settings: Settings) -> Path | None:
    """The adapter file ``settings.model_adapter`` names, or ``None`` when there is none to
    merge (``none``, or a model other than the default one, for which no adapter is trained).

    >>> adapter_file(Settings(model_adapter="none")) is None
    True
    """
    if settings.model_adapter == "none" or settings.model != DEFAULT_MODEL:
        return None
    return ADAPTERS_DIR / f"{settings.model_adapter}.safetensors"


class AdapterError(ValueError):
    """The adapter file is damaged, or does not fit the model it is merged into."""


@dataclass(frozen=True)
class Adapter:
    """Low-rank factors per adapted weight, with the rank, alpha and free-form ``info``."""

    factors: dict[str, tuple[Matrix, Matrix]]
    rank: int
    alpha: float
    info: dict[str, str] = field(default_factory=dict)

    @property
    def scale(self) -> float:
        """``alpha / rank``, the factor the product ``B @ A`` is added with."""
        return self.alpha / self.rank

    def delta(self, name: str) -> Matrix:
        """The change ``scale · B @ A`` to the weight ``name`` (``out x in``, float32)."""
        a, b = self.factors[name]
        return (self.scale * (b.astype(np.float32) @ a.astype(np.float32))).astype(np.float32)


def save_adapter(
    path: Path,
    factors: dict[str, tuple[Matrix, Matrix]],
    rank: int,
    alpha: float,
    info: dict[str, str],
) -> None:
    """Write ``factors`` (``name → (A, B)``) and the metadata to one ``safetensors`` file.

    The factors are stored in float16 (a few MB for e5-small at rank 8); ``info`` values are
    strings (seed, steps, data recipe…).
    """
    from safetensors.numpy import save_file

    tensors: dict[str, npt.NDArray[np.float16]] = {}
    for name, (a, b) in factors.items():
        if a.shape[0] != rank or b.shape[1] != rank:
            raise AdapterError(f"{name}: factors {a.shape} and {b.shape} are not of rank {rank}")
        tensors[f"{name}.lora_A"] = np.ascontiguousarray(a, dtype=np.float16)
        tensors[f"{name}.lora_B"] = np.ascontiguousarray(b, dtype=np.float16)
    metadata = {"rank": str(rank), "alpha": str(alpha), "info": json.dumps(info, sort_keys=True)}
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(path), metadata=metadata)


def peft_factors(model: Any, adapter_name: str = "default") -> dict[str, tuple[Matrix, Matrix]]:
    """The LoRA factors ``name → (A, B)`` of a PEFT-wrapped encoder, named as the plain model's
    weights (PEFT's ``base_model.model.`` prefix removed), ready for :func:`save_adapter`."""
    factors: dict[str, tuple[Matrix, Matrix]] = {}
    for name, module in model.named_modules():
        lora_a, lora_b = getattr(module, "lora_A", None), getattr(module, "lora_B", None)
        if lora_a is None or lora_b is None or adapter_name not in lora_a:
            continue
        a = lora_a[adapter_name].weight.detach().float().numpy()
        b = lora_b[adapter_name].weight.detach().float().numpy()
        factors[name.removeprefix("base_model.model.")] = (a, b)
    return factors


def load_adapter(path: Path) -> Adapter:
    """Read a file :func:`save_adapter` wrote; :class:`AdapterError` if it is not one."""
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="numpy") as handle:
            metadata = handle.metadata() or {}
            tensors = {key: handle.get_tensor(key) for key in handle.keys()}  # noqa: SIM118
        rank, alpha = int(metadata["rank"]), float(metadata["alpha"])
        info = {str(k): str(v) for k, v in json.loads(metadata.get("info", "{}")).items()}
    except (OSError, KeyError, ValueError, SafetensorError) as error:
        raise AdapterError(f"{path} is not a Samvad adapter file: {error}") from error
    names = sorted({key.rsplit(".", 1)[0] for key in tensors})
    factors: dict[str, tuple[Matrix, Matrix]] = {}
    for name in names:
        a, b = tensors.get(f"{name}.lora_A"), tensors.get(f"{name}.lora_B")
        if a is None or b is None or a.shape[0] != rank or b.shape[1] != rank:
            raise AdapterError(f"{path}: the factors of {name} are missing or not of rank {rank}")
        factors[name] = (a.astype(np.float32), b.astype(np.float32))
    return Adapter(factors, rank, alpha, info)


def merge_adapter(base: Path, adapter: Adapter, target: Path) -> Path:
    """Copy the sentence-transformers folder ``base`` to ``target`` with ``adapter`` merged.

    Every adapted weight must exist in ``base``'s weights with the factors' shape
    (:class:`AdapterError` otherwise, and nothing is left at ``target``). The copy's
    ``samvad_model.json`` records the adapter's ``info``. Written beside ``target`` first and
    renamed into place, so a half-merged folder is never found.
    """
    from safetensors.numpy import load_file, save_file

    weights = load_file(str(base / WEIGHTS_FILE))
    for name in adapter.factors:
        key = f"{name}.weight"
        if key not in weights:
            raise AdapterError(f"the adapter changes {key}, which the model does not have")
        delta = adapter.delta(name)
        if weights[key].shape != delta.shape:
            raise AdapterError(f"{key} is {weights[key].shape}, the adapter's {delta.shape}")
        weights[key] = (weights[key].astype(np.float32) + delta).astype(weights[key].dtype)
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    shutil.copytree(base, partial, ignore=shutil.ignore_patterns(WEIGHTS_FILE))
    save_file(weights, str(partial / WEIGHTS_FILE), metadata={"format": "pt"})
    manifest_file = partial / MODEL_MANIFEST
    manifest = json.loads(manifest_file.read_text("utf-8")) if manifest_file.is_file() else {}
    manifest["adapter"] = {"rank": adapter.rank, "alpha": adapter.alpha, **adapter.info}
    manifest_file.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", "utf-8")
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    return target
