"""Incremental indexing: embed only what is new or changed, drop what is gone, never damage the last
good index. Builds here use the real embedder (loaded once) over short articles written by the tests."""

from __future__ import annotations

import hashlib
import json
import shutil

import numpy as np
import pytest

from conftest import index_fingerprint
from rag import embeddings
from rag.assistant import Assistant
from rag.errors import InputError
from rag.store import load_store

ARTICLES = {  # short real-looking articles keep each build to a second
    "barrot": "Barrot presses Moscow\nFrench Foreign Minister Jean-Noel Barrot said Russia owes the United States an "
              "answer on the ceasefire proposal. He demanded a clear yes or no, and quickly.\n"
              "Barrot accused President Vladimir Putin of procrastinating and avoiding peace talks.\n",
    "lithuania": "German brigade heads to Lithuania\nBerlin will send up to 5,000 soldiers to Lithuania, its first "
                 "permanent troop deployment abroad since World War II. Brigadier General Christoph Huber said the "
                 "brigade would be ready by 2027.\nThe deployment was agreed with Vilnius in 2023.\n",
    "ottawa": "Finland quits landmine treaty\nFinland has left the Ottawa convention banning antipersonnel landmines, "
              "Prime Minister Petteri Orpo said. He cited the security situation on the long border with Russia.\n",
}
EXTRA_PARAGRAPH = ("\nIn a late addition, the Zanzibari delegation announced a quadrilateral ferry "
                   "agreement with Reykjavik harbour authorities.\n")


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "articles"
    folder.mkdir()
    for name, text in ARTICLES.items():
        (folder / f"{name}.txt").write_text(text, encoding="utf-8")
    return folder


IDS = sorted(ARTICLES)


@pytest.fixture
def built(tmp_path, corpus, fast_build):
    """(assistant, report) after a first build of the three-article corpus."""
    a = Assistant(index_path=tmp_path / "index")
    report = a.index([corpus])
    return a, report


def vectors_by_chunk(store) -> dict[str, np.ndarray]:
    return {c.chunk_id: np.array(store.vectors[i]) for i, c in enumerate(store.chunks)}


def test_first_build(built, corpus):
    a, report = built
    ids = IDS
    assert sorted(report.added) == ids and not (report.updated or report.removed or report.unchanged)
    assert report.chunks_embedded == report.chunks == len(a.store.chunks) > 0
    assert report.documents == 3 and sorted(a.store.documents) == ids
    assert all(c.doc_id in ids for c in a.store.chunks)
    assert a.store.manifest.sources == [str(corpus)]


def test_nothing_changed_embeds_nothing(built, corpus, fast_build, monkeypatch):
    a, first = built
    before = index_fingerprint(a.index_path)
    built_at = a.store.manifest.built_at

    def no_embedding(texts, progress=None):
        raise AssertionError("nothing changed, yet the embedder was called")

    monkeypatch.setattr(fast_build, "encode", no_embedding)
    report = a.index([corpus])
    assert report.chunks_embedded == 0
    assert sorted(report.unchanged) == sorted(first.added) and not (report.added or report.updated or report.removed)
    assert report.chunks == first.chunks
    assert index_fingerprint(a.index_path) == before
    assert a.store.manifest.built_at == built_at


def test_an_index_whose_words_older_code_read_gets_its_word_index_rebuilt_without_embedding(
        built, corpus, fast_build, monkeypatch):
    """A version that folds or stems words differently (a place added, say) must not search an index
    tokenized the old way: `rag index` with nothing changed rebuilds its BM25 leg and roles table."""
    from rag import indexer, store
    from rag.lexical import words_key

    a, first = built
    assert a.store.manifest.words == words_key()
    monkeypatch.setattr(fast_build, "encode", lambda *a, **k: pytest.fail("the words changed, not the vectors"))
    for module in (indexer, store):
        monkeypatch.setattr(module, "words_key", lambda: "another-version")
    before = {c.chunk_id: v for c, v in zip(a.store.chunks, np.array(a.store.vectors), strict=True)}
    report = a.index([corpus])
    assert report.chunks_embedded == 0 and sorted(report.unchanged) == IDS
    assert any("rebuilt the word index" in w for w in report.warnings)
    a.use_index(a.index_path)
    assert a.store.manifest.words == "another-version"
    after = {c.chunk_id: v for c, v in zip(a.store.chunks, np.array(a.store.vectors), strict=True)}
    assert after.keys() == before.keys() and all(np.array_equal(after[k], before[k]) for k in before)
    assert a.index([corpus]).warnings == []  # now current: nothing to do again


