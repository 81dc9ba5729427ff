"""Incremental indexing: embed only what is new or changed, drop what is gone, never damage the last
good index. Builds here use the real embedder (loaded once) over short articles written by the tests."""

from __future__ import annotations

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


def test_other_chunk_settings_reembed_everything(built, corpus, fast_build):
    a, first = built
    a.settings = a.settings.model_copy(deep=True)
    a.settings.retrieval.chunk_chars = 120
    report = a.index([corpus])
    assert report.chunks_embedded == report.chunks and report.chunks > first.chunks
    assert a.store.manifest.chunk_chars == 120


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
