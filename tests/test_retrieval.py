"""Hybrid retrieval over the seeds: dense + BM25 fused, near-duplicates collapsed, evidence sentences kept."""

from __future__ import annotations

import pytest

from conftest import WIRE_COPY_ID
from rag.retrieval import Retriever, leaders, rrf
from rag.weights import PassageWeights


def test_rrf_rewards_agreement_between_legs():
    fused = rrf([[1, 2, 3], [3, 4]], k=60)
    assert fused[3] == pytest.approx(1 / 63 + 1 / 61)
    assert fused[1] == pytest.approx(1 / 61)
    assert max(fused, key=fused.get) == 3  # ranked by both legs beats first place in one
    assert set(fused) == {1, 2, 3, 4}
    assert rrf([[], []], 60) == {}


def test_each_legs_best_lead_the_fused_order():
    assert leaders([[1, 2, 3], [4, 5]], 1) == {1, 4}
    assert leaders([[1, 2, 3], [2, 5]], 2) == {1, 2, 5}
    assert leaders([[1, 2, 3], [4, 5]], 0) == set()
    assert leaders([[], [4]], 3) == {4}


def test_the_lexical_legs_first_passage_is_kept_though_fusion_ranks_it_low(retriever):
    """Found empirically: BM25's first passage for this question is one the dense leg ranks low, so
    reciprocal rank fusion alone puts five passages both legs found above it. Either the legs' leaders or
    the fitted passage score (its BM25 rank and score among the features) keeps it."""
    q = "What did Barrot demand of Russia?"
    first = retriever.store.search_lexical(retriever.expand(q), 1)[0][0]
    fusion = PassageWeights(**{f: float(f == "fused") for f in PassageWeights.model_fields})

    def search(**update) -> list[str]:
        r = Retriever(retriever.store, retriever.encoder, retriever.config.model_copy(update=update))
        return [p.chunk_id for p in r.search(q)]

    chunk = retriever.store.chunks[first].chunk_id
    assert chunk not in search(leaders=0, passage=fusion), "premise: fusion alone drops it"
    assert chunk in search(leaders=2, passage=fusion)
    assert chunk in search(leaders=0)


@pytest.mark.parametrize("question, source", [
    ("What did Barrot demand of Russia?", "002_557866627175f759"),
    ("Which country left the Ottawa convention banning antipersonnel landmines?", "003_7142b6b00ace2fe9"),
    ("Which Polish minister warned that US patience with Putin would run out?", "001_9abd8b6036bf59d1"),
])
def test_hybrid_search_returns_passages_with_evidence_sentences(retriever, store, settings, question, source):
    passages = retriever.search(question)
    assert len(passages) == settings.retrieval.k
    assert source in [p.doc_id for p in passages]
    query = retriever.expand(question)
    n = settings.retrieval.leaders
    lead = {store.chunks[i].chunk_id for i, _ in store.search_dense(retriever.encoder.encode([query])[0], n)
            + store.search_lexical(query, n)} if n else set()
    order = [(p.chunk_id not in lead, -p.score) for p in passages]
    assert order == sorted(order)  # the legs' leaders (if any) first, then by passage score
    assert len({p.chunk_id for p in passages}) == len(passages)
    for p in passages:
        assert p.chunk == store.chunks[store.chunk_index(p.chunk_id)]
        assert 1 <= len(p.sentences) <= settings.retrieval.evidence_sentences
        assert [s.score for s in p.sentences] == sorted((s.score for s in p.sentences), reverse=True)
        doc = store.documents[p.doc_id]
        for s in p.sentences:
            assert doc.text[s.start : s.end] == s.text
            assert p.chunk.start <= s.start < s.end <= p.chunk.end


def test_k_is_respected(retriever, store):
    assert len(retriever.search("ceasefire", k=2)) == 2
    assert len(retriever.search("ceasefire", k=50)) <= len(store.chunks)


def _holds(passages, needle):
    return [i for i, p in enumerate(passages) if needle in p.chunk.text]


# Found empirically: a rare full name that all-MiniLM ranks ~20th among the seed chunks, while BM25 puts
# the one chunk that holds it first.
RARE = "Christoph Huber"


def dense_rank(retriever, store, query: str, needle: str) -> int:
    """Rank of the first chunk holding `needle` by cosine alone (straight from FAISS)."""
    hits = store.search_dense(retriever.encoder.encode([query])[0], len(store.chunks))
    return next(rank for rank, (i, _) in enumerate(hits) if needle in store.chunks[i].text)