def test_a_stale_word_index_is_a_warning_until_rag_index_rebuilds_it(built, corpus, monkeypatch):
    """The index still answers, so loading it is no error; but its words were read by other code, so the
    user is told how to bring it up to date (rag ask, the chat and rag doctor show this line)."""
    from rag import indexer, lexical, store

    a, _ = built
    assert a.index_warnings() == []
    for module in (lexical, indexer, store):
        monkeypatch.setattr(module, "words_key", lambda: "another-version")
    [line] = a.index_warnings()
    assert "word index" in line and "rag index" in line and str(a.index_path) in line
    a.index([corpus])
    assert a.index_warnings() == []


def test_an_index_written_before_manifests_kept_words_loads_and_is_refreshed_without_embedding(
        built, corpus, fast_build, monkeypatch):
    import json

    from rag.store import manifest_checksum, read_manifest

    a, _ = built
    path = a.index_path / "current" / "manifest.json"
    old = json.loads(path.read_text(encoding="utf-8"))
    del old["words"]  # as every index built before this version was written
    old["checksum"] = ""
    old["checksum"] = hashlib.sha256(json.dumps(old, separators=(",", ":"), ensure_ascii=False).encode()).hexdigest()
    path.write_text(json.dumps(old, indent=2), encoding="utf-8")
    manifest = read_manifest(a.index_path, path.parent)
    assert manifest.words == "" and manifest_checksum(manifest) == old["checksum"]  # not "damaged"
    a.use_index(a.index_path)
    assert len(a.store.chunks) > 0
    monkeypatch.setattr(fast_build, "encode", lambda *a, **k: pytest.fail("only the words are stale"))
    report = a.index([corpus])
    assert report.chunks_embedded == 0 and any("rebuilt the word index" in w for w in report.warnings)


def test_changing_one_article_reembeds_only_it(built, corpus, fast_build):
    a, first = built
    old = vectors_by_chunk(a.store)
    doc_id = "lithuania"
    changed = corpus / f"{doc_id}.txt"
    changed.write_text(changed.read_text(encoding="utf-8") + EXTRA_PARAGRAPH, encoding="utf-8")
    report = a.index([corpus])

    assert report.updated == [doc_id] and not (report.added or report.removed)
    assert sorted(report.unchanged) == [i for i in IDS if i != doc_id]
    store = a.store
    its_chunks = [c for c in store.chunks if c.doc_id == doc_id]
    assert report.chunks_embedded == len(its_chunks) < report.chunks
    new = vectors_by_chunk(store)
    for c in store.chunks:
        if c.doc_id != doc_id:  # reused rows are the very same vectors
            assert np.array_equal(new[c.chunk_id], old[c.chunk_id])
    fresh = fast_build.encode([c.text for c in its_chunks])
    assert np.allclose(np.stack([new[c.chunk_id] for c in its_chunks]), fresh, atol=1e-5)
    assert "Zanzibari" in store.documents[doc_id].text
    hits = a.retriever.search("Zanzibari ferry agreement with Reykjavik", k=3)
    assert hits[0].doc_id == doc_id and "Zanzibari" in hits[0].chunk.text


def test_deleting_an_article_drops_it(built, corpus, fast_build, monkeypatch):
    a, _ = built
    gone = "barrot"
    (corpus / f"{gone}.txt").unlink()
    monkeypatch.setattr(fast_build, "encode", lambda *a, **k: pytest.fail("nothing to embed after a delete"))
    report = a.index([corpus])
    assert report.removed == [gone] and report.chunks_embedded == 0
    store = load_store(a.index_path, a.settings)
    assert gone not in store.documents and gone not in store.manifest.documents
    assert all(c.doc_id != gone for c in store.chunks)
    assert len(store.chunks) == store.faiss_index.ntotal == store.lexical.size
    assert all(p.doc_id != gone for p in a.retriever.search("What did Barrot demand?", k=5))


