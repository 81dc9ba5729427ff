"""The index folder under pressure: one writer at a time, readers that see one build, clean-up that never
removes a live run's work, and storage failures that are one line and leave the last index alone.

Builds use the real embedder (loaded once, `fast_build`). Where the operating system cannot be made to
fail on demand (a full disk; a read-only folder when the tests run as root), the failing system call is
simulated at the point the code makes it."""

from __future__ import annotations

import errno
import io
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import rag.indexer
from conftest import PROJECT, copy_index, index_fingerprint, one_line
from rag import embeddings
from rag.cli import app
from rag.errors import IndexCorruptError
from rag.indexer import build_index
from rag.schema import IndexReport
from rag.store import index_exists, load_store

runner = CliRunner()
ROUNDS = 20


def article(name: str, round_no: int) -> str:
    return (f"{name.title()} delegation report\nThe {name} delegation met in round {round_no} of the ceasefire "
            f"talks in Brussels, officials said on Friday.\n")


def _folder(tmp_path: Path, name: str, text: str) -> Path:
    folder = tmp_path / name
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.txt").write_text(text, encoding="utf-8")
    return folder


def _entries(index: Path) -> list[str]:
    """What the index folder holds, the lock files aside."""
    return sorted(p.name for p in index.iterdir() if not p.name.startswith(".lock") and p.name != ".writer")


def _consistent(store) -> bool:
    n = len(store.chunks)
    return (n == store.vectors.shape[0] == store.faiss_index.ntotal == store.lexical.size
            and set(store.documents) == set(store.manifest.documents) == {c.doc_id for c in store.chunks}
            and all(store.documents[c.doc_id].text[c.start : c.end] == c.text for c in store.chunks))


# ----- one writer at a time ------------------------------------------------------------------------

def test_concurrent_writers_and_readers_stress(tmp_path, settings, fast_build, monkeypatch):
    """Two writers index their own folder into one index, every round changing their article, while a
    reader loads the index in a loop. Every write must see the other's result (one writer at a time),
    the published link must always name a complete build, and no load may mix two builds."""
    # The query encoder's 90 MB copy per build is not what this test is about.
    monkeypatch.setattr(embeddings, "export_query_encoder", lambda settings, build_dir: None)
    names = ("east", "west")
    folders = {n: _folder(tmp_path, n, article(n, 0)) for n in names}
    index = tmp_path / "index"
    intervals: list[tuple[float, float]] = []
    real_write = rag.indexer.write_store

    def timed_write(*args, **kwargs):
        start = time.monotonic()
        try:
            return real_write(*args, **kwargs)
        finally:
            intervals.append((start, time.monotonic()))

    monkeypatch.setattr(rag.indexer, "write_store", timed_write)
    stop = threading.Event()
    loads: list[str] = []
    problems: list[str] = []

    def reader() -> None:
        while not stop.is_set():
            if not index_exists(index):
                continue
            try:
                store = load_store(index, settings)
            except Exception as exc:  # noqa: BLE001 - every failure is a finding
                problems.append(f"load failed: {exc!r}")
                continue
            loads.append(store.path.name)
            if not _consistent(store):
                problems.append(f"inconsistent load of {store.path.name}")

    reading = threading.Thread(target=reader, daemon=True)
    reading.start()
    try:
        for round_no in range(ROUNDS):
            for n in names:
                (folders[n] / f"{n}.txt").write_text(article(n, round_no), encoding="utf-8")
            barrier = threading.Barrier(len(names))
            results: dict[str, object] = {}

            def write(name: str, barrier: threading.Barrier, results: dict[str, object]) -> None:
                barrier.wait()
                try:
                    results[name] = build_index([folders[name]], index, settings)
                except BaseException as exc:  # noqa: BLE001 - reported below
                    results[name] = exc

            writers = [threading.Thread(target=write, args=(n, barrier, results)) for n in names]
            for t in writers:
                t.start()
            for t in writers:
                t.join(120)
            assert all(isinstance(results.get(n), IndexReport) for n in names), (round_no, results)
            store = load_store(index, settings)
            for n in names:  # neither write was lost
                assert f"round {round_no} " in store.documents[n].text, (round_no, n)
            assert _consistent(store)
            builds = [e for e in _entries(index) if e.startswith("build-")]
            assert _entries(index) == sorted(["current", *builds]) and builds == [os.readlink(index / "current")]
    finally:
        stop.set()
        reading.join(30)
    assert not problems, problems[:5]
    assert len(loads) > ROUNDS
    spans = sorted(intervals)
    assert len(spans) >= ROUNDS * 2 - 1
    overlaps = [(a, b) for a, b in pairwise(spans) if b[0] < a[1]]
    assert not overlaps, f"{len(overlaps)} writes ran at the same time"