def test_the_lexical_leg_finds_what_the_dense_leg_misses(retriever, store):
    assert any(RARE in c.text for c in store.chunks)
    assert dense_rank(retriever, store, RARE, RARE) >= 5, "premise: cosine alone ranks the chunk below the top 5"
    lexical_only = retriever.search(RARE, k=5, dense=False)
    assert _holds(lexical_only, RARE)[:1] == [0]
    hybrid = retriever.search(RARE, k=5)
    found = _holds(hybrid, RARE)
    assert found, "fusion must keep BM25's find in the top 5"
    hit = hybrid[found[0]]
    assert hit.lexical_score > 0
    # its dense similarity is still known (used for abstention), and it is the real cosine
    qvec = retriever.encoder.encode([RARE])[0]
    assert hit.dense_score == pytest.approx(float(store.vectors[store.chunk_index(hit.chunk_id)] @ qvec), abs=1e-4)
    assert any(RARE in s.text for s in hit.sentences[:2])


def test_numbers_match_with_or_without_thousands_separators(retriever):
    for query in ("160,000 troops", "160000 troops"):
        hits = retriever.search(query, k=5, dense=False)
        assert hits and "160,000" in hits[0].chunk.text


def test_the_dense_leg_finds_paraphrases(retriever):
    # no content word of the query appears in the relevant text ("antipersonnel landmines", "Ottawa")
    query = "withdrawal from the international treaty prohibiting mines"
    dense_only = retriever.search(query, k=5, lexical=False)
    assert _holds(dense_only, "Ottawa")


def test_retrieval_is_deterministic(retriever):
    q = "How many German soldiers are going to Lithuania?"
    first = [(p.chunk_id, p.score) for p in retriever.search(q)]
    assert first == [(p.chunk_id, p.score) for p in retriever.search(q)]


def test_near_duplicate_passages_are_collapsed(extended_assistant):
    a = extended_assistant  # holds the seeds plus a second copy of 002 under another name
    texts = [c.text for c in a.store.chunks]
    assert len(texts) != len(set(texts)), "premise: the index holds identical chunks under two doc ids"
    for q in ("What did Barrot demand of Russia?", "What did Kaja Kallas warn about?",
              "What did Spain's foreign minister say Russia must do?"):
        passages = a.retriever.search(q, k=5)
        assert len(passages) == 5
        shown = [p.chunk.text for p in passages]
        assert len(shown) == len(set(shown)), f"duplicate passages for {q!r}"
        # and never the same passage of both copies
        spans = [(p.chunk.start, p.chunk.end) for p in passages
                 if p.doc_id in ("002_557866627175f759", WIRE_COPY_ID)]
        assert len(spans) == len(set(spans))


def test_a_collapsed_copy_is_named_on_the_passage_kept(extended_assistant):
    """The copy's article is not lost: the passage shown lists the other filing, so a reader (and the eval's
    source count) learns the story is also in it. Passages of articles with no copy list none."""
    copies = {"002_557866627175f759", WIRE_COPY_ID}
    passages = extended_assistant.retriever.search("What did Barrot demand of Russia?", k=5)
    kept = [p for p in passages if p.doc_id in copies]
    assert kept, "premise: a passage of the copied article is among the five"
    for p in kept:
        assert p.copies == sorted(copies - {p.doc_id}), p.chunk_id
    assert all(not p.copies for p in passages if p.doc_id not in copies)


def test_a_sentence_denying_what_was_asked_is_recognised():
    from rag.lexical import tokenize
    from rag.retrieval import _denies

    asked = set(tokenize("Who chaired the last meeting of the contact group?"))
    assert _denies("However, the United States is no longer chairing the contact group.", asked)
    assert _denies("Hegseth will not chair the meeting.", asked)
    assert not _denies("The United Kingdom chaired the last meeting of the group in February.", asked)
    assert not _denies("No decision was taken; the United Kingdom chaired the meeting.", asked)


def test_sentence_scores_are_the_weighted_features_of_the_settings(retriever):
    """A sentence's score is exactly sum(weight x feature) with the `[retrieval.sentence]` weights, so a
    fit of the weights (scripts/fit_evidence.py) changes the ranking and nothing else."""
    question = "What did Barrot demand of Russia?"
    found = retriever.passages(question)
    features = retriever.sentence_features(question, found.resolved, found.qvec, found.passages)
    weights = retriever.config.sentence.model_dump()
    assert features and all(set(f) == set(weights) for _, _, f in features)
    retriever.score_sentences(question, found)
    scored = {(p.chunk_id, s.start): s.score for p in found.passages for s in p.sentences}
    expected = {(p.chunk_id, s.start): sum(w * f[n] for n, w in weights.items()) for p, s, f in features}
    assert scored and all(v == pytest.approx(expected[key], abs=1e-4) for key, v in scored.items())
    behind = {p.chunk_id: f["passage_score"] for p, _, f in features}
    best = max(found.passages, key=lambda p: p.score)
    assert behind[best.chunk_id] == 0.0  # the best passage pays nothing, the others their distance behind it
    assert all(v == pytest.approx(p.score - best.score) and v <= 0 for p in found.passages
               for v in [behind[p.chunk_id]])


