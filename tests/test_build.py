"""The installed llama.cpp is the portable build from scripts/llama_wheel.sh: AVX2, and no AVX-512 or AMX
code anywhere in it, so it runs on any x86-64 with AVX2 (a native build segfaulted on an AMX machine)."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from conftest import PROJECT
from rag.hardware import llama_build

pytestmark = pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="x86-64 builds only")


def test_installed_build_is_the_portable_one():
    build = llama_build()
    assert "portable-avx2" in build.variant, f"llama-cpp-python was not built by make setup: {build.variant}"
    assert build.features.get("AVX2") and build.features.get("FMA")
    assert not [name for name, on in build.features.items() if on and name.startswith(("AVX512", "AMX"))]
    assert build.portable


def test_installed_version_is_the_pinned_one():
    deps = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]["dependencies"]
    pin = next(d for d in deps if d.startswith("llama-cpp-python=="))
    assert importlib.metadata.version("llama-cpp-python") == pin.split("==")[1]
    assert pin.split("==")[1] in llama_build().variant


@pytest.mark.skipif(shutil.which("objdump") is None, reason="objdump (binutils) is not installed")
def test_no_avx512_or_amx_instruction_in_the_cpu_backend():
    """Stronger than the flags: no instruction in the library touches a zmm register or an AMX tile,
    so the AMX code path that crashed cannot be reached whatever CPU runs it."""
    lib_dir = Path(llama_build().library or "").parent
    libs = sorted(lib_dir.glob("libggml*.so*"))
    assert libs
    for lib in libs:
        asm = subprocess.run(["objdump", "-d", "--no-show-raw-insn", str(lib)], capture_output=True, text=True,
                             check=True).stdout
        assert "%ymm" in asm or "ggml-cpu" not in lib.name  # the CPU backend does use AVX2
        bad = re.findall(r"^\s*[0-9a-f]+:\s+(\S+)\s+.*%zmm|^\s*[0-9a-f]+:\s+(tdp\w+|tileloadd\w*|ldtilecfg)\b",
                         asm, re.MULTILINE)
        assert not bad, f"{lib.name} holds AVX-512/AMX instructions, e.g. {bad[:3]}"


def _fake_wheel(folder: Path) -> Path:
    """A llama-cpp-python 0.3.36 wheel without the portable stamp: what pip's cache hands back after an
    earlier native build."""
    import zipfile

    wheel = folder / "llama_cpp_python-0.3.36-py3-none-any.whl"
    info = "llama_cpp_python-0.3.36.dist-info"
    with zipfile.ZipFile(wheel, "w") as z:
        z.writestr("llama_cpp/__init__.py", "NATIVE = True\n")
        z.writestr(f"{info}/METADATA", "Metadata-Version: 2.1\nName: llama-cpp-python\nVersion: 0.3.36\n")
        z.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        z.writestr(f"{info}/RECORD", "")
    return wheel


def test_setup_replaces_another_build_of_the_same_version(tmp_path):
    """A venv holding a native build of the pinned version (pip's cache gave it back) gets the portable
    wheel put back by `scripts/llama_wheel.sh`, from the per-user cache, without a rebuild."""
    import sys

    variant = llama_build().variant
    cache = Path.home() / ".cache" / "rag-news" / "wheels"
    if not (cache / variant).is_dir():
        pytest.skip("the portable wheel is not in the default per-user cache")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    py = venv / "bin" / "python"
    subprocess.run([py, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(_fake_wheel(tmp_path))],
                   check=True)
    env = {k: v for k, v in os.environ.items() if k not in ("LLAMA_CMAKE_ARGS", "LLAMA_REBUILD", "LLAMA_WHEEL_CACHE")}
    proc = subprocess.run([str(PROJECT / "scripts" / "llama_wheel.sh"), str(py)], capture_output=True, text=True,
                          env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "building" not in proc.stderr  # taken from the cache, not rebuilt
    stamp = subprocess.run([py, "-c", "import importlib.util as u, pathlib; s = u.find_spec('llama_cpp'); "
                            "print((pathlib.Path(s.origin).parent / 'BUILD_VARIANT').read_text())"],
                           capture_output=True, text=True, check=True).stdout.strip()
    assert stamp == variant
