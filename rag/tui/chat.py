"""The conversation widget: the turns, the sources of the selected answer and the question box, with
the state and the worker behind them. It asks the core `Assistant` (through `Core`) and streams what
comes back; it does no retrieval or prompting of its own. Conversations persist through the `History`
it is given."""

from __future__ import annotations

from dataclasses import dataclass, field

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Markdown, Static
from textual.widgets.markdown import MarkdownStream
from textual.worker import get_current_worker

from rag.conversations import Conversation, ConversationInfo, ConversationStoreError, quoted
from rag.errors import RagError
from rag.sanitize import StreamCleaner, clean, clean_line
from rag.schema import Answer, Citation, Delta, Document, Final, Turn
from rag.tui.core import Core
from rag.tui.history import RECENT_LIMIT, History
from rag.tui.screens import ArticleScreen, ConversationsScreen
from rag.tui.widgets import (
    QuestionInput,
    Severity,
    SourcesPanel,
    StatusUpdate,
    TurnView,
    notify_plain,
    speed,
    tokens_per_second,
)

WELCOME = ("Ask a question about the indexed news articles.\n"
           "enter sends · shift+enter/ctrl+j new line · f1 keys · ctrl+p commands")
FOLLOW_SLACK = 2  # lines from the bottom that still count as "reading the newest text"
ERROR_TOAST_S = 12


class AnswerEvent(Message, bubble=False):
    """From the answer worker: a streamed delta, the final answer, or a failure. `token` ties it to
    one request, so events from a cancelled request are ignored."""

    def __init__(self, token: int, delta: str = "", answer: Answer | None = None, error: str = "") -> None:
        super().__init__()
        self.token, self.delta, self.answer, self.error = token, delta, answer, error


@dataclass
class Pending:
    """The request being answered and the turn its text streams into."""

    token: int
    question: str
    turn: TurnView
    stream: MarkdownStream
    cleaner: StreamCleaner = field(default_factory=StreamCleaner)  # the model may copy escapes from a source


