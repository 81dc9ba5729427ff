"""Parse `[n]` markers, keep only those that name a real source, renumber them in reading order and
turn each into a `Citation` whose quote is verbatim in the passage and in the document."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.chunking import ABBREVIATIONS
from rag.schema import Citation, Document, Passage, Sentence

MARKER = re.compile(r"\s*\[(\d+(?:\s*[,;]\s*\d+)*)\]")


@dataclass(frozen=True)
class Source:
    """One numbered evidence snippet shown to the model: a sentence inside a retrieved passage."""

    passage: Passage
    sentence: Sentence

    @property
    def text(self) -> str:
        return self.sentence.text


def markers(text: str) -> list[int]:
    return [int(n) for m in MARKER.finditer(text) for n in re.split(r"[,;]", m.group(1))]


def strip_markers(text: str) -> str:
    return MARKER.sub("", text).strip()


def resolve(text: str, sources: list[Source]) -> tuple[str, list[Citation]]:
    """Rewrite markers to 1..m in order of first use, dropping any that point nowhere."""
    order: dict[int, int] = {}

    def renumber(m: re.Match[str]) -> str:
        out = []
        for raw in re.split(r"[,;]", m.group(1)):
            n = int(raw)
            if 1 <= n <= len(sources):
                order.setdefault(n, len(order) + 1)
                if f"[{order[n]}]" not in out:
                    out.append(f"[{order[n]}]")
        return (" " + "".join(out)) if out else ""

    rewritten = MARKER.sub(renumber, text).strip()
    citations = [to_citation(new, sources[old - 1]) for old, new in sorted(order.items(), key=lambda kv: kv[1])]
    return rewritten, citations


def to_citation(n: int, source: Source) -> Citation:
    chunk = source.passage.chunk
    return Citation(n=n, doc_id=chunk.doc_id, title=chunk.title, chunk_id=chunk.chunk_id,
                    quote=source.sentence.text, text=chunk.text, start=source.sentence.start,
                    end=source.sentence.end, copies=source.passage.copies)


def also_in(c: Citation) -> str:
    """The other articles that hold the quoted passage, as a suffix for the doc id: "; also in a, b". Terminal
    faces pass it through their own sanitising, as they do the doc id."""
    return f"; also in {', '.join(c.copies)}" if c.copies else ""


def verify(citation: Citation, document: Document) -> bool:
    """The quote is verbatim in the passage, and the offsets point at it in the document."""
    return (bool(citation.quote) and citation.quote in citation.text
            and document.text[citation.start : citation.end] == citation.quote)


def answer_sentences(text: str) -> list[str]:
    """Split an answer into sentences, keeping each sentence's trailing markers with it. A period after
    an abbreviation or an initial ("U.S.", "Gen.", "J.") does not end a sentence, nor does one inside a
    quotation (`Lammy: "We see you. We know."` is one sentence: its marker goes after the quote)."""
    parts, start = [], 0
    for m in re.finditer(r"[.!?](?:[\"”’)]?)((?:\s*\[\d+\])*)(?=\s+[A-Z\"“]|\s*$)", text):
        if m.group().startswith(".") and not m.group(1) and _abbreviation(text, m.start()):
            continue
        if _inside_quote(text[: m.end()]):
            continue
        parts.append(text[start : m.end()].strip())
        start = m.end()
    if text[start:].strip():
        parts.append(text[start:].strip())
    return [p for p in parts if p]


def _inside_quote(text: str) -> bool:
    """Whether `text` ends inside a quotation: an odd number of straight double quotes, or an open “."""
    return text.count('"') % 2 == 1 or text.count("“") > text.count("”")


def _abbreviation(text: str, dot: int) -> bool:
    word = text[:dot].rsplit(None, 1)[-1].lstrip("(\"“‘") if text[:dot].strip() else ""
    return word.lower() in ABBREVIATIONS or bool(re.fullmatch(r"(?:[A-Za-z]\.)*[A-Za-z]", word))


def quoted(text: str) -> str:
    """One line in typographic quotes, unless it has quotation marks of its own: marks around marks
    ("“Barrot said Russia “owes an answer”.”") read as a misquote."""
    line = " ".join(text.split())
    return line if re.search(r"[\"“”«]", line) or line[:1] in "‘'" else f"“{line}”"

