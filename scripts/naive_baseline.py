#!/usr/bin/env python
"""The naive path, for comparison: top-3 passages, a few-shot prompt, the model's words as the answer.

No sentence-level evidence, no grounding check, no extractive fallback, no abstention rules: what
issue 3 calls "asked naively". It uses the same index, model and judge as `rag eval`, so its table
sits beside `rag eval`'s.

    .venv/bin/python scripts/naive_baseline.py --gold seeds/gold.jsonl [--out naive.jsonl]
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rich.console import Console  # noqa: E402

from rag import prompts  # noqa: E402
from rag.assistant import Assistant  # noqa: E402
from rag.citations import MARKER  # noqa: E402
from rag.evaluate import judge, load_gold, summarize, summary_table  # noqa: E402
from rag.schema import Answer, Citation, Retrieved  # noqa: E402

TOP = 3


def naive_answer(assistant: Assistant, question: str) -> Answer:
    started = time.perf_counter()
    passages = assistant.retriever.search(question, k=TOP)
    sources = prompts.format_sources([p.chunk.text for p in passages])
    prompt = prompts.render("naive_completion.txt", sources=sources, question=question).rstrip()
    raw = "".join(assistant.llm.complete(prompt, stop=["\n", "Sources:", "Question:"])).strip()
    record = Answer(question=question, answer=raw, mode="generated", model=assistant.model_name,
                    retrieved=[Retrieved(doc_id=p.doc_id, chunk_id=p.chunk_id, score=round(p.score, 4))
                               for p in passages])
    if prompts.NOT_IN_SOURCES.lower() in raw.lower() or not raw:
        record.abstained, record.mode = True, "abstained"
    cited = sorted({int(n) for m in MARKER.finditer(raw) for n in re.split(r"[,;]", m.group(1))
                    if 1 <= int(n) <= len(passages)})
    for n in cited:  # the whole passage is the "quote": the naive path has nothing finer
        c = passages[n - 1].chunk
        record.citations.append(Citation(n=n, doc_id=c.doc_id, title=c.title, chunk_id=c.chunk_id, quote=c.text,
                                         text=c.text, start=c.start, end=c.end))
    record.latency_s = round(time.perf_counter() - started, 3)
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", type=Path, default=Path("seeds/gold.jsonl"))
    parser.add_argument("--out", type=Path, help="write one answer record per question here")
    args = parser.parse_args()
    assistant = Assistant()
    assistant.warm_up()
    items = load_gold(args.gold)
    records, verdicts = [], []
    for item in items:
        record = naive_answer(assistant, item.question)
        record.id = item.id
        records.append(record)
        verdicts.append(judge(item, record, assistant.store.documents))
    if args.out:
        args.out.write_text("".join(r.model_dump_json() + "\n" for r in records), encoding="utf-8")
    table = summary_table(summarize(items, records, verdicts))
    table.title = f"naive path (top-{TOP} passages, few-shot, no checks)"
    Console().print(table)


if __name__ == "__main__":
    main()
