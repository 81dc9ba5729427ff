"""Countries, their adjectives and the capitals news copy uses for them, folded to one word.

A reader asks about "Estonia's foreign minister" or "German soldiers"; the article says "Estonian"
or "Berlin". Folding these to one canonical word lets lexical matching, name checks and role
lookups treat them as the same place. General knowledge about the world, nothing about any article.
"""

from __future__ import annotations

import json
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

# Every other country of the world, by name, the adjective for its people and other English spellings
# (scripts/world_places.py writes it from the countryinfo package). Its spellings are places only when
# capitalised: "Chad", "Jordan" and "Turkey" are also a name, a river and a bird.
OUT_FILE = Path(__file__).with_name("world_places.json")

# canonical: other spellings, adjectives, and capitals used as metonyms ("Moscow said"): the countries news
# copy names most, with the capitals it writes for them.
# Brussels is left out on purpose: in news it is the venue far more often than Belgium.
_TABLE: dict[str, tuple[str, ...]] = {
    "usa": ("united states", "u.s.", "u.s.a.", "us", "usa", "america", "american", "americans", "washington"),
    "britain": ("united kingdom", "u.k.", "uk", "great britain", "british", "briton", "britons", "england",
                "english", "london"),
    "eu": ("european union", "e.u.", "eu"),
    "un": ("united nations", "u.n.", "un"),
    "nato": ("north atlantic treaty organization",),
    "russia": ("russian", "russians", "moscow", "kremlin", "russian federation"),
    "ukraine": ("ukrainian", "ukrainians", "kyiv", "kiev"),
    "germany": ("german", "germans", "berlin"),
    "france": ("french", "paris"),
    "spain": ("spanish", "madrid"),
    "italy": ("italian", "italians", "rome"),
    "poland": ("polish", "pole", "poles", "warsaw"),
    "estonia": ("estonian", "estonians", "tallinn"),
    "latvia": ("latvian", "latvians", "riga"),
    "lithuania": ("lithuanian", "lithuanians", "vilnius"),
    "finland": ("finnish", "finn", "finns", "helsinki"),
    "sweden": ("swedish", "swede", "swedes", "stockholm"),
    "norway": ("norwegian", "norwegians", "oslo"),
    "denmark": ("danish", "dane", "danes", "copenhagen"),
    "netherlands": ("dutch", "holland", "the hague", "amsterdam"),
    "belgium": ("belgian", "belgians"),
    "hungary": ("hungarian", "hungarians", "budapest"),
    "romania": ("romanian", "romanians", "bucharest"),
    "bulgaria": ("bulgarian", "bulgarians", "sofia"),
    "czechia": ("czech", "czech republic", "czechs", "prague"),
    "slovakia": ("slovak", "slovakian", "bratislava"),
    "slovenia": ("slovenian", "slovene", "ljubljana"),
    "croatia": ("croatian", "croat", "zagreb"),
    "greece": ("greek", "greeks", "athens"),
    "turkey": ("turkish", "turks", "turkiye", "türkiye", "ankara"),
    "portugal": ("portuguese", "lisbon"),
    "ireland": ("irish", "dublin"),
    "austria": ("austrian", "vienna"),
    "switzerland": ("swiss", "bern"),
    "canada": ("canadian", "canadians"),
    "mexico": ("mexican", "mexicans"),
    "china": ("chinese", "beijing"),
    "japan": ("japanese", "tokyo"),
    "india": ("indian", "indians", "new delhi"),
    "iran": ("iranian", "iranians", "tehran"),
    "iraq": ("iraqi", "iraqis", "baghdad"),
    "israel": ("israeli", "israelis"),
    "syria": ("syrian", "syrians", "damascus"),
    "belarus": ("belarusian", "belarusians", "minsk"),
    "georgia": ("georgian", "georgians", "tbilisi"),
    "moldova": ("moldovan", "moldovans", "chisinau"),
    "serbia": ("serbian", "serb", "serbs", "belgrade"),
    "albania": ("albanian", "albanians", "tirana"),
    "iceland": ("icelandic", "reykjavik"),
    "luxembourg": ("luxembourgish",),
    "montenegro": ("montenegrin",),
    "australia": ("australian", "australians", "canberra"),
    "korea": ("korean", "koreans", "seoul"),
    "pakistan": ("pakistani", "pakistanis", "islamabad"),
    "egypt": ("egyptian", "egyptians", "cairo"),
    "brazil": ("brazilian", "brazilians", "brasilia"),
    # States that no longer exist, which archives and histories still name (the world file holds only
    # today's countries).
    "ussr": ("soviet union", "u.s.s.r.", "ussr", "soviet", "soviets"),
    "czechoslovakia": ("czechoslovak",),
}
# The capitals above: a city, where the table folds them into their country.
CAPITALS = frozenset({
    "washington", "london", "moscow", "kyiv", "kiev", "berlin", "paris", "madrid", "rome", "warsaw", "tallinn",
    "riga", "vilnius", "helsinki", "stockholm", "oslo", "copenhagen", "the hague", "amsterdam", "budapest",
    "bucharest", "sofia", "prague", "bratislava", "ljubljana", "zagreb", "athens", "ankara", "lisbon", "dublin",
    "vienna", "bern", "beijing", "tokyo", "new delhi", "tehran", "baghdad", "damascus", "minsk", "tbilisi",
    "chisinau", "belgrade", "tirana", "reykjavik", "canberra", "seoul", "islamabad", "cairo", "brasilia",
})
# Spellings that are only a place when capitalised ("US" but not "us", "UN" but not "un-").
_CASE_SENSITIVE = {"us", "un", "eu", "uk", "usa", "pole", "poles", "turks", "finn", "finns", "dane", "danes",
                   "georgia", "georgian", "georgians", "washington", "sofia", "english", "china", "turkey",
                   "indian", "indians", "greek", "swiss"}
