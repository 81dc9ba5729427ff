"""Checksums of an index build's files, so damage is found and `rag index` knows what to rebuild."""

from __future__ import annotations

import hashlib
from pathlib import Path

from pydantic import BaseModel

READ_BLOCK = 1 << 20  # hash big files (vectors, the ONNX weights) a megabyte at a time


class FileSum(BaseModel):
    """One file of a build as it was written: its size (checked on every load) and sha256."""

    sha256: str
    size: int


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(READ_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def file_sums(folder: Path, exclude: set[str]) -> dict[str, FileSum]:
    """Every file under `folder` but `exclude`, by path relative to it (with '/')."""
    sums: dict[str, FileSum] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = path.relative_to(folder).as_posix()
        if name not in exclude:
            sums[name] = FileSum(sha256=sha256_file(path), size=path.stat().st_size)
    return sums


def size_problems(folder: Path, files: dict[str, FileSum]) -> list[str]:
    """Missing or resized files: cheap enough for every load."""
    problems = []
    for name, expected in files.items():
        try:
            size = (folder / name).stat().st_size
        except OSError:
            problems.append(f"{name} is missing")
            continue
        if size != expected.size:
            problems.append(f"{name} has {size} bytes, not {expected.size}")
    return problems


def verify_files(folder: Path, files: dict[str, FileSum]) -> list[str]:
    """Every file missing, resized or failing its checksum, one line each (what `--verify` reports)."""
    problems = size_problems(folder, files)
    flagged = {p.split(" ", 1)[0] for p in problems}
    for name, expected in files.items():
        if name in flagged:
            continue
        try:
            actual = sha256_file(folder / name)
        except OSError as exc:
            problems.append(f"{name} cannot be read ({exc.strerror})")
            continue
        if actual != expected.sha256:
            problems.append(f"{name} fails its checksum")
    return problems
