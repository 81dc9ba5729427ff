"""The retrieval fits (scripts/fit_passages.py, scripts/fit_evidence.py): what they count as a hit, and that
a repeated statement counts once, as in an answer."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

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
