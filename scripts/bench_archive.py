"""The archive benchmark (a section of scripts/bench.py): a real news archive indexed whole, and questions
about a few of its articles asked among all the others.

  - index: `build_index` of the whole archive from scratch in a fresh process: wall time, chunks, peak
    RSS, size on disk; then again with nothing changed; then with 10 articles removed (their chunks are
    dropped) and with the same 10 added back (only theirs are embedded);
  - retrieval among distractors: the gold set's answerable questions (bbc-dev's, whose 40 articles are
    part of bbc-all) searched in the archive index and in an index of the gold set's own articles:
    recall@k of the source article, retrieval p50/p95; and in the archive once more, each question
    narrowed (rag/scope.py, `rag ask --source`) to the articles whose file name shares its source's
    prefix (the name up to its last "_": bbc-all's section, "bbc_sport_");
  - warm answers: `Assistant.ask` p50/p95 over the same questions on both indexes.
Each store backend named gets its own index and rows.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import statistics
import time
from pathlib import Path
from typing import Any

from bench_common import load_settings, peak_rss_mb, single, summary, worker

FRESH_ARTICLES = 10  # articles taken out and put back to time an incremental update
RECALL_K = 5  # the source article must be among this many retrieved passages
NEAR_COPY_SHARE = 0.8  # an article sharing this share of its sentences with the source is a copy of it
MIN_SENTENCE_CHARS = 30  # shorter lines ("Tony Blair", a byline) are not what makes two stories one
MAX_HOLDERS = 5  # a sentence in more articles than this is boilerplate, not a sign of a copy


def gold_rows(gold: Path) -> list[dict[str, Any]]:
    rows = [json.loads(x) for x in gold.read_text(encoding="utf-8").splitlines() if x.strip()]
    return [r for r in rows if r.get("answerable", True) and r.get("sources")]


def same_text(folder: Path) -> dict[str, list[str]]:
    """doc_id -> the doc_ids of every article with the same bytes (itself included). An archive can hold
    one story twice under two names (bbc-all holds 98 such pairs); retrieval keeps one copy of the
    passages, and either copy is the source."""
    groups: dict[str, list[str]] = {}
    for f in sorted(folder.glob("*.txt")):
        groups.setdefault(hashlib.sha256(f.read_bytes().strip()).hexdigest(), []).append(f.stem)
    return {d: g for g in groups.values() for d in g}


def near_copies(folder: Path, share: float = NEAR_COPY_SHARE) -> dict[str, set[str]]:
    """doc_id -> the other articles that tell the same story with edits: at least `share` of the shorter
    one's sentences appear word for word in the other (bbc-all files some stories twice, a line or a figure
    changed). Retrieval drops a passage that repeats one it chose, so the copy it kept answers as well."""
    from rag.chunking import split_sentences

    def key(text: str) -> str:
        return " ".join(text.split()).lower()

    sentences: dict[str, set[str]] = {}
    for f in sorted(folder.glob("*.txt")):
        text = f.read_bytes().decode("utf-8", errors="replace")
        sentences[f.stem] = {key(text[s:e]) for s, e in split_sentences(text) if len(text[s:e]) >= MIN_SENTENCE_CHARS}
    holders: dict[str, list[str]] = {}
    for doc, sents in sentences.items():
        for sent in sents:
            holders.setdefault(sent, []).append(doc)
    shared: dict[tuple[str, str], int] = {}
    for docs in holders.values():
        if len(docs) <= MAX_HOLDERS:  # a boilerplate line many articles end with says nothing of the story
            for i, a in enumerate(docs):
                for b in docs[i + 1:]:
                    shared[(a, b)] = shared.get((a, b), 0) + 1
    out: dict[str, set[str]] = {}
    for (a, b), n in shared.items():
        if n >= share * max(1, min(len(sentences[a]), len(sentences[b]))):
            out.setdefault(a, set()).add(b)
            out.setdefault(b, set()).add(a)
    return out


def states(text: str, must_include: list[list[str]]) -> bool:
    """Whether `text` holds the gold answer: one alternative of every group (the judge's rule)."""
    low = text.lower()
    return bool(must_include) and all(any(a.lower() in low for a in group) for group in must_include)


def w_archive_search(index_dir: str, backend: str, questions: list[str], sources: list[list[str]],
                     answers: list[list[list[str]]], k: int, copies: list[list[str]],
                     scopes: list[str] | None = None) -> dict[str, Any]:
    """recall@k of the source article (or of a near copy of it, or of any passage stating the gold
    answer), and the latency of retrieval proper and of evidence scoring. `scopes`: each question's
    `--source` pattern, to ask it of those articles only (and `within` the count of them)."""
    from rag.embeddings import query_encoder
    from rag.retrieval import Retriever
    from rag.scope import Scope
    from rag.store_api import open_store

    settings = load_settings(backend=backend)
    store = open_store(settings, Path(index_dir))
    retriever = Retriever(store, query_encoder(store, settings), settings.retrieval)
    retriever.search("warm up")
    catalog = store.catalog() if scopes else []
    latency, scoring, hits, near, stated, within = [], [], [], [], [], []
    for i, (q, want, answer, copy) in enumerate(zip(questions, sources, answers, copies, strict=True)):
        if scopes:
            retriever.within = Scope.parse(source=scopes[i]).select(catalog)
            within.append(len(retriever.within))
        started = time.perf_counter()
        found = retriever.passages(q, k=k)
        middle = time.perf_counter()
        retriever.score_sentences(q, found)
        latency.append(middle - started)
        scoring.append(time.perf_counter() - middle)
        docs = {p.chunk.doc_id for p in found.passages[:k]}
        hits.append(bool(docs & set(want)))
        near.append(bool(docs & set(want + copy)))
        stated.append(near[-1] or any(states(p.chunk.text, answer) for p in found.passages[:k]))
    return {"latency_s": latency, "scoring_s": scoring, "hits": hits, "near": near, "stated": stated,
            "chunks": len(store.chunks), "peak_rss_mb": peak_rss_mb(), "within": within}


def w_archive_warm(index_dir: str, backend: str, questions: list[str]) -> dict[str, Any]:
    from rag.assistant import Assistant

    a = Assistant(load_settings(backend=backend), index_dir)
    a.warm_up()
    a.ask(questions[0])
    latency = []
    for q in questions:
        started = time.perf_counter()
        a.ask(q)
        latency.append(time.perf_counter() - started)
    return {"latency_s": latency}


WORKERS = {"archive_search": w_archive_search, "archive_warm": w_archive_warm}


def section(doc_id: str) -> str:
    """A file name's prefix up to its last "_" ("bbc_sport_042" -> "bbc_sport_"): an archive's section."""
    return doc_id.rsplit("_", 1)[0] + "_" if "_" in doc_id else doc_id


def _size_mb(folder: Path) -> float:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file() and not f.is_symlink()) / 2**20