class Chat(Vertical):
    """Conversation on the left (top when narrow), sources of the selected answer beside it, the
    question box under both. The turns asked so far are the history sent with follow-ups."""

    BINDINGS = [
        Binding("escape", "cancel_answer", "Cancel", show=False),
        Binding("ctrl+n", "new_conversation", "New"),
        Binding("ctrl+o", "open_conversations", "Chats"),
        Binding("ctrl+s", "export", "Export"),
        Binding("f2", "copy_answer", "Copy"),
        Binding("ctrl+g", "focus_sources", "Sources", show=False),
        *[Binding(str(n), f"open_citation({n})", show=False) for n in range(1, 10)],
    ]

    def __init__(self, core: Core, history: History, conversation_id: int | None = None, new: bool = False,
                 id: str | None = None) -> None:
        super().__init__(id=id)
        self.core = core
        self.history = history
        self.conversation_id: int | None = None
        self.turns: list[Turn] = []
        self.selected: TurnView | None = None
        self._start = (conversation_id, new)
        self._token = 0
        self._pending: Pending | None = None

    def compose(self) -> ComposeResult:
        with Container(id="main"):
            with VerticalScroll(id="conversation"):
                yield Static(WELCOME, id="welcome")
            yield SourcesPanel(id="sources")
        yield QuestionInput(id="question", placeholder="Ask about the news…")

    @property
    def conversation(self) -> VerticalScroll:
        return self.query_one("#conversation", VerticalScroll)

    @property
    def question_input(self) -> QuestionInput:
        return self.query_one(QuestionInput)

    @property
    def sources(self) -> SourcesPanel:
        return self.query_one(SourcesPanel)

    @property
    def answering(self) -> bool:
        return self._pending is not None

    async def on_mount(self) -> None:
        """Reopen the requested (else the latest held over this index) conversation, unless a new one was
        asked for: one whose sources are in another index would open none of its citations."""
        self.sources.show(None)
        conversation_id, new = self._start
        if self.history.available and not new:
            recent = self.recent_conversations(1, self.core.index_key)
            target = conversation_id or (recent[0].id if recent else None)
            if target is not None:
                await self.open_conversation(target)
        self.question_input.focus()

    def _notify(self, message: str, *, title: str = "", severity: Severity = "information",
                timeout: float | None = None) -> None:
        notify_plain(self, message, title=title, severity=severity, timeout=timeout)

    # ----- conversations ------------------------------------------------------------------------
    def recent_conversations(self, limit: int = RECENT_LIMIT, index_path: str | None = None) -> list[ConversationInfo]:
        try:
            return self.history.recent(limit, index_path)
        except ConversationStoreError as exc:
            self._notify(str(exc), title="Conversations", severity="error")
            return []

    async def open_conversation(self, conversation_id: int) -> None:
        """Show a saved conversation; its turns become the history for follow-ups."""
        if not self.history.available:
            return
        try:
            conv = self.history.load(conversation_id)
        except ConversationStoreError as exc:
            self._notify(str(exc), title="Conversations", severity="error")
            return
        await self.show_conversation(conv)

    async def show_conversation(self, conv: Conversation) -> None:
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

    def action_open_conversations(self) -> None:
        if not self.history.available:
            self._notify(self.history.unavailable_reason, severity="warning")
            return

        async def chosen(conversation_id: int | None) -> None:
            if conversation_id is not None:
                await self.open_conversation(conversation_id)

        self.app.push_screen(ConversationsScreen(self.recent_conversations(), self.conversation_id,
                                                  self.core.index_key), chosen)

    def action_export(self) -> None:
        if not self.history.available or self.conversation_id is None or not self.turns:
            self._notify("Nothing to export yet: ask a question first.", severity="warning")
            return
        try:
            path = self.history.export(self.conversation_id)
        except ConversationStoreError as exc:
            self._notify(str(exc), title="Export failed", severity="error")
            return
        self._notify(f"Exported to {path}", title="Export")

    def _show_title(self, title: str) -> None:
        # from the first question, which may have been pasted with escapes in it
        self.post_message(StatusUpdate(conversation=clean_line(title)))

    def _save(self, question: str, answer: Answer) -> None:
        if not self.history.available:
            return
        try:
            self.conversation_id, title = self.history.save(self.conversation_id, question, answer,
                                                            self.core.index_key)
        except ConversationStoreError as exc:
            self._notify(f"{exc}. The answer is shown but not saved.", title="History", severity="error")
            return
        self._show_title(f"#{self.conversation_id} {title}")

    # ----- asking -------------------------------------------------------------------------------
    async def on_question_input_submitted(self, event: QuestionInput.Submitted) -> None:
        if self._pending:
            self._notify("Still answering: wait, or press esc to cancel.", severity="warning")
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
        self.post_message(StatusUpdate(state="answering… (esc cancels)"))
        self._generate(self._token, question, list(self.turns))

    @work(thread=True, group="answer", exit_on_error=False)
    def _generate(self, token: int, question: str, history: list[Turn]) -> None:
        """Consume the core's stream off the UI thread; stop as soon as the request is cancelled."""
        worker = get_current_worker()
        with self.core.lock:
            if worker.is_cancelled or token != self._token:
                return
            events = self.core.assistant.stream(question, history)
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
                self.post_message(AnswerEvent(token, error=str(exc) + self.core.error_hint(exc)))
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
            self._notify(event.error, title="Answer failed", severity="error", timeout=ERROR_TOAST_S)
            self.post_message(StatusUpdate(state="ready"))
            return
        answer = event.answer
        self._follow()
        await pending.turn.settle(answer)
        self.turns.append(Turn(question=pending.question, answer=answer))
        self._save(pending.question, answer)
        if self.selected is pending.turn:
            self.sources.show(answer)
        tps = tokens_per_second(answer)
        last = f"last {answer.latency_s:.1f}s" + (f" · {speed(tps)}" if tps else "")
        self.post_message(StatusUpdate(state="ready", last=last))

    def _follow(self, force: bool = False) -> None:
        """Keep the newest text in view, unless the user has scrolled up to read."""
        view = self.conversation
        if force or view.max_scroll_y - view.scroll_y <= FOLLOW_SLACK:
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
        self.stop()
        await pending.stream.stop()
        await self._restore(pending)
        self.post_message(StatusUpdate(state="ready"))
        return True

    def stop(self) -> None:
        """Let a running answer stop at its next token (on cancel, and before the app quits)."""
        self._token += 1
        self.workers.cancel_group(self, "answer")

    async def action_cancel_answer(self) -> None:
        if await self._discard_pending():
            self._notify("Cancelled; the question is back in the box.", timeout=3)
        elif self.app.focused is not self.question_input:
            self.question_input.focus()

    # ----- sources ------------------------------------------------------------------------------
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
            self._notify(f"The selected answer has no source [{n}].", severity="warning", timeout=3)
        else:
            self.open_citation(citation)

    def action_focus_sources(self) -> None:
        self.query_one("#sources-list").focus()

    @work(thread=True, group="document", exit_on_error=False)
    def open_citation(self, citation: Citation) -> None:
        """Fetch the article off the UI thread (the index may still be loading), then show it."""
        try:
            doc = self.core.assistant.document(citation.doc_id)
        except Exception as exc:  # article gone from the index: show the passage the model saw
            doc = Document(doc_id=citation.doc_id, title=citation.title, sha256="", text=citation.text,
                           source=f"cited passage only ({exc})")
        others = list(self.sources.citations)
        self.app.call_from_thread(self.app.push_screen, ArticleScreen(doc, citation, others))

    def action_copy_answer(self) -> None:
        """The selected answer (else the latest) with its sources, as plain text for pasting."""
        turn = self.selected if self.selected and self.selected.answer else None
        answer = turn.answer if turn else next((t.answer for t in reversed(self.turns) if t.answer), None)
        if answer is None:
            self._notify("No answer to copy yet.", severity="warning")
            return
        lines = [answer.answer.strip(), ""] + [f"[{c.n}] {clean_line(c.title)} ({clean_line(c.doc_id)}): "
                                               f"{clean_line(quoted(c.quote))}" for c in answer.citations]
        self.app.copy_to_clipboard(clean("\n".join(lines)).strip() + "\n")  # pasted into a terminal, perhaps
        self._notify("Copied the answer and its sources to the clipboard.", timeout=3)
