"""The store contract (rag/store_api.py), run against every backend: FAISS files and Milvus (on Milvus Lite).
The data is the seed articles with the session index's real chunks and vectors, so nothing is re-embedded."""

from __future__ import annotations

import json
import shutil
from importlib.util import find_spec
from pathlib import Path

import numpy as np
import pytest

from conftest import SEED_FILES, gold_items, one_line
from rag import embeddings
from rag.assistant import Assistant
from rag.chunking import chunk_document
from rag.config import Settings
from rag.documents import read_document
from rag.errors import IndexMissingError
from rag.lexical import tokenize
from rag.roles import Roles
from rag.store import new_manifest
from rag.store_api import Store, open_store, store_exists, write_store

HAS_MILVUS = find_spec("pymilvus") is not None and find_spec("milvus_lite") is not None
needs_milvus = pytest.mark.skipif(not HAS_MILVUS, reason="pymilvus/milvus-lite not installed (pip install '.[milvus]')")
BACKENDS = ["faiss", pytest.param("milvus", marks=needs_milvus)]
QUERIES = 20  # gold questions compared across backends


def backend_settings(settings: Settings, backend: str) -> Settings:
    cfg = settings.model_copy(deep=True)
    cfg.store.backend = backend
    assert cfg.source == settings.source  # relative paths in models.toml keep resolving beside it
    return cfg


def copy_encoder(seeds_index: Path):
    exported = seeds_index / "current" / embeddings.ENCODER_DIR

    def extra(build_dir: Path) -> None:
        shutil.copytree(exported, build_dir / embeddings.ENCODER_DIR)

    return extra


def write_seeds(cfg: Settings, index_dir: Path, seeds_data, seeds_index: Path, extra=None) -> Path:
    docs, chunks, vectors = seeds_data
    manifest = new_manifest(cfg, vectors.shape[1], docs, len(chunks), [str(p) for p in SEED_FILES])
    return write_store(cfg, index_dir, manifest, docs, chunks, vectors, extra=extra or copy_encoder(seeds_index))


@pytest.fixture(scope="module", params=BACKENDS)
def built(request, tmp_path_factory, settings, seeds_index, seeds_data):
    """(settings, index dir, loaded store) of one backend over the seeds."""
    cfg = backend_settings(settings, request.param)
    index_dir = tmp_path_factory.mktemp(f"contract-{request.param}")
    write_seeds(cfg, index_dir, seeds_data, seeds_index)
    return cfg, index_dir, open_store(cfg, index_dir)


@pytest.fixture(scope="module")
def both(tmp_path_factory, settings, seeds_index, seeds_data) -> dict[str, Store]:
    if not HAS_MILVUS:
        pytest.skip("pymilvus/milvus-lite not installed")
    stores = {}
    for backend in ("faiss", "milvus"):
        cfg = backend_settings(settings, backend)
        index_dir = tmp_path_factory.mktemp(f"both-{backend}")
        write_seeds(cfg, index_dir, seeds_data, seeds_index)
        stores[backend] = open_store(cfg, index_dir)
    return stores


def questions(n: int = QUERIES) -> list[str]:
    return [g["question"] for g in list(gold_items().values())[:n]]


# ----- the contract ---------------------------------------------------------------------------------

def test_build_then_load(built, seeds_data):
    cfg, index_dir, store = built
    docs, chunks, _ = seeds_data
    assert store_exists(cfg, index_dir)
    assert store.manifest.embedder == cfg.embedder.name and store.manifest.n_chunks == len(chunks)
    assert len(store.chunks) == len(chunks) and store.vectors.shape == (len(chunks), store.manifest.dim)
    stats = store.stats()
    assert (stats.documents, stats.chunks) == (len(docs), len(chunks))
    assert (store.path / embeddings.ENCODER_DIR / "model.onnx").is_file()  # the query encoder sits beside it
    assert store.roles().to_json() == Roles.from_texts(d.text for d in docs).to_json()