def test_adding_an_article_embeds_only_it(built, corpus, fast_build):
    a, first = built
    (corpus / "sub").mkdir()
    (corpus / "sub" / "tariffs.md").write_text("# Tariffs on European imports\nThe United States imposed tariffs "
                                              "of 20 per cent on imports from Europe, officials said.\n")
    report = a.index([corpus])
    assert report.added == ["tariffs"]
    assert report.chunks_embedded == sum(c.doc_id == "tariffs" for c in a.store.chunks) > 0
    assert report.chunks == first.chunks + report.chunks_embedded


def test_a_story_filed_twice_is_embedded_once(tmp_path, corpus, fast_build, monkeypatch):
    shutil.copy(corpus / "barrot.txt", corpus / "barrot-again.txt")  # an archive's second filing, word for word
    given: list[str] = []
    encode = fast_build.encode

    def recording(texts, progress=None):
        given.extend(texts)
        return encode(texts, progress)

    monkeypatch.setattr(fast_build, "encode", recording)
    a = Assistant(index_path=tmp_path / "index")
    report = a.index([corpus])
    vecs = vectors_by_chunk(a.store)
    twice = [c for c in a.store.chunks if c.doc_id == "barrot-again"]
    assert twice and report.chunks_embedded == report.chunks == len(a.store.chunks)
    assert len(given) == len(set(given)) == report.chunks - len(twice)
    for c in twice:
        assert np.array_equal(vecs[c.chunk_id], vecs[c.chunk_id.replace("barrot-again", "barrot")])


def test_other_chunk_settings_reembed_everything(built, corpus, fast_build):
    a, first = built
    a.settings = a.settings.model_copy(deep=True)
    a.settings.retrieval.chunk_chars = 120
    report = a.index([corpus])
    assert report.chunks_embedded == report.chunks and report.chunks > first.chunks
    assert a.store.manifest.chunk_chars == 120
    assert any(w.startswith("the chunking changed (700 characters") and "every article is embedded again" in w
               for w in report.warnings)


def test_index_with_another_embedder_is_rebuilt_not_reused(built, corpus, fast_build):
    a, first = built
    manifest = a.index_path / "current" / "manifest.json"
    data = json.loads(manifest.read_text())
    data["embedder"] = "some-other-embedder"
    manifest.write_text(json.dumps(data))
    report = a.index([corpus])
    assert report.chunks_embedded == report.chunks == first.chunks
    assert load_store(a.index_path, a.settings).manifest.embedder == a.settings.embedder.name


def test_skipped_files_are_reported_and_the_rest_indexed(tmp_path, corpus, fast_build):
    (corpus / "empty.txt").write_text("")
    (corpus / "blob.md").write_bytes(b"\x00\x01" * 100)
    report = Assistant(index_path=tmp_path / "index").index([corpus])
    assert report.documents == 3 and len(report.skipped) == 2
    assert any("empty.txt" in s for s in report.skipped) and any("blob.md" in s for s in report.skipped)


def test_progress_is_reported(tmp_path, corpus, fast_build):
    calls = []
    Assistant(index_path=tmp_path / "index").index([corpus], progress=lambda d, t, what: calls.append((d, t, what)))
    embedding = [(d, t) for d, t, what in calls if what == "embedding"]
    assert embedding and embedding[-1][0] == embedding[-1][1]
    assert [d for d, _ in embedding] == sorted(d for d, _ in embedding)


# ----- a build that fails leaves the last good index as it was --------------------------------------

def _state(index_dir, settings):
    a = Assistant(settings=settings, index_path=index_dir)
    hits = a.retriever.search("Who leads the German brigade?", k=3)
    return a.store.manifest.built_at, [(p.chunk_id, round(p.score, 6)) for p in hits]


def _interrupt(*args, **kwargs):
    raise KeyboardInterrupt


