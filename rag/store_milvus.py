"""The index on Milvus (pymilvus): an embedded Milvus Lite file, or a Milvus server with the same code.

What lives where:
- in Milvus, one collection per build: chunk rows (ids, offsets, title, text), their vectors (dense
  search) and their words (Milvus' BM25 function: lexical search); the articles in a second collection.
  Readers find the build through an alias, moved only once the build is complete (the analogue of the
  FAISS backend's `current` link); the previous build's collections are dropped after it moves.
- on local disk, in a folder named after the collection inside the index folder: the manifest, the ONNX
  query encoder, the who-holds-which-office table, and the term statistics (document frequencies)
  evidence scoring weighs words by; Milvus keeps these inside its BM25 index and does not expose them.

The BM25 function reads the project's own tokens (stemmed, places and spellings folded, rag/lexical.py),
so Milvus and the FAISS backend's bm25s match the same words and rank them by the same formula.
Reading is here; rag/store_milvus_rows.py fetches rows on demand, rag/store_milvus_build.py writes builds.
"""
from __future__ import annotations

import fcntl
import json
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from rag.config import Settings, _resolve_path
from rag.errors import ConfigError, IndexCorruptError, IndexMissingError, RagError
from rag.lexical import Lexical, tokenize
from rag.roles import Roles
from rag.schema import ArticleInfo, Chunk, Document, IndexStats
from rag.store import FORMAT_VERSION, HNSW_EF_SEARCH, Manifest, find_document, read_roles
from rag.store_api import Within

DOCS_SUFFIX = "_docs"  # the articles' collection: the chunks' collection name plus this
META_FILE = "milvus.json"  # the collections and row counts of the build, for the load-time checks
TERMS_FILE = "terms.json"  # chunk count and document frequency of every token
ROW_FIELDS = ["chunk_id", "doc_id", "title", "text", "start", "end", "vector"]
DOC_FIELDS = ["doc_id", "part", "title", "source", "date", "sha256", "text"]
BM25_K1, BM25_B = 1.5, 0.75  # bm25s' defaults, so both backends rank alike
# Milvus Lite's server starts inside this process; on a busy machine it has taken over 10 s to be ready.
LITE_READY_S = 60.0
CATALOG_BATCH = 1000  # articles per request when listing them all (Milvus caps one query's results)
_NOT_WORD = re.compile(r"\W", re.UNICODE)

# pymilvus and Milvus Lite (whose gRPC server runs in this process) log failed calls with tracebacks, and
# warn on every article listing that Milvus Lite keeps no server time stamps; every failure here becomes
# one line (errors.py) and nothing else reaches stderr. pymilvus sets its loggers' levels when it is first
# imported (pymilvus/settings.py), so they are set again after that, in `connect`.
_QUIET_LOGGERS = ("pymilvus", "pymilvus.milvus_client", "pymilvus.bulk_writer", "milvus_lite", "grpc._server")


def _quiet_logs() -> None:
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL + 1)


# ----- connecting --------------------------------------------------------------------------------

def milvus_uri(index_dir: Path, settings: Settings) -> str:
    """A server URL as given; a Milvus Lite file relative to models.toml, or milvus.db in the index folder."""
    uri = settings.store.uri
    if uri is None:
        return str(index_dir / "milvus.db")
    return uri if "://" in uri else str(_resolve_path(uri, settings.base_dir))


def _is_lite(uri: str) -> bool:
    return "://" not in uri


