"""The eval tables on hand-made runs: a set's row, the macro average (each set weighs the same), and
abstentions counted per reason, right (unanswerable) or false (answerable)."""

from __future__ import annotations

import io

from rich.console import Console

from rag import eval_report as report
from rag.evaluate import GoldItem, SetRun, judge
from rag.schema import Answer, Citation, Document, Reason, Retrieved

TEXT = "Rutte chaired the meeting in Brussels."
DOCS = {"A": Document(doc_id="A", title="t", source="s", text=TEXT, sha256="x")}


def item(i: str, answerable: bool = True) -> GoldItem:
    return GoldItem(id=i, question="Who chaired it?", must_include=[["Rutte"]] if answerable else [],
                    sources=["A"] if answerable else [], answerable=answerable)


def right_answer(latency: float = 1.0) -> Answer:
    cite = Citation(n=1, doc_id="A", title="t", chunk_id="A#0", quote=TEXT, text=TEXT, start=0, end=len(TEXT))
    return Answer(question="q", answer=f"“{TEXT}” [1]", citations=[cite], latency_s=latency,
                  retrieved=[Retrieved(doc_id="B", chunk_id="B#0", score=0.2), Retrieved(doc_id="A", chunk_id="A#0",
                                                                                    score=0.1)])


def abstention(code: str | None, latency: float = 0.1) -> Answer:
    reason = Reason(code=code, message="Why.") if code else None
    return Answer(question="q", answer="not in the articles", abstained=True, mode="abstained",
                  abstain_reason=reason, latency_s=latency)


def run_of(name: str, pairs: list[tuple[GoldItem, Answer]], method: str = "rag") -> SetRun:
    items = [i for i, _ in pairs]
    records = [a for _, a in pairs]
    return SetRun(name=name, method=method, items=items, records=records,
                  verdicts=[judge(i, a, DOCS) for i, a in pairs])


FIRST = run_of("first", [
    (item("a1"), right_answer(1.0)),
    (item("a2"), abstention("missing_name")),               # false abstention
    (item("a3"), abstention("weak_evidence")),              # false abstention
    (item("u1", False), abstention("missing_name")),        # right
    (item("u2", False), abstention("uncovered")),           # right
    (item("u3", False), right_answer(2.0)),                  # answered what it should not
])
SECOND = run_of("second", [
    (item("b1"), right_answer(3.0)),
    (item("v1", False), abstention("missing_name")),
    (item("v2", False), abstention(None)),                  # a record without a reason
])


def test_a_set_s_row():
    r = report.row(FIRST)
    assert (r["questions"], r["answerable"], r["unanswerable"]) == (6, 3, 3)
    assert r["answers_correct"] == 1 and r["false_abstentions"] == 2 and r["right_abstentions"] == 2
    assert r["combined_score"] == round(3 / 6, 3) and r["non_verbatim_quotes"] == 0
    assert (r["source_top5"], r["sourced"]) == (1, 3)  # only a1's answer retrieved its source
    assert r["latency_p50_s"] == 0.1  # median of 1.0, 0.1, 0.1, 0.1, 0.1, 2.0


def test_abstentions_are_counted_per_reason_right_and_false():
    assert report.reason_counts(FIRST) == {
        "missing_name": {"abstentions": 2, "right": 1, "false": 1},
        "uncovered": {"abstentions": 1, "right": 1, "false": 0},
        "weak_evidence": {"abstentions": 1, "right": 0, "false": 1},
    }
    assert report.reason_counts(SECOND) == {
        "missing_name": {"abstentions": 1, "right": 1, "false": 0},
        report.UNKNOWN_REASON: {"abstentions": 1, "right": 1, "false": 0},
    }
    total = report.total_reason_counts([FIRST, SECOND])
    assert total["missing_name"] == {"abstentions": 3, "right": 2, "false": 1}
    assert list(total)[0] == "missing_name"  # most frequent first


def test_the_macro_average_weighs_each_set_the_same():
    m = report.macro([FIRST, SECOND])
    assert m["sets"] == 2 and m["questions"] == 9
    assert m["combined_score"] == round((3 / 6 + 3 / 3) / 2, 3)
    assert m["answers_correct_rate"] == round((1 / 3 + 1 / 1) / 2, 3)
    assert m["false_abstention_rate"] == round((2 / 3 + 0) / 2, 3)
    assert m["right_abstention_rate"] == round((2 / 3 + 2 / 2) / 2, 3)
    assert m["source_top5_rate"] == round((1 / 3 + 1 / 1) / 2, 3)


def render(table) -> str:
    console = Console(file=io.StringIO(), width=200, color_system=None)
    console.print(table)
    return console.file.getvalue()


def test_the_tables_show_sets_baselines_macro_and_reasons():
    base = run_of("first", [(i, right_answer()) for i in FIRST.items], method="extractive")
    text = render(report.sets_table([[FIRST, base], [SECOND]]))
    assert "first" in text and "second" in text and "extractive" in text
    assert "macro (2 sets)" in text and "0.750" in text  # the system's macro combined score
    assert "1/3" in text and "2/3" in text
    assert "source in top 5" in text and text.count("66.7%") == 2  # macro: answers correct, sources in the first five
    reasons = render(report.reasons_table([FIRST, SECOND]))
    lines = {line.split()[1]: line for line in reasons.splitlines() if "missing_name" in line or "uncovered" in line}
    assert "1 / 1" in lines["missing_name"] and "2 / 1" in lines["missing_name"]  # first, and all sets
    assert "1 / 0" in lines["uncovered"] and "-" in lines["uncovered"]  # none in the second set


def test_no_abstentions_is_one_line_not_an_empty_table():
    answered = run_of("first", [(i, right_answer()) for i in FIRST.items])
    line = render(report.reasons_table([answered])).strip()
    assert line == "abstentions by reason: none (every question was answered)"


def test_the_suite_json():
    data = report.suite_json("dev.toml", [[FIRST], [SECOND]], {"first": {}, "second": {}}, {"first": "/idx/1"})
    assert [s["name"] for s in data["sets"]] == ["first", "second"] and data["sets"][0]["index"] == "/idx/1"
    assert data["macro"]["rag"]["combined_score"] == 0.75
    assert data["abstain_reasons"]["missing_name"]["abstentions"] == 3
