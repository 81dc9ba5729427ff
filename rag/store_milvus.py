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
"""

from __future__ import annotations

import fcntl
import json
import logging
import re
import shutil
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, overload

import numpy as np
from pydantic import ValidationError

from rag.config import Settings, _resolve_path
from rag.errors import ConfigError, IndexCorruptError, IndexMissingError, InputError, RagError
from rag.lexical import Lexical, tokenize
from rag.roles import Roles
from rag.schema import Chunk, Document, IndexStats
from rag.store import FORMAT_VERSION, HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH, HNSW_M, ROLES_FILE, Manifest

DOCS_SUFFIX = "_docs"  # the articles' collection: the chunks' collection name plus this
META_FILE = "milvus.json"  # the collections and row counts of the build, for the load-time checks
TERMS_FILE = "terms.json"  # chunk count and document frequency of every token
ROW_FIELDS = ["chunk_id", "doc_id", "title", "text", "start", "end", "vector"]
DOC_FIELDS = ["doc_id", "part", "title", "source", "date", "sha256", "text"]
MAX_VARCHAR = 65_535  # bytes: Milvus' longest VARCHAR
DOC_PART_CHARS = MAX_VARCHAR // 4  # an article is stored in parts of this many characters (UTF-8: <= 4 bytes each)
INSERT_BATCH = 1_000  # rows per insert request
BM25_K1, BM25_B = 1.5, 0.75  # bm25s' defaults, so both backends rank alike
_NOT_WORD = re.compile(r"\W", re.UNICODE)

# pymilvus and Milvus Lite log failed calls with tracebacks; every failure here becomes one line (errors.py).
for _name in ("pymilvus", "milvus_lite"):
    logging.getLogger(_name).setLevel(logging.CRITICAL + 1)


# ----- connecting --------------------------------------------------------------------------------

def milvus_uri(index_dir: Path, settings: Settings) -> str:
    """A server URL as given; a Milvus Lite file relative to models.toml, or milvus.db in the index folder."""
    uri = settings.store.uri
    if uri is None:
        return str(index_dir / "milvus.db")
    return uri if "://" in uri else str(_resolve_path(uri, settings.base_dir))


def _is_lite(uri: str) -> bool:
    return "://" not in uri


def _connect(index_dir: Path, settings: Settings, create: bool):
    """A client, or a one-line error saying why there is none (not installed, no file, busy, unreachable)."""
    try:
        from pymilvus import MilvusClient
    except ImportError:
        raise ConfigError(f"{settings.source}: [store] backend = \"milvus\" needs pymilvus and milvus-lite: "
                          "pip install 'rag-news[milvus]'") from None
    uri = milvus_uri(index_dir, settings)
    if _is_lite(uri) and not create and not Path(uri).exists():
        raise IndexMissingError(f"no index at {index_dir} (no Milvus Lite file {uri}): "
                                "build one with `rag index seeds/` (or your articles)")
    if _is_lite(uri):
        Path(uri).parent.mkdir(parents=True, exist_ok=True)
    try:
        return MilvusClient(uri=uri, timeout=settings.store.timeout)
    except Exception as exc:  # pymilvus wraps every connection failure in its own types
        if _is_lite(uri) and _locked(Path(uri)):
            raise IndexMissingError(f"the Milvus Lite file {uri} is open in another process (Milvus Lite serves "
                                    "one process at a time): close it, or use a Milvus server ([store] uri)") from None
        if _is_lite(uri):
            raise IndexCorruptError(f"cannot open the Milvus Lite file {uri} ({_gist(exc)}): move it away and "
                                    "rebuild with `rag index`") from None
        raise IndexMissingError(f"cannot reach the Milvus server at {uri} ({_gist(exc)}): start it, or fix "
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


def _gist(exc: BaseException, width: int = 100) -> str:
    text = " ".join((getattr(exc, "message", "") or str(exc) or type(exc).__name__).split())
    return text if len(text) <= width else text[: width - 3] + "..."


def _published(client, alias: str) -> str | None:
    """The collection the alias points at, or None when there is no alias yet."""
    if alias not in client.list_aliases().get("aliases", []):
        return None
    return client.describe_alias(alias)["collection_name"]


def _where(index_dir: Path, settings: Settings) -> str:
    uri = milvus_uri(index_dir, settings)
    return str(index_dir) if _is_lite(uri) else f"{index_dir} (Milvus {uri}, alias {settings.store.alias})"


def _quote(value: str) -> str:
    """A string literal for a Milvus filter expression."""
    return json.dumps(value, ensure_ascii=False)


def _term(token: str) -> str:
    """A token as one word for Milvus' standard tokenizer ('160.5' would otherwise split in two)."""
    return _NOT_WORD.sub("_", token.lower())


