"""Builders the tests share. For now: a small stand-in collection for the code that asks the collection
about words."""

from __future__ import annotations

from rag.lexical import tokenize
from rag.roles import Roles
from rag.schema import Document

RARE_IDF = 5.0  # a word the stand-in collection does not know: rarer than any it does
COMMON_IDF = 1.0


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
