"""The article browser (ctrl+l): every indexed article, one line each, filtered as the user types; enter
opens one to read, and `a` there asks only that article. An archive user needs to see what the index
holds before narrowing a question to part of it (`rag articles` is the same list on the command line)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import PurePath

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from rag.sanitize import clean_line
from rag.schema import ArticleInfo
from rag.wording import counted

BROWSE_ROWS = 500  # articles listed at once; past this the list asks the user to type to narrow it


def browse_line(article: ArticleInfo, dated: bool) -> Text:
    """Date (when any listed article has one), file name and title: the folder is left out, as the
    list's width is better spent on the title."""
    line = Text()
    if dated:
        line.append(f"{clean_line(article.date or ''):<10}  ", style="dim")
    line.append(clean_line(PurePath(article.source).name), style="bold")
    line.append(f"  {clean_line(article.title)}")
    return line


def filtered(articles: list[ArticleInfo], typed: str) -> list[ArticleInfo]:
    """The articles whose file name or title holds every word typed, in any case."""
    words = typed.lower().split()
    if not words:
        return articles
    return [a for a in articles
            if all(w in f"{PurePath(a.source).name} {a.title}".lower() for w in words)]


class ArticlesScreen(ModalScreen[None]):
    """Every indexed article (`show_articles`, from a worker); typing filters, up/down move, enter reads
    the highlighted one through `read` (its doc_id). Esc closes."""

    BINDINGS = [
        Binding("escape", "dismiss_none", "Close"),
        Binding("down", "move(1)", show=False),
        Binding("up", "move(-1)", show=False),
        Binding("pagedown", "move(10)", show=False),
        Binding("pageup", "move(-10)", show=False),
    ]

    def __init__(self, read: Callable[[str], object]) -> None:
        super().__init__()
        self.read = read
        self.articles: list[ArticleInfo] | None = None  # None until read (and when there is no index)
        self.shown: list[ArticleInfo] = []  # the listed articles, in the list's order

    def compose(self) -> ComposeResult:
        with Vertical(id="browse"):
            yield Label(Text("Articles · type to filter · enter reads · esc closes", style="bold"))
            yield Input(placeholder="words of a file name or title", id="browse-filter")
            yield Static(Text("reading the list of articles…", style="dim"), id="browse-count")
            yield OptionList(id="browse-list")

    def on_mount(self) -> None:
        self.query_one("#browse-filter", Input).focus()

    def show_articles(self, articles: list[ArticleInfo] | None) -> None:
        """The index's articles (None: no index yet), from a worker; ignored once closed."""
        self.articles = articles
        if self.is_attached:
            self._list()

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if self.articles is not None:
            self._list()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._open(self.query_one("#browse-list", OptionList).highlighted)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._open(event.option_index)

    def action_move(self, step: int) -> None:
        olist = self.query_one("#browse-list", OptionList)
        if self.shown:
            now = olist.highlighted if olist.highlighted is not None else 0
            olist.highlighted = max(0, min(len(self.shown) - 1, now + step))

    def action_dismiss_none(self) -> None:
        self.dismiss(None)

    def _open(self, index: int | None) -> None:
        if index is not None and 0 <= index < len(self.shown):
            self.read(self.shown[index].doc_id)

    def _list(self) -> None:
        count = self.query_one("#browse-count", Static)
        olist = self.query_one("#browse-list", OptionList)
        olist.clear_options()
        if self.articles is None:
            self.shown = []
            count.update(Text("no index yet: build one (ctrl+p → Re-index articles, or `rag index DIR`)",
                              style="bold yellow"))
            return
        typed = self.query_one("#browse-filter", Input).value.strip()
        kept = filtered(self.articles, typed)
        self.shown = kept[:BROWSE_ROWS]
        if not kept:
            count.update(Text(f"no file name or title holds {clean_line(typed)!r} "
                              f"(the index holds {counted(len(self.articles), 'article')})", style="bold yellow"))
            return
        head = (counted(len(kept), "article") if not typed
                else f"{len(kept):,} of {len(self.articles):,} articles hold {clean_line(typed)!r}")
        more = f" · the first {BROWSE_ROWS:,} listed: type to narrow" if len(kept) > BROWSE_ROWS else ""
        count.update(Text(head + more, style="dim"))
        dated = any(a.date for a in self.shown)
        olist.add_options([Option(browse_line(a, dated)) for a in self.shown])
        olist.highlighted = 0
