"""What the eval judge counts as an answer's checkable claims: its names and its numbers, found by
plain patterns of the judge's own. The answer pipeline rejects answers by its own, richer rules
(rag/grounding.py); a judge that used those would pass, by construction, everything they let through.
These rules are fixed and simple on purpose: a change to the pipeline cannot move them."""

from __future__ import annotations

import re

# A run of capitalised words ("Jean-Noel Barrot", "United States"), and a run of digits ("45", "2024").
_NAME_RUN = re.compile(r"\b[A-Z][\w-]*(?:\s+[A-Z][\w-]*)*")
_DIGITS = re.compile(r"\d+")
_POSSESSIVE = re.compile(r"['’]s\b")
# Words capitalised only because they open a sentence: never a name on their own.
_OPENERS = frozenset({"A", "An", "The", "He", "She", "It", "They", "We", "I", "This", "That", "There", "In",
                      "On", "At", "But", "And", "Yes", "No"})


def name_runs(text: str) -> list[str]:
    """The runs of capitalised words in `text`, a possessive "'s" left off, in order, each once; a
    sentence-opening word from a short fixed list ("The", "He") is dropped from the front of its run."""
    runs: list[str] = []
    for m in _NAME_RUN.finditer(_POSSESSIVE.sub("", text)):
        words = m.group().split()
        if words[0] in _OPENERS:
            words = words[1:]
        run = " ".join(words)
        if run and run not in runs:
            runs.append(run)
    return runs


def digit_runs(text: str) -> list[str]:
    """The runs of digits in `text`, in order, each once: "5,000" is "5" and "000"."""
    return list(dict.fromkeys(_DIGITS.findall(text)))


def unsupported(claim: str, pool: str) -> list[str]:
    """The name runs and digit runs of `claim` that `pool` does not hold: a name run must stand in it as
    words (case aside), a digit run as a whole run of digits."""
    low = pool.lower()
    names = [r for r in name_runs(claim) if not re.search(rf"(?<!\w){re.escape(r.lower())}(?!\w)", low)]
    digits = set(digit_runs(pool))
    return names + [d for d in digit_runs(claim) if d not in digits]
