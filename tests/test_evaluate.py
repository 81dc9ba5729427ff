"""`rag eval`: the metric definitions on hand-made records, and runs through the real assistant."""

from __future__ import annotations

import io
import json

import pytest
from rich.console import Console

from conftest import gold_items, one_line
from rag.errors import UsageError
from rag.eval_run import run_eval
from rag.evaluate import GoldItem, compare_table, judge, load_gold, summarize
from rag.schema import Answer, Citation, Document, Retrieved

FIRST = "Barrot said Russia owes an answer to the United States."
TEXT = FIRST + " He wants a yes or no, and quickly."
DOC = Document(doc_id="A", title="t", source="s", text=TEXT, sha256="x")
DOCS = {"A": DOC}
ITEM = GoldItem(id="q1", question="What did Barrot demand of Russia?", must_include=[["answer"], ["yes", "quick"]],
                sources=["A"], answerable=True)
UNANSWERABLE = GoldItem(id="q2", question="Who won the 2024 European football championship?", answerable=False)


def cite(quote: str, n: int = 1, doc_id: str = "A", text: str = TEXT, shift: int = 0) -> Citation:
    start = text.index(quote) + shift
    return Citation(n=n, doc_id=doc_id, title="t", chunk_id=f"{doc_id}#0", quote=quote, text=text,
                    start=start, end=start + len(quote))


def record(answer: str, citations=(), retrieved=("B", "A", "A"), abstained=False, mode=None, latency=1.0,
           error=None) -> Answer:
    mode = mode or ("abstained" if abstained else "generated")
    return Answer(question="q", answer=answer, abstained=abstained, mode=mode, citations=list(citations),
                  retrieved=[Retrieved(doc_id=d, chunk_id=f"{d}#0", score=0.1) for d in retrieved],
                  latency_s=latency, error=error)


GOOD = record("Russia owes an answer, yes or no, and quickly [1].", [cite("He wants a yes or no, and quickly."),
                                                                     cite("Barrot said Russia owes an answer")])


def test_judge_a_correct_supported_answer():
    v = judge(ITEM, GOOD, DOCS)
    assert (v.correct, v.supported, v.passed, v.abstained) == (True, True, True, False)
    assert v.rank == 2 and v.recall5 == 1.0
    assert v.bad_quotes == 0 and v.ungrounded == []


def test_a_source_collapsed_into_another_articles_passage_counts_as_retrieved():
    """The same text filed under two names is one passage; it stands for both, and the own-name rank says
    which name retrieval showed."""
    rec = GOOD.model_copy(update={"retrieved": [Retrieved(doc_id="B", chunk_id="B#0", score=0.2),
                                                Retrieved(doc_id="Z", chunk_id="Z#0", score=0.1, copies=["A"])]})
    v = judge(ITEM, rec, DOCS)
    assert (v.rank, v.own_rank, v.recall5) == (2, None, 1.0)
    s = summarize([ITEM], [rec], [v])
    assert (s["hit@5"], s["hit@5_own_name"]) == (1.0, 0.0)


def test_judge_correct_but_not_supported_by_its_citations():
    rec = record("He wants an answer, yes or no [1].", [cite("Barrot said Russia owes an answer", text=FIRST)])
    v = judge(ITEM, rec, DOCS)
    assert v.correct and not v.supported and not v.passed  # "yes"/"quick" is not in what it cites


def test_judge_wrong_answer():
    rec = record("Russia owes an answer [1].", [cite("Barrot said Russia owes an answer")])
    v = judge(ITEM, rec, DOCS)
    assert not v.correct and not v.passed  # the [yes, quick] group is missing


def test_judge_false_abstention():
    v = judge(ITEM, record("The articles I have do not answer that question.", abstained=True), DOCS)
    assert v.abstained and not v.correct and not v.passed
    assert v.ungrounded == []  # an abstention claims nothing


def test_judge_unanswerable():
    assert judge(UNANSWERABLE, record("No idea.", abstained=True, retrieved=()), DOCS).passed
    wrong = judge(UNANSWERABLE, record("Spain won [1].", [cite("Barrot said Russia owes an answer")]), DOCS)
    assert not wrong.passed and wrong.rank is None and wrong.recall5 == 0.0
    assert "Spain" in wrong.ungrounded


def test_judge_counts_bad_quotes():
    rec = record("Russia owes an answer, yes or no [1][2].", [
        cite("He wants a yes or no, and quickly.", shift=1),               # offsets off by one
        cite("Barrot said Russia owes an answer", n=2).model_copy(update={"doc_id": "missing"}),
        cite("an answer", n=3).model_copy(update={"quote": "an answer!"}),  # not verbatim
    ])
    assert judge(ITEM, rec, DOCS).bad_quotes == 3


