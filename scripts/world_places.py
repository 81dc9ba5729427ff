"""Write rag/world_places.json: every country's name, the adjective for its people and its other English
spellings, so that rag/places.py knows the whole world's countries, not only the hand-kept table of the
ones news copy names most ("Nigerian", "Saudi Arabia", "Ivory Coast", "Peruvian").

The data come from `countryinfo` (MIT, https://github.com/porimol/countryinfo), which the `test` extra
installs; the app itself reads only the JSON this writes. Countries the hand-kept table in rag/places.py
already holds (by a name, adjective or spelling) are left to it. Capitals are left out: outside the hand
table too many are people's or other towns' names (Victoria, Hamilton, Kingston, Georgetown).

    .venv/bin/python scripts/world_places.py           # rewrite the file
    .venv/bin/python scripts/world_places.py --check   # exit 1 if the file is not what this would write
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rag.places import OUT_FILE, hand_table  # noqa: E402

_SPELLING = re.compile(r"^[A-Za-z][A-Za-z'’.\- ]+$")  # English letters: no native scripts, no "Côte" twice
# A one-word other spelling shorter than this is an ISO code ("NG", "NGA", "AND") or a word that is more
# often a surname ("Mann", the Isle of Man); "Congo", "Myanmar" and "Gambia" are kept.
MIN_WORD_SPELLING = 5
_PEOPLE_ENDINGS = ("an", "i", "er", "ino", "ot", "on")  # "Nigerian(s)", "Saudi(s)", "Cypriot(s)", "Filipino(s)"


def plural(demonym: str) -> str | None:
    """The people: "Nigerian" -> "Nigerians"; "Japanese", "Manx", "Greenlandic" take no -s."""
    return demonym + "s" if demonym.lower().endswith(_PEOPLE_ENDINGS) else None


def forms(entry: dict) -> list[str]:
    """Every English way the entry's country is written, lower case, its name first."""
    out = [entry["name"]]
    for demonym in (entry.get("demonym") or "").split(","):
        demonym = demonym.strip()
        if demonym and demonym != entry["name"] and _SPELLING.match(demonym):
            out += [demonym, *filter(None, [plural(demonym)])]
    for spelling in entry.get("altSpellings") or []:
        if _SPELLING.match(spelling) and (" " in spelling or len(spelling) >= MIN_WORD_SPELLING):
            out.append(spelling)
    seen: dict[str, None] = {}
    for f in out:
        seen.setdefault(" ".join(f.lower().split()), None)
    return list(seen)


def build() -> dict[str, list[str]]:
    from countryinfo import CountryInfo

    hand = {f for c, fs in hand_table().items() for f in (c, *fs)}
    taken = set(hand)
    table: dict[str, list[str]] = {}
    for _, entry in sorted(CountryInfo.all().items()):
        if not entry.get("name"):
            continue
        found = forms(entry)
        if any(f in hand for f in found):
            continue  # the hand table has this country, with the capital news copy uses for it
        if found[0] in taken:
            continue  # one country listed twice (Burma, Myanmar): the first keeps the spellings
        new = [f for f in found if f not in taken]  # "Dominican" stays Dominica's, listed first
        taken.update(new)
        table[found[0]] = new[1:]
    return table


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if the file differs from what would be written")
    args = ap.parse_args()
    text = json.dumps(build(), indent=1, ensure_ascii=False, sort_keys=True) + "\n"
    if args.check:
        same = OUT_FILE.is_file() and OUT_FILE.read_text(encoding="utf-8") == text
        print(f"{OUT_FILE.relative_to(ROOT)} is {'current' if same else 'stale: run scripts/world_places.py'}")
        return 0 if same else 1
    OUT_FILE.write_text(text, encoding="utf-8")
    print(f"wrote {OUT_FILE.relative_to(ROOT)}: {len(json.loads(text))} countries")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
