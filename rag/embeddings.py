"""Sentence embeddings. Indexing and queries both run the embedder's ONNX export (onnxruntime: about 3x
faster than torch on 2 cores, vectors equal to 1e-6), exported once per user and embedder into the
cache; sentence-transformers itself is only the exporter, and the fallback for a model ONNX can't take."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from rag.cache import cache_root
from rag.config import Settings
from rag.errors import ConfigError

if TYPE_CHECKING:
    from rag.store_api import Store

ENCODER_DIR = "encoder"  # the ONNX export of the embedder, inside an index build
EXPORTS_DIR = "encoders"  # cached exports under the user cache, one folder per embedder and exporter code
KEY_CHARS = 16  # hex digits of the hash naming a cached export

ProgressFn = Callable[[int, int], None]  # (texts done, texts in all)


class Encoder(Protocol):
    """What retrieval needs: texts in, unit vectors out."""

    def encode(self, texts: list[str]) -> np.ndarray: ...


class IndexEncoder(Protocol):
    """What indexing needs: the vectors' width, and progress while a long list is embedded."""

    @property
    def dim(self) -> int: ...

    def encode(self, texts: list[str], progress: ProgressFn | None = None) -> np.ndarray: ...


def _offline() -> None:
    """Never wait on a model hub: every model here is loaded from a local folder."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TQDM_DISABLE", "1")


class SentenceTransformerEncoder:
    """The reference encoder; importing it costs seconds (torch), and it embeds at a third of ONNX's pace."""

    def __init__(self, folder: Path, batch_size: int = 32) -> None:
        _offline()
        from sentence_transformers import SentenceTransformer

        self.folder = folder
        self.batch_size = batch_size
        self.model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
        dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        size = dim()
        if size is None:
            raise ConfigError(f"the embedder at {folder} gives vectors of no fixed size: an index needs one")
        self._dim = int(size)

    @property
    def dim(self) -> int:
        return self._dim

    def encode(self, texts: list[str], progress: ProgressFn | None = None) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        step = self.batch_size * 4
        for start in range(0, len(texts), step):
            batch = texts[start : start + step]
            out[start : start + len(batch)] = self.model.encode(
                batch, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True,
                show_progress_bar=False,
            )
            if progress:
                progress(start + len(batch), len(texts))
        return out


def export_key(st_folder: Path) -> str:
    """A hash of the embedder's files (names, sizes, mtimes) and of the exporter's code: the same key
    means an export made from it would be the same."""
    from rag import onnx_encoder

    h = hashlib.sha256(str(st_folder.resolve()).encode())
    h.update(Path(onnx_encoder.__file__).read_bytes())
    for f in sorted(p for p in st_folder.rglob("*") if p.is_file()):
        st = f.stat()
        h.update(f"{f.relative_to(st_folder)}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
    return h.hexdigest()[:KEY_CHARS]


def cached_export(settings: Settings) -> Path | None:
    """The embedder's ONNX export in the user cache, made on first use (once per user and embedder;
    a lock keeps two processes from exporting at once). None when this embedder can't be exported."""
    from filelock import FileLock

    from rag.errors import IndexCorruptError
    from rag.onnx_encoder import CONFIG_FILE, export, read_config

    _offline()
    st_folder = settings.embedder.resolve(settings.base_dir)
    folder = cache_root() / EXPORTS_DIR / export_key(st_folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(folder) + ".lock"):
        if (folder / CONFIG_FILE).is_file():
            try:
                read_config(folder)  # every file there, at its size: a damaged export is made again
                return folder
            except IndexCorruptError:
                shutil.rmtree(folder, ignore_errors=True)
        try:
            export(st_folder, folder)
        except (ImportError, ValueError):  # no ONNX exporter, or a model it does not support
            shutil.rmtree(folder, ignore_errors=True)
            return None
    prune_exports(folder.parent, keep=folder)
    return folder


def prune_exports(exports: Path, keep: Path) -> list[Path]:
    """Delete the cached exports no build can ask for again: those of an embedder folder that is gone (a
    deleted clone or venv) or that now holds other files (a reinstall), which `keep` replaces. Each is
    90 MB and a new install makes a new one, so without this the cache grows by that much per install.
    An index holds its own copy, so none is harmed; an export in use (its lock held) is left alone."""
    from filelock import FileLock, Timeout

    from rag.onnx_encoder import CONFIG_FILE

    here = _source_path(keep / CONFIG_FILE)
    removed: list[Path] = []
    for config in exports.glob(f"*/{CONFIG_FILE}"):
        folder = config.parent
        source = _source_path(config)
        if folder == keep or source is None or (source != here and Path(source).exists()):
            continue
        try:
            with FileLock(str(folder) + ".lock", timeout=0):
                shutil.rmtree(folder, ignore_errors=True)
        except Timeout:
            continue
        removed.append(folder)  # its empty lock file stays: deleting one another process may hold is unsafe
    return removed


def _source_path(config: Path) -> str | None:
    """The embedder folder an export was made from, as its encoder.json records it; None when unreadable.
    Read leniently, not with `read_config`: a damaged stale export must still be found to be pruned."""
    try:
        source = json.loads(config.read_text(encoding="utf-8")).get("source_path")
    except (OSError, ValueError, AttributeError):
        return None
    return source if isinstance(source, str) and source else None


def index_encoder(settings: Settings) -> IndexEncoder:
    """The encoder that embeds articles: the cached ONNX export, else sentence-transformers."""
    folder = cached_export(settings)
    if folder is None:
        return SentenceTransformerEncoder(settings.embedder.resolve(settings.base_dir), settings.embedder.batch_size)
    from rag.onnx_encoder import OnnxEncoder

    return OnnxEncoder(folder, batch_size=settings.embedder.batch_size)


def export_query_encoder(settings: Settings, build_dir: Path) -> None:
    """Copy the ONNX export beside the index, so queries need neither torch nor transformers, and an
    index stays usable wherever it is copied."""
    from filelock import FileLock

    folder = cached_export(settings)
    if folder is not None:
        with FileLock(str(folder) + ".lock"):  # not pruned by another install while it is copied
            shutil.copytree(folder, build_dir / ENCODER_DIR,
                            ignore=shutil.ignore_patterns("*.lock", ".onnx-export-*"))


def query_encoder(store: "Store", settings: Settings) -> Encoder:
    """The index's own ONNX export when it has one, else sentence-transformers."""
    folder = store.path / ENCODER_DIR
    if (folder / "model.onnx").is_file():
        from rag.onnx_encoder import OnnxEncoder

        return OnnxEncoder(folder)
    return SentenceTransformerEncoder(settings.embedder.resolve(settings.base_dir), settings.embedder.batch_size)