def test_judge_flags_names_and_numbers_nobody_wrote():
    rec = record("Lammy said Russia owes an answer within 45 days, yes or no [1].",
                 [cite("He wants a yes or no, and quickly."), cite("Barrot said Russia owes an answer")])
    v = judge(ITEM, rec, DOCS)
    assert set(v.ungrounded) == {"Lammy", "45"}
    assert v.passed  # ungrounded is reported separately from pass/fail


def test_judge_rank_and_recall():
    item = ITEM.model_copy(update={"sources": ["A", "C"]})
    v = judge(item, record("x", retrieved=("B", "B", "D", "E", "F", "A", "C")), DOCS)
    assert v.rank == 6 and v.recall5 == 0.0
    v = judge(item, record("x", retrieved=("C", "B", "A")), DOCS)
    assert v.rank == 1 and v.recall5 == 1.0
    v = judge(item, record("x", retrieved=("B", "A")), DOCS)
    assert v.rank == 2 and v.recall5 == 0.5


def test_summarize_metric_definitions():
    items = [
        ITEM,
        ITEM.model_copy(update={"id": "q3", "sources": ["A", "C"]}),
        ITEM.model_copy(update={"id": "q4"}),
        ITEM.model_copy(update={"id": "q5", "sources": []}),
        UNANSWERABLE,
        UNANSWERABLE.model_copy(update={"id": "q6"}),
    ]
    records = [
        GOOD.model_copy(update={"latency_s": 1.0}),                                           # pass, rank 2
        record("Russia owes an answer [1].", [cite("Barrot said Russia owes an answer")],     # wrong, rank 1
               retrieved=("A", "C"), latency=2.0, mode="extractive"),
        record("The articles I have do not answer that question.", abstained=True,            # false abstention
               retrieved=("B", "D"), latency=3.0),
        record("", mode="error", retrieved=(), latency=0.0, error="RuntimeError: boom"),      # error
        record("The articles I have do not answer that question.", abstained=True, latency=4.0),  # right
        record("Spain won it [1].", [cite("Barrot said Russia owes an answer")], latency=5.0),  # should abstain
    ]
    verdicts = [judge(i, r, DOCS) for i, r in zip(items, records, strict=True)]
    s = summarize(items, records, verdicts)
    assert (s["questions"], s["answerable"], s["unanswerable"]) == (6, 4, 2)
    # retrieval metrics over answerable items that name sources (q1, q3, q4)
    assert s["recall@5"] == round((1.0 + 1.0 + 0.0) / 3, 3)
    assert s["hit@5"] == s["hit@5_own_name"] == round(2 / 3, 3)
    assert s["mrr"] == round((1 / 2 + 1 / 1 + 0) / 3, 3)
    # answer metrics over the 4 answerable items
    assert s["answer_correct"] == round(1 / 4, 3)  # only q1: q3 lacks the [yes, quick] group
    assert s["citation_supported"] == round(1 / 4, 3)
    assert s["correct_abstentions"] == "1/2"
    assert s["false_abstentions"] == "1/4"
    assert s["errors"] == 1 and s["extractive"] == 1
    assert s["bad_quotes"] == 0
    assert s["ungrounded_answers"] == 1  # "Spain"
    # latency over answers that are not errors: 1, 2, 3, 4, 5
    assert s["latency_p50_s"] == 3.0 and s["latency_p95_s"] == 5.0
    # words of answers that are not abstentions and not empty: GOOD (10), q3 (5), q6 (4)
    assert s["median_answer_words"] == 5
    assert s["combined_score"] == round(2 / 6, 3)  # q1 and the correct abstention


def test_answer_correct_counts_must_include_groups():
    items = [ITEM, ITEM.model_copy(update={"id": "q3"})]
    records = [GOOD, record("Yes, quickly: an answer [1].", [cite("Barrot said Russia owes an answer", text=FIRST)])]
    verdicts = [judge(i, r, DOCS) for i, r in zip(items, records, strict=True)]
    assert [v.correct for v in verdicts] == [True, True]
    assert [v.supported for v in verdicts] == [True, False]
    s = summarize(items, records, verdicts)
    assert s["answer_correct"] == 1.0 and s["citation_supported"] == 0.5


def test_load_gold(tmp_path):
    path = tmp_path / "gold.jsonl"
    path.write_text('{"id": "a", "question": "Q?"}\n\n{"id": "b", "question": "R?", "answerable": false}\n')
    items = load_gold(path)
    assert [i.id for i in items] == ["a", "b"] and items[0].answerable and not items[1].answerable
    with pytest.raises(UsageError, match="not found"):
        load_gold(tmp_path / "missing.jsonl")
    path.write_text('{"id": "a", "question": "Q?"}\n{"question": "no id"}\n')
    with pytest.raises(UsageError, match=r"gold.jsonl:2"):
        load_gold(path)
    path.write_text("\n\n")
    with pytest.raises(UsageError, match="no questions"):
        load_gold(path)


