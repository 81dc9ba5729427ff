"""Fit the evidence-sentence weights (`[retrieval.sentence]`, rag/weights.py SentenceWeights) and how many of
each retrieval leg's best passages lead the fused order (`[retrieval] leaders`) on the dev suite.

For every answerable question of every set, and every `leaders` value tried, it retrieves the passages as
`rag ask` does and measures the features of every sentence in them (rag/retrieval.py `sentence_features`);
a sentence is a hit when it holds the gold answer (one alternative of every group, the judge's rule). The
`leaders` value and the weights are chosen from a grid to maximise the sets' mean share of questions with a
hit among the two best-scoring sentences (the two an answer quotes), each set weighing the same, fewer
leaders and smaller weights winning a tie. It prints, per set:
the best possible (a hit anywhere in the passages), the current settings, the fit on all sets and the fit
on the other sets only (leave one set out), the `--test` suite's sets (scored, never fitted on), then the
fitted `leaders` and weights as a `[retrieval]` block, the weights scaled so that cosine + overlap = 1.5
(the scale the checks' thresholds were set on).

    .venv/bin/python scripts/fit_evidence.py [--suite eval/dev.toml] [--test eval/archive.toml] [--rows FILE]
"""

from __future__ import annotations

import argparse
import itertools
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rows import measured  # noqa: E402

from rag import evidence  # noqa: E402
from rag.assistant import Assistant  # noqa: E402
from rag.config import RetrievalConfig  # noqa: E402
from rag.evaluate import GoldItem, load_gold  # noqa: E402
from rag.lexical import tokenize  # noqa: E402
from rag.question import normalise, parse  # noqa: E402
from rag.retrieval import Retriever  # noqa: E402
from rag.schema import Passage  # noqa: E402
from rag.suite import load_suite, open_index  # noqa: E402
from rag.weights import SentenceWeights  # noqa: E402

FEATURES = list(SentenceWeights.model_fields)  # "cosine" first: its weight is fixed at 1 while fitting
# The weights before any fit (set by hand on the NATO articles), shown beside the fit.
HAND_SET = {"cosine": 1.0, "overlap": 0.5, "kind_fit": 0.3, "denial": 0.2, "passage_score": 0.0, "after_match": 0.0,
            "heading": 0.0}
QUOTED = 2  # sentences an answer quotes (`[answer] quotes`)
SCALE = 1.5  # cosine + overlap after scaling: the score scale of the checks' thresholds
# Weights tried, relative to cosine = 1 (the grid's edges were widened until no fit chose one).
GRID = {"overlap": (0.5, 1.0, 1.5, 2.0, 3.0), "kind_fit": (0.3, 0.5, 0.75, 1.0), "denial": (0.0, 0.2, 0.5),
        "passage_score": (0.0, 0.05, 0.1, 0.2, 0.4), "after_match": (0.0, 0.5, 1.0, 1.5),
        "heading": (0.0, 0.25, 0.5, 1.0, 2.0)}
LEADERS = (0, 1, 2)  # [retrieval] leaders values tried


def holds(groups: list[list[str]], text: str) -> bool:
    low = text.lower()
    return bool(groups) and all(any(a.lower() in low for a in g) for g in groups)


def answerable(assistant: Assistant, suite_file: Path, skip: frozenset[str] = frozenset(),
               ) -> Iterator[tuple[str, GoldItem, Retriever, str]]:
    """Every answerable question of the suite, with its set's name and retriever (each set's index opened
    in turn) and the question as `rag ask` searches it; the sets named in `skip` (a test suite's sets that
    are fitted on already: bbc-dev is in both) are neither opened nor asked. Shared with
    scripts/fit_passages.py."""
    for s in load_suite(suite_file).sets:
        if s.name in skip:
            continue
        open_index(assistant, s)
        for item, query in set_questions(assistant.retriever, s.gold):
            yield s.name, item, assistant.retriever, query


def set_questions(r: Retriever, gold: Path) -> Iterator[tuple[GoldItem, str]]:
    """The gold file's answerable questions, each with the query `rag ask` searches for it."""
    for item in load_gold(gold):
        if item.answerable:
            yield item, parse(normalise(item.question), [], expand=r.expand, roles=r.roles).query


