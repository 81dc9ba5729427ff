"""Fit the abstention gate (rag/answerability.py) on the dev suite and write rag/gate.toml.

For every question of every set it runs retrieval and evidence choice as `rag ask` does (no model: the
gate decides before the model is asked), measures the gate's signals and labels the question: 1 when the
quoted evidence holds the gold answer (answering passes), 0 when the question is unanswerable (only
abstaining passes); answerable questions whose evidence misses the answer fail either way and teach
nothing. A logistic regression, each set weighing the same, gives the weights; the threshold is the one
that maximises the sets' mean pass rate among those that leave at most 8% of every set's answerable
questions unanswered (--max-false-abstentions) and answer each set's questions right at least as often as
the extractive baseline does (rag/baseline.py, asked the same questions over the same index; `--no-floor`
drops this). It prints, per set, that pass rate for: the checks' fixed order
(before the gate), never abstaining, the gate fitted on all sets, and the gate fitted on the other sets
only (leave one set out: how a fit carries to articles it never saw).

    .venv/bin/python scripts/fit_gate.py [--suite eval/dev.toml] [--write]

With `--judge NAME` (an instruct model of models.toml, installed) each question's evidence is also put
to that model as a yes/no question (rag/judge.py) and its P(Yes) becomes one more signal; the fit is
written to rag/judged_gate.toml, the gate used when `[answer] judge` is set. The judge's answers are kept
in the user cache (`judge-answers.jsonl`, keyed by model, question and evidence), so a re-fit asks it again
only where the question or its evidence changed. After a change to how the judge reads (its prompts, or how
rag/llm.py reads P(Yes)) its answers are stale: `--no-judge-cache` asks it everything again and starts a
new cache, the old one kept beside it as `judge-answers.jsonl.old`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rows import measured  # noqa: E402

from rag import answer, baseline, checks  # noqa: E402
from rag.answerability import JUDGE, JUDGE_MEANING, SIGNALS  # noqa: E402
from rag.assistant import Assistant  # noqa: E402
from rag.cache import cache_root  # noqa: E402
from rag.evaluate import GoldItem, load_gold  # noqa: E402
from rag.gate import GATE_FILE, JUDGED_GATE_FILE  # noqa: E402
from rag.judge import Judge  # noqa: E402
from rag.question import Question, normalise, parse  # noqa: E402
from rag.retrieval import Retriever  # noqa: E402
from rag.suite import load_suite, open_index  # noqa: E402

FEATURES = [*SIGNALS, *(f"check:{c.__name__}" for c in checks.SOFT_CHECKS)]
THRESHOLDS = np.round(np.arange(0.05, 0.951, 0.01), 2)
# Inverse L2 strengths of the logistic regression tried; the one whose fits carry best to the set left out
# (mean held-out pass rate) is kept.
C_GRID = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)
# The threshold may leave at most this share of a set's answerable questions unanswered: an assistant that
# declines what its articles answer fails its user as surely as one that answers wrongly, and the pass
# rate alone would trade the first for the second (#10's limit, 8%).
MAX_FALSE_ABSTENTIONS = 0.08
# Nor may it answer fewer of a set's questions right than the extractive baseline (#10's floor): a gate
# that declines answers a plain two-sentence quote gets right loses its user more than it saves. A question
# counts as right for the gate when it is answered and its quoted evidence holds the gold answer, which is
# how `rag eval` counts the assistant's answers on the dev suite (every such answer there was right).
# The floor holds with this many questions to spare: a `rag eval` run reproduces the rows to within one
# question a set (its model writes the lead-in, and a lead-in may change what counts), and the fit of
# 2026-12-06 that met the floor exactly in its rows (squad-dev 184 of 184) answered 183 right in the run.
FLOOR_MARGIN = 1


def holds(item: GoldItem, text: str) -> bool:
    low = text.lower()
    return all(any(alt.lower() in low for alt in group) for group in item.must_include)


@dataclass
class Case:
    """One question with what retrieval and evidence choice found for it: all the checks read."""

    set: str
    item: GoldItem
    q: Question
    ev: checks.Evidence
    retriever: Retriever
    quoted: str  # the evidence an answer would quote
    judged: list[str]  # the same, as the judge reads it (one text per story: rag.answer.judged_evidence)
    baseline_right: bool | None  # the extractive baseline answers it right (None: unanswerable)


def cases(assistant: Assistant, suite_file: Path) -> list[Case]:
    """Every question of every set of the suite, retrieved and its evidence chosen as `rag ask` does."""
    quotes = assistant.settings.answer.quotes
    headline_chars = assistant.settings.answer.judge_headline_chars
    each_story = assistant.settings.answer.judge_each_story
    found = []
    for s in load_suite(suite_file).sets:
        open_index(assistant, s)
        r = assistant.retriever  # keeps this set's index when the next set is opened
        for item in load_gold(s.gold):
            q = parse(normalise(item.question), [], expand=r.expand, roles=r.roles)
            ev = answer.gather(q, r, assistant.settings.answer.checks)
            right = holds(item, baseline.extractive_answer(r, item.question).answer) if item.answerable else None
            found.append(Case(s.name, item, q, ev, r, answer.quoted_evidence(ev, quotes)[0],
                              answer.judged_evidence(ev, quotes, headline_chars, each_story), right))
        print(f"[{s.name}] {sum(1 for c in found if c.set == s.name)} questions", file=sys.stderr)
    return found


class CachedJudge:
    """A judge whose P(Yes) for a question and its evidence is kept in a JSONL file, one answer a line:
    the same model, question and evidence get the same answer without a forward pass (~1-5 s each)."""

    def __init__(self, judge: Judge, model: str, path: Path | None, fresh: bool = False) -> None:
        """`fresh`: ask everything again and start the file anew, the earlier one kept as `<name>.old`."""
        self.judge, self.model, self.path = judge, model, path
        self.known: dict[str, float] = {}
        if fresh and path is not None and path.is_file():
            path.replace(path.with_name(path.name + ".old"))
        if path is not None and path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                with_key = json.loads(line)
                self.known[with_key["key"]] = with_key["p"]
        self.asked = 0

    def key(self, *parts: str) -> str:
        return hashlib.sha256("\0".join((self.model, *parts)).encode()).hexdigest()

    def p_yes(self, question: str, evidence: str) -> float:
        k = self.key(question, evidence)
        if k not in self.known:
            self.known[k] = self.judge.p_yes(question, evidence)
            self.asked += 1
            if self.path is not None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with self.path.open("a", encoding="utf-8") as f:
                    f.write(json.dumps({"key": k, "p": self.known[k]}) + "\n")
        return self.known[k]

    def supports(self, question: str, answer: str, evidence: str) -> float:
        return self.judge.supports(question, answer, evidence)


JUDGE_CACHE = "judge-answers.jsonl"  # in the user cache (rag/cache.py)
CACHE_ENV_NOTE = f"kept in the user cache's {JUDGE_CACHE}"


def row(case: Case, judge: Judge | None = None) -> dict:
    """The question's set, label, the checks' verdict in order, the gate's signals (None when a hard check
    fires) and whether the extractive baseline answers it right (None when it is unanswerable). Label 1: the
    quoted evidence holds the gold answer; 0: unanswerable; None: neither."""
    q, ev, r, item = case.q, case.ev, case.retriever, case.item
    out: dict = {"set": case.set, "id": item.id, "answerable": item.answerable,
                 "rules_abstain": checks.first_reason(q, ev, r) is not None, "signals": None, "label": 0,
                 "baseline": case.baseline_right}
    if checks.first_reason(q, ev, r, checks.HARD_CHECKS) is None:
        out["signals"] = checks.signals(q, ev, r)
        if judge is not None:
            out["signals"][JUDGE] = answer.judge_reading(judge, q.text, case.judged)
        out["label"] = (1 if holds(item, case.quoted) else None) if item.answerable else 0
    elif item.answerable:
        out["label"] = None
    return out


def collect(suite_file: Path, judge_name: str | None = None, judge_cache: Path | None = None,
            fresh: bool = False) -> list[dict]:
    """One row per question of the suite (see `row`); the judge's answers are read from and added to
    `judge_cache` when one is given (`fresh`: only added to, the file started anew)."""
    assistant = Assistant()
    judge: CachedJudge | None = None
    if judge_name:
        assistant.settings.answer.judge = judge_name
        assistant.check_model()
        assert assistant.judge is not None
        judge = CachedJudge(assistant.judge, judge_name, judge_cache, fresh)
    rows = [row(c, judge) for c in cases(assistant, suite_file)]
    if judge is not None:
        print(f"judge: asked {judge.asked}, the rest from {judge_cache}", file=sys.stderr)
    return rows


def matrix(rows: list[dict]) -> np.ndarray:
    return np.array([[(r["signals"] or {}).get(f, 0.0) for f in FEATURES] for r in rows])


def passed(rows: list[dict], answers: list[bool]) -> float:
    """The share of questions that pass: answered with the answer quoted, or unanswerable and abstained."""
    ok = sum((a and r["label"] == 1) or (not a and not r["answerable"]) for r, a in zip(rows, answers, strict=True))
    return ok / len(rows)


def false_abstentions(rows: list[dict], answers: list[bool]) -> float:
    """The share of the answerable questions left unanswered (whether or not the evidence held the answer)."""
    asked = [a for r, a in zip(rows, answers, strict=True) if r["answerable"]]
    return sum(not a for a in asked) / max(1, len(asked))


def right_answers(rows: list[dict], answers: list[bool]) -> int:
    """How many questions are answered with their quoted evidence holding the gold answer."""
    return sum(a and r["label"] == 1 for r, a in zip(rows, answers, strict=True))


def floor(rows: list[dict]) -> int:
    """How many of the rows' questions the extractive baseline answers right (0 for rows measured before
    the baseline was, which then set no floor)."""
    return sum(bool(r.get("baseline")) for r in rows)


def labelled(rows: list[dict]) -> list[dict]:
    """The rows the gate learns from: measured (no hard check fired) and labelled."""
    return [r for r in rows if r["signals"] is not None and r["label"] is not None]


def set_weights(rows: list[dict]) -> list[float]:
    """Each row's weight, so that every set weighs the same whatever its size."""
    sets = {r["set"] for r in rows}
    size = {s: sum(1 for r in rows if r["set"] == s) for s in sets}
    return [len(rows) / (len(sets) * size[r["set"]]) for r in rows]


