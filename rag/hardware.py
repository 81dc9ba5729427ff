"""What this machine can run: usable cores (affinity, cgroup quota), CPU flags, and the llama.cpp build.

Thread defaults come from here. On a busy machine llama.cpp's threads spin on a barrier while they wait
for each other, so a generation thread count that equals the cores slows answers 30-100x as soon as
anything else runs; generation leaves a core free where there is more than one, prompt reading uses them all.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

# CPU features that decide which llama.cpp code paths can run; `rag doctor` shows these.
FEATURES = ("sse4_2", "avx", "avx2", "fma", "f16c", "bmi2", "avx_vnni", "avx512f", "avx512bw", "avx512vl",
            "avx512_vnni", "avx512_bf16", "amx_tile", "amx_int8", "amx_bf16")
# llama.cpp's system-info names for the same features, as /proc/cpuinfo spells them.
LLAMA_FEATURE_FLAGS = {"SSE3": "pni", "SSSE3": "ssse3", "AVX": "avx", "AVX2": "avx2", "FMA": "fma",
                       "F16C": "f16c", "BMI2": "bmi2", "AVX_VNNI": "avx_vnni", "AVX512": "avx512f",
                       "AVX512_VBMI": "avx512vbmi", "AVX512_VNNI": "avx512_vnni", "AVX512_BF16": "avx512_bf16",
                       "AMX_INT8": "amx_int8"}
CGROUP_V2_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")
CGROUP_V1_QUOTA = Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us")
CGROUP_V1_PERIOD = Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us")


@dataclass(frozen=True)
class Cores:
    """How many cores this process may use, and why."""

    logical: int  # os.cpu_count()
    affinity: int  # cores in this process's affinity mask
    quota: float | None  # cgroup CPU quota in cores, if one is set

    @property
    def usable(self) -> int:
        """Whole cores this process can really run on: the tightest of affinity and quota, at least 1."""
        limit = min(self.affinity, math.floor(self.quota)) if self.quota else self.affinity
        return max(1, limit)


def cgroup_quota(v2: Path = CGROUP_V2_CPU_MAX, v1_quota: Path = CGROUP_V1_QUOTA,
                 v1_period: Path = CGROUP_V1_PERIOD) -> float | None:
    """The container's CPU quota in cores (cgroup v2 `cpu.max`, else v1 CFS), or None when unlimited."""
    try:
        quota, period = v2.read_text().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:
        quota_us = int(v1_quota.read_text())
        return None if quota_us <= 0 else quota_us / int(v1_period.read_text())
    except (OSError, ValueError):
        return None


def cores() -> Cores:
    logical = os.cpu_count() or 1
    try:
        affinity = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        affinity = logical
    return Cores(logical=logical, affinity=affinity, quota=cgroup_quota())


def default_threads(usable: int) -> tuple[int, int]:
    """(threads, threads_batch) when models.toml sets none: generation leaves one core free where there
    are two or more; prompt processing uses every usable core.

    ggml's threads meet at a busy-wait barrier after every operation of the graph (hundreds per token),
    so when another process takes one of their cores, the others spin through its time slice at each
    barrier. Generation runs one token at a time, barrier after barrier, so it leaves a core free for one
    other busy process (an indexer, a compile, a browser); a single thread has no barrier at all. Reading
    a prompt runs the same operations over a whole batch of tokens, so its barriers are few for the work
    between them: on 2 cores (README, Supported CPUs) a second prompt thread cut the judged answer's p50
    by a third on an idle machine and cost it nothing beside a busy process (the 270M alone, a short
    prompt: a fifth faster idle, a fifth slower beside a busy process).
    """
    return max(1, usable - 1), usable


@lru_cache(maxsize=1)
def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> frozenset[str]:
    """The CPU's own feature flags (Linux), empty where they cannot be read."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return frozenset()
    match = re.search(r"^flags\s*:\s*(.*)$", text, re.MULTILINE)
    return frozenset(match.group(1).split()) if match else frozenset()


def cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "unknown"
    match = re.search(r"^model name\s*:\s*(.*)$", text, re.MULTILINE)
    return match.group(1).strip() if match else "unknown"


@dataclass(frozen=True)
class LlamaBuild:
    """The installed llama-cpp-python: version, how it was built, and the CPU features it uses."""

    version: str
    variant: str  # the build folder name stamped in by scripts/llama_wheel.sh, or "unknown (...)"
    features: dict[str, bool]  # from llama.cpp's own system info, e.g. {"AVX2": True, "AVX512": False}
    library: Path | None  # the shared library, whose size and mtime identify the build

    @property
    def portable(self) -> bool:
        """Built by scripts/llama_wheel.sh with the portable flags (AVX2, no AVX-512, no AMX)."""
        return "portable-avx2" in self.variant and not any(
            on for name, on in self.features.items() if name.startswith(("AVX512", "AMX")))

    @property
    def identity(self) -> str:
        """Changes whenever the library is rebuilt or reinstalled: the self-check cache key uses it."""
        if self.library and self.library.exists():
            st = self.library.stat()
            return f"{self.version}|{self.variant}|{st.st_size}|{st.st_mtime_ns}"
        return f"{self.version}|{self.variant}"


def parse_system_info(info: str) -> dict[str, bool]:
    """`AVX = 1 | AVX2 = 1 | AMX_INT8 = 0 | ...` (llama_print_system_info) as {"AVX": True, ...}."""
    return {name: value == "1" for name, value in re.findall(r"([A-Z][A-Z0-9_]*)\s*=\s*([01])\b", info)}


@lru_cache(maxsize=1)
def llama_build() -> LlamaBuild:
    """Read the build without loading a model. Importing llama_cpp loads its library (~0.1 s)."""
    import importlib.metadata

    import llama_cpp

    package = Path(llama_cpp.__file__).parent
    stamp = package / "BUILD_VARIANT"
    variant = stamp.read_text(encoding="utf-8").strip() if stamp.exists() else "unknown (not built by make setup)"
    raw = llama_cpp.llama_print_system_info()
    info = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    libs = sorted((package / "lib").glob("libggml-cpu*.so*")) or sorted((package / "lib").glob("libllama*.so*"))
    return LlamaBuild(version=importlib.metadata.version("llama-cpp-python"), variant=variant,
                      features=parse_system_info(info), library=libs[0] if libs else None)
