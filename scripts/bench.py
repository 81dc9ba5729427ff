#!/usr/bin/env python
"""Benchmarks (not tests): how fast the assistant answers, cold and warm, and how retrieval scales.

  a) cold: wall time of `rag ask` in a fresh process over a built index, against the time a fresh
     process needs just to `import sentence_transformers` (what `rag ask` avoids by using ONNX);
  b) warm: `Assistant.ask` latency over seeds/gold.jsonl after a warm-up, p50/p95;
  c) scale (scripts/bench_scale.py): a generated corpus of 100,000 chunks: embedding throughput,
     dense/BM25/fusion latency, peak RSS of the search process, recall@10 of the approximate FAISS index
     against exact search, and the time to add one article;
  d) backends: the same articles (--backend-corpus, default seeds/) indexed and searched with each
     store backend (--backends faiss,milvus): index time, size on disk, search latency per leg, and
     how often Milvus' top 5 passages are FAISS' top 5;
  e) archive (scripts/bench_archive.py, run first): a real archive indexed whole and questions about a
     few of its articles asked among all the others;
  f) batch (scripts/bench_batch.py): the ONNX encoder's chunks per second at each `[embedder]
     batch_size` (--batch-sizes), on the archive's chunks (seeds/ without it): how that setting is chosen.

Every measured phase runs in its own fresh subprocess, so imports and peak memory are not shared.
Prints a table and writes all figures (raw samples included) to JSON.

    .venv/bin/python scripts/bench.py              # full run, tens of minutes on 2 cores
    .venv/bin/python scripts/bench.py --quick      # smoke run, a few minutes
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))  # the helpers and the sections kept in their own files
from bench_archive import WORKERS as ARCHIVE_WORKERS  # noqa: E402
from bench_archive import bench_archive  # noqa: E402
from bench_batch import WORKERS as BATCH_WORKERS  # noqa: E402
from bench_batch import bench_batch  # noqa: E402
from bench_common import (  # noqa: E402
    HEAVY,
    PY,
    RAG,
    RESULT,
    SHARED_EVAL,
    gold_questions,
    load_settings,
    peak_rss_mb,
    single,
    summary,
    timed,
    worker,
)
from bench_scale import WORKERS as SCALE_WORKERS  # noqa: E402
from bench_scale import bench_scale  # noqa: E402


# ----- workers (each in a fresh process) -----------------------------------------------------
def w_cold_phases(index_dir: str, question: str) -> dict[str, Any]:
    """Where a single-shot answer's time goes: imports, index, encoder, search, LLM load, answer."""
    t = [time.perf_counter()]
    from rag.assistant import Assistant

    a = Assistant(load_settings(), index_dir)
    t.append(time.perf_counter())
    _ = a.store
    t.append(time.perf_counter())
    _ = a.retriever
    t.append(time.perf_counter())
    a.retriever.search(question)
    t.append(time.perf_counter())
    a.llm.load()
    t.append(time.perf_counter())
    answer = a.ask(question)
    t.append(time.perf_counter())
    names = ["import", "load_index", "load_query_encoder", "first_search", "load_llm", "answer"]
    return {"phases": dict(zip(names, np.diff(t).tolist(), strict=True)), "mode": answer.mode,
            "heavy_imported": [m for m in HEAVY if m in sys.modules]}


def w_warm(index_dir: str, questions: list[str], threads: list[int] | None = None) -> dict[str, Any]:
    from rag.assistant import Assistant

    a = Assistant(load_settings(), index_dir)
    if threads:  # (generation, prompt) threads instead of models.toml's / the automatic choice
        a.llm_config.threads, a.llm_config.threads_batch = threads
    a.warm_up()
    a.ask(questions[0])  # the first answer still pays for lazy caches
    lat, modes = [], []
    for q in questions:
        started = time.perf_counter()
        modes.append(a.ask(q).mode)
        lat.append(time.perf_counter() - started)
    return {"latency_s": lat, "modes": modes, "peak_rss_mb": peak_rss_mb()}


