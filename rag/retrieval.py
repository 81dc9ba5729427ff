"""Hybrid retrieval: dense (FAISS) and lexical (BM25) candidates ordered by a fitted passage score (the
legs' reciprocal-rank fusion one of its features), near-duplicate passages collapsed, and the best evidence
sentences found inside the passages kept."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from rag import evidence, injection, qtypes
from rag.chunking import split_sentences
from rag.config import RetrievalConfig
from rag.embeddings import Encoder
from rag.grounding import names
from rag.lexical import tokenize
from rag.pertinence import NEGATION, negated_words
from rag.roles import Roles
from rag.schema import Chunk, Document, Passage, Sentence
from rag.store_api import Store, Within

Resolved = list[tuple[tuple[int, int], list[str]]]  # what Roles.resolve gives: (span, names) per role
MAX_WORD_VECTORS = 50_000  # cached single-word vectors (~75 MB at 384 dimensions)
MAX_CHUNK_WORDS = 20_000  # cached passage word sets (~50 MB for a 700-character passage's ~60 stems each)
_PRONOUN_START = re.compile(r"^[\"“‘']?(he|she|they|his|her|their)\b", re.I)
_WORDS = re.compile(r"[A-Za-z][A-Za-z\-]{2,}")
# A sentence that ends without a full stop, question or exclamation mark (a closing quote or bracket may
# follow) is a headline, a caption or a section title: it names a subject and rarely states an answer.
_ENDED = re.compile(r"[.!?…][\"”’')\]]*\s*$")


def _denies(text: str, terms: set[str]) -> bool:
    """A question word in `text` right after a negation ("no longer chairing", "will not attend")."""
    return any(terms & set(following) for following in negated_words(text, 3))


def _shared_prefix(a: str, b: str) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))


@dataclass
class Found:
    """What retrieval proper hands to sentence scoring: the passages, the roles the question named, and
    the question's vector (both computed once)."""

    passages: list[Passage]
    resolved: Resolved
    qvec: np.ndarray


@dataclass
class Candidates:
    """The two legs' hits for one question, before any are chosen: the query as searched (expanded with
    the people its roles name), and every candidate's features (store row -> feature -> value)."""

    query: str
    resolved: Resolved
    qvec: np.ndarray
    dense_hits: list[tuple[int, float]]
    lex_hits: list[tuple[int, float]]
    features: dict[int, dict[str, float]]


def rrf(rankings: list[list[int]], k: int) -> dict[int, float]:
    """Reciprocal rank fusion: robust to the two legs' incomparable score scales."""
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, idx in enumerate(ranking):
            fused[idx] = fused.get(idx, 0.0) + 1.0 / (k + rank + 1)
    return fused


def leaders(rankings: list[list[int]], n: int) -> set[int]:
    """The best `n` of every ranking. They lead the fused order: RRF ranks a passage that only one leg
    found below any that both legs found, however high that leg put it (the one passage with the
    question's rare words, which the dense leg ranks 185th)."""
    return {i for r in rankings for i in r[:n]}


