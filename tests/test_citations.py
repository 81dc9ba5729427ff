"""[n] markers: parsing, dropping the ones that point nowhere, renumbering, and verbatim quotes."""

from __future__ import annotations

import hashlib

import pytest

from rag import evidence
from rag.chunking import chunk_document, split_sentences
from rag.citations import Source, answer_sentences, markers, resolve, strip_markers, to_citation, verify
from rag.schema import Document, Passage, Sentence

TEXT = ("Allies urge Moscow\n"
        "French Foreign Minister Jean-Noel Barrot said Russia owes the United States an answer. "
        "He demanded a clear yes or no, and quickly.\n"
        "NATO Secretary General Mark Rutte said the ball was in the Russian court. "
        "The ministers met in Brussels for two days.\n")
DOC = Document(doc_id="doc1", title="Allies urge Moscow", source="x", text=TEXT,
               sha256=hashlib.sha256(TEXT.encode()).hexdigest())


@pytest.fixture
def sources() -> list[Source]:
    chunks = chunk_document(DOC, max_chars=200, overlap=0)
    out = []
    for chunk in chunks:
        passage = Passage(chunk=chunk, score=1.0, dense_score=0.8)
        for s, e in split_sentences(chunk.text, offset=chunk.start):
            sentence = Sentence(text=TEXT[s:e], start=s, end=e, score=1.0)
            passage.sentences.append(sentence)
            out.append(Source(passage=passage, sentence=sentence))
    assert len(out) == 5
    return out


def test_markers_are_parsed():
    assert markers("A [1]. B [2][3]. C [4, 5]. D [6; 7] and [ 8 ].") == [1, 2, 3, 4, 5, 6, 7]
    assert markers("No markers, just [brackets] and 2024.") == []


def test_strip_markers():
    assert strip_markers("Rutte spoke [1]. Barrot too [2, 3].") == "Rutte spoke. Barrot too."
    assert strip_markers("[1]") == ""


def test_resolve_renumbers_in_order_of_first_use(sources):
    text, cites = resolve("Rutte spoke of the ball [3]. Barrot demanded an answer [1]. Again [3].", sources)
    assert text == "Rutte spoke of the ball [1]. Barrot demanded an answer [2]. Again [1]."
    assert [c.n for c in cites] == [1, 2]
    assert cites[0].quote == sources[2].text and cites[1].quote == sources[0].text


def test_resolve_drops_markers_that_point_nowhere(sources):
    text, cites = resolve("Barrot demanded an answer [0][9]. Rutte spoke [4, 12].", sources)
    assert text == "Barrot demanded an answer. Rutte spoke [1]."
    assert [(c.n, c.quote) for c in cites] == [(1, sources[3].text)]
    text, cites = resolve("Nothing cited [7].", sources)
    assert text == "Nothing cited." and cites == []


def test_resolve_merges_repeated_numbers_in_one_marker(sources):
    text, cites = resolve("Barrot said so [2, 2; 1].", sources)
    assert text == "Barrot said so [1][2]."
    assert len(cites) == 2


def test_every_resolved_citation_verifies(sources):
    _, cites = resolve("A [1]. B [2]. C [3]. D [4]. E [5].", sources)
    assert len(cites) == 5
    for c in cites:
        assert verify(c, DOC)
        assert c.quote in c.text and DOC.text[c.start : c.end] == c.quote
        assert c.doc_id == "doc1" and c.title == "Allies urge Moscow" and c.chunk_id.startswith("doc1#")


def test_verify_rejects_what_is_not_verbatim(sources):
    good = to_citation(1, sources[2])
    assert "quickly" in good.quote
    assert verify(good, DOC)
    assert not verify(good.model_copy(update={"quote": good.quote.replace("quickly", "slowly")}), DOC)
    assert not verify(good.model_copy(update={"start": good.start + 1}), DOC)
    assert not verify(good.model_copy(update={"end": good.end - 1}), DOC)
    assert not verify(good.model_copy(update={"quote": ""}), DOC)
    assert not verify(good.model_copy(update={"text": "some other passage"}), DOC)
    other = DOC.model_copy(update={"text": "x" + DOC.text})
    assert not verify(good, other)


def test_citations_from_real_retrieval_verify(retriever, store):
    for q in ("What did Barrot demand?", "Who is NATO's Secretary General?", "How many soldiers will Russia enlist?"):
        passages = retriever.search(q)
        chosen = evidence.select(q, q, passages)
        assert chosen
        text, cites = resolve(" ".join(f"Claim [{i}]." for i in range(1, len(chosen) + 1)), chosen)
        assert len(cites) == len(chosen)
        for c in cites:
            assert verify(c, store.documents[c.doc_id]), c
            assert c.chunk_id in {p.chunk_id for p in passages}


def test_answer_sentences_keep_their_markers():
    text = 'Barrot demanded an answer [1]. He wanted it "quickly." [2] Rutte agreed [1][3]! Done?'
    assert answer_sentences(text) == ["Barrot demanded an answer [1].", 'He wanted it "quickly." [2]',
                                      "Rutte agreed [1][3]!", "Done?"]
    assert answer_sentences("No final stop [1]") == ["No final stop [1]"]
    assert answer_sentences("") == []


def test_answer_sentences_do_not_split_at_abbreviations():
    assert answer_sentences("The U.S. Secretary of State Marco Rubio spoke in Brussels [1].") == [
        "The U.S. Secretary of State Marco Rubio spoke in Brussels [1]."]
    assert len(answer_sentences("Mr. Barrot met Gen. Smith in Brussels [2].")) == 1


def test_answer_sentences_do_not_split_inside_a_quotation():
    # an instruct model quotes a speaker's two sentences; a marker must not land inside the quotation
    said = 'David Lammy said: "We see you, Vladimir Putin. We know what you are doing." [2]'
    assert answer_sentences(said) == [said]
    curly = "Lammy said: “We see you. We know.” [1] Barrot agreed [2]."
    assert answer_sentences(curly) == ["Lammy said: “We see you. We know.” [1]", "Barrot agreed [2]."]
    assert answer_sentences('He said "yes." Then he left [1].') == ['He said "yes."', "Then he left [1]."]


def test_a_quote_is_one_line_without_marks_around_marks():
    from rag.citations import quoted

    assert quoted("Allies met in Brussels.") == "“Allies met in Brussels.”"
    said = 'Barrot said Russia “owes an answer.”\n“Yes or no,” he stressed.'
    assert quoted(said) == 'Barrot said Russia “owes an answer.” “Yes or no,” he stressed.'

