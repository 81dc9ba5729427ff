"""Data types shared by every layer: documents, chunks, passages and answer records."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class Document(BaseModel):
    doc_id: str
    title: str
    source: str
    date: str | None = None
    text: str
    sha256: str


class ArticleInfo(BaseModel):
    """An article without its text: what a scope (rag/scope.py) is matched against."""

    doc_id: str
    title: str
    source: str
    date: str | None = None


class Chunk(BaseModel):
    """A span of a document; `text == document.text[start:end]`."""

    chunk_id: str
    doc_id: str
    title: str
    text: str
    start: int
    end: int


class Sentence(BaseModel):
    """An evidence sentence inside a passage, with offsets into the document."""

    text: str
    start: int
    end: int
    score: float = 0.0


class Passage(BaseModel):
    """A retrieved chunk, with its passage score (`[retrieval.passage]`) and the best evidence sentences inside it."""

    chunk: Chunk
    score: float
    dense_score: float = 0.0
    lexical_score: float = 0.0
    sentences: list[Sentence] = Field(default_factory=list)
    # Other articles whose passage was dropped as a copy of this one (the same story filed twice): an
    # archive holds many, and the user should still learn the other filings.
    copies: list[str] = Field(default_factory=list)

    @property
    def doc_id(self) -> str:
        return self.chunk.doc_id

    @property
    def chunk_id(self) -> str:
        return self.chunk.chunk_id


class Citation(BaseModel):
    """`quote` is verbatim in `text` (the passage shown to the model) and in the document at [start, end)."""

    n: int
    doc_id: str
    title: str
    chunk_id: str
    quote: str
    text: str
    start: int
    end: int
    copies: list[str] = Field(default_factory=list)  # other articles holding the same passage (Passage.copies)


class Retrieved(BaseModel):
    doc_id: str
    chunk_id: str
    score: float
    copies: list[str] = Field(default_factory=list)  # other articles holding this passage (see Passage)


class Reason(BaseModel):
    """Why an answer abstained: which check fired (a short machine name) and a sentence for people."""

    code: str
    message: str


class Answer(BaseModel):
    """One answer record: printed by `rag ask --json`, written by `rag eval`, shown by the TUI."""

    id: str | None = None
    question: str
    answer: str
    abstained: bool = False
    mode: Literal["generated", "extractive", "abstained", "error"] = "generated"
    citations: list[Citation] = Field(default_factory=list)
    retrieved: list[Retrieved] = Field(default_factory=list)
    latency_s: float = 0.0
    model: str = ""
    search_query: str | None = None
    tokens: int = 0
    # Seconds the answering model took over this answer, reading its prompt and writing (0: not asked):
    # its tokens/s, where latency_s also counts retrieval and the judge.
    generation_s: float = 0.0
    error: str | None = None
    abstain_reason: Reason | None = None  # set when abstained: the first check that fired
    # Set when abstained: the evidence the checks and the gate read, numbered as an answer would have
    # quoted it. Not an answer: the reason says what it lacks, and a reader can check that against it.
    considered: list[Citation] = Field(default_factory=list)
    answerability: float | None = None  # the fitted gate's estimate that the evidence answers (None: no gate)
    # With a judge: its estimate that the cited source supports the model's own words (None: not asked).
    # Below `[answer] lead_in_support` they are not shown and the answer is the quoted evidence alone.
    lead_in_support: float | None = None
    # The articles it was asked of when narrowed (`rag ask --source/--since/--until`), in words; None: all.
    scope: str | None = None


class Turn(BaseModel):
    """One exchange of a conversation, used to resolve follow-up questions."""

    question: str
    answer: Answer | None = None


class IndexStats(BaseModel):
    documents: int
    chunks: int
    embedder: str
    built_at: str | None = None


class IndexReport(BaseModel):
    """What `rag index` did."""

    added: list[str] = Field(default_factory=list)
    updated: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)
    unchanged: list[str] = Field(default_factory=list)
    skipped: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    chunks_embedded: int = 0
    documents: int = 0
    chunks: int = 0
    seconds: float = 0.0


class Delta(BaseModel):
    """A streamed piece of answer text."""

    kind: Literal["delta"] = "delta"
    text: str


class Final(BaseModel):
    """The verified answer; it may differ from what was streamed (repair or abstention)."""

    kind: Literal["final"] = "final"
    answer: Answer


StreamEvent = Delta | Final