def bench_archive(out: dict, notes: list[str], tmp: Path, archive: Path, gold: Path, backends: list[str],
                  warm_questions: int | None) -> None:
    rows = gold_rows(gold)
    copies = same_text(archive)
    questions = [r["question"] for r in rows]
    sources = [sorted({c for s in r["sources"] for c in copies.get(s, [s])}) for r in rows]
    edited = near_copies(archive)
    near = [sorted({c for s in src for c in edited.get(s, set())} - set(src)) for src in sources]
    corpus = tmp / "archive"  # a private copy, so articles can be taken out and put back
    shutil.copytree(archive, corpus)
    own = gold.parent / "articles"
    fresh = sorted(corpus.glob("*.txt"))[:: max(1, len(list(corpus.glob("*.txt"))) // FRESH_ARTICLES)][
        :FRESH_ARTICLES]
    for backend in backends:
        pre = f"{backend}_"
        index_dir = tmp / f"archive-{backend}"
        r = worker("backend_index", corpus_dir=str(corpus), index_dir=str(index_dir), backend=backend)
        rep = r["report"]
        out[pre + "index"] = single(r["wall_s"], "s", f"fresh process, from scratch: {rep['documents']} articles, "
                                    f"{rep['chunks_embedded']} chunks embedded ({len(rep['skipped'])} skipped)")
        out[pre + "index_peak_rss"] = single(r["peak_rss_mb"], "MB", "the indexing process")
        out[pre + "size_on_disk"] = single(_size_mb(index_dir), "MB", "index folder")
        r = worker("backend_index", corpus_dir=str(corpus), index_dir=str(index_dir), backend=backend)
        out[pre + "reindex_unchanged"] = single(r["wall_s"], "s", f"fresh process, nothing changed "
                                                f"({r['report']['chunks_embedded']} chunks embedded)")
        held = tmp / "held"
        held.mkdir(exist_ok=True)
        for f in fresh:
            shutil.move(f, held / f.name)
        r = worker("backend_index", corpus_dir=str(corpus), index_dir=str(index_dir), backend=backend)
        out[pre + "remove_10"] = single(r["wall_s"], "s", f"fresh process, {len(r['report']['removed'])} articles "
                                        "removed, their chunks dropped")
        for f in fresh:
            shutil.move(held / f.name, f)
        r = worker("backend_index", corpus_dir=str(corpus), index_dir=str(index_dir), backend=backend)
        out[pre + "add_10"] = single(r["wall_s"], "s", f"fresh process, {len(r['report']['added'])} articles "
                                     f"added, {r['report']['chunks_embedded']} chunks embedded")
        small = tmp / f"own-{backend}"
        worker("backend_index", corpus_dir=str(own), index_dir=str(small), backend=backend)
        sections = [section(r["sources"][0]) for r in rows]
        for name, folder in (("archive", index_dir), ("own", small), ("archive_narrowed", index_dir)):
            s = worker("archive_search", index_dir=str(folder), backend=backend, questions=questions,
                       sources=sources, answers=[r.get("must_include") or [] for r in rows], k=RECALL_K,
                       copies=near, scopes=sections if name == "archive_narrowed" else None)
            where = f"{s['chunks']:,} chunks" + {
                "archive": " (the whole archive)", "own": f" ({own.parent.name}'s own articles)",
                "archive_narrowed": f", each question narrowed to its source's section (`--source PREFIX_`, "
                                    f"median {statistics.median(s['within'] or [0]):.0f} articles)"}[name]
            out[f"{pre}{name}_recall@{RECALL_K}"] = single(sum(s["hits"]) / len(s["hits"]), "share",
                                                           f"source article in the top {RECALL_K}, "
                                                           f"{len(s['hits'])} answerable questions, {where}")
            out[f"{pre}{name}_recall@{RECALL_K}_near_copies"] = single(
                sum(s["near"]) / len(s["near"]), "share", f"the source or a near copy of it (another article "
                f"sharing {NEAR_COPY_SHARE:.0%} of its sentences) in the top {RECALL_K}, {where}")
            out[f"{pre}{name}_answer@{RECALL_K}"] = single(sum(s["stated"]) / len(s["stated"]), "share",
                                                           f"the source or another article stating the gold "
                                                           f"answer in the top {RECALL_K}, {where}")
            out[f"{pre}{name}_retrieval"] = summary(s["latency_s"], "s", f"the passages (encode, dense, BM25, fusion, "
                                                    f"duplicates, names), {where}")
            out[f"{pre}{name}_evidence_scoring"] = summary(s["scoring_s"], "s", "then their sentences embedded "
                                                           "and scored (the rest of Retriever.search)")
            if name == "archive":
                out[pre + "search_peak_rss"] = single(s["peak_rss_mb"], "MB", "fresh process: load + encoder + queries")
                missed = [q for q, hit in zip(questions, s["hits"], strict=True) if not hit]
                if missed:
                    notes.append(f"archive/{backend}: source not in the top {RECALL_K} for {len(missed)}: "
                                 + " | ".join(missed[:8]))
        if warm_questions != 0:
            asked = questions[:warm_questions] if warm_questions else questions
            for name, folder in (("archive", index_dir), ("own", small)):
                w = worker("archive_warm", index_dir=str(folder), backend=backend, questions=asked)
                out[f"{pre}{name}_warm_answer"] = summary(w["latency_s"], "s", f"Assistant.ask, {len(asked)} "
                                                          f"questions, {name} index")