# ----- reading ---------------------------------------------------------------------------------

def index_exists(index_dir: Path, settings: Settings) -> bool:
    uri = milvus_uri(index_dir, settings)
    if _is_lite(uri) and not Path(uri).exists():
        return False
    collection = _published(_connect(index_dir, settings, create=False), settings.store.alias)
    return collection is not None and (index_dir / collection / "manifest.json").is_file()


def load_store(index_dir: Path, settings: Settings) -> "MilvusStore":
    """Resolve the alias once, then check the build against its manifest; every failure is one line."""
    where = _where(index_dir, settings)
    client = _connect(index_dir, settings, create=False)
    collection = _call(lambda: _published(client, settings.store.alias), where)
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

    dim, rows, doc_rows = _call(check, where)
    if dim != max(manifest.dim, 1):  # an empty build still needs a vector field
        raise IndexCorruptError(f"index at {where} holds {dim}-dimensional vectors, its manifest says "
                                f"{manifest.dim}: {rebuild}")
    if not (rows == manifest.n_chunks == meta.get("chunk_rows") == size) or doc_rows != meta.get("document_rows"):
        raise IndexCorruptError(f"index at {where} is inconsistent (row counts differ): {rebuild}")
    return MilvusStore(client, collection, docs, path, manifest, df, where)


