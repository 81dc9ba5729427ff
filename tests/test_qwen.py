"""The chat-style path with the real Qwen2.5 1.5B instruct model: it reads the numbered evidence, writes an
answer with [n] markers, and every marker resolves to a verbatim, offset-checked quote.

Marked `qwen`; skipped (with the reason) until `make model-qwen` has installed the model. A few questions
only, so `make test` stays within minutes on 2 cores."""

from __future__ import annotations

import pytest

from conftest import MODELS_TOML
from rag.assistant import Assistant
from rag.citations import markers, verify
from rag.config import Settings, load_settings
from rag.models import installed_path
from rag.schema import Answer, Delta, Final, Turn

QWEN = "qwen2.5-1.5b"
_SPEC = load_settings(MODELS_TOML).llm[QWEN].install
assert _SPEC is not None
# Decided before any fixture runs, so a machine without the model builds no index for these tests.
pytestmark = [pytest.mark.qwen, pytest.mark.skipif(
    not installed_path(_SPEC).is_file(),
    reason=f"{QWEN} is not installed (run `make model-qwen`): {installed_path(_SPEC)} is missing")]


def unjudged(settings: Settings) -> Settings:
    """The settings without the judge (`--no-judge`): these tests are of the 1.5B as the answering model."""
    fast = settings.model_copy(deep=True)
    fast.answer.judge = None
    return fast


@pytest.fixture(scope="module")
def qwen(settings, assistant) -> Assistant:
    assert settings.llm[QWEN].style == "chat"
    a = Assistant(unjudged(settings), assistant.index_path, QWEN)
    a._retriever = assistant.retriever  # the session's index and query encoder; only the LLM differs
    return a


def ask(a: Assistant, question: str, history: tuple[Turn, ...] = ()) -> tuple[str, Answer]:
    events = list(a.stream(question, history))
    assert isinstance(events[-1], Final) and all(isinstance(e, Delta) for e in events[:-1])
    return "".join(e.text for e in events[:-1]), events[-1].answer


def assert_verified(a: Assistant, answer: Answer) -> None:
    assert answer.citations and not answer.abstained and answer.model == QWEN
    assert sorted(set(markers(answer.answer))) == [c.n for c in answer.citations]
    for c in answer.citations:
        assert verify(c, a.document(c.doc_id)), c


def test_qwen_reads_the_numbered_sources_and_cites_them(qwen):
    raw, answer = ask(qwen, "Who chaired the last Ramstein meeting?")
    assert markers(raw), f"the model wrote no [n] marker: {raw!r}"  # it used the numbered sources
    assert "United Kingdom" in raw
    assert "United Kingdom" in answer.answer
    assert_verified(qwen, answer)


def test_qwen_answers_in_its_own_words_with_a_verified_quote(qwen):
    raw, answer = ask(qwen, "Who is NATO's Secretary General?")
    assert markers(raw) and "Rutte" in raw
    assert answer.mode == "generated" and "Rutte" in answer.answer
    assert_verified(qwen, answer)


def test_qwen_follow_up_question(qwen):
    first = qwen.ask("What did Barrot demand of Russia?")
    assert_verified(qwen, first)
    _, answer = ask(qwen, "Who did he say it alongside?", (Turn(question=first.question, answer=first),))
    assert answer.search_query and "Barrot" in answer.search_query
    assert "Lammy" in answer.answer
    assert_verified(qwen, answer)


async def test_qwen_in_the_chat_app_after_switching_to_it(qwen, assistant, tmp_path):
    """The real UI: start on the default model, switch to the 1.5B (ctrl+p → Switch model), ask, and the
    streamed answer settles into a cited one whose source opens at its quote."""
    from rag.conversations import ConversationStore
    from rag.tui.app import ChatApp
    from rag.tui.screens import ArticleScreen
    from test_tui import settle

    core = Assistant(unjudged(assistant.settings), assistant.index_path)
    core._retriever, core._llm = assistant.retriever, assistant.llm  # the session's, already loaded
    app = ChatApp(core, store=ConversationStore(tmp_path / "data"))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        app.switch_model(QWEN)
        await settle(pilot, app)
        assert core.model_name == QWEN and QWEN in str(app.status.render())
        app.chat.question_input.focus()
        app.chat.question_input.set_text("Who chaired the last Ramstein meeting?")
        await pilot.press("enter")
        for _ in range(6000):  # a shared 2-core machine can take minutes
            await pilot.pause(0.1)
            if not app.chat.answering:
                break
        await settle(pilot, app)
        answer = app.chat.turns[-1].answer
        assert answer is not None and answer.model == QWEN and "United Kingdom" in answer.answer
        assert_verified(core, answer)
        app.query_one("#sources-list").focus()
        await pilot.press("enter")
        await settle(pilot, app)
        assert isinstance(app.screen, ArticleScreen)
        start, end = app.screen.span
        assert " ".join(app.screen.doc.text[start:end].split()) == " ".join(answer.citations[0].quote.split())


def test_the_judge_says_yes_to_evidence_that_answers_and_no_to_evidence_that_does_not(qwen):
    """The 1.5B as a yes/no judge (rag/judge.py): one forward pass, P(Yes) from its next-token logits."""
    from rag.judge import ModelJudge

    judge = ModelJudge(qwen.llm)
    evidence = "The city council of Aarhus voted on Monday to build 1,200 new homes near the harbour by 2028."
    answers = judge.p_yes("How many homes did the Aarhus council vote to build?", evidence)
    misses = judge.p_yes("How much will the Aarhus homes cost?", evidence)
    assert 0.0 <= misses < 0.5 < answers <= 1.0, (answers, misses)


def test_the_judge_reads_a_prompt_alike_whatever_it_read_before(qwen):
    """The judge keeps its prompts' shared opening in the context and reads only the rest, always cut at the
    same place: the same question and evidence get the same estimate after another prompt, or from scratch."""
    from rag.judge import ModelJudge

    judge = ModelJudge(qwen.llm)
    evidence = "The city council of Aarhus voted on Monday to build 1,200 new homes near the harbour by 2028."
    first = judge.p_yes("How many homes did the Aarhus council vote to build?", evidence)
    judge.p_yes("Who won the cup final?", "Arsenal beat Chelsea 2-1 in the cup final at Wembley on Saturday.")
    after_another = judge.p_yes("How many homes did the Aarhus council vote to build?", evidence)
    qwen.llm.load().reset()
    from_scratch = judge.p_yes("How many homes did the Aarhus council vote to build?", evidence)
    assert first == after_another == from_scratch
    assert [len(t) for t in qwen.llm._openings.values()] and min(len(t) for t in qwen.llm._openings.values()) > 10


def test_a_judged_assistant_puts_its_estimate_on_the_record(settings, assistant):
    """`[answer] judge` set: the judge is asked past the hard checks and the judged gate decides."""
    judged = settings.model_copy(deep=True)
    judged.answer.judge = QWEN
    a = Assistant(judged, assistant.index_path)
    a._retriever = assistant.retriever
    answer = a.ask("What did Barrot demand of Russia?")
    assert answer.answerability is not None and not answer.abstained
    assert a._judge_llm is not None and a._judge_llm.name == QWEN  # its own model beside the answering one
