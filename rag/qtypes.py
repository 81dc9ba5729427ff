"""What kind of answer a question wants (a person, a number, a date), so evidence and answers that
cannot be of that kind rank lower. Classic question-answering typing, no knowledge of the articles."""

from __future__ import annotations

import re

from rag.grounding import names, numbers

_PERSON = re.compile(r"^\s*(who|whom|whose)\b|^\s*which\s+(\w+\s+){0,2}(official|minister|leader|general|envoy|"
                     r"spokes\w*|president|secretary|diplomat|head|chief|politician|person|man|woman|member)\b", re.I)
_NUMBER = re.compile(r"\bhow\s+(many|much|big|large|long|old|far|soon)\b|\bwhat\s+(percentage|share|level|"
                     r"number|amount|age|range|size)\b|\bby how\b", re.I)
_DATE = re.compile(r"^\s*when\b|\b(what|which)\s+(date|day|month|year)\b|\bon what date\b", re.I)
_DATE_WORDS = re.compile(r"\b(january|february|march|april|may|june|july|august|september|october|november|"
                         r"december|monday|tuesday|wednesday|thursday|friday|saturday|sunday|today|yesterday|"
                         r"tomorrow|week|weeks|month|months|year|years|\d{4})\b", re.I)
_NUMBER_WORDS = re.compile(r"\b(one|two|three|four|five|six|seven|eight|nine|ten|dozen|dozens|hundred|hundreds|"
                           r"thousand|thousands|million|billion|half|double|percent|weeks|months)\b", re.I)


def expected(question: str) -> str | None:
    if _DATE.search(question):
        return "date"
    if _NUMBER.search(question):
        return "number"
    if _PERSON.search(question):
        return "person"
    return None


def fits(text: str, kind: str | None, question: str) -> bool:
    """Does `text` hold something of the wanted kind that the question itself does not?"""
    if kind is None:
        return True
    if kind == "number":
        return bool(numbers(text) - numbers(question)) or bool(_NUMBER_WORDS.search(text))
    if kind == "date":
        return bool(_DATE_WORDS.search(text))
    asked = {n.lower() for n in names(question)}
    return any(n.lower() not in asked and len(n) > 2 for n in names(text[1:]))
