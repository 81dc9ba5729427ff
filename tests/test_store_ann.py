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
    recall = np.mean([len(set(a) & set(e)) / 10 for a, e in zip(approx, exact, strict=True)])
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


def test_a_base_index_grows_instead_of_being_rebuilt(settings) -> None:
    vecs = _vectors(1_300)
    base, kind = build_faiss(vecs[:1_200], settings)
    grown, grown_kind = build_faiss(vecs, settings, base=base)
    assert kind == grown_kind == "hnsw" and grown.ntotal == 1_300 and base.ntotal == 1_200  # a copy grew
    hits = grown.search(vecs[1_250:1_251], 1)[1]
    assert hits[0][0] == 1_250
    # a base that does not hold the first rows, or of the other kind, is ignored: a full build
    other, _ = build_faiss(_vectors(1_200, seed=5), settings)
    assert build_faiss(vecs, settings, base=other)[0].reconstruct(0) == pytest.approx(vecs[0], abs=1e-6)
    flat, flat_kind = build_faiss(vecs[:900], settings)
    assert flat_kind == "flat"
    rebuilt, rebuilt_kind = build_faiss(vecs, settings, base=flat)
    assert rebuilt_kind == "hnsw" and rebuilt.ntotal == 1_300


def test_adding_an_article_grows_the_published_hnsw_index(settings, tmp_path: Path, monkeypatch) -> None:
    """`rag index` after only adding articles passes the old index as the base (old rows first)."""
    from rag import indexer
    from rag import store as store_module

    articles = tmp_path / "articles"
    articles.mkdir()
    texts = {f"a{i:02d}": " ".join(f"Sentence {j} of article {i} about ministers." for j in range(40))
             for i in range(30)}
    for name, text in texts.items():
        (articles / f"{name}.txt").write_text(text, encoding="utf-8")

    class Fake:
        dim = 384

        def encode(self, batch, progress=None):
            return _vectors(len(batch), seed=len(batch))

    monkeypatch.setattr("rag.embeddings.index_encoder", lambda s: Fake())
    monkeypatch.setattr(indexer, "_export_encoder", lambda s: None)
    settings.retrieval.ann_threshold = 10
    index_dir = tmp_path / "index"
    first = indexer.build_index([articles], index_dir, settings)
    before = load_store(index_dir, settings)
    (articles / "b_new.txt").write_text("A new article about the ceasefire. " * 30, encoding="utf-8")
    bases = []
    real = store_module.build_faiss
    monkeypatch.setattr(store_module, "build_faiss", lambda v, s, base=None: bases.append(base) or real(v, s, base))
    report = indexer.build_index([articles], index_dir, settings)
    after = load_store(index_dir, settings)
    assert report.added == ["b_new"] and 0 < report.chunks_embedded < first.chunks_embedded
    assert bases and bases[0] is not None and bases[0].ntotal == before.faiss_index.ntotal
    assert [c.chunk_id for c in after.chunks[: len(before.chunks)]] == [c.chunk_id for c in before.chunks]
    assert after.manifest.index_type == "hnsw" and after.faiss_index.ntotal == len(after.chunks)
    # changing an article is not an append: a full build
    (articles / "a00.txt").write_text("Changed text about the ceasefire and the ministers. " * 20, encoding="utf-8")
    bases.clear()
    indexer.build_index([articles], index_dir, settings)
    assert bases == [None]
