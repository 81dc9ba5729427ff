"""Fit the chunking (`[retrieval] chunk_chars`, `chunk_overlap_sentences`) on the dev suite and the archive.

A chunk is the unit embedded, searched and shown as a passage. For every chunking of the grid it builds (or
reuses, cached by content hash as `rag eval` does) each set's index, retrieves every answerable question's
passages as `rag ask` does and measures, per set:
- the share of questions with the gold answer among the two best evidence sentences (scripts/fit_evidence.py's
  measure, with the current sentence weights): what an answer can quote;
- the share with the source article among the passages (or a copy of it): what the archive target counts;
- the characters embedded: what indexing costs (the encoder's time grows with them; the archive's seconds
  are printed too when this run built it).
The chosen chunking embeds the fewest characters among those whose mean share (each set weighing the same)
is within TIE of the best: a tie in what an answer can quote goes to the cheaper index. Leave one set out:
the choice fitted on the other sets, scored on the one left out.

Its choice is a candidate, not a verdict: the abstention gates read the passages too (their dense score and
word overlap), which these shares do not measure. Before changing the default, re-fit both gates on the new
chunks (`make fit-gate`, `scripts/fit_gate.py --judge NAME --write`) and run `rag eval` on the suite: 700/0,
chosen here in 2026-12, lost 0.021 on squad-dev that way and was not adopted (docs/quality-history.md).

    .venv/bin/python scripts/fit_chunking.py [--suite eval/dev.toml --suite eval/archive.toml] [--rows FILE]

(`make fit-chunking`.) The archive's index takes minutes per chunking, once: indexes are cached.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fit_evidence import FEATURES, arrays, measure_sentences, set_questions, share  # noqa: E402
from rows import measured  # noqa: E402

from rag.assistant import Assistant  # noqa: E402
from rag.suite import EvalSet, load_suite, open_index  # noqa: E402
from rag.weights import SentenceWeights  # noqa: E402

CHARS = (500, 700, 900)  # chunk_chars tried (MiniLM reads 256 tokens, about 1,100 characters, at most)
OVERLAP = (0, 1)  # chunk_overlap_sentences tried
QUOTED = 2  # sentences an answer quotes (`[answer] quotes`)
# Mean shares this close count as a tie (about one question in 200 per set, under what a re-run of the
# dev suite moves by).
TIE = 0.005


def collect(suites: list[Path]) -> list[dict]:
    """One row per set and chunking (its size) and one per answerable question (sentence features, hits,
    the articles of its passages)."""
    sets = {s.name: s for suite in suites for s in load_suite(suite).sets}  # a set two suites list: once
    rows: list[dict] = []
    for chars, overlap in itertools.product(CHARS, OVERLAP):
        assistant = Assistant()
        assistant.settings.retrieval.chunk_chars = chars
        assistant.settings.retrieval.chunk_overlap_sentences = overlap
        for s in sets.values():
            rows += measure(assistant, s, f"{chars}/{overlap}")
    return rows


def measure(assistant: Assistant, s: EvalSet, chunking: str) -> list[dict]:
    start = time.perf_counter()
    built = open_index(assistant, s)
    seconds = time.perf_counter() - start
    r = assistant.retriever
    rows = [{"set": s.name, "chunking": chunking, "chunks": len(r.store.chunks),
             "chars": sum(len(c.text) for c in r.store.chunks), "seconds": round(seconds, 1) if built else None}]
    print(f"[{s.name}] {chunking}: {len(r.store.chunks)} chunks"
          + (f", built in {seconds:.0f} s" if built else ", index reused"), file=sys.stderr)
    for item, query in set_questions(r, s.gold):
        passages, sentences = measure_sentences(r, item, query)
        rows.append({"set": s.name, "chunking": chunking, "id": item.id, "leaders": 0, "sources": list(item.sources),
                     "docs": [[p.chunk.doc_id, *p.copies] for p in passages], "sentences": sentences})
    return rows


def table(rows: list[dict]) -> dict[str, dict[str, dict]]:
    """chunking -> set -> {quoted, source, chunks, chars, seconds}."""
    weights = np.array([getattr(SentenceWeights(), f) for f in FEATURES])
    questions: dict[tuple[str, str], list[dict]] = {}
    for r in rows:
        if "id" in r:
            questions.setdefault((r["set"], r["chunking"]), []).append(r)
    out: dict[str, dict[str, dict]] = {}
    for size in (r for r in rows if "id" not in r):
        qs = questions.get((size["set"], size["chunking"]), [])
        with_source = [r for r in qs if r["sources"]]
        scored = arrays(qs, 0).get(size["set"], [])
        out.setdefault(size["chunking"], {})[size["set"]] = {
            **{k: size[k] for k in ("chunks", "chars", "seconds")},
            "quoted": share(scored, weights, QUOTED) * len(scored) / len(qs) if qs else 0.0,
            "source": float(np.mean([any(set(d) & set(r["sources"]) for d in r["docs"]) for r in with_source]))
            if with_source else float("nan")}
    return out


def choose(t: dict[str, dict[str, dict]], names: list[str]) -> str:
    """The chunking embedding the fewest characters among those within TIE of the best mean share."""
    mean = {c: float(np.mean([t[c][n]["quoted"] for n in names])) for c in t}
    best = max(mean.values())
    return min((c for c in t if mean[c] >= best - TIE), key=lambda c: sum(t[c][n]["chars"] for n in t[c]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suite", type=Path, action="append", help="a suite TOML (repeat; default eval/dev.toml)")
    ap.add_argument("--rows", type=Path, help="read the measured rows from this file, or write them there")
    args = ap.parse_args()
    rows = measured(args.rows, lambda: collect(args.suite or [ROOT / "eval" / "dev.toml"]))
    t = table(rows)
    names = list(next(iter(t.values())))
    print(f"{'chunking':10s}" + "".join(f"{n[:20]:>22s}" for n in names) + f"{'mean':>8s}")
    print(f"{'':10s}" + f"{'quoted source chunks':>22s}" * len(names) + f"{'quoted':>8s}")
    for c, per in t.items():
        cells = "".join(f"{per[n]['quoted']:>8.3f}{per[n]['source']:>7.3f}{per[n]['chunks']:>7d}" for n in names)
        print(f"{c:10s}{cells}{np.mean([per[n]['quoted'] for n in names]):>8.3f}")
    built = [f"{c} {n} {per[n]['seconds']:.0f} s" for c, per in t.items() for n in names if per[n]["seconds"]]
    if built:
        print("built in this run: " + "; ".join(built))
    chosen = choose(t, names)
    print(f"\nchosen on all sets: {chosen}")
    for left in names:
        c = choose(t, [n for n in names if n != left])
        print(f"  fitted without {left}: {c} (quoted {t[c][left]['quoted']:.3f} there; "
              f"the all-set choice {t[chosen][left]['quoted']:.3f})")
    chars, overlap = chosen.split("/")
    print(f"\n[retrieval]\nchunk_chars = {chars}\nchunk_overlap_sentences = {overlap}")


if __name__ == "__main__":
    main()
