"""Builders the tests share: articles as the indexer reads them, evidence taken from them, and a small
stand-in collection for the code that asks the collection about words. The articles are short texts
written for these tests: one on the NATO talks the seeds cover, and three from other kinds of news, so
that the rules are not tried on one kind of story only."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from rag.chunking import chunk_document, split_sentences
from rag.citations import Source
from rag.lexical import tokenize
from rag.roles import Roles
from rag.schema import Chunk, Document, Passage, Sentence

ALLIES = ("Allies urge Moscow to answer\n"
          "French Foreign Minister Jean-Noel Barrot said Russia owes the United States an answer on the ceasefire.\n"
          "He demanded a clear yes or no from the Kremlin, and quickly.\n"
          "NATO Secretary General Mark Rutte said the ball was now in the Russian court.\n"
          "The foreign ministers met in Brussels for two days of talks.\n")
BUSINESS = ("Harbourline posts record profit\n"
            "The shipping group Harbourline reported a net profit of 312 million euros for last year, up from "
            "240 million euros a year earlier.\n"
            "Chief executive Marta Lindqvist said higher freight rates on Asian routes had driven the rise.\n"
            "The company will pay a dividend of 1.20 euros a share and plans to order six container ships.\n"
            "Its shares rose 4 percent in Copenhagen on Thursday.\n")
SPORT = ("Riverton win the cup on penalties\n"
         "Riverton beat Ashford 4-3 on penalties in the cup final at Greenfield Park on Saturday, after a 1-1 draw.\n"
         "Goalkeeper Tomas Brandt saved two penalties in the shoot-out.\n"
         "Coach Elena Sorli said her players had never stopped believing.\n"
         "It is the club's first cup since 1998.\n")
SCIENCE = ("Water vapour found on a distant planet\n"
           "Astronomers using the Aurora space telescope have found water vapour in the air of a planet 120 light "
           "years from Earth.\n"
           "The planet, KX-41b, is about twice the size of Earth and circles a small red star every 18 days.\n"
           "Lead author Samir Okafor said the finding did not mean that the planet could support life.\n"
           "The team will observe it again next year to look for carbon dioxide.\n")
RARE_IDF = 5.0  # a word the stand-in collection does not know: rarer than any it does
COMMON_IDF = 1.0
UNSCORED = 0.4  # a sentence `passages` is given no score for: evidence, but not strong


def document(text: str, doc_id: str = "doc", title: str | None = None) -> Document:
    """An article as the indexer reads it: titled by its first line unless told, with the sha256 of its text."""
    return Document(doc_id=doc_id, title=text.split("\n", 1)[0] if title is None else title, source="x", text=text,
                    sha256=hashlib.sha256(text.encode()).hexdigest())


def source(doc: Document, sentence: str, chunk: tuple[int, int] | None = None, score: float = 0.9,
           dense: float = 0.8) -> Source:
    """`sentence` of the article as the best evidence, inside a passage that is the sentence itself unless
    `chunk` (document offsets) says otherwise."""
    start = doc.text.index(sentence)
    end = start + len(sentence)
    c_start, c_end = chunk or (start, end)
    passage = Passage(chunk=Chunk(chunk_id=f"{doc.doc_id}#0", doc_id=doc.doc_id, title=doc.title,
                                  text=doc.text[c_start:c_end], start=c_start, end=c_end),
                      score=0.03, dense_score=dense)
    found = Sentence(text=sentence, start=start, end=end, score=score)
    passage.sentences.append(found)
    return Source(passage=passage, sentence=found)


def passages(doc: Document, max_chars: int, scores: Mapping[str, float] | float = 1.0,
             dense: float = 0.8) -> list[Passage]:
    """The article cut into passages as the indexer cuts it, every sentence kept as evidence. A sentence
    scores what `scores` gives the first of its keys found in it, UNSCORED if none is (or `scores` itself,
    for all alike)."""
    out = []
    for chunk in chunk_document(doc, max_chars=max_chars, overlap=0):
        p = Passage(chunk=chunk, score=0.03, dense_score=dense)
        for s, e in split_sentences(chunk.text, offset=chunk.start):
            text = doc.text[s:e]
            score = scores if isinstance(scores, float) else next((v for k, v in scores.items() if k in text),
                                                                  UNSCORED)
            p.sentences.append(Sentence(text=text, start=s, end=e, score=score))
        out.append(p)
    return out


def every_sentence(found: list[Passage]) -> list[Source]:
    """Every sentence of the passages as a source, in order."""
    return [Source(passage=p, sentence=s) for p in found for s in p.sentences]


def rare(token: str) -> float:
    """Term weights under which every word is rare."""
    return RARE_IDF


class Collection:
    """A stand-in collection (rag.pertinence.Corpus): knows the words of `text`, and no others, which are
    rare; one word resembles another only when it is written inside it."""

    def __init__(self, text: str = "", roles: Roles | None = None) -> None:
        self.text = text
        self.vocabulary = set(tokenize(text))
        self.roles = roles or Roles()

    def idf(self, token: str) -> float:
        return COMMON_IDF if token in self.vocabulary else RARE_IDF

    def known(self, token: str) -> bool:
        return token in self.vocabulary

    def terms(self, query: str) -> list[tuple[frozenset[str], float]]:
        return [(frozenset([t]), self.idf(t)) for t in dict.fromkeys(tokenize(query))]

    def resemblance(self, word: str, text: str) -> float:
        return 1.0 if word.lower() in text.lower() else 0.0

    def document(self, doc_id: str) -> Document:
        return Document(doc_id=doc_id, title="Talks", source="x", text="Talks\n" + self.text, sha256="0")

    def expand(self, query: str) -> str:
        return query


class ScriptedJudge:
    """The test double of rag.judge.Judge: says `p` (or `p(question, evidence)`) of the evidence and
    `support` of a lead-in, and keeps what it was asked."""

    def __init__(self, p, support: float = 1.0) -> None:
        self.p = p
        self.support = support
        self.asked: list[tuple[str, str]] = []
        self.leads: list[tuple[str, str, str]] = []

    def p_yes(self, question: str, evidence: str) -> float:
        self.asked.append((question, evidence))
        return self.p(question, evidence) if callable(self.p) else self.p

    def supports(self, question: str, answer: str, evidence: str) -> float:
        self.leads.append((question, answer, evidence))
        return self.support
