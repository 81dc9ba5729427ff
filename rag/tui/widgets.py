"""Widgets of the chat screen: the question input, one conversation turn, the sources panel, the status line.

They only display things and post messages; the app decides what happens. No retrieval or prompting here.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.dom import DOMNode
from textual.message import Message
from textual.widgets import Label, Markdown, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from rag.citations import also_in
from rag.conversations import quoted
from rag.sanitize import clean, clean_line
from rag.schema import Answer, Citation
from rag.wording import counted

QUOTE_CHARS = 280
CITE_MARK = re.compile(r"\[(\d+)\]")
NEWLINE_KEYS = ("shift+enter", "ctrl+j", "alt+enter")


Severity = Literal["information", "warning", "error"]


def notify_plain(node: DOMNode, message: str, *, title: str = "", severity: Severity = "information",
                 timeout: float | None = None) -> None:
    """Notifications quote errors, paths and titles: cleaned of escape sequences, and plain text (not
    markup), so "[llm.x]" or a "[1]" in them is shown as written. Thread-safe, like `App.notify`."""
    node.app.notify(clean(message), title=clean_line(title), severity=severity, timeout=timeout, markup=False)


def tokens_per_second(answer: Answer) -> float | None:
    """The answering model's tokens/s over its own time (not retrieval's or the judge's), or None when
    it wrote nothing or the record does not say how long it took (saved before that was recorded)."""
    if answer.tokens and answer.generation_s > 0:
        return answer.tokens / answer.generation_s
    return None


class QuestionInput(TextArea):
    """Multi-line question box: Enter sends, shift+enter / ctrl+j add a newline, Up/Down on the
    first/last line recall earlier questions (like a shell)."""

    class Submitted(Message):
        """The user pressed Enter on a non-empty question."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(soft_wrap=True, show_line_numbers=False, tab_behavior="focus", **kwargs)
        self.asked: list[str] = []
        self._recall: int | None = None  # index into history while browsing it
        self._draft = ""

    def remember(self, question: str) -> None:
        if question and (not self.asked or self.asked[-1] != question):
            self.asked.append(question)
        self._recall = None

    def set_text(self, text: str) -> None:
        """Replace the text and put the cursor at the end, ready to edit."""
        self.load_text(text)
        self.move_cursor(self.document.end)

    def submit(self) -> None:
        text = self.text.strip()
        if text:
            self.post_message(self.Submitted(text))

    def type_text(self, text: str) -> None:
        """Insert as typing does: over the selection, the cursor after the text."""
        self.replace(text, *self.selection, maintain_selection_offset=False)

    def type_key(self, event: events.Key) -> bool:
        """Apply a key that was typed for this box but reached another widget (it had focus when the
        key arrived). Returns whether the key was one the box takes."""
        if event.key == "enter":
            self.submit()
        elif event.key in NEWLINE_KEYS:
            self.type_text("\n")
        elif event.key == "backspace":
            self.action_delete_left()
        elif event.is_printable and event.character:
            self.type_text(event.character)
        else:
            return False
        return True

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            self.submit()
            return
        if event.key in NEWLINE_KEYS:
            event.stop()
            event.prevent_default()
            self.type_text("\n")
            return
        await super()._on_key(event)

    def action_cursor_up(self, select: bool = False) -> None:
        if not select and self.asked and self.navigator.is_first_wrapped_line(self.cursor_location):
            if self._recall is None:
                self._draft, self._recall = self.text, len(self.asked)
            if self._recall > 0:
                self._recall -= 1
                self.set_text(self.asked[self._recall])
            return
        super().action_cursor_up(select)

    def action_cursor_down(self, select: bool = False) -> None:
        if not select and self._recall is not None and self.navigator.is_last_wrapped_line(self.cursor_location):
            self._recall += 1
            if self._recall >= len(self.asked):
                self._recall = None
                self.set_text(self._draft)
            else:
                self.set_text(self.asked[self._recall])
            return
        super().action_cursor_down(select)


class TurnView(Vertical):
    """One exchange: the question, the answer (streamed, then replaced by the verified one) and a
    one-line footnote (model, latency, speed, mode). Clicking it shows its sources."""

    class Selected(Message):
        def __init__(self, turn: TurnView) -> None:
            super().__init__()
            self.turn = turn

    class CiteClicked(Message):
        """A `[n]` marker in the settled answer was clicked."""

        def __init__(self, turn: TurnView, n: int) -> None:
            super().__init__()
            self.turn, self.n = turn, n

    def __init__(self, question: str, answer: Answer | None = None, **kwargs: Any) -> None:
        super().__init__(classes="turn", **kwargs)
        self.question = question
        self.answer = answer
        self.streamed = ""

    def compose(self) -> ComposeResult:
        yield Static(Text(question_line(self.question)), classes="question")
        yield Markdown(linked(self.answer.answer) if self.answer else "", classes="answer", open_links=False)
        yield Static(self._meta_text(), classes="meta")

    @property
    def markdown(self) -> Markdown:
        return self.query_one(Markdown)

    def _meta_text(self) -> Text:
        if self.answer is None:
            state = "writing…" if self.streamed else "thinking…"
            return Text(f"{state}  (esc cancels)", style="italic")
        return Text(answer_meta(self.answer))

    def add_delta(self, text: str) -> None:
        first = not self.streamed
        self.streamed += text
        if first:
            self.query_one(".meta", Static).update(self._meta_text())

    async def settle(self, answer: Answer) -> None:
        """Replace whatever streamed with the final, verified answer."""
        self.answer = answer
        self.set_class(answer.abstained or answer.mode == "abstained", "-abstained")
        self.set_class(answer.mode == "error", "-error")
        await self.markdown.update(linked(answer.answer) if answer.answer else "_(no answer)_")
        self.query_one(".meta", Static).update(self._meta_text())

    def on_click(self, event: events.Click) -> None:
        self.post_message(self.Selected(self))

    def on_markdown_link_clicked(self, event: Markdown.LinkClicked) -> None:
        event.stop()
        if event.href.startswith("cite:"):
            self.post_message(self.CiteClicked(self, int(event.href[5:])))


