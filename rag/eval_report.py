"""The tables of `rag eval`: one row per set and method, the macro average over sets, and abstentions by
the check that caused them, right (the question was unanswerable) or false (it was answerable)."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from rich.table import Table
from rich.text import Text

from rag.evaluate import SYSTEM, SetRun
from rag.wording import counted

UNKNOWN_REASON = "unrecorded"  # an abstention without a reason (a record from before reasons were kept)


def row(run: SetRun) -> dict:
    """The headline figures of one run: what a set's line in the table says."""
    answerable = [v for i, v in zip(run.items, run.verdicts, strict=True) if i.answerable]
    unanswerable = [v for i, v in zip(run.items, run.verdicts, strict=True) if not i.answerable]
    latencies = [r.latency_s for r in run.records if r.mode != "error"]
    sourced = [v for i, v in zip(run.items, run.verdicts, strict=True) if i.answerable and i.sources]
    return {
        "questions": len(run.items), "answerable": len(answerable), "unanswerable": len(unanswerable),
        "combined_score": round(sum(v.passed for v in run.verdicts) / len(run.verdicts), 3) if run.verdicts else 0.0,
        "answers_correct": sum(v.passed for v in answerable),  # right and supported by what it cites
        "false_abstentions": sum(v.abstained for v in answerable),
        "right_abstentions": sum(v.abstained for v in unanswerable),
        # a gold source among the first five passages shown (a copy collapsed into one counts; see judge)
        "source_top5": sum(1 for v in sourced if v.rank and v.rank <= 5), "sourced": len(sourced),
        "non_verbatim_quotes": sum(v.bad_quotes for v in run.verdicts),
        "errors": sum(1 for r in run.records if r.mode == "error"),
        "latency_p50_s": round(statistics.median(latencies), 3) if latencies else 0.0,
    }


def macro(runs: Sequence[SetRun]) -> dict:
    """Every set counts the same, whatever its size."""
    rows = [row(r) for r in runs]

    def mean(values: list[float]) -> float:
        return round(statistics.mean(values), 3) if values else 0.0

    return {
        "sets": len(rows), "questions": sum(r["questions"] for r in rows),
        "combined_score": mean([r["combined_score"] for r in rows]),
        "answers_correct_rate": mean([r["answers_correct"] / r["answerable"] for r in rows if r["answerable"]]),
        "false_abstention_rate": mean([r["false_abstentions"] / r["answerable"] for r in rows if r["answerable"]]),
        "right_abstention_rate": mean([r["right_abstentions"] / r["unanswerable"] for r in rows if r["unanswerable"]]),
        "source_top5_rate": mean([r["source_top5"] / r["sourced"] for r in rows if r["sourced"]]),
        "non_verbatim_quotes": sum(r["non_verbatim_quotes"] for r in rows),
        "latency_p50_s": mean([r["latency_p50_s"] for r in rows]),
    }


def reason_counts(run: SetRun) -> dict[str, dict[str, int]]:
    """Abstentions by reason code: how many, how many right (unanswerable) and false (answerable),
    most frequent first."""
    counts: dict[str, dict[str, int]] = {}
    for item, record in zip(run.items, run.records, strict=True):
        if not record.abstained:
            continue
        code = record.abstain_reason.code if record.abstain_reason else UNKNOWN_REASON
        c = counts.setdefault(code, {"abstentions": 0, "right": 0, "false": 0})
        c["abstentions"] += 1
        c["false" if item.answerable else "right"] += 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1]["abstentions"], kv[0])))


def total_reason_counts(runs: Sequence[SetRun]) -> dict[str, dict[str, int]]:
    total: dict[str, dict[str, int]] = {}
    for run in runs:
        for code, c in reason_counts(run).items():
            t = total.setdefault(code, {"abstentions": 0, "right": 0, "false": 0})
            for k in t:
                t[k] += c[k]
    return dict(sorted(total.items(), key=lambda kv: (-kv[1]["abstentions"], kv[0])))


def sets_table(per_set: Sequence[Sequence[SetRun]], title: str = "rag eval: per set") -> Table:
    """One row per set and method (the system first, then its baselines), then the macro averages."""
    table = Table(title=title)
    for col in ("set", "method", "questions", "combined", "answers correct", "false abstentions",
                "right abstentions", "source in top 5", "non-verbatim quotes", "warm p50 s"):
        table.add_column(col, justify="left" if col in ("set", "method") else "right")
    for runs in per_set:
        for run in runs:
            r = row(run)
            table.add_row(run.name, run.method, str(r["questions"]), f"{r['combined_score']:.3f}",
                          f"{r['answers_correct']}/{r['answerable']}", f"{r['false_abstentions']}/{r['answerable']}",
                          f"{r['right_abstentions']}/{r['unanswerable']}", f"{r['source_top5']}/{r['sourced']}",
                          str(r["non_verbatim_quotes"]),
                          f"{r['latency_p50_s']:.2f}")
    if len(per_set) > 1:
        for method in dict.fromkeys(run.method for runs in per_set for run in runs):
            m = macro([run for runs in per_set for run in runs if run.method == method])
            label = f"macro ({counted(m['sets'], 'set')})"
            table.add_row(label, method, str(m["questions"]), f"{m['combined_score']:.3f}",
                          f"{m['answers_correct_rate']:.1%}", f"{m['false_abstention_rate']:.1%}",
                          f"{m['right_abstention_rate']:.1%}", f"{m['source_top5_rate']:.1%}",
                          str(m["non_verbatim_quotes"]),
                          f"{m['latency_p50_s']:.2f}", style="bold")
    table.caption = ("answers correct: right and supported by the cited passage; source in top 5: answerable "
                     "questions with a gold source among the first five passages (or a copy of it under another "
                     "name); the macro row gives shares, each set weighing the same")
    return table


def reasons_table(runs: Sequence[SetRun]) -> Table | Text:
    """Abstentions by the check that fired, per set and in all: right / false (a line when there are none,
    not an empty table)."""
    if not total_reason_counts(runs):
        return Text("abstentions by reason: none (every question was answered)", style="dim")
    table = Table(title="abstentions by reason (right / false)")
    table.add_column("reason")
    for run in runs:
        table.add_column(run.name or "set", justify="right")
    if len(runs) > 1:
        table.add_column("all", justify="right")
    per_run = [reason_counts(run) for run in runs]
    total = total_reason_counts(runs)
    for code, t in total.items():
        cells = [_cell(counts.get(code)) for counts in per_run]
        table.add_row(code, *cells, *([_cell(t)] if len(runs) > 1 else []))
    table.caption = "right: unanswerable; false: answerable"
    return table


def _cell(c: dict[str, int] | None) -> str:
    return f"{c['right']} / {c['false']}" if c else "-"


def suite_json(suite_path: str, per_set: Sequence[Sequence[SetRun]], summaries: dict[str, dict],
               indexes: dict[str, str]) -> dict:
    """The --json summary of a suite run."""
    sets = []
    for runs in per_set:
        system = runs[0]
        sets.append({"name": system.name, "index": indexes.get(system.name), "system": row(system),
                     "baselines": {r.method: row(r) for r in runs[1:]},
                     "abstain_reasons": reason_counts(system), "metrics": summaries[system.name]})
    methods = dict.fromkeys(run.method for runs in per_set for run in runs)
    return {"suite": suite_path, "sets": sets,
            "macro": {m: macro([r for runs in per_set for r in runs if r.method == m]) for m in methods},
            "abstain_reasons": total_reason_counts([runs[0] for runs in per_set if runs[0].method == SYSTEM])}
