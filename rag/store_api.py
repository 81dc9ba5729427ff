"""The seam between the answering code and the index: one typed interface every store backend implements
in full, and the factory that picks the backend `models.toml` names (`[store] backend`).

FAISS (`rag/store.py`) is the default; Milvus (`rag/store_milvus.py`) is the engine for an archive that
outgrows one machine. Both are built by `rag index` and read through the same calls, so the retriever,
the indexer and the faces never know which one they hold.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from rag.config import Settings
from rag.schema import ArticleInfo, Chunk, Document, IndexStats

if TYPE_CHECKING:
    from rag.roles import Roles
    from rag.store import Manifest

# The ids of the articles a search keeps to (rag/scope.py); None: every article.
Within = frozenset[str]


class LexicalIndex(Protocol):
    """BM25 search over the chunks (row i is chunk i) and the term statistics evidence scoring weighs by."""

    @property
    def size(self) -> int: ...

    @property
    def df(self) -> Mapping[str, int]:
        """token -> the number of chunks holding it."""

    def idf(self, token: str) -> float: ...

    def vocabulary_matches(self, prefix: str, limit: int = 5) -> list[str]: ...

    def search(self, query: str, n: int) -> list[tuple[int, float]]: ...

    def search_tokens(self, tokens: list[str], n: int) -> list[tuple[int, float]]: ...


class Vectors(Protocol):
    """Chunk vectors by row: `vectors[i]` is one row, `vectors[[i, j]]` a matrix (a numpy array is one)."""

    @property
    def shape(self) -> tuple[int, ...]: ...

    def __len__(self) -> int: ...

    def __getitem__(self, rows, /) -> np.ndarray: ...


class Store(Protocol):
    """A loaded, read-only index. Rows are numbered 0..n-1 and mean the same chunk in every call."""

    @property
    def path(self) -> Path:
        """The build's local folder: its manifest, the ONNX query encoder, the roles table."""

    @property
    def manifest(self) -> "Manifest": ...

    @property
    def chunks(self) -> Sequence[Chunk]: ...

    @property
    def documents(self) -> Mapping[str, Document]: ...

    @property
    def vectors(self) -> Vectors: ...

    @property
    def lexical(self) -> LexicalIndex: ...

    def search_dense(self, query_vec: np.ndarray, n: int, within: Within | None = None) -> list[tuple[int, float]]:
        """The `n` rows nearest the query vector (inner product), best first; only `within`'s articles'."""

    def search_lexical(self, query: str, n: int, within: Within | None = None) -> list[tuple[int, float]]:
        """The `n` best rows by BM25 for the query's words, best first; only `within`'s articles'."""

    def search_tokens(self, tokens: list[str], n: int, within: Within | None = None) -> list[tuple[int, float]]:
        """As `search_lexical`, for words already tokenized (rag/lexical.py `tokenize`)."""

    def chunk_index(self, chunk_id: str) -> int: ...

    def document(self, doc_id: str) -> Document: ...

    def catalog(self) -> list[ArticleInfo]:
        """Every article's id, title, source and date, without fetching its text."""

    def roles(self) -> "Roles": ...

    def stats(self) -> IndexStats: ...


def open_store(settings: Settings, index_dir: Path) -> Store:
    """Load and check the published index of the configured backend (one-line errors, rag/errors.py)."""
    if settings.store.backend == "milvus":
        from rag import store_milvus

        return store_milvus.load_store(index_dir, settings)
    from rag import store

    return store.load_store(index_dir, settings)


def index_warnings(store: Store, index_dir: Path) -> list[str]:
    """What a user should fix in a loaded index that still answers: one line each. Today one: a word
    index (BM25, roles) built by code that reads words differently (`rag.lexical.words_key`), which then
    matches this version's questions wrongly and answers differ from what `rag eval` measured. `rag index`
    rebuilds it in seconds without re-embedding."""
    from rag.lexical import words_key

    if store.manifest.words == words_key():
        return []
    return [f"the word index of {index_dir} was built by another version, which reads words differently: "
            "re-index to rebuild it (`rag index`, or ctrl+p → Re-index articles in the chat; nothing is re-embedded)"]


def store_exists(settings: Settings, index_dir: Path) -> bool:
    """Whether an index has been published (says nothing of its health: `open_store` checks that)."""
    if settings.store.backend == "milvus":
        from rag import store_milvus

        return store_milvus.index_exists(index_dir, settings)
    from rag import store

    return store.index_exists(index_dir)


def write_store(settings: Settings, index_dir: Path, manifest: "Manifest", documents: list[Document],
                chunks: list[Chunk], vectors: np.ndarray, extra: Callable[[Path], None] | None = None,
                grows: Store | None = None, notes: list[str] | None = None) -> Path:
    """Write a complete build and publish it atomically; the last good index stays until then. The caller
    holds the index folder's writer lock (`build_index` does).
    `grows`: the published store when the new build only appends rows to it (FAISS then grows its
    vector index instead of rebuilding it). `notes`: where FAISS tells of a Ctrl-C held while publishing."""
    if settings.store.backend == "milvus":
        from rag import store_milvus

        return store_milvus.write_store(index_dir, manifest, documents, chunks, vectors, settings, extra=extra)
    from rag import store

    base = grows.faiss_index if isinstance(grows, store.Store) else None
    return store.write_store(index_dir, manifest, documents, chunks, vectors, settings, extra=extra, base=base,
                             notes=notes)