def w_backend_index(corpus_dir: str, index_dir: str, backend: str) -> dict[str, Any]:
    """`rag index` of a corpus into one store backend, from scratch."""
    from rag.indexer import build_index

    report = build_index([Path(corpus_dir)], Path(index_dir), load_settings(backend=backend))
    return {"report": report.model_dump(), "peak_rss_mb": peak_rss_mb()}


def w_backend_search(index_dir: str, backend: str, questions: list[str]) -> dict[str, Any]:
    """Each retrieval leg through the store interface, and the top 5 passages of every question."""
    from rag.embeddings import query_encoder
    from rag.retrieval import Retriever
    from rag.store_api import open_store

    settings = load_settings(backend=backend)
    started = time.perf_counter()
    store = open_store(settings, Path(index_dir))
    load_s = time.perf_counter() - started
    encoder = query_encoder(store, settings)
    retriever = Retriever(store, encoder, settings.retrieval)
    retriever.search("warm up")
    n = settings.retrieval.candidates
    legs: dict[str, list[float]] = {k: [] for k in ("dense", "bm25", "retriever_search")}
    top5 = []
    for q in questions:
        qvec = encoder.encode([q])[0]
        t0 = time.perf_counter()
        store.search_dense(qvec, n)
        t1 = time.perf_counter()
        store.search_lexical(q, n)
        t2 = time.perf_counter()
        passages = retriever.search(q)
        t3 = time.perf_counter()
        for key, v in zip(legs, (t1 - t0, t2 - t1, t3 - t2), strict=True):
            legs[key].append(v)
        top5.append([p.chunk_id for p in passages[:5]])
    return {"legs": legs, "load_s": load_s, "chunks": len(store.chunks), "top5": top5, "peak_rss_mb": peak_rss_mb()}


WORKERS = {"cold_phases": w_cold_phases, "warm": w_warm, "backend_index": w_backend_index,
           "backend_search": w_backend_search, **SCALE_WORKERS, **ARCHIVE_WORKERS,
           **BATCH_WORKERS}


# ----- the three benchmarks ------------------------------------------------------------------
def bench_cold(out: dict, notes: list[str], tmp: Path, q: dict[str, Any]) -> Path:
    index_dir = tmp / "seeds-index"
    wall, _ = timed([RAG, "index", str(ROOT / "seeds"), "--index-dir", str(index_dir)])
    out["index_seeds"] = single(wall, "s", "`rag index seeds/` from scratch, incl. ONNX export")
    questions = gold_questions()[: q["cold_questions"]]
    ask, st_import, enc = [], [], []
    encoder_dir = index_dir / "current" / "encoder"
    enc_code = ("import sys\nfrom pathlib import Path\nfrom rag.onnx_encoder import OnnxEncoder\n"
                f"OnnxEncoder(Path({str(encoder_dir)!r})).encode([{questions[0]!r}])\n"
                f"assert not [m for m in {HEAVY!r} if m in sys.modules]\n")
    for _ in range(q["repeat"]):  # interleaved, so drifting machine load hits every series alike
        for question in questions:
            ask.append(timed([RAG, "ask", question, "--index-dir", str(index_dir), "--json"])[0])
        st_import.append(timed([PY, "-c", "import sentence_transformers"])[0])
        enc.append(timed([PY, "-c", enc_code])[0])
    out["rag_ask_cold"] = summary(ask, "s", f"fresh `rag ask --json`, {len(questions)} questions x {q['repeat']}")
    out["import_sentence_transformers"] = summary(st_import, "s", "fresh `python -c 'import sentence_transformers'`")
    out["onnx_query_encoder_cold"] = summary(enc, "s", "fresh process: import + session + encode 1 query")
    ratio = out["rag_ask_cold"]["median"] / out["import_sentence_transformers"]["median"]
    out["ratio_ask_over_st_import"] = single(ratio, "x", "median rag ask / median import sentence_transformers")
    phases = [worker("cold_phases", index_dir=str(index_dir), question=question) for question in questions]
    for name in phases[0]["phases"]:
        out[f"phase_{name}"] = summary([p["phases"][name] for p in phases], "s", "one fresh process per question")
    heavy = sorted({m for p in phases for m in p["heavy_imported"]})
    out["answer_modes"] = {"modes": [p["mode"] for p in phases], "heavy_modules_imported": heavy}
    if heavy:
        notes.append(f"cold: the ask path imported {heavy}")
    return index_dir


