"""The index on disk: FAISS vectors, BM25, chunk metadata, documents and a manifest.

Each build is written to its own folder and published by atomically replacing the `current`
symlink, so an interrupted or failed build never damages the last good index.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ValidationError

from rag.config import Settings
from rag.errors import IndexCorruptError, IndexMissingError
from rag.lexical import Lexical
from rag.roles import Roles
from rag.schema import Chunk, Document, IndexStats

# 2: places and British spellings folded in the BM25 tokens; who-holds-which-office table (roles.json).
FORMAT_VERSION = 2
CURRENT = "current"
ROLES_FILE = "roles.json"


class Manifest(BaseModel):
    format_version: int = FORMAT_VERSION
    embedder: str
    dim: int
    chunk_chars: int
    chunk_overlap: int
    documents: dict[str, str]  # doc_id -> sha256
    n_chunks: int
    index_type: str = "flat"
    built_at: str
    sources: list[str] = []


class Store:
    """A loaded index. Read-only: `rag index` writes a new one."""

    def __init__(self, path: Path, manifest: Manifest, chunks: list[Chunk], documents: dict[str, Document],
                 vectors: np.ndarray, faiss_index, lexical: Lexical) -> None:
        self.path = path
        self.manifest = manifest
        self.chunks = chunks
        self.documents = documents
        self.vectors = vectors
        self.faiss_index = faiss_index
        self.lexical = lexical
        self._by_id = {c.chunk_id: i for i, c in enumerate(chunks)}

    def search_dense(self, query_vec: np.ndarray, n: int) -> list[tuple[int, float]]:
        if not self.chunks:
            return []
        scores, ids = self.faiss_index.search(query_vec.reshape(1, -1).astype(np.float32), min(n, len(self.chunks)))
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]

    def search_lexical(self, query: str, n: int) -> list[tuple[int, float]]:
        return self.lexical.search(query, n)

    def chunk_index(self, chunk_id: str) -> int:
        return self._by_id[chunk_id]

    def document(self, doc_id: str) -> Document:
        try:
            return self.documents[doc_id]
        except KeyError:
            raise IndexMissingError(f"no article {doc_id!r} in the index at {self.path}") from None

    def roles(self) -> Roles:
        """Who holds which office, as the articles say; read from the index (or the articles if absent)."""
        try:
            return Roles.from_json(json.loads((self.path / ROLES_FILE).read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return Roles.from_texts(d.text for d in self.documents.values())

    def stats(self) -> IndexStats:
        return IndexStats(documents=len(self.documents), chunks=len(self.chunks),
                          embedder=self.manifest.embedder, built_at=self.manifest.built_at)


def current_path(index_dir: Path) -> Path:
    return index_dir / CURRENT


def index_exists(index_dir: Path) -> bool:
    return (current_path(index_dir) / "manifest.json").is_file()


def load_store(index_dir: Path, settings: Settings) -> Store:
    """Load and check the published index; every failure is one line saying how to fix it."""
    path = current_path(index_dir)
    if not (path / "manifest.json").is_file():
        raise IndexMissingError(f"no index at {index_dir}: build one with `rag index seeds/` (or your articles)")
    try:
        manifest = Manifest.model_validate_json((path / "manifest.json").read_text(encoding="utf-8"))
    except (ValidationError, ValueError, OSError) as exc:
        raise IndexCorruptError(f"index at {index_dir} has a damaged manifest ({type(exc).__name__}): "
                                "rebuild it with `rag index`") from None
    if manifest.format_version != FORMAT_VERSION:
        raise IndexCorruptError(f"index at {index_dir} is format {manifest.format_version}, this version reads "
                                f"{FORMAT_VERSION}: rebuild it with `rag index`")
    if manifest.embedder != settings.embedder.name:
        raise IndexCorruptError(f"index at {index_dir} was built with embedder {manifest.embedder!r} but "
                                f"models.toml names {settings.embedder.name!r}: rebuild it with `rag index`")
    try:
        import faiss

        chunks = [Chunk.model_validate_json(line) for line in _lines(path / "chunks.jsonl")]
        documents = {d.doc_id: d for d in (Document.model_validate_json(x) for x in _lines(path / "documents.jsonl"))}
        vectors = np.load(path / "vectors.npy", mmap_mode="r")
        faiss_index = faiss.read_index(str(path / "vectors.faiss"))
        lexical = Lexical.load(path / "bm25")
    except Exception as exc:  # any damaged file: numpy, faiss, json and bm25 each raise their own types
        raise IndexCorruptError(f"index at {index_dir} is damaged ({type(exc).__name__}: {_gist(exc)}): "
                                "rebuild it with `rag index`") from None
    if not (len(chunks) == manifest.n_chunks == vectors.shape[0] == faiss_index.ntotal == lexical.size):
        raise IndexCorruptError(f"index at {index_dir} is inconsistent (chunk counts differ): "
                                "rebuild it with `rag index`")
    return Store(path, manifest, chunks, documents, vectors, faiss_index, lexical)


def _gist(exc: Exception, width: int = 80) -> str:
    """A hint of what broke, on one line: pydantic and faiss messages span several lines."""
    if isinstance(exc, ValidationError) and exc.errors():
        first = exc.errors()[0]
        text = f"{'.'.join(str(x) for x in first['loc']) or 'record'}: {first['msg']}"
    else:
        text = str(exc)
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


# HNSW above `ann_threshold` chunks: exact search scans every vector per query; HNSW takes ~2 ms at 100k
# with recall@10 >= 0.95 against exact (scripts/bench.py measures it). A modest efConstruction keeps
# rebuilds after `rag index` short; a generous efSearch (saved with the index) buys the recall back.
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 40
HNSW_EF_SEARCH = 256


def build_faiss(vectors: np.ndarray, settings: Settings, base=None):
    """Inner-product search; vectors are L2-normalised so this is cosine similarity. Exact up to
    `retrieval.ann_threshold` chunks, approximate (HNSW) above. Built from the stored vectors, so
    re-indexing never re-embeds. With `base`, an index of the same kind holding the first rows of
    `vectors`, a copy of it grows by the rest (seconds saved per 100k chunks of HNSW)."""
    import faiss

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    kind = "hnsw" if len(vectors) > settings.retrieval.ann_threshold else "flat"
    if base is not None and _extends(base, vectors, kind):
        index = faiss.clone_index(base)
        index.add(vectors[base.ntotal :])
        return index, kind
    if kind == "hnsw":
        index = faiss.IndexHNSWFlat(vectors.shape[1], HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = HNSW_EF_SEARCH
        index.add(vectors)
        return index, "hnsw"
    index = faiss.IndexFlatIP(vectors.shape[1])
    if len(vectors):
        index.add(vectors)
    return index, "flat"


def _extends(base, vectors: np.ndarray, kind: str) -> bool:
    """`base` is of `kind` and holds exactly the first rows of `vectors` (checked on a few rows)."""
    import faiss

    wanted = faiss.IndexHNSWFlat if kind == "hnsw" else faiss.IndexFlatIP
    n = base.ntotal
    if not isinstance(base, wanted) or n == 0 or n > len(vectors) or base.d != vectors.shape[1]:
        return False
    rows = sorted({0, n // 2, n - 1})
    return all(np.allclose(base.reconstruct(int(i)), vectors[i], atol=1e-6) for i in rows)


def write_store(index_dir: Path, manifest: Manifest, documents: list[Document], chunks: list[Chunk],
                vectors: np.ndarray, settings: Settings,
                extra: Callable[[Path], None] | None = None, base=None) -> Path:
    """Write a complete index into a fresh folder, then publish it atomically."""
    index_dir.mkdir(parents=True, exist_ok=True)
    build = index_dir / _build_name()
    tmp = build.with_name(build.name + ".partial")
    tmp.mkdir()
    try:
        faiss_index, kind = build_faiss(vectors, settings, base)
        manifest.index_type = kind
        import faiss

        faiss.write_index(faiss_index, str(tmp / "vectors.faiss"))
        np.save(tmp / "vectors.npy", np.asarray(vectors, dtype=np.float32))
        _write_lines(tmp / "chunks.jsonl", (c.model_dump_json() for c in chunks))
        _write_lines(tmp / "documents.jsonl", (d.model_dump_json() for d in documents))
        Lexical.build([c.text for c in chunks]).save(tmp / "bm25")
        (tmp / ROLES_FILE).write_text(json.dumps(Roles.from_texts(d.text for d in documents).to_json()),
                                      encoding="utf-8")
        if extra:
            extra(tmp)
        (tmp / "manifest.json").write_text(manifest.model_dump_json(indent=2), encoding="utf-8")
        tmp.rename(build)
    except BaseException:  # Ctrl-C included: leave the published index as it was
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _publish(index_dir, build)
    return build


def _build_name() -> str:
    """Unique per build, so two builds in the same second never share a folder; the time is for people."""
    return f"build-{datetime.now(timezone.utc):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:12]}"


def _publish(index_dir: Path, build: Path) -> None:
    link = current_path(index_dir)
    if link.exists() and not link.is_symlink():
        raise IndexCorruptError(f"{link} is not an index link; move it away and run `rag index` again")
    tmp_link = index_dir / f".{CURRENT}.{build.name}"
    tmp_link.unlink(missing_ok=True)
    tmp_link.symlink_to(build.name)
    os.replace(tmp_link, link)  # atomic on POSIX
    for old in index_dir.glob("build-*"):
        if old != build and (old.is_dir() and not old.name.endswith(".partial") or _stale(old)):
            shutil.rmtree(old, ignore_errors=True)


def _stale(path: Path) -> bool:
    return path.name.endswith(".partial") and time.time() - path.stat().st_mtime > 3600


def new_manifest(settings: Settings, dim: int, documents: list[Document], n_chunks: int,
                 sources: list[str]) -> Manifest:
    r = settings.retrieval
    return Manifest(embedder=settings.embedder.name, dim=dim, chunk_chars=r.chunk_chars,
                    chunk_overlap=r.chunk_overlap_sentences, documents={d.doc_id: d.sha256 for d in documents},
                    n_chunks=n_chunks, built_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    sources=sources)


def _lines(path: Path) -> list[str]:
    return [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]


def _write_lines(path: Path, lines) -> None:
    with path.open("w", encoding="utf-8") as f:
        for line in lines:
            f.write(line + "\n")