def measure_sentences(r: Retriever, item: GoldItem, query: str) -> tuple[list[Passage], list[dict]]:
    """The passages retrieved for the question as `rag ask` retrieves them and, per sentence in them, its
    features, whether it holds the gold answer and which statement it makes. Shared with
    scripts/fit_chunking.py."""
    found = r.passages(query)
    measured = r.sentence_features(query, found.resolved, found.qvec, found.passages)
    return found.passages, [{"features": f, "hit": holds(item.must_include, sentence.text), "says": said}
                            for (_, sentence, f), said in
                            zip(measured, sayings([s.text for _, s, _ in measured]), strict=True)]


def collect(suite_file: Path, leaders: int, role: str = "fit", skip: frozenset[str] = frozenset()) -> list[dict]:
    """One row per answerable question: its set, its role (fitted on, or a test set scored only) and, per
    sentence, the features and whether it is a hit, with `leaders` passages of each leg leading the fused
    order."""
    assistant = Assistant()
    assistant.settings.retrieval.leaders = leaders  # the retrievers share this section
    rows = []
    for name, item, r, query in answerable(assistant, suite_file, skip):
        rows.append({"set": name, "role": role, "id": item.id, "leaders": leaders,
                     "sentences": measure_sentences(r, item, query)[1]})
    for name in dict.fromkeys(x["set"] for x in rows):
        print(f"[{name}] leaders {leaders}: {sum(1 for x in rows if x['set'] == name)} answerable questions",
              file=sys.stderr)
    return rows


def sayings(texts: list[str]) -> list[int]:
    """Which distinct statement each sentence makes: the first sentence it repeats (rag/evidence.py
    `repeats`, the rule by which an answer never quotes one statement twice), else its own number. The
    sentence two overlapping passages share is one statement, however many passages hold it."""
    words = [set(tokenize(t)) for t in texts]
    out: list[int] = []
    for i, w in enumerate(words):
        out.append(next((j for j in range(i) if out[j] == j and evidence.repeats(w, [words[j]])), i))
    return out


def arrays(rows: list[dict], leaders: int, role: str = "fit") -> dict[str, list[tuple[np.ndarray, np.ndarray]]]:
    by_set: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    for r in rows:
        if r["sentences"] and r["leaders"] == leaders and r.get("role", "fit") == role:
            x = np.array([[s["features"][f] for f in FEATURES] for s in r["sentences"]])
            by_set.setdefault(r["set"], []).append((x, np.array([s["hit"] for s in r["sentences"]]),
                                                    np.array([s["says"] for s in r["sentences"]])))
    return by_set


def share(questions: list[tuple[np.ndarray, np.ndarray, np.ndarray]], weights: np.ndarray, k: int = QUOTED) -> float:
    """Share of the questions with a hit among the k best-scoring distinct statements (a repeated sentence
    counts once, at its best copy's score)."""
    hits = 0
    for x, y, says in questions:
        order = np.argsort(-(x @ weights), kind="stable")
        _, first = np.unique(says[order], return_index=True)  # each statement's best copy
        hits += bool(y[order[np.sort(first)[:k]]].any())
    return hits / len(questions)


def shares(questions: list[tuple[np.ndarray, np.ndarray, np.ndarray]], grid: np.ndarray, k: int = QUOTED) -> np.ndarray:
    """`share` at every column of `grid` (features x weightings) at once: a question has a hit among the k
    best statements when fewer than k statements without one score above its best statement with one."""
    hits = np.zeros(grid.shape[1])
    for x, y, says in questions:
        scores = x @ grid
        rows = [np.flatnonzero(says == g) for g in np.unique(says)]
        best = np.stack([scores[r].max(axis=0) for r in rows])  # statements x grid points
        held = np.stack([y[r][scores[r].argmax(axis=0)] for r in rows])  # does its best copy hold the answer
        top = np.where(held, best, -np.inf).max(axis=0)
        hits += np.isfinite(top) & ((np.where(held, -np.inf, best) > top).sum(axis=0) < k)
    return hits / len(questions)


