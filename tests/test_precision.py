"""Precision by capability: bf16 only where the CPU computes it natively, or when forced."""

from __future__ import annotations

from pathlib import Path

import pytest

from samvad.precision import (
    PRECISION_SETTINGS,
    check_precision,
    choose_precision,
    cpu_flags,
    explain_precision,
    native_bf16,
)

SAPPHIRE_RAPIDS = ["fpu", "sse2", "avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile"]
COOPER_LAKE = ["fpu", "sse2", "avx2", "avx512f", "avx512_bf16"]
AMX_ONLY = ["fpu", "sse2", "avx2", "amx_bf16"]
EPYC_AVX2 = ["fpu", "sse2", "avx", "avx2", "fma", "f16c"]
SKYLAKE_AVX512 = ["fpu", "sse2", "avx2", "avx512f", "avx512bw", "avx512_vnni"]


@pytest.mark.parametrize(
    ("setting", "flags", "expected"),
    [
        ("auto", COOPER_LAKE, "bfloat16"),
        ("auto", SAPPHIRE_RAPIDS, "bfloat16"),
        ("auto", AMX_ONLY, "bfloat16"),
        ("auto", EPYC_AVX2, "float32"),
        ("auto", SKYLAKE_AVX512, "float32"),
        ("auto", [], "float32"),
        ("float32", SAPPHIRE_RAPIDS, "float32"),
        ("float32", EPYC_AVX2, "float32"),
        ("bfloat16", EPYC_AVX2, "bfloat16"),
        ("bfloat16", COOPER_LAKE, "bfloat16"),
    ],
    ids=[
        "auto-avx512_bf16",
        "auto-avx512_bf16-and-amx",
        "auto-amx_bf16",
        "auto-plain-avx2",
        "auto-avx512-without-bf16",
        "auto-no-flags",
        "forced-float32-on-native",
        "forced-float32-on-avx2",
        "forced-bfloat16-on-avx2",
        "forced-bfloat16-on-native",
    ],
)
def test_precision_follows_setting_then_capability(
    setting: str, flags: list[str], expected: str
) -> None:
    assert choose_precision(setting, flags) == expected
    assert explain_precision(setting, flags).precision == expected


@pytest.mark.parametrize(
    ("setting", "flags", "reason"),
    [
        ("auto", COOPER_LAKE, "auto: cpu has avx512_bf16 → bfloat16"),
        ("auto", AMX_ONLY, "auto: cpu has amx_bf16 → bfloat16"),
        ("auto", EPYC_AVX2, "auto: no native bf16 → float32"),
        ("bfloat16", EPYC_AVX2, "bfloat16: forced by setting"),
        ("float32", SAPPHIRE_RAPIDS, "float32: forced by setting"),
    ],
)
def test_the_report_says_why(setting: str, flags: list[str], reason: str) -> None:
    assert str(explain_precision(setting, flags)) == reason


def test_native_bf16_needs_a_bf16_instruction_set() -> None:
    assert native_bf16(COOPER_LAKE) and native_bf16(AMX_ONLY)
    assert not native_bf16(EPYC_AVX2) and not native_bf16(SKYLAKE_AVX512)
    assert not native_bf16([])


@pytest.mark.parametrize("setting", ["fast", "", "AUTO", "bf16", "fp32", "float16"])
def test_an_unknown_setting_is_refused_naming_the_allowed_values(setting: str) -> None:
    with pytest.raises(ValueError, match="auto, float32, bfloat16") as raised:
        choose_precision(setting, EPYC_AVX2)
    assert "\n" not in str(raised.value)
    assert repr(setting) in str(raised.value)


def test_engine_classes_take_a_decided_precision_only() -> None:
    assert [check_precision(s) for s in PRECISION_SETTINGS[1:]] == ["float32", "bfloat16"]
    with pytest.raises(ValueError, match="choose_precision"):
        check_precision("auto")


CPUINFO = """\
processor\t: 0
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC 7B12
flags\t\t: fpu sse2 avx avx2 fma avx512_bf16
bogomips\t: 4491.53

processor\t: 1
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC 7B12
flags\t\t: fpu sse2 avx avx2 fma
bogomips\t: 4491.53
"""


def test_cpu_flags_reads_cpuinfo_and_keeps_flags_every_processor_has(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(CPUINFO, encoding="utf-8")
    flags = cpu_flags(cpuinfo)
    assert flags == {"fpu", "sse2", "avx", "avx2", "fma"}
    assert choose_precision("auto", flags) == "float32"


def test_cpu_flags_of_one_processor(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(CPUINFO.split("\n\n")[0] + "\n", encoding="utf-8")
    assert "avx512_bf16" in cpu_flags(cpuinfo)
    assert choose_precision("auto", cpu_flags(cpuinfo)) == "bfloat16"


def test_unreadable_cpuinfo_gives_no_flags_and_float32(tmp_path: Path) -> None:
    assert cpu_flags(tmp_path / "missing") == frozenset()
    no_flags = tmp_path / "cpuinfo"
    no_flags.write_text("processor\t: 0\nFeatures\t: fp asimd bf16\n", encoding="utf-8")
    assert cpu_flags(no_flags) == frozenset()
    assert choose_precision("auto", cpu_flags(tmp_path / "missing")) == "float32"


def test_this_machine_gets_an_answer() -> None:
    assert choose_precision("auto") in ("float32", "bfloat16")
    assert choose_precision("auto") == choose_precision("auto", cpu_flags())
