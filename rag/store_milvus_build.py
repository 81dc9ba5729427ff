"""Writing a Milvus build: new collections and a local folder, published by moving the alias."""

from __future__ import annotations

import json
import re
import shutil
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from rag.config import Settings
from rag.errors import IndexMissingError, InputError, RagError
from rag.lexical import tokenize
from rag.roles import Roles
from rag.schema import Chunk, Document
from rag.store import HNSW_EF_CONSTRUCTION, HNSW_M, ROLES_FILE, Manifest
from rag.store_milvus import (
    BM25_B,
    BM25_K1,
    DOCS_SUFFIX,
    META_FILE,
    TERMS_FILE,
    as_term,
    connect,
    gist,
    location,
    published_collection,
)

MAX_VARCHAR = 65_535  # bytes: Milvus' longest VARCHAR
DOC_PART_CHARS = MAX_VARCHAR // 4  # an article is stored in parts of this many characters (UTF-8: <= 4 bytes each)
INSERT_BATCH = 1_000  # rows per insert request


def write_store(index_dir: Path, manifest: Manifest, documents: list[Document], chunks: list[Chunk],
                vectors: np.ndarray, settings: Settings, extra: Callable[[Path], None] | None = None) -> Path:
    """Write a build into new collections and a local folder, then move the alias to it: until then
    readers see the last good build, and a failure drops what was written."""
    _check_sizes(chunks)
    if len(chunks) and vectors.shape[1] < 1:
        raise InputError("the articles gave no vectors to index: check the embedder in models.toml")
    index_dir.mkdir(parents=True, exist_ok=True)
    client = connect(index_dir, settings, create=True)
    where, alias = location(index_dir, settings), settings.store.alias
    name = f"{alias}_{datetime.now(timezone.utc):%Y%m%dT%H%M%S}_{uuid.uuid4().hex[:12]}"
    docs, build, tmp = name + DOCS_SUFFIX, index_dir / name, index_dir / f"{name}.partial"
    tmp.mkdir()
    try:
        tokens = [tokenize(c.text) for c in chunks]
        kind = "hnsw" if len(chunks) > settings.retrieval.ann_threshold else "flat"
        manifest.index_type = f"milvus-{kind}"
        _writing(lambda: _write_collections(client, name, docs, chunks, tokens, vectors, documents, kind,
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
        _writing(lambda: _move_alias(client, alias, name), where)  # the moment of publication
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


def _writing(fn: Callable[[], None], where: str) -> None:
    try:
        fn()
    except RagError:
        raise
    except Exception as exc:  # pymilvus raises MilvusException and grpc errors alike
        raise IndexMissingError(f"writing the Milvus index at {where} failed ({gist(exc)}); the last good index "
                                "is untouched: check the server (or [store] uri) and run `rag index` again") from None


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
    rows = ({"ordinal": i, **c.model_dump(), "terms": " ".join(as_term(t) for t in toks)[:MAX_VARCHAR // 4],
             "vector": np.asarray(vectors[i], dtype=np.float32).tolist()}
            for i, (c, toks) in enumerate(zip(chunks, tokens, strict=True)))
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
    if published_collection(client, alias) is None:
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
