"""rag/assistant.py: narrowing the index a question is asked of (rag/scope.py), over the real seeds index."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.assistant import Assistant
from rag.errors import IndexMissingError, UsageError
from rag.scope import Scope

QUESTION = "What did Barrot demand?"


def found_in(a: Assistant, question: str = QUESTION) -> set[str]:
    return {p.doc_id for p in a.retriever.search(question)}


def test_narrow_keeps_every_search_to_its_articles_until_widened(seeds_index: Path) -> None:
    a = Assistant(index_path=seeds_index)
    whole = found_in(a)
    assert len(whole) > 1
    keep = sorted(whole)[-1]
    assert a.narrow(Scope.parse(source=keep)) == 1
    assert found_in(a) == {keep} and found_in(a, "Who is NATO's Secretary General?") == {keep}
    assert a.narrow(Scope()) is None and found_in(a) == whole  # the whole index again
    a.narrow(Scope.parse(source=keep))
    a.use_index(seeds_index)  # another (here: the same) index: the scope is re-read from it
    assert found_in(a) == {keep}


def test_a_scope_no_article_matches_is_refused_and_the_old_one_kept(seeds_index: Path) -> None:
    a = Assistant(index_path=seeds_index)
    keep = sorted(found_in(a))[-1]
    a.narrow(Scope.parse(source=keep))
    with pytest.raises(UsageError, match="no article is from files matching 'zzz'"):
        a.narrow(Scope.parse(source="zzz"))
    assert a.scope == Scope.parse(source=keep) and found_in(a) == {keep}


def test_without_an_index_the_scope_waits_for_one(tmp_path: Path) -> None:
    a = Assistant(index_path=tmp_path / "none")
    assert a.narrow(Scope.parse(source="002")) is None and not a.scope.whole
    with pytest.raises(IndexMissingError):
        found_in(a)


def test_answers_record_the_scope(assistant: Assistant) -> None:
    keep = sorted(found_in(assistant))[-1]
    assistant.narrow(Scope.parse(source=keep))
    try:
        record = assistant.ask(QUESTION)
        assert record.scope == f"from files matching {keep!r}" and {r.doc_id for r in record.retrieved} == {keep}
    finally:
        assistant.narrow(Scope())  # the session's assistant is shared
    assert assistant.ask("Who is NATO's Secretary General?").scope is None
