"""Follow-up questions: "Why did he say that?" means little alone, so borrow the previous turn's subject."""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.grounding import names
from rag.schema import Turn

_PRONOUN = re.compile(r"\b(he|she|they|him|her|them|his|hers|their|it|its|that|this|those|these|there)\b", re.I)
_OPENER = re.compile(r"^\s*(and|also|what about|how about|why|so|but)\b", re.I)


def is_follow_up(question: str) -> bool:
    own_names = names(question[1:]) if len(question) > 1 else set()
    return bool(_OPENER.search(question) and not own_names) or bool(_PRONOUN.search(question) and not own_names)


def resolve(question: str, history: Sequence[Turn]) -> str:
    """The question to search with: standalone questions stay as they are."""
    if not history or not is_follow_up(question):
        return question
    previous = history[-1]
    subject = " ".join(sorted(names(previous.question)))
    context = previous.question
    if previous.answer and not previous.answer.abstained:
        context += " " + re.sub(r"\s*\[\d+\]", "", previous.answer.answer)
    return f"{question} ({subject}; {context})" if subject else f"{question} ({context})"
