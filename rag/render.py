"""How an answer looks in a terminal: the text with its [n] markers, then the numbered sources."""

from __future__ import annotations

from collections.abc import Iterator

from rich.console import Console
from rich.live import Live
from rich.text import Text

from rag.schema import Answer, Delta, Final, StreamEvent


def stream_answer(console: Console, events: Iterator[StreamEvent]) -> Answer:
    """Show the text as the model writes it; the verified answer replaces it when it is ready."""
    shown = ""
    with Live(Text(""), console=console, transient=True, refresh_per_second=15) as live:
        for event in events:
            if isinstance(event, Delta):
                shown += event.text
                live.update(Text(shown, style="dim"))
            elif isinstance(event, Final):
                return event.answer
    raise RuntimeError("answer stream ended without a final answer")


def print_answer(console: Console, answer: Answer) -> None:
    console.print(answer.answer, soft_wrap=True, markup=False)
    if answer.citations:
        console.print()
        console.print("Sources:", style="bold")
        for c in answer.citations:
            console.print(Text.assemble((f"[{c.n}] ", "bold"), (c.title, "italic"), f" ({c.doc_id})"), soft_wrap=True)
            console.print(Text(f"    “{c.quote}”"), soft_wrap=True)


def line_chat(assistant, new: bool = False) -> int:
    """A plain prompt loop, used when the Textual app is not available."""
    from rag.errors import RagError
    from rag.schema import Turn

    console = Console(highlight=False)
    history: list[Turn] = []
    console.print("Ask about the articles (empty line or Ctrl-D to quit).")
    while True:
        try:
            question = console.input("[bold]> [/]").strip()
        except (EOFError, KeyboardInterrupt):
            return 0
        if not question:
            return 0
        try:
            answer = stream_answer(console, assistant.stream(question, history))
        except RagError as exc:
            console.print(f"[red]error:[/] {exc}")
            continue
        print_answer(console, answer)
        history.append(Turn(question=question, answer=answer))
