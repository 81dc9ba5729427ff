"""Whether the evidence found answers the question: generic signals weighed by a fitted logistic model.

Each signal is measured the same way on any article (similarity, shared rare words, whether the best
sentence holds the kind of thing asked for, and whether each named check in rag/checks.py fires); none
knows a topic. How much each counts, and the probability below which the assistant abstains, are fitted
on the dev suite by `scripts/fit_gate.py`, which writes them to rag/gate.toml with what it measured."""

from __future__ import annotations

from collections.abc import Callable

from rag import qtypes
from rag.lexical import tokenize
from rag.pertinence import Corpus
from rag.pertinence import overlap as weighted_overlap
from rag.question import Question
from rag.schema import Passage

# What each signal measures. A check's signal is 1 when that check (rag/checks.py) fires, else 0.
SIGNALS: dict[str, str] = {
    "sentence_score": "the best evidence sentence's score: cosine + weighted shared words + kind fit",
    "dense": "the best passage's cosine similarity to the question",
    "overlap": "share of the question's words, weighted by rarity, that the best sentence holds",
    "passage_overlap": "share of the question's weighted words that the best sentence's passage holds",
    "unseen": "share of the question's weighted words that no retrieved passage holds",
    "rarest_unseen": "the rarest question word no passage holds, its weight over the question's rarest word's",
    "kind_fit": "how well the best sentence holds the kind of thing asked for (0-1; 1 when no kind is asked)",
}


# The optional judge's signal (rag/judge.py), measured only where a judge model is configured.
JUDGE = "judge"
JUDGE_MEANING = "the judge model's P(Yes) that the quoted evidence states the answer (rag/judge.py)"


def signals(q: Question, passages: list[Passage], best_text: str, best_passage: Passage, best_score: float,
            corpus: Corpus, fired: Callable[[], list[str]]) -> dict[str, float]:
    """The signals for one question and its evidence; `fired` names the checks that fire."""
    units = corpus.terms(q.text)
    total = sum(w for _, w in units) or 1.0
    held = set().union(*(set(tokenize(p.chunk.text)) for p in passages)) if passages else set()
    unseen = [w for alternatives, w in units if not alternatives & held]
    rarest = max((w for _, w in units), default=0.0) or 1.0
    out = {
        "sentence_score": best_score,
        "dense": max((p.dense_score for p in passages), default=0.0),
        "overlap": weighted_overlap(q.text, best_text, corpus),
        "passage_overlap": weighted_overlap(q.text, best_passage.chunk.text, corpus),
        "unseen": sum(unseen) / total,
        "rarest_unseen": max(unseen, default=0.0) / rarest,
        "kind_fit": qtypes.strength(best_text, q.kind, q.text) if q.kind else 1.0,
    }
    out.update({f"check:{name}": 1.0 for name in fired()})
    return out
