"""The extractive baseline: two sentences by cosine + 0.5 x word overlap, quoted and cited verbatim,
never an abstention. Its scoring with a hand-made encoder, then end to end over the seeds index."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import gold_items
from rag.baseline import NAME, OVERLAP_WEIGHT, best_sentences, extractive_answer, word_overlap
from rag.chunking import chunk_document
from rag.citations import verify
from rag.evaluate import GoldItem, judge
from rag.schema import Document, Passage

TEXT = ("Talks in Oslo\n"
        "The envoys met in Oslo on Monday.\n"
        "Norway hosted the talks on prisoners.\n"
        "The weather was cold.\n")
DOC = Document(doc_id="oslo", title="Talks in Oslo", source="x", text=TEXT, sha256="0")


class Encoder:
    """Question along x; each sentence at a set angle from it, so its cosine is known."""

    def __init__(self, cosines: dict[str, float]) -> None:
        self.cosines = cosines

    def encode(self, texts: list[str]) -> np.ndarray:
        out = [[1.0, 0.0]]
        for t in texts[1:]:
            c = next((v for k, v in self.cosines.items() if k in t), 0.0)
            out.append([c, float(np.sqrt(1 - c * c))])
        return np.array(out, dtype=np.float32)


def passages() -> list[Passage]:
    # two overlapping chunks: the middle sentence is in both, and must count once
    chunks = chunk_document(DOC, max_chars=80, overlap=1)
    assert len(chunks) >= 2
    return [Passage(chunk=c, score=0.03) for c in chunks]


def test_word_overlap_is_the_share_of_the_question_s_words():
    assert word_overlap("Who hosted the talks?", "Norway hosted the talks on prisoners.") == 1.0
    assert word_overlap("Who hosted the talks?", "The weather was cold.") == 0.0
    assert word_overlap("Who?", "Anything.") == 0.0  # no content words at all


def test_the_two_best_by_cosine_plus_half_the_overlap():
    q = "Who hosted the talks?"
    enc = Encoder({"envoys met": 0.6, "Norway hosted": 0.3, "weather": 0.55})
    chosen = best_sentences(q, passages(), enc)
    # Norway: 0.3 + 0.5 x 1.0 = 0.8; envoys: 0.6 + 0 = 0.6; weather: 0.55
    assert [s.text for s in chosen] == ["Norway hosted the talks on prisoners.", "The envoys met in Oslo on Monday."]
    assert chosen[0].sentence.score == pytest.approx(0.3 + OVERLAP_WEIGHT * 1.0, abs=1e-3)
    assert len({(s.passage.doc_id, s.sentence.start) for s in chosen}) == 2


def test_no_passages_no_sentences():
    assert best_sentences("Who?", [], Encoder({})) == []


class Retriever:
    def __init__(self, encoder) -> None:
        self.encoder = encoder

    def search(self, query, k=None):
        return passages()


def test_the_answer_quotes_and_cites_both_and_never_abstains():
    answer = extractive_answer(Retriever(Encoder({"envoys met": 0.6, "Norway hosted": 0.3})), "Who hosted the talks?")
    assert not answer.abstained and answer.mode == "extractive" and answer.model == NAME
    assert [c.n for c in answer.citations] == [1, 2]
    assert answer.answer.startswith("“Norway hosted the talks on prisoners.” [1]")
    assert all(verify(c, DOC) for c in answer.citations)


@pytest.mark.slow
def test_the_baseline_over_the_seeds_is_judged_like_any_answer(assistant):
    gold = gold_items()
    for gid in ("p01", "p30"):  # an answerable question, and an off-topic one it answers anyway
        item = GoldItem(**gold[gid])
        answer = extractive_answer(assistant.retriever, item.question)
        assert not answer.abstained and len(answer.citations) == 2
        assert all(verify(c, assistant.document(c.doc_id)) for c in answer.citations)
        verdict = judge(item, answer, assistant.store.documents)
        assert verdict.bad_quotes == 0 and not verdict.abstained
    assert not verdict.passed  # p30 is unanswerable: an answer that never abstains gets it wrong