# Of those, the acronyms are a place only in capitals: "US" is the country, a sentence-initial "Us" is not.
_ACRONYMS = {"us", "un", "eu", "uk", "usa"}
# An apostrophe form: "Estonia's", "Russia’s", "U.S.'s".
_POSSESSIVE = re.compile(r"(?:['’]s)\b")


def hand_table() -> dict[str, tuple[str, ...]]:
    """The hand-kept countries (scripts/world_places.py leaves them out of the world file)."""
    return dict(_TABLE)


@lru_cache(maxsize=1)
def _world() -> dict[str, list[str]]:
    return json.loads(OUT_FILE.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _capitalised_only() -> frozenset[str]:
    """Spellings that are a place only when capitalised: the hand-picked ones and every world spelling."""
    return frozenset(_CASE_SENSITIVE | {f for c, fs in _world().items() for f in (c, *fs)})


@lru_cache(maxsize=1)
def _lookup() -> dict[str, str]:
    table: dict[str, str] = {}
    for canonical, forms in [*_TABLE.items(), *_world().items()]:
        table.setdefault(canonical, canonical)
        for form in forms:
            table.setdefault(form, canonical)
    return table


@lru_cache(maxsize=1)
def _pattern() -> re.Pattern[str]:
    return _alternation(sorted(_lookup(), key=len, reverse=True))


@lru_cache(maxsize=1)
def _phrase_pattern() -> re.Pattern[str]:
    """Only the spellings that are not one plain word ("United States", "U.S."): few, so fast."""
    return _alternation(sorted((f for f in _lookup() if not f.isalpha()), key=len, reverse=True))


def _alternation(forms: list[str]) -> re.Pattern[str]:
    # Dotted abbreviations end in a period, so the word boundary is checked by hand after them.
    return re.compile(rf"(?<![\w.])({_trie(forms)})(?![\w])", re.IGNORECASE)


def _trie(forms: list[str]) -> str:
    """One pattern for many spellings, branching letter by letter: it matches what the alternation of
    them all longest first would, without trying every spelling at every position (the world's ~1,000
    spellings made that 7x slower)."""
    root: dict = {}
    for form in forms:
        node = root
        for ch in form.lower():
            node = node.setdefault(ch, {})
        node[""] = {}

    def walk(node: dict) -> str:
        branches = [re.escape(ch) + walk(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return walk(root)


def canonical(word: str) -> str | None:
    """The canonical country for a word or phrase ("Estonian" -> "estonia"), else None."""
    w = _POSSESSIVE.sub("", word.strip()).strip(",;:!?\"“”'()")
    if w.lower() not in _lookup():  # "Washington." at the end of a sentence
        w = w.rstrip(".")
    found = _lookup().get(w.lower())
    if found and not _cased_as_place(w):
        return None
    return found


def _cased_as_place(word: str) -> bool:
    """False for a spelling that is a place only when capitalised and is not: "us", "turkey", "Us"."""
    low = word.lower()
    if low in _ACRONYMS:
        return word.isupper()
    return low not in _capitalised_only() or word[:1].isupper()


def fold(text: str) -> str:
    """Replace every place spelling in `text` by its canonical word (for matching only, never shown)."""
    return _pattern().sub(_swap, text)


def fold_phrases(text: str) -> str:
    """`fold` for the spellings of more than one word or with dots; single words go through `word`."""
    return _phrase_pattern().sub(_swap, text)


@lru_cache(maxsize=65536)
def word(token: str) -> str | None:
    """The canonical place for one word as written ("Estonian" -> "estonia", "us" -> None)."""
    found = _lookup().get(token.lower())
    return found if found and _cased_as_place(token) else None


def _swap(m: re.Match[str]) -> str:
    written = m.group(1)
    return _lookup()[written.lower()] if _cased_as_place(written) else written


@lru_cache(maxsize=1)
def countries() -> frozenset[str]:
    """Every canonical place word ("estonia", "nigeria", "eu")."""
    return frozenset(_lookup().values())


def is_place(word: str) -> bool:
    return canonical(word) is not None


def mentions(text: str) -> list[tuple[str, str]]:
    """(as written, canonical) for every place in `text`; "United States" is one mention, not two names."""
    out = []
    for m in _pattern().finditer(text):
        word = m.group(1)
        if not _cased_as_place(word):
            continue
        out.append((word, _lookup()[word.lower()]))
    return out


def unaccented(text: str) -> str:
    """Without accents: "Jean-Noël" and "Jean-Noel" are written both ways in news copy."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()

