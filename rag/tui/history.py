"""Where the chat keeps its conversations: a plain object around `ConversationStore` that the chat widget
is given. It knows nothing of Textual; errors surface as `ConversationStoreError` for the widget to show."""

from __future__ import annotations

from pathlib import Path

from rag.conversations import Conversation, ConversationInfo, ConversationStore, ConversationStoreError
from rag.schema import Answer

RECENT_LIMIT = 200


class History:
    """The conversation store, or the reason it could not be opened: the chat then runs on unsaved
    instead of refusing to start."""

    def __init__(self, store: ConversationStore | None, error: str = "") -> None:
        self.store = store
        self.error = error if store is None else ""

    @classmethod
    def open(cls, data_dir: Path | str | None = None) -> History:
        """The store in `data_dir` (default: the user data dir), or an unavailable history saying why."""
        try:
            return cls(ConversationStore(data_dir))
        except ConversationStoreError as exc:
            return cls(None, str(exc))

    @property
    def available(self) -> bool:
        return self.store is not None

    @property
    def unavailable_reason(self) -> str:
        return self.error or "conversation history is unavailable"

    def recent(self, limit: int = RECENT_LIMIT, index_path: str | None = None) -> list[ConversationInfo]:
        """Most recently used first (given `index_path`, only those held over that index); none when there
        is no store."""
        return self.store.list_all(limit, index_path) if self.store else []

    def load(self, conversation_id: int) -> Conversation:
        return self._store().load(conversation_id)

    def save(self, conversation_id: int | None, question: str, answer: Answer,
             index_path: str | None = None) -> tuple[int, str]:
        """Append an answered turn, creating the conversation (held over `index_path`) with the first one.
        Returns the conversation's id and title (the first question), so the chat can show what it saved to."""
        store = self._store()
        if conversation_id is None:
            conversation_id = store.create(index_path=index_path)
        store.append(conversation_id, question, answer)
        info = store.info(conversation_id)
        return conversation_id, info.title if info else ""

    def export(self, conversation_id: int) -> Path:
        """Write the conversation as Markdown (into the current folder when writable); returns its path."""
        return self._store().export(conversation_id)

    def _store(self) -> ConversationStore:
        if self.store is None:
            raise ConversationStoreError(self.unavailable_reason)
        return self.store
