"""Follow-up questions borrow the previous turn's subject so retrieval knows what "he" means."""

from __future__ import annotations

import pytest

from rag.followup import is_follow_up, resolve
from rag.schema import Answer, Turn

BARROT_Q = "What did Barrot demand of Russia?"
BARROT_A = Answer(question=BARROT_Q, answer="He demanded a clear yes or no, and quickly [1].")


@pytest.mark.parametrize("question", [
    "Why did he say that?", "What did she warn about?", "And what about their spending?",
    "Also, when is it due?", "How did they react?",
])
def test_follow_ups_are_recognised(question):
    assert is_follow_up(question)


@pytest.mark.parametrize("question", [
    "What did Barrot demand of Russia?", "Who is NATO's Secretary General?",
    "How many German soldiers are going to Lithuania?", "What did Kaja Kallas warn about?",
])
def test_standalone_questions_are_not_follow_ups(question):
    assert not is_follow_up(question)


def test_standalone_question_is_unchanged_even_with_history():
    history = [Turn(question=BARROT_Q, answer=BARROT_A)]
    q = "How many German soldiers are going to Lithuania?"
    assert resolve(q, history) == q


def test_follow_up_without_history_is_unchanged():
    assert resolve("Why did he say that?", []) == "Why did he say that?"


def test_follow_up_borrows_the_subject_and_the_answer():
    history = [Turn(question="Who is NATO's Secretary General?"), Turn(question=BARROT_Q, answer=BARROT_A)]
    q = resolve("Why did he say that?", history)
    assert q.startswith("Why did he say that?")
    assert "Barrot" in q and "Russia" in q  # from the last turn, not the first
    assert "Secretary" not in q
    assert "quickly" in q and "[1]" not in q  # the answer's words, without its markers


def test_abstained_answers_are_not_borrowed():
    abstained = Answer(question=BARROT_Q, answer="The articles I have do not answer that question.", abstained=True)
    q = resolve("Why did he say that?", [Turn(question=BARROT_Q, answer=abstained)])
    assert "Barrot" in q and "articles I have" not in q


def test_a_resolved_follow_up_retrieves_the_right_article(retriever):
    bare = "What else did he say?"
    history = [Turn(question=BARROT_Q, answer=BARROT_A)]
    resolved = resolve(bare, history)
    assert resolved != bare
    docs = [p.doc_id for p in retriever.search(resolved)]
    assert docs[0] in ("002_557866627175f759", "001_9abd8b6036bf59d1", "004_fd8e4d69e29a1245")
    assert any("Barrot" in p.chunk.text for p in retriever.search(resolved))
