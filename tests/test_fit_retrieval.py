"""The retrieval fits (scripts/fit_passages.py, scripts/fit_evidence.py, scripts/fit_chunking.py): what they
count as a hit, that a repeated statement counts once, as in an answer, and which chunking wins a tie."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import fit_chunking  # noqa: E402
import fit_evidence  # noqa: E402
import fit_passages  # noqa: E402


def test_a_sentence_two_overlapping_passages_share_is_one_statement():
    texts = ["Sales rose 34% to 20.9bn rupees.", "Wipro reported a rise in profit.",
             "Sales rose 34% to 20.9bn rupees.", "Profit at Wipro rose."]
    assert fit_evidence.sayings(texts) == [0, 1, 0, 3]


def test_the_evidence_share_counts_the_best_two_distinct_statements():
    """The repeated sentence scores best twice, as the two copies do in two overlapping passages: an answer
    quotes it once and the hit that scores third, so the share counts it."""
    x = np.array([[0.9], [0.8], [0.5], [0.1]])
    y = np.array([False, False, True, False])
    w = np.array([1.0])
    assert fit_evidence.share([(x, y, np.array([0, 0, 2, 3]))], w) == 1.0
    assert fit_evidence.share([(x, y, np.array([0, 1, 2, 3]))], w) == 0.0  # two distinct statements lead


def test_the_grid_is_scored_as_each_point_alone():
    """`shares` scores every weighting of the grid at once; each column is what `share` gives it alone."""
    rng = np.random.default_rng(0)
    questions = [(rng.random((6, 3)), rng.random(6) < 0.3, np.array([0, 0, 2, 3, 4, 5])) for _ in range(40)]
    grid = np.array([[1.0, a, b] for a in (0.0, 0.5, 2.0) for b in (0.0, 1.0)]).T
    at_once = fit_evidence.shares(questions, grid)
    assert at_once.tolist() == [fit_evidence.share(questions, grid[:, c]) for c in range(grid.shape[1])]
    assert len(set(at_once.tolist())) > 1  # the weightings differ, so the test can tell columns apart


def test_the_passage_fit_weighs_the_feature_that_tells_hits_apart():
    """Hits hold the question's words (feature 3, coverage) whatever their fused rank (feature 0): the fit
    puts its weight on coverage, and the best k by that weight hold the hits."""
    rng = np.random.default_rng(0)
    questions = []
    for _ in range(40):
        x = rng.uniform(0, 1, (20, len(fit_passages.FEATURES)))
        y = np.zeros(20, bool)
        y[rng.integers(20)] = True
        x[y, fit_passages.FEATURES.index("coverage")] = 1.0
        x[~y, fit_passages.FEATURES.index("coverage")] *= 0.6
        questions.append((x, y))
    w = fit_passages.fit(questions)
    assert int(np.argmax(w)) == fit_passages.FEATURES.index("coverage")
    assert fit_passages.share(questions, w, 1) == 1.0
    assert fit_passages.share(questions, fit_passages.FUSION, 1) < 0.3


def _question(set_name: str, chunking: str, hit_score: float, sources: list[str], docs: list[str]) -> dict:
    """A measured question whose one hit scores `hit_score` on cosine against two misses at 0.5 and 0.4."""
    def sentence(cosine: float, hit: bool, says: int) -> dict:
        return {"features": {f: (cosine if f == "cosine" else 0.0) for f in fit_evidence.FEATURES},
                "hit": hit, "says": says}
    return {"set": set_name, "chunking": chunking, "id": f"q{hit_score}", "leaders": 0, "sources": sources,
            "docs": [[d] for d in docs],
            "sentences": [sentence(0.5, False, 0), sentence(0.4, False, 1), sentence(hit_score, True, 2)]}


def test_the_chunking_table_counts_quoted_answers_and_sources_per_set():
    """A question counts as quoted when its hit is among the two best statements, and as found when a
    passage is from its source; a question without a source is left out of the source share only."""
    size = {"set": "a", "chunking": "700/0", "chunks": 3, "chars": 2100, "seconds": None}
    rows = [size, _question("a", "700/0", 0.9, ["doc1"], ["doc1", "doc2"]),
            _question("a", "700/0", 0.1, ["doc3"], ["doc2"]), _question("a", "700/0", 0.45, [], ["doc2"])]
    cell = fit_chunking.table(rows)["700/0"]["a"]
    assert cell["quoted"] == 2 / 3  # 0.9 leads, 0.45 is second; 0.1 is third
    assert cell["source"] == 0.5
    assert (cell["chunks"], cell["chars"]) == (3, 2100)


def test_the_chunking_fit_chooses_the_cheapest_within_the_tie_and_no_worse():
    def cell(quoted: float, chars: int) -> dict:
        return {"quoted": quoted, "chars": chars}
    t = {"700/1": {"a": cell(0.880, 1000), "b": cell(0.872, 1000)},
         "700/0": {"a": cell(0.878, 800), "b": cell(0.868, 800)},   # mean 0.003 below the best: a tie
         "500/0": {"a": cell(0.860, 600), "b": cell(0.860, 600)}}   # cheaper, but 0.016 below
    assert fit_chunking.choose(t, ["a", "b"]) == "700/0"
    t["700/0"]["b"] = cell(0.850, 800)  # now 0.012 below: the best is kept
    assert fit_chunking.choose(t, ["a", "b"]) == "700/1"
