"""Who holds which office, read from the articles' own appositions ("Estonian Foreign Minister Margus
Tsahkna", "Andrij Sybiha, Kyiv's foreign minister", "Chelsea manager Jose Mourinho", "CBI director general
Sir Digby Jones"), so a question about "Estonia's foreign minister" or "the Chelsea boss" can search for
the name the article uses. News copy names a person by role at least as often as by name; without this,
the sentence with the name and the question with the role share no rare word. A role is qualified by a
country (rag/places.py) or by the organisation, team or company named right before it, as written.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable

from rag.lexical import MONTH_NAMES, WEEKDAY_NAMES, stopwords
from rag.places import canonical, countries, unaccented

# canonical role: the ways news copy writes it (lower case), for the offices news on any subject names people
# by: government, business, sport, the arts, science and the courts. "Top diplomat" is a foreign minister for a
# country and the foreign policy chief for the EU: one role covers both.
ROLES: dict[str, tuple[str, ...]] = {
    "foreign minister": ("foreign minister", "foreign secretary", "foreign affairs minister",
                         "minister of foreign affairs", "minister for foreign affairs", "top diplomat",
                         "chief diplomat", "secretary of state", "foreign policy chief", "high representative"),
    "deputy foreign minister": ("deputy foreign minister", "vice foreign minister"),
    "defence minister": ("defence minister", "defense minister", "defence secretary", "defense secretary",
                         "secretary of defense", "secretary of defence", "defense chief", "defence chief",
                         "minister of defence", "minister of defense"),
    "finance minister": ("finance minister", "minister of finance", "chancellor of the exchequer",
                         "treasury secretary", "finance secretary"),
    "interior minister": ("interior minister", "minister of the interior", "home secretary", "home minister"),
    "trade minister": ("trade minister", "trade secretary", "commerce secretary", "minister of trade"),
    "health minister": ("health minister", "health secretary", "minister of health"),
    "education minister": ("education minister", "education secretary", "minister of education"),
    "culture minister": ("culture minister", "culture secretary", "minister of culture"),
    "deputy prime minister": ("deputy prime minister",),
    "prime minister": ("prime minister", "premier"),
    "president": ("president",),
    "vice president": ("vice president", "vice-president"),
    "chancellor": ("chancellor",),
    "secretary general": ("secretary general", "secretary-general"),
    "general secretary": ("general secretary",),
    "spokesperson": ("spokesperson", "spokesman", "spokeswoman"),
    "envoy": ("special envoy", "envoy", "negotiator"),
    "ambassador": ("ambassador",),
    "general": ("general", "commander"),
    "minister": ("minister",),
    "mayor": ("mayor",),
    "governor": ("governor",),
    "senator": ("senator",),
    "judge": ("judge",),
    "chief executive": ("chief executive", "chief executive officer", "ceo", "managing director"),
    "chairman": ("chairman", "chairwoman", "chairperson"),
    "finance director": ("finance director", "chief financial officer", "cfo"),
    "founder": ("founder", "co-founder"),
    "director": ("director", "director general", "director-general", "executive director"),
    "chief economist": ("chief economist",),
    "manager": ("manager",),
    "coach": ("coach", "head coach"),
    "captain": ("captain", "skipper"),
    "editor": ("editor", "editor-in-chief"),
    "professor": ("professor",),
}
_MINISTERS = ("foreign minister", "deputy foreign minister", "defence minister", "finance minister",
              "interior minister", "trade minister", "health minister", "education minister", "culture minister",
              "prime minister", "deputy prime minister", "minister")
# Roles a looser question word also covers: "Which Polish minister", "NATO's chief", "Finnish leader",
# "the Chelsea boss".
_COVERS: dict[str, tuple[str, ...]] = {
    "minister": _MINISTERS,
    "leader": ("president", "prime minister", "chancellor", "secretary general", "general secretary"),
    "chief": ("secretary general", "foreign minister", "defence minister", "chief executive", "director"),
    "head": ("secretary general", "president", "prime minister", "chief executive", "director", "chairman"),
    "diplomat": ("foreign minister", "deputy foreign minister", "ambassador", "envoy"),
    "boss": ("chief executive", "chairman", "manager", "coach", "director"),
}
# Words that are an office only with an organisation or place beside them: "the general election", "judge
# the film" and "a centrifugal governor" name nobody, "Which German general" and "the Supreme Court judge" do.
_NEEDS_QUALIFIER = {"general", "judge", "governor"}
_PHRASES = sorted({p: r for r, ps in ROLES.items() for p in ps}.items(), key=lambda kv: -len(kv[0]))
# Every way an office is written, longest first, as a regular expression alternation (for other modules'
# patterns: "the new chairman", "Coach Eddie Jones").
OFFICES = "|".join(re.escape(p) for p, _ in _PHRASES)
_ROLE_RE = re.compile(rf"\b({OFFICES})\b", re.I)
_ROLE_OF = dict(_PHRASES)
_LOOSE_RE = re.compile(r"\b(" + "|".join(_COVERS) + r")\b(?![’'])", re.I)
_LEADS_RE = re.compile(r"\bwho\s+(leads|heads|runs|led|headed|ran)\s+(?:the\s+)?([\w.’']+)", re.I)
_NAME_WORD = r"(?:[A-Z][\w’'\-]+|(?:von|van|de|der|da|di|al|bin)\b)"
_NAME_AFTER = re.compile(rf"\A,?\s+((?:[A-Z][\w’'\-]+)(?:\s+{_NAME_WORD}){{1,3}})")
_NAME_BEFORE = re.compile(rf"((?:[A-Z][\w’'\-]+)(?:\s+{_NAME_WORD}){{1,3}}),\s+(?:the\s+)?[\w’'\. ]{{0,30}}\Z")
_QUALIFIER_WORDS = 3
# Words that may stand between a qualifier and its role: "Estonia's outgoing foreign minister".
_TITLE_WORDS = {"outgoing", "former", "acting", "then", "new", "interim", "incoming", "current", "the", "deputy",
                "top", "senior", "brigadier", "major", "lieutenant", "vice", "special", "chief", "assistant", "joint",
                "ex"}
# Words that open a sentence capitalised but name nothing ("Meanwhile Chancellor Gordon Brown said").
_SENTENCE_ADVERBS = {"meanwhile", "however", "also", "still", "yet", "instead", "now", "later", "earlier",
                     "today", "yesterday", "tomorrow", "separately", "elsewhere", "finally", "first", "last",
                     "next", "previously", "recently", "currently", "indeed", "moreover", "furthermore",
                     "nevertheless", "overall", "ultimately", "eventually", "originally", "initially"}
_POSSESSIVE = re.compile(r"['’]s?\Z")
_CALENDAR = frozenset(w.lower() for w in (*WEEKDAY_NAMES, *MONTH_NAMES))
_NAME_NEXT = re.compile(r"\s+[A-Z]")  # a capitalised word right after a role
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
            if not candidates and qualifier in countries() and len(roles) <= 2:  # "Russian deputy foreign
                # minister", on file unqualified; not for loose words ("Estonia's leader" is no unnamed president),
                # nor for a company or team (the one chairman on file is some other firm's)
                candidates = self._sole_unqualified(roles)
            if qualifier is None and len(candidates) > 1:
                continue  # "the chairman" with several on file: no guess
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
        first, last = (name.split()[0], name.split()[-1]) if name else ("", "")
        # a surname has lower-case letters and is no place ("Labour MP", "Berlin"); a person's name does not
        # open with a people's adjective ("American Civil War")
        if (name and len(name.split()) > 1 and not canonical(last) and not last.isupper()
                and canonical(first) in (None, first.lower())):
            out.append((qualifier, role, name))
    return out


def without_roles(text: str) -> str:
    """`text` with every office and role word blanked: "Secretary General" and "Prime Minister" are
    capitalised in a question, but they are no names the evidence must hold."""
    return _LOOSE_RE.sub(" ", _ROLE_RE.sub(" ", text))


def asked_roles(question: str) -> list[tuple[tuple[int, int], str | None, set[str]]]:
    """The roles a question names: (span with its qualifier, place or organisation if given, roles)."""
    asked = []
    taken: list[tuple[int, int]] = []
    for m in _ROLE_RE.finditer(question):
        role = _ROLE_OF[m.group(1).lower()]
        roles = {role, *_COVERS.get(role, ())} | ({"foreign minister"} if role == "deputy foreign minister" else set())
        taken.append(m.span())
        qualifier, start = _qualifier_span(question, m.start())
        if qualifier is None:
            qualifier = _of_qualifier(question[m.end() :])
        if qualifier is None and (role in _NEEDS_QUALIFIER or _NAME_NEXT.match(question, m.end())):
            continue  # "the general election"; "Did President Bush ...", the title of a name the question
            # gives, or a name of its own ("the Premier League")
        asked.append(((start, m.end()), qualifier, roles))
    for m in _LEADS_RE.finditer(question):  # "Who leads NATO?" asks for NATO's leader
        qualifier = _qualifier_of(m.group(2))  # NATO, the EU, a country, a company
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
    qualifier, start = _qualifier_at(text[max(0, role_start - 60) : role_start])
    return qualifier, role_start - min(role_start, 60) + start if qualifier else role_start


_NOT_SURNAMES = {"Said", "Says", "Told", "And", "The", "In", "On", "At", "For", "Of"}


def _clean(name: str) -> str:
    """The name up to the first word that cannot be part of it: a headline's "Mark Rutte Says Allies ..."."""
    words = name.split()
    cut = next((i for i, w in enumerate(words) if i and w in _NOT_SURNAMES), len(words))
    return re.sub(r"['’]s$", "", " ".join(words[:cut])).strip()


