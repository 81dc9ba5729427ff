"""The SQLite conversation store: schema version, create/list/load/append, restart, export."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from rag.conversations import (
    DATA_ENV,
    SCHEMA_VERSION,
    ConversationStore,
    ConversationStoreError,
    default_data_dir,
    make_title,
)
from rag.schema import Answer, Citation, Reason


def answer(question: str, text: str = "Barrot demanded a ceasefire [1].") -> Answer:
    return Answer(
        question=question, answer=text, model="fake", latency_s=0.5, tokens=10,
        citations=[Citation(n=1, doc_id="002_abc", title="France demands ceasefire", chunk_id="002_abc#0",
                            quote="Barrot demanded an immediate ceasefire.", text="passage", start=10, end=49)],
    )


def test_schema_version_is_recorded(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path)
    assert store.path == tmp_path / "conversations.db"
    assert store.schema_version == SCHEMA_VERSION
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_a_version_1_database_gains_the_index_column_and_keeps_its_conversations(tmp_path: Path) -> None:
    from rag.conversations import _SCHEMA

    with sqlite3.connect(tmp_path / "conversations.db") as conn:  # as the first version left it
        conn.executescript(_SCHEMA)
        conn.execute("INSERT INTO conversations (title, created_at, updated_at) VALUES ('Old', '2026-01-01', "
                     "'2026-01-01')")
        conn.execute("PRAGMA user_version = 1")
    store = ConversationStore(tmp_path)
    assert store.schema_version == SCHEMA_VERSION == 2
    old = store.list_all()
    assert [(c.title, c.index_path) for c in old] == [("Old", None)]
    # Saved before the index was recorded, it may be from any index: it stays the latest of each.
    assert store.latest("/some/index") == old[0].id


def test_latest_is_the_latest_held_over_the_index_asked_for(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path)
    a = store.create(index_path="/idx/a")
    b = store.create(index_path="/idx/b")
    store.append(a, "q1", None)
    store.append(b, "q2", None)
    assert store.latest() == b and store.latest("/idx/b") == b and store.latest("/idx/a") == a
    assert store.latest("/idx/c") is None
    assert [c.id for c in store.list_all(index_path="/idx/a")] == [a] and len(store.list_all()) == 2
    assert store.info(a).index_path == "/idx/a"


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    ConversationStore(tmp_path)
    with sqlite3.connect(tmp_path / "conversations.db") as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(ConversationStoreError, match="newer"):
        ConversationStore(tmp_path)


def test_corrupt_database_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "conversations.db").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(ConversationStoreError, match="unreadable"):
        ConversationStore(tmp_path)


def test_a_database_locked_by_another_chat_says_so(tmp_path: Path) -> None:
    """Another `rag chat` holding a write transaction: a one-line error saying so, not "move it aside"."""
    store = ConversationStore(tmp_path, timeout=0.1)
    conversation = store.create()
    other = sqlite3.connect(store.path)
    try:
        other.execute("BEGIN EXCLUSIVE")
        with pytest.raises(ConversationStoreError) as info:
            store.append(conversation, "What did Barrot demand?", answer("What did Barrot demand?"))
    finally:
        other.rollback()
        other.close()
    message = str(info.value)
    assert "locked" in message and "another `rag chat`" in message and "\n" not in message
    assert "move it aside" not in message
    store.append(conversation, "What did Barrot demand?", answer("What did Barrot demand?"))  # free again
    assert len(store.load(conversation).turns) == 1


def test_create_append_load_and_survive_restart(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path)
    cid = store.create()
    assert store.append(cid, "What did Barrot demand?", answer("What did Barrot demand?")) == 0
    assert store.append(cid, "Why did he say that?", answer("Why did he say that?", "Because [1].")) == 1

    reopened = ConversationStore(tmp_path)  # a new process, same folder
    conv = reopened.load(cid)
    assert conv.info.title == "What did Barrot demand?"
    assert [t.question for t in conv.turns] == ["What did Barrot demand?", "Why did he say that?"]
    first = conv.turns[0].answer
    assert first is not None and first.citations[0].quote == "Barrot demanded an immediate ceasefire."
    assert first.citations[0].start == 10 and first.tokens == 10
    assert reopened.latest() == cid


def test_list_is_most_recent_first_with_turn_counts(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path)
    a, b = store.create(), store.create()
    store.append(a, "first?", answer("first?"))
    items = store.list_all()
    assert [c.id for c in items][0] in (a, b)
    counts = {c.id: c.turns for c in items}
    assert counts == {a: 1, b: 0}
    store.append(b, "second?", None)  # a turn without an answer is kept
    assert store.load(b).turns[0].answer is None


def test_missing_conversation(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path)
    with pytest.raises(ConversationStoreError, match="#42"):
        store.load(42)
    with pytest.raises(ConversationStoreError):
        store.append(42, "q", None)


def test_export_markdown_has_citations(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "data")
    cid = store.create()
    store.append(cid, "What did Barrot demand?", answer("What did Barrot demand?"))
    path = store.export(cid, tmp_path / "out")
    text = path.read_text(encoding="utf-8")
    assert path.parent == tmp_path / "out" and path.suffix == ".md"
    assert "# What did Barrot demand?" in text
    assert "Barrot demanded a ceasefire [1]." in text
    assert "[1] France demands ceasefire (`002_abc`" in text
    assert "“Barrot demanded an immediate ceasefire.”" in text
    assert "asked of the articles" not in text


def test_export_markdown_gives_an_abstentions_reason_and_the_evidence_it_read(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "data")
    cid = store.create()
    read = answer("q").citations
    store.append(cid, "What did Kallas say?", Answer(
        question="What did Kallas say?", answer="The articles I have do not answer that question.", abstained=True,
        mode="abstained", abstain_reason=Reason(code="missing_name", message="No passage mentions 'Kallas'."),
        considered=read))
    text = store.to_markdown(cid)
    assert "_Why: No passage mentions 'Kallas'._" in text and "**Sources**" not in text
    assert "**Evidence read (not an answer)**\n\n- [1] France demands ceasefire (`002_abc`" in text
    assert store.load(cid).turns[0].answer.considered == read  # kept with the conversation


def test_export_markdown_says_which_articles_a_narrowed_answer_was_asked_of(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "data")
    cid = store.create()
    store.append(cid, "What did Barrot demand?", answer("What did Barrot demand?").model_copy(
        update={"scope": "dated 2025-04-01 to 2025-04-30"}))
    assert "asked of the articles dated 2025-04-01 to 2025-04-30" in store.to_markdown(cid)


def test_data_dir_from_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DATA_ENV, str(tmp_path / "custom"))
    assert default_data_dir() == tmp_path / "custom"
    store = ConversationStore()
    assert store.path == tmp_path / "custom" / "conversations.db" and store.path.exists()


def test_default_data_dir_is_platform_user_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    from platformdirs import user_data_dir

    monkeypatch.delenv(DATA_ENV, raising=False)
    assert default_data_dir() == Path(user_data_dir("rag-news"))


def test_titles_are_one_short_line() -> None:
    assert make_title("  What did\nBarrot   demand? ") == "What did Barrot demand?"
    long = make_title("word " * 40)
    assert len(long) <= 61 and long.endswith("…")
