"""The guarded model start: a llama.cpp build that crashes on this CPU becomes one line and exit code 5,
found in a child process, and cached so later starts pay nothing."""

from __future__ import annotations

import sys

import pytest
from typer.testing import CliRunner

from conftest import MODELS_TOML, one_line
from rag import selfcheck
from rag.cache import CACHE_ENV
from rag.cli import app
from rag.errors import ModelCrashError
from rag.hardware import llama_build

# A child that really segfaults (reads address 0), as the native build did on an AMX machine.
SEGFAULT = [sys.executable, "-c", "import ctypes; ctypes.string_at(0)"]
FAILS = [sys.executable, "-c", "import sys; sys.exit('GGML_ASSERT failed')"]
HANGS = [sys.executable, "-c", "import time; time.sleep(30)"]


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))


@pytest.fixture
def model(tmp_path):
    path = tmp_path / "model.gguf"
    path.write_bytes(b"GGUF" + bytes(64))
    return path


def test_a_crash_in_the_child_is_one_line_naming_cause_and_fix(model):
    with pytest.raises(ModelCrashError) as info:
        selfcheck.ensure_runs(model, "build-a", command=SEGFAULT)
    message = str(info.value)
    assert one_line(message) and "SIGSEGV" in message and "make rebuild-llama" in message
    assert info.value.exit_code == 5


@pytest.mark.parametrize("command, words", [(FAILS, "GGML_ASSERT failed"), (HANGS, "did not finish")])
def test_a_failing_or_hanging_child_is_reported(model, monkeypatch, command, words):
    monkeypatch.setattr(selfcheck, "TIMEOUT_S", 2.0)
    outcome = selfcheck.run_probe(model, command, timeout=2.0)
    assert not outcome.ok and words in outcome.detail


def test_the_outcome_is_cached_per_model_and_build(model, monkeypatch):
    calls = []
    real = selfcheck.run_probe

    def counting(path, command=None, timeout=selfcheck.TIMEOUT_S):
        calls.append(path)
        return real(path, [sys.executable, "-c", "pass"], timeout)

    monkeypatch.setattr(selfcheck, "run_probe", counting)
    selfcheck.ensure_runs(model, "build-a")
    selfcheck.ensure_runs(model, "build-a")
    assert len(calls) == 1  # the second start pays nothing
    selfcheck.ensure_runs(model, "build-b")  # another llama.cpp build is checked again
    model.write_bytes(b"GGUF" + bytes(65))  # so is a changed model file
    selfcheck.ensure_runs(model, "build-b")
    assert len(calls) == 3


def test_a_cached_crash_is_still_refused(model):
    with pytest.raises(ModelCrashError):
        selfcheck.ensure_runs(model, "build-a", command=SEGFAULT)
    with pytest.raises(ModelCrashError):  # from the cache this time: no child needed
        selfcheck.ensure_runs(model, "build-a", command=[sys.executable, "-c", "pass"])


def test_an_unwritable_cache_only_costs_a_recheck(model, monkeypatch, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(CACHE_ENV, str(blocker / "cache"))
    selfcheck.ensure_runs(model, "build-a", command=[sys.executable, "-c", "pass"])


@pytest.mark.slow
def test_the_bundled_model_passes_the_real_self_check(settings):
    _, config = settings.llm_config()
    path = config.resolve(settings.base_dir)
    assert selfcheck.run_probe(path) == selfcheck.Outcome(True, "")
    selfcheck.ensure_runs(path, llama_build().identity)


@pytest.mark.slow
def test_ask_exits_5_with_one_line_when_the_model_crashes(seeds_index, monkeypatch):
    """The whole CLI path: `rag ask` with a build whose first decode segfaults."""
    monkeypatch.setattr(selfcheck, "child_command", lambda model: SEGFAULT)
    result = CliRunner().invoke(app, ["ask", "--no-judge", "--config", str(MODELS_TOML), "--index-dir",
                                      str(seeds_index), "What did Barrot demand?"])
    assert result.exit_code == 5, result.output
    assert one_line(result.stderr) and result.stderr.startswith("error:") and "SIGSEGV" in result.stderr
    assert result.stdout == ""
