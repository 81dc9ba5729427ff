"""The gate's fit (scripts/fit_gate.py): its threshold keeps false abstentions within the limit."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

from fit_gate import false_abstentions, false_rate, fit  # noqa: E402


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
