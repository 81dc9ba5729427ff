"""Does evidence on the articles' topic speak to the question's point? The language tests behind the
checks (rag/checks.py) that catch a plausible sentence answering some other question: few of the
question's words, none of the thing asked about, an event still to come, no agreement, successor or
reason where one is asked for, a thing the question says did not happen, a number the evidence gives as
another."""

from __future__ import annotations

import re
from typing import Protocol

from rag import qtypes
from rag.lexical import tokenize
from rag.roles import OFFICES, Roles
from rag.schema import Document

WHY = re.compile(r"^\s*why\b|\bwhat\s+(reason|explanation|justification)\b|\bon what grounds\b", re.I)
QUOTATION = re.compile(r"“[^”]*”|\"[^\"]*\"")


class Corpus(Protocol):
    """What abstention needs to know about the collection (the retriever provides it)."""

    @property
    def roles(self) -> Roles: ...

    def idf(self, token: str) -> float: ...

    def known(self, token: str) -> bool: ...

    def terms(self, query: str) -> list[tuple[frozenset[str], float]]: ...

    def resemblance(self, word: str, text: str) -> float: ...

    def document(self, doc_id: str) -> Document: ...

    def expand(self, query: str) -> str: ...


# "What did the envoys agree on?" asks for an outcome: evidence that they met, with no word of any
# agreement, deal or decision, does not say what came of it.
OUTCOME_Q = re.compile(r"^\s*(what|which)\b(\s+[\w’'\-]+){0,3}?\s+(did|do|does|will|would|could|have|has|had)\s+"
                       r"((?!(say|said|tell|told|warn|think|claim|report)\w*\b)[\w’'\-]+\s+){1,6}?"
                       r"(agree|decide|settle|sign)\b|"
                       r"\bwhat\s+(was|were|has been|have been)\s+(agreed|decided|signed)\b|"
                       r"\bwhat\s+(was|were|is|came of)\s+the\s+(outcome|result|results|upshot)\s+of\b",
                       re.I)
_OUTCOME = re.compile(r"\b(agree\w*|deal|deals|accords?|pacts?|truce|treaty|decid\w*|decisions?|signed|signing|"
                      r"consensus|settle\w*|arrangements?|compromise|conclu\w*)\b", re.I)
# "Who will replace Baerbock?" asks for a successor: evidence naming only Baerbock and whoever she
# criticised does not name one.
SUCCESSION_Q = re.compile(r"\b(replace[sd]?|replacing|succeed(s|ed)?|succeeding|take over from|took over from|"
                          r"successor|succession)\b", re.I)
_SUCCESSION = re.compile(r"\b(replac\w*|succe\w*|take[sn]? over|took over|taking over|incoming|designate|nominat\w*|"
                         rf"appoint\w*|nam(e|ed|es|ing) as|new ({OFFICES}|boss|head|chief|leader))\b", re.I)
# "Why did Kyiv reject the draft?" wants a reason, which news copy gives as a causal clause or in
# someone's own words; a sentence that only narrates the rejection gives none.
_CAUSE = re.compile(r"\b(because|since|due to|owing to|as a result|reasons?|so that|in order to|given that|thanks to|"
                    r"therefore|which means|in protest|citing|amid|fears?|concerns?|worr\w+|afraid|risk\w*|"
                    r"to (avoid|prevent|ensure|protect|stop|keep|force|pressure|show|signal))\b", re.I)
# "Who attended ...", "what did ...": past; "which chief is reported to be skipping ...": not.
_PAST_Q = re.compile(r"\b(did|was|were|had)\b|^\s*(who|what|which)(\s+(?!(is|are|has|have|will|would|be|been)\b)"
                     r"[\w’'\-]+){0,2}?\s+\w+ed\b", re.I)
_AHEAD = re.compile(r"\b(scheduled|planned|set|due|expected|slated)\s+(for|on|to)\b|\bwill\b|\bnext\b|\bupcoming\b"
                    r"|\bto be held\b", re.I)
# English negation: a negating word, or "n't" on an auxiliary ("not only" and "not just" add, not deny).
NEGATION = re.compile(r"\b(not(?!\s+(only|just|merely)\b)|no|never|no longer|cannot|nobody|none|neither|nor|"
                      r"without)\b|n[’']t\b", re.I)
# Words that deny by their meaning: "refused to pay", "failed to qualify", "unable to agree".
_DENYING = re.compile(r"\b(refus\w*|fail\w*|unable|declin\w*|reject\w*|den(y|ies|ied)|lack\w*)\b", re.I)


