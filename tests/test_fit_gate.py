"""The gate's fit (scripts/fit_gate.py): its threshold keeps false abstentions within the limit and right
answers at the baseline's floor."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

from fit_gate import (  # noqa: E402
    CachedJudge,
    false_abstentions,
    false_rate,
    fit,
    floor,
    required,
    right_at,
)

from helpers import ScriptedJudge  # noqa: E402


def rows(seed: int) -> list[dict]:
    """Two sets, most questions unanswerable, whose evidence scores overlap the answerable ones' a lot: the
    best pass rate comes from abstaining on many answerable questions."""
    rng = np.random.default_rng(seed)
    out = []
    for name in ("a", "b"):
        for i in range(100):
            answerable = i < 30
            dense = rng.uniform(0.3, 1.0) if answerable else rng.uniform(0.0, 0.7)
            out.append({"set": name, "id": f"{name}{i}", "answerable": answerable, "rules_abstain": False,
                        "signals": {"dense": dense}, "label": 1 if answerable else 0})
    return out


def test_false_abstentions_count_the_answerable_left_unanswered():
    rs = rows(0)[:100]
    assert false_abstentions(rs, [True] * 100) == 0.0
    assert false_abstentions(rs, [False] * 100) == 1.0
    assert false_abstentions(rs, [i >= 3 for i in range(100)]) == 0.1  # 3 of the 30 answerable


def test_the_fitted_threshold_keeps_to_the_false_abstention_limit():
    rs = rows(1)
    free, t_free = fit(rs, 1.0)
    assert max(false_rate(free, t_free, [r for r in rs if r["set"] == s]) for s in "ab") > 0.08  # premise
    bound, t_bound = fit(rs, 1.0, 0.08)
    assert max(false_rate(bound, t_bound, [r for r in rs if r["set"] == s]) for s in "ab") <= 0.08
    assert t_bound < t_free


def test_the_fitted_threshold_answers_as_many_right_as_the_baseline():
    """With the floor the threshold may not answer fewer of a set's questions right than the extractive
    baseline does; without it the best pass rate gives some of them up."""
    rs = rows(2)
    for r in rs:
        r["baseline"] = r["answerable"]  # the baseline gets every answerable question right
    free, t_free = fit(rs, 1.0)
    by_set = {s: [r for r in rs if r["set"] == s] for s in "ab"}
    assert any(right_at(free, t_free, x) < floor(x) for x in by_set.values())  # premise
    bound, t_bound = fit(rs, 1.0, floored=True)
    assert all(right_at(bound, t_bound, x) >= floor(x) == 30 for x in by_set.values())
    assert t_bound < t_free


def test_the_floor_holds_with_a_margin_for_a_run():
    """A run reproduces the rows to within a question: with a margin the fit answers that many more right
    than the baseline, as far as the evidence allows."""
    rs = rows(2)
    for r in rs:
        r["baseline"] = r["answerable"] and r["id"][1:] not in ("0", "1", "2", "3")  # 26 of the 30
    by_set = {s: [r for r in rs if r["set"] == s] for s in "ab"}
    assert all(floor(x) == 26 and required(x, 2) == 28 and required(x, 10) == 30 for x in by_set.values())
    exact, t_exact = fit(rs, 1.0, floored=True, margin=0)
    assert any(right_at(exact, t_exact, x) < 28 for x in by_set.values())  # premise: the floor met exactly
    bound, t_bound = fit(rs, 1.0, floored=True, margin=2)
    assert all(right_at(bound, t_bound, x) >= 28 for x in by_set.values())
    assert t_bound < t_exact


def test_rows_measured_before_the_baseline_set_no_floor():
    rs = rows(2)
    assert floor(rs) == 0
    assert fit(rs, 1.0, floored=True)[1] == fit(rs, 1.0)[1]


def test_a_refit_asks_the_judge_only_what_changed(tmp_path):
    """The judge's answers are kept by model, question and evidence: a second fit reads them back, and a
    changed evidence, question or model is asked afresh."""
    cache = tmp_path / "judge-answers.jsonl"
    first = ScriptedJudge(lambda q, e: 0.25 if "no" in e else 0.75)
    cached = CachedJudge(first, "qwen", cache)
    assert cached.p_yes("Who won?", "Ann won.") == 0.75 and cached.p_yes("Who won?", "Ann won.") == 0.75
    assert len(first.asked) == 1

    again = ScriptedJudge(0.5)
    reread = CachedJudge(again, "qwen", cache)
    assert reread.p_yes("Who won?", "Ann won.") == 0.75 and again.asked == []
    assert reread.p_yes("Who won?", "Ann won; no one else ran.") == 0.5  # new evidence
    assert reread.p_yes("Who lost?", "Ann won.") == 0.5  # new question
    assert CachedJudge(again, "other-model", cache).p_yes("Who won?", "Ann won.") == 0.5
    assert len(again.asked) == 3 and reread.asked == 2
    assert CachedJudge(ScriptedJudge(0.0), "qwen", None).p_yes("Who won?", "Ann won.") == 0.0  # no file: no memory


def test_a_fresh_cache_asks_everything_again_and_keeps_the_old_file(tmp_path):
    """After the judge's reading changes (--no-judge-cache) its earlier answers are stale: they are not
    read, the new ones start a new file, and the old file stays beside it."""
    cache = tmp_path / "judge-answers.jsonl"
    CachedJudge(ScriptedJudge(0.75), "qwen", cache).p_yes("Who won?", "Ann won.")
    again = ScriptedJudge(0.5)
    assert CachedJudge(again, "qwen", cache, fresh=True).p_yes("Who won?", "Ann won.") == 0.5
    assert len(again.asked) == 1
    assert CachedJudge(ScriptedJudge(0.0), "qwen", cache).p_yes("Who won?", "Ann won.") == 0.5  # the new answer
    assert '"p": 0.75' in (tmp_path / "judge-answers.jsonl.old").read_text()
