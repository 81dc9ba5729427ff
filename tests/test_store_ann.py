"""Above `retrieval.ann_threshold` chunks the FAISS index is HNSW, close to exact search and saved whole."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rag.config import PROJECT_ROOT, load_settings
from rag.schema import Chunk, Document
from rag.store import build_faiss, load_store, new_manifest, write_store


def _vectors(n: int, seed: int = 0) -> np.ndarray:
    """Unit vectors with low intrinsic dimension, like sentence embeddings (uniform random ones are not)."""
    rng = np.random.default_rng(seed)
    v = rng.standard_normal((n, 24)).astype(np.float32) @ rng.standard_normal((24, 384)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@pytest.fixture
def settings():
    s = load_settings(PROJECT_ROOT / "models.toml")
    s.retrieval.ann_threshold = 1_000
    return s


def test_exact_up_to_threshold_then_hnsw(settings) -> None:
    assert build_faiss(_vectors(1_000), settings)[1] == "flat"
    index, kind = build_faiss(_vectors(1_001), settings)
    assert kind == "hnsw" and index.ntotal == 1_001


def test_hnsw_recall_at_10(settings) -> None:
    vecs = _vectors(5_000)
    index, kind = build_faiss(vecs, settings)
    queries = _vectors(100, seed=1)
    exact = np.argsort(-(queries @ vecs.T), axis=1)[:, :10]
    _, approx = index.search(queries, 10)
    recall = np.mean([len(set(a) & set(e)) / 10 for a, e in zip(approx, exact)])
    assert kind == "hnsw" and recall >= 0.95


def test_hnsw_index_round_trips(settings, tmp_path: Path) -> None:
    n = 1_200
    doc = Document(doc_id="d", title="t", source="s", text="x" * n, sha256="0")
    chunks = [Chunk(chunk_id=f"d#{i}", doc_id="d", title="t", text=f"word{i} news", start=i, end=i + 1)
              for i in range(n)]
    vecs = _vectors(n)
    write_store(tmp_path, new_manifest(settings, 384, [doc], n, ["s"]), [doc], chunks, vecs, settings)
    store = load_store(tmp_path, settings)
    assert store.manifest.index_type == "hnsw"
    assert store.faiss_index.hnsw.efSearch >= 64  # the search depth is saved with the index
    hits = store.search_dense(vecs[42], 5)
    assert hits[0][0] == 42 and hits[0][1] == pytest.approx(1.0, abs=1e-4)