def test_after_match_is_the_overlap_of_the_sentence_before_in_the_same_passage(retriever):
    question = "What did Barrot demand of Russia?"
    found = retriever.passages(question)
    features = retriever.sentence_features(question, found.resolved, found.qvec, found.passages)
    for (p0, _, f0), (p1, _, f1) in zip(features, features[1:], strict=False):
        assert f1["after_match"] == (f0["overlap"] if p1 is p0 else 0.0)
    assert features[0][2]["after_match"] == 0.0
    assert any(f["after_match"] > 0 for _, _, f in features)


def test_evidence_from_a_chunk_opening_with_a_date_marker_leaves_the_marker_out(retriever, store):
    """A bundled article opens "date 2025-04-04 United States ...": its chunk keeps the marker, the sentence
    quoted from it starts after it, and the offsets still point at that text in the document."""
    from rag.chunking import LEADING_DATE

    chunk = next(c for c in store.chunks if LEADING_DATE.match(c.text))
    marker = LEADING_DATE.match(chunk.text)
    question = " ".join(chunk.text[marker.end() :].split()[:12])
    found = retriever.passages(question)
    evidence = retriever.sentence_features(question, found.resolved, found.qvec, found.passages)
    first = next(s for p, s, _ in evidence if p.chunk.chunk_id == chunk.chunk_id)
    assert first.start == chunk.start + marker.end()
    assert store.document(chunk.doc_id).text[first.start : first.end] == first.text
    assert not LEADING_DATE.match(first.text)


def test_a_line_without_a_full_stop_is_a_heading(retriever):
    """Headlines, captions and section titles name a subject; they rarely state an answer."""
    from rag.schema import Chunk, Passage

    text = ("Dawson joins England injury list\n\nScrum-half Matt Dawson is an injury doubt for the opener. "
            "\"He has a calf strain,\" the coach said. Was it the same injury? \"I hope not!\"")
    chunk = Chunk(chunk_id="made-up#0", doc_id="made-up", title="Dawson", text=text, start=0, end=len(text))
    question = "What injury is troubling Dawson?"
    found = retriever.passages(question)
    features = retriever.sentence_features(question, found.resolved, found.qvec, [Passage(chunk=chunk, score=1.0)])
    assert [(s.text.split()[0], f["heading"]) for _, s, f in features] == [
        ("Dawson", -1.0), ("Scrum-half", 0.0), ('"He', 0.0), ("Was", 0.0)]


def test_changed_weights_change_the_ranking(retriever, settings):
    """Only the overlap counting: the best sentence holds the most of the question's rare words."""
    from rag.retrieval import Retriever

    only_overlap = settings.retrieval.model_copy(update={"sentence": settings.retrieval.sentence.model_copy(
        update={"cosine": 0.0, "overlap": 1.0, "kind_fit": 0.0, "denial": 0.0, "passage_score": 0.0,
                "after_match": 0.0, "heading": 0.0})})
    r = Retriever(retriever.store, retriever.encoder, only_overlap)
    question = "Which country left the Ottawa convention banning antipersonnel landmines?"
    found = r.passages(question)
    features = r.sentence_features(question, found.resolved, found.qvec, found.passages)
    r.score_sentences(question, found)
    best = max((s for p in found.passages for s in p.sentences), key=lambda s: s.score)
    assert best.score == pytest.approx(max(f["overlap"] for _, _, f in features), abs=1e-4)


def test_what_counts_as_a_duplicate_is_the_configured_one(retriever):
    q = "What did Barrot demand of Russia?"
    assert len(retriever.search(q, k=5)) == 5
    loose = Retriever(retriever.store, retriever.encoder,
                      retriever.config.model_copy(update={"duplicate_overlap": 0.0}))
    assert len(loose.search(q, k=5)) < 5  # at 0 any two passages are copies: the first stands (names anchored)


def test_passages_are_ordered_by_the_weighted_features_of_the_settings(retriever, store):
    """A passage's score is the `[retrieval.passage]` weights times its features (fitted by
    scripts/fit_passages.py); each leg's first passage has rank feature 1, and shares stay in 0..1."""
    q = "What did Barrot demand of Russia?"
    c = retriever.candidates(q)
    assert c.features and all(set(f) == set(PassageWeights.model_fields) for f in c.features.values())
    assert c.features[c.dense_hits[0][0]]["dense_rank"] == 1.0 and c.features[c.lex_hits[0][0]]["lexical_rank"] == 1.0
    assert all(0.0 <= f["coverage"] <= 1.0 and 0.0 <= f["lexical"] <= 1.0 for f in c.features.values())
    weights = retriever.config.passage.model_dump()
    found = retriever.passages(q)
    for p in found.passages:
        f = c.features[store.chunk_index(p.chunk_id)]
        assert p.score == pytest.approx(sum(w * f[n] for n, w in weights.items()), abs=1e-4)
    assert [p.score for p in found.passages] == sorted((p.score for p in found.passages), reverse=True)
