"""Fit the candidate-passage weights (`[retrieval.passage]`, rag/weights.py PassageWeights) on the dev suite.

For every answerable question of every set it takes both retrieval legs' candidates as `rag ask` does and
measures each one's features (rag/retrieval.py `passage_features`); a candidate is a hit when it holds the
gold answer (one alternative of every group, the judge's rule). A logistic regression over all candidates of
the fitting sets gives the weights (its intercept does not change an order, so it is dropped). It prints,
per set, the share of questions with a hit among the `k` best candidates: with fusion alone, with the current
settings, with this fit, and with the fit on the other sets only (leave one set out). The `--test` suite's
sets are scored and never fitted on (the archive: bbc-dev's questions among 2,225 articles). Then the fitted
weights as a `[retrieval.passage]` block for rag/weights.py.

    .venv/bin/python scripts/fit_passages.py [--suite eval/dev.toml] [--test eval/archive.toml] [--rows FILE]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fit_evidence import answerable, holds  # noqa: E402
from rows import measured  # noqa: E402

from rag.assistant import Assistant  # noqa: E402
from rag.config import RetrievalConfig  # noqa: E402
from rag.suite import load_suite  # noqa: E402
from rag.weights import PassageWeights  # noqa: E402

FEATURES = list(PassageWeights.model_fields)
FUSION = np.array([1.0 if f == "fused" else 0.0 for f in FEATURES])  # the order before any fit
C = 1.0  # the regression's inverse regularisation (scikit-learn's default); the fit is flat around it


def collect(suite_file: Path, role: str, skip: frozenset[str] = frozenset()) -> list[dict]:
    """One row per answerable question: its set and, per candidate passage, the features and whether it
    holds the answer."""
    rows = []
    for name, item, r, query in answerable(Assistant(), suite_file, skip):
        rows.append({"set": name, "role": role, "id": item.id, "candidates": [
            {"features": f, "hit": holds(item.must_include, r.store.chunks[i].text)}
            for i, f in r.candidates(query).features.items()]})
    for name in dict.fromkeys(x["set"] for x in rows):
        print(f"[{name}] {sum(1 for x in rows if x['set'] == name)} answerable questions", file=sys.stderr)
    return rows


def arrays(rows: list[dict]) -> dict[str, list[tuple[np.ndarray, np.ndarray]]]:
    by_set: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    for r in rows:
        if r["candidates"]:
            x = np.array([[c["features"][f] for f in FEATURES] for c in r["candidates"]])
            by_set.setdefault(r["set"], []).append((x, np.array([c["hit"] for c in r["candidates"]])))
    return by_set


def share(questions: list[tuple[np.ndarray, np.ndarray]], weights: np.ndarray, k: int) -> float:
    """Share of the questions with a hit among the k best-scoring candidates."""
    return float(np.mean([y[np.argsort(-(x @ weights), kind="stable")[:k]].any() for x, y in questions]))


def fit(questions: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    from sklearn.linear_model import LogisticRegression

    x = np.concatenate([q[0] for q in questions])
    y = np.concatenate([q[1] for q in questions])
    return LogisticRegression(C=C, max_iter=5000).fit(x, y).coef_[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suite", type=Path, default=ROOT / "eval" / "dev.toml", help="the sets to fit on")
    ap.add_argument("--test", type=Path, help="sets to score only (default: none)")
    ap.add_argument("--rows", type=Path, help="read the measured rows from this file, or write them there")
    args = ap.parse_args()
    fitted = frozenset(s.name for s in load_suite(args.suite).sets)  # a test set of the same name is not asked again
    rows = measured(args.rows, lambda: collect(args.suite, "fit") + (collect(args.test, "test", fitted) if args.test
                                                                     else []))
    fitting = sorted({r["set"] for r in rows if r["role"] == "fit"})
    # a test set may share its name with a fitting one (bbc-dev is in both suites): it is the fitting one
    tests = sorted({r["set"] for r in rows if r["role"] == "test"} - set(fitting))
    by_set = arrays([r for r in rows if r["role"] == "fit" or r["set"] in tests])
    k = RetrievalConfig().k
    weights = fit([q for n in fitting for q in by_set[n]])
    current = np.array([getattr(PassageWeights(), f) for f in FEATURES])
    print(f"Share of answerable questions with the answer in the best {k} candidate passages (before "
          "near-duplicates are collapsed):")
    print(f"{'set':<20} {'questions':>9} {'possible':>9} {'fusion':>7} {'current':>8} {'fitted':>7} "
          f"{'other sets':>11}")
    for n in fitting + tests:
        held = fit([q for m in fitting if m != n for q in by_set[m]]) if n in fitting else weights
        qs = by_set[n]
        possible = float(np.mean([y.any() for _, y in qs]))
        print(f"{n:<20} {len(qs):>9} {possible:>9.3f} {share(qs, FUSION, k):>7.3f} {share(qs, current, k):>8.3f} "
              f"{share(qs, weights, k):>7.3f} {share(qs, held, k):>11.3f}" + ("" if n in fitting else "  (test)"))
    print("\n[retrieval.passage]  # fitted; the defaults in rag/weights.py should say the same")
    for f, v in zip(FEATURES, weights, strict=True):
        print(f"{f} = {round(float(v), 3)}")
    if not np.allclose(current, np.round(weights, 3)):
        print("\nThe defaults in rag/weights.py differ from this fit.", file=sys.stderr)


if __name__ == "__main__":
    main()
