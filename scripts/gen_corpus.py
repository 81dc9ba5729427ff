#!/usr/bin/env python
"""Generate a synthetic news corpus offline, for benchmarks at scale.

Articles are recombined from the sentences of seeds/*.txt, with person names, places and numbers
varied so the vocabulary (and so BM25) is not just five articles repeated. Generation stops once the
articles chunk (with the project's own chunker and settings) into at least `--chunks` chunks.

    python scripts/gen_corpus.py OUT_DIR --chunks 100000
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.chunking import chunk_document, split_sentences  # noqa: E402
from rag.schema import Document  # noqa: E402

FIRST = ["Anna", "Marek", "Sofia", "Jonas", "Leila", "Tomasz", "Ines", "Pavel", "Chloé", "Dmytro", "Maria",
         "Kenji", "Aisha", "Lars", "Elena", "Omar", "Greta", "Nikos", "Zofia", "Mateo", "Olena", "Björn"]
LAST = ["Kowalski", "Lindqvist", "Moreau", "Petrenko", "Rossi", "Novák", "García", "Müller", "Haddad",
        "Jensen", "Popescu", "Silva", "Tanaka", "O'Brien", "Varga", "Nowak", "Costa", "Horvat", "Ivanova"]
PLACES = ["Vilnius", "Lisbon", "Gdańsk", "Tallinn", "Bratislava", "Porto", "Riga", "Oslo", "Zagreb", "Brno",
          "Kraków", "Ljubljana", "Ghent", "Malmö", "Tartu", "Cluj", "Aarhus", "Split", "Plovdiv", "Turku"]
TOPICS = ["defence spending", "energy prices", "grain exports", "ceasefire talks", "sanctions", "air defence",
          "port security", "cyber attacks", "refugee support", "rail links", "drone production", "tariffs"]
_NAME = re.compile(r"\b[A-Z][a-z]+ [A-Z][a-zé]+(?:-[A-Z][a-z]+)?\b")  # "Mark Rutte", "Jean-Noël Barrot"-ish
_NUMBER = re.compile(r"\b\d+(?:[.,]\d+)?\b")


def seed_sentences(seed_dir: Path) -> list[str]:
    """Every sentence of every seed article, as the project's own splitter sees them."""
    out: list[str] = []
    for path in sorted(seed_dir.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        out += [text[s:e] for s, e in split_sentences(text) if e - s > 20]
    if not out:
        raise SystemExit(f"no sentences in {seed_dir}/*.txt")
    return out


def _vary(sentence: str, rng: random.Random) -> str:
    """New names and numbers, so 100k chunks do not collapse into a few hundred distinct texts."""
    sentence = _NAME.sub(lambda m: f"{rng.choice(FIRST)} {rng.choice(LAST)}" if rng.random() < 0.6 else m.group(),
                         sentence)

    def number(m: re.Match[str]) -> str:
        raw = m.group()
        if len(raw) == 4 and raw.startswith(("19", "20")):  # a year stays a plausible year
            return str(rng.randint(1995, 2030))
        digits = re.sub(r"\D", "", raw) or "1"
        if "," in raw:
            return f"{rng.randint(1, 10 ** min(len(digits), 6)):,}"
        return str(rng.randint(1, 10 ** len(digits)))

    return _NUMBER.sub(number, sentence)


def make_article(i: int, sentences: list[str], rng: random.Random) -> str:
    place, topic = rng.choice(PLACES), rng.choice(TOPICS)
    date = f"{rng.randint(2019, 2026)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    title = f"{place} officials weigh {topic} as talks continue ({i})"
    paras = []
    for _ in range(rng.randint(3, 9)):
        paras.append(" ".join(_vary(rng.choice(sentences), rng) for _ in range(rng.randint(1, 4))))
    who = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    lead = f"{place}, {date} – {who} said on Tuesday that {topic} would dominate the agenda."
    return "\n".join([title, lead, *paras]) + "\n"


def generate(out_dir: Path, n_chunks: int, seed: int = 0, chunk_chars: int = 700, overlap: int = 1,
             seed_dir: Path = ROOT / "seeds") -> tuple[int, int]:
    """Write articles into `out_dir` until they make at least `n_chunks` chunks; (articles, chunks)."""
    rng = random.Random(seed)
    sentences = seed_sentences(seed_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    total, i = 0, 0
    while total < n_chunks:
        text = make_article(i, sentences, rng)
        doc = Document(doc_id=f"gen_{i:06d}", title="", source="", text=text, sha256="")
        total += len(chunk_document(doc, chunk_chars, overlap))
        (out_dir / f"gen_{i:06d}.txt").write_text(text, encoding="utf-8")
        i += 1
    return i, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--chunks", type=int, default=100_000, help="stop at this many chunks (default 100000)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    started = time.perf_counter()
    articles, chunks = generate(args.out_dir, args.chunks, args.seed)
    print(f"wrote {articles} articles ({chunks} chunks) to {args.out_dir} in {time.perf_counter() - started:.1f}s")


if __name__ == "__main__":
    main()
