"""Rows of a Milvus build as the retriever reads them: chunks, vectors and articles by position or id,
fetched when first asked for (searches hand theirs over with their hits) and kept once fetched."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, overload

import numpy as np

from rag.errors import IndexCorruptError
from rag.schema import Chunk, Document
from rag.store_milvus import DOC_FIELDS, ROW_FIELDS, literal

if TYPE_CHECKING:
    from rag.store_milvus import MilvusStore

FETCH_BATCH = 1_000  # rows per query request


class Rows:
    """Chunk rows and vectors by ordinal: filled by searches, fetched in one request when asked for others."""

    def __init__(self, store: MilvusStore, n: int, dim: int) -> None:
        self.store, self.n, self.dim = store, n, dim
        self.chunks: dict[int, Chunk] = {}
        self.vectors: dict[int, np.ndarray] = {}

    def put(self, ordinal: int, entity: Mapping[str, Any]) -> None:
        if ordinal not in self.chunks:
            self.chunks[ordinal] = Chunk(**{k: entity[k] for k in ROW_FIELDS if k != "vector"})
            self.vectors[ordinal] = np.asarray(entity["vector"], dtype=np.float32)

    def need(self, ordinals: Iterable[int]) -> None:
        missing = sorted({self.position(i) for i in ordinals} - self.chunks.keys())
        for start in range(0, len(missing), FETCH_BATCH):
            batch = missing[start : start + FETCH_BATCH]
            found = self.store.request(partial(self.store.client.query, self.store.collection,
                                               filter=f"ordinal in {batch}", output_fields=["ordinal", *ROW_FIELDS]))
            for row in found:
                self.put(int(row["ordinal"]), row)
            if len(found) != len(batch):
                raise IndexCorruptError(f"index at {self.store.where} lacks chunk rows: rebuild it with `rag index`")

    def fill(self) -> None:
        self.need(range(self.n))

    def position(self, i: int) -> int:
        i = int(i)
        if not -self.n <= i < self.n:
            raise IndexError(f"chunk row {i} out of range ({self.n} chunks)")
        return i % self.n


class ChunkRows(Sequence[Chunk]):
    def __init__(self, rows: Rows) -> None:
        self.rows = rows

    def __len__(self) -> int:
        return self.rows.n

    @overload
    def __getitem__(self, i: int) -> Chunk: ...

    @overload
    def __getitem__(self, i: slice) -> list[Chunk]: ...

    def __getitem__(self, i):
        if isinstance(i, slice):
            wanted = list(range(self.rows.n))[i]
            self.rows.need(wanted)
            return [self.rows.chunks[j] for j in wanted]
        self.rows.need([i])
        return self.rows.chunks[self.rows.position(i)]

    def __iter__(self) -> Iterator[Chunk]:
        self.rows.fill()
        return (self.rows.chunks[j] for j in range(self.rows.n))


class VectorRows:
    """`vectors[i]` is one row, `vectors[[i, j]]` a matrix, as with a numpy array."""

    def __init__(self, rows: Rows) -> None:
        self.rows = rows

    @property
    def shape(self) -> tuple[int, int]:
        return (self.rows.n, self.rows.dim)

    def __len__(self) -> int:
        return self.rows.n

    def __getitem__(self, rows) -> np.ndarray:
        if isinstance(rows, (int, np.integer)):
            row = int(rows)
            self.rows.need([row])
            return self.rows.vectors[self.rows.position(row)]
        wanted = list(range(self.rows.n))[rows] if isinstance(rows, slice) else [int(r) for r in rows]
        self.rows.need(wanted)
        if not wanted:
            return np.zeros((0, self.rows.dim), dtype=np.float32)
        return np.stack([self.rows.vectors[self.rows.position(r)] for r in wanted])


class DocumentRows(Mapping[str, Document]):
    """The articles by doc_id, in the manifest's order, each fetched (from its parts) when first asked for."""

    def __init__(self, store: MilvusStore) -> None:
        self.store = store
        self.cache: dict[str, Document] = {}

    def __len__(self) -> int:
        return len(self.store.manifest.documents)

    def __iter__(self) -> Iterator[str]:
        return iter(self.store.manifest.documents)

    def __getitem__(self, doc_id: str) -> Document:
        if doc_id not in self.store.manifest.documents:
            raise KeyError(doc_id)
        if doc_id not in self.cache:
            store = self.store
            parts = store.request(lambda: store.client.query(
                store.docs_collection, filter=f"doc_id == {literal(doc_id)}", output_fields=DOC_FIELDS))
            parts = sorted(parts, key=lambda p: p["part"])
            if not parts or [p["part"] for p in parts] != list(range(len(parts))):
                raise IndexCorruptError(f"index at {store.where} lacks article {doc_id!r}: rebuild it with `rag index`")
            first = parts[0]
            self.cache[doc_id] = Document(doc_id=doc_id, title=first["title"], source=first["source"],
                                          date=first["date"] or None, sha256=first["sha256"],
                                          text="".join(p["text"] for p in parts))
        return self.cache[doc_id]
