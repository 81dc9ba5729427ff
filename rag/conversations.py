"""Chat history in SQLite, so conversations survive restarts and can be exported. No UI imports.

The database lives in the user's data dir (`platformdirs.user_data_dir("rag-news")`), or in
`$RAG_DATA_DIR`, or wherever the constructor is told. Each turn stores the full `Answer` JSON, so a
resumed conversation shows the same citations and the core can resolve follow-ups from it.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from rag.citations import quoted
from rag.errors import RagError
from rag.sanitize import clean, clean_line
from rag.schema import Answer, Turn

APP_NAME = "rag-news"
DATA_ENV = "RAG_DATA_DIR"
DB_NAME = "conversations.db"
SCHEMA_VERSION = 2  # 2: each conversation records the index it was held over
TITLE_CHARS = 60
LOCK_TIMEOUT_S = 5.0  # how long a write waits for another process's transaction before giving up

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS turns (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    question TEXT NOT NULL,
    answer_json TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (conversation_id, position)
);
CREATE INDEX IF NOT EXISTS turns_by_conversation ON turns(conversation_id, position);
"""
# Each step takes the database from the version before it to its own; a step never loses a row.
_STEPS = {
    1: _SCHEMA,
    # The index a conversation was held over (its folder, resolved; NULL for one saved before this), so
    # `rag chat --index-dir OTHER` does not reopen a conversation whose sources are in another index.
    2: "ALTER TABLE conversations ADD COLUMN index_path TEXT;",
}


class ConversationStoreError(RagError):
    """The conversation database cannot be opened or is from a newer version."""

    exit_code = 9


class ConversationInfo(BaseModel):
    """One row of the conversation list."""

    id: int
    title: str
    created_at: str
    updated_at: str
    turns: int = 0
    index_path: str | None = None  # the index it was held over; None: saved before this was recorded


class Conversation(BaseModel):
    """A conversation with its turns, oldest first."""

    info: ConversationInfo
    turns: list[Turn] = Field(default_factory=list)

    @property
    def id(self) -> int:
        return self.info.id


def default_data_dir() -> Path:
    """$RAG_DATA_DIR, else the platform's per-user data dir."""
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME))


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def make_title(question: str) -> str:
    """A one-line title from the first question, cut at a word boundary."""
    line = " ".join(question.split())
    if len(line) <= TITLE_CHARS:
        return line or "Untitled"
    return line[:TITLE_CHARS].rsplit(" ", 1)[0].rstrip(",;:-") + "…"