def bench_warm(out: dict, index_dir: Path, q: dict[str, Any]) -> None:
    questions = gold_questions(q["warm_questions"])  # None: all of them
    r = worker("warm", index_dir=str(index_dir), questions=questions)
    out["ask_latency"] = summary(r["latency_s"], "s", f"Assistant.ask after warm-up, {len(questions)} gold questions")
    out["ask_latency_p50"] = single(float(np.percentile(r["latency_s"], 50)), "s")
    out["ask_latency_p95"] = single(float(np.percentile(r["latency_s"], 95)), "s")
    out["peak_rss"] = single(r["peak_rss_mb"], "MB", "warm process incl. LLM")
    out["modes"] = {m: r["modes"].count(m) for m in sorted(set(r["modes"]))}
    slowest = sorted(zip(r["latency_s"], questions, strict=True), reverse=True)[:3]
    out["slowest"] = {"questions": [{"s": round(t, 2), "q": question} for t, question in slowest]}


BUSY_LOOP = "while True: pass"  # one CPU-bound process beside the assistant, as a user's other work


def bench_contention(out: dict, index_dir: Path, q: dict[str, Any]) -> None:
    """Warm answers with one competing CPU-bound process running, against the same questions idle: the
    automatic thread choice, and every core for generation (what llama.cpp does by default)."""
    from rag.hardware import cores

    questions = gold_questions(q["contention_questions"])
    usable = cores().usable
    idle = worker("warm", index_dir=str(index_dir), questions=questions)["latency_s"]
    out["idle_auto_threads"] = summary(idle, "s", f"warm ask, idle machine, {len(questions)} gold questions")
    runs = {"busy_auto_threads": None, "busy_all_cores": [usable, usable]}
    for name, threads in runs.items():
        hog = subprocess.Popen([PY, "-c", BUSY_LOOP])
        try:
            lat = worker("warm", index_dir=str(index_dir), questions=questions, threads=threads)["latency_s"]
        finally:
            hog.kill()
            hog.wait()
        label = "automatic threads" if threads is None else f"threads = threads_batch = {usable}"
        out[name] = summary(lat, "s", f"warm ask, one busy process beside it, {label}")
    out["busy_over_idle_p50"] = single(out["busy_auto_threads"]["median"] / out["idle_auto_threads"]["median"],
                                       "x", "target <= 2 (issue: threads that survive a busy machine)")


def bench_backends(out: dict, notes: list[str], tmp: Path, q: dict[str, Any], backends: list[str],
                   corpus: Path) -> None:
    """The same articles through each store backend: index, size on disk, search legs, agreement."""
    questions = gold_questions(q["search_queries"])
    tops: dict[str, list[list[str]]] = {}
    for backend in backends:
        index_dir = tmp / f"backend-{backend}"
        r = worker("backend_index", corpus_dir=str(corpus), index_dir=str(index_dir), backend=backend)
        rep = r["report"]
        size = sum(f.stat().st_size for f in index_dir.rglob("*") if f.is_file() and not f.is_symlink())
        out[f"{backend}_index"] = single(r["wall_s"], "s", f"fresh process build_index of {corpus.name}: "
                                         f"{rep['documents']} articles, {rep['chunks']} chunks embedded")
        out[f"{backend}_index_peak_rss"] = single(r["peak_rss_mb"], "MB", "indexing process")
        out[f"{backend}_size_on_disk"] = single(size / 2**20, "MB", "index folder (Milvus Lite file included)")
        s = worker("backend_search", index_dir=str(index_dir), backend=backend, questions=questions)
        for leg, values in s["legs"].items():
            out[f"{backend}_search_{leg}"] = summary(values, "s", f"{s['chunks']} chunks, {len(questions)} questions")
        out[f"{backend}_load_index"] = single(s["load_s"], "s", "open_store in a fresh process")
        out[f"{backend}_search_peak_rss"] = single(s["peak_rss_mb"], "MB", "fresh process: load + encoder + queries")
        tops[backend] = s["top5"]
    if "faiss" in tops:
        for backend in (b for b in tops if b != "faiss"):
            same = [a == b for a, b in zip(tops["faiss"], tops[backend], strict=True)]
            out[f"{backend}_top5_same_as_faiss"] = single(sum(same) / len(same), "share",
                                                          "questions whose top 5 passages are FAISS' own, in order")
            if not all(same):
                notes.append(f"backends: {backend}'s top 5 differs from FAISS' for {same.count(False)} questions")