def _hold_lock(index: Path, seconds: float) -> threading.Event:
    """Hold the index's writer lock from another thread for `seconds`; returns once it is held."""
    from filelock import FileLock

    index.mkdir(parents=True, exist_ok=True)
    held = threading.Event()

    def hold() -> None:
        with FileLock(str(index / ".lock")):
            (index / ".writer").write_text("4242")
            held.set()
            time.sleep(seconds)

    threading.Thread(target=hold, daemon=True).start()
    assert held.wait(10)
    return held


def test_second_writer_waits_with_a_message_then_writes(tmp_path, settings, fast_build):
    folder = _folder(tmp_path, "east", article("east", 1))
    index = tmp_path / "index"
    _hold_lock(index, 1.5)
    messages: list[str] = []
    started = time.monotonic()
    report = build_index([folder], index, settings, wait_s=60, on_wait=messages.append)
    assert time.monotonic() - started >= 1.0
    assert report.added == ["east"] and load_store(index, settings).documents["east"]
    assert len(messages) == 1 and "4242" in messages[0] and one_line(messages[0])


def test_second_writer_gives_up_after_its_wait(tmp_path, settings, fast_build):
    from rag.errors import IndexBusyError

    folder = _folder(tmp_path, "east", article("east", 1))
    index = tmp_path / "index"
    _hold_lock(index, 5)
    with pytest.raises(IndexBusyError) as info:
        build_index([folder], index, settings, wait_s=0.3)
    message = str(info.value)
    assert one_line(message) and "4242" in message and str(index) in message and info.value.exit_code == 9
    assert not index_exists(index)


def test_cli_says_it_waits_for_the_other_writer(tmp_path, fast_build):
    folder = _folder(tmp_path, "east", article("east", 1))
    index = tmp_path / "index"
    _hold_lock(index, 1.5)
    result = runner.invoke(app, ["index", str(folder), "--index-dir", str(index)])
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("waiting for another `rag index`"), result.stderr
    assert "indexed 1 article," in result.stderr


# ----- clean-up removes only what no live process owns -------------------------------------------

STALLED_WRITER = """
import sys, time
from pathlib import Path
import numpy as np
from rag.config import load_settings
from rag.schema import Chunk, Document
from rag.store import new_manifest, write_store

settings = load_settings(Path(sys.argv[2]))
text = "A stalled article about a meeting in Brussels."
doc = Document(doc_id="stalled", title="t", source="s", text=text, sha256="0" * 64)
chunk = Chunk(chunk_id="stalled#0", doc_id="stalled", title="t", text=text, start=0, end=len(text))
vectors = np.full((1, 384), 1 / np.sqrt(384), dtype=np.float32)

def stall(build_dir):
    print("writing", flush=True)
    time.sleep(600)

write_store(Path(sys.argv[1]), new_manifest(settings, 384, [doc], 1, []), [doc], [chunk], vectors, settings,
            extra=stall)
"""


@pytest.fixture
def stalled_writer(tmp_path):
    """A process in the middle of writing a build into tmp_path/index (it stalls before finishing)."""
    index = tmp_path / "index"
    env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    proc = subprocess.Popen([sys.executable, "-c", STALLED_WRITER, str(index), str(PROJECT / "models.toml")],
                            stdout=subprocess.PIPE, text=True, env=env, cwd=PROJECT)
    try:
        assert proc.stdout.readline().strip() == "writing"
        yield index, proc
    finally:
        proc.kill()
        proc.wait()


def _partials(index: Path) -> list[str]:
    return [p.name for p in index.iterdir() if p.name.endswith(".partial")]


def test_a_killed_build_is_cleaned_up_by_the_next_index(stalled_writer, tmp_path, settings, fast_build):
    index, proc = stalled_writer
    assert len(_partials(index)) == 1
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    build_index([_folder(tmp_path, "east", article("east", 1))], index, settings)
    assert _partials(index) == []
    assert _entries(index) == sorted(["current", os.readlink(index / "current")])


def test_a_killed_build_is_cleaned_up_even_when_nothing_changed(stalled_writer, tmp_path, settings, fast_build):
    index, proc = stalled_writer
    folder = _folder(tmp_path, "east", article("east", 1))
    proc.kill()
    proc.wait()
    build_index([folder], index, settings)
    (index / f"{os.readlink(index / 'current')}.999999999.partial").mkdir()  # an owner that cannot exist
    report = build_index([folder], index, settings)
    assert report.unchanged == ["east"] and _partials(index) == []


