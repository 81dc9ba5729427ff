"""The chat app's conversation history: the SQLite store behind it, the list to resume from, export to
Markdown, and saving each answered turn. Showing a loaded conversation is the chat app's job (app.py)."""

from __future__ import annotations

from rag.assistant import Assistant
from rag.conversations import Conversation, ConversationInfo, ConversationStore, ConversationStoreError
from rag.sanitize import clean_line
from rag.schema import Answer, Turn
from rag.tui.screens import ConversationsScreen
from rag.tui.tasks import CoreApp


class HistoryApp(CoreApp):
    """Conversations kept in a `ConversationStore`; the app runs on (unsaved) when it cannot be opened."""

    def __init__(self, assistant: Assistant, store: ConversationStore | None = None) -> None:
        super().__init__(assistant)
        self.store = store
        self.store_error = ""
        self.conversation_id: int | None = None
        self.turns: list[Turn] = []

    def open_store(self) -> None:
        if self.store is None and not self.store_error:
            try:
                self.store = ConversationStore()
            except ConversationStoreError as exc:
                self.store_error = str(exc)
        if self.store_error:
            self.notify(f"{self.store_error}. Conversations will not be saved.", title="History", severity="warning")

    def recent_conversations(self, limit: int = 200) -> list[ConversationInfo]:
        try:
            return self.store.list_all(limit) if self.store else []
        except ConversationStoreError as exc:
            self.notify(str(exc), title="Conversations", severity="error")
            return []

    async def open_conversation(self, conversation_id: int) -> None:
        """Show a saved conversation; its turns become the history for follow-ups."""
        if self.store is None:
            return
        try:
            conv = self.store.load(conversation_id)
        except ConversationStoreError as exc:
            self.notify(str(exc), title="Conversations", severity="error")
            return
        await self.show_conversation(conv)

    async def show_conversation(self, conv: Conversation) -> None:
        raise NotImplementedError

    def action_open_conversations(self) -> None:
        if self.store is None:
            self.notify(self.store_error or "conversation history is unavailable", severity="warning")
            return

        async def chosen(conversation_id: int | None) -> None:
            if conversation_id is not None:
                await self.open_conversation(conversation_id)

        self.push_screen(ConversationsScreen(self.recent_conversations(), self.conversation_id), chosen)

    def action_export(self) -> None:
        if self.store is None or self.conversation_id is None or not self.turns:
            self.notify("Nothing to export yet: ask a question first.", severity="warning")
            return
        try:
            path = self.store.export(self.conversation_id)
        except ConversationStoreError as exc:
            self.notify(str(exc), title="Export failed", severity="error")
            return
        self.notify(f"Exported to {path}", title="Export")

    def _show_title(self, title: str) -> None:
        title = clean_line(title)  # from the first question, which may have been pasted with escapes in it
        self.sub_title = title
        self.status.set(conversation=title)

    def _save(self, question: str, answer: Answer) -> None:
        if self.store is None:
            return
        try:
            if self.conversation_id is None:
                self.conversation_id = self.store.create()
            self.store.append(self.conversation_id, question, answer)
            info = self.store.info(self.conversation_id)
            self._show_title(f"#{self.conversation_id} {info.title if info else ''}")
        except ConversationStoreError as exc:
            self.notify(f"{exc}. The answer is shown but not saved.", title="History", severity="error")
