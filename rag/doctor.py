"""`rag doctor`: one screen a user can paste into a bug report, and an exit code that says whether
anything is broken. Every check is a row: section, what, value, and ok / warn / fail."""

from __future__ import annotations

import platform
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from rag.config import Settings
from rag.errors import RagError
from rag.hardware import FEATURES, LLAMA_FEATURE_FLAGS, cores, cpu_flags, cpu_model, default_threads, llama_build
from rag.wording import counted

Status = Literal["ok", "warn", "fail"]


@dataclass(frozen=True)
class Row:
    section: str
    name: str
    value: str
    status: Status = "ok"
    exit_code: int = 0  # for a failed row: the exit code of the error behind it


def _error_row(section: str, name: str, exc: Exception, status: Status = "fail") -> Row:
    code = exc.exit_code if isinstance(exc, RagError) else 1
    return Row(section, name, " ".join(str(exc).split()), status, code if status == "fail" else 0)


def system_rows() -> Iterator[Row]:
    yield Row("system", "python", f"{platform.python_version()} ({sys.executable})")
    yield Row("system", "platform", platform.platform())
    yield Row("system", "cpu", cpu_model())
    flags = cpu_flags()
    yield Row("system", "cpu flags", " ".join(f for f in FEATURES if f in flags) or "(none read)",
              "ok" if "avx2" in flags or not flags else "fail", 0 if "avx2" in flags or not flags else 5)
    c = cores()
    quota = f"{c.quota:g}" if c.quota else "none"
    yield Row("system", "cores",
              f"{c.usable} usable ({c.logical} logical, affinity {c.affinity}, cgroup quota {quota})")


def build_rows() -> Iterator[Row]:
    try:
        build = llama_build()
    except Exception as exc:  # not installed, or its library does not load
        yield _error_row("llama.cpp", "llama-cpp-python", exc)
        return
    yield Row("llama.cpp", "llama-cpp-python", build.version)
    yield Row("llama.cpp", "build", build.variant, "ok" if build.portable else "warn")
    used = [name for name, on in build.features.items() if on]
    yield Row("llama.cpp", "cpu features used", " ".join(used) or "(none reported)")
    missing = [name for name in used
               if LLAMA_FEATURE_FLAGS.get(name, "") and LLAMA_FEATURE_FLAGS[name] not in cpu_flags()]
    if missing and cpu_flags():
        yield Row("llama.cpp", "unsupported by this cpu", " ".join(missing), "fail", 5)


def model_rows(settings: Settings, check_runs: bool = True) -> Iterator[Row]:
    from rag.models import known_sha256
    from rag.selfcheck import ensure_runs

    try:
        yield Row("models", "embedder", str(settings.embedder.resolve(settings.base_dir)))
    except RagError as exc:
        yield _error_row("models", "embedder", exc)
    usable = cores().usable
    used = settings.model_roles()
    for name, config in settings.llm.items():
        roles = used.get(name, [])
        label = f"llm {name}" + "".join(f" ({role})" for role in roles)
        try:
            path = config.resolve(settings.base_dir)
        except RagError as exc:  # a model the configuration does not use may simply not be installed
            yield _error_row("models", label, exc, "fail" if roles else "warn")
            continue
        size_mb = path.stat().st_size / 1e6
        yield Row("models", label, f"{path} ({size_mb:,.0f} MB, sha256 {known_sha256(path)})")
        threads, batch = default_threads(usable)
        yield Row("models", f"{name} threads", f"{config.threads or threads} generation, "
                  f"{config.threads_batch or batch} prompt" + ("" if config.threads else " (auto)"))
        if check_runs:
            try:
                ensure_runs(path, llama_build().identity)
                yield Row("models", f"{name} loads", "yes: one-token self-check passed")
            except Exception as exc:
                yield _error_row("models", f"{name} loads", exc)


def index_rows(settings: Settings, index_path: Path) -> Iterator[Row]:
    from rag.store import FORMAT_VERSION
    from rag.store_api import index_warnings, open_store, store_exists

    try:
        if not store_exists(settings, index_path):
            yield Row("index", "path", f"{index_path}: no index (build one with `rag index`)", "fail", 3)
            return
        store = open_store(settings, index_path)
    except RagError as exc:
        yield _error_row("index", "path", exc)
        return
    m = store.manifest
    yield Row("index", "path", str(store.path.resolve()))
    yield Row("index", "contents", f"{counted(len(store.documents), 'article')}, "
              f"{counted(len(store.chunks), 'chunk')}, embedder {m.embedder} ({m.dim} dims), {m.index_type} search")
    yield Row("index", "format", f"{m.format_version} (this version reads {FORMAT_VERSION}), built {m.built_at}")
    stale = index_warnings(store, index_path)
    yield Row("index", "word index", stale[0] if stale else "built by this version", "warn" if stale else "ok")


def diagnose(settings: Settings, index_path: Path, check_runs: bool = True) -> list[Row]:
    return [*system_rows(), *build_rows(), *model_rows(settings, check_runs), *index_rows(settings, index_path)]


def exit_code(rows: list[Row]) -> int:
    """The exit code of the first failed row, 0 when none failed (warnings do not count)."""
    return next((r.exit_code or 1 for r in rows if r.status == "fail"), 0)
