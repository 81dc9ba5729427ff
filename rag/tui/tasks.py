"""The half of the chat app that talks to the core off the UI thread: loading the models at start,
switching model and re-indexing. One lock keeps these and answering from running at once, because
the `Assistant` is not thread-safe."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from textual import work
from textual.app import App
from textual.message import Message

from rag.assistant import Assistant
from rag.errors import IndexMissingError, ModelCrashError, ModelMissingError, RagError
from rag.sanitize import clean, clean_line
from rag.schema import IndexReport, IndexStats
from rag.tui.widgets import StatusLine

REINDEX_HINT = "ctrl+p → Re-index articles builds one from seeds/"


class CoreEvent(Message):
    """From the loading/indexing workers: stats, ready, progress, indexed or error."""

    def __init__(self, kind: str, text: str = "", stats: IndexStats | None = None,
                 report: IndexReport | None = None) -> None:
        super().__init__()
        self.kind, self.text, self.stats, self.report = kind, text, stats, report


class CoreApp(App[int]):
    """Model loading, model switching and re-indexing in thread workers, reported by `CoreEvent`s."""

    def __init__(self, assistant: Assistant) -> None:
        super().__init__()
        self.assistant = assistant
        self._core_lock = threading.Lock()
        self._indexing = False

    def notify(self, message: str, *, title: str = "", severity: Any = "information", timeout: float | None = None,
               markup: bool = False) -> None:
        """Notifications quote errors, paths and titles: cleaned of escape sequences, and plain text (not
        markup) unless asked, so "[llm.x]" or a "[1]" in them is shown as written."""
        super().notify(clean(message), title=clean_line(title), severity=severity, timeout=timeout, markup=markup)

    @property
    def status(self) -> StatusLine:
        return self.query_one(StatusLine)

    @property
    def answering(self) -> bool:
        """Whether an answer is being generated; the chat app overrides this."""
        return False

    def error_hint(self, exc: Exception) -> str:
        """What the user can do in the app about a core error, appended to its message."""
        if isinstance(exc, IndexMissingError):
            return f" ({REINDEX_HINT})"
        others = [m for m in self.assistant.models() if m != self.assistant.model_name]
        if isinstance(exc, ModelMissingError) and others:
            return f"; or ctrl+p → Switch model: {others[0]}"
        return ""

    # ----- models and index ------------------------------------------------------------------
    @work(thread=True, group="core", exit_on_error=False)
    def _warm_up(self) -> None:
        """Load index stats, then the encoder and the LLM, so the first answer is quick."""
        with self._core_lock:
            try:
                if not self.assistant.has_index():
                    self.post_message(CoreEvent("no-index", f"no index at {self.assistant.index_path}: "
                                                            f"run `rag index seeds/`, or {REINDEX_HINT}"))
                    return
                self.post_message(CoreEvent("stats", stats=self.assistant.stats()))
                self.post_message(CoreEvent("progress", f"loading {self.assistant.model_name}…"))
                self.assistant.warm_up()
                self.post_message(CoreEvent("ready"))
            except ModelMissingError as exc:
                kind = "model-crash" if isinstance(exc, ModelCrashError) else "no-model"
                self.post_message(CoreEvent(kind, str(exc) + self.error_hint(exc)))
            except RagError as exc:
                self.post_message(CoreEvent("error", str(exc)))
            except Exception as exc:
                self.post_message(CoreEvent("error", f"could not load the models: {type(exc).__name__}: {exc}"))

    def switch_model(self, name: str) -> None:
        if name == self.assistant.model_name:
            self.notify(f"Already answering with {name}.", timeout=3)
            return
        if self.answering or self._indexing:
            self.notify("Wait for the current answer or index to finish.", severity="warning")
            return
        self._switch_model(name)

    @work(thread=True, group="core", exit_on_error=False)
    def _switch_model(self, name: str) -> None:
        with self._core_lock:
            previous = self.assistant.model_name
            try:
                self.assistant.switch_model(name)
                self.post_message(CoreEvent("progress", f"loading {name}…"))
                self.call_from_thread(self.status.set, model=name)
                if self.assistant.has_index():  # without one, the model loads with the first question
                    self.assistant.warm_up()
                self.post_message(CoreEvent("ready", f"Now answering with {name}."))
            except Exception as exc:
                self.assistant.switch_model(previous)
                self.call_from_thread(self.status.set, model=previous)
                self.post_message(CoreEvent("error", f"cannot use model {name!r}: {exc}; still using {previous}"))

    def action_reindex(self) -> None:
        if self._indexing or self.answering:
            self.notify("Wait for the current answer or index to finish.", severity="warning")
            return
        self._indexing = True
        self.notify("Re-indexing articles…", title="Index")
        self._reindex()

    def _index_paths(self) -> list[Path]:
        """The folders the index was built from, else seeds/ beside models.toml."""
        try:
            paths = self.assistant.indexed_paths()
            if all(p.exists() for p in paths):
                return paths
        except Exception:  # a damaged index: rebuild from the bundled articles
            pass
        return [self.assistant.settings.base_dir / "seeds"]

    @work(thread=True, group="core", exit_on_error=False)
    def _reindex(self) -> None:
        last = 0.0

        def progress(done: int, total: int, what: str) -> None:
            nonlocal last
            if time.monotonic() - last > 0.2 or done == total:
                last = time.monotonic()
                self.post_message(CoreEvent("progress", f"indexing: {what} {done}/{total}"))

        with self._core_lock:
            try:
                report = self.assistant.index(self._index_paths(), progress=progress)
                self.post_message(CoreEvent("indexed", report=report, stats=self.assistant.stats()))
            except Exception as exc:
                self.post_message(CoreEvent("error", f"re-index failed: {exc}"))
            finally:
                self._indexing = False

    def on_core_event(self, event: CoreEvent) -> None:
        if event.stats:
            self.status.set(index=f"{event.stats.documents} articles · {event.stats.chunks} chunks")
        if event.kind == "progress":
            self.status.set(state=event.text)
        elif event.kind == "ready":
            self.status.set(state="ready")
            if event.text:
                self.notify(event.text, title="Model")
        elif event.kind == "no-index":
            self.status.set(index="no index", state="ready")
            self.notify(event.text, title="No index", severity="error", timeout=15)
        elif event.kind in ("no-model", "model-crash"):
            self.status.set(state="model not loaded")
            title = "Model crashed" if event.kind == "model-crash" else "Model missing"
            self.notify(event.text, title=title, severity="error", timeout=15)
        elif event.kind == "error":
            self.status.set(state="ready")
            self.notify(event.text, title="Error", severity="error", timeout=15)
        elif event.kind == "indexed" and event.report:
            r = event.report
            self.status.set(state="ready")
            self.notify(f"{r.documents} articles, {r.chunks} chunks ({len(r.added)} added, {len(r.updated)} "
                        f"updated, {len(r.removed)} removed) in {r.seconds:.1f}s", title="Index rebuilt")
