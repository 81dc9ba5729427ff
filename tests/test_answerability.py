"""The fitted abstention gate: its arithmetic, the committed fit, and its verdicts on the real seeds index."""

from __future__ import annotations

import math

from rag import checks
from rag.answer import gather
from rag.answerability import JUDGE, SIGNALS
from rag.gate import GATE_FILE, JUDGED_GATE_FILE, Gate, load_gate
from rag.question import parse


def test_probability_is_the_logistic_of_the_weighted_signals():
    gate = Gate(bias=-1.0, weights={"dense": 2.0, "check:wrong_kind": -3.0}, abstain_below=0.5)
    assert math.isclose(gate.probability({"dense": 1.0}), 1 / (1 + math.exp(-1.0)))
    assert math.isclose(gate.probability({"dense": 1.0, "check:wrong_kind": 1.0}), 1 / (1 + math.exp(2.0)))
    assert gate.probability({"unknown": 5.0}) < 0.5  # a signal without a weight counts for nothing


def test_against_lists_only_fired_checks_that_lower_the_estimate_most_first():
    gate = Gate(weights={"check:a": -1.0, "check:b": -4.0, "check:c": 2.0, "dense": -9.0})
    assert gate.against({"check:a": 1.0, "check:b": 1.0, "check:c": 1.0, "dense": 1.0}) == ["b", "a"]
    assert gate.against({"check:a": 0.0}) == []


def test_no_gate_file_means_no_gate(tmp_path):
    gate = load_gate(tmp_path / "absent.toml")
    assert gate.weights == {} and gate.abstain_below == 0.0


def test_the_committed_fit_weighs_only_signals_and_checks_that_exist():
    gate = load_gate(GATE_FILE)
    known = set(SIGNALS) | {f"check:{c.__name__}" for c in checks.SOFT_CHECKS}
    assert gate.weights and set(gate.weights) <= known
    assert 0.0 < gate.abstain_below < 1.0
    judged = load_gate(JUDGED_GATE_FILE)  # the gate for `[answer] judge`: the same signals and the judge's
    assert JUDGE in judged.weights and set(judged.weights) <= known | {JUDGE}
    assert judged.weights[JUDGE] > 0 and 0.0 < judged.abstain_below < 1.0


def test_a_judge_says_its_estimate_to_the_judged_gate(retriever):
    """The judge is asked past the hard checks only, and its estimate moves the decision."""
    judged = Gate(bias=-5.0, weights={JUDGE: 10.0}, abstain_below=0.5)
    q = parse("What did Barrot demand from Russia?", [], expand=retriever.expand, roles=retriever.roles)
    ev = gather(q, retriever)
    assert checks.decide(q, ev, retriever, judged, lambda: 0.9)[0] is None
    reason, p = checks.decide(q, ev, retriever, judged, lambda: 0.1)
    assert reason is not None and reason.code == checks.UNLIKELY and p is not None and p < 0.5


def test_on_the_real_index_an_answerable_question_passes_and_an_off_topic_one_does_not(retriever):
    gate = load_gate(GATE_FILE)

    def estimate(text: str) -> tuple[checks.Reason | None, float | None]:
        q = parse(text, [], expand=retriever.expand, roles=retriever.roles)
        return checks.decide(q, gather(q, retriever), retriever, gate)

    reason, p = estimate("What did Barrot demand from Russia?")
    assert reason is None and p is not None and p >= gate.abstain_below
    reason, p = estimate("What was the score of the cup final between the two football clubs?")
    assert reason is not None and p is not None and p < gate.abstain_below
