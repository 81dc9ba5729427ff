"""The bench's synthetic-scale section (a section of scripts/bench.py): a generated corpus of 100,000 chunks
for embedding throughput, per-leg search latency, search memory, ANN recall against exact search and the
time to add one article. Its vectors are synthetic unless `--vectors real`: latency, memory and ANN recall
are real, dense hits are not."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
from bench_common import ROOT, gold_questions, load_settings, peak_rss_mb, single, summary, worker


# ----- workers (each in a fresh process) -----------------------------------------------------
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


WORKERS = {"search": w_search, "add_article": w_add_article, "throughput": w_throughput}


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
