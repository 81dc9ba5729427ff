"""`rag eval`: run a gold set through the same `Assistant` and measure retrieval, answers and citations
(the judge, the metrics, one run over a set; rag/eval_run.py runs sets and suites, rag/eval_report.py
tabulates)."""

from __future__ import annotations

import contextlib
import io
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from pydantic import BaseModel, Field, ValidationError
from rich.console import Console
from rich.table import Table
from rich.text import Text

from rag.citations import strip_markers
from rag.errors import UsageError
from rag.eval_claims import unsupported
from rag.sanitize import clean_line
from rag.schema import Answer

SYSTEM = "rag"  # the method name of the system's own answers in tables and records


class GoldItem(BaseModel):
    id: str
    question: str
    answer: str = ""
    must_include: list[list[str]] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)
    answerable: bool = True


class Verdict(BaseModel):
    id: str
    correct: bool = False
    supported: bool = False
    passed: bool = False
    abstained: bool = False
    rank: int | None = None  # 1-based rank of the first retrieved passage from a gold source (or a copy of it)
    own_rank: int | None = None  # the same, counting only passages filed under a gold source's own name
    recall5: float = 0.0
    bad_quotes: int = 0
    ungrounded: list[str] = Field(default_factory=list)


def load_gold(path: Path) -> list[GoldItem]:
    if not path.is_file():
        raise UsageError(f"gold file not found: {path}")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read gold file {path}: {exc.__class__.__name__} (it must be UTF-8 JSONL)") from None
    items = []
    for n, line in enumerate(lines, 1):
        if line.strip():
            try:
                items.append(GoldItem.model_validate_json(line))
            except ValidationError as exc:
                raise UsageError(f"{path}:{n}: not a gold record ({exc.errors()[0]['msg']})") from None
    if not items:
        raise UsageError(f"{path} holds no questions")
    return items


def _ask(ask: Callable[[str], Answer], item: GoldItem) -> Answer:
    try:
        answer = ask(item.question)
    except Exception as exc:  # one bad question must not stop the run
        answer = Answer(question=item.question, answer="", mode="error", error=f"{type(exc).__name__}: {exc}")
    answer.id = item.id
    return answer


@dataclass
class SetRun:
    """One method's answers to one gold set, judged."""

    name: str    # the set
    method: str  # "rag", or a baseline's name
    items: list[GoldItem]
    records: list[Answer] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)


def run_set(ask: Callable[[str], Answer], items: list[GoldItem], documents: dict, sink: TextIO, err: Console,
            name: str = "", method: str = SYSTEM) -> SetRun:
    """Ask every gold question, judge each answer, and write each record as it comes."""
    run = SetRun(name=name, method=method, items=items)
    label = f"[{name}{'' if method == SYSTEM else ' ' + method}] " if name else ""
    for item in items:
        answer = _ask(ask, item)
        run.records.append(answer)
        run.verdicts.append(judge(item, answer, documents))
        sink.write(answer.model_dump_json() + "\n")  # as it goes: an interrupted run keeps what it did
        sink.flush()
        status = "PASS" if run.verdicts[-1].passed else "fail"
        err.print(f"{clean_line(label + str(item.id))}: {status} {answer.answer[:100]!r}", soft_wrap=True, markup=False)
    return run


