"""The index on disk: FAISS vectors, BM25, chunk metadata, documents and a manifest.

Each build is written to its own folder and published by atomically replacing the `current`
symlink (rag/builds.py), so an interrupted or failed build never damages the last good index. The
manifest records every file's size and sha256: a load checks the sizes and the text files it reads,
`verify_index` (and every `rag index`) checks them all.
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ValidationError

from rag.builds import check_link, current_path, new_build, publish, resolve_current, sigint_deferred
from rag.config import Settings
from rag.errors import IndexCorruptError, IndexMissingError
from rag.integrity import FileSum, file_sums, sha256_bytes, size_problems, verify_files
from rag.lexical import Lexical, words_key
from rag.roles import Roles
from rag.schema import ArticleInfo, Chunk, Document, IndexStats
from rag.store_api import Within

# 2: places and British spellings folded in the BM25 tokens; who-holds-which-office table (roles.json).
# 3: the manifest records each file's size and sha256, and its own checksum.
# 4: every country of the world folded in the BM25 tokens and the roles table (rag/world_places.json).
FORMAT_VERSION = 4
ROLES_FILE = "roles.json"
MANIFEST_FILE = "manifest.json"
READ_ATTEMPTS = 3  # a load that loses its build to a publish retries with the new one
REBUILD = "rebuild it with `rag index`"
ENCODER_PREFIX = "encoder/"  # the query encoder's files (rag/embeddings.py ENCODER_DIR)


def find_document(documents: Mapping[str, Document], doc_id: str, where: object) -> Document:
    """An article of an index by id, or the one-line error that it has none (either backend)."""
    try:
        return documents[doc_id]
    except KeyError:
        raise IndexMissingError(f"no article {doc_id!r} in the index at {where}") from None


def read_roles(folder: Path, documents: Mapping[str, Document]) -> Roles:
    """The who-holds-which-office table a build keeps in `folder` (either backend), or, if it is
    missing or unreadable, the same table worked out again from the articles."""
    try:
        return Roles.from_json(json.loads((folder / ROLES_FILE).read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return Roles.from_texts(d.text for d in documents.values())


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
    sources: list[str] = []  # every path `rag index` was given (absolute); `rag index` alone re-reads them
    files: dict[str, FileSum] = {}  # every file of the build but the manifest, by relative path
    # rag.lexical.words_key() of the code that built its word index ("": built before it was kept)
    words: str = ""
    checksum: str = ""  # sha256 of this manifest with checksum empty


def manifest_checksum(manifest: Manifest) -> str:
    """sha256 of the manifest with `checksum` empty. An empty `words` is left out: a manifest written before
    that field existed must keep the checksum it was written with (and so load, and get its word index
    rebuilt by the next `rag index`), not read as damaged."""
    blank = manifest.model_copy(update={"checksum": ""})
    return sha256_bytes(blank.model_dump_json(exclude={"words"} if not manifest.words else None).encode("utf-8"))


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
        self._within: tuple[Within, np.ndarray] | None = None

    def search_dense(self, query_vec: np.ndarray, n: int, within: Within | None = None) -> list[tuple[int, float]]:
        if not self.chunks:
            return []
        vec = query_vec.reshape(-1).astype(np.float32)
        if within is not None:  # exact over the articles' rows: a part of an archive is small enough to scan
            rows = self._rows_within(within)
            scores = self.vectors[rows] @ vec
            top = np.argsort(-scores, kind="stable")[:n]
            return [(int(rows[j]), float(scores[j])) for j in top]
        scores, ids = self.faiss_index.search(vec.reshape(1, -1), min(n, len(self.chunks)))
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def search_lexical(self, query: str, n: int, within: Within | None = None) -> list[tuple[int, float]]:
        return self.lexical.search(query, n, None if within is None else self._rows_within(within))

    def search_tokens(self, tokens: list[str], n: int, within: Within | None = None) -> list[tuple[int, float]]:
        return self.lexical.search_tokens(tokens, n, None if within is None else self._rows_within(within))

    def _rows_within(self, within: Within) -> np.ndarray:
        """The rows of those articles, in row order; the last set's are kept (a scope lasts a session)."""
        if self._within is None or self._within[0] != within:
            rows = np.array([i for i, c in enumerate(self.chunks) if c.doc_id in within], dtype=np.int64)
            self._within = (within, rows)
        return self._within[1]

    def chunk_index(self, chunk_id: str) -> int:
        return self._by_id[chunk_id]

    def document(self, doc_id: str) -> Document:
        return find_document(self.documents, doc_id, self.path)

    def catalog(self) -> list[ArticleInfo]:
        return [ArticleInfo(doc_id=d.doc_id, title=d.title, source=d.source, date=d.date)
                for d in self.documents.values()]

    def roles(self) -> Roles:
        """Who holds which office, as the articles say; read from the index (or the articles if absent)."""
        return read_roles(self.path, self.documents)

    def stats(self) -> IndexStats:
        return IndexStats(documents=len(self.documents), chunks=len(self.chunks),
                          embedder=self.manifest.embedder, built_at=self.manifest.built_at)


