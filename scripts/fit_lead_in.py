"""Choose `[answer] lead_in_support`: how sure the judge must be that a model's lead-in is supported by its
source before it is shown.

It reads the records of a dev-suite run made without the check (`rag eval --suite eval/dev.toml --out DIR`,
no judge), takes every answer that leads with the model's own words on an answerable question, and asks
the judge (rag/judge.py `supports`) whether the cited source supports those words as an answer. A lead-in
counts as right when it holds the gold answer (one alternative of every group, the judge's rule), a rough
label: a right answer worded otherwise counts as wrong. It prints per set how well the judge separates
the two (AUC) and, for the threshold that maximises the sets' mean balanced accuracy (each set weighing
the same), the share of right lead-ins kept and of wrong ones dropped, also for a threshold chosen on the
other sets only.

    .venv/bin/python scripts/fit_lead_in.py --records DIR --judge qwen2.5-1.5b [--suite eval/dev.toml]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rows import measured  # noqa: E402

from rag.assistant import Assistant  # noqa: E402
from rag.evaluate import load_gold  # noqa: E402
from rag.judge import plain  # noqa: E402
from rag.suite import load_suite  # noqa: E402

THRESHOLDS = np.round(np.arange(0.05, 0.951, 0.05), 2)


def holds(groups: list[list[str]], text: str) -> bool:
    low = text.lower()
    return bool(groups) and all(any(a.lower() in low for a in g) for g in groups)


def lead_in(answer: str) -> str:
    """The model's words: what comes before the first quoted evidence sentence, markers dropped."""
    return re.sub(r"\s*\[\d+\]", "", re.split(r"[“\"]", answer, maxsplit=1)[0]).strip()


def collect(suite_file: Path, records: Path, judge_name: str) -> list[dict]:
    assistant = Assistant()
    assistant.settings.answer.judge = judge_name
    assistant.check_model()
    judge = assistant.judge
    assert judge is not None
    rows = []
    for s in load_suite(suite_file).sets:
        gold = {g.id: g for g in load_gold(s.gold)}
        path = records / f"{s.name}.jsonl"
        for line in path.read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            g = gold.get(r.get("id"))
            lead = lead_in(r["answer"])
            if r.get("mode") != "generated" or g is None or not g.answerable or not r["citations"] or not lead:
                continue
            p = judge.supports(g.question, lead, plain(r["citations"][0]["text"]))
            rows.append({"set": s.name, "right": holds(g.must_include, lead), "support": p})
        print(f"[{s.name}] {sum(1 for x in rows if x['set'] == s.name)} lead-ins", file=sys.stderr)
    return rows


def balanced(rows: list[dict], t: float) -> float:
    right = [r for r in rows if r["right"]]
    wrong = [r for r in rows if not r["right"]]
    kept = np.mean([r["support"] >= t for r in right]) if right else 1.0
    dropped = np.mean([r["support"] < t for r in wrong]) if wrong else 1.0
    return float((kept + dropped) / 2)


def choose(rows: list[dict], names: list[str]) -> float:
    return float(max(THRESHOLDS, key=lambda t: np.mean([balanced([r for r in rows if r["set"] == n], t)
                                                        for n in names])))


def main() -> None:
    from sklearn.metrics import roc_auc_score

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suite", type=Path, default=ROOT / "eval" / "dev.toml")
    ap.add_argument("--records", type=Path, required=True, help="the --out folder of a dev-suite run without judge")
    ap.add_argument("--judge", required=True, help="the judge model's name in models.toml")
    ap.add_argument("--rows", type=Path, help="read the judged lead-ins from this file, or write them there")
    args = ap.parse_args()
    rows = measured(args.rows, lambda: collect(args.suite, args.records, args.judge))
    names = sorted({r["set"] for r in rows})
    t = choose(rows, names)
    print(f"threshold {t} (mean balanced accuracy over the sets)")
    print(f"{'set':<12} {'lead-ins':>8} {'right':>6} {'AUC':>6} {'right kept':>11} {'wrong dropped':>14} "
          f"{'other sets: t, balanced':>24}")
    for n in names:
        rs = [r for r in rows if r["set"] == n]
        y = [r["right"] for r in rs]
        auc = roc_auc_score(y, [r["support"] for r in rs]) if 0 < sum(y) < len(y) else float("nan")
        kept = np.mean([r["support"] >= t for r in rs if r["right"]])
        dropped = np.mean([r["support"] < t for r in rs if not r["right"]])
        other = choose(rows, [m for m in names if m != n])
        print(f"{n:<12} {len(rs):>8} {sum(y):>6} {auc:>6.3f} {kept:>11.3f} {dropped:>14.3f} "
              f"{other:>15} {balanced(rs, other):>8.3f}")


if __name__ == "__main__":
    main()