def test_project_gold_file_loads():
    from conftest import GOLD

    items = load_gold(GOLD)
    assert len(items) == len(gold_items()) and len({i.id for i in items}) == len(items)
    assert all(i.sources and i.must_include for i in items if i.answerable)


def render(table) -> str:
    console = Console(file=io.StringIO(), width=200, color_system=None)
    console.print(table)
    return console.file.getvalue()


def test_compare_table_counts_fixed_and_broken(tmp_path):
    items = [ITEM, UNANSWERABLE, ITEM.model_copy(update={"id": "q3"}), ITEM.model_copy(update={"id": "new"})]
    old = [GOOD.model_copy(update={"id": "q1", "answer": "wrong"}),          # failed before
           record("Spain.", abstained=False).model_copy(update={"id": "q2"}),  # failed before
           GOOD.model_copy(update={"id": "q3"})]                             # passed before
    old_path = tmp_path / "old.jsonl"
    old_path.write_text("".join(r.model_dump_json() + "\n" for r in old))
    now = [GOOD, record("none", abstained=True), record("wrong now"), GOOD]
    verdicts = [judge(i, r, DOCS) for i, r in zip(items, now, strict=True)]
    out = render(compare_table(items, now, verdicts, old_path, DOCS))
    assert "2 fixed, 1 broken" in out
    lines = {ln.split("│")[1].strip(): ln for ln in out.splitlines() if ln.count("│") >= 4}
    assert "FAIL" in lines["q1"] and "pass" in lines["q1"]
    assert "new" in lines  # not in the old file: shown as new
    with pytest.raises(UsageError):
        compare_table(items, now, verdicts, tmp_path / "nope.jsonl", DOCS)


# ----- through the real assistant ------------------------------------------------------------------

GOLD = gold_items()


def tiny_gold(tmp_path, ids) -> object:
    path = tmp_path / "tiny.jsonl"
    path.write_text("".join(json.dumps(GOLD[i]) + "\n" for i in ids), encoding="utf-8")
    return path


def consoles():
    return (Console(file=io.StringIO(), width=200, color_system=None),
            Console(file=io.StringIO(), width=200, color_system=None))


@pytest.mark.slow
def test_eval_run_writes_one_record_per_question(assistant, tmp_path):
    ids = ["p01", "p30", "g35"]
    out_file = tmp_path / "eval" / "run.jsonl"
    out, err = consoles()
    summary = run_eval(assistant, tiny_gold(tmp_path, ids), out_file, None, True, out, err)
    records = [Answer.model_validate_json(x) for x in out_file.read_text().splitlines()]
    assert [r.id for r in records] == ids
    assert all(r.question == GOLD[i]["question"] for r, i in zip(records, ids, strict=True))
    assert all(r.error is None and r.model == assistant.model_name for r in records)
    assert records[1].abstained and records[2].abstained  # off-topic
    assert json.loads(out.file.getvalue()) == summary
    assert (summary["questions"], summary["answerable"], summary["unanswerable"], summary["errors"]) == (3, 1, 2, 0)
    # the summary agrees with judging the written records again
    verdicts = [judge(GoldItem(**GOLD[i]), r, assistant.store.documents) for i, r in zip(ids, records, strict=True)]
    reasons = summary.pop("abstain_reasons")
    assert summary == summarize([GoldItem(**GOLD[i]) for i in ids], records, verdicts)
    # both off-topic questions abstained for a reason, and both rightly
    assert sum(c["right"] for c in reasons.values()) == 2 and not any(c["false"] for c in reasons.values())
    progress = err.file.getvalue()
    assert all(f"{i}:" in progress for i in ids)


@pytest.mark.slow
def test_a_question_that_raises_is_recorded_and_the_run_goes_on(assistant, tmp_path, monkeypatch):
    ids = ["p30", "p29", "g35"]
    real_ask = assistant.ask

    def flaky(question, history=()):
        if question == GOLD["p29"]["question"]:
            raise RuntimeError("the model fell over")
        return real_ask(question, history)

    monkeypatch.setattr(assistant, "ask", flaky)
    out_file = tmp_path / "run.jsonl"
    out, err = consoles()
    summary = run_eval(assistant, tiny_gold(tmp_path, ids), out_file, None, False, out, err)
    records = [Answer.model_validate_json(x) for x in out_file.read_text().splitlines()]
    assert [r.id for r in records] == ids
    bad = records[1]
    assert bad.mode == "error" and "RuntimeError" in bad.error and "the model fell over" in bad.error
    assert records[0].error is None and records[2].error is None and records[2].abstained
    assert summary["errors"] == 1
    assert "errors" in out.file.getvalue()  # the table was printed