def train(rows: list[dict], c: float):
    """The logistic regression over the labelled rows, each set weighing the same."""
    from sklearn.linear_model import LogisticRegression

    rs = labelled(rows)
    return LogisticRegression(C=c, max_iter=5000).fit(matrix(rs), [r["label"] for r in rs],
                                                       sample_weight=set_weights(rs))


def required(rows: list[dict], margin: int = FLOOR_MARGIN) -> int:
    """Right answers the floor asks of a set: the baseline's and `margin` more, as many as its evidence
    allows (0 for rows measured before the baseline was)."""
    base = floor(rows)
    return min(base + margin, sum(r["label"] == 1 for r in rows)) if base else 0


def fit(rows: list[dict], c: float, limit: float = 1.0, floored: bool = False, margin: int = FLOOR_MARGIN):
    """The logistic model, and the threshold with the best mean pass rate among those that abstain on at
    most `limit` of every set's answerable questions and, when `floored`, answer `margin` more of every set's
    questions right than the extractive baseline (the lowest threshold when none keeps to both)."""
    model = train(rows, c)
    sets = sorted({r["set"] for r in labelled(rows)})
    by_set = {s: [r for r in rows if r["set"] == s] for s in sets}
    probs = {s: model.predict_proba(matrix(rs))[:, 1] for s, rs in by_set.items()}

    def mean_pass(t: float) -> float:
        return float(np.mean([passed(rs, list(answerable_at(rs, probs[s], t))) for s, rs in by_set.items()]))

    def worst_false(t: float) -> float:
        return max(false_abstentions(rs, list(answerable_at(rs, probs[s], t))) for s, rs in by_set.items())

    def over_floor(t: float) -> bool:
        return not floored or all(right_answers(rs, list(answerable_at(rs, probs[s], t))) >= required(rs, margin)
                                  for s, rs in by_set.items())

    # Both limits only lower the threshold (a lower one answers more): when none keeps to both, the lowest
    # threshold comes nearest to them.
    allowed = [t for t in THRESHOLDS if worst_false(t) <= limit and over_floor(t)] or [THRESHOLDS[0]]
    threshold = max(allowed, key=mean_pass)
    return model, float(threshold)


