"""The index folder: one writer at a time, builds published by swapping a link, and clean-up of the
builds no live process owns.

    current -> build-<time>-<id>          the published build (a relative link, replaced atomically)
    build-<time>-<id>/                    a complete build; only the published one outlives a publish
    build-<time>-<id>.<pid>.partial/      a build being written by process <pid>
    .lock, .writer                        the writer lock (filelock) and the pid of the writer holding it

Every `rag index` holds the lock from reading the last index to publishing the next, so a second run
waits for the first and builds on its result. Readers take no lock: they resolve `current` once and read
every file from that one build folder.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path

from rag.errors import IndexBusyError, IndexCorruptError, IndexWriteError

CURRENT = "current"
LOCK_FILE = ".lock"
WRITER_FILE = ".writer"
PARTIAL = ".partial"
# A `.partial` folder without an owner pid in its name (written by an older version) counts as dead
# after this long; one with a pid is removed as soon as that process is gone.
UNOWNED_PARTIAL_S = 3600
# How long `rag index` waits by default for another `rag index` on the same folder (a large corpus
# takes minutes to embed); `--wait` changes it, 0 refuses at once.
LOCK_WAIT_S = 600.0


def current_path(index_dir: Path) -> Path:
    return index_dir / CURRENT


def resolve_current(index_dir: Path) -> Path | None:
    """The build folder `current` names right now (read once: the link may be replaced a moment later)."""
    link = current_path(index_dir)
    try:
        return index_dir / os.readlink(link)
    except FileNotFoundError:
        return None
    except OSError:  # not a link: a folder someone copied in is read as it is
        return link if link.is_dir() else None


def check_link(index_dir: Path) -> None:
    """Refuse, before any work, a `current` that is not a link (a file or folder someone put there)."""
    link = current_path(index_dir)
    if link.exists() and not link.is_symlink():
        raise IndexCorruptError(f"{link} is not an index link; move it away and run `rag index` again")


@contextlib.contextmanager
def storage_errors(index_dir: Path) -> Iterator[None]:
    """A full disk or a read-only folder is one line naming the folder, not a traceback. An OSError about
    a file elsewhere (an article, a model) is not the index's and passes through."""
    try:
        yield
    except OSError as exc:
        if exc.filename and not _inside(Path(os.fsdecode(exc.filename)), index_dir):
            raise
        if exc.errno == errno.ENOSPC:
            hint = "free some disk space and run `rag index` again"
        elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            hint = "make it writable, or pass another folder with --index-dir"
        else:
            hint = "fix that and run `rag index` again"
        raise IndexWriteError(f"cannot write the index at {index_dir}: {exc.strerror or exc}; {hint} "
                              "(the last index is unchanged)") from None


def _inside(path: Path, folder: Path) -> bool:
    return Path(os.path.abspath(path)).is_relative_to(os.path.abspath(folder))


@contextlib.contextmanager
def writer_lock(index_dir: Path, wait_s: float = LOCK_WAIT_S,
                on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the folder's writer lock. If another writer holds it, say so once through `on_wait` and wait
    up to `wait_s` seconds, then give up with `IndexBusyError`."""
    from filelock import FileLock, Timeout

    with storage_errors(index_dir):
        index_dir.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(index_dir / LOCK_FILE))
        try:
            lock.acquire(blocking=False)
        except Timeout:
            holder = _holder(index_dir)
            if on_wait and wait_s > 0:
                on_wait(f"waiting for another `rag index` ({holder}) to finish writing {index_dir} "
                        f"(up to {wait_s:g} s; Ctrl-C to stop waiting)")
            try:
                lock.acquire(timeout=wait_s)
            except Timeout:
                raise IndexBusyError(f"another `rag index` ({holder}) is writing {index_dir}: run `rag index` "
                                     "again when it has finished (or give it longer with --wait SECONDS)") from None
    try:
        with storage_errors(index_dir):
            (index_dir / WRITER_FILE).write_text(str(os.getpid()), encoding="utf-8")
        yield
    finally:
        with contextlib.suppress(OSError):
            (index_dir / WRITER_FILE).unlink()
        lock.release()


def _holder(index_dir: Path) -> str:
    try:
        return f"pid {int((index_dir / WRITER_FILE).read_text(encoding='utf-8'))}"
    except (OSError, ValueError):
        return "another process"


def new_build(index_dir: Path) -> tuple[Path, Path]:
    """(partial folder to write into, the build folder it becomes). Unique per build, so two builds in
    the same second never share a folder; the time is for people, the pid names the owner."""
    name = f"build-{datetime.now(timezone.utc):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:12]}"
    return index_dir / f"{name}.{os.getpid()}{PARTIAL}", index_dir / name


def publish(index_dir: Path, build: Path) -> None:
    """Point `current` at `build` in one atomic step, then remove the builds nobody owns any more."""
    link = current_path(index_dir)
    check_link(index_dir)
    tmp_link = index_dir / f".{CURRENT}.{build.name}"
    tmp_link.unlink(missing_ok=True)
    tmp_link.symlink_to(build.name)
    os.replace(tmp_link, link)  # atomic on POSIX
    clean_up(index_dir)


def clean_up(index_dir: Path) -> None:
    """Remove what no live process owns: builds other than the published one, `.partial` folders whose
    writer is gone, link files of an interrupted publish. The caller holds the writer lock, so no other
    writer is between finishing a build and publishing it."""
    current = resolve_current(index_dir)
    for entry in index_dir.iterdir():
        name = entry.name
        if name.startswith(f".{CURRENT}.build-"):
            entry.unlink(missing_ok=True)
        elif not name.startswith("build-"):
            continue
        elif name.endswith(PARTIAL):
            if not _owned(entry):
                shutil.rmtree(entry, ignore_errors=True)
        elif current is None or name != current.name:
            shutil.rmtree(entry, ignore_errors=True)


def _owned(partial: Path) -> bool:
    """Whether a live process may still be writing this `.partial` folder."""
    owner = partial.name[: -len(PARTIAL)].rpartition(".")[2]
    if not owner.isdigit():
        try:
            return time.time() - partial.stat().st_mtime <= UNOWNED_PARTIAL_S
        except OSError:
            return False
    return _alive(int(owner))


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    try:  # a killed process its parent has not reaped yet is a zombie: it writes nothing any more
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rpartition(")")[2].split()[0] != "Z"
    except (OSError, IndexError):
        return True


@contextlib.contextmanager
def sigint_deferred() -> Iterator[Callable[[], bool]]:
    """Hold Ctrl-C while a finished build is published: once the link is swapped the new index is in
    place, and saying 'interrupted, nothing was changed' would be false. Yields 'was Ctrl-C pressed?'."""
    if threading.current_thread() is not threading.main_thread():
        yield lambda: False  # signals reach the main thread only; nothing to defer here
        return
    pressed: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: pressed.append(signum))
    try:
        yield lambda: bool(pressed)
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None else signal.default_int_handler)
