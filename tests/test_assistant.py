"""rag/assistant.py: narrowing the index a question is asked of (rag/scope.py), and listing the articles it can
be narrowed to, over the real seeds index."""

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


def test_articles_lists_the_dated_first_then_by_file(seeds_index: Path) -> None:
    listed = Assistant(index_path=seeds_index).articles()
    stems = sorted(Path(a.source).stem for a in listed if a.date is None)
    assert len(listed) == 5 and listed[0].date == "2025-04-04"  # the one dated seed article
    assert [Path(a.source).stem for a in listed[1:]] == stems
    assert {Path(a.source).stem for a in listed} == {a.doc_id for a in listed}


def test_articles_in_a_scope_and_a_scope_matching_none(seeds_index: Path) -> None:
    a = Assistant(index_path=seeds_index)
    assert [x.date for x in a.articles(Scope.parse(since="2025-04", until="2025-04-04"))] == ["2025-04-04"]
    assert [Path(x.source).name[:3] for x in a.articles(Scope.parse(source="00[34]*"))] == ["003", "004"]
    assert a.articles(Scope()) == a.articles()
    with pytest.raises(UsageError, match="no article is dated 2026-01-01 or later .the index holds 5 articles"):
        a.articles(Scope.parse(since="2026"))
    with pytest.raises(IndexMissingError):
        Assistant(index_path=seeds_index.parent / "none").articles()

