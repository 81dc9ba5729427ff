"""Pertinence: the language tests behind the off-point checks (rag/checks.py, tested with them in
tests/test_checks.py): an event still to come, an outcome, a successor, a cause, and word resemblance
from the real embedder."""

from __future__ import annotations

import pytest

from rag.pertinence import (
    affirms_negated,
    figures,
    gives_cause,
    names_outcome,
    names_successor,
    still_ahead,
    swapped_numbers,
)


def test_word_resemblance_uses_the_real_embedder(retriever):
    assert retriever.resemblance("soldiers", "Berlin sends 5,000 troops.") > 0.8
    assert retriever.resemblance("mines", "Finland quits the landmines treaty.") == 1.0
    assert retriever.resemblance("agreement", "They agreed on nothing.") == 1.0  # same stem
    assert retriever.resemblance("agreement", "The envoys met in Washington.") < 0.45


@pytest.mark.parametrize("question, text, ahead", [
    ("Who attended the May 20 meeting in Oslo?", "Ministers will meet in Oslo on May 20.", True),
    ("What was agreed at the May 20 meeting?", "The meeting scheduled for May 20 will be chaired by Norway.", True),
    ("Who attended the May 20 meeting in Oslo?", "On May 20, ministers met in Oslo.", False),
    ("What will happen at the May 20 meeting?", "Ministers will meet in Oslo on May 20.", False),  # asks ahead too
    ("Who attended the meeting in Oslo?", "Ministers will meet in Oslo on May 20.", False),  # no date asked
])
def test_a_dated_event_the_evidence_calls_upcoming_is_still_ahead(question, text, ahead):
    assert still_ahead(question, text) is ahead


def test_a_present_question_with_a_participle_is_not_past():
    assert not still_ahead("Which minister is reported to be skipping the May 20 meeting?",
                           "The minister will not attend the meeting scheduled for May 20.")


def test_outcome_successor_and_cause_words():
    assert names_outcome("In Oslo the envoys struck a deal.") and not names_outcome("The envoys met in Oslo.")
    assert names_successor("Bildt will succeed Lind.") and not names_successor("Lind criticised Putin.")
    assert names_successor("Southampton have named Harry Redknapp their new manager.")
    assert names_successor("Ms Rice, the new secretary of state, arrived in Ankara.")
    assert gives_cause("Oslo said no because it was late.") and gives_cause("“Never,” the minister said.")
    assert not gives_cause("Oslo rejected the draft on Monday.")


@pytest.mark.parametrize("question, text, opposite", [
    ("Who did she not work for?", "She worked for a German firm for ten years.", True),
    ("Which shares didn't recover in 2004?", "Most shares recovered within two years.", True),
    ("If there is no dissent, what does the speaker say?", "If there is audible dissent, the speaker calls a vote.",
     True),
    # the evidence negates too, or denies by its meaning: it may well answer
    ("Who did she not work for?", "She never worked for the bank, only for its rival.", False),
    ("Which club did not pay the fee?", "Leeds refused to pay the fee.", False),
    ("Which club did not pay the fee?", "Leeds failed to pay the fee on time.", False),
    # the negated word is not in the evidence: it says something else
    ("Who could play scrum-half if Dawson is not fit?", "Dawson is an injury doubt for the opener.", False),
    ("Who not only won but also set a record?", "Bolt won the final.", False),  # "not only" adds
    ("Who won the final?", "Bolt won the final.", False),  # nothing negated
])
def test_evidence_that_says_what_the_question_says_did_not_happen(question, text, opposite):
    assert affirms_negated(question, text) is opposite


def test_figures_and_their_kinds():
    found = figures("In 1939, 1,300,000 people; the 18th century, the 1990s, 12% and 3.5 of Schedule 5.")
    assert found == {"1939": "year", "1300000": "7-digit", "18": "ordinal", "1990": "decade", "12": "percent",
                     "3.5": "decimal", "5": "1-digit"}
    assert figures("X.25 networks, the G8, $5bn and 20mph") == {}  # names and amounts with units are no counts
    assert {"2003", "2004"} <= set(figures("the 2003-04 season")) and "1900" in figures("(1899–1902)")


@pytest.mark.parametrize("question, text, swapped", [
    ('How are the 83 "Constituency MSPs" chosen?', "Of the 129 MSPs, 73 are elected in constituencies.",
     {"83": ["73"]}),
    ("What is not stated in Schedule 6?", "All subjects not stated in Schedule 5 are devolved.", {"6": ["5"]}),
    ("Which is the finest building of the late 18th century?", "It is the finest of the late 19th century.",
     {"18": ["19"]}),
    ("What was presented to the parliament in 1989?", "The Queen presented it in July 1999.", {"1989": ["1999"]}),
    ("What did the 83 members choose?", "The 83 members chose Oslo in 1999.", {}),  # the same number
    ("What were profits in 2004?", "Profits rose to 5bn last year.", {}),  # no year given in its place
    ("What were profits in 2004?", "Profits were 12 million.", {}),  # a number of another kind
    ("How many goals did he score in 2004?", "In the 2003-04 season he scored 12.", {}),  # 2004 in the span
    ("What rose 1.5% in May?", "Sales rose 2.5 in May, 1.5% more than in April.", {}),
])
def test_a_number_the_evidence_gives_as_another(question, text, swapped):
    assert swapped_numbers(question, text) == swapped
