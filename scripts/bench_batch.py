"""Bench section: embedding throughput per `[embedder] batch_size`, on real chunks in the order
`rag index` embeds them. The setting is a speed choice only (the vectors are the same to ~1e-7), and
the best size depends on the CPU's caches, not on the articles: this section is how it is chosen.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from bench_common import load_settings, summary, worker


def w_batch(texts_file: str, batch_size: int) -> dict[str, Any]:
    """Chunks per second of the ONNX encoder at one batch size, model load and a warm-up batch excluded."""
    from rag.embeddings import cached_export
    from rag.onnx_encoder import OnnxEncoder

    folder = cached_export(load_settings())
    if folder is None:
        raise RuntimeError("the embedder has no ONNX export: batch sizes are measured on it")
    texts = json.loads(Path(texts_file).read_text(encoding="utf-8"))
    enc = OnnxEncoder(folder, batch_size=batch_size)
    enc.encode(texts[:batch_size])
    started = time.perf_counter()
    enc.encode(texts)
    return {"chunks_per_s": len(texts) / (time.perf_counter() - started), "n": len(texts)}


WORKERS = {"batch": w_batch}


def bench_batch(out: dict, notes: list[str], tmp: Path, corpus: Path, sizes: list[int], sample: int,
                repeat: int) -> None:
    """Each size `repeat` times, the sizes taken in turn within each round so a drift in the machine's
    speed falls on all of them alike; one fresh process per run."""
    from rag.chunking import chunk_document
    from rag.documents import load_documents

    r = load_settings().retrieval
    documents, _, _ = load_documents([corpus])
    chunks = [c.text for d in documents for c in chunk_document(d, r.chunk_chars, r.chunk_overlap_sentences)]
    texts = chunks[:sample]
    texts_file = tmp / "batch-sample.json"
    texts_file.write_text(json.dumps(texts), encoding="utf-8")
    rates: dict[int, list[float]] = {s: [] for s in sizes}
    for _ in range(repeat):
        for size in sizes:
            rates[size].append(worker("batch", texts_file=str(texts_file), batch_size=size)["chunks_per_s"])
    for size in sizes:
        out[f"embed_batch_{size}"] = summary(rates[size], "chunks/s",
                                             f"ONNX encoder, the first {len(texts)} chunks of {corpus.name}")
    best = max(sizes, key=lambda s: out[f"embed_batch_{s}"]["median"])
    notes.append(f"batch: the fastest [embedder] batch_size here is {best} (of {', '.join(map(str, sizes))})")
