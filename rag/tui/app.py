"""`rag chat`: a Textual chat over the indexed articles, with streamed answers and openable citations.

The app holds no retrieval or prompting logic: it calls `Assistant.stream()` in a thread worker and
shows what comes back. Models load in a worker after the first frame, so the UI appears at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from textual import events, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Container, VerticalScroll
from textual.message import Message
from textual.widgets import Footer, Header, Markdown, Static
from textual.widgets.markdown import MarkdownStream
from textual.worker import get_current_worker

from rag.assistant import Assistant
from rag.conversations import Conversation, ConversationStore, ConversationStoreError, quoted
from rag.errors import RagError
from rag.sanitize import StreamCleaner, clean, clean_line
from rag.schema import Answer, Citation, Delta, Document, Final, Turn
from rag.tui.commands import ChatCommands
from rag.tui.history import HistoryApp
from rag.tui.screens import ArticleScreen, HelpScreen
from rag.tui.widgets import QuestionInput, SourcesPanel, StatusLine, TurnView, speed, tokens_per_second

WELCOME = ("Ask a question about the indexed news articles.\n"
           "enter sends · shift+enter/ctrl+j new line · f1 keys · ctrl+p commands")


class AnswerEvent(Message):
    """From the answer worker: a streamed delta, the final answer, or a failure. `token` ties it to
    one request, so events from a cancelled request are ignored."""

    def __init__(self, token: int, delta: str = "", answer: Answer | None = None, error: str = "") -> None:
        super().__init__()
        self.token, self.delta, self.answer, self.error = token, delta, answer, error


@dataclass
class Pending:
    token: int
    question: str
    turn: TurnView
    stream: MarkdownStream
    cleaner: StreamCleaner = field(default_factory=StreamCleaner)  # the model may copy escapes from a source


class ChatApp(HistoryApp):
    """Conversation on the left (top when narrow), sources of the selected answer beside it."""

    CSS_PATH = "chat.tcss"
    TITLE = "rag chat"
    COMMANDS = App.COMMANDS | {ChatCommands}
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", priority=True),
        Binding("escape", "cancel_answer", "Cancel", show=False),
        Binding("ctrl+n", "new_conversation", "New"),
        Binding("ctrl+o", "open_conversations", "Chats"),
        Binding("ctrl+s", "export", "Export"),
        Binding("f2", "copy_answer", "Copy"),
        Binding("ctrl+g", "focus_sources", "Sources", show=False),
        Binding("f1,question_mark", "help", "Help"),
        *[Binding(str(n), f"open_citation({n})", show=False) for n in range(1, 10)],
    ]

    def __init__(self, assistant: Assistant, store: ConversationStore | None = None,
                 conversation_id: int | None = None, new: bool = False, warm_up: bool = True) -> None:
        super().__init__(assistant, store)
        self.selected: TurnView | None = None
        self._start = (conversation_id, new)
        self._warm = warm_up
        self._token = 0
        self._pending: Pending | None = None

    # ----- layout ----------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        with Container(id="main"):
            with VerticalScroll(id="conversation"):
                yield Static(WELCOME, id="welcome")
            yield SourcesPanel(id="sources")
        yield QuestionInput(id="question", placeholder="Ask about the news…")
        yield StatusLine(id="status")
        yield Footer()

    @property
    def conversation(self) -> VerticalScroll:
        return self.query_one("#conversation", VerticalScroll)

    @property
    def question_input(self) -> QuestionInput:
        return self.query_one(QuestionInput)

    @property
    def answering(self) -> bool:
        return self._pending is not None

    @property
    def sources(self) -> SourcesPanel:
        return self.query_one(SourcesPanel)

    async def on_mount(self) -> None:
        self.status.set(model=self.assistant.model_name, state="loading…")
        self.sources.show(None)
        self.open_store()
        conversation_id, new = self._start
        if self.store and not new:
            recent = self.recent_conversations(1)
            target = conversation_id or (recent[0].id if recent else None)
            if target is not None:
                await self.open_conversation(target)
        self.question_input.focus()
        if self._warm:
            self._warm_up()

    # ----- conversations (storage in history.py) ----------------------------------------------
    def model_names(self) -> list[str]:
        return self.assistant.models()

    async def show_conversation(self, conv: Conversation) -> None:
        """Show a saved conversation; its turns become the history for follow-ups."""
        await self._discard_pending()
        self.conversation_id, self.turns = conv.id, list(conv.turns)
        await self.conversation.remove_children()
        views = [TurnView(t.question, t.answer) for t in conv.turns]
        await self.conversation.mount_all(views or [Static(WELCOME, id="welcome")])
        self.question_input.asked = [t.question for t in conv.turns]
        self._select(views[-1] if views else None)
        self._show_title(f"#{conv.id} {conv.info.title}")
        self._follow(force=True)

    async def action_new_conversation(self) -> None:
        await self._discard_pending()
        self.conversation_id, self.turns = None, []
        await self.conversation.remove_children()
        await self.conversation.mount(Static(WELCOME, id="welcome"))
        self._select(None)
        self._show_title("new conversation")
        self.question_input.focus()

    # ----- asking ----------------------------------------------------------------------------
    async def on_question_input_submitted(self, event: QuestionInput.Submitted) -> None:
        if self._pending:
            self.notify("Still answering: wait, or press esc to cancel.", severity="warning")
            return
        question = event.text
        self.question_input.clear()
        self.question_input.remember(question)
        for welcome in self.conversation.query("#welcome"):
            await welcome.remove()
        turn = TurnView(question)
        await self.conversation.mount(turn)
        self._follow(force=True)
        self._token += 1
        self._pending = Pending(self._token, question, turn, Markdown.get_stream(turn.markdown))
        self._select(turn)
        self.sources.show(None, pending=True)
        self.status.set(state="answering… (esc cancels)")
        self._generate(self._token, question, list(self.turns))

    @work(thread=True, group="answer", exit_on_error=False)
    def _generate(self, token: int, question: str, history: list[Turn]) -> None:
        """Consume the core's stream off the UI thread; stop as soon as the request is cancelled."""
        worker = get_current_worker()
        with self._core_lock:
            if worker.is_cancelled or token != self._token:
                return
            events = self.assistant.stream(question, history)
            final: Answer | None = None
            try:
                for event in events:
                    if worker.is_cancelled or token != self._token:
                        return
                    if isinstance(event, Delta) and event.text:
                        self.post_message(AnswerEvent(token, delta=event.text))
                    elif isinstance(event, Final):
                        final = event.answer
            except RagError as exc:
                self.post_message(AnswerEvent(token, error=str(exc) + self.error_hint(exc)))
                return
            except Exception as exc:  # a bug in the core must not take the chat down
                self.post_message(AnswerEvent(token, error=f"generation failed: {type(exc).__name__}: {exc}"))
                return
            finally:
                close = getattr(events, "close", None)
                if close:
                    close()  # stops llama.cpp if we left early
            if final is None:
                self.post_message(AnswerEvent(token, error="the model returned no answer; try again"))
            else:
                self.post_message(AnswerEvent(token, answer=final))

    async def on_answer_event(self, event: AnswerEvent) -> None:
        pending = self._pending
        if pending is None or event.token != pending.token:
            return  # from a cancelled request
        if event.delta:
            pending.turn.add_delta(event.delta)
            self._follow()
            await pending.stream.write(pending.cleaner.feed(event.delta))
            return
        self._pending = None
        await pending.stream.stop()
        if event.answer is None:
            await self._restore(pending)
            self.notify(event.error, title="Answer failed", severity="error", timeout=12)
            self.status.set(state="ready")
            return
        answer = event.answer
        self._follow()
        await pending.turn.settle(answer)
        self.turns.append(Turn(question=pending.question, answer=answer))
        self._save(pending.question, answer)
        if self.selected is pending.turn:
            self.sources.show(answer)
        tps = tokens_per_second(answer)
        self.status.set(state="ready", last=f"last {answer.latency_s:.1f}s" + (f" · {speed(tps)}" if tps else ""))

    def _follow(self, force: bool = False) -> None:
        """Keep the newest text in view, unless the user has scrolled up to read."""
        view = self.conversation
        if force or view.max_scroll_y - view.scroll_y <= 2:
            view.scroll_end(animate=False)

    async def _restore(self, pending: Pending) -> None:
        """Take a cancelled/failed turn off the screen and put its question back to edit."""
        await pending.turn.remove()
        if not self.question_input.text.strip():
            self.question_input.set_text(pending.question)
        if not self.turns and not self.conversation.query("#welcome"):
            await self.conversation.mount(Static(WELCOME, id="welcome"))
        self._select(self.conversation.query(TurnView).last() if self.turns else None)
        self.question_input.focus()

    async def _discard_pending(self) -> bool:
        pending, self._pending = self._pending, None
        if pending is None:
            return False
        self._token += 1
        self.workers.cancel_group(self, "answer")
        await pending.stream.stop()
        await self._restore(pending)
        self.status.set(state="ready")
        return True

    async def action_cancel_answer(self) -> None:
        if await self._discard_pending():
            self.notify("Cancelled; the question is back in the box.", timeout=3)
        elif self.focused is not self.question_input:
            self.question_input.focus()

    # ----- sources ---------------------------------------------------------------------------
    def _select(self, turn: TurnView | None) -> None:
        if self.selected is not None and self.selected.is_attached:
            self.selected.remove_class("-selected")
        self.selected = turn
        if turn is not None:
            turn.add_class("-selected")
        self.sources.show(turn.answer if turn else None)

    def on_turn_view_selected(self, event: TurnView.Selected) -> None:
        self._select(event.turn)

    def on_turn_view_cite_clicked(self, event: TurnView.CiteClicked) -> None:
        self._select(event.turn)
        self.action_open_citation(event.n)

    def on_sources_panel_chosen(self, event: SourcesPanel.Chosen) -> None:
        self.open_citation(event.citation)

    def action_open_citation(self, n: int) -> None:
        citation = self.sources.citation(n)
        if citation is None:
            self.notify(f"The selected answer has no source [{n}].", severity="warning", timeout=3)
        else:
            self.open_citation(citation)

    def action_focus_sources(self) -> None:
        self.query_one("#sources-list").focus()

    @work(thread=True, group="document", exit_on_error=False)
    def open_citation(self, citation: Citation) -> None:
        """Fetch the article off the UI thread (the index may still be loading), then show it."""
        try:
            doc = self.assistant.document(citation.doc_id)
        except Exception as exc:  # article gone from the index: show the passage the model saw
            doc = Document(doc_id=citation.doc_id, title=citation.title, sha256="", text=citation.text,
                           source=f"cited passage only ({exc})")
        others = list(self.sources.citations)
        self.call_from_thread(self.push_screen, ArticleScreen(doc, citation, others))

    # ----- misc ------------------------------------------------------------------------------
    def on_key(self, event: events.Key) -> None:
        """Typing while the conversation or sources have focus goes to the question box (but 1-9 and
        `?` there open a source / the help). Keys typed in one burst (fast typing, a terminal sending
        a line at once) all reach the old widget before the focus moves: those stragglers, `?`, digits
        and Enter included, belong to the box as well, so they do not open a source or the help."""
        if self.screen is not self.screen_stack[0]:
            return
        box = self.question_input
        if self.focused is box:  # the box stops what it takes, so this key was typed before it had focus
            if box.type_key(event):
                event.stop()
                event.prevent_default()
            return
        if event.is_printable and event.character and event.character not in "123456789?":
            event.stop()
            event.prevent_default()
            self.set_focus(box)  # at once, so later keys of the burst are recognised above
            box.type_key(event)

    def on_paste(self, event: events.Paste) -> None:
        """Text pasted while the box does not have focus goes into it."""
        box = self.question_input
        if self.screen is self.screen_stack[0] and self.focused is not box and event.text:
            event.stop()
            self.set_focus(box)
            box.type_text(event.text)

    def action_copy_answer(self) -> None:
        turn = self.selected if self.selected and self.selected.answer else None
        answer = turn.answer if turn else next((t.answer for t in reversed(self.turns) if t.answer), None)
        if answer is None:
            self.notify("No answer to copy yet.", severity="warning")
            return
        lines = [answer.answer.strip(), ""] + [f"[{c.n}] {clean_line(c.title)} ({clean_line(c.doc_id)}): "
                                               f"{clean_line(quoted(c.quote))}" for c in answer.citations]
        self.copy_to_clipboard(clean("\n".join(lines)).strip() + "\n")  # pasted into a terminal, perhaps
        self.notify("Copied the answer and its sources to the clipboard.", timeout=3)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    async def action_quit(self) -> None:
        self._token += 1  # let a running answer stop at its next token
        self.workers.cancel_group(self, "answer")
        self.exit(0)


def run_chat(assistant: Assistant, conversation_id: int | None = None, new: bool = False) -> int:
    """Entry point for `rag chat`; returns the process exit code."""
    store, problem = None, ""
    try:
        store = ConversationStore()
    except ConversationStoreError as exc:
        problem = str(exc)
    app = ChatApp(assistant, store=store, conversation_id=conversation_id, new=new)
    app.store_error = problem
    code = app.run()
    return code if isinstance(code, int) else (app.return_code or 0)
