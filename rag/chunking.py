"""Paragraph- and sentence-aware chunks that keep character offsets back into the document."""

from __future__ import annotations

import re

from rag.schema import Chunk, Document

# A sentence ends at . ! ? (optionally followed by closing quotes/brackets) and whitespace, unless the
# word before the period is a common abbreviation or an initial (U.S., Mr., J.).
_END = re.compile(r"""[.!?…]+["'”’)\]]*(?=\s+|$)""")
ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "gen", "col", "lt", "sgt", "st", "jr", "sr", "vs", "etc", "no",
    "u.s", "u.k", "u.n", "e.u", "jan", "feb", "mar", "apr", "aug", "sept", "sep", "oct", "nov", "dec",
    "inc", "corp", "co", "ltd", "rep", "sen", "gov", "pres", "min", "approx", "fig", "e.g", "i.e",
}


def date_marker(space: str) -> str:
    """The pattern of an article's date marker ("date 2025-04-04", "Date: 2025-04-04", "2025-04-04"), with
    `space` the pattern of one character allowed after "date": one definition for the title
    (rag.documents) and the sentences (`LEADING_DATE`)."""
    return rf"(date:?{space}*)?\d{{4}}-\d{{2}}-\d{{2}}"


# A date marker opening a paragraph: the article's metadata, not its prose, so the sentence it sits in
# starts after it and a quote leaves it out. Chunks keep it (`chunk_document`): where they start and end
# stays as it was, and so does what search finds.
_IN_LINE = r"[ \t]"  # a blank that stays on the line
LEADING_DATE = re.compile(rf"{_IN_LINE}*{date_marker(_IN_LINE)}{_IN_LINE}+(?=\S)", re.I)


def split_sentences(text: str, offset: int = 0, keep_date_marker: bool = False) -> list[tuple[int, int]]:
    """Sentence spans (start, end) in `text` plus `offset`, stripped of surrounding whitespace; a date marker
    opening a paragraph is left out unless `keep_date_marker`."""
    spans: list[tuple[int, int]] = []
    for para_start, para_end in _paragraphs(text):
        marker = None if keep_date_marker else LEADING_DATE.match(text, para_start, para_end)
        start = marker.end() if marker else para_start
        for m in _END.finditer(text, start, para_end):
            word = text[max(para_start, m.start() - 12) : m.start()].split()[-1:] or [""]
            token = word[0].lower().lstrip("(\"'“‘")
            if m.group().startswith(".") and (token in ABBREVIATIONS or re.fullmatch(r"[a-z]", token)):
                continue
            nxt = text[m.end() : m.end() + 3].lstrip()
            if nxt and nxt[0].islower():  # "said the U.S. government" style false end
                continue
            spans.append((start, m.end()))
            start = m.end()
        if text[start:para_end].strip():
            spans.append((start, para_end))
    return [_strip(text, s, e, offset) for s, e in _merge_fragments(text, spans) if text[s:e].strip()]


MIN_SENTENCE_CHARS = 25
MAX_QUOTE_CHARS = 400


def _open_quote(segment: str) -> bool:
    return segment.count("“") > segment.count("”") or segment.count('"') % 2 == 1


def _merge_fragments(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Join a fragment like '"Yes or no.' to the next sentence, and keep a quotation that runs over
    several sentences together with its attribution ('..." Rutte said.'), so a quote keeps its speaker."""
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged:
            ps, pe = merged[-1]
            same_para = "\n" not in text[pe:s]
            prev = text[ps:pe]
            if same_para and (len(prev.strip()) < MIN_SENTENCE_CHARS
                              or (_open_quote(prev) and e - ps <= MAX_QUOTE_CHARS)):
                merged[-1] = (ps, e)
                continue
        merged.append((s, e))
    if len(merged) > 1 and len(text[merged[-1][0] : merged[-1][1]].strip()) < MIN_SENTENCE_CHARS \
            and "\n" not in text[merged[-2][1] : merged[-1][0]]:
        merged[-2:] = [(merged[-2][0], merged[-1][1])]
    return merged


def _paragraphs(text: str) -> list[tuple[int, int]]:
    spans, pos = [], 0
    for m in re.finditer(r"\n", text):
        if text[pos : m.start()].strip():
            spans.append((pos, m.start()))
        pos = m.end()
    if text[pos:].strip():
        spans.append((pos, len(text)))
    return spans


def _strip(text: str, s: int, e: int, offset: int) -> tuple[int, int]:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    return s + offset, e + offset


def fit_spans(text: str, spans: list[tuple[int, int]], max_chars: int) -> list[tuple[int, int]]:
    """Split any span longer than `max_chars` between words (inside a word only when one word is longer
    than that), so no chunk outgrows the limit even in text without sentence ends. Offsets stay exact."""
    fitted: list[tuple[int, int]] = []
    for s, e in spans:
        while e - s > max_chars:
            window = text[s : s + max_chars + 1]
            gap = max((i for i, ch in enumerate(window) if ch.isspace()), default=0)
            cut = s + gap if gap else s + max_chars
            fitted.append(_strip(text, s, cut, 0))
            s = cut
            while s < e and text[s].isspace():
                s += 1
        if s < e:
            fitted.append((s, e))
    return fitted


def chunk_document(doc: Document, max_chars: int = 700, overlap: int = 1) -> list[Chunk]:
    """Pack whole sentences into chunks of up to `max_chars`, preferring paragraph breaks, with
    `overlap` sentences repeated between neighbours so no fact is cut from its context."""
    sentences = fit_spans(doc.text, split_sentences(doc.text, keep_date_marker=True), max_chars)
    chunks: list[Chunk] = []
    i = 0
    while i < len(sentences):
        j = i
        while j < len(sentences) and (j == i or sentences[j][1] - sentences[i][0] <= max_chars):
            j += 1
        # Prefer to end at a paragraph break if one lies in the second half of the window.
        for k in range(j - 1, i, -1):
            if sentences[k][1] - sentences[i][0] < max_chars // 2:
                break
            if "\n" in doc.text[sentences[k - 1][1] : sentences[k][0]]:
                j = k
                break
        start, end = sentences[i][0], sentences[j - 1][1]
        chunks.append(
            Chunk(chunk_id=f"{doc.doc_id}#{len(chunks)}", doc_id=doc.doc_id, title=doc.title,
                  text=doc.text[start:end], start=start, end=end)
        )
        if j >= len(sentences):
            break
        i = max(j - overlap, i + 1)
    return chunks
