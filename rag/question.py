"""One parse of a question: what it asks for and what it is about, worked out once and shared by
evidence selection, the abstention checks and the answer check, instead of each re-reading the text."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from pydantic import BaseModel, ConfigDict

from rag import followup, qtypes
from rag.grounding import names
from rag.pertinence import OUTCOME_Q, SUCCESSION_Q, WHY
from rag.places import mentions as place_mentions
from rag.roles import Roles
from rag.schema import Turn


class RoleRef(BaseModel):
    """An office the question names ("Estonia's foreign minister") and who the articles say holds it."""

    model_config = ConfigDict(frozen=True)

    span: tuple[int, int]  # where in the question, qualifier included
    holders: tuple[str, ...]


class Question(BaseModel):
    """A question as the answer core sees it. Built by `parse`; read, never changed."""

    model_config = ConfigDict(frozen=True)

    text: str                       # as asked, whitespace collapsed
    query: str                      # what is searched: the text, or a follow-up with its context
    kind: str | None = None         # the answer kind: person, number, date, place, directive, name
    focus: str | None = None        # the noun a "what/which NOUN" question asks about ("agreement")
    event: str | None = None        # the event a where/when question names ("summit")
    names: tuple[str, ...] = ()     # capitalised words past the first
    places: tuple[str, ...] = ()    # places named, canonical ("estonia")
    dates: tuple[str, ...] = ()     # exact dates written ("April 11", "2024")
    roles: tuple[RoleRef, ...] = ()  # offices named that the articles give a holder for
    unfilled_roles: tuple[tuple[str, ...], ...] = ()  # offices of a named place nobody holds: how each is written
    expanded: str = ""              # the text plus the names of people it names by office
    asks_why: bool = False          # wants a reason
    asks_outcome: bool = False      # wants what was agreed or decided
    asks_successor: bool = False    # wants who replaces whom

    @property
    def follow_up(self) -> bool:
        """Searched with an earlier turn's context: its own words alone do not say what it is about."""
        return self.query != self.text

    def resolved_roles(self) -> list[tuple[tuple[int, int], list[str]]]:
        """The roles in the form `Roles.resolve` gives them."""
        return [(r.span, list(r.holders)) for r in self.roles]


# A word typed with shift held a letter too long ("WHat", "WHen did ...") is a typo, not a name or an
# acronym: an acronym is all capitals ("NATO") or ends in one small letter ("CDs").
_HELD_SHIFT = re.compile(r"\b([A-Z])([A-Z])([a-z]{2,})\b")


def normalise(text: str) -> str:
    """Whitespace collapsed and held-shift typos undone: what every later step reads."""
    return _HELD_SHIFT.sub(lambda m: m[1] + m[2].lower() + m[3], " ".join(text.split()))


def parse(text: str, history: Sequence[Turn] = (), expand: Callable[[str], str] | None = None,
          roles: Roles | None = None) -> Question:
    """Read the question once. `expand` and `roles` come from the collection (the retriever): without
    them the question is read on its words alone."""
    text = normalise(text)
    resolved = roles.resolve(text) if roles is not None else []
    return Question(
        text=text,
        query=followup.resolve(text, history),
        kind=qtypes.expected(text),
        focus=qtypes.focus(text),
        event=qtypes.event(text),
        names=tuple(sorted(names(text[1:]))),
        places=tuple(dict.fromkeys(place for _, place in place_mentions(text))),
        dates=tuple(dict.fromkeys(m.group() for m in qtypes.EXACT_DATE.finditer(text))),
        roles=tuple(RoleRef(span=span, holders=tuple(found)) for span, found in resolved),
        unfilled_roles=tuple(roles.unfilled(text)) if roles is not None else (),
        expanded=expand(text) if expand is not None else text,
        asks_why=bool(WHY.search(text)),
        asks_outcome=bool(OUTCOME_Q.search(text)),
        asks_successor=bool(SUCCESSION_Q.search(text)),
    )