@contextlib.contextmanager
def records_file(path: Path | None):
    """The --out file, opened before the run so an unwritable path fails in a second, not after it."""
    if path is None:
        yield io.StringIO()
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        f = path.open("w", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write --out file {path}: {exc.strerror or exc}") from None
    with f:
        yield f


def _has(text: str, group: list[str]) -> bool:
    low = text.lower()
    return any(alt.lower() in low for alt in group)


def judge(item: GoldItem, answer: Answer, documents: dict) -> Verdict:
    v = Verdict(id=item.id, abstained=answer.abstained)
    # A passage stands for its article and for the copies collapsed into it (the same text filed twice)
    docs = [{r.doc_id, *r.copies} for r in answer.retrieved]
    if item.sources:
        v.rank = next((i + 1 for i, d in enumerate(docs) if d & set(item.sources)), None)
        v.own_rank = next((i + 1 for i, r in enumerate(answer.retrieved) if r.doc_id in item.sources), None)
        v.recall5 = len(set().union(*docs[:5]) & set(item.sources)) / len(set(item.sources))
    for c in answer.citations:
        doc = documents.get(c.doc_id)
        if not (c.quote and c.quote in c.text and doc is not None and doc.text[c.start : c.end] == c.quote):
            v.bad_quotes += 1
    cited = " ".join(c.text for c in answer.citations)
    claim = strip_markers(answer.answer) if not answer.abstained else ""
    v.ungrounded = unsupported(claim, cited + " " + item.question)  # by the judge's own rules, not the pipeline's
    if item.answerable:
        v.correct = not answer.abstained and all(_has(answer.answer, g) for g in item.must_include)
        v.supported = v.correct and bool(answer.citations) and all(_has(cited, g) for g in item.must_include)
        v.passed = v.supported
    else:
        v.passed = answer.abstained
    return v


def summarize(items: list[GoldItem], records: list[Answer], verdicts: list[Verdict]) -> dict:
    ans = [(i, r, v) for i, r, v in zip(items, records, verdicts, strict=True) if i.answerable]
    una = [(i, r, v) for i, r, v in zip(items, records, verdicts, strict=True) if not i.answerable]
    with_src = [v for i, _, v in ans if i.sources]
    lat = sorted(r.latency_s for r in records if r.mode != "error")

    def pct(p: float) -> float:
        return round(lat[min(len(lat) - 1, int(p * len(lat)))], 3) if lat else 0.0

    words = [len(r.answer.split()) for r in records if not r.abstained and r.answer]
    return {
        "questions": len(items), "answerable": len(ans), "unanswerable": len(una),
        "recall@5": round(statistics.mean(v.recall5 for v in with_src), 3) if with_src else 0.0,
        "hit@5": round(sum(1 for v in with_src if v.rank and v.rank <= 5) / len(with_src), 3) if with_src else 0.0,
        "hit@5_own_name": round(sum(1 for v in with_src if v.own_rank and v.own_rank <= 5) / len(with_src), 3)
        if with_src else 0.0,
        "mrr": round(statistics.mean(1 / v.rank if v.rank else 0 for v in with_src), 3) if with_src else 0.0,
        "answer_correct": round(sum(v.correct for *_, v in ans) / len(ans), 3) if ans else 0.0,
        "citation_supported": round(sum(v.supported for *_, v in ans) / len(ans), 3) if ans else 0.0,
        "correct_abstentions": f"{sum(v.abstained for *_, v in una)}/{len(una)}",
        "false_abstentions": f"{sum(v.abstained for *_, v in ans)}/{len(ans)}",
        "bad_quotes": sum(v.bad_quotes for v in verdicts),
        "ungrounded_answers": sum(1 for v in verdicts if v.ungrounded),
        "errors": sum(1 for r in records if r.mode == "error"),
        "extractive": sum(1 for r in records if r.mode == "extractive"),
        "median_answer_words": statistics.median(words) if words else 0,
        "latency_p50_s": pct(0.5), "latency_p95_s": pct(0.95),
        "combined_score": round(sum(v.passed for v in verdicts) / len(verdicts), 3),
    }


def summary_table(summary: dict) -> Table:
    table = Table(title="rag eval", show_header=True)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in summary.items():
        table.add_row(key, str(value))
    return table


def load_answers(path: Path) -> dict[str | None, Answer]:
    """The answer records of an earlier `rag eval --out` file, by question id."""
    if not path.is_file():
        raise UsageError(f"--compare file not found: {path}")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"--compare file {path} cannot be read ({type(exc).__name__}): "
                         "give a file written by `rag eval --out`") from None
    old: dict[str | None, Answer] = {}
    for n, line in enumerate(lines, 1):
        if line.strip():
            try:
                rec = Answer.model_validate_json(line)
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(x) for x in first["loc"])
                raise UsageError(f"{path}:{n}: not an answer record ({where + ': ' if where else ''}{first['msg']}); "
                                 "--compare takes a file written by `rag eval --out`") from None
            old[rec.id] = rec
    return old


def compare_table(items: list[GoldItem], records: list[Answer], verdicts: list[Verdict], old_path: Path,
                  documents: dict, old: dict[str | None, Answer] | None = None) -> Table:
    """Per-question differences against an earlier --out file, judged by the same rules. `old` is that
    file's records when already read (`run_eval` reads them before --out may overwrite the file)."""
    if old is None:
        old = load_answers(old_path)
    table = Table(title=f"changes against {old_path}")
    for col in ("id", "before", "now", "answer now"):
        table.add_column(col)
    fixed = broken = 0
    for item, rec, v in zip(items, records, verdicts, strict=True):
        if item.id not in old:
            table.add_row(Text(clean_line(str(item.id))), "-", _status(v.passed), Text(clean_line(rec.answer)[:70]))
            continue
        before = judge(item, old[item.id], documents).passed
        if before != v.passed or old[item.id].answer != rec.answer:
            fixed += (not before) and v.passed
            broken += before and not v.passed
            table.add_row(Text(clean_line(str(item.id))), _status(before), _status(v.passed),
                          Text(clean_line(rec.answer)[:70]))
    table.caption = f"{fixed} fixed, {broken} broken"
    return table


def _status(passed: bool) -> str:
    return "pass" if passed else "FAIL"
