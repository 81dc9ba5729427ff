"""The index on disk: written, published atomically, loaded and checked; damage is one clear error."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from datetime import datetime

import numpy as np
import pytest

import rag.builds
import rag.store
from conftest import SEED_FILES, copy_index, index_fingerprint, one_line
from rag.chunking import chunk_document
from rag.documents import read_document
from rag.errors import IndexCorruptError, IndexMissingError
from rag.store import index_exists, load_store, new_manifest, write_store


def test_seeds_index_is_written_then_loaded(store, settings, seeds_index):
    m = store.manifest
    assert index_exists(seeds_index)
    assert store.path.resolve().parent == seeds_index.resolve()
    assert store.path.resolve().name.startswith("build-")
    assert m.embedder == settings.embedder.name
    assert m.chunk_chars == settings.retrieval.chunk_chars
    assert m.chunk_overlap == settings.retrieval.chunk_overlap_sentences
    n = len(store.chunks)
    assert n == m.n_chunks == store.vectors.shape[0] == store.faiss_index.ntotal == store.lexical.size > 0
    assert store.vectors.shape[1] == m.dim
    assert m.documents == {f.stem: hashlib.sha256(f.read_bytes()).hexdigest() for f in SEED_FILES}
    assert set(store.documents) == set(m.documents)
    for c in store.chunks:
        assert store.documents[c.doc_id].text[c.start : c.end] == c.text
    assert len({c.chunk_id for c in store.chunks}) == n
    assert np.allclose(np.linalg.norm(store.vectors, axis=1), 1.0, atol=1e-3)
    stats = store.stats()
    assert (stats.documents, stats.chunks, stats.embedder, stats.built_at) == (len(SEED_FILES), n, m.embedder,
                                                                               m.built_at)


def test_dense_search_finds_a_chunk_by_its_own_vector(store):
    for i in (0, len(store.chunks) // 2, len(store.chunks) - 1):
        (best, score), *_ = store.search_dense(np.asarray(store.vectors[i]), 3)
        assert score == pytest.approx(1.0, abs=1e-3)
        assert store.chunks[best].text == store.chunks[i].text


def test_lexical_search_uses_the_same_rows(store):
    target = next(i for i, c in enumerate(store.chunks) if "Ottawa" in c.text)
    hits = store.search_lexical("Ottawa convention antipersonnel landmines", 3)
    assert "Ottawa" in store.chunks[hits[0][0]].text
    assert target in [i for i, _ in hits]


def test_unknown_document(store):
    with pytest.raises(IndexMissingError):
        store.document("no-such-article")


def test_missing_index(tmp_path, settings):
    assert not index_exists(tmp_path)
    with pytest.raises(IndexMissingError) as info:
        load_store(tmp_path, settings)
    assert one_line(str(info.value)) and "rag index" in str(info.value) and info.value.exit_code == 3


def _truncate(path, keep: float = 0.5):
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


def _drop_last_line(path):
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines[:-1]), encoding="utf-8")


def _plant(path, claim: str = "Berlin is the capital of France. "):
    """Insert a false sentence into the first record's text, keeping the file valid JSON lines."""
    lines = path.read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[0])
    record["text"] = claim + record["text"]
    lines[0] = json.dumps(record)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _edit_manifest(**changes):
    def edit(path):
        data = json.loads(path.read_text())
        data.update(changes)
        path.write_text(json.dumps(data))
    return edit


DAMAGE = {
    "faiss truncated": ("vectors.faiss", _truncate),
    "faiss garbage": ("vectors.faiss", lambda p: p.write_bytes(b"not a faiss index" * 10)),
    "chunks truncated mid-line": ("chunks.jsonl", lambda p: _truncate(p, 0.37)),
    "chunks line missing": ("chunks.jsonl", _drop_last_line),
    "chunks not json": ("chunks.jsonl", lambda p: p.write_text("{oops\n" * 3)),
    "documents garbage": ("documents.jsonl", lambda p: p.write_text("[1, 2]\n")),
    "documents emptied": ("documents.jsonl", lambda p: p.write_text("")),
    "documents edited": ("documents.jsonl", lambda p: _plant(p)),
    "chunks edited": ("chunks.jsonl", lambda p: _plant(p)),
    "vectors truncated": ("vectors.npy", _truncate),
    "bm25 missing": ("bm25", shutil.rmtree),
    "manifest garbage": ("manifest.json", lambda p: p.write_text("{")),
    "manifest wrong counts": ("manifest.json", _edit_manifest(n_chunks=3)),
    "manifest future format": ("manifest.json", _edit_manifest(format_version=99)),
    "manifest other embedder": ("manifest.json", _edit_manifest(embedder="bge-small-en-v1.5")),
}


