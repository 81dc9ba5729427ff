"""Loading the models at start, switching model, narrowing the articles (and listing them for the scope
form and the browser, and opening one) and re-indexing, off the UI thread.

Textual ties workers to a node of the DOM, so these jobs live in a widget of their own that draws
nothing: the app mounts one and calls it. It reports through notifications and `StatusUpdate`s."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from textual import work
from textual.message import Message
from textual.widget import Widget

from rag.errors import ModelCrashError, ModelMissingError, RagError, UsageError
from rag.schema import ArticleInfo, IndexReport, IndexStats
from rag.scope import Scope
from rag.tui.core import REINDEX_HINT, Core
from rag.tui.screens import ArticleScreen
from rag.tui.widgets import StatusUpdate, notify_plain
from rag.wording import counted

PROGRESS_EVERY_S = 0.2  # indexing progress lines at most this often
LONG_TOAST_S = 15  # errors the user has to act on stay up longer


class CoreTasks(Widget):
    """Model loading, model switching and re-indexing in thread workers. The core lock keeps them and
    answering from running at once."""

    DEFAULT_CSS = "CoreTasks { display: none; }"

    class Report(Message, bubble=False):
        """From a worker to this widget on the UI thread: stats, ready, progress, indexed or an error."""

        def __init__(self, kind: str, text: str = "", stats: IndexStats | None = None,
                     report: IndexReport | None = None) -> None:
            super().__init__()
            self.kind, self.text, self.stats, self.report = kind, text, stats, report

    def __init__(self, core: Core) -> None:
        super().__init__()
        self.core = core
        self.indexing = False

    # ----- jobs -----------------------------------------------------------------------------------
    @work(thread=True, group="core", exit_on_error=False)
    def warm_up(self) -> None:
        """Load index stats, then the encoder and the LLM, so the first answer is quick."""
        assistant = self.core.assistant
        with self.core.lock:
            try:
                if not assistant.has_index():
                    self.post_message(self.Report("no-index", f"no index at {assistant.index_path}: "
                                                              f"run `rag index seeds/`, or {REINDEX_HINT}"))
                    return
                self.post_message(self.Report("stats", stats=assistant.stats()))
                for line in assistant.index_warnings():
                    self.post_message(self.Report("index-warning", line))
                self.post_message(self.Report("progress", f"loading {assistant.model_name}…"))
                assistant.warm_up()
                self.post_message(self.Report("ready"))
            except ModelMissingError as exc:
                kind = "model-crash" if isinstance(exc, ModelCrashError) else "no-model"
                self.post_message(self.Report(kind, str(exc) + self.core.error_hint(exc)))
            except RagError as exc:
                self.post_message(self.Report("error", str(exc)))
            except Exception as exc:  # a bug in the core must not take the chat down
                self.post_message(self.Report("error", f"could not load the models: {type(exc).__name__}: {exc}"))

    @work(thread=True, group="core", exit_on_error=False)
    def switch_model(self, name: str) -> None:
        """Answer with `name` from now on; on failure keep the previous model."""
        assistant = self.core.assistant
        with self.core.lock:
            previous = assistant.model_name
            try:
                assistant.switch_model(name)
                self.post_message(StatusUpdate(model=name))
                self.post_message(self.Report("progress", f"loading {name}…"))
                if assistant.has_index():  # without one, the model loads with the first question
                    assistant.warm_up()
                self.post_message(self.Report("ready", f"Now answering with {name}."))
            except Exception as exc:
                assistant.switch_model(previous)
                self.post_message(StatusUpdate(model=previous))
                self.post_message(self.Report("error", f"cannot use model {name!r}: {exc}; still using {previous}"))

    @work(thread=True, group="core", exit_on_error=False)
    def narrow(self, scope: Scope) -> None:
        """Ask later questions of the articles in `scope` only; when none match, keep the old scope."""
        with self.core.lock:
            self._narrow(lambda: scope)

    @work(thread=True, group="core", exit_on_error=False)
    def narrow_to(self, doc_id: str) -> None:
        """Ask later questions of one article only (the article viewer's `a`): its file, as `Scope.only`
        names it among the index's articles."""
        def only() -> Scope:
            catalog = self.core.assistant.articles()
            article = next((a for a in catalog if a.doc_id == doc_id), None)
            if article is None:
                raise UsageError(f"article {doc_id!r} is no longer in the index: re-index, or pick another")
            return Scope.only(article, catalog)

        with self.core.lock:
            self._narrow(only)

    def _narrow(self, make: Callable[[], Scope]) -> None:
        """Apply the scope `make` gives and report it (the core lock held); an error keeps the old one."""
        assistant = self.core.assistant
        try:
            scope = make()
            count = assistant.narrow(scope)
            if scope.whole:
                what = "every article"
            elif count is None:  # no index yet: checked when one is built
                what = f"the articles {scope.describe()}"
            else:
                what = f"{counted(count, 'article')} {scope.describe()}"
            self.post_message(self.Report("scope", f"Asking {what}.",
                                          stats=assistant.stats() if assistant.has_index() else None))
        except RagError as exc:
            self.post_message(self.Report("error", str(exc)))

    @work(thread=True, group="core", exit_on_error=False)
    def list_articles(self, show: Callable[[list[ArticleInfo] | None], None]) -> None:
        """The index's articles for the scope form, handed to `show` on the UI thread (None: no index yet)."""
        assistant = self.core.assistant
        with self.core.lock:
            try:
                listed = assistant.articles() if assistant.has_index() else None
            except RagError as exc:
                self.post_message(self.Report("error", str(exc)))
                return
        self.app.call_from_thread(show, listed)

    @work(thread=True, group="document", exit_on_error=False)
    def read_article(self, doc_id: str) -> None:
        """Open one article of the browser in the viewer; its text is read off the UI thread."""
        try:
            doc = self.core.assistant.document(doc_id)
        except Exception as exc:  # gone since the list was read (re-indexed meanwhile)
            self.post_message(self.Report("error", f"cannot open article {doc_id!r}: {exc}"))
            return
        self.app.call_from_thread(self.app.push_screen, ArticleScreen(doc))

    def reindex(self) -> None:
        """Rebuild the index from the folders it was built from."""
        self.indexing = True
        notify_plain(self, "Re-indexing articles…", title="Index")
        self._reindex()

    def _index_paths(self) -> list[Path]:
        """The folders the index was built from, else seeds/ beside models.toml."""
        assistant = self.core.assistant
        try:
            paths = assistant.indexed_paths()
            if all(p.exists() for p in paths):
                return paths
        except Exception:  # a damaged index: rebuild from the bundled articles
            pass
        return [assistant.settings.base_dir / "seeds"]

    @work(thread=True, group="core", exit_on_error=False)
    def _reindex(self) -> None:
        last = 0.0

        def progress(done: int, total: int, what: str) -> None:
            nonlocal last
            if time.monotonic() - last > PROGRESS_EVERY_S or done == total:
                last = time.monotonic()
                self.post_message(self.Report("progress", f"indexing: {what} {done}/{total}"))

        with self.core.lock:
            try:
                report = self.core.assistant.index(self._index_paths(), progress=progress)
                self.post_message(self.Report("indexed", report=report, stats=self.core.assistant.stats()))
            except Exception as exc:
                self.post_message(self.Report("error", f"re-index failed: {exc}"))
            finally:
                self.indexing = False

    # ----- reports --------------------------------------------------------------------------------
    def on_core_tasks_report(self, event: Report) -> None:
        """Show what a worker reported: in the status line, and as a notification when it matters."""
        if event.stats:
            scope = self.core.assistant.scope  # narrowed by `rag chat --source/--since/--until`
            only = "" if scope.whole else f" · only those {scope.describe()}"
            self.post_message(StatusUpdate(index=f"{counted(event.stats.documents, 'article')} · "
                                                 f"{counted(event.stats.chunks, 'chunk')}{only}"))
        if event.kind == "progress":
            self.post_message(StatusUpdate(state=event.text))
        elif event.kind == "ready":
            self.post_message(StatusUpdate(state="ready"))
            if event.text:
                notify_plain(self, event.text, title="Model")
        elif event.kind == "no-index":
            self.post_message(StatusUpdate(index="no index", state="ready"))
            notify_plain(self, event.text, title="No index", severity="error", timeout=LONG_TOAST_S)
        elif event.kind in ("no-model", "model-crash"):
            self.post_message(StatusUpdate(state="model not loaded"))
            title = "Model crashed" if event.kind == "model-crash" else "Model missing"
            notify_plain(self, event.text, title=title, severity="error", timeout=LONG_TOAST_S)
        elif event.kind == "index-warning":
            notify_plain(self, event.text, title="Index", severity="warning", timeout=LONG_TOAST_S)
        elif event.kind == "scope":
            notify_plain(self, event.text, title="Articles")
        elif event.kind == "error":
            self.post_message(StatusUpdate(state="ready"))
            notify_plain(self, event.text, title="Error", severity="error", timeout=LONG_TOAST_S)
        elif event.kind == "indexed" and event.report:
            r = event.report
            self.post_message(StatusUpdate(state="ready"))
            notify_plain(self, f"{counted(r.documents, 'article')}, {counted(r.chunks, 'chunk')} "
                               f"({len(r.added)} added, {len(r.updated)} updated, {len(r.removed)} removed) "
                               f"in {r.seconds:.1f}s",
                         title="Index rebuilt")