# ----- output --------------------------------------------------------------------------------
def machine() -> dict[str, Any]:
    import faiss
    import onnxruntime

    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
    return {"cores": os.cpu_count(), "usable_cores": len(os.sched_getaffinity(0)), "cpu": cpu,
            "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
            "python": platform.python_version(), "numpy": np.__version__, "faiss": faiss.__version__,
            "onnxruntime": onnxruntime.__version__, "loadavg_start": os.getloadavg()}


def show(results: dict[str, dict[str, Any]], info: dict[str, Any], notes: list[str]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"rag benchmarks — {info['usable_cores']} cores, {info['cpu']}, load {info['loadavg_start']}")
    for col in ("section", "metric", "median", "min", "max", "n", "unit", "note"):
        table.add_column(col, justify="right" if col in ("median", "min", "max", "n") else "left",
                         overflow="fold", max_width=60 if col == "note" else None)
    for section, metrics in results.items():
        for name, m in metrics.items():
            if "median" not in m:
                table.add_row(section, name, "", "", "", "", "", json.dumps(m))
                continue
            precise = m["unit"] in ("s", "recall", "share") and m["median"] < 10
            fmt = (lambda x: f"{x:.4f}") if precise else (lambda x: f"{x:,.1f}")
            table.add_row(section, name, fmt(m["median"]), fmt(m["min"]), fmt(m["max"]), str(m["n"]), m["unit"],
                          m["note"])
    console = Console(width=200)
    console.print(table)
    for note in notes:
        console.print(f"note: {note}", markup=False)


QUICK = {"repeat": 1, "cold_questions": 2, "warm_questions": 6, "chunks": 3_000, "ann_threshold": 1_000,
         "embed_sample": 200, "search_queries": 20, "random_recall": 0, "contention_questions": 6,
         "archive_warm_questions": 10, "batch_sample": 200}
FULL = {"repeat": 3, "cold_questions": 4, "warm_questions": None, "chunks": 100_000, "ann_threshold": None,
        "embed_sample": 2_000, "search_queries": 100, "random_recall": 0, "contention_questions": 40,
        "archive_warm_questions": 10, "batch_sample": 1_500}


