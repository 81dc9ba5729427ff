"""Choose the evidence sentences the model sees, and decide whether they can answer the question at all."""

from __future__ import annotations

from rag.citations import Source
from rag.grounding import names
from rag.lexical import tokenize
from rag.schema import Passage

MAX_SOURCES = 4
MIN_DENSE = 0.30        # best passage cosine below this: the articles are about something else
MIN_SENTENCE = 0.35     # best evidence sentence score (cosine + term overlap) below this: nothing on point
CONFIDENT_SENTENCE = 0.75
# Country names whose adjective does not start with the name ("Spain" -> "Spanish").
_ADJECTIVES = {
    "spain": "spanish", "france": "french", "britain": "british", "netherlands": "dutch", "greece": "greek",
    "denmark": "danish", "sweden": "swedish", "finland": "finnish", "norway": "norwegian", "poland": "polish",
    "turkey": "turkish", "switzerland": "swiss", "portugal": "portuguese", "ireland": "irish",
    "belgium": "belgian", "czechia": "czech", "iceland": "icelandic", "china": "chinese", "japan": "japanese",
    "israel": "israeli", "iraq": "iraqi", "iran": "iranian", "pakistan": "pakistani", "peru": "peruvian",
    "england": "english", "wales": "welsh", "scotland": "scottish", "lebanon": "lebanese",
}


def select(question: str, query: str, passages: list[Passage], limit: int = MAX_SOURCES) -> list[Source]:
    """The best sentences across passages, best first, skipping repeats of the same words."""
    ranked = sorted(((s, p) for p in passages for s in p.sentences), key=lambda sp: -sp[0].score)
    chosen: list[Source] = []
    seen: list[set[str]] = []
    for sentence, passage in ranked:
        words = set(tokenize(sentence.text))
        if any(len(words & w) >= 0.8 * min(len(words), len(w) or 1) for w in seen):
            continue
        chosen.append(Source(passage=passage, sentence=sentence))
        seen.append(words)
        if len(chosen) == limit:
            break
    return chosen


def missing_names(question: str, passages: list[Passage] | list[str]) -> list[str]:
    """Names in the question that no retrieved passage mentions in any form."""
    texts = [p if isinstance(p, str) else p.chunk.text for p in passages]
    words = {w for t in texts for w in _words(t)}
    missing = []
    for name in names(question[1:]):  # the first word is capitalised anyway
        if len(name) <= 3 and name.isupper():
            continue  # US, UN, EU: written too many ways (U.S., United States) to check by spelling
        if not any(any(w.startswith(f) for w in words) for f in name_forms(name)):
            missing.append(name)
    return missing


def answerable(question: str, query: str, passages: list[Passage], sources: list[Source]) -> bool:
    if not passages or not sources:
        return False
    if max(p.dense_score for p in passages) < MIN_DENSE:
        return False
    if sources[0].sentence.score < MIN_SENTENCE:
        return False
    return not missing_names(question, passages)


def confident(passages: list[Passage], sources: list[Source]) -> bool:
    """Strong enough evidence to answer extractively even when the model says it cannot."""
    return bool(sources) and sources[0].sentence.score >= CONFIDENT_SENTENCE


def name_forms(name: str) -> set[str]:
    n = name.lower()
    forms = {n}
    if len(n) > 4 and n[-1] in "aeiouy":
        forms.add(n[:-1])  # Germany -> German, Estonia -> Estonian, Russia -> Russian
    if n in _ADJECTIVES:
        forms.add(_ADJECTIVES[n])
    return forms


def _words(text: str) -> set[str]:
    return {w.strip(".,;:!?\"“”’'()").lower().removesuffix("’s").removesuffix("'s") for w in text.split()}