def test_documents_and_chunks_round_trip(built):
    _, _, store = built
    originals = {f.stem: read_document(f)[0] for f in SEED_FILES}
    assert list(store.documents) == list(store.manifest.documents) and set(store.documents) == set(originals)
    for doc_id, doc in originals.items():
        assert store.document(doc_id) == doc == store.documents[doc_id]
    expected = [c for d in store.documents.values() for c in chunk_document(d, store.manifest.chunk_chars,
                                                                           store.manifest.chunk_overlap)]
    assert sorted(store.chunks, key=lambda c: c.chunk_id) == sorted(expected, key=lambda c: c.chunk_id)
    for i in (0, len(store.chunks) // 2, len(store.chunks) - 1):
        chunk = store.chunks[i]
        assert store.chunk_index(chunk.chunk_id) == i
        assert store.documents[chunk.doc_id].text[chunk.start : chunk.end] == chunk.text
    with pytest.raises(IndexMissingError):
        store.document("no-such-article")


def test_dense_search_finds_a_chunk_by_its_own_vector(built):
    _, _, store = built
    for i in (0, len(store.chunks) // 2, len(store.chunks) - 1):
        (best, score), *_ = store.search_dense(np.asarray(store.vectors[i]), 3)
        assert score == pytest.approx(1.0, abs=1e-3)
        assert store.chunks[best].text == store.chunks[i].text
    rows = [0, 2, 1]
    assert np.allclose(store.vectors[rows], np.stack([store.vectors[i] for i in rows]))


def test_lexical_search_finds_a_rare_word(built):
    _, _, store = built
    hits = store.search_lexical("Ottawa convention antipersonnel landmines", 3)
    assert "Ottawa" in store.chunks[hits[0][0]].text
    rare = sorted(t for t, n in store.lexical.df.items() if n == 1 and len(t) > 6)[:5]
    assert rare
    for token in rare:
        (row, score), *rest = store.lexical.search_tokens([token], 5)
        assert token in tokenize(store.chunks[row].text) and score > 0 and not rest
    assert store.lexical.idf(rare[0]) > store.lexical.idf(max(store.lexical.df, key=store.lexical.df.get))
    assert store.search_lexical("", 5) == [] and store.lexical.search_tokens(["zzzunknownzzz"], 5) == []


def test_searches_keep_to_the_articles_within(built):
    """A narrowed question (rag/scope.py) searches only its articles, in every leg, and finds their best rows."""
    _, _, store = built
    assert [(a.doc_id, a.title, a.source, a.date) for a in store.catalog()] == [
        (d.doc_id, d.title, d.source, d.date) for d in store.documents.values()]
    other = store.chunks[0].doc_id  # the article of row 0 searched for, with another one kept
    kept = next(c.doc_id for c in store.chunks if c.doc_id != other)
    within = frozenset({kept})
    rows = [i for i, c in enumerate(store.chunks) if c.doc_id == kept]
    vec = np.asarray(store.vectors[0])
    assert store.search_dense(vec, 3)[0][0] == 0  # unnarrowed, row 0 is its own nearest
    dense = store.search_dense(vec, 3, within)
    assert len(dense) == 3 and {store.chunks[i].doc_id for i, _ in dense} == {kept}
    exact = sorted(rows, key=lambda i: -float(np.dot(store.vectors[i], vec)))[:3]
    assert [i for i, _ in dense] == exact  # the best of its rows, not whatever survives a cut
    words = store.chunks[0].text
    assert store.chunks[store.search_lexical(words, 1)[0][0]].doc_id == other
    for hits in (store.search_lexical(words, 5, within), store.search_tokens(tokenize(words), 5, within)):
        assert hits and {store.chunks[i].doc_id for i, _ in hits} == {kept}
    assert store.search_dense(vec, 3, frozenset()) == [] and store.search_lexical(words, 3, frozenset()) == []


def test_failed_build_leaves_the_published_index_working(built, seeds_data, seeds_index):
    cfg, index_dir, _ = built
    before = open_store(cfg, index_dir)
    entries = sorted(p.name for p in index_dir.iterdir())

    def interrupted(build_dir: Path) -> None:
        assert (build_dir / "manifest.json").exists() is False  # mid-build: written, not yet published
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_seeds(cfg, index_dir, seeds_data, seeds_index, extra=interrupted)
    after = open_store(cfg, index_dir)
    assert after.path.resolve() == before.path.resolve() and after.manifest == before.manifest
    assert sorted(p.name for p in index_dir.iterdir()) == entries  # nothing left behind
    assert after.search_dense(np.asarray(after.vectors[3]), 1)[0][0] == 3
    assert after.search_lexical("Ottawa landmines", 1)


def test_rebuild_publishes_the_new_build_and_drops_the_old(built, seeds_data, seeds_index):
    cfg, index_dir, _ = built
    old = open_store(cfg, index_dir).path.resolve()  # FAISS reads through the `current` link
    new_path = write_seeds(cfg, index_dir, seeds_data, seeds_index)
    new = open_store(cfg, index_dir)
    assert new.path.resolve() == new_path.resolve() != old and not old.exists()
    assert new.search_dense(np.asarray(new.vectors[5]), 1)[0][0] == 5


def test_missing_index_is_one_line(tmp_path, settings):
    for backend in ("faiss", "milvus") if HAS_MILVUS else ("faiss",):
        cfg = backend_settings(settings, backend)
        assert not store_exists(cfg, tmp_path)
        with pytest.raises(IndexMissingError) as info:
            open_store(cfg, tmp_path)
        assert one_line(str(info.value)) and "rag index" in str(info.value) and info.value.exit_code == 3
        assert not list(tmp_path.iterdir())  # looking creates nothing


# ----- the same results from both backends --------------------------------------------------------

def test_dense_search_agrees_with_faiss(both, st_encoder):
    for q, vec in zip(questions(), st_encoder.encode(questions()), strict=True):
        f, m = both["faiss"].search_dense(vec, 5), both["milvus"].search_dense(vec, 5)
        assert f[0][0] == m[0][0], q
        assert [s for _, s in f] == pytest.approx([s for _, s in m], abs=1e-4), q


def test_lexical_search_agrees_with_bm25s(both):
    for q in questions():
        f, m = both["faiss"].search_lexical(q, 10), both["milvus"].search_lexical(q, 10)
        assert [s for _, s in f] == pytest.approx([s for _, s in m], rel=1e-3), q
        assert f[0][0] == m[0][0], q


def test_reindexing_reuses_rows_with_milvus(tmp_path, settings, fast_build, seeds_copy):
    """The indexer reads the previous Milvus build back (rows and vectors) to embed only what changed."""
    if not HAS_MILVUS:
        pytest.skip("pymilvus/milvus-lite not installed")
    cfg = backend_settings(settings, "milvus")
    a = Assistant(settings=cfg, index_path=tmp_path / "index")
    first = a.index([seeds_copy])
    assert first.chunks_embedded == first.chunks > 0
    again = a.index([seeds_copy])
    assert again.chunks_embedded == 0 and sorted(again.unchanged) == sorted(f.stem for f in SEED_FILES)
    (seeds_copy / "zz_new.txt").write_text("Quadrilateral ferry pact\nThe Zanzibari delegation signed a "
                                           "quadrilateral ferry agreement with Reykjavik harbour.\n", encoding="utf-8")
    added = a.index([seeds_copy])
    assert added.added == ["zz_new"] and added.chunks_embedded == 1
    store = a.store
    hit = store.search_lexical("Zanzibari ferry", 1)[0][0]
    assert store.chunks[hit].doc_id == "zz_new"
    manifest = json.loads((store.path / "manifest.json").read_text())
    assert manifest["n_chunks"] == len(store.chunks) == first.chunks + 1
    # `rag index` with no paths re-reads the remembered sources, which Milvus keeps in its loaded manifest
    # (there is no `current` link to read them from): nothing changed, so nothing is written or warned.
    resync = a.index([])
    assert resync.chunks_embedded == 0 and not resync.added and not resync.removed and not resync.warnings
    assert "zz_new" in resync.unchanged and a.store.manifest.sources == [str(seeds_copy.absolute())]


def test_gold_answers_are_the_same_with_both_backends(assistant, tmp_path_factory, settings, seeds_index,
                                                      seeds_data):
    """End to end with the real embedder, retrieval and LLM: the first gold questions, answered from a
    Milvus index, give the FAISS index's answers word for word, citing the same passages."""
    if not HAS_MILVUS:
        pytest.skip("pymilvus/milvus-lite not installed")
    cfg = backend_settings(settings, "milvus")
    index_dir = tmp_path_factory.mktemp("gold-milvus")
    write_seeds(cfg, index_dir, seeds_data, seeds_index)
    milvus = Assistant(settings=cfg, index_path=index_dir)
    milvus._llm = assistant.llm  # one loaded model for the session
    llama = assistant.llm.load()
    for q in questions():
        # llama.cpp reuses the evaluated prefix of the previous prompt, and a prompt evaluated in other
        # batches can tip a greedy choice: each answer starts from an empty cache, as in a fresh process.
        llama.reset()
        f = assistant.ask(q)
        llama.reset()
        m = milvus.ask(q)
        assert (m.answer, m.mode) == (f.answer, f.mode), q
        assert [c.chunk_id for c in m.citations] == [c.chunk_id for c in f.citations], q
        assert [r.chunk_id for r in m.retrieved] == [r.chunk_id for r in f.retrieved], q