def main() -> None:
    p = argparse.ArgumentParser(description="Benchmarks: cold and warm answers, retrieval at 100k chunks.")
    p.add_argument("--quick", action="store_true", help="small numbers, for a smoke run")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results.json", help="JSON file to write")
    p.add_argument("--skip-cold", action="store_true")
    p.add_argument("--skip-warm", action="store_true")
    p.add_argument("--skip-scale", action="store_true")
    p.add_argument("--skip-backends", action="store_true")
    p.add_argument("--backends", default="faiss,milvus",
                   help="store backends to compare (default faiss,milvus; milvus needs pip install '.[milvus]')")
    p.add_argument("--backend-corpus", type=Path, default=ROOT / "seeds",
                   help="articles the backends are compared on (default seeds/; e.g. ../shared/eval/bbc-all)")
    p.add_argument("--skip-contention", action="store_true", help="skip the busy-machine latency runs")
    p.add_argument("--skip-archive", action="store_true", help="skip the real-archive section")
    p.add_argument("--archive", type=Path, default=SHARED_EVAL / "bbc-all",
                   help="a real archive to index whole (default ../shared/eval/bbc-all; skipped if absent)")
    p.add_argument("--archive-gold", type=Path, default=SHARED_EVAL / "bbc-dev" / "gold.jsonl",
                   help="gold questions about some of the archive's articles; their own articles sit in "
                        "articles/ beside it (default ../shared/eval/bbc-dev/gold.jsonl)")
    p.add_argument("--skip-batch", action="store_true", help="skip the embedding batch-size section")
    p.add_argument("--batch-sizes", default="8,12,16,24,32",
                   help="[embedder] batch_size values to time (default 8,12,16,24,32)")
    p.add_argument("--chunks", type=int, help="scale corpus size (default 100000; --quick 3000)")
    p.add_argument("--repeat", type=int, help="repeats of each cold measurement (default 3)")
    p.add_argument("--vectors", choices=["synthetic", "real"], default="synthetic",
                   help="scale index vectors: synthetic (jittered real sample) or real (ONNX-embed every chunk: slow)")
    p.add_argument("--random-recall", action="store_true",
                   help="also build an index of uniformly random vectors (ANN's worst case; minutes at 100k)")
    p.add_argument("--keep", action="store_true", help="keep the temporary folder (indexes, corpus)")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--worker-args", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        result = WORKERS[args.worker](**json.loads(args.worker_args))
        print(RESULT + json.dumps(result))
        return

    q = dict(QUICK if args.quick else FULL)
    q.update({k: v for k, v in (("chunks", args.chunks), ("repeat", args.repeat)) if v})
    q["random_recall"] = int(args.random_recall)
    info, notes = machine(), []
    results: dict[str, dict[str, Any]] = {}
    tmp = Path(tempfile.mkdtemp(prefix="rag-bench-"))
    started = time.perf_counter()
    try:
        backends = [b.strip() for b in args.backends.split(",") if b.strip()]
        if not args.skip_archive and args.archive.is_dir() and args.archive_gold.is_file():
            bench_archive(results.setdefault("archive", {}), notes, tmp, args.archive, args.archive_gold,
                          backends, q["archive_warm_questions"])
            results["archive"]["loadavg_after"] = {"1min_5min_15min": os.getloadavg()}
        elif not args.skip_archive:
            notes.append(f"archive: {args.archive} or {args.archive_gold} is absent; section skipped")
        if not args.skip_batch:
            corpus = args.archive if args.archive.is_dir() else ROOT / "seeds"
            sizes = [int(x) for x in args.batch_sizes.split(",") if x.strip()]
            bench_batch(results.setdefault("batch", {}), notes, tmp, corpus, sizes, q["batch_sample"], q["repeat"])
            results["batch"]["loadavg_after"] = {"1min_5min_15min": os.getloadavg()}
        index_dir = tmp / "seeds-index"
        if not args.skip_cold:
            index_dir = bench_cold(results.setdefault("cold", {}), notes, tmp, q)
            results["cold"]["loadavg_after"] = {"1min_5min_15min": os.getloadavg()}
        elif not (args.skip_warm and args.skip_contention):
            timed([RAG, "index", str(ROOT / "seeds"), "--index-dir", str(index_dir)])
        if not args.skip_warm:
            bench_warm(results.setdefault("warm", {}), index_dir, q)
            results["warm"]["loadavg_after"] = {"1min_5min_15min": os.getloadavg()}
        if not args.skip_contention:
            bench_contention(results.setdefault("contention", {}), index_dir, q)
        if not args.skip_scale:
            bench_scale(results.setdefault("scale", {}), notes, tmp, q, args.vectors)
            results["scale"]["loadavg_after"] = {"1min_5min_15min": os.getloadavg()}
        if not args.skip_backends:
            bench_backends(results.setdefault("backends", {}), notes, tmp, q, backends, args.backend_corpus)
            results["backends"]["loadavg_after"] = {"1min_5min_15min": os.getloadavg()}
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    info["loadavg_end"] = os.getloadavg()
    info["total_s"] = round(time.perf_counter() - started, 1)
    show(results, info, notes)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"machine": info, "settings": q, "quick": args.quick, "results": results,
                                    "notes": notes}, indent=2), encoding="utf-8")
    print(f"wrote {args.out} ({info['total_s']}s)")


if __name__ == "__main__":
    main()
