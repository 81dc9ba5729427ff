#!/usr/bin/env python
"""Benchmarks (not tests): how fast the assistant answers, cold and warm, and how retrieval scales.

  a) cold: wall time of `rag ask` in a fresh process over a built index, against the time a fresh
     process needs just to `import sentence_transformers` (what `rag ask` avoids by using ONNX);
  b) warm: `Assistant.ask` latency over seeds/gold.jsonl after a warm-up, p50/p95;
  c) scale: a generated corpus of 100,000 chunks: embedding throughput, dense/BM25/fusion latency,
     peak RSS of the search process, recall@10 of the approximate FAISS index against exact search,
     and the time to add one article;
  d) backends: the same articles (--backend-corpus, default seeds/) indexed and searched with each
     store backend (--backends faiss,milvus): index time, size on disk, search latency per leg, and
     how often Milvus' top 5 passages are FAISS' top 5.

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
import resource
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
sys.path.insert(0, str(ROOT / "scripts"))  # bench_archive, a section of this bench in its own file
from bench_archive import WORKERS as ARCHIVE_WORKERS  # noqa: E402
from bench_archive import bench_archive  # noqa: E402

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
    wall, proc = timed([PY, __file__, "--worker", name, "--worker-args", json.dumps(args)])
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


def w_search(index_dir: str, questions: list[str], ann_threshold: int) -> dict[str, Any]:
    """Latency of each retrieval leg at scale, and the peak memory of a process that searches."""
    from rag.embeddings import query_encoder
    from rag.retrieval import Retriever, rrf
    from rag.store import load_store

    settings = load_settings(ann_threshold)
    started = time.perf_counter()
    store = load_store(Path(index_dir), settings)
    load_s = time.perf_counter() - started
    encoder = query_encoder(store, settings)
    retriever = Retriever(store, encoder, settings.retrieval)
    retriever.search("warm up")
    n = settings.retrieval.candidates
    legs: dict[str, list[float]] = {k: [] for k in ("encode", "dense", "bm25", "fusion", "retriever_search")}
    for q in questions:
        t0 = time.perf_counter()
        qvec = encoder.encode([q])[0]
        t1 = time.perf_counter()
        dense = store.search_dense(qvec, n)
        t2 = time.perf_counter()
        lex = store.search_lexical(q, n)
        t3 = time.perf_counter()
        rrf([[i for i, _ in dense], [i for i, _ in lex]], settings.retrieval.rrf_k)
        t4 = time.perf_counter()
        retriever.search(q)
        t5 = time.perf_counter()
        for key, v in zip(legs, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4), strict=True):
            legs[key].append(v)
    legs["dense+bm25+fusion"] = [a + b + c + d for a, b, c, d in
                                 zip(legs["encode"], legs["dense"], legs["bm25"], legs["fusion"], strict=True)]
    return {"legs": legs, "load_s": load_s, "chunks": len(store.chunks), "index_type": store.manifest.index_type,
            "encoder": type(encoder).__name__, "peak_rss_mb": peak_rss_mb()}


def w_add_article(corpus_dir: str, index_dir: str, ann_threshold: int) -> dict[str, Any]:
    """What `rag index` does when one article joins a big index: the real incremental path."""
    from rag.indexer import build_index

    settings = load_settings(ann_threshold)
    report = build_index([Path(corpus_dir)], Path(index_dir), settings)
    manifest = json.loads((Path(index_dir) / "current" / "manifest.json").read_text())
    return {"report": report.model_dump(), "index_type": manifest.get("index_type"), "peak_rss_mb": peak_rss_mb()}


def w_throughput(texts_file: str, which: str) -> dict[str, Any]:
    """Chunks per second of one encoder on a sample, model load excluded."""
    texts = json.loads(Path(texts_file).read_text(encoding="utf-8"))
    started = time.perf_counter()
    if which == "sentence-transformers":
        from rag.embeddings import index_encoder

        enc = index_encoder(load_settings())
    else:
        from rag.onnx_encoder import OnnxEncoder

        enc = OnnxEncoder(Path(which))
    load_s = time.perf_counter() - started
    enc.encode(texts[:32])
    started = time.perf_counter()
    vecs = enc.encode(texts)
    secs = time.perf_counter() - started
    out = Path(texts_file).with_suffix(f".{'st' if which == 'sentence-transformers' else 'onnx'}.npy")
    np.save(out, vecs)
    return {"seconds": secs, "n": len(texts), "load_s": load_s, "vectors": str(out)}


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


WORKERS = {"cold_phases": w_cold_phases, "warm": w_warm, "search": w_search, "add_article": w_add_article,
           "throughput": w_throughput, "backend_index": w_backend_index, "backend_search": w_backend_search,
           **ARCHIVE_WORKERS}


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


def _recall(index, vectors: np.ndarray, queries: np.ndarray, k: int = 10) -> float:
    exact = np.argpartition(-(queries @ vectors.T), k, axis=1)[:, :k]
    _, approx = index.search(np.ascontiguousarray(queries, dtype=np.float32), k)
    return float(np.mean([len(set(a) & set(e)) / k for a, e in zip(approx, exact, strict=True)]))


def _jitter(base: np.ndarray, cos: float, rng: np.random.Generator) -> np.ndarray:
    """Each unit vector of `base` plus Gaussian noise sized so its cosine to the original is about `cos`."""
    sigma = np.sqrt((1 / cos**2 - 1) / base.shape[1])
    out = base + rng.standard_normal(base.shape).astype(np.float32) * sigma
    return (out / np.linalg.norm(out, axis=1, keepdims=True)).astype(np.float32)


def _mix(real: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """`n` synthetic embeddings: random positive blends of 3 real ones plus noise (cosine ~0.95), the way a
    generated chunk blends sentences from several articles. Harder for ANN than near-copies of real vectors."""
    idx = rng.integers(0, len(real), (n, 3))
    weights = rng.random((n, 3)).astype(np.float32)
    blend = np.einsum("nk,nkd->nd", weights, real[idx])
    return _jitter(blend / np.linalg.norm(blend, axis=1, keepdims=True), 0.95, rng)


def bench_scale(out: dict, notes: list[str], tmp: Path, q: dict[str, Any], vectors_mode: str) -> None:
    from gen_corpus import generate, make_article, seed_sentences

    from rag.chunking import chunk_document
    from rag.documents import load_documents
    from rag.embeddings import export_query_encoder
    from rag.store import load_store, new_manifest, write_store

    rng = np.random.default_rng(0)
    settings = load_settings(q["ann_threshold"])
    r = settings.retrieval
    corpus, index_dir = tmp / "corpus", tmp / "scale-index"
    started = time.perf_counter()
    n_articles, _ = generate(corpus, q["chunks"], chunk_chars=r.chunk_chars, overlap=r.chunk_overlap_sentences)
    out["generate_corpus"] = single(time.perf_counter() - started, "s", f"{n_articles} articles")
    started = time.perf_counter()
    documents, _, _ = load_documents([corpus])
    chunks = [c for d in documents for c in chunk_document(d, r.chunk_chars, r.chunk_overlap_sentences)]
    out["read_and_chunk"] = single(time.perf_counter() - started, "s", f"{len(chunks)} chunks")
    out["chunks"] = single(len(chunks), "chunks")

    # Embedding throughput on a sample; the full corpus would take long on 2 cores.
    sample_idx = rng.choice(len(chunks), min(q["embed_sample"], len(chunks)), replace=False)
    texts_file = tmp / "sample.json"
    texts_file.write_text(json.dumps([chunks[i].text for i in sample_idx]), encoding="utf-8")
    st = worker("throughput", texts_file=str(texts_file), which="sentence-transformers")
    st_rate = st["n"] / st["seconds"]
    out["embed_throughput_st"] = single(st_rate, "chunks/s", f"sentence-transformers, sample of {st['n']} chunks")
    out["embed_100k_extrapolated_st"] = single(100_000 / st_rate, "s", "EXTRAPOLATED from the sample rate")
    sample_vecs = np.load(st["vectors"])
    export_dir = tmp / "encoder"
    from rag.onnx_encoder import export

    export(settings.embedder.resolve(settings.base_dir), export_dir)
    ox = worker("throughput", texts_file=str(texts_file), which=str(export_dir))
    out["embed_throughput_onnx"] = single(ox["n"] / ox["seconds"], "chunks/s", f"ONNX encoder, same {ox['n']} chunks")

    # The index's vectors; say exactly what they are.
    if vectors_mode == "real":
        all_file = tmp / "all.json"
        all_file.write_text(json.dumps([c.text for c in chunks]), encoding="utf-8")
        full = worker("throughput", texts_file=str(all_file), which=str(export_dir))
        vectors = np.load(full["vectors"])
        out["embed_all_onnx"] = single(full["seconds"], "s", f"ONNX encoder, all {len(chunks)} chunks")
        notes.append(f"scale: index vectors are real ONNX embeddings of all {len(chunks)} chunks")
    else:
        vectors = _mix(sample_vecs, len(chunks), rng)
        vectors[sample_idx] = sample_vecs  # the sampled chunks keep their true vectors
        notes.append(f"scale: index vectors are SYNTHETIC except the {len(sample_vecs)} sampled chunks': every other "
                     "row is a random blend of 3 real sample embeddings plus noise; dense hits are therefore not "
                     "meaningful, only latency, memory and ANN recall are (--vectors real embeds every chunk)")

    manifest = new_manifest(settings, vectors.shape[1], documents, len(chunks), [str(corpus)])
    export_s: list[float] = []

    def extra(build: Path) -> None:
        t = time.perf_counter()
        export_query_encoder(settings, build)
        export_s.append(time.perf_counter() - t)

    started = time.perf_counter()
    write_store(index_dir, manifest, documents, chunks, vectors, settings, extra=extra)
    out["write_index"] = single(time.perf_counter() - started, "s",
                                "FAISS + BM25 + metadata + ONNX export, from precomputed vectors")
    out["onnx_export"] = single(export_s[0], "s", "part of write_index")

    # Recall@10 of the index the store built, against exact inner product.
    store = load_store(index_dir, settings)
    out["index_type"] = {"value": store.manifest.index_type, "ann_threshold": r.ann_threshold}
    from rag.onnx_encoder import OnnxEncoder

    encoder = OnnxEncoder(index_dir / "current" / "encoder")
    questions = gold_questions() + [f"What did officials in {p} say about {t}?"
                                    for p, t in zip(["Vilnius", "Lisbon", "Riga", "Oslo"] * 10, ["sanctions", "tariffs",
                                                    "energy prices", "rail links", "air defence"] * 8, strict=True)]
    questions = questions[: q["search_queries"]]
    real_q = encoder.encode(questions)
    mix_q = _mix(sample_vecs, 200, rng)
    vecs = np.asarray(store.vectors, dtype=np.float32)
    out["recall10_questions"] = single(_recall(store.faiss_index, vecs, real_q), "recall",
                                       f"{len(questions)} real questions (ONNX-embedded) vs exact search")
    out["recall10_synthetic_queries"] = single(_recall(store.faiss_index, vecs, mix_q), "recall",
                                               "200 fresh blends of real embeddings vs exact search")
    if q["random_recall"]:
        from rag.store import build_faiss

        rand = rng.standard_normal(vectors.shape).astype(np.float32)
        rand /= np.linalg.norm(rand, axis=1, keepdims=True)
        started = time.perf_counter()
        index, kind = build_faiss(rand, settings)
        build_s = time.perf_counter() - started
        near = _jitter(rand[rng.choice(len(rand), 200, replace=False)], 0.95, rng)
        out["recall10_random_worst_case"] = single(_recall(index, rand, near), "recall",
                                                   f"uniformly random unit vectors, {kind}; the hardest case for ANN")
        out["faiss_build_random"] = single(build_s, "s", f"{kind} over {len(rand)} random vectors")
    del store, vecs

    s = worker("search", index_dir=str(index_dir), questions=questions, ann_threshold=r.ann_threshold)
    for leg, values in s["legs"].items():
        out[f"search_{leg}"] = summary(values, "s", f"{s['chunks']} chunks, {s['index_type']}, {s['encoder']}")
    out["search_load_index"] = single(s["load_s"], "s", "load_store in a fresh process")
    out["search_peak_rss"] = single(s["peak_rss_mb"], "MB", "fresh process: load index + ONNX encoder + queries")

    new = corpus / "zz_new_article.txt"
    import random

    new.write_text(make_article(10**6, seed_sentences(ROOT / "seeds"), random.Random(1)), encoding="utf-8")
    a = worker("add_article", corpus_dir=str(corpus), index_dir=str(index_dir), ann_threshold=r.ann_threshold)
    rep = a["report"]
    out["add_one_article"] = single(a["wall_s"], "s", f"fresh process build_index: {rep['chunks_embedded']} chunks "
                                    f"embedded, {len(rep['unchanged'])} unchanged, index {a['index_type']}")
    out["add_one_article_in_process"] = single(rep["seconds"], "s", "build_index's own timing (no interpreter start)")
    if rep["chunks_embedded"] > 20:
        notes.append(f"scale: adding one article re-embedded {rep['chunks_embedded']} chunks")


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
        console.print(f"note: {note}")


QUICK = {"repeat": 1, "cold_questions": 2, "warm_questions": 6, "chunks": 3_000, "ann_threshold": 1_000,
         "embed_sample": 200, "search_queries": 20, "random_recall": 0, "contention_questions": 6,
         "archive_warm_questions": 10}
FULL = {"repeat": 3, "cold_questions": 4, "warm_questions": None, "chunks": 100_000, "ann_threshold": None,
        "embed_sample": 2_000, "search_queries": 100, "random_recall": 0, "contention_questions": 40,
        "archive_warm_questions": 10}


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