def connect(index_dir: Path, settings: Settings, create: bool):
    """A client, or a one-line error saying why there is none (not installed, no file, busy, unreachable)."""
    try:
        from pymilvus import MilvusClient
    except ImportError:
        raise ConfigError(f"{settings.source}: [store] backend = \"milvus\" needs pymilvus and milvus-lite: "
                          "pip install 'rag-news[milvus]'") from None
    _quiet_logs()
    uri = milvus_uri(index_dir, settings)
    if _is_lite(uri) and not create and not Path(uri).exists():
        raise IndexMissingError(f"no index at {index_dir} (no Milvus Lite file {uri}): "
                                "build one with `rag index seeds/` (or your articles)")
    if _is_lite(uri):
        Path(uri).parent.mkdir(parents=True, exist_ok=True)
    try:
        wait = max(settings.store.timeout, LITE_READY_S) if _is_lite(uri) else settings.store.timeout
        return MilvusClient(uri=uri, timeout=wait)
    except Exception as exc:  # pymilvus wraps every connection failure in its own types
        if _is_lite(uri) and _locked(Path(uri)):
            raise IndexMissingError(f"the Milvus Lite file {uri} is open in another process (Milvus Lite serves "
                                    "one process at a time): close it, or use a Milvus server ([store] uri)") from None
        if _is_lite(uri):
            raise IndexCorruptError(f"cannot open the Milvus Lite file {uri} ({gist(exc)}): move it away and "
                                    "rebuild with `rag index`") from None
        raise IndexMissingError(f"cannot reach the Milvus server at {uri} ({gist(exc)}): start it, or fix "
                                f"[store] uri in {settings.source}") from None


def _locked(db: Path) -> bool:
    """Another process holds Milvus Lite's lock on `db` (we failed to open it, so it is not us)."""
    try:
        with (db / "LOCK").open("a") as f:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.flock(f, fcntl.LOCK_UN)
        return False
    except BlockingIOError:
        return True
    except OSError:
        return False


def gist(exc: BaseException, width: int = 100) -> str:
    text = " ".join((getattr(exc, "message", "") or str(exc) or type(exc).__name__).split())
    return text if len(text) <= width else text[: width - 3] + "..."


def published_collection(client, alias: str) -> str | None:
    """The collection the alias points at, or None when there is no alias yet."""
    if alias not in client.list_aliases().get("aliases", []):
        return None
    return client.describe_alias(alias)["collection_name"]


def location(index_dir: Path, settings: Settings) -> str:
    uri = milvus_uri(index_dir, settings)
    return str(index_dir) if _is_lite(uri) else f"{index_dir} (Milvus {uri}, alias {settings.store.alias})"


def literal(value: str) -> str:
    """A string literal for a Milvus filter expression."""
    return json.dumps(value, ensure_ascii=False)


def _filter(within: Within | None) -> dict[str, Any]:
    """A search's keyword arguments keeping it to those articles. The ids are written into the expression
    (as JSON strings, which Milvus reads as its string literals): Milvus Lite takes no templated filters."""
    return {} if within is None else {"filter": f"doc_id in {json.dumps(sorted(within), ensure_ascii=False)}"}


def as_term(token: str) -> str:
    """A token as one word for Milvus' standard tokenizer ('160.5' would otherwise split in two)."""
    return _NOT_WORD.sub("_", token.lower())


# ----- reading ---------------------------------------------------------------------------------

def index_exists(index_dir: Path, settings: Settings) -> bool:
    uri = milvus_uri(index_dir, settings)
    if _is_lite(uri) and not Path(uri).exists():
        return False
    client = connect(index_dir, settings, create=False)
    collection = call_milvus(lambda: published_collection(client, settings.store.alias), location(index_dir, settings))
    return collection is not None and (index_dir / collection / "manifest.json").is_file()