@pytest.mark.parametrize("what", DAMAGE)
def test_damaged_index_is_one_clear_error(tmp_path, seeds_index, settings, what):
    index = copy_index(seeds_index, tmp_path / "index")
    name, damage = DAMAGE[what]
    damage(index / "current" / name)
    with pytest.raises(IndexCorruptError) as info:
        load_store(index, settings)
    message = str(info.value)
    assert "rag index" in message and str(index) in message
    assert one_line(message), message
    assert info.value.exit_code == 4


def test_other_embedder_message_names_both(tmp_path, seeds_index, settings):
    index = copy_index(seeds_index, tmp_path / "index")
    _edit_manifest(embedder="bge-small-en-v1.5")(index / "current" / "manifest.json")
    with pytest.raises(IndexCorruptError) as info:
        load_store(index, settings)
    assert "bge-small-en-v1.5" in str(info.value) and settings.embedder.name in str(info.value)


# ----- writing -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def embedded(settings, st_encoder):
    """One real article, chunked and embedded with the real embedder."""
    doc, _ = read_document(SEED_FILES[1])
    chunks = chunk_document(doc, settings.retrieval.chunk_chars, settings.retrieval.chunk_overlap_sentences)
    return doc, chunks, st_encoder.encode([c.text for c in chunks])


@pytest.fixture
def small(settings, embedded):
    doc, chunks, vectors = embedded

    def write(index_dir, extra=None):
        manifest = new_manifest(settings, vectors.shape[1], [doc], len(chunks), [str(SEED_FILES[1])])
        return write_store(index_dir, manifest, [doc], chunks, vectors, settings, extra=extra)

    return write, doc, chunks


def test_write_store_publishes_one_build(tmp_path, settings, small):
    write, doc, chunks = small
    index = tmp_path / "index"
    build = write(index)
    assert (index / "current").is_symlink() and os.readlink(index / "current") == build.name
    loaded = load_store(index, settings)
    assert [c.chunk_id for c in loaded.chunks] == [c.chunk_id for c in chunks]
    assert loaded.documents[doc.doc_id].text == doc.text
    assert [p.name for p in index.iterdir() if p.name.startswith("build-")] == [build.name]


def test_large_indexes_switch_to_hnsw(tmp_path, settings, embedded):
    doc, chunks, vectors = embedded
    ann = settings.model_copy(deep=True)
    ann.retrieval.ann_threshold = len(chunks) - 1
    manifest = new_manifest(ann, vectors.shape[1], [doc], len(chunks), ["x"])
    write_store(tmp_path / "index", manifest, [doc], chunks, vectors, ann)
    loaded = load_store(tmp_path / "index", ann)
    assert loaded.manifest.index_type == "hnsw" and "HNSW" in type(loaded.faiss_index).__name__
    for i in range(len(chunks)):
        assert loaded.search_dense(np.asarray(vectors[i]), 1)[0][0] == i
    small = load_store(tmp_path / "index", settings)  # any loader reads it, whatever its threshold
    assert small.faiss_index.ntotal == len(chunks)


def test_rebuild_replaces_and_cleans_up_the_old_build(tmp_path, settings, small):
    write, _, _ = small
    index = tmp_path / "index"
    first = write(index)
    second = write(index)
    assert second != first and not first.exists()
    assert os.readlink(index / "current") == second.name
    load_store(index, settings)


def test_two_builds_in_the_same_second(tmp_path, settings, small, monkeypatch):
    class Frozen(datetime):  # every build starts in the very same second
        @classmethod
        def now(cls, tz=None):
            return datetime(2025, 3, 1, 12, 0, 0, tzinfo=tz)

    monkeypatch.setattr(rag.builds, "datetime", Frozen)
    write, _, _ = small
    index = tmp_path / "index"
    first = write(index)
    second = write(index)
    assert second != first and not first.exists()
    assert os.readlink(index / "current") == second.name
    assert [p.name for p in index.iterdir() if p.name != "current"] == [second.name]  # no stray links or folders
    load_store(index, settings)


def test_failed_write_leaves_the_published_index_alone(tmp_path, settings, small, seeds_index):
    write, _, _ = small
    index = copy_index(seeds_index, tmp_path / "index")
    before = index_fingerprint(index)

    def interrupted(build_dir):
        assert (build_dir / "vectors.faiss").is_file()  # we are mid-build
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write(index, extra=interrupted)
    assert index_fingerprint(index) == before
    assert not [p for p in index.iterdir() if p.name.endswith(".partial")]
    assert load_store(index, settings).manifest.n_chunks == json.loads(before["manifest"])["n_chunks"]


