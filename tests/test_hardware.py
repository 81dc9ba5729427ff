"""Cores, CPU flags and llama.cpp's build as `rag/hardware.py` reads them, and the thread defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.hardware import Cores, LlamaBuild, cgroup_quota, cpu_flags, default_threads, parse_system_info


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.mark.parametrize("text, cores", [("max 100000", None), ("150000 100000", 1.5), ("400000 100000", 4.0)])
def test_cgroup_v2_quota(tmp_path, text, cores):
    assert cgroup_quota(v2=write(tmp_path / "cpu.max", text), v1_quota=tmp_path / "no") == cores


def test_cgroup_v1_quota_when_there_is_no_v2(tmp_path):
    quota, period = write(tmp_path / "q", "200000\n"), write(tmp_path / "p", "100000\n")
    assert cgroup_quota(v2=tmp_path / "absent", v1_quota=quota, v1_period=period) == 2.0
    assert cgroup_quota(v2=tmp_path / "absent", v1_quota=write(tmp_path / "u", "-1"), v1_period=period) is None


def test_no_cgroup_files_means_no_quota(tmp_path):
    assert cgroup_quota(v2=tmp_path / "a", v1_quota=tmp_path / "b", v1_period=tmp_path / "c") is None


@pytest.mark.parametrize("cores, usable", [
    (Cores(logical=8, affinity=8, quota=None), 8),
    (Cores(logical=8, affinity=2, quota=None), 2),      # taskset / affinity mask
    (Cores(logical=8, affinity=8, quota=1.5), 1),       # a container allowed 1.5 cores
    (Cores(logical=2, affinity=2, quota=0.5), 1),       # never below one
])
def test_usable_cores_is_the_tightest_limit(cores, usable):
    assert cores.usable == usable


@pytest.mark.parametrize("usable, expected", [(1, (1, 1)), (2, (1, 2)), (4, (3, 4)), (16, (15, 16))])
def test_generation_leaves_a_core_free_and_prompts_use_every_core(usable, expected):
    assert default_threads(usable) == expected


def test_system_info_is_parsed_into_features():
    info = "CPU : SSE3 = 1 | SSSE3 = 1 | AVX = 1 | AVX2 = 1 | F16C = 1 | FMA = 1 | AVX512 = 0 | AMX_INT8 = 0 | "
    features = parse_system_info(info)
    assert features["AVX2"] and features["FMA"] and not features["AVX512"] and not features["AMX_INT8"]


def test_a_build_with_avx512_or_amx_is_not_portable():
    base = dict(version="0.3.36", variant="llama-cpp-python-0.3.36-portable-avx2-x", library=None)
    assert LlamaBuild(features={"AVX2": True, "AVX512": False}, **base).portable
    assert not LlamaBuild(features={"AVX2": True, "AMX_INT8": True}, **base).portable
    assert not LlamaBuild(features={"AVX2": True}, **{**base, "variant": "unknown (not built by make setup)"}).portable


def test_cpu_flags_of_this_machine_are_read():
    cpu_flags.cache_clear()
    flags = cpu_flags()
    assert not Path("/proc/cpuinfo").exists() or "avx2" in flags  # the project supports AVX2 machines only