class Retriever:
    def __init__(self, store: Store, encoder: Encoder, config: RetrievalConfig, within: Within | None = None) -> None:
        self.store = store
        self.encoder = encoder
        self.config = config
        self.within = within  # the articles searches keep to (rag/scope.py); None: all of them
        self._roles: Roles | None = None
        self._vectors: dict[str, np.ndarray] = {}  # single words, for resemblance(); a collection has few
        self._chunk_words: dict[int, frozenset[str]] = {}  # store row -> its stemmed words, for coverage

    @property
    def roles(self) -> Roles:
        if self._roles is None:
            self._roles = self.store.roles()
        return self._roles

    def idf(self, token: str) -> float:
        return self.store.lexical.idf(token)

    def known(self, token: str) -> bool:
        return self.store.lexical.df.get(token, 0) > 0

    def document(self, doc_id: str) -> Document:
        return self.store.document(doc_id)

    def resemblance(self, word: str, text: str) -> float:
        """How close the nearest word of `text` comes to `word` in meaning (1.0 for the same stem):
        "troops" and "soldiers" are close (0.89), "agreement" and "meet" are not (0.38). Single-word
        vectors of a sentence embedder are a rough guide: "deal" is only 0.44 from "agreement"."""
        if set(tokenize(word)) & set(tokenize(text)):
            return 1.0
        words = list(dict.fromkeys(w.lower() for w in _WORDS.findall(text)))
        low = word.lower()
        if any(low in w or _shared_prefix(low, w) >= max(5, len(low) - 4) for w in words):
            return 1.0  # "mines" in "landmines"; "agreed" for "agreement", which the stemmer keeps apart
        if not words:
            return 0.0
        vecs = self._word_vectors([word.lower(), *words])
        return float(max(vecs[1:] @ vecs[0]))

    def _word_vectors(self, words: list[str]) -> np.ndarray:
        new = [w for w in dict.fromkeys(words) if w not in self._vectors]
        if len(self._vectors) + len(new) > MAX_WORD_VECTORS:
            self._vectors.clear()
        if new:
            self._vectors.update(zip(new, self.encoder.encode(new), strict=True))
        return np.stack([self._vectors[w] for w in words])

    def expand(self, query: str, resolved: Resolved | None = None) -> str:
        """The query plus the names of people it refers to by role ("Estonia's foreign minister")."""
        people = [name for _, found in (self.roles.resolve(query) if resolved is None else resolved)
                  for name in found]
        return f"{query} ({'; '.join(people)})" if people else query

    def terms(self, query: str, resolved: Resolved | None = None) -> list[tuple[frozenset[str], float]]:
        """The query's words, each with its weight (idf), for scoring sentences. A role the articles
        resolve to a person ("Spain's foreign minister") becomes one term, that person's surname: a
        sentence is about the minister if it names them, and restating the title adds nothing."""
        resolved = self.roles.resolve(query) if resolved is None else resolved
        plain = query
        for (start, end), _ in sorted(resolved, reverse=True):
            plain = plain[:start] + " " + plain[end:]
        units = [(frozenset([t]), self.store.lexical.idf(t)) for t in dict.fromkeys(tokenize(plain))]
        for _, people in resolved:
            surnames = frozenset(t for name in people for t in tokenize(name.split()[-1]))
            if surnames:
                units.append((surnames, max(self.store.lexical.idf(t) for t in surnames)))
        return units

    def search(self, query: str, k: int | None = None, lexical: bool = True, dense: bool = True) -> list[Passage]:
        """The best `k` passages for the question, each with its best evidence sentences scored."""
        found = self.passages(query, k, lexical, dense)
        self.score_sentences(query, found)
        return found.passages

    def score_sentences(self, question: str, found: Found) -> None:
        """Rank the sentences inside the passages `passages()` found, best evidence first."""
        self._score_sentences(question, found.resolved, found.qvec, found.passages)

    def passages(self, query: str, k: int | None = None, lexical: bool = True, dense: bool = True) -> Found:
        """Retrieval proper: dense and lexical candidates fused, near-duplicates collapsed, names anchored.
        The evidence sentences inside them are left unscored (`search` scores them)."""
        k = k or self.config.k
        c = self.candidates(query, lexical, dense)
        dense_hits, lex_hits, features = c.dense_hits, c.lex_hits, c.features
        resolved, query, qvec = c.resolved, c.query, c.qvec
        weights = self.config.passage.model_dump()
        scored = {i: sum(w * f[name] for name, w in weights.items()) for i, f in features.items()}
        lead = leaders([[i for i, _ in dense_hits], [i for i, _ in lex_hits]], self.config.leaders)
        order = sorted(scored, key=lambda i: (i not in lead, -scored[i]))
        chosen: list[int] = []
        copy_of: dict[int, int] = {}  # a candidate dropped as a duplicate -> the chosen passage it repeats
        for idx in order:  # past the k-th, only to learn which candidates repeat a chosen one
            j = next((j for j in chosen if self._duplicate(idx, j)), None)
            if j is not None:
                copy_of[idx] = j
            elif len(chosen) < k:
                chosen.append(idx)
        chosen = self._anchor_names(query, chosen, scored)
        copies = self._copies(chosen, copy_of)
        lex_score = dict(lex_hits)
        passages = []
        for idx in chosen:
            # a lexical-only hit's dense similarity is computed too: it still matters for abstention
            ds = features[idx]["dense"] if idx in features else float(np.dot(self.store.vectors[idx], qvec))
            passages.append(Passage(chunk=self.store.chunks[idx], score=round(scored[idx], 4), dense_score=ds,
                                    lexical_score=lex_score.get(idx, 0.0), copies=copies[idx]))
        return Found(passages=passages, resolved=resolved, qvec=qvec)

    def candidates(self, question: str, lexical: bool = True, dense: bool = True) -> Candidates:
        """Both legs' best `candidates` passages for the question, each with its `passage_features`."""
        resolved = self.roles.resolve(question)  # once per question: expansion and term weights share it
        query = self.expand(question, resolved)
        qvec = self.encoder.encode([query])[0]
        n = self.config.candidates
        dense_hits = self.store.search_dense(qvec, n, self.within) if dense else []
        lex_hits = self.store.search_lexical(query, n, self.within) if lexical else []
        return Candidates(query, resolved, qvec, dense_hits, lex_hits,
                          self.passage_features(question, resolved, qvec, dense_hits, lex_hits))

    def passage_features(self, question: str, resolved: Resolved, qvec: np.ndarray,
                         dense_hits: list[tuple[int, float]], lex_hits: list[tuple[int, float]],
                         ) -> dict[int, dict[str, float]]:
        """Every candidate passage (store row) of either leg with what its score is made of: the legs'
        fusion, its meaning (cosine), its BM25 score, the share of the question's words it holds, whether it
        holds the kind of thing asked for, and its rank in each leg. Cheap enough for the ~50 candidates:
        no encoding, one tokenisation each."""
        rankings = [[i for i, _ in dense_hits], [i for i, _ in lex_hits]]
        fused = rrf(rankings, self.config.rrf_k)
        dense_rank = {i: r for r, i in enumerate(rankings[0])}
        lex_rank = {i: r for r, i in enumerate(rankings[1])}
        dense_score = dict(dense_hits)
        lex_score = dict(lex_hits)
        best_lex = max(lex_score.values(), default=0.0) or 1.0
        units = self.terms(question, resolved)
        total = sum(w for _, w in units) or 1.0
        kind = qtypes.expected(question)
        out = {}
        for i in fused:
            text = self.store.chunks[i].text
            ds = dense_score.get(i)
            if ds is None:
                ds = float(np.dot(self.store.vectors[i], qvec))
            words = self._words_of(i)
            out[i] = {
                "fused": fused[i] * self.config.rrf_k,
                "dense": ds,
                "lexical": lex_score.get(i, 0.0) / best_lex,
                "coverage": sum(w for alternatives, w in units if alternatives & words) / total,
                "kind_fit": qtypes.strength(text, kind, question) - 1 if kind else 0.0,
                "dense_rank": 1.0 / (dense_rank[i] + 1) if i in dense_rank else 0.0,
                "lexical_rank": 1.0 / (lex_rank[i] + 1) if i in lex_rank else 0.0,
            }
        return out

    def _words_of(self, row: int) -> frozenset[str]:
        """A passage's stemmed words, kept: the same passages come back as candidates question after
        question (over the BBC archive, retrieval p50 24 -> 17 ms, p95 58 -> 39 ms with them kept)."""
        words = self._chunk_words.get(row)
        if words is None:
            if len(self._chunk_words) >= MAX_CHUNK_WORDS:
                self._chunk_words.clear()
            words = self._chunk_words[row] = frozenset(tokenize(self.store.chunks[row].text))
        return words

    def _anchor_names(self, query: str, chosen: list[int], scores: dict[int, float]) -> list[int]:
        """A name in the question that no chosen passage mentions ("Estonia's minister") is looked up
        on its own in the lexical index, and the best passage that has it replaces the weakest one."""
        if not chosen:
            return chosen
        texts = [self.store.chunks[i].text for i in chosen]
        tokens = tokenize(query)
        for name in evidence.missing_names(query, texts):
            for form in sorted(evidence.name_forms(name), key=len):
                words = self.store.lexical.vocabulary_matches(tokenize(form, stem=False)[0][:6] if tokenize(
                    form, stem=False) else form)
                hits = [i for i, _ in self.store.search_tokens(tokens + words * 2, 5, self.within) if i not in chosen]
                if words and hits:
                    chosen = chosen[:-1] + [hits[0]] if len(chosen) >= self.config.k else chosen + [hits[0]]
                    scores.setdefault(hits[0], 0.0)
                    break
        return chosen

    def _orders(self, chunk: Chunk) -> list[tuple[int, int]]:
        """Spans (document offsets) of the article's sentences that address a reader or an assistant."""
        document = self.store.documents.get(chunk.doc_id)
        if document is not None:
            return list(injection.flagged(document.text))
        return [(s + chunk.start, e + chunk.start) for s, e in injection.flagged(chunk.text)]

    def _copies(self, chosen: list[int], copy_of: dict[int, int]) -> dict[int, list[str]]:
        """For each chosen passage, the other articles whose passage was dropped as a duplicate of it: the
        same story filed twice under two names, which the collapse keeps once."""
        out: dict[int, list[str]] = {i: [] for i in chosen}
        for idx, j in copy_of.items():
            doc = self.store.chunks[idx].doc_id
            if j in out and idx not in out and doc != self.store.chunks[j].doc_id and doc not in out[j]:
                out[j].append(doc)
        return out

    def _duplicate(self, a: int, b: int) -> bool:
        va, vb = self.store.vectors[a], self.store.vectors[b]
        if float(np.dot(va, vb)) >= self.config.duplicate_cosine:
            return True
        ta, tb = self._words_of(a), self._words_of(b)
        small = min(len(ta), len(tb)) or 1
        return len(ta & tb) / small >= self.config.duplicate_overlap

    def _score_sentences(self, question: str, resolved: Resolved, qvec: np.ndarray,
                         passages: list[Passage]) -> None:
        """Each sentence's score is the weighted sum of its `sentence_features` (the weights are the
        `[retrieval.sentence]` settings, fitted by scripts/fit_evidence.py)."""
        weights = self.config.sentence.model_dump()
        for p in passages:
            p.sentences = []
        for p, sentence, features in self.sentence_features(question, resolved, qvec, passages):
            score = sum(w * features[name] for name, w in weights.items())
            sentence.score = round(score, 4)  # sentence_features made it for this call alone
            p.sentences.append(sentence)
        for p in passages:
            p.sentences.sort(key=lambda x: -x.score)
            p.sentences = p.sentences[: self.config.evidence_sentences]

    def sentence_features(self, question: str, resolved: Resolved, qvec: np.ndarray,
                          passages: list[Passage]) -> list[tuple[Passage, Sentence, dict[str, float]]]:
        """Every sentence of the passages with what its score is made of: meaning (cosine), the rare query
        words it contains, whether it holds the kind of thing the question asks for, whether it denies
        what was asked, and where its passage ranked. Sentences that address the reader or an assistant
        ("when asked, always answer ...") are not evidence of anything and are dropped; they are found in
        the whole article, so a quotation that began before the passage still counts as one."""
        spans = []
        for p in passages:
            c = p.chunk
            orders = self._orders(c)
            for s, e in split_sentences(c.text, offset=c.start):
                if not injection.overlaps(orders, s, e):
                    spans.append((p, s, e))
        if not spans:
            return []
        texts = [p.chunk.text[s - p.chunk.start : e - p.chunk.start] for p, s, e in spans]
        vecs = self.encoder.encode(texts)
        cos = vecs @ qvec
        units = self.terms(question, resolved)
        total = sum(w for _, w in units) or 1.0
        kind = qtypes.expected(question)
        asked_terms = set(tokenize(question))
        check_denials = not NEGATION.search(question)  # "Which official is not expected..." asks for it
        best_passage = max(p.score for p in passages)
        previous: tuple[Passage, str, float] | None = None
        out = []
        for (p, s, e), text, c in zip(spans, texts, cos, strict=True):
            words = set(tokenize(text))
            before = previous if previous is not None and previous[0] is p else None  # in this passage
            if before and _PRONOUN_START.match(text):
                words |= set(tokenize(" ".join(names(before[1][1:]))))  # "She added ..." is about her
            overlap = sum(w for alternatives, w in units if alternatives & words) / total
            features = {
                "cosine": float(c),
                "overlap": overlap,
                "kind_fit": qtypes.strength(text, kind, question) - 1 if kind else 0.0,
                "denial": -1.0 if check_denials and _denies(text, asked_terms) else 0.0,
                "passage_score": p.score - best_passage,
                "after_match": before[2] if before else 0.0,
                "heading": 0.0 if _ENDED.search(text) else -1.0,
            }
            previous = (p, text, overlap)
            out.append((p, Sentence(text=text, start=s, end=e), features))
        return out
