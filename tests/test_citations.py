"""[n] markers: parsing, dropping the ones that point nowhere, renumbering, and verbatim quotes."""

from __future__ import annotations

import pytest

from helpers import ALLIES, BUSINESS, SCIENCE, SPORT, document, every_sentence, passages
from rag import evidence
from rag.citations import Source, answer_sentences, markers, resolve, strip_markers, to_citation, verify

DOC = document(ALLIES, "doc1")
PASSAGE_CHARS = 200


@pytest.fixture
def sources() -> list[Source]:
    out = every_sentence(passages(DOC, PASSAGE_CHARS))
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


@pytest.mark.parametrize("article", [BUSINESS, SPORT, SCIENCE], ids=["business", "sport", "science"])
def test_every_sentence_of_other_news_cites_verbatim(article):
    doc = document(article, "other")
    found = every_sentence(passages(doc, PASSAGE_CHARS))
    text, cites = resolve(" ".join(f"Claim [{n}]." for n in range(len(found), 0, -1)), found)
    assert [c.n for c in cites] == list(range(1, len(found) + 1)) and len(found) == article.count("\n")
    assert text.startswith("Claim [1]. Claim [2].")  # renumbered in order of use
    for c in cites:
        assert verify(c, doc) and doc.text[c.start : c.end] == c.quote
    assert cites[0].quote == found[-1].text  # the first cited is the last sentence


def test_every_resolved_citation_verifies(sources):
    _, cites = resolve("A [1]. B [2]. C [3]. D [4]. E [5].", sources)
    assert len(cites) == 5
    for c in cites:
        assert verify(c, DOC)
        assert c.quote in c.text and DOC.text[c.start : c.end] == c.quote
        assert c.doc_id == "doc1" and c.title == "Allies urge Moscow to answer" and c.chunk_id.startswith("doc1#")


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



def test_a_citation_names_the_other_articles_that_hold_its_passage():
    """A passage kept over another article's copy (rag/retrieval.py) lists that article; the citation
    carries the list, and the faces print it after the doc id."""
    from rich.console import Console

    from rag.citations import also_in
    from rag.render import print_answer
    from rag.schema import Answer

    doc = document(SPORT)
    found = passages(doc, 400)
    found[0].copies = ["sport_copy"]
    citation = to_citation(1, every_sentence(found)[0])
    assert citation.copies == ["sport_copy"] and also_in(citation) == "; also in sport_copy"
    assert also_in(to_citation(1, every_sentence(passages(doc, 400))[0])) == ""
    console = Console(record=True, width=200, color_system=None)
    print_answer(console, Answer(question="q", answer="It did [1].", citations=[citation]))
    assert f"({doc.doc_id}; also in sport_copy)" in console.export_text()
