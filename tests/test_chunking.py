"""Chunks keep exact character offsets, never split sentences at abbreviations, respect their size and
overlap their neighbours by whole sentences."""

from __future__ import annotations

from itertools import pairwise

import pytest

from conftest import SEED_FILES
from helpers import ALLIES, BUSINESS, SCIENCE, SPORT, document
from rag.chunking import LEADING_DATE, chunk_document, fit_spans, split_sentences
from rag.documents import read_document
from rag.schema import Document

SEED_DOCS = [read_document(f)[0] for f in SEED_FILES]


def texts(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


@pytest.mark.parametrize("doc", SEED_DOCS, ids=lambda d: d.doc_id)
@pytest.mark.parametrize("max_chars, overlap", [(700, 1), (300, 0), (1500, 2)])
def test_chunk_offsets_are_exact_for_every_seed(doc, max_chars, overlap):
    chunks = chunk_document(doc, max_chars, overlap)
    assert chunks
    for n, c in enumerate(chunks):
        assert doc.text[c.start : c.end] == c.text
        assert c.chunk_id == f"{doc.doc_id}#{n}" and c.doc_id == doc.doc_id and c.title == doc.title
        assert c.text == c.text.strip() and c.text
    assert [c.start for c in chunks] == sorted(c.start for c in chunks)


@pytest.mark.parametrize("article", [ALLIES, BUSINESS, SPORT, SCIENCE], ids=["allies", "business", "sport", "science"])
def test_decimals_scores_and_hyphenated_names_end_no_sentence(article):
    # "1.20 euros", "4-3 on penalties", "a 1-1 draw.", "KX-41b": one sentence a line, nothing split inside
    assert texts(article) == article.strip().split("\n")


@pytest.mark.parametrize("doc", SEED_DOCS, ids=lambda d: d.doc_id)
def test_sentence_offsets_are_exact_and_cover_the_text(doc):
    spans = split_sentences(doc.text)
    covered = []
    for s, e in spans:
        assert doc.text[s:e] == doc.text[s:e].strip() and e > s
        covered.append(doc.text[s:e])
    assert [s for s, _ in spans] == sorted(s for s, _ in spans)
    assert all(a[1] <= b[0] for a, b in pairwise(spans)), "sentences must not overlap"
    # no words lost: every non-space character of the document but a leading date marker is in some sentence
    prose = LEADING_DATE.sub("", doc.text, count=1) if LEADING_DATE.match(doc.text) else doc.text
    assert "".join("".join(covered).split()) == "".join(prose.split())


@pytest.mark.parametrize("marker", ["date 2025-04-04 ", "Date: 2025-04-04 ", " 2025-04-04\t"])
def test_a_date_marker_opening_a_paragraph_is_left_out_of_its_sentence(marker):
    first = "United States Secretary of State Marco Rubio surprised NATO counterparts on Friday."
    text = f"{marker}{first} He spoke in Brussels.\n{marker}{first}"
    assert texts(text) == [first, "He spoke in Brussels.", first]
    doc = Document(doc_id="d", title="t", source="d.txt", text=text, sha256="")
    chunk = chunk_document(doc)[0]  # a chunk keeps the marker, so its bounds and what search finds stay
    assert chunk.text.startswith(marker.strip())
    s, e = split_sentences(chunk.text, offset=chunk.start)[0]  # a quote from it leaves the marker out
    assert doc.text[s:e] == first
    # a date inside a sentence, or a paragraph that is only a date, is prose and stays
    assert texts("Shares rose on 2025-04-04 after the report.") == ["Shares rose on 2025-04-04 after the report."]
    assert texts("date 2025-04-04\nShares rose after the report.") == ["date 2025-04-04",
                                                                       "Shares rose after the report."]


def test_offset_argument_shifts_spans():
    text = "The first sentence is long enough to stand. The second sentence is long enough too."
    plain = split_sentences(text)
    shifted = split_sentences(text, offset=100)
    assert [(s + 100, e + 100) for s, e in plain] == shifted


@pytest.mark.parametrize("text, joined", [
    ("At the meeting, U.S. Secretary of State Marco Rubio spoke to reporters. He left for Washington later that day.",
     "U.S. Secretary of State Marco Rubio"),
    ("The talks were led by Mr. Barrot of France and his staff. Nobody expected a deal before the weekend.",
     "Mr. Barrot"),
    ("The plan was drafted by J. Smith at the ministry in Paris. It was published on Friday morning.",
     "J. Smith"),
    ("He said the U.S. government would not take part in the talks. The others went ahead anyway.",
     "U.S. government"),
])
def test_sentences_are_not_split_at_abbreviations(text, joined):
    sentences = texts(text)
    assert len(sentences) == 2, sentences
    assert joined in sentences[0]


def test_seed_sentence_with_us_secretary_is_whole():
    doc = next(d for d in SEED_DOCS if "U.S. Secretary of State" in d.text)
    at = doc.text.index("U.S. Secretary of State")
    spans = split_sentences(doc.text)
    assert any(s <= at and at + len("U.S. Secretary of State") <= e for s, e in spans)


def test_sentences_end_at_real_boundaries():
    text = ("NATO ministers met in Brussels on Friday morning. Did they agree on spending targets at all? "
            "Not yet, said the secretary general to the press!\nA new paragraph always starts a new sentence")
    got = texts(text)
    assert got == ["NATO ministers met in Brussels on Friday morning.",
                   "Did they agree on spending targets at all?",
                   "Not yet, said the secretary general to the press!",
                   "A new paragraph always starts a new sentence"]


def test_paragraph_break_ends_a_sentence_even_without_punctuation():
    text = "Waiting for Moscow\nSeveral NATO ministers insisted that Moscow cannot delay its response."
    assert texts(text) == ["Waiting for Moscow",
                           "Several NATO ministers insisted that Moscow cannot delay its response."]


def long_doc(n: int = 40) -> Document:
    paras = []
    for p in range(n // 4):
        paras.append(" ".join(f"Sentence number {4 * p + i} talks about the ceasefire in some detail here."
                              for i in range(4)))
    return document("\n\n".join(paras))


@pytest.mark.parametrize("max_chars", [150, 300, 700])
def test_chunk_size_bounds(max_chars):
    doc = long_doc()
    sentences = split_sentences(doc.text)
    for c in chunk_document(doc, max_chars, overlap=1):
        inside = [(s, e) for s, e in sentences if c.start <= s and e <= c.end]
        assert inside, "a chunk is made of whole sentences"
        assert len(c.text) <= max_chars or len(inside) == 1, (len(c.text), max_chars)
    # with room for several sentences, chunks are not needlessly tiny
    if max_chars >= 300:
        sizes = [len(c.text) for c in chunk_document(doc, max_chars, overlap=1)]
        assert max(sizes) > max_chars // 2


def test_a_sentence_longer_than_the_limit_is_split_between_words():
    text = "Short opening sentence about the meeting. " + ("word " * 80).strip() + ". Closing sentence of it all."
    doc = document(text)
    chunks = chunk_document(doc, max_chars=100, overlap=0)
    assert len(chunks) >= 4 and all(len(c.text) <= 100 for c in chunks)
    assert all(doc.text[c.start : c.end] == c.text for c in chunks)
    assert all(c.end == len(text) or text[c.end] == " " for c in chunks)  # between words
    assert all(c.start == 0 or text[c.start - 1] == " " for c in chunks)


@pytest.mark.parametrize("overlap", [0, 1, 2])
def test_overlap_repeats_whole_sentences(overlap):
    doc = long_doc()
    chunks = chunk_document(doc, max_chars=300, overlap=overlap)
    sentences = split_sentences(doc.text)
    assert len(chunks) > 3
    for a, b in pairwise(chunks):
        shared = [(s, e) for s, e in sentences if b.start <= s and e <= a.end]
        if overlap == 0:
            assert b.start >= a.end
        else:
            assert 1 <= len(shared) <= overlap, (a.text, b.text)
            assert b.start == shared[0][0]
    # every sentence lands in some chunk
    for s, e in sentences:
        assert any(c.start <= s and e <= c.end for c in chunks)


def test_overlap_never_stalls():
    doc = document(" ".join(f"This is sentence {i} of a document with fairly long sentences in it." for i in range(12)))
    chunks = chunk_document(doc, max_chars=60, overlap=5)
    assert len(chunks) <= len(fit_spans(doc.text, split_sentences(doc.text), 60))  # at most one per piece
    assert [c.start for c in chunks] == sorted(set(c.start for c in chunks))


def test_chunking_prefers_paragraph_breaks():
    para = " ".join(f"Paragraph sentence {i} is written to be about sixty characters." for i in range(5))
    doc = document(para + "\n" + para + "\n" + para)
    chunks = chunk_document(doc, max_chars=700, overlap=0)
    # a paragraph is ~314 chars: two and a bit fit in 700, but no chunk should end mid-paragraph
    assert len(chunks) >= 2
    assert all(c.end == len(doc.text) or doc.text[c.end] == "\n" for c in chunks), [c.text[-30:] for c in chunks]


@pytest.mark.parametrize("text", [
    "word " * 40_000,                                     # one 200,000-character line, no sentence end
    ("Opening sentence of the piece. " + "x" * 5_000 + " tail words here."),  # a 'word' longer than a chunk
])
def test_no_chunk_exceeds_the_limit_even_without_sentence_ends(text):
    doc = document(text)
    chunks = chunk_document(doc, max_chars=700, overlap=1)
    assert chunks and max(len(c.text) for c in chunks) <= 700
    assert all(doc.text[c.start : c.end] == c.text for c in chunks)
    covered = [False] * len(text)
    for c in chunks:
        covered[c.start : c.end] = [True] * (c.end - c.start)
    assert all(covered[i] for i, ch in enumerate(text) if not ch.isspace())  # nothing dropped
    cut_inside_a_word = [c for c in chunks if c.end < len(text) and not text[c.end].isspace()]
    assert all(len(c.text) == 700 for c in cut_inside_a_word)  # only a word longer than a chunk is cut