def answerable_at(rows: list[dict], probs: np.ndarray, threshold: float):
    for r, p in zip(rows, probs, strict=True):
        yield r["signals"] is not None and p >= threshold


def answers_at(model, threshold: float, rows: list[dict]) -> list[bool]:
    """Which of the rows the gate `model` answers at `threshold`."""
    return list(answerable_at(rows, model.predict_proba(matrix(rows))[:, 1], threshold))


def evaluate(model, threshold: float, rows: list[dict]) -> float:
    return passed(rows, answers_at(model, threshold, rows))


def held_out(rows: list[dict], name: str, c: float, limit: float = 1.0, floored: bool = False,
             margin: int = FLOOR_MARGIN) -> tuple[float, float, float, int]:
    """On set `name`, a gate fitted on the other sets: its pass rate, false-abstention share, threshold and
    right answers."""
    model, threshold = fit([r for r in rows if r["set"] != name], c, limit, floored, margin)
    rs = [r for r in rows if r["set"] == name]
    return evaluate(model, threshold, rs), false_rate(model, threshold, rs), threshold, right_at(model, threshold, rs)


def false_rate(model, threshold: float, rows: list[dict]) -> float:
    return false_abstentions(rows, answers_at(model, threshold, rows))


def right_at(model, threshold: float, rows: list[dict]) -> int:
    return right_answers(rows, answers_at(model, threshold, rows))


