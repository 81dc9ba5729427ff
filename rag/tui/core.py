"""The core service as the chat's widgets share it: one `Assistant` and the lock around it."""

from __future__ import annotations

import threading
from pathlib import Path

from rag.assistant import Assistant
from rag.errors import IndexMissingError, ModelMissingError

REINDEX_HINT = "ctrl+p → Re-index articles builds one from seeds/"


class Core:
    """The `Assistant` behind the chat and the lock every worker holds while calling it: answering,
    loading models and re-indexing run in separate threads, and the assistant is not thread-safe."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        self.lock = threading.Lock()

    @property
    def index_key(self) -> str:
        """The index the chat is held over, as its conversations record it: the folder, resolved."""
        return str(Path(self.assistant.index_path).expanduser().resolve())

    def error_hint(self, exc: Exception) -> str:
        """What the user can do in the app about a core error, to append to its message."""
        if isinstance(exc, IndexMissingError):
            return f" ({REINDEX_HINT})"
        others = [m for m in self.assistant.models() if m != self.assistant.model_name]
        if isinstance(exc, ModelMissingError) and others:
            return f"; or ctrl+p → Switch model: {others[0]}"
        return ""
