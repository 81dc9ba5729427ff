"""Modal screens: the article viewer (a cited quote highlighted), the conversation list, the scope form and the key
help."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from rag.conversations import ConversationInfo
from rag.errors import UsageError
from rag.render import article_line
from rag.sanitize import clean, clean_line
from rag.schema import ArticleInfo, Citation, Document
from rag.scope import Scope
from rag.wording import counted

HIGHLIGHT = "bold reverse"
PREVIEW_ARTICLES = 5  # articles the scope form lists under its count, as the user types


def locate_quote(doc: Document, citation: Citation) -> tuple[int, int] | None:
    """The cited span: the offsets if they hold the quote, else the quote searched for, else None."""
    start, end = citation.start, citation.end
    if 0 <= start < end <= len(doc.text):
        if citation.quote and " ".join(doc.text[start:end].split()) != " ".join(citation.quote.split()):
            found = doc.text.find(citation.quote)
            return (found, found + len(citation.quote)) if found >= 0 else (start, end)
        return start, end
    found = doc.text.find(citation.quote) if citation.quote else -1
    return (found, found + len(citation.quote)) if found >= 0 else None


def paragraphs(text: str) -> list[tuple[int, int]]:
    """(start, end) of each non-blank line, so highlights map back to document offsets."""
    spans, pos = [], 0
    for line in text.split("\n"):
        if line.strip():
            spans.append((pos, pos + len(line)))
        pos += len(line) + 1
    return spans


class ArticleScreen(ModalScreen[None]):
    """The full article, the cited span (when opened from a citation) highlighted and scrolled into view.
    `a` asks later questions of this article only; esc closes."""

    BINDINGS = [
        Binding("escape,q", "dismiss", "Close"),
        Binding("a", "ask_only", "Ask only this article"),
        Binding("n", "jump(1)", "Next source", show=False),
        Binding("p", "jump(-1)", "Previous source", show=False),
    ]

    class AskOnly(Message):
        """The user asked to narrow later questions to this article (handled by the app)."""

        def __init__(self, doc_id: str) -> None:
            super().__init__()
            self.doc_id = doc_id

    def __init__(self, doc: Document, citation: Citation | None = None,
                 others: list[Citation] | None = None) -> None:
        super().__init__()
        self.doc = doc
        self.citation = citation
        cited = [citation] if citation else []
        self.others = [c for c in (others or cited) if c.doc_id == doc.doc_id] or cited
        self.span = locate_quote(doc, citation) if citation else None

    def compose(self) -> ComposeResult:
        with Vertical(id="article"):
            meta = " · ".join(clean_line(x) for x in (self.doc.doc_id, self.doc.date or "", self.doc.source) if x)
            number = f"[{self.citation.n}] " if self.citation else ""
            yield Label(Text(f"{number}{clean_line(self.doc.title)}", style="bold"), id="article-title")
            yield Label(Text(meta, style="dim"), id="article-meta")
            with VerticalScroll(id="article-body"):
                for i, (start, end) in enumerate(paragraphs(self.doc.text)):
                    hit = self.span is not None and start < self.span[1] and self.span[0] < end
                    yield Static(self._paragraph(start, end), id=f"p{i}", classes="para -hit" if hit else "para")
            hint = "esc close · a ask only this article" + (
                " · n/p other quotes from this article" if len(self.others) > 1 else "")
            if self.citation and self.span is None:
                hint = "quote not found in this article · " + hint
            yield Label(Text(hint, style="dim"), id="article-hint")

    def _paragraph(self, start: int, end: int) -> Text:
        """One paragraph, the cited span highlighted. The offsets are the stored text's; each piece is
        cleaned of escape sequences on its own, so the highlight still covers the quote."""
        cut = [start, end]
        if self.span:
            s, e = max(self.span[0], start), min(self.span[1], end)
            if s < e:
                cut = [start, s, e, end]
        text = Text()
        for i, (a, b) in enumerate(zip(cut, cut[1:], strict=False)):
            text.append(clean(self.doc.text[a:b]), style=HIGHLIGHT if len(cut) == 4 and i == 1 else "")
        return text

    def on_mount(self) -> None:
        self.call_after_refresh(self._scroll_to_quote)

    def _scroll_to_quote(self) -> None:
        hits = self.query(".-hit")
        if hits:
            self.query_one("#article-body").scroll_to_widget(hits.first(), center=True, animate=False)

    def action_ask_only(self) -> None:
        self.post_message(self.AskOnly(self.doc.doc_id))

    def action_jump(self, step: int) -> None:
        """Show the next/previous quote from the same article."""
        if self.citation is None or len(self.others) < 2:
            return
        i = next((k for k, c in enumerate(self.others) if c.n == self.citation.n), 0)
        self.app.switch_screen(ArticleScreen(self.doc, self.others[(i + step) % len(self.others)], self.others))


class ConversationsScreen(ModalScreen[int | None]):
    """Pick a saved conversation to resume; dismisses with its id (None when closed)."""

    BINDINGS = [Binding("escape", "dismiss_none", "Close")]

    def __init__(self, items: list[ConversationInfo], current: int | None, index_path: str | None = None) -> None:
        """`index_path`: the index the chat is held over; a conversation held over another is marked."""
        super().__init__()
        self.items = items
        self.current = current
        self.index_path = index_path

    def compose(self) -> ComposeResult:
        with Vertical(id="conversations"):
            yield Label(Text("Conversations · enter resumes · esc closes", style="bold"))
            options = []
            for c in self.items:
                text = Text(f"#{c.id} ", style="dim")
                text.append(clean_line(c.title), style="bold" if c.id == self.current else "")
                text.append(f"  · {counted(c.turns, 'turn')} · {c.updated_at[:16].replace('T', ' ')}",
                            style="dim")
                if self.index_path and c.index_path and c.index_path != self.index_path:
                    text.append(f" · other index: {clean_line(c.index_path)}", style="dim italic")
                options.append(Option(text, id=str(c.id)))
            if not options:
                options.append(Option(Text("No saved conversations yet.", style="dim"), disabled=True))
            yield OptionList(*options, id="conversation-list")

    def on_mount(self) -> None:
        olist = self.query_one(OptionList)
        ids = [c.id for c in self.items]
        if self.current in ids:
            olist.highlighted = ids.index(self.current)
        olist.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.dismiss(int(event.option.id))

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


class ScopeScreen(ModalScreen[Scope | None]):
    """Which articles to ask (`rag chat --source/--since/--until` from inside the app): enter applies,
    a bad date is said here and the form stays; all three empty is the whole index again. As the user
    types, it counts the articles the scope holds and lists the first few (`rag articles`), once the
    app has read the index's list (`show_articles`)."""

    BINDINGS = [Binding("escape", "dismiss_none", "Close")]

    def __init__(self, current: Scope) -> None:
        super().__init__()
        self.current = current
        self.articles: list[ArticleInfo] | None = None  # the index's articles, once read
        self.read = False  # whether they have been read (None then means there is no index yet)

    def compose(self) -> ComposeResult:
        c = self.current
        with Vertical(id="scope"):
            yield Label(Text("Ask only some articles · enter applies · esc closes · all empty: every article",
                             style="bold"))
            yield Input(c.source or "", placeholder="file name: letters it holds, or a glob (sport, 'bbc_*')",
                        id="scope-source")
            yield Input(c.since.isoformat() if c.since else "", placeholder="since: YYYY, YYYY-MM or YYYY-MM-DD",
                        id="scope-since")
            yield Input(c.until.isoformat() if c.until else "", placeholder="until: YYYY, YYYY-MM or YYYY-MM-DD",
                        id="scope-until")
            yield Label("", id="scope-error")
            yield Static(Text("reading the list of articles…", style="dim"), id="scope-matches")

    def on_mount(self) -> None:
        self.query_one("#scope-source", Input).focus()

    def show_articles(self, articles: list[ArticleInfo] | None) -> None:
        """The index's articles (None: there is no index yet), from a worker; ignored once closed."""
        self.articles, self.read = articles, True
        if self.is_attached:
            self._preview()

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.query_one("#scope-error", Label).update("")
        if self.read:
            self._preview()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            scope = self._typed()
        except UsageError as exc:
            self.query_one("#scope-error", Label).update(Text(clean_line(str(exc)), style="bold red"))
            return
        self.dismiss(scope)

    def _typed(self) -> Scope:
        source, since, until = (self.query_one(f"#scope-{k}", Input).value.strip() or None
                                for k in ("source", "since", "until"))
        return Scope.parse(source, since, until)

    def _preview(self) -> None:
        box = self.query_one("#scope-matches", Static)
        if self.articles is None:
            box.update(Text("no index yet: the scope is checked once one is built", style="dim"))
            return
        try:
            scope = self._typed()
        except UsageError:  # a date half typed: wait for the rest
            box.update("")
            return
        box.update(matches(self.articles, scope))

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