class ConversationStore:
    """Create, list, load, extend and export conversations. One short connection per call, so it is
    safe to use from the UI thread and from workers alike."""

    def __init__(self, data_dir: Path | str | None = None, timeout: float = LOCK_TIMEOUT_S) -> None:
        self.data_dir = Path(data_dir).expanduser() if data_dir else default_data_dir()
        self.timeout = timeout
        self.path = self.data_dir / DB_NAME
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConversationStoreError(
                f"cannot create data dir {self.data_dir}: {exc.strerror} (set ${DATA_ENV} to a writable folder)"
            ) from None
        self._migrate()

    # ----- connection and schema -------------------------------------------------------------
    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            conn = sqlite3.connect(self.path, timeout=self.timeout)
        except sqlite3.Error as exc:
            raise ConversationStoreError(f"cannot open {self.path}: {exc}") from None
        try:
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA foreign_keys = ON")
            with conn:  # commit on success, roll back on error
                yield conn
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc).lower():
                raise ConversationStoreError(
                    f"conversation database {self.path} is locked: another `rag chat` (or another program) is "
                    f"writing to it; close that one and try again, or set ${DATA_ENV} to another folder"
                ) from None
            raise ConversationStoreError(
                f"conversation database {self.path} is unreadable: {exc} (move it aside to start afresh)"
            ) from None
        finally:
            conn.close()

    def _migrate(self) -> None:
        with self._connect() as conn:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise ConversationStoreError(
                    f"{self.path} has schema version {version}, newer than this program's {SCHEMA_VERSION} "
                    "(upgrade rag-news, or set $RAG_DATA_DIR to another folder)"
                )
            for step in range(version + 1, SCHEMA_VERSION + 1):
                conn.executescript(_STEPS[step])
                conn.execute(f"PRAGMA user_version = {step}")

    @property
    def schema_version(self) -> int:
        with self._connect() as conn:
            return int(conn.execute("PRAGMA user_version").fetchone()[0])

    # ----- conversations ---------------------------------------------------------------------
    def create(self, title: str = "New conversation", index_path: str | None = None) -> int:
        now = _now()
        with self._connect() as conn:
            cur = conn.execute(
                "INSERT INTO conversations (title, created_at, updated_at, index_path) VALUES (?, ?, ?, ?)",
                (title, now, now, index_path),
            )
            return int(cur.lastrowid or 0)

    def list_all(self, limit: int = 200, index_path: str | None = None) -> list[ConversationInfo]:
        """Most recently updated first; given `index_path`, only those held over that index (and those
        saved before conversations recorded one, which may have been)."""
        where, args = ("WHERE c.index_path = ? OR c.index_path IS NULL", (index_path,)) if index_path else ("", ())
        with self._connect() as conn:
            rows = conn.execute(
                f"""SELECT c.id, c.title, c.created_at, c.updated_at, c.index_path, COUNT(t.id) AS turns
                   FROM conversations c LEFT JOIN turns t ON t.conversation_id = c.id {where}
                   GROUP BY c.id ORDER BY c.updated_at DESC, c.id DESC LIMIT ?""",
                (*args, limit),
            ).fetchall()
        return [ConversationInfo(**dict(r)) for r in rows]

    def latest(self, index_path: str | None = None) -> int | None:
        items = self.list_all(limit=1, index_path=index_path)
        return items[0].id if items else None

    def info(self, conversation_id: int) -> ConversationInfo | None:
        with self._connect() as conn:
            row = conn.execute(
                """SELECT c.id, c.title, c.created_at, c.updated_at, c.index_path, COUNT(t.id) AS turns
                   FROM conversations c LEFT JOIN turns t ON t.conversation_id = c.id
                   WHERE c.id = ? GROUP BY c.id""",
                (conversation_id,),
            ).fetchone()
        return ConversationInfo(**dict(row)) if row else None

    def load(self, conversation_id: int) -> Conversation:
        info = self.info(conversation_id)
        if info is None:
            raise ConversationStoreError(f"no conversation #{conversation_id} (list them with ctrl+o in `rag chat`)")
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT question, answer_json FROM turns WHERE conversation_id = ? ORDER BY position",
                (conversation_id,),
            ).fetchall()
        turns = [Turn(question=r["question"], answer=_answer(r["answer_json"])) for r in rows]
        return Conversation(info=info, turns=turns)

    def append(self, conversation_id: int, question: str, answer: Answer | None) -> int:
        """Add a turn; the first question also becomes the title. Returns the turn's position."""
        now = _now()
        payload = answer.model_dump_json() if answer is not None else None
        with self._connect() as conn:
            row = conn.execute("SELECT COUNT(*) FROM conversations WHERE id = ?", (conversation_id,)).fetchone()
            if not row[0]:
                raise ConversationStoreError(f"no conversation #{conversation_id}")
            position = conn.execute(
                "SELECT COALESCE(MAX(position), -1) + 1 FROM turns WHERE conversation_id = ?", (conversation_id,)
            ).fetchone()[0]
            conn.execute(
                "INSERT INTO turns (conversation_id, position, question, answer_json, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (conversation_id, position, question, payload, now),
            )
            if position == 0:
                conn.execute("UPDATE conversations SET title = ? WHERE id = ?", (make_title(question), conversation_id))
            conn.execute("UPDATE conversations SET updated_at = ? WHERE id = ?", (now, conversation_id))
        return int(position)

    def rename(self, conversation_id: int, title: str) -> None:
        with self._connect() as conn:
            conn.execute("UPDATE conversations SET title = ? WHERE id = ?", (title, conversation_id))

    def delete(self, conversation_id: int) -> None:
        with self._connect() as conn:
            conn.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))

    # ----- export ----------------------------------------------------------------------------
    def to_markdown(self, conversation_id: int) -> str:
        return conversation_markdown(self.load(conversation_id))

    def export(self, conversation_id: int, directory: Path | str | None = None) -> Path:
        """Write the conversation as Markdown into `directory` (default: the cwd if writable, else
        the data dir) and return the file's path."""
        conv = self.load(conversation_id)
        folder = Path(directory) if directory else (Path.cwd() if os.access(Path.cwd(), os.W_OK) else self.data_dir)
        slug = re.sub(r"[^a-z0-9]+", "-", conv.info.title.lower()).strip("-")[:40] or "conversation"
        path = folder / f"conversation-{conv.id}-{slug}.md"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path.write_text(conversation_markdown(conv), encoding="utf-8")
        except OSError as exc:
            raise ConversationStoreError(f"cannot write {path}: {exc.strerror}") from None
        return path



def _answer(raw: str | None) -> Answer | None:
    if not raw:
        return None
    try:
        return Answer.model_validate_json(raw)
    except ValidationError:  # written by a different version; keep the question, drop the answer
        return None


def conversation_markdown(conv: Conversation) -> str:
    """Questions, answers and, under each answer, its numbered citations with their quotes (under an
    abstention: its reason and the evidence it read)."""
    lines = [f"# {clean_line(conv.info.title)}", "", f"_Conversation #{conv.id}, started {conv.info.created_at}_", ""]
    for i, turn in enumerate(conv.turns, 1):
        lines += [f"## {i}. {clean_line(turn.question)}", ""]
        ans = turn.answer
        if ans is None:
            lines += ["_(no answer recorded)_", ""]
            continue
        lines += [clean(ans.answer).strip() or "_(empty answer)_", ""]
        meta = [m for m in (ans.model, f"{ans.latency_s:.1f}s" if ans.latency_s else "",
                            ans.mode if ans.mode != "generated" else "",
                            f"asked of the articles {clean_line(ans.scope)}" if ans.scope else "") if m]
        if meta:
            lines += [f"_{' · '.join(meta)}_", ""]
        if ans.abstained and ans.abstain_reason:
            lines += [f"_Why: {clean_line(ans.abstain_reason.message)}_", ""]
        listed = ("**Sources**", ans.citations) if ans.citations else \
            ("**Evidence read (not an answer)**", ans.considered if ans.abstained else [])
        if listed[1]:
            lines += [listed[0], ""]
            for c in listed[1]:
                lines.append(f"- [{c.n}] {clean_line(c.title)} (`{clean_line(c.doc_id)}`, chars {c.start}–{c.end}): "
                             f"{clean_line(quoted(c.quote))}")
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"  # read with `cat` as often as in an editor: no escapes in it
