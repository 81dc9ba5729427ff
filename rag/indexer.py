"""documents -> chunks -> vectors -> store, embedding only what is new or changed.

Naming paths adds and updates the articles under them and drops those deleted from them; the index's
other articles stay (`prune` drops everything not named). No paths re-reads every path the index was
ever given (its `sources`), or seeds/ when there is no index. A damaged index is rebuilt: only the
query encoder when that is all that fails its checksums, else everything, from the articles.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rag.builds import LOCK_WAIT_S, check_link, clean_up, storage_errors, writer_lock
from rag.chunking import chunk_document
from rag.config import Settings
from rag.documents import load_documents
from rag.errors import IndexCorruptError, InputError, RagError
from rag.integrity import verify_files
from rag.lexical import words_key
from rag.schema import Chunk, Document, IndexReport
from rag.store import ENCODER_PREFIX, REBUILD, DamagedIndexError, new_manifest, read_sources
from rag.store_api import Store, open_store, store_exists, write_store

# (done, total, what): how a build reports progress. One call names the articles and chunks to embed,
# (articles, chunks, ARTICLES_TO_EMBED), before the "embedding" calls count chunks done of chunks.
ProgressFn = Callable[[int, int, str], None]
ARTICLES_TO_EMBED = "articles to embed"


def build_index(paths: list[Path], index_dir: Path, settings: Settings, progress: ProgressFn | None = None,
                *, prune: bool = False, wait_s: float = LOCK_WAIT_S,
                on_wait: Callable[[str], None] | None = None) -> IndexReport:
    """Bring the index at `index_dir` up to date with `paths` (none: its remembered sources), one writer
    at a time: a second run waits up to `wait_s` seconds (told through `on_wait`), then gives up."""
    started = time.perf_counter()
    with writer_lock(index_dir, wait_s, on_wait):
        check_link(index_dir)
        with storage_errors(index_dir):
            clean_up(index_dir)  # a killed run's .partial folder, builds left unpublished
        report = _build(list(paths), index_dir, settings, progress, prune)
    report.seconds = round(time.perf_counter() - started, 2)
    return report


@dataclass
class _Previous:
    """The last index, as far as it can be reused."""

    store: Store | None = None
    sources: list[str] = field(default_factory=list)
    repair_encoder: bool = False
    notes: list[str] = field(default_factory=list)


def _build(paths: list[Path], index_dir: Path, settings: Settings, progress: ProgressFn | None,
           prune: bool) -> IndexReport:
    previous = _previous(index_dir, settings)
    notes = list(previous.notes)
    paths = [Path(_absolute(p)) for p in paths]  # sources and article paths mean the same from any folder
    if paths:
        roots, load = paths, paths
    else:  # re-sync: every path the index was given; a vanished one takes its articles with it
        roots = [Path(s) for s in previous.sources] or [settings.base_dir / "seeds"]
        load = [r for r in roots if r.exists()]
        notes += [f"{r} no longer exists; its articles are removed from the index" for r in roots if not r.exists()]
        if not load:
            raise InputError(f"the index's sources no longer exist ({', '.join(map(str, roots))}): name the "
                             "articles to index, e.g. `rag index PATH --prune`")
    documents, skipped, warnings = load_documents(load)
    old = previous.store
    if old is None and not prune:  # nothing to reuse: the index's other articles come from their files
        documents, more = _add_remembered(documents, previous.sources, roots)
        warnings += more
    documents, kept, removed, clashes = _merge(documents, old, roots, prune)
    report = IndexReport(skipped=skipped, warnings=notes + warnings + clashes, removed=removed)
    sources = [_absolute(r) for r in load] if prune else _union(previous.sources, load)
    if not paths:
        sources = [s for s in sources if Path(s).exists()]
    return _write(documents + kept, old, report, sources, previous.repair_encoder, index_dir, settings, progress)


def _write(documents: list[Document], old: Store | None, report: IndexReport, sources: list[str],
           repair: bool, index_dir: Path, settings: Settings, progress: ProgressFn | None) -> IndexReport:
    old_docs = old.manifest.documents if old else {}
    reuse: dict[str, list[int]] = {}  # doc_id -> rows of the old store to keep
    for i, chunk in enumerate(old.chunks if old else []):
        reuse.setdefault(chunk.doc_id, []).append(i)

    def kept(doc: Document) -> bool:
        return old is not None and old_docs.get(doc.doc_id) == doc.sha256 and doc.doc_id in reuse

    # Reused articles first, in their old row order, then new ones: when articles are only added, the
    # old rows are a prefix of the new ones and the vector index grows instead of being rebuilt.
    layout = sorted((d for d in documents if kept(d)), key=lambda d: reuse[d.doc_id][0])
    layout += [d for d in documents if not kept(d)]
    chunks: list[Chunk] = []
    vectors: list[np.ndarray] = []
    to_embed: list[tuple[int, Chunk]] = []
    for doc in layout:
        if old is not None and kept(doc):
            rows = reuse[doc.doc_id]
            chunks += [old.chunks[i] for i in rows]
            vectors.append(np.asarray(old.vectors[rows], dtype=np.float32))
            report.unchanged.append(doc.doc_id)
            continue
        (report.updated if doc.doc_id in old_docs else report.added).append(doc.doc_id)
        new = chunk_document(doc, settings.retrieval.chunk_chars, settings.retrieval.chunk_overlap_sentences)
        to_embed += [(len(chunks) + j, c) for j, c in enumerate(new)]
        chunks += new
        vectors.append(np.zeros((len(new), old.manifest.dim if old else 0), dtype=np.float32))
    report.documents, report.chunks = len(layout), len(chunks)

    stale_words = old is not None and old.manifest.words != words_key()
    if old and not (to_embed or report.removed or repair or stale_words) and old.manifest.sources == sources:
        return report  # nothing to do; the published index stays as it is
    if stale_words and not to_embed:
        report.warnings.append("rebuilt the word index: this version reads words differently from the one "
                               "that built it (nothing re-embedded)")

    dim, matrix = _embed(to_embed, chunks, vectors, settings, progress)
    manifest = new_manifest(settings, dim, layout, len(chunks), sources)
    appended = old is not None and not report.removed and not report.updated \
        and len(report.unchanged) == len({c.doc_id for c in old.chunks})
    with storage_errors(index_dir):
        write_store(settings, index_dir, manifest, layout, chunks, matrix, extra=_export_encoder(settings),
                    grows=old if appended else None, notes=report.warnings)
    report.chunks_embedded = len(to_embed)
    return report


def _merge(documents: list[Document], old: Store | None, roots: list[Path],
           prune: bool) -> tuple[list[Document], list[Document], list[str], list[str]]:
    """(articles read, the old index's articles kept as they are, doc_ids removed, warnings). An old
    article outside the named paths stays unless `prune`; one inside them that is gone is removed."""
    if old is None:
        return documents, [], [], []
    in_scope = {i for i, d in old.documents.items() if prune or _under(d.source, roots)}
    clashes, fresh = [], []
    for doc in documents:
        held = old.documents.get(doc.doc_id)
        if held and held.doc_id not in in_scope and Path(held.source).exists() \
                and _absolute(held.source) != _absolute(doc.source):
            clashes.append(f"{doc.source}: doc_id {doc.doc_id!r} already taken by {held.source}; skipped "
                           "(rename one, or index with --prune)")
            continue
        fresh.append(doc)
    ids = {d.doc_id for d in fresh}
    kept = [d for i, d in old.documents.items() if i not in ids and i not in in_scope]
    removed = sorted(i for i in old.manifest.documents if i not in ids and i in in_scope)
    return fresh, kept, removed, clashes


def _add_remembered(documents: list[Document], sources: list[str],
                    roots: list[Path]) -> tuple[list[Document], list[str]]:
    """The articles under the index's other remembered paths, read from their files (its own copies
    cannot be trusted or reused)."""
    others = [Path(s) for s in sources if Path(s).exists() and not _under(s, roots)]
    if not others:
        return documents, []
    try:
        more, skipped, warnings = load_documents(others)
    except InputError as exc:
        return documents, [str(exc)]
    ids = {d.doc_id for d in documents}
    return documents + [d for d in more if d.doc_id not in ids], skipped + warnings


def _previous(index_dir: Path, settings: Settings) -> _Previous:
    """The last good index, if it can be reused: same embedder and chunking, every file as written.
    Only a damaged query encoder keeps the rest; any other damage rebuilds everything."""
    found = _Previous(sources=read_sources(index_dir))
    if not store_exists(settings, index_dir):
        return found
    try:
        store = open_store(settings, index_dir)
    except IndexCorruptError as exc:
        what = exc.what if isinstance(exc, DamagedIndexError) else str(exc).removesuffix(f": {REBUILD}")
        found.notes.append(f"the last index could not be reused ({what}); its articles are embedded again")
        return found
    except RagError:
        return found
    if not found.sources:  # a backend without a `current` link (Milvus) keeps them in the loaded manifest
        found.sources = list(store.manifest.sources)
    r = settings.retrieval
    if (store.manifest.chunk_chars, store.manifest.chunk_overlap) != (r.chunk_chars, r.chunk_overlap_sentences):
        found.notes.append(f"the chunking changed ({store.manifest.chunk_chars} characters, "
                           f"{store.manifest.chunk_overlap} sentence(s) of overlap -> {r.chunk_chars}, "
                           f"{r.chunk_overlap_sentences}); every article is embedded again")
        return found
    problems = verify_files(store.path, store.manifest.files)
    if problems and all(p.startswith(ENCODER_PREFIX) for p in problems):
        found.repair_encoder = True
        found.notes.append(f"the query encoder in the last index was damaged ({'; '.join(problems)}); "
                           "exported again")
    elif problems:
        found.notes.append(f"the last index was damaged ({'; '.join(problems)}); its articles are embedded again")
        return found
    found.store = store
    return found


def _absolute(path: Path | str) -> str:
    return os.path.abspath(path)


def _under(source: Path | str, roots: list[Path]) -> bool:
    p = Path(_absolute(source))
    return any(p.is_relative_to(_absolute(r)) for r in roots)


def _union(sources: list[str], paths: list[Path]) -> list[str]:
    """The paths an index was built from, old first; one inside another listed path is not repeated."""
    merged: list[str] = []
    for s in [*(_absolute(s) for s in sources), *(_absolute(p) for p in paths)]:
        if s not in merged:
            merged.append(s)
    return [s for s in merged if not any(o != s and _under(s, [Path(o)]) for o in merged)]


def _embed(to_embed: list[tuple[int, Chunk]], chunks: list[Chunk], vectors: list[np.ndarray],
           settings: Settings, progress: ProgressFn | None) -> tuple[int, np.ndarray]:
    if not to_embed:
        matrix = np.concatenate(vectors) if vectors else np.zeros((0, 0), dtype=np.float32)
        return matrix.shape[1], matrix
    from rag.embeddings import index_encoder

    texts, which = _distinct([_embed_text(c) for _, c in to_embed])
    if progress:
        progress(len({c.doc_id for _, c in to_embed}), len(texts), ARTICLES_TO_EMBED)
        progress(0, len(texts), "loading embedder")
    encoder = index_encoder(settings)
    fresh = encoder.encode(texts, progress=(lambda d, t: progress(d, t, "embedding")) if progress else None)[which]
    matrix = np.zeros((len(chunks), encoder.dim), dtype=np.float32)
    row = 0
    for block in vectors:  # reused rows keep their old vectors
        if block.shape[1] == encoder.dim:
            matrix[row : row + len(block)] = block
        row += len(block)
    for (pos, _), vec in zip(to_embed, fresh, strict=True):
        matrix[pos] = vec
    return encoder.dim, matrix


def _distinct(texts: list[str]) -> tuple[list[str], np.ndarray]:
    """Each text once, and where each of `texts` is among them: an archive files some stories more than
    once (BBC News' 2,225 articles repeat 7% of their chunks word for word), and one vector serves all."""
    first: dict[str, int] = {}
    which = np.array([first.setdefault(t, len(first)) for t in texts], dtype=np.int64)
    return list(first), which


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


