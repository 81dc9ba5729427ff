"""Pertinence: evidence on the articles' topic that misses the question's point. The real retriever
supplies term weights, the roles table and word vectors (the real embedder)."""

from __future__ import annotations

import pytest

from rag.pertinence import off_point, still_ahead
from rag.qtypes import expected


@pytest.mark.parametrize("question, evidence_text, why", [
    # the thing asked about is never mentioned
    ("What treaty came out of the summit in Vilnius?", "Leaders met at the summit in Vilnius on Tuesday.",
     "focus:treaty"),
    ("What treaty came out of the summit in Vilnius?", "Leaders signed a treaty at the summit in Vilnius.", None),
    ("How many soldiers will Berlin station there?", "Berlin will station 4,800 troops there.", None),
    # almost none of the question's words
    ("Which city will host the next climate conference?", "Rubio spoke to reporters in Brussels.", "overlap"),
    # an office of a place no article names a holder for: the evidence must at least name the office
    ("Who is Latvia's defence minister?", "Latvian troops joined the exercise, General Janis Berzins said.", "role"),
    ("Who is Latvia's defence minister?", "Latvia's defence minister Andris Spruds said the exercise went well.",
     None),
])
def test_evidence_that_misses_the_point_is_named(retriever, question, evidence_text, why):
    assert off_point(question, question, evidence_text, retriever, expected(question)) == why


def test_word_resemblance_uses_the_real_embedder(retriever):
    assert retriever.resemblance("soldiers", "Berlin sends 5,000 troops.") > 0.8
    assert retriever.resemblance("mines", "Finland quits the landmines treaty.") == 1.0
    assert retriever.resemblance("agreement", "They agreed on nothing.") == 1.0  # same stem
    assert retriever.resemblance("agreement", "The envoys met in Washington.") < 0.45


def test_the_overlap_follows_up_questions_are_spared(retriever):
    # a follow-up searches with the previous turn's words; its own few words are not held to the evidence
    question = "And what did he add?"
    assert off_point(question, question + " (Rubio; What did Rubio say?)", "Rubio spoke in Brussels.",
                     retriever, None) is None


@pytest.mark.parametrize("question, text, ahead", [
    ("Who attended the May 20 meeting in Oslo?", "Ministers will meet in Oslo on May 20.", True),
    ("What was agreed at the May 20 meeting?", "The meeting scheduled for May 20 will be chaired by Norway.", True),
    ("Who attended the May 20 meeting in Oslo?", "On May 20, ministers met in Oslo.", False),
    ("What will happen at the May 20 meeting?", "Ministers will meet in Oslo on May 20.", False),  # asks ahead too
    ("Who attended the meeting in Oslo?", "Ministers will meet in Oslo on May 20.", False),  # no date asked
])
def test_a_dated_event_the_evidence_calls_upcoming_is_still_ahead(question, text, ahead):
    assert still_ahead(question, text) is ahead


@pytest.mark.parametrize("question, text, why", [
    ("What did the two envoys agree on in Oslo?", "The two envoys met in Oslo on Monday.", "outcome"),
    ("What did the two envoys agree on in Oslo?", "In Oslo the two envoys agreed to swap prisoners.", None),
    ("What did the two envoys agree on in Oslo?", "In Oslo the two envoys struck a deal on prisoners.", None),
    ("What was decided in Oslo about the envoys?", "The two envoys met in Oslo on Monday.", "outcome"),
    # reported speech about agreeing is not a question about an outcome
    ("What did the envoy say Moscow must agree to in Oslo?", "The envoy said in Oslo that Moscow must stop.", None),
])
def test_a_question_about_an_outcome_needs_evidence_of_one(retriever, question, text, why):
    assert off_point(question, question, text, retriever, None) == why


@pytest.mark.parametrize("question, text, why", [
    ("Who will replace Anna Lind as Sweden's foreign minister?",
     "Swedish Foreign Minister Anna Lind criticised Putin on Friday.", "succession"),
    ("Who will replace Anna Lind as Sweden's foreign minister?",
     "Carl Bildt will succeed Anna Lind as Sweden's foreign minister in June.", None),
])
def test_a_question_about_a_successor_needs_evidence_of_one(retriever, question, text, why):
    assert off_point(question, question, text, retriever, expected(question)) == why


@pytest.mark.parametrize("text, why", [
    ("Oslo rejected the draft for the second time on Monday.", "reason"),  # narrates, explains nothing
    ("Oslo rejected the draft because it gave away fishing rights.", None),
    ("“It gives away our fishing rights,” the Norwegian minister said of the draft.", None),  # own words
])
def test_a_why_question_needs_a_cause_or_someone_s_words(retriever, text, why):
    q = "Why did Oslo reject the draft?"
    assert off_point(q, q, text, retriever, None) == why


def test_a_present_question_with_a_participle_is_not_past():
    assert not still_ahead("Which minister is reported to be skipping the May 20 meeting?",
                           "The minister will not attend the meeting scheduled for May 20.")


def test_the_outcome_of_talks_needs_evidence_of_one(retriever):
    q = "What was the outcome of the envoys' talks in Oslo?"
    assert off_point(q, q, "The two envoys met in Oslo on Monday.", retriever, None) == "outcome"
    assert off_point(q, q, "In Oslo the two envoys agreed to swap prisoners.", retriever, None) is None


def test_where_an_event_takes_place_needs_that_event(retriever):
    q = "Where will the next Nordic summit take place?"
    assert off_point(q, q, "The next Nordic meeting will take place in Oslo.", retriever, expected(q)) == \
        "event:summit"
    assert off_point(q, q, "The next Nordic summit will be held in Oslo.", retriever, expected(q)) is None
    q = "On what day did the ministers' meeting open?"
    assert off_point(q, q, "The ministers met on Thursday, April 3.", retriever, expected(q)) is None  # met: a meeting
