"""The embedder's ONNX export is made once per user and embedder, reused by every index build, made
again when damaged or when the model changes, and skipped for a model ONNX can't take."""

from __future__ import annotations

import json
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


def _fake_export(root: Path, key: str, source: Path) -> Path:
    """A cached export as far as pruning reads it: a folder whose encoder.json names its embedder folder."""
    folder = root / key
    folder.mkdir(parents=True)
    (folder / onnx_encoder.CONFIG_FILE).write_text(json.dumps({"source_path": str(source)}))
    return folder


def test_exports_of_a_gone_or_reinstalled_embedder_are_pruned(tmp_path: Path) -> None:
    """Each install makes a new 90 MB export; those no build can ask for again are deleted, the rest kept."""
    root = tmp_path / embeddings.EXPORTS_DIR
    here, other = tmp_path / "venv" / "model", tmp_path / "other" / "model"
    here.mkdir(parents=True)
    other.mkdir(parents=True)
    keep = _fake_export(root, "new", here)
    superseded = _fake_export(root, "old", here)  # the same folder before a reinstall changed its files
    gone = _fake_export(root, "gone", tmp_path / "deleted-clone" / "model")
    another = _fake_export(root, "another", other)  # another embedder, still installed
    unreadable = root / "odd"
    unreadable.mkdir()
    (unreadable / onnx_encoder.CONFIG_FILE).write_text("not json")
    removed = embeddings.prune_exports(root, keep=keep)
    assert sorted(removed) == sorted([superseded, gone])
    assert keep.is_dir() and another.is_dir() and unreadable.is_dir()
    assert not superseded.exists() and not gone.exists()


def test_an_export_in_use_is_not_pruned(tmp_path: Path) -> None:
    from filelock import FileLock

    root = tmp_path / embeddings.EXPORTS_DIR
    keep = _fake_export(root, "new", tmp_path)
    busy = _fake_export(root, "busy", tmp_path / "gone")
    with FileLock(str(busy) + ".lock"):
        assert embeddings.prune_exports(root, keep=keep) == []
    assert busy.is_dir()
    assert embeddings.prune_exports(root, keep=keep) == [busy]


def test_making_an_export_prunes_that_of_a_deleted_install(exports, settings: Settings, tmp_path: Path) -> None:
    root = tmp_path / "cache" / embeddings.EXPORTS_DIR
    gone = _fake_export(root, "gone", tmp_path / "deleted-clone" / "model")
    folder = embeddings.cached_export(settings)
    assert folder is not None and folder.is_dir() and not gone.exists()
