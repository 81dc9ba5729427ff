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
    """The runs of capitalised words in `text`, in order, each once. A possessive ends a run and is left
    off ("Poland's Foreign Minister" is "Poland" and "Foreign Minister"); a sentence-opening word from a
    short fixed list ("The", "He") is dropped from the front of its run."""
    runs: list[str] = []
    for m in _NAME_RUN.finditer(_POSSESSIVE.sub(" | ", text)):
        words = m.group().split()
        if words[0] in _OPENERS:
            words = words[1:]
        run = " ".join(words)
        if run and run not in runs:
            runs.append(run)
    return runs


def _holds(pool: str, run: str, whole: bool) -> bool:
    return re.search(rf"(?<!\w){re.escape(run)}" + (r"(?!\w)" if whole else ""), pool) is not None


def digit_runs(text: str) -> list[str]:
    """The runs of digits in `text`, in order, each once: "5,000" is "5" and "000"."""
    return list(dict.fromkeys(_DIGITS.findall(text)))


def unsupported(claim: str, pool: str) -> list[str]:
    """The name runs and digit runs of `claim` that `pool` does not hold. A name run must begin a word
    there, case aside ("Russia" in "Russian", "Rutte" in "Rutte's", not "Ford" in "Ashford"); one in
    capitals must stand there whole ("EU" is not in "Europe"), and so must a digit run ("20", "120")."""
    low = " ".join(pool.lower().split())
    names = [r for r in name_runs(claim) if not _holds(low, r.lower(), whole=r.isupper())]
    digits = set(digit_runs(pool))
    return names + [d for d in digit_runs(claim) if d not in digits]
