"""Fit where the abstention checks fire (`[answer.checks]`, rag/weights.py CheckThresholds) on the dev suite.

Each check's verdict is one signal of the fitted gate (scripts/fit_gate.py), so a threshold is worth what
the gate makes of the verdict it gives. For every question the passages and their ranked sentences are
found once (as `rag ask` does); then, one threshold at a time (coordinate search, two passes), every value
of its grid is tried: the sentence that answers the point asked about is put first again at that value
(the checks that decide it share these thresholds, rag/evidence.py `on_point_first`), the checks are re-run,
the gate re-fitted (the same fit as fit_gate.py: C by held-out pass rate, the threshold keeping false
abstentions within the limit and right answers at the baseline's floor) and scored by its mean pass rate on
each set when fitted on the other sets only (leave one set out), so a value that only fits the sets it saw
is not chosen. A tie keeps the current value. It prints each step and the chosen `[answer.checks]` block; then
re-fit the gate (`make fit-gate`) with them in rag/weights.py.

Not fitted here: `min_resemblance` and `promote_within` (set by hand; they decide only which sentence
leads); `confident_sentence` acts after the model has answered.

    .venv/bin/python scripts/fit_checks.py [--suite eval/dev.toml]
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fit_gate import C_GRID, MAX_FALSE_ABSTENTIONS, Case, cases, evaluate, fit, held_out, row  # noqa: E402

from rag import answer, checks, evidence  # noqa: E402
from rag.assistant import Assistant  # noqa: E402
from rag.citations import Source  # noqa: E402
from rag.config import AnswerConfig  # noqa: E402
from rag.weights import CheckThresholds  # noqa: E402

# Values tried per threshold (each grid holds the hand-set value it starts from; an edge the fit chose was
# widened).
GRID: dict[str, tuple[float, ...]] = {
    "min_dense": (0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4),
    "min_sentence": (0.2, 0.3, 0.4, 0.5),
    "min_coverage": (0.1, 0.2, 0.3, 0.4),
    "min_overlap": (0.06, 0.12, 0.18, 0.25, 0.32, 0.4, 0.5),
    "min_event_resemblance": (0.4, 0.5, 0.6, 0.7),
    "focus_idf": (1.0, 1.5, 2.0, 2.5),
}
PASSES = 2
QUOTES = AnswerConfig().quotes  # sentences an answer quotes
HEADLINE_CHARS = AnswerConfig().judge_headline_chars  # the longest title the judge reads as a headline
EACH_STORY = AnswerConfig().judge_each_story  # quotes from two stories read apart


def score(found: list[Case], ranked: list[list[Source]],
          limits: CheckThresholds) -> tuple[float, float, dict[str, tuple[float, float]]]:
    """The gate's mean held-out pass rate with the checks at `limits`, its mean fitted pass rate, and per
    set (fitted, held out)."""
    for c, sentences in zip(found, ranked, strict=True):
        reorder(c, sentences, limits)
    rows = [row(c) for c in found]
    names = sorted({r["set"] for r in rows})
    c_best = max(C_GRID, key=lambda x: float(np.mean([held_out(rows, s, x, MAX_FALSE_ABSTENTIONS, True)[0]
                                                     for s in names])))
    model, threshold = fit(rows, c_best, MAX_FALSE_ABSTENTIONS, floored=True)
    per = {s: (evaluate(model, threshold, [r for r in rows if r["set"] == s]),
               held_out(rows, s, c_best, MAX_FALSE_ABSTENTIONS, True)[0]) for s in names}
    return float(np.mean([h for _, h in per.values()])), float(np.mean([f for f, _ in per.values()])), per


def reorder(case: Case, ranked: list[Source], limits: CheckThresholds) -> None:
    """The case's evidence as `answer.gather` orders it at `limits`: of its sentences as `ranked` (before any
    is put first), the first of the top ones that misses no point asked about leads. What an answer
    quotes (and so the gold label) follows."""
    q, r = case.q, case.retriever
    sources = evidence.on_point_first(q, ranked, r, lambda s: checks.misses_point(q, s, r, limits), limits)
    case.ev = replace(case.ev, sources=sources, limits=limits)
    case.quoted = answer.quoted_evidence(case.ev, QUOTES)[0]
    case.judged = answer.judged_evidence(case.ev, QUOTES, HEADLINE_CHARS, EACH_STORY)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suite", type=Path, default=ROOT / "eval" / "dev.toml")
    args = ap.parse_args()
    assistant = Assistant()
    found = cases(assistant, args.suite)
    ranked = [evidence.select(c.q.text, c.q.query, c.ev.passages) for c in found]  # before any is put first
    start = assistant.settings.answer.checks
    current = start.model_copy()
    best, fitted, per = score(found, ranked, current)
    print(f"current: held-out mean {best:.3f}, fitted mean {fitted:.3f}; "
          + ", ".join(f"{s} {f:.3f} / {h:.3f}" for s, (f, h) in per.items()))
    for _ in range(PASSES):
        changed = False
        for name, values in GRID.items():
            tried = {}
            for v in values:
                tried[v] = score(found, ranked, current.model_copy(update={name: v}))
            keep = getattr(current, name)
            pick = max(values, key=lambda v: (round(tried[v][0], 4), round(tried[v][1], 4), v == keep))
            print(f"{name}: " + ", ".join(f"{v} {tried[v][0]:.3f}/{tried[v][1]:.3f}" for v in values)
                  + f" -> {pick}")
            if pick != keep:
                current = current.model_copy(update={name: pick})
                changed = True
        if not changed:
            break
    best, fitted, per = score(found, ranked, current)
    print(f"fitted: held-out mean {best:.3f}, fitted mean {fitted:.3f}; "
          + ", ".join(f"{s} {f:.3f} / {h:.3f}" for s, (f, h) in per.items()))
    print("\n[answer.checks]")
    for name in GRID:
        note = "" if getattr(current, name) == getattr(start, name) else f"  # was {getattr(start, name)}"
        print(f"{name} = {getattr(current, name)}{note}")


if __name__ == "__main__":
    main()
