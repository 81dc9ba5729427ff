"""The Milvus backend's own guarantees (on Milvus Lite): publication by alias, and every broken or
unreachable index reported as one line with the project's exit codes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time

import pytest

from conftest import MODELS_TOML, PROJECT, VENV_BIN, one_line
from rag.errors import ConfigError, IndexCorruptError, IndexMissingError
from rag.store_api import open_store, store_exists
from test_store_contract import HAS_MILVUS, backend_settings, write_seeds

pytestmark = pytest.mark.skipif(not HAS_MILVUS, reason="pymilvus/milvus-lite not installed (pip install '.[milvus]')")


@pytest.fixture
def milvus(tmp_path, settings, seeds_data, seeds_index):
    """A fresh Milvus Lite index over the seeds: (settings, index dir, a client on its file)."""
    from pymilvus import MilvusClient

    from rag.store_milvus import milvus_uri

    cfg = backend_settings(settings, "milvus")
    index_dir = tmp_path / "index"
    write_seeds(cfg, index_dir, seeds_data, seeds_index)
    return cfg, index_dir, MilvusClient(milvus_uri(index_dir, cfg))


def published(client, cfg) -> str:
    return client.describe_alias(cfg.store.alias)["collection_name"]


def corrupt(cfg, index_dir) -> str:
    with pytest.raises(IndexCorruptError) as info:
        open_store(cfg, index_dir)
    message = str(info.value)
    assert one_line(message) and "rag index" in message and str(index_dir) in message and info.value.exit_code == 4
    return message


def test_one_collection_per_build_behind_the_alias(milvus, seeds_data, seeds_index):
    cfg, index_dir, client = milvus
    first = published(client, cfg)
    assert sorted(client.list_collections()) == [first, first + "_docs"]
    assert sorted(p.name for p in index_dir.iterdir()) == ["milvus.db", first]
    write_seeds(cfg, index_dir, seeds_data, seeds_index)
    second = published(client, cfg)
    assert second != first and sorted(client.list_collections()) == [second, second + "_docs"]
    assert sorted(p.name for p in index_dir.iterdir()) == ["milvus.db", second]


def test_failed_build_drops_what_it_wrote(milvus, seeds_data, seeds_index):
    cfg, index_dir, client = milvus
    before = (published(client, cfg), sorted(client.list_collections()), sorted(p.name for p in index_dir.iterdir()))

    def fail(build_dir):
        assert len(client.list_collections()) == 4  # the new build's collections exist, unpublished
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_seeds(cfg, index_dir, seeds_data, seeds_index, extra=fail)
    assert (published(client, cfg), sorted(client.list_collections()),
            sorted(p.name for p in index_dir.iterdir())) == before
    assert open_store(cfg, index_dir).search_lexical("Ottawa landmines", 1)


def test_local_files_missing(milvus):
    cfg, index_dir, client = milvus
    shutil.rmtree(index_dir / published(client, cfg))
    assert not store_exists(cfg, index_dir)
    corrupt(cfg, index_dir)


@pytest.mark.parametrize("name,damage", [
    ("manifest.json", lambda p: p.write_text("{")),
    ("manifest.json", lambda p: p.write_text(json.dumps({**json.loads(p.read_text()), "n_chunks": 3}))),
    ("manifest.json", lambda p: p.write_text(json.dumps({**json.loads(p.read_text()), "dim": 768}))),
    ("manifest.json", lambda p: p.write_text(json.dumps({**json.loads(p.read_text()), "format_version": 99}))),
    ("terms.json", lambda p: p.unlink()),
    ("milvus.json", lambda p: p.write_text("[]")),
], ids=["manifest garbage", "wrong counts", "wrong dim", "future format", "terms missing", "meta garbage"])
def test_damaged_local_files(milvus, name, damage):
    cfg, index_dir, client = milvus
    damage(index_dir / published(client, cfg) / name)
    corrupt(cfg, index_dir)


def test_other_embedder_names_both(milvus):
    cfg, index_dir, client = milvus
    path = index_dir / published(client, cfg) / "manifest.json"
    path.write_text(json.dumps({**json.loads(path.read_text()), "embedder": "bge-small-en-v1.5"}))
    message = corrupt(cfg, index_dir)
    assert "bge-small-en-v1.5" in message and cfg.embedder.name in message


def test_rows_missing_from_milvus(milvus):
    cfg, index_dir, client = milvus
    client.delete(published(client, cfg), filter="ordinal >= 10")
    client.flush(published(client, cfg))
    assert "row counts" in corrupt(cfg, index_dir)


def test_articles_collection_dropped(milvus):
    cfg, index_dir, client = milvus
    client.drop_collection(published(client, cfg) + "_docs")
    corrupt(cfg, index_dir)


def test_alias_gone_is_no_index(milvus):
    cfg, index_dir, client = milvus
    client.drop_alias(cfg.store.alias)
    assert not store_exists(cfg, index_dir)
    with pytest.raises(IndexMissingError) as info:
        open_store(cfg, index_dir)
    assert one_line(str(info.value)) and "rag index" in str(info.value) and info.value.exit_code == 3


def test_build_dropped_under_a_reader_is_one_line(milvus, seeds_data, seeds_index):
    """A reader resolves the alias once; when a newer build replaces its collection, it says so."""
    cfg, index_dir, _ = milvus
    reader = open_store(cfg, index_dir)
    write_seeds(cfg, index_dir, seeds_data, seeds_index)
    with pytest.raises(IndexMissingError) as info:
        reader.search_lexical("Ottawa landmines", 3)
    assert one_line(str(info.value)) and info.value.exit_code == 3


def test_lite_file_open_in_another_process(tmp_path, settings):
    from rag.store_milvus import milvus_uri

    cfg = backend_settings(settings, "milvus")
    db = milvus_uri(tmp_path, cfg)
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time\nfrom pymilvus import MilvusClient\n"
                               f"MilvusClient({db!r}); print('open', flush=True); time.sleep(60)"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        with pytest.raises(IndexMissingError) as info:
            open_store(cfg, tmp_path)
        assert one_line(str(info.value)) and "another process" in str(info.value) and info.value.exit_code == 3
    finally:
        holder.kill()
        holder.wait()


def test_unreachable_server(tmp_path, settings):
    cfg = backend_settings(settings, "milvus")
    cfg.store.uri, cfg.store.timeout = "http://127.0.0.1:9", 1.0  # the discard port: nothing listens
    started = time.monotonic()
    with pytest.raises(IndexMissingError) as info:
        open_store(cfg, tmp_path)
    message = str(info.value)
    assert one_line(message) and "cannot reach the Milvus server at http://127.0.0.1:9" in message
    assert info.value.exit_code == 3 and time.monotonic() - started < 30


def test_pymilvus_not_installed(tmp_path, settings, monkeypatch):
    monkeypatch.setitem(sys.modules, "pymilvus", None)  # import fails as if the extra were not installed
    with pytest.raises(ConfigError) as info:
        open_store(backend_settings(settings, "milvus"), tmp_path / "nowhere")
    assert one_line(str(info.value)) and "rag-news[milvus]" in str(info.value) and info.value.exit_code == 6


def test_large_builds_use_hnsw(tmp_path, settings, seeds_data, seeds_index):
    """Above `ann_threshold` chunks the Milvus collection is indexed with HNSW, as FAISS would be."""
    cfg = backend_settings(settings, "milvus")
    cfg.retrieval.ann_threshold = 10
    write_seeds(cfg, tmp_path, seeds_data, seeds_index)
    store = open_store(cfg, tmp_path)
    assert store.manifest.index_type == "milvus-hnsw"
    for i in range(0, len(store.chunks), 7):
        assert store.chunks[store.search_dense(store.vectors[i], 1)[0][0]].text == store.chunks[i].text


def test_passage_too_long_for_milvus_is_refused_before_writing(tmp_path, settings):
    import numpy as np

    from rag.errors import InputError
    from rag.schema import Chunk, Document
    from rag.store import new_manifest
    from rag.store_api import write_store

    cfg = backend_settings(settings, "milvus")
    text = "word " * 20_000  # one 100,000-byte paragraph without a sentence end
    doc = Document(doc_id="long", title="Long", source="long.txt", text=text, sha256="0" * 64)
    chunk = Chunk(chunk_id="long#0", doc_id="long", title="Long", text=text, start=0, end=len(text))
    manifest = new_manifest(cfg, 4, [doc], 1, ["long.txt"])
    with pytest.raises(InputError) as info:
        write_store(cfg, tmp_path / "index", manifest, [doc], [chunk], np.ones((1, 4), dtype=np.float32))
    assert one_line(str(info.value)) and "'long'" in str(info.value) and info.value.exit_code == 7
    assert not (tmp_path / "index").exists()


def test_verify_is_refused_for_milvus_in_one_line(tmp_path, settings):
    """--verify checks the FAISS backend's per-file checksums; with Milvus it says so instead of a traceback."""
    from rag.assistant import Assistant
    from rag.errors import UsageError

    with pytest.raises(UsageError) as info:
        Assistant(settings=backend_settings(settings, "milvus"), index_path=tmp_path / "index").verify_index()
    assert one_line(str(info.value)) and "milvus" in str(info.value) and "rag doctor" in str(info.value)


def test_rag_articles_over_milvus_writes_only_its_summary_to_stderr(tmp_path):
    """Milvus Lite keeps no server time stamps, and pymilvus warns so on every query iterator (the article
    listing behind `rag articles` and --source) once it has set its own log levels on import: a line of log
    among one-line errors and plain lists. Built and listed by `rag` itself, each in a process of its own
    (Milvus Lite serves one process at a time)."""
    index_dir = tmp_path / "index"
    config = tmp_path / "models.toml"
    config.write_text(MODELS_TOML.read_text(encoding="utf-8") + '\n[store]\nbackend = "milvus"\n', encoding="utf-8")
    where = ["--config", str(config), "--index-dir", str(index_dir)]
    built = subprocess.run([str(VENV_BIN / "rag"), "index", str(PROJECT / "seeds"), *where], capture_output=True,
                           text=True, timeout=600)
    assert built.returncode == 0, built.stderr
    proc = subprocess.run([str(VENV_BIN / "rag"), "articles", *where], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.splitlines()) == 5
    assert proc.stderr.splitlines() == [f"5 articles, 1 of them dated (index {index_dir})"]
