"""Sentence embeddings: sentence-transformers for indexing, and the fastest exact encoder for queries."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from rag.config import Settings
from rag.errors import ConfigError

if TYPE_CHECKING:
    from rag.store_api import Store

ENCODER_DIR = "encoder"  # the ONNX export of the embedder, inside an index build


class Encoder(Protocol):
    def encode(self, texts: list[str]) -> np.ndarray: ...


def _offline() -> None:
    """Never wait on a model hub: every model here is loaded from a local folder."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TQDM_DISABLE", "1")


class SentenceTransformerEncoder:
    """The reference encoder; importing it costs seconds (torch), so queries avoid it when they can."""

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
        self.dim = int(size)

    def encode(self, texts: list[str], progress: Callable[[int, int], None] | None = None) -> np.ndarray:
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


def index_encoder(settings: Settings) -> SentenceTransformerEncoder:
    return SentenceTransformerEncoder(settings.embedder.resolve(settings.base_dir), settings.embedder.batch_size)


def export_query_encoder(settings: Settings, build_dir: Path) -> None:
    """Export the embedder to ONNX beside the index, so queries need neither torch nor transformers."""
    from rag.onnx_encoder import export

    _offline()  # also when nothing was embedded (a repair, a removal): no hub, no progress bars

    export(settings.embedder.resolve(settings.base_dir), build_dir / ENCODER_DIR)


def query_encoder(store: "Store", settings: Settings) -> Encoder:
    """The index's own ONNX export when it has one, else sentence-transformers."""
    folder = store.path / ENCODER_DIR
    if (folder / "model.onnx").is_file():
        from rag.onnx_encoder import OnnxEncoder

        return OnnxEncoder(folder)
    return index_encoder(settings)
