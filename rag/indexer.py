"""documents -> chunks -> vectors -> store, embedding only what is new or changed."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from rag.chunking import chunk_document
from rag.config import Settings
from rag.documents import load_documents
from rag.errors import RagError
from rag.schema import Chunk, Document, IndexReport
from rag.store import Manifest, new_manifest
from rag.store_api import open_store, store_exists, write_store

ProgressFn = Callable[[int, int, str], None]


def build_index(paths: list[Path], index_dir: Path, settings: Settings,
                progress: ProgressFn | None = None) -> IndexReport:
    started = time.perf_counter()
    documents, skipped, warnings = load_documents(paths)
    previous = _previous(index_dir, settings)
    report = IndexReport(skipped=skipped, warnings=warnings)

    old_docs = previous.manifest.documents if previous else {}
    reuse: dict[str, list[int]] = {}  # doc_id -> rows of the old store to keep
    if previous:
        for i, chunk in enumerate(previous.chunks):
            reuse.setdefault(chunk.doc_id, []).append(i)

    def kept(doc: Document) -> bool:
        return bool(previous) and old_docs.get(doc.doc_id) == doc.sha256 and doc.doc_id in reuse

    # Reused articles first, in their old row order, then new ones: when articles are only added, the
    # old rows are a prefix of the new ones and the vector index grows instead of being rebuilt.
    layout = sorted((d for d in documents if kept(d)), key=lambda d: reuse[d.doc_id][0])
    layout += [d for d in documents if not kept(d)]
    chunks: list[Chunk] = []
    vectors: list[np.ndarray] = []
    to_embed: list[tuple[int, Chunk]] = []
    for doc in layout:
        if kept(doc):
            rows = reuse[doc.doc_id]
            chunks += [previous.chunks[i] for i in rows]
            vectors.append(np.asarray(previous.vectors[rows], dtype=np.float32))
            report.unchanged.append(doc.doc_id)
            continue
        (report.updated if doc.doc_id in old_docs else report.added).append(doc.doc_id)
        new = chunk_document(doc, settings.retrieval.chunk_chars, settings.retrieval.chunk_overlap_sentences)
        to_embed += [(len(chunks) + j, c) for j, c in enumerate(new)]
        chunks += new
        vectors.append(np.zeros((len(new), previous.manifest.dim if previous else 0), dtype=np.float32))
    current = {d.doc_id for d in documents}
    report.removed = sorted(set(old_docs) - current)

    if not to_embed and not report.removed and previous and not _sources_changed(previous.manifest, paths):
        report.documents, report.chunks = len(documents), len(chunks)
        report.seconds = round(time.perf_counter() - started, 2)
        return report  # nothing to do; the published index stays as it is

    dim, matrix = _embed(to_embed, chunks, vectors, settings, progress)
    manifest = new_manifest(settings, dim, documents, len(chunks), [str(p) for p in paths])
    appended = previous is not None and not report.removed and not report.updated \
        and len(report.unchanged) == len({c.doc_id for c in previous.chunks})
    write_store(settings, index_dir, manifest, documents, chunks, matrix, extra=_export_encoder(settings),
                grows=previous if appended else None)
    report.chunks_embedded = len(to_embed)
    report.documents, report.chunks = len(documents), len(chunks)
    report.seconds = round(time.perf_counter() - started, 2)
    return report


def _previous(index_dir: Path, settings: Settings):
    """The last good index, if it can be reused: same embedder and chunking. Anything else rebuilds."""
    if not store_exists(settings, index_dir):
        return None
    try:
        store = open_store(settings, index_dir)
    except RagError:
        return None
    r = settings.retrieval
    if (store.manifest.chunk_chars, store.manifest.chunk_overlap) != (r.chunk_chars, r.chunk_overlap_sentences):
        return None
    return store


def _sources_changed(manifest: Manifest, paths: list[Path]) -> bool:
    return manifest.sources != [str(p) for p in paths]


def _embed(to_embed: list[tuple[int, Chunk]], chunks: list[Chunk], vectors: list[np.ndarray],
           settings: Settings, progress: ProgressFn | None) -> tuple[int, np.ndarray]:
    if not to_embed:
        matrix = np.concatenate(vectors) if vectors else np.zeros((0, 0), dtype=np.float32)
        return matrix.shape[1], matrix
    from rag.embeddings import index_encoder

    if progress:
        progress(0, len(to_embed), "loading embedder")
    encoder = index_encoder(settings)
    texts = [_embed_text(c) for _, c in to_embed]
    fresh = encoder.encode(texts, progress=(lambda d, t: progress(d, t, "embedding")) if progress else None)
    matrix = np.zeros((len(chunks), encoder.dim), dtype=np.float32)
    row = 0
    for block in vectors:  # reused rows keep their old vectors
        if block.shape[1] == encoder.dim:
            matrix[row : row + len(block)] = block
        row += len(block)
    for (pos, _), vec in zip(to_embed, fresh):
        matrix[pos] = vec
    return encoder.dim, matrix


def _embed_text(chunk: Chunk) -> str:
    return chunk.text


def _export_encoder(settings: Settings) -> Callable[[Path], None]:
    def export(build_dir: Path) -> None:
        try:
            from rag.embeddings import export_query_encoder

            export_query_encoder(settings, build_dir)
        except ImportError:  # no ONNX support installed: queries fall back to sentence-transformers
            pass

    return export