@pytest.mark.slow
def test_compare_against_an_earlier_run(assistant, tmp_path):
    ids = ["p30", "g34", "g35"]  # off-topic questions: answered without generating, so this stays quick
    gold = tiny_gold(tmp_path, ids)
    earlier = tmp_path / "earlier.jsonl"
    # the earlier run answered every one of them (wrongly), and one correctly abstained
    old = [Answer(id="p30", question="q", answer="Spain [1]."), Answer(id="g34", question="q", answer="Denver."),
           Answer(id="g35", question="q", answer="x", abstained=True, mode="abstained")]
    earlier.write_text("".join(r.model_dump_json() + "\n" for r in old))
    out, err = consoles()
    run_eval(assistant, gold, tmp_path / "now.jsonl", earlier, False, out, err)
    now = [Answer.model_validate_json(x) for x in (tmp_path / "now.jsonl").read_text().splitlines()]
    items = [GoldItem(**GOLD[i]) for i in ids]
    before = [judge(i, r, {}).passed for i, r in zip(items, old, strict=True)]
    after = [judge(i, r, {}).passed for i, r in zip(items, now, strict=True)]
    fixed = sum(not b and a for b, a in zip(before, after, strict=True))
    broken = sum(b and not a for b, a in zip(before, after, strict=True))
    assert fixed >= 1
    assert f"{fixed} fixed, {broken} broken" in out.file.getvalue()


@pytest.mark.slow
def test_compare_with_the_file_being_overwritten(assistant, tmp_path):
    ids = ["p30", "g35"]
    last = tmp_path / "last.jsonl"
    last.write_text("".join(Answer(id=i, question="q", answer="Wrong [1].").model_dump_json() + "\n" for i in ids))
    out, err = consoles()
    run_eval(assistant, tiny_gold(tmp_path, ids), last, last, False, out, err)
    assert "2 fixed, 0 broken" in out.file.getvalue()


@pytest.mark.parametrize("content", ['{"id": "q1"}\n', "not json\n", '["a list"]\n'])
def test_compare_file_that_is_not_answer_records(tmp_path, content):
    bad = tmp_path / "old.jsonl"
    bad.write_text(GOOD.model_dump_json() + "\n" + content)
    with pytest.raises(UsageError) as info:
        compare_table([ITEM], [GOOD], [judge(ITEM, GOOD, DOCS)], bad, DOCS)
    message = str(info.value)
    assert one_line(message) and f"{bad}:2:" in message and "rag eval --out" in message
    assert info.value.exit_code == 2


def test_a_bad_compare_file_fails_before_the_run(tmp_path):
    class NotToBeRun:
        def warm_up(self):
            raise AssertionError("the gold set ran before --compare was checked")

    bad = tmp_path / "old.jsonl"
    bad.write_text('{"id": "q1"}\n')
    with pytest.raises(UsageError):
        run_eval(NotToBeRun(), tiny_gold(tmp_path, ["p30"]), tmp_path / "out.jsonl", bad, False, *consoles())
    with pytest.raises(UsageError):
        run_eval(NotToBeRun(), tiny_gold(tmp_path, ["p30"]), None, tmp_path / "missing.jsonl", False, *consoles())


def test_a_gold_file_that_is_not_utf8_is_a_usage_error(tmp_path):
    path = tmp_path / "gold.jsonl"
    path.write_bytes(b'{"id": "a", "question": "Caf\xe9?"}\n')
    with pytest.raises(UsageError) as info:
        load_gold(path)
    assert one_line(str(info.value)) and "UTF-8" in str(info.value)


def test_an_unwritable_out_file_fails_before_the_run(tmp_path):
    class Ready:
        store = type("S", (), {"documents": {}})()

        def warm_up(self):
            pass

        def ask(self, question):
            raise AssertionError("a question was asked before --out was found unwritable")

    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(UsageError) as info:
        run_eval(Ready(), tiny_gold(tmp_path, ["p30"]), blocker / "out.jsonl", None, False, *consoles())
    assert one_line(str(info.value)) and "--out" in str(info.value)


def test_out_file_is_written_as_the_run_goes(tmp_path):
    """Each record is on disk as soon as its question is answered: an interrupted run keeps them."""
    out_file = tmp_path / "run.jsonl"
    seen: list[int] = []

    class Counting:
        store = type("S", (), {"documents": {}})()

        def warm_up(self):
            pass

        def ask(self, question):
            seen.append(len(out_file.read_text().splitlines()))
            return Answer(question=question, answer=prompts_abstain(), abstained=True, mode="abstained")

    run_eval(Counting(), tiny_gold(tmp_path, ["p30", "g35"]), out_file, None, True, *consoles())
    assert seen == [0, 1] and len(out_file.read_text().splitlines()) == 2


def prompts_abstain() -> str:
    from rag.prompts import abstain_sentence

    return abstain_sentence()