def load_store(index_dir: Path, settings: Settings) -> "MilvusStore":
    """Resolve the alias once, then check the build against its manifest; every failure is one line."""
    where = location(index_dir, settings)
    client = connect(index_dir, settings, create=False)
    collection = call_milvus(lambda: published_collection(client, settings.store.alias), where)
    if collection is None:
        raise IndexMissingError(f"no index at {where}: build one with `rag index seeds/` (or your articles)")
    path = index_dir / collection
    rebuild = "rebuild it with `rag index`"
    if not (path / "manifest.json").is_file():
        raise IndexCorruptError(f"index at {where} has no local files for build {collection}: {rebuild}")
    try:
        manifest = Manifest.model_validate_json((path / "manifest.json").read_text(encoding="utf-8"))
        meta = json.loads((path / META_FILE).read_text(encoding="utf-8"))
        terms = json.loads((path / TERMS_FILE).read_text(encoding="utf-8"))
        size, df, docs = int(terms["size"]), dict(terms["df"]), str(meta["documents_collection"])
    except (ValidationError, ValueError, OSError, KeyError, TypeError) as exc:
        raise IndexCorruptError(f"index at {where} is damaged ({type(exc).__name__}): {rebuild}") from None
    if manifest.format_version != FORMAT_VERSION:
        raise IndexCorruptError(f"index at {where} is format {manifest.format_version}, this version reads "
                                f"{FORMAT_VERSION}: {rebuild}")
    if manifest.embedder != settings.embedder.name:
        raise IndexCorruptError(f"index at {where} was built with embedder {manifest.embedder!r} but "
                                f"models.toml names {settings.embedder.name!r}: {rebuild}")

    def check() -> tuple[int, int, int]:
        if not client.has_collection(docs):
            raise IndexCorruptError(f"index at {where} lacks its articles' collection {docs}: {rebuild}")
        fields = {f["name"]: f for f in client.describe_collection(collection)["fields"]}
        dim = int(fields.get("vector", {}).get("params", {}).get("dim", -1))
        client.load_collection(collection)
        client.load_collection(docs)
        return (dim, int(client.get_collection_stats(collection)["row_count"]),
                int(client.get_collection_stats(docs)["row_count"]))

    dim, rows, doc_rows = call_milvus(check, where)
    if dim != max(manifest.dim, 1):  # an empty build still needs a vector field
        raise IndexCorruptError(f"index at {where} holds {dim}-dimensional vectors, its manifest says "
                                f"{manifest.dim}: {rebuild}")
    if not (rows == manifest.n_chunks == meta.get("chunk_rows") == size) or doc_rows != meta.get("document_rows"):
        raise IndexCorruptError(f"index at {where} is inconsistent (row counts differ): {rebuild}")
    return MilvusStore(client, collection, docs, path, manifest, df, where)


def call_milvus(fn: Callable[[], Any], where: str) -> Any:
    """Run a Milvus request; a failure (server gone, build dropped by a newer `rag index`) is one line."""
    try:
        return fn()
    except RagError:
        raise
    except Exception as exc:  # pymilvus raises MilvusException and grpc errors alike
        raise IndexMissingError(f"the Milvus index at {where} failed a request ({gist(exc)}): if it was "
                                "rebuilt meanwhile, start again; else run `rag index`") from None