def _qualifier(before: str) -> str | None:
    """The place or organisation in the few words before a role: "Estonian", "Poland's", "NATO", "Chelsea"."""
    return _qualifier_at(before)[0]


def _qualifier_at(before: str) -> tuple[str | None, int]:
    """`_qualifier` and where it starts in `before`. A place is folded to its country ("Kyiv's" -> ukraine);
    any other run of capitalised words right before the role names an organisation, team or company,
    lower case ("the CBI director general", "Manchester United's manager")."""
    words = list(re.finditer(r"[\w.’'&\-]+", before))[-_QUALIFIER_WORDS:]
    end = len(before)
    org: list[re.Match[str]] = []
    for i in range(len(words) - 1, -1, -1):
        w = words[i]
        if before[w.end() : end].strip():
            break  # a comma or a quote between: "On Tuesday, Foreign Minister ..."
        word = w.group()
        if word[-1:] in ".!?" and not _DOTTED.fullmatch(word):
            break  # "...arrived in Tallinn. Foreign Minister X": the place belongs to the sentence before
        if not org:
            for first in range(max(0, i - 2), i + 1):  # "United States", "U.S.", "Estonian"
                place = canonical(before[words[first].start() : w.end()])
                if place:
                    return place, words[first].start()
        bare = _POSSESSIVE.sub("", word)
        if bare[:1].isupper() and not _not_a_name(bare):
            org.append(w)
        elif org or bare.lower() not in _TITLE_WORDS:
            break
        end = w.start()
    if not org:
        return None, len(before)
    return " ".join(_POSSESSIVE.sub("", w.group()) for w in reversed(org)).lower(), org[-1].start()


def _qualifier_of(word: str) -> str | None:
    """The place or organisation one word names, if it does: "Estonia", "NATO", "Yukos"; not "the"."""
    place = canonical(word)
    bare = _POSSESSIVE.sub("", word)
    return place or (bare.lower() if bare[:1].isupper() and not _not_a_name(bare) else None)


def _not_a_name(word: str) -> bool:
    """A capitalised word that names nothing: the start of a sentence ("The", "Meanwhile"), a day or month."""
    low = word.lower()
    return (low in _TITLE_WORDS or low in _SENTENCE_ADVERBS or low in stopwords()
            or low in _CALENDAR)


def _of_qualifier(after: str) -> str | None:
    """ "the foreign minister of Estonia", "the chairman of Yukos" """
    m = re.match(r"\s+of\s+(?:the\s+)?([\w.’']+(?:\s+[A-Z][\w.’']+)?)", after)
    if not m:
        return None
    return canonical(m.group(1)) or _qualifier_of(m.group(1).split()[0])