def fit(names: list[str], table: dict) -> tuple[int, tuple[float, ...]]:
    """The grid point (leaders, weights) with the best mean share over `names` (fewer leaders, then
    smaller weights first on a tie)."""
    return max(table, key=lambda c: (np.mean([table[c][n] for n in names]), -c[0], -sum(map(abs, c[1]))))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suite", type=Path, default=ROOT / "eval" / "dev.toml")
    ap.add_argument("--test", type=Path, help="sets to score only, never fitted on (default: none)")
    ap.add_argument("--rows", type=Path, help="read the measured rows from this file, or write them there")
    args = ap.parse_args()
    fitted = frozenset(s.name for s in load_suite(args.suite).sets)
    rows = measured(args.rows, lambda: [r for n in LEADERS for r in collect(args.suite, n)] + (
        [r for n in LEADERS for r in collect(args.test, n, "test", fitted)] if args.test else []))
    by_leaders = {n: arrays(rows, n) for n in LEADERS}
    tests = {n: arrays(rows, n, "test") for n in LEADERS}
    names = sorted(by_leaders[LEADERS[0]])
    table = {}
    combos = list(itertools.product(*(GRID[f] for f in FEATURES[1:])))
    grid = np.array([[1.0, *combo] for combo in combos]).T  # features x grid points
    for n in LEADERS:
        by_point = {s: shares(by_leaders[n][s], grid) for s in names}
        for c, combo in enumerate(combos):
            table[(n, combo)] = {s: float(by_point[s][c]) for s in names}
    chosen = fit(names, table)
    current = np.array([getattr(SentenceWeights(), f) for f in FEATURES])
    now = by_leaders[RetrievalConfig().leaders]
    best = by_leaders[chosen[0]]
    print(f"Share of answerable questions with the answer in the best {QUOTED} sentences (first sentence only in "
          "brackets):")
    hand = np.array([HAND_SET[f] for f in FEATURES])
    print(f"{'set':<12} {'questions':>9} {'possible':>9} {'hand-set':>15} {'current':>15} {'fitted':>15} "
          f"{'other sets':>11}")
    w = np.array([1.0, *chosen[1]])
    for n in names:
        loso = fit([m for m in names if m != n], table)
        possible = float(np.mean([y.any() for _, y, _ in best[n]]))
        first = by_leaders[0][n]  # the hand-set weights came before any leaders
        print(f"{n:<12} {len(best[n]):>9} {possible:>9.3f} {share(first, hand):>7.3f} "
              f"({share(first, hand, 1):.3f}) {share(now[n], current):>7.3f} "
              f"({share(now[n], current, 1):.3f}) {share(best[n], w):>7.3f} ({share(best[n], w, 1):.3f}) "
              f"{table[loso][n]:>11.3f}")
        if loso != chosen:
            print(f"{'':<12} fitted without {n}: leaders {loso[0]}, " + ", ".join(
                f"{f} {v}" for f, v in zip(FEATURES[1:], loso[1], strict=True)))
    for n in sorted(set(tests[chosen[0]]) - set(names)):  # a set in both suites is scored as fitted
        qs, qs_now = tests[chosen[0]][n], tests[RetrievalConfig().leaders][n]
        print(f"{n:<12} {len(qs):>9} {np.mean([y.any() for _, y, _ in qs]):>9.3f} {'':>15} "
              f"{share(qs_now, current):>7.3f} ({share(qs_now, current, 1):.3f}) {share(qs, w):>7.3f} "
              f"({share(qs, w, 1):.3f}) {'(test)':>11}")
    print("\nThe fit at each leaders value (mean share over the sets, with the weights fitted for it):")
    for n in LEADERS:
        at = fit(names, {c: v for c, v in table.items() if c[0] == n})
        print(f"  leaders {n}: " + " / ".join(f"{s} {table[at][s]:.3f}" for s in names))
    scale = SCALE / (1.0 + chosen[1][0])
    fitted = [round(v * scale, 4) for v in (1.0, *chosen[1])]
    print(f"\n[retrieval]  # fitted; the defaults in rag/weights.py should say the same\nleaders = {chosen[0]}\n"
          "\n[retrieval.sentence]")
    for f, v in zip(FEATURES, fitted, strict=True):
        print(f"{f} = {v}")
    if not np.allclose(current, fitted) or chosen[0] != RetrievalConfig().leaders:
        print("\nThe defaults in rag/weights.py differ from this fit.", file=sys.stderr)


if __name__ == "__main__":
    main()