def test_a_live_build_is_never_removed(stalled_writer, tmp_path, settings, fast_build):
    index, proc = stalled_writer
    before = _partials(index)
    build_index([_folder(tmp_path, "east", article("east", 1))], index, settings)
    assert proc.poll() is None and _partials(index) == before


# ----- refuse early, publish or not: never half ----------------------------------------------------

def test_current_that_is_a_file_is_refused_before_building(tmp_path, settings, fast_build, monkeypatch):
    index = tmp_path / "index"
    index.mkdir()
    (index / "current").write_text("not an index link")
    monkeypatch.setattr(fast_build, "encode", lambda *a, **k: pytest.fail("built before refusing"))
    with pytest.raises(IndexCorruptError) as info:
        build_index([_folder(tmp_path, "east", article("east", 1))], index, settings)
    assert one_line(str(info.value)) and "current" in str(info.value)
    assert _entries(index) == ["current"] and (index / "current").read_text() == "not an index link"


def test_ctrl_c_after_publishing_reports_the_published_index(tmp_path, seeds_index, settings, fast_build,
                                                              monkeypatch):
    index = copy_index(seeds_index, tmp_path / "index")
    old = os.readlink(index / "current")
    folder = _folder(tmp_path, "east", article("east", 1))
    real_rmtree = shutil.rmtree
    sent: list[str] = []

    def rmtree(path, *args, **kwargs):  # removing the old build happens after the new one is published
        if Path(path).name == old and not sent:
            sent.append(str(path))
            os.kill(os.getpid(), signal.SIGINT)
        return real_rmtree(path, *args, **kwargs)

    monkeypatch.setattr(shutil, "rmtree", rmtree)
    result = runner.invoke(app, ["index", str(folder), "--index-dir", str(index)])
    assert sent, "the old build was never removed"
    assert result.exit_code == 0, (result.exit_code, result.output)
    assert "indexed" in result.stderr and "nothing was changed" not in result.stderr
    assert os.readlink(index / "current") != old
    assert "east" in load_store(index, settings).documents


# ----- storage failures: one line, distinct exit code, the last index as it was --------------------

def _fail_writes_under(monkeypatch, root: Path, err: int) -> None:
    """Writes under `root` fail with `err`, as on a full disk (ENOSPC) or a read-only folder (EACCES)."""
    import builtins

    root = os.path.abspath(root)
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_CREAT

    def inside(path) -> bool:
        return isinstance(path, (str, os.PathLike)) and os.path.abspath(path).startswith(root + os.sep)

    def refuse(path):
        raise OSError(err, os.strerror(err), str(path))

    real_open, real_io_open, real_mkdir, real_builtin_open = os.open, io.open, os.mkdir, builtins.open

    def os_open(path, flags, *args, **kwargs):
        if inside(path) and flags & write_flags:
            refuse(path)
        return real_open(path, flags, *args, **kwargs)

    def mkdir(path, *args, **kwargs):
        if inside(path):
            refuse(path)
        return real_mkdir(path, *args, **kwargs)

    def opener(real):
        def call(file, mode="r", *args, **kwargs):
            if inside(file) and any(c in mode for c in "wax+"):
                refuse(file)
            return real(file, mode, *args, **kwargs)
        return call

    monkeypatch.setattr(os, "open", os_open)
    monkeypatch.setattr(os, "mkdir", mkdir)
    monkeypatch.setattr(io, "open", opener(real_io_open))
    monkeypatch.setattr(builtins, "open", opener(real_builtin_open))


@pytest.mark.parametrize("how", ["full disk", "read-only folder"])
def test_storage_failure_is_one_line_and_keeps_the_index(tmp_path, seeds_index, fast_build, monkeypatch, how):
    index = copy_index(seeds_index, tmp_path / "index")
    before = index_fingerprint(index)
    folder = _folder(tmp_path, "east", article("east", 1))
    if how == "full disk":
        def full(*args, **kwargs):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        monkeypatch.setattr(np, "save", full)
    else:
        index.chmod(0o555)
        _fail_writes_under(monkeypatch, index, errno.EACCES)
    try:
        result = runner.invoke(app, ["index", str(folder), "--index-dir", str(index)])
    finally:
        index.chmod(0o755)
    assert result.exit_code == 10, (result.exit_code, result.output, result.exception)
    assert result.stderr.startswith("error:") and one_line(result.stderr), result.stderr
    assert str(index) in result.stderr
    assert ("No space left" if how == "full disk" else "ermission denied") in result.stderr
    monkeypatch.undo()
    assert index_fingerprint(index) == before
    assert _partials(index) == []
