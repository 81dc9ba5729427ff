"""Command palette (ctrl+p) entries for the chat app: conversations, export, models, re-index, help."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from rag.tui.app import ChatApp

Command = tuple[str, Callable[[], object], str]


class ChatCommands(Provider):
    """The app's own actions, plus one entry per configured model and per recent conversation."""

    def _commands(self) -> list[Command]:
        app = cast("ChatApp", self.app)
        commands: list[Command] = [
            ("New conversation", app.action_new_conversation, "Start a fresh conversation (ctrl+n)"),
            ("Conversations: list and resume", app.action_open_conversations, "Pick a saved conversation (ctrl+o)"),
            ("Export conversation to Markdown", app.action_export, "Write it with its citations to a .md file (ctrl+s)"),
            ("Copy last answer", app.action_copy_answer, "Answer and sources to the clipboard (f2)"),
            ("Re-index articles", app.action_reindex, "Rebuild the index from the folders it was built from"),
            ("Help: keys", app.action_help, "Show the key bindings (f1)"),
        ]
        for name in app.model_names():
            current = " (current)" if name == app.assistant.model_name else ""
            commands.append((f"Switch model: {name}{current}", partial(app.switch_model, name),
                             "Answer with this model from models.toml"))
        for conv in app.recent_conversations(20):
            commands.append((f"Open conversation #{conv.id}: {conv.title}", partial(app.open_conversation, conv.id),
                             f"{conv.turns} turns, last used {conv.updated_at[:16].replace('T', ' ')}"))
        return commands

    async def discover(self) -> Hits:
        for name, callback, help_text in self._commands():
            if not name.startswith("Open conversation"):
                yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, callback, help_text in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, text=name, help=help_text)
