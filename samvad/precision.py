"""Which float format the model's matrix products run in: chosen by what this CPU does fast.

bfloat16 halves the bytes a product moves. On CPUs with native bf16 instructions
(``avx512_bf16``: Cooper Lake, Sapphire Rapids, Zen 4 and later; ``amx_bf16``: Sapphire Rapids
tiles) it is the faster path; measured on such a CPU (avx512_bf16, one thread, medians): a
question embedding 12 ms against 18 ms in float32, the latent-term product (20 tokens by 16,384
features) 1 ms against 4 ms. On CPUs without them (plain AVX2 or AVX-512, e.g. AMD EPYC before
Zen 4) PyTorch emulates bf16 and the same work runs far slower than in float32: 110 ms against
39 ms for a question, 516 ms against 10 ms for the product. float32 on a bf16-capable CPU costs
far less than bf16 on one without, so every doubt settles on float32.

The choice is made from the CPU flags alone, never by timing at start-up: the same machine
always gets the same path (tests and restarts are deterministic), start-up stays quick, and a
CPU whose flags cannot be read (not Linux, no ``/proc``) runs float32. ``bench/answers.py``
times both paths on the machine it runs on, for checking the rule.

>>> choose_precision("auto", ["avx2", "avx512_bf16"])
'bfloat16'
>>> choose_precision("auto", ["avx2", "fma"])
'float32'
>>> choose_precision("bfloat16", ["avx2"])
'bfloat16'
>>> str(explain_precision("auto", ["avx2"]))
'auto: no native bf16 → float32'
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Precision = Literal["float32", "bfloat16"]
PrecisionSetting = Literal["auto", "float32", "bfloat16"]
PRECISIONS: tuple[Precision, ...] = ("float32", "bfloat16")
PRECISION_SETTINGS: tuple[PrecisionSetting, ...] = ("auto", "float32", "bfloat16")
# x86 flags (as /proc/cpuinfo spells them) of instructions that compute bf16 natively.
NATIVE_BF16_FLAGS = ("avx512_bf16", "amx_bf16")
CPUINFO = Path("/proc/cpuinfo")


def cpu_flags(cpuinfo: Path = CPUINFO) -> frozenset[str]:
    """The CPU feature flags listed in ``cpuinfo`` (Linux ``/proc/cpuinfo`` format).

    A flag counts only if every processor listed has it. Returns an empty set when the file
    cannot be read or lists no ``flags`` line (not Linux, not x86).

    >>> cpu_flags(Path("/no/such/cpuinfo"))
    frozenset()
    """
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return frozenset()
    common: frozenset[str] | None = None
    for line in text.splitlines():
        key, colon, value = line.partition(":")
        if colon and key.strip() == "flags":
            flags = frozenset(value.split())
            common = flags if common is None else common & flags
    return common or frozenset()


def native_bf16(flags: Iterable[str]) -> bool:
    """True iff ``flags`` include an instruction set that computes bf16 natively.

    >>> native_bf16(["avx2", "amx_bf16"]), native_bf16(["avx2", "avx512f"])
    (True, False)
    """
    return not set(NATIVE_BF16_FLAGS).isdisjoint(flags)


@dataclass(frozen=True)
class PrecisionReport:
    """The precision chosen for a setting, and why (printable as one line)."""

    setting: PrecisionSetting
    precision: Precision
    reason: str

    def __str__(self) -> str:
        return f"{self.setting}: {self.reason}"


def explain_precision(setting: str, flags: Iterable[str] | None = None) -> PrecisionReport:
    """The precision for ``setting`` (``auto``, ``float32`` or ``bfloat16``) with its reason.

    ``flags`` are the CPU's feature flags (``None``: read this machine's with :func:`cpu_flags`);
    they matter only for ``auto``. Raises :class:`ValueError` for any other setting.

    >>> str(explain_precision("auto", ["avx512_bf16"]))
    'auto: cpu has avx512_bf16 → bfloat16'
    >>> str(explain_precision("float32", ["amx_bf16"]))
    'float32: forced by setting'
    """
    if setting not in PRECISION_SETTINGS:
        raise ValueError(
            f"precision must be one of {', '.join(PRECISION_SETTINGS)}, got {setting!r}"
        )
    if setting != "auto":
        return PrecisionReport(setting, setting, "forced by setting")
    present = cpu_flags() if flags is None else frozenset(flags)
    native = [flag for flag in NATIVE_BF16_FLAGS if flag in present]
    if native:
        return PrecisionReport("auto", "bfloat16", f"cpu has {native[0]} → bfloat16")
    return PrecisionReport("auto", "float32", "no native bf16 → float32")


def choose_precision(setting: str, flags: Iterable[str] | None = None) -> Precision:
    """The precision to run in: forced by ``setting``, or for ``auto`` bfloat16 only when the
    CPU computes it natively (:func:`native_bf16`), else float32.

    ``flags=None`` reads this machine's flags. Raises :class:`ValueError` naming the allowed
    values for any setting other than ``auto``, ``float32`` and ``bfloat16``.

    >>> choose_precision("auto", ["amx_bf16"])
    'bfloat16'
    >>> choose_precision("fast")
    Traceback (most recent call last):
    ...
    ValueError: precision must be one of auto, float32, bfloat16, got 'fast'
    """
    return explain_precision(setting, flags).precision


def check_precision(precision: str) -> Precision:
    """``precision`` itself if it is ``float32`` or ``bfloat16``; else :class:`ValueError`.

    For the engine's classes, which take a decided precision (not ``auto``).

    >>> check_precision("auto")
    Traceback (most recent call last):
    ...
    ValueError: precision must be float32 or bfloat16, got 'auto' (use choose_precision)
    """
    if precision not in PRECISIONS:
        hint = " (use choose_precision)" if precision == "auto" else ""
        raise ValueError(f"precision must be float32 or bfloat16, got {precision!r}{hint}")
    return precision