def _call(fn: Callable[[], Any], where: str) -> Any:
    """Run a Milvus request; a failure (server gone, build dropped by a newer `rag index`) is one line."""
    try:
        return fn()
    except RagError:
        raise
    except Exception as exc:  # pymilvus raises MilvusException and grpc errors alike
        raise IndexMissingError(f"the Milvus index at {where} failed a request ({_gist(exc)}): if it was "
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
        self.rows = _Rows(self, manifest.n_chunks, manifest.dim)
        self.chunks: Sequence[Chunk] = _ChunkRows(self.rows)
        self.vectors = _VectorRows(self.rows)
        self.documents: Mapping[str, Document] = _DocumentRows(self)
        self.lexical = MilvusLexical(self, manifest.n_chunks, df)

    def request(self, fn: Callable[[], Any]) -> Any:
        return _call(fn, self.where)

    def search_dense(self, query_vec: np.ndarray, n: int) -> list[tuple[int, float]]:
        if not self.manifest.n_chunks:
            return []
        vec = np.asarray(query_vec, dtype=np.float32).reshape(-1).tolist()
        params = {"metric_type": "IP", "params": {"ef": max(HNSW_EF_SEARCH, n)}}
        return self._hits(lambda: self.client.search(
            self.collection, data=[vec], anns_field="vector", limit=min(n, self.manifest.n_chunks),
            output_fields=ROW_FIELDS, search_params=params))

    def search_bm25(self, tokens: list[str], n: int) -> list[tuple[int, float]]:
        if not self.manifest.n_chunks or not tokens:
            return []
        text = " ".join(_term(t) for t in tokens)
        hits = self._hits(lambda: self.client.search(
            self.collection, data=[text], anns_field="sparse", limit=min(n, self.manifest.n_chunks),
            output_fields=ROW_FIELDS, search_params={"metric_type": "BM25"}))
        # BM25 scores are positive; Milvus Lite reports them negated (as distances), a server as scores.
        # Milvus' formula has bm25s' one times (k1 + 1): divided out, both backends' scores are alike.
        return [(i, abs(s) / (BM25_K1 + 1)) for i, s in hits if s]

    def _hits(self, search: Callable[[], Any]) -> list[tuple[int, float]]:
        found = []
        for hit in self.request(search)[0]:
            self.rows.put(int(hit.id), hit["entity"])
            found.append((int(hit.id), float(hit.distance)))
        return found

    def search_lexical(self, query: str, n: int) -> list[tuple[int, float]]:
        return self.lexical.search(query, n)

    def chunk_index(self, chunk_id: str) -> int:
        found = self.request(lambda: self.client.query(self.collection, filter=f"chunk_id == {_quote(chunk_id)}",
                                                       output_fields=["ordinal"]))
        if not found:
            raise KeyError(chunk_id)
        return int(found[0]["ordinal"])

    def document(self, doc_id: str) -> Document:
        try:
            return self.documents[doc_id]
        except KeyError:
            raise IndexMissingError(f"no article {doc_id!r} in the index at {self.where}") from None

    def roles(self) -> Roles:
        """Who holds which office, as the articles say; read from the build (or the articles if absent)."""
        try:
            return Roles.from_json(json.loads((self.path / ROLES_FILE).read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return Roles.from_texts(d.text for d in self.documents.values())

    def stats(self) -> IndexStats:
        return IndexStats(documents=len(self.manifest.documents), chunks=self.manifest.n_chunks,
                          embedder=self.manifest.embedder, built_at=self.manifest.built_at)


class MilvusLexical(Lexical):
    """Term statistics from the build's local file; the BM25 search itself is Milvus'."""

    def __init__(self, store: MilvusStore, size: int, df: dict[str, int]) -> None:
        super().__init__(None, size, df)
        self.store = store

    def search_tokens(self, tokens: list[str], n: int) -> list[tuple[int, float]]:
        return self.store.search_bm25(tokens, n)


class _Rows:
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
        missing = sorted({self._check(i) for i in ordinals} - self.chunks.keys())
        for start in range(0, len(missing), INSERT_BATCH):
            batch = missing[start : start + INSERT_BATCH]
            found = self.store.request(lambda: self.store.client.query(
                self.store.collection, filter=f"ordinal in {batch}", output_fields=["ordinal", *ROW_FIELDS]))
            for row in found:
                self.put(int(row["ordinal"]), row)
            if len(found) != len(batch):
                raise IndexCorruptError(f"index at {self.store.where} lacks chunk rows: rebuild it with `rag index`")

    def fill(self) -> None:
        self.need(range(self.n))

    def _check(self, i: int) -> int:
        i = int(i)
        if not -self.n <= i < self.n:
            raise IndexError(f"chunk row {i} out of range ({self.n} chunks)")
        return i % self.n


class _ChunkRows(Sequence[Chunk]):
    def __init__(self, rows: _Rows) -> None:
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
        return self.rows.chunks[self.rows._check(i)]

    def __iter__(self) -> Iterator[Chunk]:
        self.rows.fill()
        return (self.rows.chunks[j] for j in range(self.rows.n))


class _VectorRows:
    """`vectors[i]` is one row, `vectors[[i, j]]` a matrix, as with a numpy array."""

    def __init__(self, rows: _Rows) -> None:
        self.rows = rows

    @property
    def shape(self) -> tuple[int, int]:
        return (self.rows.n, self.rows.dim)

    def __len__(self) -> int:
        return self.rows.n

    def __getitem__(self, rows) -> np.ndarray:
        if isinstance(rows, (int, np.integer)):
            self.rows.need([rows])
            return self.rows.vectors[self.rows._check(rows)]
        wanted = list(range(self.rows.n))[rows] if isinstance(rows, slice) else [int(r) for r in rows]
        self.rows.need(wanted)
        if not wanted:
            return np.zeros((0, self.rows.dim), dtype=np.float32)
        return np.stack([self.rows.vectors[self.rows._check(r)] for r in wanted])


class _DocumentRows(Mapping[str, Document]):
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
                store.docs_collection, filter=f"doc_id == {_quote(doc_id)}", output_fields=DOC_FIELDS))
            parts = sorted(parts, key=lambda p: p["part"])
            if not parts or [p["part"] for p in parts] != list(range(len(parts))):
                raise IndexCorruptError(f"index at {store.where} lacks article {doc_id!r}: rebuild it with `rag index`")
            first = parts[0]
            self.cache[doc_id] = Document(doc_id=doc_id, title=first["title"], source=first["source"],
                                          date=first["date"] or None, sha256=first["sha256"],
                                          text="".join(p["text"] for p in parts))
        return self.cache[doc_id]


# ----- writing ---------------------------------------------------------------------------------

def write_store(index_dir: Path, manifest: Manifest, documents: list[Document], chunks: list[Chunk],
                vectors: np.ndarray, settings: Settings, extra: Callable[[Path], None] | None = None) -> Path:
    """Write a build into new collections and a local folder, then move the alias to it: until then
    readers see the last good build, and a failure drops what was written."""
    _check_sizes(chunks)
    if len(chunks) and vectors.shape[1] < 1:
        raise InputError("the articles gave no vectors to index: check the embedder in models.toml")
    index_dir.mkdir(parents=True, exist_ok=True)
    client = _connect(index_dir, settings, create=True)
    where, alias = _where(index_dir, settings), settings.store.alias
    name = f"{alias}_{datetime.now(timezone.utc):%Y%m%dT%H%M%S}_{uuid.uuid4().hex[:12]}"
    docs, build, tmp = name + DOCS_SUFFIX, index_dir / name, index_dir / f"{name}.partial"
    tmp.mkdir()
    try:
        tokens = [tokenize(c.text) for c in chunks]
        kind = "hnsw" if len(chunks) > settings.retrieval.ann_threshold else "flat"
        manifest.index_type = f"milvus-{kind}"
        _call(lambda: _write_collections(client, name, docs, chunks, tokens, vectors, documents, kind,
                                         max(manifest.dim, 1)), where)
        df: dict[str, int] = {}
        for toks in tokens:
            for tok in set(toks):
                df[tok] = df.get(tok, 0) + 1
        (tmp / TERMS_FILE).write_text(json.dumps({"size": len(chunks), "df": df}), encoding="utf-8")
        (tmp / ROLES_FILE).write_text(json.dumps(Roles.from_texts(d.text for d in documents).to_json()),
                                      encoding="utf-8")
        meta = {"collection": name, "documents_collection": docs, "chunk_rows": len(chunks),
                "document_rows": sum(len(_parts(d.text)) for d in documents)}
        (tmp / META_FILE).write_text(json.dumps(meta), encoding="utf-8")
        if extra:
            extra(tmp)
        (tmp / "manifest.json").write_text(manifest.model_dump_json(indent=2), encoding="utf-8")
        tmp.rename(build)
        _call(lambda: _move_alias(client, alias, name), where)  # the moment of publication
    except BaseException:  # Ctrl-C included: the alias still points at the last good build
        for dead in (name, docs):
            try:
                client.drop_collection(dead)
            except Exception:  # best effort; the next build's clean-up drops leftovers
                pass
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(build, ignore_errors=True)
        raise
    _drop_old(client, index_dir, alias, name)
    return build


def _check_sizes(chunks: list[Chunk]) -> None:
    for c in chunks:
        for what, text in (("passage", c.text), ("title", c.title)):
            if len(text.encode("utf-8")) > MAX_VARCHAR:
                raise InputError(f"article {c.doc_id!r} has a {what} over {MAX_VARCHAR:,} bytes ({c.chunk_id}), more "
                                 "than a Milvus text field holds: break it up, or use the faiss backend")


def _write_collections(client, name: str, docs: str, chunks: list[Chunk], tokens: list[list[str]],
                       vectors: np.ndarray, documents: list[Document], kind: str, dim: int) -> None:
    from pymilvus import DataType, Function, FunctionType

    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("ordinal", DataType.INT64, is_primary=True)  # the row number every search returns
    for field in ("chunk_id", "doc_id", "title"):
        schema.add_field(field, DataType.VARCHAR, max_length=MAX_VARCHAR)
    schema.add_field("text", DataType.VARCHAR, max_length=MAX_VARCHAR)
    schema.add_field("start", DataType.INT64)
    schema.add_field("end", DataType.INT64)
    schema.add_field("terms", DataType.VARCHAR, max_length=MAX_VARCHAR, enable_analyzer=True,
                     analyzer_params={"tokenizer": "standard"})
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_function(Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["terms"],
                                 output_field_names=["sparse"]))
    index = client.prepare_index_params()
    if kind == "hnsw":
        index.add_index("vector", index_type="HNSW", metric_type="IP",
                        params={"M": HNSW_M, "efConstruction": HNSW_EF_CONSTRUCTION})
    else:
        index.add_index("vector", index_type="FLAT", metric_type="IP")
    index.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                    params={"bm25_k1": BM25_K1, "bm25_b": BM25_B})
    client.create_collection(name, schema=schema, index_params=index)
    rows = ({"ordinal": i, **c.model_dump(), "terms": " ".join(_term(t) for t in toks)[:MAX_VARCHAR // 4],
             "vector": np.asarray(vectors[i], dtype=np.float32).tolist()}
            for i, (c, toks) in enumerate(zip(chunks, tokens)))
    _insert(client, name, rows)

    dschema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    dschema.add_field("key", DataType.VARCHAR, is_primary=True, max_length=MAX_VARCHAR)
    for field in ("doc_id", "title", "source", "date", "sha256"):
        dschema.add_field(field, DataType.VARCHAR, max_length=MAX_VARCHAR)
    dschema.add_field("part", DataType.INT64)
    dschema.add_field("text", DataType.VARCHAR, max_length=MAX_VARCHAR)
    dschema.add_field("placeholder", DataType.FLOAT_VECTOR, dim=2)  # Milvus wants a vector in every collection
    dindex = client.prepare_index_params()
    dindex.add_index("placeholder", index_type="FLAT", metric_type="L2")
    client.create_collection(docs, schema=dschema, index_params=dindex)
    _insert(client, docs, ({"key": f"{d.doc_id}#{p}", "doc_id": d.doc_id, "title": d.title, "source": d.source,
                            "date": d.date or "", "sha256": d.sha256, "part": p, "text": text,
                            "placeholder": [0.0, 0.0]}
                           for d in documents for p, text in enumerate(_parts(d.text))))
    client.flush(name)
    client.flush(docs)
    client.load_collection(name)
    client.load_collection(docs)


def _parts(text: str) -> list[str]:
    return [text[i : i + DOC_PART_CHARS] for i in range(0, len(text), DOC_PART_CHARS)] or [""]


def _insert(client, collection: str, rows: Iterable[dict]) -> None:
    batch: list[dict] = []
    for row in rows:
        batch.append(row)
        if len(batch) == INSERT_BATCH:
            client.insert(collection, batch)
            batch = []
    if batch:
        client.insert(collection, batch)


def _move_alias(client, alias: str, collection: str) -> None:
    if _published(client, alias) is None:
        client.create_alias(collection, alias)
    else:
        client.alter_alias(collection, alias)


def _drop_old(client, index_dir: Path, alias: str, keep: str) -> None:
    """Drop the builds the alias no longer points at, in Milvus and on disk (leftovers of failed ones too)."""
    build = re.compile(rf"^{re.escape(alias)}_\d{{8}}T\d{{6}}_[0-9a-f]{{12}}")
    try:
        for name in client.list_collections():
            if build.match(name) and name not in (keep, keep + DOCS_SUFFIX):
                client.drop_collection(name)
    except Exception:  # clean-up is best effort: the new build is published already
        pass
    for old in index_dir.iterdir():
        stale = old.name.endswith(".partial") and time.time() - old.stat().st_mtime > 3600
        if build.match(old.name) and old.name != keep and (not old.name.endswith(".partial") or stale):
            shutil.rmtree(old, ignore_errors=True)
