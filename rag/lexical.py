"""BM25 over chunk texts (bm25s), with one tokenizer shared by indexing, search and evidence scoring."""

from __future__ import annotations

import hashlib
import json
import re
from functools import lru_cache
from pathlib import Path

import numpy as np

from rag import places

_WORD = re.compile(r"\w+(?:[.,]\d+)*", re.UNICODE)
_DIGIT_SEP = re.compile(r"(?<=\d)[,](?=\d{3}\b)")


# Question and auxiliary words: they say what kind of answer is wanted, not what it is about.
_QUESTION_WORDS = {"what", "did", "does", "do", "done", "who", "whom", "whose", "which", "when", "where", "why",
                   "how", "were", "has", "have", "had", "can", "could", "would", "should", "will", "shall",
                   "many", "much", "according", "s"}
_POSSESSIVE = re.compile(r"(?<=\w)['’]s\b")
# English month and weekday names, written out: what marks a date in a question or an article, and a
# capitalised word that names no one ("Monday" starts no person's name).
MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
               "November", "December")
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


# The code and data that decide which words an index's BM25 leg and roles table hold (how a word is
# folded, stemmed, read as a place): an index built under other ones matches queries tokenized now wrongly.
WORDS_CODE = ("lexical.py", "places.py", "roles.py", "world_places.json")


@lru_cache(maxsize=1)
def words_key() -> str:
    """A hash of WORDS_CODE, kept in each index's manifest: `rag index` rebuilds the word index (no
    re-embedding) of an index whose key differs."""
    package = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for name in WORDS_CODE:
        h.update(name.encode() + b"\0" + (package / name).read_bytes())
    return h.hexdigest()[:16]


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN) | _QUESTION_WORDS


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def tokenize(text: str, stem: bool = True) -> list[str]:
    """Lower-cased content words; '160,000' and '160000' become one token; stop words dropped.
    Places fold to one word ("Estonian", "Estonia's" -> "estonia") and British spellings to American
    ones ("criticise" -> "criticize"), so a question and an article match however each spells it."""
    text = _POSSESSIVE.sub("", _DIGIT_SEP.sub("", places.fold_phrases(text)))
    words = [t for t in map(_token, _WORD.findall(text)) if t]
    return _stemmer().stemWords(words) if stem else words


@lru_cache(maxsize=262144)
def _token(written: str) -> str:
    """One word as matched: its place, or lower-cased in American spelling; "" for a stop word.
    Cached: a collection has far fewer distinct words than words, and indexing tokenizes them all."""
    low = places.word(written) or written.lower()
    return "" if low in stopwords() else american(low.rstrip(".,"))


_BRITISH = [(re.compile(p), r) for p, r in (
    (r"(?<=\w{3})is(e|ed|es|ing|ation|ations)$", r"iz\1"),  # criticise, organisation
    (r"(?<=\w{2})ys(e|ed|es|ing)$", r"yz\1"),  # analyse, paralysed
    (r"(?<=\w{3})our(s|ed|ing|ite|ites|able)?$", r"or\1"),  # behaviour, favourable
    (r"(?<=\w{2})ence$", "ense"),  # defence, offence (licence, pretence)
    (r"(?<=\w{2})tre(s)?$", r"ter\1"),  # centre, metres
    (r"(?<=\w{3})ogue(s)?$", r"og\1"),  # catalogue, dialogue
    (r"^programme(s)?$", r"program\1"),
)]


@lru_cache(maxsize=65536)
def american(word: str) -> str:
    """One spelling for words British and American English write differently."""
    for pattern, repl in _BRITISH:
        word = pattern.sub(repl, word)
    return word


class Lexical:
    """A BM25 index whose row i is chunk i of the store."""

    def __init__(self, bm25, size: int, df: dict[str, int] | None = None) -> None:
        self.bm25 = bm25
        self.size = size
        self.df = df or {}

    def idf(self, token: str) -> float:
        """Rarer words weigh more when scoring evidence sentences against a question."""
        df = self.df.get(token, 0)
        return float(np.log(1 + (self.size - df + 0.5) / (df + 0.5)))

    @classmethod
    def build(cls, texts: list[str]) -> "Lexical":
        import bm25s

        bm25 = bm25s.BM25()
        corpus = [tokenize(t) or [""] for t in texts]
        if texts:
            bm25.index(corpus, show_progress=False)
        df: dict[str, int] = {}
        for tokens in corpus:
            for tok in set(tokens):
                df[tok] = df.get(tok, 0) + 1
        return cls(bm25, len(texts), df)

    def save(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        (path / "size").write_text(str(self.size))
        (path / "df.json").write_text(json.dumps(self.df), encoding="utf-8")
        if self.size:
            self.bm25.save(str(path))

    @classmethod
    def load(cls, path: Path) -> "Lexical":
        import bm25s

        size = int((path / "size").read_text())
        bm25 = bm25s.BM25.load(str(path), mmap=False) if size else bm25s.BM25()
        return cls(bm25, size, json.loads((path / "df.json").read_text(encoding="utf-8")))

    def vocabulary_matches(self, prefix: str, limit: int = 5) -> list[str]:
        """Indexed words starting with `prefix` (e.g. 'estoni' finds 'estonian'), most frequent first."""
        found = [t for t in self.df if t.startswith(prefix)]
        return sorted(found, key=lambda t: -self.df[t])[:limit]

    def search(self, query: str, n: int, rows: np.ndarray | None = None) -> list[tuple[int, float]]:
        return self.search_tokens(tokenize(query), n, rows)

    def search_tokens(self, tokens: list[str], n: int, rows: np.ndarray | None = None) -> list[tuple[int, float]]:
        """The best `n` rows holding any of the tokens, best first; among `rows` only, when given."""
        if not self.size or not tokens or (rows is not None and not len(rows)):
            return []
        ids = self.bm25.get_tokens_ids(tokens)
        if not ids:
            return []
        scores = self.bm25.get_scores_from_ids(ids)
        if rows is not None:
            kept = np.zeros_like(scores)
            kept[rows] = scores[rows]
            scores = kept
        n = min(n, self.size)
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.argsort(-scores[top])]
        return [(int(i), float(scores[i])) for i in top if scores[i] > 0]