def index_exists(index_dir: Path) -> bool:
    return (current_path(index_dir) / MANIFEST_FILE).is_file()


class DamagedIndexError(IndexCorruptError):
    """A damaged index; `what` is the problem alone ('has a damaged manifest'), for callers that rebuild
    it anyway and so need no 'rebuild it' advice."""

    def __init__(self, index_dir: Path, what: str) -> None:
        super().__init__(f"index at {index_dir} {what}: {REBUILD}")
        self.what = what


damaged = DamagedIndexError


def load_store(index_dir: Path, settings: Settings) -> Store:
    """Load and check the published index; every failure is one line saying how to fix it.

    `current` is resolved once and every file read from that build, so a publish in the middle cannot
    mix two builds. If the build disappears while it is read (a publish removed it), the new one is read.
    """
    for _ in range(READ_ATTEMPTS):
        build = resolve_current(index_dir)
        try:
            if build is None or not (build / MANIFEST_FILE).is_file():
                link = current_path(index_dir)
                if link.exists() and not link.is_symlink() and not link.is_dir():
                    raise IndexCorruptError(f"{link} is not an index link; move it away and run `rag index` again")
                raise IndexMissingError(f"no index at {index_dir}: build one with `rag index seeds/` "
                                        "(or your articles)")
            return _load_build(index_dir, build, settings)
        except (IndexCorruptError, IndexMissingError):
            if resolve_current(index_dir) == build:
                raise
    raise damaged(index_dir, "kept changing while it was read (several `rag index` runs?)")


