"""The embedder's ONNX export is made once per user and embedder, reused by every index build, made
again when damaged or when the model changes, and skipped for a model ONNX can't take."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rag import embeddings, onnx_encoder
from rag.cache import CACHE_ENV
from rag.config import Settings
from rag.onnx_encoder import MODEL_FILE, OnnxEncoder


@pytest.fixture
def exports(monkeypatch, tmp_path, seeds_index) -> list[Path]:
    """A private cache, and an exporter that copies the session's real export and counts its calls."""
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    real = seeds_index / "current" / embeddings.ENCODER_DIR
    calls: list[Path] = []

    def export(st_folder: Path, out_dir: Path) -> None:
        calls.append(out_dir)
        shutil.copytree(real, out_dir, dirs_exist_ok=True)

    monkeypatch.setattr(onnx_encoder, "export", export)
    return calls


def test_export_once_then_reused(exports, settings: Settings, tmp_path: Path) -> None:
    first = embeddings.cached_export(settings)
    again = embeddings.cached_export(settings)
    assert first == again and first is not None and first.is_relative_to(tmp_path / "cache")
    assert len(exports) == 1
    encoder = embeddings.index_encoder(settings)
    assert isinstance(encoder, OnnxEncoder) and encoder.batch_size == settings.embedder.batch_size
    build = tmp_path / "build"
    build.mkdir()
    embeddings.export_query_encoder(settings, build)
    assert (build / embeddings.ENCODER_DIR / MODEL_FILE).is_file() and len(exports) == 1


def test_a_damaged_export_is_made_again(exports, settings: Settings) -> None:
    folder = embeddings.cached_export(settings)
    assert folder is not None
    with open(folder / MODEL_FILE, "r+b") as f:  # truncated: its size no longer matches encoder.json
        f.truncate(100)
    assert embeddings.cached_export(settings) == folder and len(exports) == 2
    OnnxEncoder(folder, threads=1)  # whole again


def test_a_model_onnx_cannot_take_falls_back_to_sentence_transformers(monkeypatch, tmp_path, settings) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))

    def unsupported(st_folder: Path, out_dir: Path) -> None:
        raise ValueError("pooling ['weightedmean'] not supported")

    class Reference:
        def __init__(self, folder: Path, batch_size: int = 32) -> None:
            self.folder = folder

    monkeypatch.setattr(onnx_encoder, "export", unsupported)
    monkeypatch.setattr(embeddings, "SentenceTransformerEncoder", Reference)
    assert embeddings.cached_export(settings) is None
    assert isinstance(embeddings.index_encoder(settings), Reference)
    assert not list((tmp_path / "cache" / embeddings.EXPORTS_DIR).glob("*/*"))  # no half export left behind


def test_the_key_follows_the_model_files_and_nothing_else(tmp_path: Path) -> None:
    model = tmp_path / "model"
    (model / "1_Pooling").mkdir(parents=True)
    (model / "config.json").write_text("{}")
    (model / "1_Pooling" / "config.json").write_text("{}")
    key = embeddings.export_key(model)
    assert embeddings.export_key(model) == key
    (model / "config.json").write_text('{"hidden_size": 384}')
    assert embeddings.export_key(model) != key