@pytest.mark.parametrize("where", ["embedding", "encoder export", "bm25 write"])
def test_interrupted_build_leaves_the_previous_index(built, corpus, fast_build, monkeypatch, where):
    a, _ = built
    before = index_fingerprint(a.index_path)
    state = _state(a.index_path, a.settings)
    changed = corpus / "barrot.txt"
    changed.write_text(changed.read_text(encoding="utf-8") + EXTRA_PARAGRAPH, encoding="utf-8")
    with monkeypatch.context() as m:
        if where == "embedding":
            m.setattr(fast_build, "encode", _interrupt)
        elif where == "encoder export":
            m.setattr(embeddings, "export_query_encoder", _interrupt)
        else:
            import rag.store

            m.setattr(rag.store.Lexical, "build", classmethod(_interrupt))
        with pytest.raises(KeyboardInterrupt):
            a.index([corpus])
    assert index_fingerprint(a.index_path) == before
    assert not [p for p in a.index_path.iterdir() if p.name.endswith(".partial")]
    assert _state(a.index_path, a.settings) == state
    # the next, uninterrupted build picks the change up
    report = a.index([corpus])
    assert report.updated == ["barrot"] and "Zanzibari" in a.store.documents["barrot"].text


def test_bad_input_leaves_the_previous_index(built, tmp_path):
    a, _ = built
    before = index_fingerprint(a.index_path)
    empty = tmp_path / "nothing-here"
    empty.mkdir()
    for bad in ([tmp_path / "missing"], [empty]):
        with pytest.raises(InputError):
            a.index(bad)
    assert index_fingerprint(a.index_path) == before
    load_store(a.index_path, a.settings)


# ----- naming paths adds and updates; only --prune drops what was not named -------------------------

TARIFFS = "Tariffs on European imports\nThe United States imposed tariffs of 20 per cent on imports from Europe.\n"


@pytest.fixture
def other_folder(tmp_path):
    folder = tmp_path / "more"
    folder.mkdir()
    (folder / "tariffs.txt").write_text(TARIFFS, encoding="utf-8")
    return folder


def test_indexing_one_new_article_keeps_the_others(built, corpus, other_folder, fast_build):
    a, first = built
    report = a.index([other_folder / "tariffs.txt"])
    assert report.added == ["tariffs"] and report.removed == [] and sorted(report.unchanged) == IDS
    assert report.chunks_embedded == sum(c.doc_id == "tariffs" for c in a.store.chunks) > 0
    assert sorted(a.store.documents) == sorted(IDS + ["tariffs"])
    assert a.store.manifest.sources == [str(corpus), str(other_folder / "tariffs.txt")]
    assert a.retriever.search("What did Barrot demand?", k=3)[0].doc_id == "barrot"


def test_deleting_under_a_named_folder_drops_only_its_articles(built, corpus, other_folder, fast_build):
    a, _ = built
    a.index([other_folder])
    (other_folder / "tariffs.txt").unlink()
    (other_folder / "ferry.txt").write_text("Ferry deal\n" + EXTRA_PARAGRAPH, encoding="utf-8")
    report = a.index([other_folder])
    assert report.removed == ["tariffs"] and report.added == ["ferry"] and sorted(report.unchanged) == IDS
    assert sorted(a.store.documents) == sorted(IDS + ["ferry"])


def test_prune_keeps_only_the_named_paths(built, other_folder, fast_build):
    a, _ = built
    report = a.index([other_folder], prune=True)
    assert report.added == ["tariffs"] and report.removed == IDS
    assert sorted(a.store.documents) == ["tariffs"] and a.store.manifest.sources == [str(other_folder)]


def test_no_path_resyncs_the_remembered_sources(built, corpus, other_folder, fast_build):
    a, _ = built
    a.index([other_folder])
    changed = corpus / "lithuania.txt"
    changed.write_text(changed.read_text(encoding="utf-8") + EXTRA_PARAGRAPH, encoding="utf-8")
    (corpus / "ottawa.txt").unlink()
    (other_folder / "ferry.md").write_text("Ferry deal\n" + EXTRA_PARAGRAPH, encoding="utf-8")
    report = a.index([])
    assert report.updated == ["lithuania"] and report.removed == ["ottawa"] and report.added == ["ferry"]
    assert sorted(report.unchanged) == ["barrot", "tariffs"]
    assert a.store.manifest.sources == [str(corpus), str(other_folder)]


def test_a_remembered_source_that_is_gone_drops_its_articles_with_a_warning(built, corpus, other_folder,
                                                                             fast_build):
    a, _ = built
    a.index([other_folder])
    shutil.rmtree(other_folder)
    report = a.index([])
    assert report.removed == ["tariffs"] and sorted(report.unchanged) == IDS
    assert any(str(other_folder) in w and "no longer exists" in w for w in report.warnings)
    assert a.store.manifest.sources == [str(corpus)]