def test_refuses_to_replace_a_current_folder_that_is_not_a_link(tmp_path, small):
    write, _, _ = small
    index = tmp_path / "index"
    (index / "current").mkdir(parents=True)
    (index / "current" / "precious.txt").write_text("keep me")
    with pytest.raises(IndexCorruptError) as info:
        write(index)
    assert one_line(str(info.value))
    assert (index / "current" / "precious.txt").read_text() == "keep me"


# ----- readers see one build, whatever is published meanwhile ---------------------------------------

@pytest.fixture
def two_builds(tmp_path, seeds_index, small):
    """A copy of the seeds index (published) plus a second, smaller complete build beside it."""
    write, _, _ = small
    index = copy_index(seeds_index, tmp_path / "index")
    other = write(tmp_path / "other")
    shutil.move(str(other), str(index / other.name))
    return index, os.readlink(index / "current"), other.name


def _publish_during_load(monkeypatch, index, target, remove_old=False):
    """Swap `current` to `target` the moment the loader reads the vectors, as a concurrent publish would."""
    real_load = np.load
    swapped = []

    def load(path, *args, **kwargs):
        if not swapped:
            swapped.append(os.readlink(index / "current"))
            tmp = index / ".swap"
            tmp.symlink_to(target)
            os.replace(tmp, index / "current")
            if remove_old:
                shutil.rmtree(index / swapped[0])
        return real_load(path, *args, **kwargs)

    monkeypatch.setattr(np, "load", load)
    return swapped


def test_a_load_reads_every_file_from_the_build_it_started_with(two_builds, settings, monkeypatch):
    index, first, second = two_builds
    swapped = _publish_during_load(monkeypatch, index, second)
    store = load_store(index, settings)
    assert swapped == [first]
    assert store.path.name == first
    assert len(store.chunks) == store.vectors.shape[0] == store.faiss_index.ntotal == store.lexical.size
    assert set(store.documents) == {f.stem for f in SEED_FILES}


def test_a_load_whose_build_is_removed_meanwhile_reads_the_new_one(two_builds, settings, monkeypatch):
    index, first, second = two_builds
    swapped = _publish_during_load(monkeypatch, index, second, remove_old=True)
    store = load_store(index, settings)
    assert swapped == [first] and store.path.name == second
    assert len(store.chunks) == store.vectors.shape[0] == store.faiss_index.ntotal == store.lexical.size


# ----- every file is checksummed: `rag index --verify` finds what a load does not read -------------

def _flip_byte(path, at: float = 0.6):
    data = bytearray(path.read_bytes())
    i = int(len(data) * at)
    data[i] ^= 0xFF
    path.write_bytes(bytes(data))


def test_verify_passes_an_intact_index(seeds_index):
    from rag.store import verify_index

    checked, problems = verify_index(seeds_index)
    assert problems == [] and checked >= 8


@pytest.mark.parametrize("name", ["vectors.npy", "vectors.faiss", "bm25/df.json", "encoder/model.onnx.data",
                                  "encoder/tokenizer.json", "roles.json"])
def test_verify_finds_a_flipped_byte_in_any_file(tmp_path, seeds_index, name):
    from rag.store import verify_index

    index = copy_index(seeds_index, tmp_path / "index")
    _flip_byte(index / "current" / name)
    _, problems = verify_index(index)
    assert len(problems) == 1 and problems[0].startswith(name), problems


def test_manifest_records_every_file_it_publishes(store):
    listed = set(store.manifest.files)
    on_disk = {str(p.relative_to(store.path)) for p in store.path.rglob("*") if p.is_file()}
    assert listed == on_disk - {"manifest.json"}
    for name, entry in store.manifest.files.items():
        assert entry.sha256 == hashlib.sha256((store.path / name).read_bytes()).hexdigest()


def test_a_builds_arrays_are_read_one_thread_at_a_time(seeds_index, settings, monkeypatch):
    """numpy parses .npy headers with ast.literal_eval, which CPython 3.11 cannot run in two threads at once
    (python/cpython#106905: a healthy index reported damaged), so every array read holds one lock."""
    held = []
    real_load = np.load

    def watched(*args, **kwargs):
        held.append(rag.store._ARRAY_READS.locked())
        return real_load(*args, **kwargs)

    monkeypatch.setattr(np, "load", watched)
    load_store(seeds_index, settings)
    assert len(held) >= 4 and all(held)  # vectors.npy and bm25s' three arrays
