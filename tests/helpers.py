"""Builders the tests share: articles as the indexer reads them, evidence taken from them, and a small
stand-in collection for the code that asks the collection about words. The articles are short texts
written for these tests: one on the NATO talks the seeds cover, and three from other kinds of news, so
that the rules are not tried on one kind of story only. And for the chat app's tests, a stand-in
`Assistant` with a fake index and the app built on it."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

from textual.pilot import Pilot

from rag.assistant import Assistant
from rag.chunking import chunk_document, split_sentences
from rag.citations import Source
from rag.conversations import ConversationStore
from rag.errors import UsageError
from rag.lexical import tokenize
from rag.roles import Roles
from rag.schema import (
    Answer,
    ArticleInfo,
    Chunk,
    Citation,
    Delta,
    Document,
    Final,
    IndexReport,
    IndexStats,
    Passage,
    Sentence,
    StreamEvent,
    Turn,
)
from rag.scope import Scope
from rag.tui.app import ChatApp

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


# ----- the chat app ---------------------------------------------------------------------------------
QUOTE = "Barrot demanded an immediate ceasefire."
FILLER = "\n\n".join(f"Paragraph {i} of background that pushes the quote below the fold." for i in range(40))
DOC_TEXT = f"France calls for a truce\n\n{FILLER}\n\n{QUOTE} He said Russia must stop the strikes.\n\nThe end."
# What the fake index holds: six sport stories (four dated) and one undated business story.
ARTICLES = [ArticleInfo(doc_id=f"bbc_sport_00{i}", title=f"Sport story {i}", source=f"/news/bbc_sport_00{i}.txt",
                        date=f"2005-03-0{i}" if i <= 4 else None) for i in range(1, 7)] + [
    ArticleInfo(doc_id="bbc_business_001", title="Ad sales boost profit", source="/news/bbc_business_001.txt")]
DELTAS = ["Barrot ", "demanded ", "a ceasefire ", "[1]."]
FINAL_TEXT = "Barrot demanded an immediate ceasefire [1]."  # differs from what streamed


class FakeAssistant:
    """Just enough of `rag.assistant.Assistant` for the UI: it streams a few deltas, then a cited answer."""

    def __init__(self, gate: threading.Event | None = None, fail: Exception | None = None) -> None:
        self.model_name = "fake-model"
        self.index_path = Path("/tmp/fake-index")
        self.settings = SimpleNamespace(base_dir=Path(__file__).resolve().parent.parent)
        self.gate = gate  # when set, the stream waits on it after the first delta
        self.fail = fail
        self.calls: list[tuple[str, list[Turn]]] = []
        self.closed = threading.Event()
        self.switched: list[str] = []
        self.indexed: list[list[str]] = []
        self.scope = Scope()  # the whole index, as `rag chat` without --source/--since/--until
        self.index_present = True
        self.warnings: list[str] = []  # what `index_warnings` reports (a stale word index, say)

    def has_index(self) -> bool:
        return self.index_present

    def index_warnings(self) -> list[str]:
        return list(self.warnings)

    def articles(self, scope: Scope | None = None) -> list[ArticleInfo]:
        kept = [a for a in ARTICLES if scope is None or scope.matches(a)]
        if not kept:
            raise UsageError("no article matches")
        return kept

    def narrow(self, scope: Scope) -> int | None:
        if scope.source == "nothing":
            raise UsageError("no article is from files matching 'nothing' (the index holds 5 articles, 0 of them "
                             "dated): widen it, or ask without --source/--since/--until")
        self.scope = scope
        return None if scope.whole else sum(scope.matches(a) for a in ARTICLES)

    def stats(self) -> IndexStats:
        return IndexStats(documents=5, chunks=42, embedder="fake-embedder")

    def warm_up(self) -> None:
        pass

    def models(self) -> list[str]:
        return ["fake-model", "other-model"]

    def switch_model(self, name: str) -> None:
        self.switched.append(name)
        self.model_name = name

    def index(self, paths: Sequence[Path | str],
              progress: Callable[[int, int, str], None] | None = None) -> IndexReport:
        self.indexed.append([str(p) for p in paths])
        if progress:
            progress(5, 5, "embedding")
        return IndexReport(documents=5, chunks=42, unchanged=["a"] * 5)

    def document(self, doc_id: str) -> Document:
        """One of ARTICLES, else the article the answers cite; its text is DOC_TEXT either way."""
        if doc_id == "gone":
            raise KeyError(f"no document {doc_id!r} in the index")
        listed = next((a for a in ARTICLES if a.doc_id == doc_id), None)
        if listed:
            return Document(doc_id=doc_id, title=listed.title, source=listed.source, date=listed.date,
                            text=f"{listed.title}\n\n{DOC_TEXT}", sha256="0" * 64)
        return Document(doc_id=doc_id, title="France calls for a truce", source="seeds/002.txt",
                        date="2024-05-01", text=DOC_TEXT, sha256="0" * 64)

    def stream(self, question: str, history: Sequence[Turn] = ()) -> Iterator[StreamEvent]:
        self.calls.append((question, list(history)))
        try:
            if self.fail:
                raise self.fail
            for i, piece in enumerate(DELTAS):
                yield Delta(text=piece)
                if i == 0 and self.gate is not None:
                    assert self.gate.wait(10)
            start = DOC_TEXT.index(QUOTE)
            yield Final(answer=Answer(
                question=question, answer=FINAL_TEXT, model=self.model_name, latency_s=0.5, tokens=20,
                generation_s=0.25,
                citations=[Citation(n=1, doc_id="002_557866627175f759", title="France calls for a truce",
                                    chunk_id="002_557866627175f759#3", quote=QUOTE, text=QUOTE,
                                    start=start, end=start + len(QUOTE))],
            ))
        finally:
            self.closed.set()


def make_app(tmp_path: Path, fake: FakeAssistant | None = None, **kwargs: Any) -> ChatApp:
    assistant = cast("Assistant", fake or FakeAssistant())
    return ChatApp(assistant, store=ConversationStore(tmp_path / "data"), **kwargs)


async def settle(pilot: Pilot, app: Any) -> None:
    """Let workers finish and their messages be handled (`app`: the chat app, or a host of its `Chat`)."""
    for _ in range(100):
        await app.workers.wait_for_complete()
        await pilot.pause()
        if not app.chat.answering and not app.workers._workers:
            break
    await pilot.pause()


async def ask(pilot: Pilot, app: ChatApp, question: str) -> None:
    app.chat.question_input.set_text(question)
    await pilot.press("enter")
    await settle(pilot, app)

def toasts(app: ChatApp) -> list[str]:
    return [str(n.message) for n in app._notifications]