def matches(articles: list[ArticleInfo], scope: Scope) -> Text:
    """How many of the articles `scope` holds, and the first PREVIEW_ARTICLES of them."""
    kept = [a for a in articles if scope.matches(a)]
    if not kept:
        return Text(f"no article matches (the index holds {len(articles):,}, "
                    f"{sum(a.date is not None for a in articles):,} of them dated)", style="bold yellow")
    head = "every article" if scope.whole else f"{len(kept):,} of {len(articles):,} articles"
    dated = any(a.date for a in kept[:PREVIEW_ARTICLES])
    lines = [article_line(a, dated) for a in kept[:PREVIEW_ARTICLES]]
    more = [f"… and {len(kept) - PREVIEW_ARTICLES:,} more"] if len(kept) > PREVIEW_ARTICLES else []
    text = Text(f"{head} ({len(articles):,})\n" if scope.whole else f"{head}\n", style="bold")
    text.append("\n".join(lines + more), style="dim")
    return text


KEYS = [
    ("enter", "send the question"),
    ("shift+enter, ctrl+j", "new line in the question"),
    ("up / down", "earlier questions (on the first / last line)"),
    ("esc", "cancel the running answer; the question stays in the box"),
    ("tab", "move between conversation, sources and input"),
    ("ctrl+g", "go to the sources list (typing goes back to the question box)"),
    ("enter / click on a source", "open the article at the quote (esc closes)"),
    ("1 … 9", "open source n (when the input is not focused)"),
    ("click an answer", "show its sources"),
    ("ctrl+n", "new conversation"),
    ("ctrl+o", "list and resume conversations"),
    ("ctrl+s", "export this conversation to Markdown"),
    ("f2", "copy the selected answer with its sources"),
    ("ctrl+l", "browse the articles; enter reads one"),
    ("a (reading an article)", "ask only this article (ctrl+p → Ask only some articles widens it again)"),
    ("ctrl+p", "commands: switch model, ask only some articles, re-index, …"),
    ("f1, ?", "this help"),
    ("ctrl+q", "quit"),
]
ABOUT = ("Answers stream as the model writes, then settle into the verified answer: citations that "
         "point nowhere are dropped, ungrounded text is replaced by quotes from the articles, and the "
         "assistant abstains when the articles do not say.")


def help_table() -> Table:
    table = Table(box=None, show_header=False, padding=(0, 2, 0, 0), expand=True)
    table.add_column(style="bold", no_wrap=True)
    table.add_column(ratio=1)
    for key, does in KEYS:
        table.add_row(key, does)
    return table


class HelpScreen(ModalScreen[None]):
    """The key summary (F1 or ?)."""

    BINDINGS = [Binding("escape,q,f1,question_mark", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Label(Text("Keys · esc closes", style="bold"))
            yield Static(help_table())
            yield Static(Text(ABOUT, style="dim"), id="help-about")