def write(model, threshold: float, c: float, limit: float, floored: bool, margin: int, table: list[tuple], path: Path,
          judge: str | None = None) -> None:
    how = f"--judge {judge} --write" if judge else "--write"
    lines = [f"# The abstention gate, fitted by `scripts/fit_gate.py {how}` on the dev suite (eval/dev.toml);",
             f"# {date.today().isoformat()}. Do not edit by hand: re-run the script. P(the evidence answers) =",
             "# logistic(bias + sum of weight x signal); the assistant abstains below `abstain_below`.",
             f"# Logistic regression, each set weighing the same, C = {c} (chosen by held-out pass rate); the",
             f"# threshold leaves at most {limit:.0%} of any set's answerable questions unanswered"
             + (f" and answers {margin} more of each set's\n# questions right than the extractive baseline (a "
                "margin for a run, which reproduces the fit's rows\n# to within one question)."
                if floored else "."),
             "# Pass rate per set (answered with the answer quoted, or unanswerable and abstained), no model asked:",
             "#   set: checks in order / never abstain / this fit / fitted on the other sets only"]
    lines += [f"#   {s}: {a:.3f} / {b:.3f} / {c:.3f} / {d:.3f}" for s, a, b, c, d in table]
    lines += ["", "[gate]", f"bias = {model.intercept_[0]:.4f}", f"abstain_below = {threshold:.2f}", "",
              "[gate.weights]"]
    for name, w in zip(FEATURES, model.coef_[0], strict=True):
        meaning = {**SIGNALS, JUDGE: JUDGE_MEANING}.get(name) or \
            f"1 when the check {name.removeprefix('check:')} fires (rag/checks.py)"
        lines.append(f'"{name}" = {w:.4f}  # {meaning}')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suite", type=Path, default=ROOT / "eval" / "dev.toml")
    ap.add_argument("--rows", type=Path, help="read the measured rows from this file, or write them there")
    ap.add_argument("--c", type=float, help="inverse regularisation strength (default: the best of "
                    f"{', '.join(map(str, C_GRID))} on held-out sets)")
    ap.add_argument("--judge", metavar="NAME", help="ask this instruct model of models.toml whether the evidence "
                    f"answers, and fit {JUDGED_GATE_FILE.relative_to(ROOT)} with its estimate as a signal")
    ap.add_argument("--no-judge-cache", action="store_true", help="ask the judge every question again instead of "
                    f"reusing its earlier answers, and start its cache anew ({CACHE_ENV_NOTE}; the old one "
                    "is kept as .old): after a change to its prompts or to how its P(Yes) is read")
    ap.add_argument("--max-false-abstentions", type=float, default=MAX_FALSE_ABSTENTIONS, metavar="SHARE",
                    help="the threshold may leave at most this share of any set's answerable questions unanswered "
                    f"(default {MAX_FALSE_ABSTENTIONS}; 1 for no limit)")
    ap.add_argument("--no-floor", action="store_true", help="let the threshold answer fewer of a set's questions "
                    "right than the extractive baseline (default: it may not)")
    ap.add_argument("--floor-margin", type=int, default=FLOOR_MARGIN, metavar="N",
                    help=f"the floor holds with N questions a set to spare (default {FLOOR_MARGIN}: a run of "
                    "`rag eval` reproduces the rows to within one)")
    ap.add_argument("--write", action="store_true", help=f"write the fit to {GATE_FILE.relative_to(ROOT)} (with "
                    f"--judge: {JUDGED_GATE_FILE.relative_to(ROOT)})")
    args = ap.parse_args()
    if args.judge:
        FEATURES.append(JUDGE)
    rows = measured(args.rows, lambda: collect(args.suite, args.judge, cache_root() / JUDGE_CACHE,
                                                fresh=args.no_judge_cache))
    names = sorted({r["set"] for r in rows})
    limit, floored = args.max_false_abstentions, not args.no_floor
    if floored and not any(r.get("baseline") for r in rows):
        sys.exit(f"{args.rows} holds no baseline answers (measured before they were): measure again into a new "
                 "--rows file, or fit with --no-floor")
    c = args.c
    if c is None:
        means = {x: float(np.mean([held_out(rows, s, x, limit, floored, args.floor_margin)[0] for s in names]))
                 for x in C_GRID}
        print("held-out mean pass rate by C: " + ", ".join(f"{x}: {v:.3f}" for x, v in means.items()))
        c = max(C_GRID, key=means.__getitem__)
    model, threshold = fit(rows, c, limit, floored, args.floor_margin)
    table = []
    print(f"C = {c}; false abstentions at most {limit:.0%} of each set's answerable questions"
          + (f"; right answers at least the extractive baseline's + {args.floor_margin}" if floored else ""))
    print(f"{'set':<12} {'checks':>7} {'never':>7} {'fitted':>7} {'held out':>9}   "
          "false abstentions: fitted / held out; right answers: fitted / held out / baseline")
    for s in names:
        rs = [r for r in rows if r["set"] == s]
        rules = passed(rs, [not r["rules_abstain"] for r in rs])
        never = passed(rs, [r["signals"] is not None for r in rs])
        score, held_false, held_t, held_right = held_out(rows, s, c, limit, floored, args.floor_margin)
        row = (s, rules, never, evaluate(model, threshold, rs), score)
        table.append(row)
        print(f"{s:<12} {row[1]:>7.3f} {row[2]:>7.3f} {row[3]:>7.3f} {row[4]:>9.3f}   "
              f"{false_rate(model, threshold, rs):.3f} / {held_false:.3f} (held-out threshold {held_t}); "
              f"{right_at(model, threshold, rs)} / {held_right} / {floor(rs)}")
    print(f"{'mean':<12} " + " ".join(f"{np.mean([t[i] for t in table]):>{w}.3f}" for i, w in ((1, 7), (2, 7), (3, 7),
                                                                                            (4, 9))))
    print(f"threshold {threshold}; bias {model.intercept_[0]:.3f}")
    for name, w in sorted(zip(FEATURES, model.coef_[0], strict=True), key=lambda x: x[1]):
        print(f"  {w:+.3f}  {name}")
    if args.write:
        path = JUDGED_GATE_FILE if args.judge else GATE_FILE
        write(model, threshold, c, limit, floored, args.floor_margin, table, path, args.judge)
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