def test_no_path_and_no_index_indexes_seeds_beside_the_config(tmp_path, settings, fast_build):
    from rag.config import load_settings

    base = tmp_path / "project"
    (base / "seeds").mkdir(parents=True)
    (base / "seeds" / "tariffs.txt").write_text(TARIFFS, encoding="utf-8")
    config = base / "models.toml"
    config.write_text(settings.source.read_text(encoding="utf-8"), encoding="utf-8")
    a = Assistant(settings=load_settings(config), index_path=tmp_path / "index")
    report = a.index([])
    assert report.added == ["tariffs"] and a.store.manifest.sources == [str(base / "seeds")]


def test_same_doc_id_from_another_folder_does_not_replace_a_kept_article(built, corpus, tmp_path, fast_build):
    a, _ = built
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "barrot.txt").write_text("Another Barrot\nA different article with the same name.\n")
    report = a.index([elsewhere / "barrot.txt"])
    assert report.added == [] and report.updated == [] and "barrot" in report.unchanged
    assert any("barrot" in w and str(corpus / "barrot.txt") in w for w in report.warnings)
    assert "Moscow" in a.store.documents["barrot"].text


# ----- the manifest's checksums: `rag index` repairs what fails them --------------------------------

def _flip(path, at: float = 0.6):
    data = bytearray(path.read_bytes())
    data[int(len(data) * at)] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", ["empty model.onnx.data", "flipped tokenizer.json"])
def test_damaged_encoder_is_exported_again(built, corpus, fast_build, monkeypatch, damage):
    a, first = built
    encoder = a.index_path / "current" / embeddings.ENCODER_DIR
    if damage.startswith("empty"):
        (encoder / "model.onnx.data").write_bytes(b"")
    else:
        _flip(encoder / "tokenizer.json")
    monkeypatch.setattr(fast_build, "encode", lambda *a, **k: pytest.fail("the articles did not change"))
    report = a.index([corpus])
    assert report.chunks_embedded == 0 and sorted(report.unchanged) == IDS
    assert any("encoder" in w for w in report.warnings), report.warnings
    from rag.store import verify_index

    assert verify_index(a.index_path)[1] == []
    assert a.retriever.search("Who leads the German brigade?", k=1)[0].doc_id == "lithuania"


@pytest.mark.parametrize("name", ["vectors.npy", "vectors.faiss", "bm25/df.json", "chunks.jsonl", "documents.jsonl"])
def test_damaged_data_is_rebuilt_from_the_articles(built, corpus, fast_build, name):
    a, first = built
    target = a.index_path / "current" / name
    if name.endswith(".jsonl"):  # a planted sentence, still valid JSON
        lines = target.read_text(encoding="utf-8").splitlines()
        record = json.loads(lines[0])
        record["text"] = "Berlin is the capital of France. " + record["text"]
        target.write_text("\n".join([json.dumps(record), *lines[1:]]) + "\n", encoding="utf-8")
    else:
        _flip(target)
    report = a.index([corpus])
    assert report.chunks_embedded == report.chunks == first.chunks
    assert any(name in w for w in report.warnings), report.warnings
    from rag.store import verify_index

    assert verify_index(a.index_path)[1] == []
    assert not any("Berlin is the capital" in c.text for c in a.store.chunks)


def test_damaged_index_is_rebuilt_with_the_articles_it_was_not_asked_about(built, corpus, other_folder,
                                                                         fast_build):
    a, _ = built
    _flip(a.index_path / "current" / "vectors.npy")
    report = a.index([other_folder])
    assert sorted(a.store.documents) == sorted(IDS + ["tariffs"])
    assert report.chunks_embedded == report.chunks


def test_an_index_of_the_previous_format_is_rebuilt(built, corpus, fast_build):
    import rag.store

    a, first = built
    manifest = a.index_path / "current" / "manifest.json"
    data = json.loads(manifest.read_text())
    data["format_version"] = rag.store.FORMAT_VERSION - 1
    manifest.write_text(json.dumps(data))
    report = a.index([corpus])
    assert report.chunks_embedded == report.chunks == first.chunks
    assert load_store(a.index_path, a.settings).manifest.format_version == rag.store.FORMAT_VERSION