# A number written in figures, standing alone (not "X.25", "G8" or "$5bn"), with any ordinal, decade or
# percent ending.
_FIGURE = re.compile(r"(?<![\w.,$£€¥])(\d[\d,]*(?:\.\d+)?)(st|nd|rd|th|s|%| per ?cent)?(?![\w$£€¥])")
# A span of years ("2003-04", "1899–1902") stands for every year in it.
_YEAR_SPAN = re.compile(r"\b(1\d|20)(\d\d)\s*[-–/]\s*(\d\d|1\d\d\d|20\d\d)\b")


def figures(text: str) -> dict[str, str]:
    """The numbers a text writes in figures, each with its kind: a year (1000-2099), an ordinal ("18th"),
    a decade ("1990s"), a percentage, a decimal, or a whole number of so many digits ("3-digit")."""
    found: dict[str, str] = {}
    for m in _FIGURE.finditer(text):
        value, ending = m.group(1).replace(",", "").rstrip("."), m.group(2) or ""
        if ending == "s":
            kind = "decade"
        elif "%" in ending or "cent" in ending:
            kind = "percent"
        elif ending:
            kind = "ordinal"
        elif "." in value:
            kind = "decimal"
        elif len(value) == 4 and "1000" <= value <= "2099":
            kind = "year"
        else:
            kind = f"{len(value)}-digit"
        found[value] = kind
    for m in _YEAR_SPAN.finditer(text):
        first, last = int(m.group(1) + m.group(2)), m.group(3)
        end = int(last) if len(last) == 4 else first // 100 * 100 + int(last)
        found.update({str(y): "year" for y in range(first, end + 1) if 0 < end - first <= 10})
    return found


def swapped_numbers(question: str, text: str) -> dict[str, list[str]]:
    """The question's numbers that the evidence does not hold while it holds others of the same kind, each
    with those others: "the 83 constituency members" against "73 are elected", "Schedule 6" against
    "Schedule 5", "the late 18th century" against "the late 19th century". Evidence with no number of that
    kind may still answer ("in 2004" asked, "last year" written); one that puts another in its place speaks
    of something else."""
    asked, given = figures(question), figures(text)
    return {value: others for value, kind in asked.items() if value not in given
            and (others := [v for v, k in given.items() if k == kind])}


def names_outcome(text: str) -> bool:
    """Speaks of an agreement, deal or decision."""
    return bool(_OUTCOME.search(text))


def names_successor(text: str) -> bool:
    """Speaks of someone replacing, succeeding or being appointed."""
    return bool(_SUCCESSION.search(text))


def gives_cause(text: str) -> bool:
    """Gives a reason: a causal clause, or someone's own words."""
    return bool(_CAUSE.search(text) or QUOTATION.search(text))


def still_ahead(question: str, text: str) -> bool:
    """The question asks about a dated event in the past tense ("Who attended the April 11 meeting?")
    and the evidence speaks of that date as still to come ("the meeting scheduled for April 11"): the
    articles were written before it happened."""
    if not _PAST_Q.search(question) or _AHEAD.search(question):
        return False
    for date in {m.group() for m in qtypes.EXACT_DATE.finditer(question)}:
        for m in re.finditer(re.escape(date), text):
            if _AHEAD.search(text[max(0, m.start() - 40) : m.start()]):
                return True
    return False


def negated_words(text: str, n: int) -> list[list[str]]:
    """For each negation in `text`, the first `n` words after it (as `tokenize` gives them): what it denies."""
    return [tokenize(text[m.end() : m.end() + 40])[:n] for m in NEGATION.finditer(text)]


def affirms_negated(question: str, text: str) -> bool:
    """The question asks about what did not happen ("Who did she not work for?") and the evidence, with no
    negation in it, says that very thing did ("She worked for Swedex"): it answers the opposite question.
    The word the question negates must be in the evidence, so "not fit" against "an injury doubt" passes."""
    if NEGATION.search(text) or _DENYING.search(text):
        return False
    words = set(tokenize(text))
    return any(negated and negated[0] in words for negated in negated_words(question, 1))


def overlap(question: str, text: str, corpus: Corpus) -> float:
    """Share of the question's words, weighted by rarity, that `text` holds (a role the articles
    resolve to a person counts as that person's surname)."""
    units = corpus.terms(question)
    total = sum(w for _, w in units)
    words = set(tokenize(text))
    return sum(w for alternatives, w in units if alternatives & words) / total if total else 1.0
