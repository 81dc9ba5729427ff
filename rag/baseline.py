"""The extractive baseline: the floor every `rag eval` table shows beside the system. Over the same
retrieved passages it quotes the two sentences with the best cosine + 0.5 x word overlap with the
question, and never abstains: no model, no evidence rules, no checks. Whatever the system answers
worse than this, its evidence choice or its abstention loses."""

from __future__ import annotations

import time
from typing import Protocol

import numpy as np

from rag import citations as cit
from rag.chunking import split_sentences
from rag.embeddings import Encoder
from rag.lexical import tokenize
from rag.schema import Answer, Passage, Retrieved, Sentence

NAME = "extractive"
SENTENCES = 2         # sentences quoted
OVERLAP_WEIGHT = 0.5  # weight of the word overlap (share of the question's words) beside the cosine


class Searcher(Protocol):
    """What the baseline uses of the retriever: its passages and its query encoder."""

    encoder: Encoder

    def search(self, query: str, k: int | None = None) -> list[Passage]: ...


def word_overlap(question: str, sentence: str) -> float:
    """Share of the question's content words (stemmed, stop words dropped) that the sentence holds."""
    asked = set(tokenize(question))
    return len(asked & set(tokenize(sentence))) / len(asked) if asked else 0.0


def best_sentences(question: str, passages: list[Passage], encoder: Encoder, n: int = SENTENCES) -> list[cit.Source]:
    """The n best-scoring distinct sentences of the passages, best first (a sentence two overlapping
    passages share counts once)."""
    spans: dict[tuple[str, int], tuple[Passage, int, int]] = {}
    for p in passages:
        for s, e in split_sentences(p.chunk.text, offset=p.chunk.start):
            spans.setdefault((p.doc_id, s), (p, s, e))
    if not spans:
        return []
    found = list(spans.values())
    texts = [p.chunk.text[s - p.chunk.start : e - p.chunk.start] for p, s, e in found]
    vectors = encoder.encode([question, *texts])
    scores = vectors[1:] @ vectors[0] + OVERLAP_WEIGHT * np.array([word_overlap(question, t) for t in texts])
    order = np.argsort(-scores, kind="stable")[:n]
    return [cit.Source(passage=found[i][0], sentence=Sentence(text=texts[i], start=found[i][1], end=found[i][2],
                                                             score=round(float(scores[i]), 4))) for i in order]


def extractive_answer(retriever: Searcher, question: str) -> Answer:
    """The baseline's answer record: the quoted sentences, each cited, judged like any other answer."""
    started = time.perf_counter()
    question = " ".join(question.split())
    passages = retriever.search(question)
    sources = best_sentences(question, passages, retriever.encoder)
    text = " ".join(f"{cit.quoted(s.text)} [{i}]" for i, s in enumerate(sources, 1))
    answer, citations = cit.resolve(text, sources)
    return Answer(question=question, answer=answer, mode="extractive", citations=citations, model=NAME,
                  retrieved=[Retrieved(doc_id=p.doc_id, chunk_id=p.chunk_id, score=round(p.score, 4),
                                       copies=p.copies)
                             for p in passages],
                  latency_s=round(time.perf_counter() - started, 3))