class MilvusStore:
    """A loaded Milvus build. Chunk rows, vectors and articles are fetched as searches and the retriever
    ask for them, and kept once fetched; the process never holds the whole archive unless it reads it all."""

    def __init__(self, client, collection: str, docs_collection: str, path: Path, manifest: Manifest,
                 df: dict[str, int], where: str) -> None:
        self.client = client
        self.collection = collection
        self.docs_collection = docs_collection
        self.path = path
        self.manifest = manifest
        self.where = where
        from rag.store_milvus_rows import ChunkRows, DocumentRows, Rows, VectorRows

        self.rows = Rows(self, manifest.n_chunks, manifest.dim)
        self.chunks: Sequence[Chunk] = ChunkRows(self.rows)
        self.vectors = VectorRows(self.rows)
        self.documents: Mapping[str, Document] = DocumentRows(self)
        self.lexical = MilvusLexical(self, manifest.n_chunks, df)

    def request(self, fn: Callable[[], Any]) -> Any:
        return call_milvus(fn, self.where)

    def search_dense(self, query_vec: np.ndarray, n: int, within: Within | None = None) -> list[tuple[int, float]]:
        if not self.manifest.n_chunks or (within is not None and not within):
            return []
        vec = np.asarray(query_vec, dtype=np.float32).reshape(-1).tolist()
        params = {"metric_type": "IP", "params": {"ef": max(HNSW_EF_SEARCH, n)}}
        return self._hits(lambda: self.client.search(
            self.collection, data=[vec], anns_field="vector", limit=min(n, self.manifest.n_chunks),
            output_fields=ROW_FIELDS, search_params=params, **_filter(within)))

    def search_bm25(self, tokens: list[str], n: int, within: Within | None = None) -> list[tuple[int, float]]:
        if not self.manifest.n_chunks or not tokens or (within is not None and not within):
            return []
        text = " ".join(as_term(t) for t in tokens)
        hits = self._hits(lambda: self.client.search(
            self.collection, data=[text], anns_field="sparse", limit=min(n, self.manifest.n_chunks),
            output_fields=ROW_FIELDS, search_params={"metric_type": "BM25"}, **_filter(within)))
        # BM25 scores are positive; Milvus Lite reports them negated (as distances), a server as scores.
        # Milvus' formula has bm25s' one times (k1 + 1): divided out, both backends' scores are alike.
        return [(i, abs(s) / (BM25_K1 + 1)) for i, s in hits if s]

    def _hits(self, search: Callable[[], Any]) -> list[tuple[int, float]]:
        found = []
        for hit in self.request(search)[0]:
            self.rows.put(int(hit.id), hit["entity"])
            found.append((int(hit.id), float(hit.distance)))
        return found

    def search_lexical(self, query: str, n: int, within: Within | None = None) -> list[tuple[int, float]]:
        return self.search_bm25(tokenize(query), n, within)

    def search_tokens(self, tokens: list[str], n: int, within: Within | None = None) -> list[tuple[int, float]]:
        return self.search_bm25(tokens, n, within)

    def chunk_index(self, chunk_id: str) -> int:
        found = self.request(lambda: self.client.query(self.collection, filter=f"chunk_id == {literal(chunk_id)}",
                                                       output_fields=["ordinal"]))
        if not found:
            raise KeyError(chunk_id)
        return int(found[0]["ordinal"])

    def document(self, doc_id: str) -> Document:
        return find_document(self.documents, doc_id, self.where)

    def catalog(self) -> list[ArticleInfo]:
        """One query over the articles' first parts, texts left out (DocumentRows fetches an article whole)."""
        def read() -> list[dict]:
            found: list[dict] = []
            it = self.client.query_iterator(self.docs_collection, batch_size=CATALOG_BATCH, filter="part == 0",
                                            output_fields=["doc_id", "title", "source", "date"])
            while batch := it.next():
                found += batch
            it.close()
            return found

        by_id = {r["doc_id"]: r for r in self.request(read)}
        return [ArticleInfo(doc_id=d, title=by_id[d]["title"], source=by_id[d]["source"], date=by_id[d]["date"] or None)
                for d in self.manifest.documents if d in by_id]

    def roles(self) -> Roles:
        """Who holds which office, as the articles say; read from the build (or the articles if absent)."""
        return read_roles(self.path, self.documents)

    def stats(self) -> IndexStats:
        return IndexStats(documents=len(self.manifest.documents), chunks=self.manifest.n_chunks,
                          embedder=self.manifest.embedder, built_at=self.manifest.built_at)


class MilvusLexical(Lexical):
    """Term statistics from the build's local file; the BM25 search itself is Milvus'."""

    def __init__(self, store: MilvusStore, size: int, df: dict[str, int]) -> None:
        super().__init__(None, size, df)
        self.store = store

    def search_tokens(self, tokens: list[str], n: int, rows: np.ndarray | None = None) -> list[tuple[int, float]]:
        if rows is not None:  # Milvus keeps to articles, not rows: MilvusStore.search_tokens(..., within)
            raise ValueError("Milvus searches keep to articles (within), not to rows")
        return self.store.search_bm25(tokens, n)


def write_store(index_dir: Path, manifest: Manifest, documents: list[Document], chunks: list[Chunk],
                vectors: np.ndarray, settings: Settings, extra: Callable[[Path], None] | None = None) -> Path:
    """Write a build and publish it by moving the alias (rag/store_milvus_build.py)."""
    from rag.store_milvus_build import write_store as write

    return write(index_dir, manifest, documents, chunks, vectors, settings, extra=extra)
