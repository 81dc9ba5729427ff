"""`rag chat`: a Textual chat over the indexed articles, with streamed answers and openable citations.

The app is composed of parts that each own their state: the `Chat` widget (conversation, sources,
question box and the answer worker), the `CoreTasks` widget (loading models, switching, re-indexing)
and the status line. The app lays them out, routes stray keys to the question box and lists its
commands in the palette. No retrieval or prompting here: the parts call the core `Assistant`. Models
load in a worker after the first frame, so the UI appears at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

from textual import events
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header

from rag.assistant import Assistant
from rag.conversations import ConversationStore
from rag.scope import Scope
from rag.tui.browse import ArticlesScreen
from rag.tui.chat import Chat
from rag.tui.core import Core
from rag.tui.history import History
from rag.tui.screens import ArticleScreen, HelpScreen, ScopeScreen
from rag.tui.tasks import CoreTasks
from rag.tui.widgets import StatusLine, StatusUpdate, notify_plain

PALETTE_CONVERSATIONS = 20  # recent conversations the command palette offers to open
NOT_NOW = "Wait for the current answer or index to finish."
UNSTEERED_KEYS = "123456789?"  # keys that keep their binding outside the question box


class ChatApp(App[int]):
    """The chat screen: header, `Chat`, status line and footer; `CoreTasks` runs beside them unseen."""

    CSS_PATH = "chat.tcss"
    TITLE = "rag chat"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", priority=True),
        Binding("f1,question_mark", "help", "Help"),
        Binding("ctrl+l", "browse", "Articles"),
    ]

    def __init__(self, assistant: Assistant, store: ConversationStore | None = None, *, store_error: str = "",
                 conversation_id: int | None = None, new: bool = False, warm_up: bool = True) -> None:
        """`store` keeps the conversations; without one (and no `store_error` saying why there is
        none) the default store in the user data dir is opened."""
        super().__init__()
        self.core = Core(assistant)
        self.history = History(store, store_error) if store is not None or store_error else History.open()
        self._start = (conversation_id, new)
        self._warm = warm_up

    def compose(self) -> ComposeResult:
        yield Header()
        yield Chat(self.core, self.history, *self._start, id="chat")
        yield StatusLine(id="status")
        yield Footer()
        yield CoreTasks(self.core)

    @property
    def chat(self) -> Chat:
        return self.query_one(Chat)

    @property
    def tasks(self) -> CoreTasks:
        return self.query_one(CoreTasks)

    @property
    def status(self) -> StatusLine:
        return self.query_one(StatusLine)

    def on_mount(self) -> None:
        self.status.set(model=self.core.assistant.model_name, state="loading…")
        if not self.history.available:
            notify_plain(self, f"{self.history.unavailable_reason}. Conversations will not be saved.",
                         title="History", severity="warning")
        if self._warm:
            self.tasks.warm_up()

    def on_status_update(self, event: StatusUpdate) -> None:
        """The status line shows what the parts report; the header shows the conversation too."""
        self.status.set(**event.fields)
        if "conversation" in event.fields:
            self.sub_title = event.fields["conversation"]

    # ----- commands (ctrl+p) -------------------------------------------------------------------------
    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Textual's own commands, the chat's actions, one entry per configured model, and the recent
        conversations (found by typing, not listed up front)."""
        yield from super().get_system_commands(screen)
        chat = self.chat
        yield SystemCommand("New conversation", "Start a fresh conversation (ctrl+n)", chat.action_new_conversation)
        yield SystemCommand("Conversations: list and resume", "Pick a saved conversation (ctrl+o)",
                            chat.action_open_conversations)
        yield SystemCommand("Export conversation to Markdown", "Write it with its citations to a .md file (ctrl+s)",
                            chat.action_export)
        yield SystemCommand("Copy last answer", "Answer and sources to the clipboard (f2)", chat.action_copy_answer)
        yield SystemCommand("Articles: browse and read", "Every indexed article, filtered as you type (ctrl+l)",
                            self.action_browse)
        yield SystemCommand("Ask only some articles", "By file name or date, like rag chat --source/--since/--until",
                            self.action_narrow)
        yield SystemCommand("Re-index articles", "Rebuild the index from the folders it was built from",
                            self.action_reindex)
        yield SystemCommand("Help: keys", "Show the key bindings (f1)", self.action_help)
        assistant = self.core.assistant
        for name in assistant.models():
            current = " (current)" if name == assistant.model_name else ""
            yield SystemCommand(f"Switch model: {name}{current}", "Answer with this model from models.toml",
                                partial(self.switch_model, name))
        for conv in chat.recent_conversations(PALETTE_CONVERSATIONS):
            yield SystemCommand(f"Open conversation #{conv.id}: {conv.title}",
                                f"{conv.turns} turns, last used {conv.updated_at[:16].replace('T', ' ')}",
                                partial(chat.open_conversation, conv.id), discover=False)

    def switch_model(self, name: str) -> None:
        """Answer with another model from models.toml, once nothing else is using the core."""
        if name == self.core.assistant.model_name:
            notify_plain(self, f"Already answering with {name}.", timeout=3)
        elif self.chat.answering or self.tasks.indexing:
            notify_plain(self, NOT_NOW, severity="warning")
        else:
            self.tasks.switch_model(name)

    def action_reindex(self) -> None:
        if self.chat.answering or self.tasks.indexing:
            notify_plain(self, NOT_NOW, severity="warning")
        else:
            self.tasks.reindex()

    def action_narrow(self) -> None:
        """The scope form; what it returns is applied once nothing else is using the core."""
        def chosen(scope: Scope | None) -> None:
            if scope is None or scope == self.core.assistant.scope:
                return
            if self.chat.answering or self.tasks.indexing:
                notify_plain(self, NOT_NOW, severity="warning")
            else:
                self.tasks.narrow(scope)

        form = ScopeScreen(self.core.assistant.scope)
        self.push_screen(form, chosen)
        self.tasks.list_articles(form.show_articles)  # it counts what the typed scope holds

    def action_browse(self) -> None:
        """The article browser; the list is read by a core worker and handed to it."""
        if not isinstance(self.screen, ArticlesScreen):
            browser = ArticlesScreen(self.tasks.read_article)
            self.push_screen(browser)
            self.tasks.list_articles(browser.show_articles)

    def on_article_screen_ask_only(self, event: ArticleScreen.AskOnly) -> None:
        """`a` in the article viewer: later questions go to that article only; back to the chat."""
        if self.chat.answering or self.tasks.indexing:
            notify_plain(self, NOT_NOW, severity="warning")
            return
        while len(self.screen_stack) > 1:
            self.pop_screen()
        self.tasks.narrow_to(event.doc_id)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    async def action_quit(self) -> None:
        self.chat.stop()
        self.exit(0)

    # ----- keys that belong to the question box ------------------------------------------------------
    def on_key(self, event: events.Key) -> None:
        """Typing while the conversation or sources have focus goes to the question box (but 1-9 and
        `?` there open a source / the help). Keys typed in one burst (fast typing, a terminal sending
        a line at once) all reach the old widget before the focus moves: those stragglers, `?`, digits
        and Enter included, belong to the box as well, so they do not open a source or the help."""
        if self.screen is not self.screen_stack[0]:
            return
        box = self.chat.question_input
        if self.focused is box:  # the box stops what it takes, so this key was typed before it had focus
            if box.type_key(event):
                event.stop()
                event.prevent_default()
            return
        if event.is_printable and event.character and event.character not in UNSTEERED_KEYS:
            event.stop()
            event.prevent_default()
            self.set_focus(box)  # at once, so later keys of the burst are recognised above
            box.type_key(event)

    def on_paste(self, event: events.Paste) -> None:
        """Text pasted while the box does not have focus goes into it."""
        box = self.chat.question_input
        if self.screen is self.screen_stack[0] and self.focused is not box and event.text:
            event.stop()
            self.set_focus(box)
            box.type_text(event.text)


def run_chat(assistant: Assistant, conversation_id: int | None = None, new: bool = False) -> int:
    """Entry point for `rag chat`; returns the process exit code."""
    app = ChatApp(assistant, conversation_id=conversation_id, new=new)
    code = app.run()
    return code if isinstance(code, int) else (app.return_code or 0)
