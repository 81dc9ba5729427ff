"""An eval suite: several article sets, each with its gold questions, listed in a small TOML file, and
one index per set kept in the user cache, found again by a hash of everything that shapes it.

    # eval/dev.toml: paths are relative to this file
    [[set]]
    name = "seeds"
    articles = "../seeds"
    gold = "../seeds/gold.jsonl"
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, ValidationError

from rag import store
from rag.cache import cache_root
from rag.config import Settings
from rag.documents import find_articles
from rag.errors import IndexCorruptError, UsageError

if TYPE_CHECKING:
    from rag.assistant import Assistant

KEY_CHARS = 16  # hex digits of the hash that name a cached index folder
# The modules whose code decides what an index holds (chunks, BM25 tokens, the roles table, the ONNX
# export): a change to any of them must not reuse an index built by the old code.
INDEX_CODE = ("documents", "chunking", "lexical", "places", "roles", "store", "indexer", "embeddings",
              "onnx_encoder")
INDEX_DATA = ("world_places.json",)  # data files the index-building code reads (the BM25 tokens fold places)
STAMP_SUFFIX = ".code"  # a cached index's sibling file naming the index code that last opened it
_NAME = re.compile(r"^[\w.\-]+$")


class EvalSet(BaseModel):
    """One article set and its gold questions; paths already resolved against the suite file."""

    model_config = ConfigDict(extra="forbid")

    name: str
    articles: Path
    gold: Path


class Suite(BaseModel):
    path: Path
    sets: list[EvalSet]


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid")

    set: list[EvalSet] = []


def load_suite(path: Path) -> Suite:
    """Read and check a suite file: every error is one line naming the file, the set and the fix."""
    if not path.is_file():
        raise UsageError(f"suite file not found: {path}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: not valid TOML ({' '.join(str(exc).split())})") from None
    try:
        parsed = _File.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = " ".join(f"{x + 1}:" if isinstance(x, int) else str(x) for x in first["loc"]) or "(top level)"
        raise UsageError(f"{path}: {where} {first['msg'].lower()} (each [[set]] has name, articles and gold)") \
            from None
    if not parsed.set:
        raise UsageError(f"{path} lists no [[set]]")
    base = path.parent
    sets: list[EvalSet] = []
    for s in parsed.set:
        if not _NAME.match(s.name):
            raise UsageError(f"{path}: set name {s.name!r} must be letters, digits, '.', '-' or '_' "
                             "(it names the set's --out files)")
        if any(s.name == t.name for t in sets):
            raise UsageError(f"{path}: two sets are named {s.name!r}")
        articles, gold = (base / s.articles).resolve(), (base / s.gold).resolve()
        if not articles.is_dir():
            raise UsageError(f"{path}: set {s.name!r}: articles folder not found: {articles} "
                             "(paths are relative to the suite file)")
        if not gold.is_file():
            raise UsageError(f"{path}: set {s.name!r}: gold file not found: {gold} "
                             "(paths are relative to the suite file)")
        sets.append(EvalSet(name=s.name, articles=articles, gold=gold))
    return Suite(path=path, sets=sets)


def index_key(settings: Settings, articles: Path) -> str:
    """A hash of the articles' bytes and names, the embedder, the chunk and index settings and the
    index-building code: the same key means an index built from it would be the same."""
    h = hashlib.sha256()
    embedder = settings.embedder.model_dump(exclude={"batch_size"})
    r = settings.retrieval
    h.update(repr((store.FORMAT_VERSION, sorted(embedder.items()), r.chunk_chars, r.chunk_overlap_sentences,
                   r.ann_threshold)).encode())
    _hash_code(h)
    explicit, found = find_articles([articles])
    for f in sorted(explicit + found):
        h.update(str(f.relative_to(articles)).encode() + b"\0" + hashlib.sha256(f.read_bytes()).digest())
    return h.hexdigest()[:KEY_CHARS]


def _hash_code(h: hashlib._Hash) -> None:
    package = Path(__file__).resolve().parent
    for module in INDEX_CODE:
        h.update(module.encode() + b"\0" + (package / f"{module}.py").read_bytes())
    for data in INDEX_DATA:
        h.update(data.encode() + b"\0" + (package / data).read_bytes())


def code_key() -> str:
    """A hash of the index-building code and data alone: a cached index built under another one can never
    be found again by this code (its key differs)."""
    h = hashlib.sha256()
    _hash_code(h)
    return h.hexdigest()[:KEY_CHARS]


def cache_dir(root: Path | None = None) -> Path:
    return (root or cache_root()) / "eval-index"


def index_dir_for(settings: Settings, articles: Path, root: Path | None = None) -> Path:
    """Where the cached index for this article set lives (built or not)."""
    return cache_dir(root) / index_key(settings, articles)


def _stamp(folder: Path) -> Path:
    """Beside each cached index: the code_key of the code that last opened it."""
    return folder.with_name(folder.name + STAMP_SUFFIX)


def _opened_by(folder: Path) -> str | None:
    """The code_key stamped beside a cached index (None: cached before stamps were kept)."""
    stamp = _stamp(folder)
    return stamp.read_text(encoding="utf-8").strip() if stamp.is_file() else None


def stale_indexes(root: Path | None = None) -> list[Path]:
    """The cached indexes this code cannot reuse: opened last by other index code, or cached before the
    stamp was kept (those are opened again, and stamped, when a run still uses them)."""
    base, current = cache_dir(root), code_key()
    if not base.is_dir():
        return []
    return [f for f in sorted(p for p in base.iterdir() if p.is_dir()) if _opened_by(f) != current]


def folder_bytes(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file() and not f.is_symlink())


def prune(root: Path | None = None) -> tuple[int, int]:
    """Delete the stale cached indexes (each under its lock, so a run building it is waited for); returns
    how many and their bytes."""
    from filelock import FileLock

    count = size = 0
    current = code_key()
    for folder in stale_indexes(root):
        with FileLock(str(folder) + ".lock"):
            if _opened_by(folder) == current:
                continue  # a run of this code opened it meanwhile
            size += folder_bytes(folder)
            shutil.rmtree(folder, ignore_errors=True)
            _stamp(folder).unlink(missing_ok=True)
        Path(str(folder) + ".lock").unlink(missing_ok=True)
        count += 1
    return count, size


def open_index(assistant: Assistant, eval_set: EvalSet, root: Path | None = None) -> bool:
    """Point the assistant at the set's cached index, building it first if there is none (or a damaged
    one). Returns whether it was built. A lock keeps two eval runs from building the same one at once."""
    from filelock import FileLock

    path = index_dir_for(assistant.settings, eval_set.articles, root)
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path) + ".lock"):
        assistant.use_index(path)
        built = not _usable(assistant)
        if built:
            assistant.index([eval_set.articles])  # a damaged one is rebuilt in a fresh build folder
        _stamp(path).write_text(code_key() + "\n", encoding="utf-8")
        return built


def _usable(assistant: Assistant) -> bool:
    if not assistant.has_index():
        return False
    try:
        assistant.stats()
    except IndexCorruptError:
        return False
    return True