def linked(answer: str) -> str:
    """Make each `[n]` marker a link the viewer can follow (it still reads `[n]`). The answer quotes
    articles, so it is cleaned of escape sequences first."""
    return CITE_MARK.sub(lambda m: f"[\\[{m.group(1)}\\]](cite:{m.group(1)})", clean(answer))


def speed(tps: float) -> str:
    return f"{tps:.1f} tok/s" if tps < 10 else f"{tps:.0f} tok/s"


def question_line(question: str) -> str:
    return "❯ " + clean(question).strip()


def answer_meta(answer: Answer) -> str:
    parts = [answer.model] if answer.model else []
    if answer.latency_s:
        parts.append(f"{answer.latency_s:.1f}s")
    if answer.tokens:
        parts.append(f"{answer.tokens} tokens")
    tps = tokens_per_second(answer)
    if tps:
        parts.append(speed(tps))
    n = len(answer.citations)
    parts.append(counted(n, "source"))
    if answer.scope:
        parts.append(f"asked of the articles {answer.scope}")
    if answer.mode == "extractive":
        parts.append("extractive: quoted from the sources")
    elif answer.abstained or answer.mode == "abstained":
        parts.append(f"abstained: {answer.abstain_reason.message}" if answer.abstain_reason else "abstained")
    if answer.error:
        parts.append(f"error: {answer.error}")
    return clean_line(" · ".join(parts))


def citation_prompt(c: Citation) -> Text:
    """A sources-panel entry: number and title, doc id, then the quoted sentence."""
    quote = clean_line(c.quote)
    if len(quote) > QUOTE_CHARS:
        quote = quote[:QUOTE_CHARS].rsplit(" ", 1)[0] + "…"
    text = Text()
    text.append(f"[{c.n}] ", style="bold")
    text.append(clean_line(c.title or c.doc_id), style="bold")
    text.append(f"\n{clean_line(c.doc_id + also_in(c))}", style="dim")
    text.append(f"\n{quoted(quote)}", style="italic")
    return text


class SourcesPanel(Vertical):
    """The citations of the selected answer (of an abstention: the evidence it read). Enter or click opens
    the article at the quote."""

    class Chosen(Message):
        def __init__(self, citation: Citation) -> None:
            super().__init__()
            self.citation = citation

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.citations: list[Citation] = []

    def compose(self) -> ComposeResult:
        yield Label("Sources", id="sources-title")
        yield OptionList(id="sources-list")

    def show(self, answer: Answer | None, pending: bool = False) -> None:
        # An abstention lists the evidence it read instead, so the reason can be checked against it.
        considered = bool(answer and answer.abstained and not answer.citations and answer.considered)
        self.citations = list(answer.considered if considered else answer.citations) if answer else []
        options = self.query_one(OptionList)
        options.clear_options()
        if self.citations:
            items: list[Option | None] = []
            for c in self.citations:
                items.append(Option(citation_prompt(c), id=f"c{c.n}"))
                items.append(None)  # a separator line between entries
            options.add_options(items[:-1])
            options.highlighted = 0
            title = (f"Evidence read, not an answer ({len(self.citations)}) · enter opens" if considered else
                     f"Sources ({len(self.citations)}) · enter opens")
        else:
            msg = ("Sources appear when the answer is ready." if pending else
                   "No sources for this answer." if answer else "Ask a question; its sources appear here.")
            options.add_option(Option(Text(msg, style="dim"), disabled=True))
            title = "Sources"
        self.query_one("#sources-title", Label).update(title)

    def citation(self, n: int) -> Citation | None:
        return next((c for c in self.citations if c.n == n), None)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id and event.option.id.startswith("c"):
            citation = self.citation(int(event.option.id[1:]))
            if citation:
                self.post_message(self.Chosen(citation))


class StatusUpdate(Message):
    """New values for some `StatusLine` fields (model, index, state, last, conversation), posted by
    the widgets that know them, so they need not find the status line: the app owns it and applies
    them (the conversation's title goes in the header too)."""

    def __init__(self, **fields: str) -> None:
        super().__init__()
        self.fields = fields


class StatusLine(Static):
    """Model, index size, what the app is doing, the last answer's latency and speed, and the
    conversation. Drawn to the width it has: labels and wide gaps only when there is room."""

    WIDE = 110

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("", **kwargs)
        self.model = ""
        self.index = "index: loading…"
        self.state = "starting"
        self.last = ""
        self.conversation = ""

    def set(self, **fields: str) -> None:
        for key, value in fields.items():
            setattr(self, key, value)
        self.refresh()

    def render(self) -> Text:
        wide = self.size.width >= self.WIDE
        model = f"model {self.model}" if wide and self.model else self.model
        parts = [clean_line(p) for p in (model, self.index, self.state, self.last, self.conversation) if p]
        return Text(("  │  " if wide else " │ ").join(parts), no_wrap=True, overflow="ellipsis")
