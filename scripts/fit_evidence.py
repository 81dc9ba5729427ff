"""Fit the evidence-sentence weights (`[retrieval.sentence]`, rag/config.py SentenceWeights) on the dev suite.

For every answerable question of every set it retrieves the passages as `rag ask` does and measures the
features of every sentence in them (rag/retrieval.py `sentence_features`); a sentence is a hit when it
holds the gold answer (one alternative of every group, the judge's rule). The weights are chosen from a
grid to maximise the sets' mean share of questions with a hit among the two best-scoring sentences (the
two an answer quotes), each set weighing the same, the smaller weights winning a tie. It prints, per set:
the best possible (a hit anywhere in the passages), the current settings, the fit on all sets and the fit
on the other sets only (leave one set out), then the fitted weights as a `[retrieval.sentence]` block,
scaled so that cosine + overlap = 1.5 (the scale the checks' thresholds were set on).

    .venv/bin/python scripts/fit_evidence.py [--suite eval/dev.toml] [--rows FILE]
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rag.assistant import Assistant  # noqa: E402
from rag.config import SentenceWeights  # noqa: E402
from rag.evaluate import load_gold  # noqa: E402
from rag.question import normalise, parse  # noqa: E402
from rag.suite import load_suite, open_index  # noqa: E402

FEATURES = list(SentenceWeights.model_fields)  # "cosine" first: its weight is fixed at 1 while fitting
# The weights before any fit (set by hand on the NATO articles), shown beside the fit.
HAND_SET = {"cosine": 1.0, "overlap": 0.5, "kind_fit": 0.3, "denial": 0.2, "passage_rank": 0.0, "after_match": 0.0,
            "heading": 0.0}
QUOTED = 2  # sentences an answer quotes (`[answer] quotes`)
SCALE = 1.5  # cosine + overlap after scaling: the score scale of the checks' thresholds
# Weights tried, relative to cosine = 1 (the grid's edges were widened until no fit chose one).
GRID = {"overlap": (0.5, 1.0, 1.5, 2.0, 3.0), "kind_fit": (0.3, 0.5, 0.75, 1.0), "denial": (0.0, 0.2, 0.5),
        "passage_rank": (0.0, 0.1, 0.2, 0.3, 0.5), "after_match": (0.0, 0.5, 1.0, 1.5),
        "heading": (0.0, 0.25, 0.5, 1.0, 2.0)}


def holds(groups: list[list[str]], text: str) -> bool:
    low = text.lower()
    return bool(groups) and all(any(a.lower() in low for a in g) for g in groups)


def collect(suite_file: Path) -> list[dict]:
    """One row per answerable question: its set and, per sentence, the features and whether it is a hit."""
    assistant = Assistant()
    rows = []
    for s in load_suite(suite_file).sets:
        open_index(assistant, s)
        r = assistant.retriever
        for item in load_gold(s.gold):
            if not item.answerable:
                continue
            q = parse(normalise(item.question), [], expand=r.expand, roles=r.roles)
            found = r.passages(q.query)
            rows.append({"set": s.name, "id": item.id, "sentences": [
                {"features": f, "hit": holds(item.must_include, sentence.text)}
                for _, sentence, f in r.sentence_features(q.query, found.resolved, found.qvec, found.passages)]})
        print(f"[{s.name}] {sum(1 for x in rows if x['set'] == s.name)} answerable questions", file=sys.stderr)
    return rows


def arrays(rows: list[dict]) -> dict[str, list[tuple[np.ndarray, np.ndarray]]]:
    by_set: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    for r in rows:
        if r["sentences"]:
            x = np.array([[s["features"][f] for f in FEATURES] for s in r["sentences"]])
            by_set.setdefault(r["set"], []).append((x, np.array([s["hit"] for s in r["sentences"]])))
    return by_set


def share(questions: list[tuple[np.ndarray, np.ndarray]], weights: np.ndarray, k: int = QUOTED) -> float:
    """Share of the questions with a hit among the k best-scoring sentences."""
    return float(np.mean([y[np.argsort(-(x @ weights), kind="stable")[:k]].any() for x, y in questions]))


def fit(by_set: dict, names: list[str], table: dict) -> tuple[float, ...]:
    """The grid point with the best mean share over `names` (smaller weights first on a tie)."""
    return max(table, key=lambda c: (np.mean([table[c][n] for n in names]), -sum(map(abs, c))))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suite", type=Path, default=ROOT / "eval" / "dev.toml")
    ap.add_argument("--rows", type=Path, help="read the measured rows from this file, or write them there")
    args = ap.parse_args()
    if args.rows and args.rows.is_file():
        rows = [json.loads(line) for line in args.rows.read_text().splitlines()]
    else:
        rows = collect(args.suite)
        if args.rows:
            args.rows.write_text("".join(json.dumps(r) + "\n" for r in rows))
    by_set = arrays(rows)
    names = sorted(by_set)
    table = {}
    for combo in itertools.product(*(GRID[f] for f in FEATURES[1:])):
        w = np.array([1.0, *combo])
        table[combo] = {n: share(by_set[n], w) for n in names}
    chosen = fit(by_set, names, table)
    current = np.array([getattr(SentenceWeights(), f) for f in FEATURES])
    print(f"Share of answerable questions with the answer in the best {QUOTED} sentences (first sentence only in "
          "brackets):")
    hand = np.array([HAND_SET[f] for f in FEATURES])
    print(f"{'set':<12} {'questions':>9} {'possible':>9} {'hand-set':>15} {'current':>15} {'fitted':>15} "
          f"{'other sets':>11}")
    for n in names:
        loso = fit(by_set, [m for m in names if m != n], table)
        w = np.array([1.0, *chosen])
        possible = float(np.mean([y.any() for _, y in by_set[n]]))
        print(f"{n:<12} {len(by_set[n]):>9} {possible:>9.3f} {share(by_set[n], hand):>7.3f} "
              f"({share(by_set[n], hand, 1):.3f}) {share(by_set[n], current):>7.3f} "
              f"({share(by_set[n], current, 1):.3f}) {share(by_set[n], w):>7.3f} ({share(by_set[n], w, 1):.3f}) "
              f"{table[loso][n]:>11.3f}")
        if loso != chosen:
            print(f"{'':<12} fitted without {n}: " + ", ".join(f"{f} {v}" for f, v in zip(FEATURES[1:], loso,
                                                                                         strict=True)))
    scale = SCALE / (1.0 + chosen[0])
    print("\n[retrieval.sentence]  # fitted; the defaults in rag/config.py should say the same")
    for f, v in zip(FEATURES, (1.0, *chosen), strict=True):
        print(f"{f} = {round(v * scale, 4)}")
    if not np.allclose(current, [round(v * scale, 4) for v in (1.0, *chosen)]):
        print("\nThe defaults in rag/config.py differ from this fit.", file=sys.stderr)


if __name__ == "__main__":
    main()
