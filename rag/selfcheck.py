"""A model's first use runs one token in a child process, so a llama.cpp build that crashes on this CPU
(a native build on an AMX machine segfaulted in its first decode) becomes one line and exit code 5
instead of a dead terminal. The result is cached per model file and llama.cpp build: later starts pay
nothing. Run as `python -m rag.selfcheck MODEL.gguf` it is the child.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from rag.cache import cache_root
from rag.errors import ModelCrashError

CACHE_FILE = "selfcheck.json"
# One token from a short prompt: loads the model and runs a real decode, as the first answer would.
PROBE_PROMPT = "The capital of France is"
PROBE_CONTEXT = 256
# Seconds the child may take: loading a 1 GB model on a slow disk plus one decode, with room to spare.
TIMEOUT_S = 180.0
FIX = ("rebuild the portable llama.cpp wheel with `make rebuild-llama` (run `rag doctor` and include its "
       "output in a bug report)")


@dataclass(frozen=True)
class Outcome:
    ok: bool
    detail: str  # "" when ok; else what happened, for the one-line error


def cache_path() -> Path:
    return cache_root() / CACHE_FILE


def cache_key(model: Path, build_identity: str) -> str:
    st = model.stat()
    raw = f"{model.resolve()}|{st.st_size}|{st.st_mtime_ns}|{build_identity}"
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


def _read_cache(path: Path) -> dict[str, dict]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _write_cache(path: Path, key: str, outcome: Outcome, model: Path) -> None:
    """Best effort: a read-only cache folder costs a re-check next time, nothing more."""
    data = _read_cache(path)
    data[key] = {"ok": outcome.ok, "detail": outcome.detail, "model": str(model)}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass


def child_command(model: Path) -> list[str]:
    """The command of the child process: this module run on the model file."""
    return [sys.executable, "-m", "rag.selfcheck", str(model)]


def run_probe(model: Path, command: list[str] | None = None, timeout: float = TIMEOUT_S) -> Outcome:
    """Run the one-token probe in a child process and say how it ended."""
    try:
        proc = subprocess.run(command or child_command(model), capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL, errors="replace")
    except subprocess.TimeoutExpired:
        return Outcome(False, f"the one-token self-check did not finish in {timeout:.0f} s")
    except OSError as exc:
        return Outcome(False, f"the self-check could not start ({exc})")
    if proc.returncode == 0:
        return Outcome(True, "")
    if proc.returncode < 0:
        try:
            name = signal.Signals(-proc.returncode).name
        except ValueError:
            name = f"signal {-proc.returncode}"
        return Outcome(False, f"llama.cpp crashed ({name}) in a one-token self-check: this llama-cpp-python "
                              "build does not run on this CPU")
    last = (proc.stderr.strip().splitlines() or ["no message"])[-1]
    return Outcome(False, f"the one-token self-check failed (exit {proc.returncode}: {last[:200]})")


def ensure_runs(model: Path, build_identity: str, command: list[str] | None = None) -> None:
    """Raise `ModelCrashError` (exit 5) unless this model ran a token with this build, here or before."""
    path = cache_path()
    key = cache_key(model, build_identity)
    cached = _read_cache(path).get(key)
    if cached is None:
        outcome = run_probe(model, command)
        _write_cache(path, key, outcome, model)
    else:
        outcome = Outcome(bool(cached.get("ok")), str(cached.get("detail", "")))
    if not outcome.ok:
        raise ModelCrashError(f"model {model.name}: {outcome.detail}; {FIX}")


def _probe(model: str) -> int:
    """The child: load the model and decode one token. Exit 0 when it worked."""
    from llama_cpp import Llama

    llama = Llama(model_path=model, n_ctx=PROBE_CONTEXT, n_threads=1, n_threads_batch=1, verbose=False)
    llama.create_completion(PROBE_PROMPT, max_tokens=1, temperature=0.0)
    return 0


if __name__ == "__main__":
    raise SystemExit(_probe(sys.argv[1]))
