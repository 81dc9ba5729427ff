"""Who holds which office, read from the articles' own appositions ("Estonian Foreign Minister Margus
Tsahkna", "Andrij Sybiha, Kyiv's foreign minister"), so a question about "Estonia's foreign minister"
can search for the name the article uses. News copy names a person by role at least as often as by
name; without this, the sentence with the name and the question with the role share no rare word.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable

from rag.places import canonical, unaccented

# canonical role: the ways news copy writes it (lower case). "Top diplomat" is a foreign minister for a
# country and the foreign policy chief for the EU: one role covers both.
ROLES: dict[str, tuple[str, ...]] = {
    "foreign minister": ("foreign minister", "foreign secretary", "foreign affairs minister",
                         "minister of foreign affairs", "minister for foreign affairs", "top diplomat",
                         "chief diplomat", "secretary of state", "foreign policy chief", "high representative"),
    "deputy foreign minister": ("deputy foreign minister", "vice foreign minister"),
    "defence minister": ("defence minister", "defense minister", "defence secretary", "defense secretary",
                         "secretary of defense", "secretary of defence", "defense chief", "defence chief",
                         "pentagon chief", "minister of defence", "minister of defense"),
    "prime minister": ("prime minister", "premier"),
    "president": ("president",),
    "chancellor": ("chancellor",),
    "secretary general": ("secretary general", "secretary-general"),
    "spokesperson": ("spokesperson", "spokesman", "spokeswoman"),
    "envoy": ("special envoy", "envoy", "negotiator"),
    "ambassador": ("ambassador",),
    "general": ("general", "commander"),
    "minister": ("minister",),
}
# Roles a looser question word also covers: "Which Polish minister", "NATO's chief", "Finnish leader".
_COVERS: dict[str, tuple[str, ...]] = {
    "minister": ("foreign minister", "deputy foreign minister", "defence minister", "prime minister", "minister"),
    "leader": ("president", "prime minister", "chancellor", "secretary general"),
    "chief": ("secretary general", "foreign minister", "defence minister"),
    "head": ("secretary general", "president", "prime minister"),
    "diplomat": ("foreign minister", "deputy foreign minister", "ambassador", "envoy"),
}
_ORGS = {"nato": "nato", "eu": "eu", "un": "un", "state department": "usa", "pentagon": "usa",
         "kremlin": "russia", "white house": "usa"}
_PHRASES = sorted({p: r for r, ps in ROLES.items() for p in ps}.items(), key=lambda kv: -len(kv[0]))
_ROLE_RE = re.compile(r"\b(" + "|".join(re.escape(p) for p, _ in _PHRASES) + r")\b", re.I)
_ROLE_OF = dict(_PHRASES)
_LOOSE_RE = re.compile(r"\b(" + "|".join(_COVERS) + r")\b(?![’'])", re.I)
_LEADS_RE = re.compile(r"\bwho\s+(leads|heads|runs|led|headed|ran)\s+(?:the\s+)?([\w.’']+)", re.I)
_NAME_WORD = r"(?:[A-Z][\w’'\-]+|(?:von|van|de|der|da|di|al|bin)\b)"
_NAME_AFTER = re.compile(rf"\A,?\s+((?:[A-Z][\w’'\-]+)(?:\s+{_NAME_WORD}){{1,3}})")
_NAME_BEFORE = re.compile(rf"((?:[A-Z][\w’'\-]+)(?:\s+{_NAME_WORD}){{1,3}}),\s+(?:the\s+)?[\w’'\. ]{{0,30}}\Z")
_QUALIFIER_WORDS = 3
_DOTTED = re.compile(r"(?:[A-Za-z]\.){2,}")  # "U.S.", "U.K.": a period that does not end a sentence


class Roles:
    """(place or organisation, role) -> the names the articles give for it, most mentioned first."""

    def __init__(self, table: dict[tuple[str | None, str], Counter[str]] | None = None) -> None:
        self.table: dict[tuple[str | None, str], Counter[str]] = table or defaultdict(Counter)

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> "Roles":
        roles = cls(defaultdict(Counter))
        for text in texts:
            for qualifier, role, name in mentions(text):
                roles.table[(qualifier, role)][name] += 1
        return roles

    def to_json(self) -> list[list]:
        return [[q, r, dict(names)] for (q, r), names in self.table.items()]

    @classmethod
    def from_json(cls, rows: list[list]) -> "Roles":
        return cls(defaultdict(Counter, {(q, r): Counter(names) for q, r, names in rows}))

    def names_for(self, question: str, limit: int = 2) -> list[str]:
        """Names of the people the question refers to by role, if the articles say who holds it."""
        return [name for _, names in self.resolve(question, limit) for name in names]

    def resolve(self, question: str, limit: int = 2) -> list[tuple[tuple[int, int], list[str]]]:
        """For each role the question names ("Estonia's foreign minister"): its span in the question
        (qualifier included) and the names on file for it, most mentioned first."""
        found: list[tuple[tuple[int, int], list[str]]] = []
        seen: set[str] = set()
        for span, qualifier, roles in asked_roles(question):
            candidates: Counter[str] = Counter()
            for (q, r), names in self.table.items():
                if r in roles and (qualifier is None or q == qualifier):
                    candidates.update(names)
            if not candidates and qualifier is not None and len(roles) <= 2:  # "Russian deputy foreign minister",
                # on file unqualified; not for loose words ("Estonia's leader" is no unnamed president)
                candidates = self._sole_unqualified(roles)
            if qualifier is None and len(candidates) > limit:
                continue  # "the deputy foreign minister" with many on file: no guess
            chosen = [n for n, _ in candidates.most_common(limit) if n not in seen and n.split()[-1] not in question]
            if chosen:
                seen.update(chosen)
                found.append((span, chosen))
        return found

    def unfilled(self, question: str) -> list[tuple[str, ...]]:
        """For each office of a named place the question asks about ("Lithuania's foreign minister") that
        the articles never name a holder for: the ways that office is written."""
        filled = {span for span, _ in self.resolve(question)}
        return [tuple(p for r in sorted(roles) for p in ROLES[r])
                for span, qualifier, roles in asked_roles(question)
                if qualifier is not None and span not in filled
                and not any(r == role and q == qualifier for q, role in self.table for r in roles)]

    def _sole_unqualified(self, roles: set[str]) -> Counter[str]:
        """The one holder on file without a place, for the most specific of `roles` that has exactly one
        ("deputy foreign minister" before the "foreign minister" it also covers). Someone on file for
        another place ("US Defense Secretary Pete Hegseth") is not borrowed for this one."""
        elsewhere = {_surname(n) for (q, r), names in self.table.items() if r in roles and q for n in names}
        for role in sorted(roles, key=len, reverse=True):
            names = Counter({n: c for (q, r), found in self.table.items() if r == role and q is None
                             for n, c in found.items() if _surname(n) not in elsewhere})
            if len(names) == 1:
                return names
        return Counter()


def _surname(name: str) -> str:
    """The last word, without accents: "Jean-Noël Barrot" and "Jean-Noel Barrot" are one person."""
    return unaccented(name.split()[-1].lower())


def mentions(text: str) -> list[tuple[str | None, str, str]]:
    """(qualifier, role, full name) for every role written next to a name in `text`."""
    out = []
    for m in _ROLE_RE.finditer(text):
        role = _ROLE_OF[m.group(1).lower()]
        before = text[max(0, m.start() - 60) : m.start()]
        qualifier = _qualifier(before)
        after = _NAME_AFTER.match(text[m.end() : m.end() + 60])
        name = after.group(1) if after else None
        if name is None:  # "Andrij Sybiha, Kyiv's foreign minister"
            prior = _NAME_BEFORE.search(before)
            name = prior.group(1) if prior else None
        name = _clean(name) if name else None
        if name and len(name.split()) > 1 and not canonical(name.split()[-1]):
            out.append((qualifier, role, name))
    return out


def asked_roles(question: str) -> list[tuple[tuple[int, int], str | None, set[str]]]:
    """The roles a question names: (span with its qualifier, place or organisation if given, roles)."""
    asked = []
    taken: list[tuple[int, int]] = []
    for m in _ROLE_RE.finditer(question):
        role = _ROLE_OF[m.group(1).lower()]
        roles = {role, *_COVERS.get(role, ())} | ({"foreign minister"} if role == "deputy foreign minister" else set())
        qualifier, start = _qualifier_span(question, m.start())
        if qualifier is None:
            qualifier = _of_qualifier(question[m.end() :])
        asked.append(((start, m.end()), qualifier, roles))
        taken.append(m.span())
    for m in _LEADS_RE.finditer(question):  # "Who leads NATO?" asks for NATO's leader
        word = m.group(2).lower().rstrip("’'s")
        qualifier = word if _ORGS.get(word) == word else canonical(m.group(2))  # NATO, the EU, a country
        if qualifier:
            asked.append(((m.start(1), m.end()), qualifier, set(_COVERS["leader"]) | set(_COVERS["head"])))
    for m in _LOOSE_RE.finditer(question):
        if any(s <= m.start() < e for s, e in taken):
            continue
        qualifier, start = _qualifier_span(question, m.start())
        qualifier = qualifier or _of_qualifier(question[m.end() :])
        if qualifier:  # "Which Polish minister": a loose word needs a place to mean anyone
            asked.append(((start, m.end()), qualifier, set(_COVERS[m.group(1).lower()])))
    return asked


def _qualifier_span(text: str, role_start: int) -> tuple[str | None, int]:
    """The qualifier before a role and where the phrase starts (the role itself if there is none)."""
    before = text[max(0, role_start - 60) : role_start]
    qualifier = _qualifier(before)
    if qualifier is None:
        return None, role_start
    low = before.lower()
    for org, place in _ORGS.items():
        if place == qualifier and org in low:
            return qualifier, role_start - len(before) + low.rindex(org)
    words = list(re.finditer(r"[\w.’']+", before))[-_QUALIFIER_WORDS:]
    for w in words:
        if canonical(w.group()) == qualifier or w.group().lower().rstrip("’'s") in _ORGS:
            return qualifier, role_start - len(before) + w.start()
    return qualifier, role_start


_NOT_SURNAMES = {"Said", "Says", "Told", "And", "The", "In", "On", "At", "For", "Of"}


def _clean(name: str) -> str:
    """The name up to the first word that cannot be part of it: a headline's "Mark Rutte Says Allies ..."."""
    words = name.split()
    cut = next((i for i, w in enumerate(words) if i and w in _NOT_SURNAMES), len(words))
    return re.sub(r"['’]s$", "", " ".join(words[:cut])).strip()


def _qualifier(before: str) -> str | None:
    """The place or organisation in the few words before a role: "Estonian", "Poland's", "NATO"."""
    words = re.findall(r"[\w.’']+", before)[-_QUALIFIER_WORDS:]
    tail = " ".join(words).lower()
    for org, org_place in _ORGS.items():
        if re.search(rf"(?:^|\s){re.escape(org)}(?:['’]s)?$", tail):  # "NATO's", not "begun"
            return org_place
    for word in reversed(words):
        if word[-1:] in ".!?" and not _DOTTED.fullmatch(word):
            break  # "...arrived in Tallinn. Foreign Minister X": the place belongs to the sentence before
        place = canonical(word)
        if place:
            return place
        if word.lower() not in {"outgoing", "former", "acting", "then", "new", "interim", "the", "deputy",
                                "'s", "’s", "top", "senior", "brigadier", "major", "lieutenant", "vice", "special",
                                "chief"}:
            break
    return None


def _of_qualifier(after: str) -> str | None:
    """ "the foreign minister of Estonia" """
    m = re.match(r"\s+of\s+(?:the\s+)?([\w.’']+(?:\s+[A-Z][\w.’']+)?)", after)
    return canonical(m.group(1)) if m else None
