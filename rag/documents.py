"""Turn files into `Document`s, refusing what is not an article (empty, binary, huge) with a reason."""

from __future__ import annotations

import hashlib
import os
import re
import stat
from pathlib import Path

from rag.chunking import date_marker
from rag.errors import InputError
from rag.schema import Document

SUFFIXES = {".txt", ".md"}
MAX_BYTES = 10 * 1024 * 1024  # a news article is kilobytes; 10 MB is a mistake, not an article
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.S)
_DATE = re.compile(r"\b(\d{4}-\d{2}-\d{2})\b")
_SPACE = r"\s"
_LEADING_DATE = re.compile(rf"\A{_SPACE}*{date_marker(_SPACE)}{_SPACE}*", re.I)  # before a title
TITLE_CHARS = 100
NOT_REGULAR = "not a regular file (a device, FIFO or socket), not an article"


class Skipped(Exception):
    """A file that is not an indexable article; the message says why."""


def find_articles(paths: list[Path], problems: list[str] | None = None) -> tuple[list[Path], list[Path]]:
    """(files named explicitly, files found in folders), each sorted; a missing path is an error. What a
    folder holds but cannot be read (a locked subfolder, a FIFO named like an article) goes to `problems`."""
    explicit: list[Path] = []
    found: list[Path] = []
    problems = problems if problems is not None else []
    for p in paths:
        if not p.exists():
            raise InputError(f"path does not exist: {p} (give a folder or .txt/.md files)")
        if p.is_dir():
            found += sorted(_walk(p, problems))
        else:
            explicit.append(p)
    return explicit, found


def _walk(folder: Path, problems: list[str]) -> list[Path]:
    """Article files under `folder`, hidden folders and files left out; unreadable parts reported."""
    def unreadable(exc: OSError) -> None:
        problems.append(f"{exc.filename or folder}: cannot read folder ({exc.strerror}); its articles were skipped")

    files: list[Path] = []
    for root, dirs, names in os.walk(folder, onerror=unreadable):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in names:
            f = Path(root) / name
            if name.startswith(".") or f.suffix.lower() not in SUFFIXES:
                continue
            try:
                regular = stat.S_ISREG(f.stat().st_mode)
            except OSError as exc:
                problems.append(f"{f}: cannot read ({exc.strerror})")
                continue
            if regular:
                files.append(f)
            else:
                problems.append(f"{f}: {NOT_REGULAR}")
    return files


def read_document(path: Path, max_bytes: int = MAX_BYTES) -> tuple[Document, list[str]]:
    """Read one article; raise `Skipped` with a reason, return warnings for what was repaired."""
    warnings: list[str] = []
    raw = _read_capped(path, max_bytes)
    if b"\x00" in raw[:8192]:
        raise Skipped(f"{path}: binary file, not text")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("utf-8", errors="replace")
        warnings.append(f"{path}: not valid UTF-8; undecodable bytes replaced with \ufffd")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    meta, body_start = _front_matter(text)
    if not text[body_start:].strip():
        raise Skipped(f"{path}: empty file")
    date = meta.get("date") or _find_date(text[body_start : body_start + 200])
    title = meta.get("title") or _first_line(_LEADING_DATE.sub("", text[body_start:], count=1))
    doc = Document(
        doc_id=path.stem,
        title=title,
        source=str(path),
        date=date,
        text=text,
        sha256=hashlib.sha256(raw).hexdigest(),
    )
    return doc, warnings


def _read_capped(path: Path, max_bytes: int) -> bytes:
    """The file's bytes, refusing devices and FIFOs (never waiting on one) and anything over `max_bytes`,
    counted while reading: a size of 0 on disk proves nothing (/proc files, /dev/zero)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # opening a FIFO would otherwise wait for a writer
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise Skipped(f"{path}: {NOT_REGULAR}")
        limit = f"limit {max_bytes / 1e6:.0f} MB"
        if info.st_size > max_bytes:
            raise Skipped(f"{path}: {info.st_size / 1e6:.0f} MB is too large for an article ({limit})")
        raw = f.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise Skipped(f"{path}: more than {max_bytes / 1e6:.0f} MB is too large for an article ({limit})")
    return raw


def load_documents(paths: list[Path], max_bytes: int = MAX_BYTES) -> tuple[list[Document], list[str], list[str]]:
    """(documents, skipped reasons, warnings). A bad file named explicitly is an error, not a skip."""
    skipped: list[str] = []
    explicit, found = find_articles(paths, skipped)
    docs: dict[str, Document] = {}
    warnings: list[str] = []
    for path in explicit + found:
        try:
            doc, warns = read_document(path, max_bytes)
        except Skipped as exc:
            if path in explicit:
                raise InputError(f"cannot index {exc}") from None
            skipped.append(str(exc))
            continue
        except OSError as exc:  # unreadable (chmod 000, a broken link): skipped in a folder, refused if named
            if path in explicit:
                raise InputError(f"cannot read {path}: {exc.strerror}") from None
            skipped.append(f"{path}: cannot read ({exc.strerror})")
            continue
        if doc.doc_id in docs:
            warnings.append(f"{path}: doc_id {doc.doc_id!r} already taken by {docs[doc.doc_id].source}; skipped")
            continue
        docs[doc.doc_id] = doc
        warnings += warns
    if not docs:
        where = ", ".join(str(p) for p in paths)
        raise InputError(f"no readable .txt or .md articles in {where}" + (f" ({skipped[0]})" if skipped else ""))
    return list(docs.values()), skipped, warnings


def _front_matter(text: str) -> tuple[dict[str, str], int]:
    m = _FRONT_MATTER.match(text)
    if not m:
        return {}, 0
    meta = {}
    for line in m.group(1).splitlines():
        key, sep, value = line.partition(":")
        if sep:
            meta[key.strip().lower()] = value.strip().strip("\"'")
    return meta, m.end()


def _first_line(text: str) -> str:
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    line = line.lstrip("# ").strip()
    if len(line) <= TITLE_CHARS:
        return line
    cut = line[:TITLE_CHARS].rsplit(" ", 1)[0]
    return cut.rstrip(",;:–—-") + "…"


def _find_date(head: str) -> str | None:
    m = _DATE.search(head)
    return m.group(1) if m else None
