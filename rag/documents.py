"""Turn files into `Document`s, refusing what is not an article (empty, binary, huge) with a reason."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from rag.errors import InputError
from rag.schema import Document

SUFFIXES = {".txt", ".md"}
MAX_BYTES = 10 * 1024 * 1024  # a news article is kilobytes; 10 MB is a mistake, not an article
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.S)
_DATE = re.compile(r"\b(\d{4}-\d{2}-\d{2})\b")
_LEADING_DATE = re.compile(r"\A\s*(date:?\s*)?\d{4}-\d{2}-\d{2}\s*", re.I)
TITLE_CHARS = 100


class Skipped(Exception):
    """A file that is not an indexable article; the message says why."""


def find_articles(paths: list[Path]) -> tuple[list[Path], list[Path]]:
    """(files named explicitly, files found in folders), each sorted; a missing path is an error."""
    explicit: list[Path] = []
    found: list[Path] = []
    for p in paths:
        if not p.exists():
            raise InputError(f"path does not exist: {p} (give a folder or .txt/.md files)")
        if p.is_dir():
            found += sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in SUFFIXES
                            and not any(part.startswith(".") for part in f.relative_to(p).parts))
        else:
            explicit.append(p)
    return explicit, found


def read_document(path: Path, max_bytes: int = MAX_BYTES) -> tuple[Document, list[str]]:
    """Read one article; raise `Skipped` with a reason, return warnings for what was repaired."""
    warnings: list[str] = []
    size = path.stat().st_size
    if size > max_bytes:
        raise Skipped(f"{path}: {size / 1e6:.0f} MB is too large for an article (limit {max_bytes / 1e6:.0f} MB)")
    raw = path.read_bytes()
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


def load_documents(paths: list[Path], max_bytes: int = MAX_BYTES) -> tuple[list[Document], list[str], list[str]]:
    """(documents, skipped reasons, warnings). A bad file named explicitly is an error, not a skip."""
    explicit, found = find_articles(paths)
    docs: dict[str, Document] = {}
    skipped: list[str] = []
    warnings: list[str] = []
    for path in explicit + found:
        try:
            doc, warns = read_document(path, max_bytes)
        except Skipped as exc:
            if path in explicit:
                raise InputError(f"cannot index {exc}") from None
            skipped.append(str(exc))
            continue
        except OSError as exc:
            raise InputError(f"cannot read {path}: {exc.strerror}") from None
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
