"""Pilot tests of the chat TUI against a fake Assistant, plus one slow test with the real core and model."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import cast

import pytest
from textual import events
from textual.app import App, ComposeResult
from textual.keys import _character_to_key
from textual.pilot import Pilot
from textual.widgets import Input, Label, Markdown, OptionList, Static

from helpers import ARTICLES, DELTAS, DOC_TEXT, FINAL_TEXT, QUOTE, FakeAssistant, ask, make_app, settle, toasts
from rag.assistant import Assistant
from rag.conversations import ConversationStore, ConversationStoreError
from rag.errors import GenerationError, IndexMissingError, ModelCrashError, ModelMissingError
from rag.schema import (
    Answer,
    ArticleInfo,
    Citation,
    Final,
    Reason,
    StreamEvent,
    Turn,
)
from rag.scope import Scope
from rag.tui.app import ChatApp
from rag.tui.chat import Chat
from rag.tui.core import Core
from rag.tui.history import History
from rag.tui.screens import ArticleScreen, ConversationsScreen, HelpScreen, ScopeScreen
from rag.tui.widgets import QuestionInput, SourcesPanel, StatusUpdate, TurnView, answer_meta, linked


async def saved_conversation(tmp_path: Path) -> int:
    """A run of the app that asks one question and quits: its conversation id, saved in tmp_path."""
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await ask(pilot, app, "What did Barrot demand?")
        first_id = app.chat.conversation_id
    assert first_id is not None
    return first_id


async def test_ask_streams_then_settles_into_cited_answer(tmp_path: Path) -> None:
    gate = threading.Event()
    fake = FakeAssistant(gate=gate)
    app = make_app(tmp_path, fake)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press(*"What did Barrot demand?")
        await pilot.press("enter")
        for _ in range(50):  # the first delta is on screen while the model still "writes"
            await pilot.pause(0.02)
            if app.chat._pending and app.chat._pending.turn.streamed:
                break
        turn = app.query_one(TurnView)
        assert turn.streamed == "Barrot " and turn.answer is None
        assert app.chat.question_input.text == ""
        gate.set()
        await settle(pilot, app)
        assert turn.streamed == "".join(DELTAS)
        assert turn.answer is not None and turn.answer.answer == FINAL_TEXT  # replaced by the verified answer
        assert turn.query_one(Markdown).source == linked(FINAL_TEXT)  # with [1] clickable
        sources = app.query_one(SourcesPanel)
        assert [c.n for c in sources.citations] == [1]
        prompt = str(app.query_one("#sources-list", OptionList).get_option_at_index(0).prompt)
        assert "[1] France calls for a truce" in prompt and "002_557866627175f759" in prompt and QUOTE in prompt
        status = str(app.status.render())
        assert "fake-model" in status and "5 articles · 42 chunks" in status and "80 tok/s" in status
        assert fake.calls == [("What did Barrot demand?", [])]


async def test_open_citation_highlights_and_scrolls_to_quote(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await ask(pilot, app, "What did Barrot demand?")
        app.query_one("#sources-list").focus()
        await pilot.press("enter")
        await settle(pilot, app)
        screen = app.screen
        assert isinstance(screen, ArticleScreen)
        hit = screen.query_one(".-hit")
        assert QUOTE in str(hit.render())
        body = screen.query_one("#article-body")
        assert body.scroll_y > 0  # scrolled down to the quote ...
        assert body.region.contains_region(hit.region) or body.region.overlaps(hit.region)  # ... which is visible
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ArticleScreen)
        # The number key opens source n when the input is not focused; a click on the entry does too.
        app.query_one("#sources-list").focus()
        await pilot.press("1")
        await settle(pilot, app)
        assert isinstance(app.screen, ArticleScreen)
        await pilot.press("escape")
        await pilot.pause()
        await pilot.click("#sources-list", offset=(3, 0))
        await settle(pilot, app)
        assert isinstance(app.screen, ArticleScreen)
        await pilot.press("escape")
        await pilot.pause()
        # Clicking the [1] marker in the answer opens it too.
        answer_md = app.query_one(TurnView).query_one(Markdown)
        await pilot.click(answer_md, offset=(FINAL_TEXT.index("[1]") + 1, 0))
        await settle(pilot, app)
        assert isinstance(app.screen, ArticleScreen) and app.screen.citation.n == 1


async def test_escape_cancels_and_keeps_the_question(tmp_path: Path) -> None:
    gate = threading.Event()
    fake = FakeAssistant(gate=gate)
    app = make_app(tmp_path, fake)
    async with app.run_test(size=(100, 30)) as pilot:
        app.chat.question_input.set_text("What did Barrot demand?")
        await pilot.press("enter")
        for _ in range(50):
            await pilot.pause(0.02)
            if app.chat._pending and app.chat._pending.turn.streamed:
                break
        await pilot.press("escape")
        await pilot.pause()
        assert not app.chat.answering
        assert app.chat.question_input.text == "What did Barrot demand?"
        assert not app.query(TurnView)
        gate.set()  # the model "writes" on; its tokens must be discarded and the generator closed
        await settle(pilot, app)
        assert fake.closed.wait(5)
        assert not app.query(TurnView) and app.chat.turns == []
        assert app.history.store is not None and app.history.store.latest() is None  # nothing saved
        # The UI still works: ask again.
        await pilot.press("enter")
        await settle(pilot, app)
        assert len(app.query(TurnView)) == 1 and len(app.chat.turns) == 1


async def test_a_narrowed_index_says_so_in_the_status_line(tmp_path: Path) -> None:
    fake = FakeAssistant()
    fake.scope = Scope.parse(source="sport", since="2005-03")
    app = make_app(tmp_path, fake)
    async with app.run_test(size=(200, 36)) as pilot:
        await settle(pilot, app)
        status = str(app.status.render())
        assert "5 articles · 42 chunks · only those from files matching 'sport', dated 2005-03-01 or later" in status


async def test_the_scope_form_narrows_the_articles_and_says_what_is_wrong(tmp_path: Path) -> None:
    fake = FakeAssistant()
    app = make_app(tmp_path, fake)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, app)
        app.action_narrow()
        await settle(pilot, app)
        assert isinstance(app.screen, ScopeScreen)
        await pilot.press(*"sport", "tab", *"2005-13", "enter")  # a month that is no month
        await settle(pilot, app)
        assert isinstance(app.screen, ScopeScreen) and fake.scope.whole
        assert "not a date: '2005-13'" in str(app.screen.query_one("#scope-error", Label).render())
        await pilot.press(*["backspace"] * 2, *"03", "enter")
        await settle(pilot, app)
        assert not isinstance(app.screen, ScopeScreen)
        assert fake.scope == Scope.parse(source="sport", since="2005-03")
        assert "only those from files matching 'sport', dated 2005-03-01 or later" in str(app.status.render())
        assert any("Asking 4 articles from files matching 'sport'" in t for t in toasts(app))
        app.action_narrow()  # no article matches: said, and the old scope kept
        await settle(pilot, app)
        app.screen.query_one("#scope-source", Input).value = "nothing"
        await pilot.press("enter")
        await settle(pilot, app)
        assert fake.scope == Scope.parse(source="sport", since="2005-03")
        assert any("no article is from files matching 'nothing'" in t for t in toasts(app))
        app.action_narrow()  # emptied: every article again
        await settle(pilot, app)
        for name in ("source", "since", "until"):
            app.screen.query_one(f"#scope-{name}", Input).value = ""
        await pilot.press("enter")
        await settle(pilot, app)
        assert fake.scope.whole and "only those" not in str(app.status.render())


async def test_the_scope_form_counts_and_lists_what_the_typed_scope_holds(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        app.action_narrow()
        await settle(pilot, app)

        def preview() -> str:
            return str(app.screen.query_one("#scope-matches", Static).render())

        assert preview().startswith("every article (7)")
        await pilot.press(*"sport")
        lines = preview().splitlines()
        assert lines[0] == "6 of 7 articles"
        assert lines[1].startswith("2005-03-01  /news/bbc_sport_001.txt  Sport story 1")
        assert len(lines) == 7 and lines[-1] == "… and 1 more"  # five listed
        app.screen.query_one(Input).value = "bbc_"  # a title too long for the form ends in an ellipsis
        long = ArticleInfo(doc_id="bbc_long", title="word " * 60, source="/news/bbc_long.txt")
        cast("ScopeScreen", app.screen).show_articles([long])
        await pilot.pause()
        assert app.screen.query_one("#scope-matches", Static).size.height == 2  # "1 of 1 articles", one line
        cast("ScopeScreen", app.screen).show_articles(ARTICLES)
        app.screen.query_one(Input).value = "sport"
        await pilot.press("tab", *"2005-03-0")  # half a date: no count until it is one
        assert preview() == ""
        await pilot.press("3")
        assert preview().splitlines()[0] == "2 of 7 articles"  # 3 and 4 March
        await pilot.press(*"1")  # 2005-03-031: no date; said on enter, as before
        await pilot.press("enter")
        assert "not a date" in str(app.screen.query_one("#scope-error", Label).render())
        await pilot.press("backspace")
        assert str(app.screen.query_one("#scope-error", Label).render()) == ""  # cleared as the user types
        app.screen.query_one("#scope-source", Input).value = "tennis"
        await pilot.pause()
        assert preview() == "no article matches (the index holds 7, 4 of them dated)"


async def test_the_scope_form_without_an_index_says_it_waits_for_one(tmp_path: Path) -> None:
    fake = FakeAssistant()
    fake.index_present = False
    app = make_app(tmp_path, fake)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        app.action_narrow()
        await settle(pilot, app)
        await pilot.press(*"sport")
        assert "no index yet" in str(app.screen.query_one("#scope-matches", Static).render())
        await pilot.press("enter")
        await settle(pilot, app)
        assert fake.scope == Scope.parse(source="sport")


async def test_follow_up_passes_history(tmp_path: Path) -> None:
    fake = FakeAssistant()
    app = make_app(tmp_path, fake)
    async with app.run_test(size=(100, 30)) as pilot:
        await ask(pilot, app, "What did Barrot demand?")
        await ask(pilot, app, "Why did he say that?")
        assert [q for q, _ in fake.calls] == ["What did Barrot demand?", "Why did he say that?"]
        history = fake.calls[1][1]
        assert len(history) == 1 and history[0].question == "What did Barrot demand?"
        assert history[0].answer is not None and history[0].answer.answer == FINAL_TEXT


async def test_a_chat_over_another_index_does_not_reopen_this_ones_conversation(tmp_path: Path) -> None:
    first_id = await saved_conversation(tmp_path)  # held over FakeAssistant's /tmp/fake-index
    other = FakeAssistant()
    other.index_path = tmp_path / "other-index"
    app = make_app(tmp_path, other)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        assert app.chat.conversation_id is None and not app.query(TurnView)  # its citations are not here
        await ask(pilot, app, "Something else?")
        await pilot.press("ctrl+o")  # every conversation is listed; one over another index says so
        await pilot.pause()
        options = app.screen.query_one(OptionList)
        shown = {str(options.get_option_at_index(i).id): str(options.get_option_at_index(i).prompt)
                 for i in range(options.option_count)}
        assert f"other index: {Path(FakeAssistant().index_path).resolve()}" in shown[str(first_id)]
        assert "other index" not in shown[str(app.chat.conversation_id)]
    again = make_app(tmp_path)  # back over the first index: its latest conversation reopens
    async with again.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert again.chat.conversation_id == first_id


async def test_conversations_persist_across_restarts(tmp_path: Path) -> None:
    first_id = await saved_conversation(tmp_path)

    fake = FakeAssistant()
    app2 = make_app(tmp_path, fake)  # reopens the last conversation
    async with app2.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert app2.chat.conversation_id == first_id
        turn = app2.query_one(TurnView)
        assert turn.question == "What did Barrot demand?"
        assert turn.query_one(Markdown).source == linked(FINAL_TEXT)
        assert [c.n for c in app2.query_one(SourcesPanel).citations] == [1]
        await ask(pilot, app2, "Why did he say that?")  # a follow-up sees the restored turn
        assert fake.calls[0][1][0].question == "What did Barrot demand?"
        await pilot.press("up")  # earlier questions are recallable
        assert app2.chat.question_input.text == "Why did he say that?"

    app3 = make_app(tmp_path, new=True)
    async with app3.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert app3.chat.conversation_id is None and not app3.query(TurnView)
        await ask(pilot, app3, "Something else?")
        assert app3.chat.conversation_id != first_id
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert isinstance(app3.screen, ConversationsScreen)
        options = app3.screen.query_one(OptionList)
        assert options.option_count == 2
        options.highlighted = [o.id for o in options.options].index(str(first_id))
        await pilot.press("enter")
        await settle(pilot, app3)
        assert app3.chat.conversation_id == first_id and len(app3.query(TurnView)) == 2


async def test_export_writes_markdown_with_citations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+s")  # nothing to export yet: a warning, no file
        await pilot.pause()
        assert not list(tmp_path.glob("*.md"))
        await ask(pilot, app, "What did Barrot demand?")
        await pilot.press("ctrl+s")
        await pilot.pause()
        files = list(tmp_path.glob("conversation-*.md"))
        assert len(files) == 1
        text = files[0].read_text(encoding="utf-8")
        assert FINAL_TEXT in text and f"“{QUOTE}”" in text and "002_557866627175f759" in text
        assert any(str(files[0].name) in t for t in toasts(app))


class AbstainingAssistant(FakeAssistant):
    """Answers every question with an abstention and the reason a check gave."""

    def stream(self, question: str, history: Sequence[Turn] = ()) -> Iterator[StreamEvent]:
        self.calls.append((question, list(history)))
        yield Final(answer=Answer(question=question, answer="The articles I have do not answer that question.",
                                  abstained=True, mode="abstained", model=self.model_name, latency_s=0.2,
                                  abstain_reason=Reason(code="missing_name", message="The question names 'Kallas', "
                                                        "which no passage found mentions."),
                                  considered=[considered_quote()]))


def considered_quote() -> Citation:
    start = DOC_TEXT.index(QUOTE)
    return Citation(n=1, doc_id="002_557866627175f759", title="France calls for a truce",
                    chunk_id="002_557866627175f759#3", quote=QUOTE, text=QUOTE, start=start, end=start + len(QUOTE))


async def test_an_abstention_shows_its_reason_in_the_footnote(tmp_path: Path) -> None:
    app = make_app(tmp_path, AbstainingAssistant())
    async with app.run_test(size=(140, 40)) as pilot:
        await ask(pilot, app, "What did Kallas say?")
        turn = app.query(TurnView).last()
        meta = str(turn.query_one(".meta").render())
        assert "abstained: The question names 'Kallas', which no passage found mentions." in meta
        assert turn.has_class("-abstained")
        # The sources panel lists the evidence the abstention read, labelled as no answer; it opens.
        assert "Evidence read, not an answer (1)" in str(app.query_one("#sources-title", Label).render())
        assert [c.quote for c in app.query_one(SourcesPanel).citations] == [QUOTE]
        app.query_one("#sources-list").focus()
        await pilot.press("enter")
        await settle(pilot, app)
        assert isinstance(app.screen, ArticleScreen) and QUOTE in str(app.screen.query_one(".-hit").render())


async def test_errors_are_notifications_and_the_app_keeps_running(tmp_path: Path) -> None:
    fake = FakeAssistant(fail=GenerationError("the model failed to generate (try again)"))
    app = make_app(tmp_path, fake)
    async with app.run_test(size=(100, 30)) as pilot:
        await ask(pilot, app, "What did Barrot demand?")
        assert any("failed to generate" in t for t in toasts(app))
        assert app.chat.question_input.text == "What did Barrot demand?" and not app.query(TurnView)
        fake.fail = IndexMissingError("no index at x: build one with `rag index seeds/`")
        await pilot.press("enter")
        await settle(pilot, app)
        assert any("Re-index" in t for t in toasts(app))
        fake.fail = None
        await pilot.press("enter")
        await settle(pilot, app)
        assert len(app.chat.turns) == 1


async def test_app_runs_without_conversation_history(tmp_path: Path) -> None:
    app = ChatApp(cast("Assistant", FakeAssistant()), store=None, store_error="cannot open /nowhere/conversations.db")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        assert any("will not be saved" in t for t in toasts(app))
        await ask(pilot, app, "What did Barrot demand?")
        assert len(app.chat.turns) == 1 and app.chat.conversation_id is None
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert not isinstance(app.screen, ConversationsScreen)


async def test_a_stale_word_index_is_reported_at_start_and_the_chat_still_answers(tmp_path: Path) -> None:
    fake = FakeAssistant()
    fake.warnings = ["the word index of x was built by another version, which reads words differently: "
                     "re-index to rebuild it (`rag index`, or ctrl+p → Re-index articles in the chat)"]
    app = make_app(tmp_path, fake)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        assert any("word index" in t and "Re-index articles" in t for t in toasts(app))
        await ask(pilot, app, "What did Barrot demand?")
        assert len(app.chat.turns) == 1


async def test_missing_index_or_model_is_reported_at_start(tmp_path: Path) -> None:
    fake = FakeAssistant()
    fake.has_index = lambda: False  # type: ignore[method-assign]
    app = make_app(tmp_path, fake)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        assert any("no index" in t and "rag index" in t for t in toasts(app))
        assert "no index" in str(app.status.render())

    def missing() -> None:
        raise ModelMissingError("model file not found: /nowhere/m.gguf (fix `path` in models.toml)")

    fake = FakeAssistant()
    fake.warm_up = missing  # type: ignore[method-assign]
    app = make_app(tmp_path, fake)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        assert any("model file not found" in t and "Switch model: other-model" in t for t in toasts(app))
        assert "model not loaded" in str(app.status.render())
        await pilot.press("ctrl+q")
    assert app.return_code == 0


async def test_a_model_that_crashes_its_self_check_is_a_notification(tmp_path: Path) -> None:
    def crash() -> None:
        raise ModelCrashError("model m.gguf: llama.cpp crashed (SIGSEGV) in a one-token self-check: this "
                              "llama-cpp-python build does not run on this CPU; rebuild ... `make rebuild-llama`")

    fake = FakeAssistant()
    fake.warm_up = crash  # type: ignore[method-assign]
    app = make_app(tmp_path, fake)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        crashed = [n for n in app._notifications if n.title == "Model crashed"]
        assert crashed and "SIGSEGV" in str(crashed[0].message) and "make rebuild-llama" in str(crashed[0].message)
        assert "model not loaded" in str(app.status.render())
        await pilot.press("ctrl+q")
    assert app.return_code == 0


async def test_input_newline_and_history_keys(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await ask(pilot, app, "first question")
        await pilot.press("a", "ctrl+j", "b")  # a newline, not a send
        assert app.chat.question_input.text == "a\nb" and len(app.chat.turns) == 1
        await pilot.press("down", "up")  # on the last line Down does nothing; Up moves within the text
        await pilot.press("up")  # now on the first line: recall
        assert app.chat.question_input.text == "first question"
        await pilot.press("down")  # back to the draft
        assert app.chat.question_input.text == "a\nb"
        app.query_one("#sources-list").focus()  # typing elsewhere goes to the question box
        await pilot.press("x")
        assert app.focused is app.chat.question_input and app.chat.question_input.text.endswith("x")


def burst(app: ChatApp, text: str, *keys: str) -> None:
    """Send keys the way a terminal does when a line arrives at once (a fast typist, a macro, tmux
    send-keys): all queued before the app handles the first, unlike `pilot.press`."""
    for key in [*text, *keys]:
        name = _character_to_key(key) if len(key) == 1 and not key.isalnum() else key
        event = events.Key(name, key if len(key) == 1 else None)
        event.set_sender(app)
        app.post_message(event)


async def test_a_burst_of_typing_elsewhere_lands_in_the_box(tmp_path: Path) -> None:
    fake = FakeAssistant()
    app = make_app(tmp_path, fake)
    async with app.run_test(size=(100, 30)) as pilot:
        await ask(pilot, app, "What did Barrot demand?")
        app.query_one("#sources-list").focus()
        await pilot.pause()
        # `?` and digits would open the help / a source, and Enter the highlighted source, had they
        # gone by the focus the keys found; they were typed for the question box.
        burst(app, "Why 2 and 1?", "enter")
        await settle(pilot, app)
        assert not isinstance(app.screen, (HelpScreen, ArticleScreen))
        assert [q for q, _ in fake.calls] == ["What did Barrot demand?", "Why 2 and 1?"]
        assert app.chat.question_input.text == "" and app.focused is app.chat.question_input
        # A paste while the sources have focus goes into the box too.
        app.query_one("#sources-list").focus()
        await pilot.pause()
        app.post_message(events.Paste("pasted words"))
        await pilot.pause()
        assert app.chat.question_input.text == "pasted words" and app.focused is app.chat.question_input
        # With the box focused, typing ? and digits still just types them.
        await pilot.press("space", "?", "3")
        assert app.chat.question_input.text == "pasted words ?3" and not isinstance(app.screen, HelpScreen)


async def test_palette_help_copy_and_quit(tmp_path: Path) -> None:
    fake = FakeAssistant()
    app = make_app(tmp_path, fake)
    async with app.run_test(size=(100, 30)) as pilot:
        await ask(pilot, app, "What did Barrot demand?")
        await pilot.press("f2")
        assert app.clipboard.startswith(FINAL_TEXT) and QUOTE in app.clipboard
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"switch model other")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await settle(pilot, app)
        assert fake.switched == ["other-model"] and "other-model" in str(app.status.render())
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"re-index")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await settle(pilot, app)
        assert fake.indexed and any("Index rebuilt" in (n.title or "") for n in app._notifications)
        await pilot.press("ctrl+q")
    assert app.return_code == 0


@pytest.mark.parametrize("size", [(80, 24), (200, 60)])
async def test_layout_is_usable_small_and_large(tmp_path: Path, size: tuple[int, int]) -> None:
    fake = FakeAssistant()
    fake.model_name = "gemma3-270m"
    app = make_app(tmp_path, fake)
    async with app.run_test(size=size) as pilot:
        for q in ("What did Barrot demand?", "Why did he say that?", "And then?"):
            await ask(pilot, app, q)
        visible = str(app.status.render())[: app.status.content_region.width]  # the rest is cut off
        assert "gemma3-270m" in visible and "5 articles · 42 chunks" in visible and "last 0.5s · 80 tok/s" in visible
        conversation, sources = app.query_one("#conversation"), app.query_one("#sources")
        question = app.query_one(QuestionInput)
        assert question.region.height >= 3 and question.region.bottom <= size[1]
        assert conversation.region.height >= 6 and sources.region.height >= 5
        last = app.query(TurnView).last()  # the newest answer is scrolled into view
        assert conversation.region.contains(last.region.x, last.region.bottom - 1)
        if size[0] < 110:
            assert sources.region.y >= conversation.region.bottom  # under the answer
        else:
            assert sources.region.x >= conversation.region.right  # beside it
        app.query_one("#sources-list").focus()
        await pilot.press("enter")
        await settle(pilot, app)
        assert isinstance(app.screen, ArticleScreen)
        assert app.screen.query_one(".-hit").region.height >= 1
        await pilot.press("escape")
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)


async def test_palette_lists_the_chat_commands_and_finds_saved_conversations(tmp_path: Path) -> None:
    first_id = await saved_conversation(tmp_path)

    app = make_app(tmp_path, new=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        commands = {c.title: c for c in app.get_system_commands(app.screen)}
        for title in ("New conversation", "Conversations: list and resume", "Export conversation to Markdown",
                      "Copy last answer", "Articles: browse and read", "Re-index articles", "Help: keys",
                      "Switch model: fake-model (current)",
                      "Switch model: other-model", "Quit"):
            assert commands[title].discover, title
        saved = commands[f"Open conversation #{first_id}: What did Barrot demand?"]
        assert not saved.discover  # found by typing, not listed up front
        await pilot.press("ctrl+p")
        await pilot.pause(0.5)
        shown = [str(o.prompt) for o in app.screen.query_one(OptionList).options]  # listed before typing
        assert any("Re-index articles" in s for s in shown) and any("Switch model: other-model" in s for s in shown)
        assert not any("Open conversation" in s for s in shown)
        await pilot.press(*f"open conversation #{first_id}")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await settle(pilot, app)
        assert app.chat.conversation_id == first_id and len(app.query(TurnView)) == 1


class ChatHost(App[None]):
    """The `Chat` widget on its own, to check what it owns without the chat app around it."""

    def __init__(self, chat: Chat) -> None:
        super().__init__()
        self.chat = chat
        self.updates: list[dict[str, str]] = []

    def compose(self) -> ComposeResult:
        yield self.chat

    def on_status_update(self, event: StatusUpdate) -> None:
        self.updates.append(event.fields)


async def test_the_chat_widget_asks_the_assistant_and_keeps_the_conversation(tmp_path: Path) -> None:
    fake = FakeAssistant()
    history = History(ConversationStore(tmp_path / "data"))
    host = ChatHost(Chat(Core(cast("Assistant", fake)), history))
    async with host.run_test(size=(100, 30)) as pilot:
        for question in ("What did Barrot demand?", "Why did he say that?"):
            host.chat.question_input.set_text(question)
            await pilot.press("enter")
            await settle(pilot, host)
        assert [q for q, _ in fake.calls] == ["What did Barrot demand?", "Why did he say that?"]
        assert [t.question for t in fake.calls[1][1]] == ["What did Barrot demand?"]  # the follow-up's history
        assert len(host.chat.turns) == 2 and host.chat.sources.citations[0].quote == QUOTE
        saved = history.load(host.chat.conversation_id or 0)
        assert [t.question for t in saved.turns] == ["What did Barrot demand?", "Why did he say that?"]
        assert {"state": "answering… (esc cancels)"} in host.updates
        assert {"state": "ready", "last": "last 0.5s · 80 tok/s"} in host.updates
        assert {"conversation": f"#{saved.id} What did Barrot demand?"} in host.updates


async def test_the_chat_widget_runs_unsaved_without_a_store(tmp_path: Path) -> None:
    history = History(None, "cannot open /nowhere/conversations.db")
    host = ChatHost(Chat(Core(cast("Assistant", FakeAssistant())), history))
    async with host.run_test(size=(100, 30)) as pilot:
        host.chat.question_input.set_text("What did Barrot demand?")
        await pilot.press("enter")
        await settle(pilot, host)
        assert len(host.chat.turns) == 1 and host.chat.conversation_id is None
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert not isinstance(host.screen, ConversationsScreen)
        assert any("cannot open /nowhere" in str(n.message) for n in host._notifications)


def test_history_saves_to_one_conversation_and_says_why_it_is_unavailable(tmp_path: Path) -> None:
    history = History.open(tmp_path / "data")
    assert history.available and history.recent() == []
    answer = Answer(question="q", answer="a")
    conversation_id, title = history.save(None, "What did Barrot demand?", answer)
    assert history.save(conversation_id, "And then?", answer) == (conversation_id, title)
    assert title == "What did Barrot demand?" and [c.turns for c in history.recent()] == [2]

    (tmp_path / "a-file").write_text("not a folder")
    broken = History.open(tmp_path / "a-file")
    assert not broken.available and "cannot create data dir" in broken.unavailable_reason
    assert broken.recent() == []
    with pytest.raises(ConversationStoreError, match="cannot create data dir"):
        broken.save(None, "q", answer)


async def test_a_model_that_fails_to_load_on_switching_is_not_kept(tmp_path: Path) -> None:
    fake = FakeAssistant()
    app = make_app(tmp_path, fake)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)

        def broken() -> None:
            raise ModelMissingError("model file not found: /nowhere/other.gguf")

        fake.warm_up = broken  # type: ignore[method-assign]
        app.switch_model("other-model")
        await settle(pilot, app)
        assert fake.model_name == "fake-model" and fake.switched == ["other-model", "fake-model"]
        status = str(app.status.render())
        assert "fake-model" in status and "other-model" not in status
        assert any("cannot use model 'other-model'" in t and "still using fake-model" in t for t in toasts(app))


REPO = Path(__file__).resolve().parent.parent


async def ask_real(pilot: Pilot, app: ChatApp, question: str) -> None:
    app.chat.question_input.focus()
    app.chat.question_input.set_text(question)
    await pilot.press("enter")
    for _ in range(1200):
        await pilot.pause(0.1)
        if not app.chat.answering:
            break
    await settle(pilot, app)


@pytest.mark.slow
async def test_real_core_answers_with_openable_citation(tmp_path: Path) -> None:
    """The real index, embedder and bundled LLM behind the real UI."""
    assistant = Assistant(index_path=tmp_path / "index")
    assistant.index([REPO / "seeds"])
    app = ChatApp(assistant, store=ConversationStore(tmp_path / "data"))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        assert "articles" in str(app.status.render())
        await ask_real(pilot, app, "What did Barrot demand?")
        assert len(app.chat.turns) == 1 and app.chat.turns[0].answer is not None
        answer = app.chat.turns[0].answer
        turn = app.query_one(TurnView)
        assert turn.query_one(Markdown).source.strip() == (linked(answer.answer).strip() or "_(no answer)_")
        assert not any(n.severity == "error" for n in app._notifications), toasts(app)
        if answer.citations:  # a grounded answer: its first source opens at the quote
            app.query_one("#sources-list").focus()
            await pilot.press("enter")
            await settle(pilot, app)
            assert isinstance(app.screen, ArticleScreen)
            assert app.screen.span is not None
            start, end = app.screen.span
            assert " ".join(app.screen.doc.text[start:end].split()) == " ".join(answer.citations[0].quote.split())
            await pilot.press("escape")
            await pilot.pause()
        else:
            assert answer.abstained
        # A follow-up: the UI hands the core the conversation, and the core searches with its subject.
        await ask_real(pilot, app, "Why did he say that?")
        assert len(app.chat.turns) == 2 and app.chat.turns[1].answer is not None
        assert "Barrot" in (app.chat.turns[1].answer.search_query or ""), app.chat.turns[1].answer
        assert len(app.query(TurnView)) == 2 and not isinstance(app.screen, ArticleScreen)


def test_speed_is_the_models_own_tokens_per_second() -> None:
    """tok/s divides the tokens by the model's writing time, not the answer's latency (which also counts
    retrieval and the judge); a record saved before that time was kept shows no speed rather than a wrong one."""
    timed = Answer(question="q", answer="a", model="m", latency_s=4.0, generation_s=0.5, tokens=20)
    assert "40 tok/s" in answer_meta(timed) and "4.0s" in answer_meta(timed)
    untimed = Answer(question="q", answer="a", model="m", latency_s=4.0, tokens=20)
    assert "tok/s" not in answer_meta(untimed)


def test_an_answer_asked_of_some_articles_says_which() -> None:
    narrowed = Answer(question="q", answer="a", model="m", scope="from files matching 'sport'")
    assert "asked of the articles from files matching 'sport'" in answer_meta(narrowed)
    assert "asked of" not in answer_meta(Answer(question="q", answer="a", model="m"))
