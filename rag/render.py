"""How an answer looks in a terminal: the text with its [n] markers, then the numbered sources (and the list
of indexed articles `rag articles` prints).

Everything shown here comes from articles or from a model that read them, so it goes through
`rag.sanitize` first: no escape sequence in an article reaches the terminal."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from rich.console import Console
from rich.live import Live
from rich.text import Text

from rag.citations import also_in, quoted
from rag.question import Question
from rag.sanitize import StreamCleaner, clean, clean_line
from rag.schema import Answer, ArticleInfo, Citation, Delta, Final, StreamEvent


def stream_answer(console: Console, events: Iterator[StreamEvent]) -> Answer:
    """Show the text as the model writes it; the verified answer replaces it when it is ready."""
    shown, cleaner = "", StreamCleaner()  # a sequence may span two pieces
    with Live(Text(""), console=console, transient=True, refresh_per_second=15) as live:
        for event in events:
            if isinstance(event, Delta):
                shown += cleaner.feed(event.text)
                live.update(Text(shown, style="dim"))
            elif isinstance(event, Final):
                return event.answer
    raise RuntimeError("answer stream ended without a final answer")


def print_answer(console: Console, answer: Answer) -> None:
    console.print(Text(clean(answer.answer)), soft_wrap=True)
    if answer.citations:
        console.print()
        console.print("Sources:", style="bold")
        print_quotes(console, answer.citations)
    if answer.scope:  # narrowed: an abstention means "not in these articles", not "not in the index"
        console.print(Text(f"Asked of the articles {clean_line(answer.scope)} only.", style="dim"), soft_wrap=True)


def print_quotes(console: Console, citations: Sequence[Citation]) -> None:
    """Each quote under its number, title and article id (and the other articles that hold it)."""
    for c in citations:
        console.print(Text.assemble((f"[{c.n}] ", "bold"), (clean_line(c.title), "italic"),
                                    f" ({clean_line(c.doc_id + also_in(c))})"), soft_wrap=True)
        console.print(Text(f"    {clean_line(quoted(c.quote))}"), soft_wrap=True)


def print_explanation(console: Console, answer: Answer, question: Question) -> None:
    """`rag ask --explain`: how the question was read, and the check that stopped it or that it passed them."""
    from rag.checks import NAMES

    console.print()
    read = {"kind": question.kind, "focus": question.focus, "event": question.event,
            "names": ", ".join(question.names), "places": ", ".join(question.places),
            "dates": ", ".join(question.dates),
            "roles": "; ".join(f"{question.text[r.span[0]:r.span[1]]} = {', '.join(r.holders)}"
                               for r in question.roles),
            "searched as": question.query if question.follow_up else None}
    console.print(Text.assemble(("Read as: ", "bold"),
                                clean_line("; ".join(f"{k} {v}" for k, v in read.items() if v)) or "-"),
                  soft_wrap=True)
    if answer.abstained and answer.abstain_reason:
        console.print(Text.assemble(("Abstained: ", "bold"), (answer.abstain_reason.code, "bold yellow"), " - ",
                                    clean_line(answer.abstain_reason.message)), soft_wrap=True)
        if answer.considered:
            console.print("The evidence it read (not an answer):", style="bold")
            print_quotes(console, answer.considered)
    elif answer.abstained:
        console.print(Text.assemble(("Abstained", "bold"), " (no reason recorded)"))
    elif answer.answerability is not None:
        console.print(Text.assemble(("Answered", "bold"), f" ({answer.mode}): the fitted gate puts the chance the "
                                    f"evidence answers at {answer.answerability:.0%}"), soft_wrap=True)
    else:
        console.print(Text.assemble(("Answered", "bold"), f" ({answer.mode}): passed the checks {', '.join(NAMES)}"),
                      soft_wrap=True)


def print_articles(console: Console, articles: Sequence[ArticleInfo]) -> None:
    """One line per article (`article_line`); plain columns, so the list can be piped to grep or sort."""
    dated = any(a.date for a in articles)
    for a in articles:
        console.print(Text(article_line(a, dated)), soft_wrap=True)


def article_line(article: ArticleInfo, dated: bool = True) -> str:
    """Its date (blank when undated; no column when `dated` is False: none in the list is), its file
    (relative to here when under it) and its title, cleaned for a terminal."""
    when = f"{clean_line(article.date or ''):<10}  " if dated else ""
    return f"{when}{clean_line(_shown_path(article.source))}  {clean_line(article.title)}"


def _shown_path(source: str) -> str:
    path = Path(source)
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return source
