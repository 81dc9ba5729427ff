"""The one parse of a question: what it asks for (kind, focus, event), what it names (names, places,
dates, offices and who holds them) and what it needs (a reason, an outcome, a successor). The articles
behind the roles table are made up."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from rag.question import Question, parse
from rag.roles import Roles
from rag.schema import Answer, Turn

ROLES = Roles.from_texts(["Estonian Foreign Minister Margus Tsahkna said the alliance must stay united."])


def test_a_question_is_read_once_into_its_parts():
    q = parse("  How many   soldiers will Germany send to Lithuania by May 20? ")
    assert q.text == "How many soldiers will Germany send to Lithuania by May 20?"
    assert q.query == q.text and not q.follow_up
    assert q.kind == "number"
    assert q.places == ("germany", "lithuania")
    assert q.dates == ("May 20",)
    assert "Germany" in q.names and "Lithuania" in q.names and "How" not in q.names
    assert not (q.asks_why or q.asks_outcome or q.asks_successor)


@pytest.mark.parametrize("text, kind, focus, event", [
    ("Who chaired the meeting?", "person", None, None),
    ("When did the talks begin?", "date", None, "talks"),
    ("Where will the next NATO summit take place?", "place", None, "summit"),
    ("What agreement came out of the meeting?", None, "agreement", None),
    ("Which international convention did Finland leave?", None, "convention", None),
    ("What did Barrot demand of Russia?", "directive", None, None),
])
def test_answer_kind_focus_and_event(text, kind, focus, event):
    q = parse(text)
    assert (q.kind, q.focus, q.event) == (kind, focus, event)


def test_what_the_question_needs():
    assert parse("Why did Oslo reject the draft?").asks_why
    assert parse("What did the envoys agree on?").asks_outcome
    assert parse("Who will replace Anna Lind?").asks_successor


def test_offices_are_resolved_with_the_collection_s_roles():
    q = parse("What did Estonia's foreign minister say?", roles=ROLES, expand=lambda t: t + " (Margus Tsahkna)")
    assert [(q.text[r.span[0]:r.span[1]], r.holders) for r in q.roles] == [
        ("Estonia's foreign minister", ("Margus Tsahkna",))]
    assert q.resolved_roles() == ROLES.resolve(q.text)
    assert q.expanded.endswith("(Margus Tsahkna)")
    # an office of a place nobody is on file for: how that office is written, for the evidence to name it
    lat = parse("Who is Latvia's foreign minister?", roles=ROLES)
    assert lat.roles == () and lat.unfilled_roles and "foreign minister" in lat.unfilled_roles[0]
    # without the collection, the question is read on its words alone
    bare = parse("What did Estonia's foreign minister say?")
    assert bare.roles == () and bare.unfilled_roles == () and bare.expanded == bare.text


def test_a_follow_up_is_searched_with_the_previous_turn():
    history = [Turn(question="What did Rubio say?", answer=Answer(question="What did Rubio say?",
                                                                   answer="He said talks must end [1]."))]
    q = parse("And what did he add?", history)
    assert q.follow_up and q.query.startswith("And what did he add? (") and "What did Rubio say?" in q.query
    assert parse("Who is Rubio?", history).query == "Who is Rubio?"  # standalone


def test_a_parsed_question_is_not_changed_afterwards():
    q = parse("Who chaired the meeting?")
    with pytest.raises(ValidationError):
        q.kind = "place"
    assert isinstance(q, Question)


@pytest.mark.parametrize("typed, read, names", [
    ("WHat were the features of AppleTalk?", "What were the features of AppleTalk?", ("AppleTalk",)),
    ("WHen did ARPANET and SITA start?", "When did ARPANET and SITA start?", ("ARPANET", "SITA")),
    ("How many CDs did NATO buy?", "How many CDs did NATO buy?", ("CDs", "NATO")),
])
def test_a_word_typed_with_shift_held_is_read_as_meant(typed, read, names):
    q = parse(typed)
    assert q.text == read
    assert q.names == names