def read_manifest(index_dir: Path, build: Path) -> Manifest:
    try:
        manifest = Manifest.model_validate_json((build / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (ValidationError, ValueError, OSError) as exc:
        raise damaged(index_dir, f"has a damaged manifest ({type(exc).__name__})") from None
    if manifest.format_version != FORMAT_VERSION:
        raise damaged(index_dir, f"is format {manifest.format_version}, this version reads {FORMAT_VERSION}")
    return manifest


def _check_manifest(index_dir: Path, manifest: Manifest) -> None:
    if manifest.checksum != manifest_checksum(manifest):
        raise damaged(index_dir, "has a damaged manifest (it fails its checksum)")


# numpy reads an .npy header with ast.literal_eval, and CPython 3.11 keeps the AST builder's recursion
# count per interpreter, not per thread: two threads loading at once can raise "SystemError: AST
# constructor recursion depth mismatch" (python/cpython#106905), which a load would report as a damaged
# index. Seen once in tests/test_builds.py's stress test (a reader loading while two writers build), so
# the arrays of a build are read one thread at a time.
_ARRAY_READS = threading.Lock()


def _load_build(index_dir: Path, path: Path, settings: Settings) -> Store:
    manifest = read_manifest(index_dir, path)
    if manifest.embedder != settings.embedder.name:
        raise IndexCorruptError(f"index at {index_dir} was built with embedder {manifest.embedder!r} but "
                                f"models.toml names {settings.embedder.name!r}: {REBUILD}")
    _check_manifest(index_dir, manifest)
    # The query encoder checks its own files when it loads (and `rag index` re-exports it alone).
    data_files = {n: f for n, f in manifest.files.items() if not n.startswith(ENCODER_PREFIX)}
    if problems := size_problems(path, data_files):
        raise damaged(index_dir, f"is damaged ({problems[0]})")
    try:
        import faiss

        chunks = [Chunk.model_validate_json(line) for line in _checked_lines(path, "chunks.jsonl", manifest)]
        documents = {d.doc_id: d for d in (Document.model_validate_json(x)
                                           for x in _checked_lines(path, "documents.jsonl", manifest))}
        with _ARRAY_READS:
            vectors = np.load(path / "vectors.npy", mmap_mode="r")
            faiss_index = faiss.read_index(str(path / "vectors.faiss"))
            lexical = Lexical.load(path / "bm25")  # bm25s reads its arrays with np.load too
    except _Damaged as exc:
        raise damaged(index_dir, f"is damaged ({exc})") from None
    except Exception as exc:  # any damaged file: numpy, faiss, json and bm25 each raise their own types
        culprit = verify_files(path, data_files)  # name the file, not only the parser's complaint
        what = culprit[0] if culprit else f"{type(exc).__name__}: {_gist(exc)}"
        raise damaged(index_dir, f"is damaged ({what})") from None
    if not (len(chunks) == manifest.n_chunks == vectors.shape[0] == faiss_index.ntotal == lexical.size):
        raise damaged(index_dir, "is inconsistent (chunk counts differ)")
    if set(documents) != set(manifest.documents):
        raise damaged(index_dir, "is inconsistent (its articles differ from its manifest's)")
    return Store(path, manifest, chunks, documents, vectors, faiss_index, lexical)


class _Damaged(Exception):
    """A file that fails its checksum."""


def _checked_lines(build: Path, name: str, manifest: Manifest) -> list[str]:
    """The lines of a text file every load reads whole anyway, so checking its sha256 costs little."""
    raw = (build / name).read_bytes()
    entry = manifest.files.get(name)
    if entry is None or sha256_bytes(raw) != entry.sha256:
        raise _Damaged(f"{name} fails its checksum")
    return [ln for ln in raw.decode("utf-8").splitlines() if ln.strip()]


def verify_index(index_dir: Path) -> tuple[int, list[str]]:
    """(files checked, problems): every file of the published build against its size and sha256."""
    for _ in range(READ_ATTEMPTS):
        build = resolve_current(index_dir)
        if build is None or not (build / MANIFEST_FILE).is_file():
            raise IndexMissingError(f"no index at {index_dir}: build one with `rag index seeds/` (or your articles)")
        try:
            manifest = read_manifest(index_dir, build)
            _check_manifest(index_dir, manifest)
        except DamagedIndexError as exc:
            problems, checked = [f"{MANIFEST_FILE}: {exc.what}"], 1
        else:
            problems, checked = verify_files(build, manifest.files), len(manifest.files) + 1
        if not problems or resolve_current(index_dir) == build:
            return checked, problems
    return checked, problems


def read_sources(index_dir: Path) -> list[str]:
    """The paths the published index was built from, read leniently: a damaged index still says where
    its articles came from, so `rag index` can rebuild them."""
    build = resolve_current(index_dir)
    try:
        data = json.loads((build / MANIFEST_FILE).read_text(encoding="utf-8")) if build else {}
        sources = data.get("sources", [])
    except (OSError, ValueError, AttributeError):
        return []
    return [s for s in sources if isinstance(s, str)] if isinstance(sources, list) else []


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
                extra: Callable[[Path], None] | None = None, base=None, notes: list[str] | None = None) -> Path:
    """Write a complete index into a fresh folder, then publish it atomically. The caller holds the
    folder's writer lock (`build_index` does). A Ctrl-C while publishing is held and told in `notes`."""
    index_dir.mkdir(parents=True, exist_ok=True)
    check_link(index_dir)
    tmp, build = new_build(index_dir)
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
        manifest.files = file_sums(tmp, exclude={MANIFEST_FILE})
        manifest.checksum = manifest_checksum(manifest)
        (tmp / MANIFEST_FILE).write_text(manifest.model_dump_json(indent=2), encoding="utf-8")
    except BaseException:  # Ctrl-C included: leave the published index as it was
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    with sigint_deferred() as interrupted:  # from here on the new index is (being) published
        try:
            tmp.rename(build)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        publish(index_dir, build)
    if interrupted() and notes is not None:
        notes.append(f"Ctrl-C came while the new index was being published; it is published in {index_dir}")
    return build


def new_manifest(settings: Settings, dim: int, documents: list[Document], n_chunks: int,
                 sources: list[str]) -> Manifest:
    r = settings.retrieval
    return Manifest(embedder=settings.embedder.name, dim=dim, chunk_chars=r.chunk_chars,
                    chunk_overlap=r.chunk_overlap_sentences, documents={d.doc_id: d.sha256 for d in documents},
                    n_chunks=n_chunks, built_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    sources=sources, words=words_key())


def _lines(path: Path) -> list[str]:
    return [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]


def _write_lines(path: Path, lines) -> None:
    with path.open("w", encoding="utf-8") as f:
        for line in lines:
            f.write(line + "\n")
