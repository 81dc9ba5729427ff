"""`rag eval` runs: one gold set over the current index (`--gold`), or a suite of sets, each over its own
cached index (`--suite`), with a baseline beside the system when asked for (`--baseline extractive`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

from rich.console import Console

from rag import baseline
from rag import eval_report as report
from rag.errors import UsageError
from rag.evaluate import (
    SYSTEM,
    SetRun,
    compare_table,
    load_answers,
    load_gold,
    records_file,
    run_set,
    summarize,
    summary_table,
)
from rag.schema import Answer
from rag.suite import folder_bytes, load_suite, open_index, prune, stale_indexes

BASELINES = (baseline.NAME,)


def run_eval(assistant, gold: Path, out_file: Path | None, compare: Path | None, as_json: bool,
             out: Console, err: Console, baseline_name: str | None = None) -> dict:
    """One gold set over the assistant's own index: the metrics table, abstentions by reason, and the
    baseline beside the system when asked for. Returns what --json prints."""
    items = load_gold(gold)
    ask_baseline = _baseline(assistant, baseline_name)
    # Read --compare before the run: it fails fast, and `--out x --compare x` then compares with the old x.
    old = load_answers(compare) if compare else None
    assistant.warm_up()  # latency is measured warm, as a chat user sees it
    documents = assistant.store.documents
    with records_file(out_file) as sink:
        run = run_set(assistant.ask, items, documents, sink, err)
    run.name = gold.stem
    runs = [run]
    if ask_baseline and baseline_name:
        with records_file(baseline_out(out_file, baseline_name)) as sink:
            runs.append(run_set(ask_baseline, items, documents, sink, err, gold.stem, baseline_name))
    summary = summarize(items, run.records, run.verdicts)
    result = {**summary, "abstain_reasons": report.reason_counts(run)}
    if len(runs) > 1:
        result["baselines"] = {r.method: report.row(r) for r in runs[1:]}
    if as_json:
        out.print_json(json.dumps(result))
    else:
        out.print(summary_table(summary))
        out.print(report.reasons_table([run]))
        if len(runs) > 1:
            out.print(report.sets_table([runs]))
    if compare:
        out.print(compare_table(items, run.records, run.verdicts, compare, documents, old))
    return result


def run_suite(assistant, suite_file: Path, out_dir: Path | None, as_json: bool, out: Console, err: Console,
              baseline_name: str | None = None, cache: Path | None = None) -> dict:
    """Every set of the suite over its own cached index: one row per set and method, the macro average,
    abstentions by reason per set. Everything that can be checked is checked before the first question."""
    suite = load_suite(suite_file)
    golds = {s.name: load_gold(s.gold) for s in suite.sets}
    ask_baseline = _baseline(assistant, baseline_name)
    if out_dir is not None and out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"--out {out_dir} is a file: with --suite, --out names a folder for one file per set")
    per_set: list[list[SetRun]] = []
    summaries: dict[str, dict] = {}
    indexes: dict[str, str] = {}
    with ExitStack() as files:
        sinks = {(s.name, m): files.enter_context(records_file(_set_out(out_dir, s.name, m)))
                 for s in suite.sets for m in (SYSTEM, *([baseline_name] if baseline_name else []))}
        for s in suite.sets:
            built = open_index(assistant, s, cache)
            indexes[s.name] = str(assistant.index_path)
            err.print(f"[{s.name}] {'built' if built else 'reused'} its index in {assistant.index_path}",
                      soft_wrap=True, markup=False)
            assistant.warm_up()  # latency is measured warm
            documents = assistant.store.documents
            items = golds[s.name]
            runs = [run_set(assistant.ask, items, documents, sinks[(s.name, SYSTEM)], err, s.name)]
            if ask_baseline and baseline_name:
                runs.append(run_set(ask_baseline, items, documents, sinks[(s.name, baseline_name)], err, s.name,
                                    baseline_name))
            summaries[s.name] = summarize(items, runs[0].records, runs[0].verdicts)
            per_set.append(runs)
    result = report.suite_json(str(suite_file), per_set, summaries, indexes)
    if as_json:
        out.print_json(json.dumps(result))
    else:
        out.print(report.sets_table(per_set, title=f"rag eval --suite {suite_file}"))
        out.print(report.reasons_table([runs[0] for runs in per_set]))
    stale = stale_indexes(cache)
    if stale:
        size = sum(folder_bytes(f) for f in stale)
        err.print(f"cached suite indexes opened last by other index code, or before that was recorded: "
                  f"{len(stale)}, {size / 1e6:,.0f} MB; `rag eval --prune-cache` deletes them",
                  soft_wrap=True, markup=False)
    return result


def baseline_out(out_file: Path | None, method: str) -> Path | None:
    """Where a baseline's records go beside the system's: run.jsonl -> run.extractive.jsonl."""
    return out_file.with_name(f"{out_file.stem}.{method}{out_file.suffix or '.jsonl'}") if out_file else None


def _set_out(out_dir: Path | None, name: str, method: str) -> Path | None:
    """--out DIR with a suite: DIR/SET.jsonl for the system, DIR/SET.METHOD.jsonl for a baseline."""
    if out_dir is None:
        return None
    return out_dir / (f"{name}.jsonl" if method == SYSTEM else f"{name}.{method}.jsonl")


def _baseline(assistant, name: str | None) -> Callable[[str], Answer] | None:
    if name is None:
        return None
    if name not in BASELINES:
        raise UsageError(f"unknown baseline {name!r} (known: {', '.join(BASELINES)})")
    return lambda question: baseline.extractive_answer(assistant.retriever, question)


def prune_suite_cache(err: Console, cache: Path | None = None) -> None:
    """`rag eval --prune-cache`: delete the cached indexes other index code opened last (or that were cached
    before that was recorded), and say what went."""
    count, size = prune(cache)
    err.print(f"removed {count} cached suite index{'es' if count != 1 else ''} ({size / 1e6:,.0f} MB) that "
              "other index code opened last" if count else "no cached suite index to remove", markup=False)
