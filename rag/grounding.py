"""Is an answer sentence supported by what it cites? Names, numbers and quoted words must be there,
and most of its content words too. A tiny model's slips are exactly these."""

from __future__ import annotations

import re

from rag.config import AnswerConfig
from rag.lexical import tokenize

_TYPOGRAPHY = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "…": "...", "–": "-", "—": "-"})
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_QUOTED = re.compile(r"\"([^\"]{3,})\"")
_NAME = re.compile(r"\b[A-Z][\w’'\-]*(?:\s+[A-Z][\w’'\-]*)*")
NOT_NAMES = {"I", "The", "A", "An", "He", "She", "It", "They", "We", "You", "His", "Her", "Their", "Its",
              "This", "That", "These", "Those", "In", "On", "At", "By", "For", "And", "But", "Or", "According",
              "About", "After", "Before", "When", "While", "If", "As", "Yes", "No", "Not", "So", "Also"}
_MIN_SUPPORT = AnswerConfig.model_fields["lead_in_min_words"].default  # the setting's own default, not a copy


def numbers(text: str) -> set[str]:
    return {n.replace(",", "").rstrip(".") for n in _NUMBER.findall(text)}


def names(text: str) -> set[str]:
    """Capitalised words that are not just sentence-initial function words."""
    found = set()
    for m in _NAME.finditer(text):
        for word in m.group().split():
            w = word.strip("’'-").removesuffix("’s").removesuffix("'s")
            if w and w not in NOT_NAMES:
                found.add(w)
    return found


def unsupported(claim: str, evidence: str, question: str = "", min_support: float = _MIN_SUPPORT) -> list[str]:
    """What the claim asserts that neither the evidence nor the question contains (empty = grounded).
    Quoted words must be in the evidence itself: the question quoting them does not make the source say them.
    Under `min_support` of its content words found there, the claim is not grounded either
    (`[answer] lead_in_min_words`)."""
    claim = _plain(claim)
    pool = _plain(f"{evidence}\n{question}")
    pool_lower = pool.lower()
    missing = [n for n in numbers(claim) if n not in numbers(pool)]
    missing += [w for w in names(claim) if w.lower() not in pool_lower]
    flat = " ".join(_plain(evidence).lower().split())
    missing += [q for q in _QUOTED.findall(claim) if " ".join(q.lower().split()).strip(" .,;:!?") not in flat]
    words = tokenize(claim)
    if words:
        have = set(tokenize(pool))
        support = sum(w in have for w in words) / len(words)
        if support < min_support:
            missing.append(f"(only {support:.0%} of its words are in the sources)")
    return missing


def overlap(claim: str, evidence: str) -> float:
    """The share of the claim's content words that the evidence itself holds (the question not counted):
    of several sources that all pass `unsupported` (helped by the question's words), the one the claim
    was taken from holds the most."""
    words = tokenize(_plain(claim))
    if not words:
        return 0.0
    have = set(tokenize(_plain(evidence)))
    return sum(w in have for w in words) / len(words)


def restates(claim: str, question: str) -> bool:
    """A claim that only gives the question back ("Moscow says it cannot accept the proposals") adds
    nothing: fewer than a quarter of its content words are new."""
    words = tokenize(claim)
    asked = set(tokenize(question))
    new = [w for w in words if w not in asked]
    return not new or len(new) / len(words) < 0.25


def _plain(text: str) -> str:
    """One spelling for quotes, apostrophes, dashes and ellipses, which models and articles mix freely."""
    return text.translate(_TYPOGRAPHY)
