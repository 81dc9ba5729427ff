"""What every section of the bench (scripts/bench.py) shares: the figures' shape, fresh worker processes,
peak memory, the settings and questions it measures with."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).with_name("bench.py")  # workers run as `bench.py --worker NAME`
SHARED_EVAL = ROOT.parent / "shared" / "eval"  # the dev sets beside the repository (never copied into it)
PY = sys.executable
RAG = str(Path(PY).with_name("rag"))
RESULT = "BENCH_RESULT "  # a worker's last stdout line: this prefix, then JSON
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
       "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
HEAVY = ("torch", "transformers", "sentence_transformers", "sklearn")


# ----- figures -------------------------------------------------------------------------------
def summary(samples: list[float], unit: str = "s", note: str = "") -> dict[str, Any]:
    a = np.asarray(samples, dtype=float)
    return {"median": float(np.median(a)), "min": float(a.min()), "max": float(a.max()),
            "p95": float(np.percentile(a, 95)), "n": len(a), "unit": unit, "note": note,
            "samples": [round(float(x), 6) for x in a]}


def single(value: float, unit: str, note: str = "") -> dict[str, Any]:
    return summary([value], unit, note)


def timed(cmd: list[str], **kw: Any) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=ENV, cwd=ROOT, **kw)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])}... exited {proc.returncode}: {proc.stderr.strip()[-800:]}")
    return wall, proc


def worker(name: str, **args: Any) -> dict[str, Any]:
    """Run `bench.py --worker name` in a fresh process; its wall time is added as `wall_s`."""
    wall, proc = timed([PY, str(BENCH), "--worker", name, "--worker-args", json.dumps(args)])
    line = next(ln for ln in reversed(proc.stdout.splitlines()) if ln.startswith(RESULT))
    return {**json.loads(line[len(RESULT):]), "wall_s": wall}


def peak_rss_mb() -> float:
    """This process's peak resident memory. VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the
    forking parent across exec, which would charge the bench's own memory to every worker."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def gold_questions(limit: int | None = None) -> list[str]:
    lines = (ROOT / "seeds" / "gold.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(x)["question"] for x in lines if x.strip()][:limit]


def load_settings(ann_threshold: int | None = None, backend: str | None = None):
    from rag.config import load_settings as load

    settings = load(ROOT / "models.toml")
    if ann_threshold:
        settings.retrieval.ann_threshold = ann_threshold
    if backend:
        settings.store.backend = backend
    return settings
