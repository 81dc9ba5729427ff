"""`rag` command line: index, ask, eval, chat. A thin face over `Assistant`; no retrieval logic here."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from rag.errors import RagError, UsageError

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  help="Ask questions about your news articles, answered offline with cited sources.")
err = Console(stderr=True, highlight=False)
out = Console(highlight=False)

IndexDir = Annotated[Optional[Path], typer.Option("--index-dir", help="Index folder (default: index/, or $RAG_INDEX_DIR).")]
ConfigOpt = Annotated[Optional[Path], typer.Option("--config", help="models.toml to use (default: ./models.toml, or $RAG_CONFIG).")]
ModelOpt = Annotated[Optional[str], typer.Option("--model", "-m", help="LLM name from models.toml.")]


@contextlib.contextmanager
def _errors():
    """Every failure a user can fix is one line on stderr and a distinct exit code."""
    try:
        yield
    except RagError as exc:
        err.print(f"[bold red]error:[/] {exc}", soft_wrap=True)
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        err.print("interrupted; nothing was changed")
        raise typer.Exit(130) from None


def _assistant(config: Path | None, index_dir: Path | None, model: str | None = None):
    from rag.assistant import Assistant
    from rag.config import load_settings

    return Assistant(load_settings(config), index_dir, model)


@app.command()
def index(
    paths: Annotated[Optional[list[Path]], typer.Argument(help="Folders or .txt/.md files (default: seeds/).")] = None,
    index_dir: IndexDir = None,
    config: ConfigOpt = None,
) -> None:
    """Build or update the index; only new or changed articles are embedded."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with _errors():
        assistant = _assistant(config, index_dir)
        paths = paths or [assistant.settings.base_dir / "seeds"]
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=err, transient=True) as progress:
            task = progress.add_task("reading articles", total=None)

            def report(done: int, total: int, what: str) -> None:
                progress.update(task, completed=done, total=total, description=what)

            result = assistant.index(paths, progress=report)
        for line in result.skipped + result.warnings:
            err.print(f"[yellow]warning:[/] {line}", soft_wrap=True)
        err.print(f"indexed {result.documents} articles, {result.chunks} chunks in {assistant.index_path} "
                  f"({len(result.added)} added, {len(result.updated)} updated, {len(result.removed)} removed, "
                  f"{len(result.unchanged)} unchanged; {result.chunks_embedded} chunks embedded in {result.seconds}s)")


@app.command()
def ask(
    question: Annotated[Optional[str], typer.Argument(help="The question; '-' or none reads it from stdin.")] = None,
    k: Annotated[Optional[int], typer.Option("-k", min=1, max=50, help="Passages to retrieve.")] = None,
    model: ModelOpt = None,
    index_dir: IndexDir = None,
    config: ConfigOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON answer record.")] = False,
) -> None:
    """Answer one question with cited sources."""
    from rag.render import print_answer, stream_answer

    with _errors():
        if question in (None, "-"):
            if sys.stdin.isatty():
                raise UsageError("no question: give one as an argument or pipe it on stdin")
            question = sys.stdin.read()
        assistant = _assistant(config, index_dir, model)
        if k:
            assistant.settings.retrieval.k = k
        if as_json:
            answer = assistant.ask(question)
            sys.stdout.write(answer.model_dump_json() + "\n")
        elif out.is_terminal:
            print_answer(out, stream_answer(out, assistant.stream(question)))
        else:
            print_answer(out, assistant.ask(question))


@app.command("eval")
def evaluate(
    gold: Annotated[Path, typer.Option("--gold", help="Gold questions (JSONL).")] = Path("seeds/gold.jsonl"),
    out_file: Annotated[Optional[Path], typer.Option("--out", help="Write one answer record per question here.")] = None,
    compare: Annotated[Optional[Path], typer.Option("--compare", help="An earlier --out file to diff against.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    model: ModelOpt = None,
    index_dir: IndexDir = None,
    config: ConfigOpt = None,
) -> None:
    """Run every gold question and print retrieval, answer and citation metrics."""
    from rag.evaluate import run_eval

    with _errors():
        assistant = _assistant(config, index_dir, model)
        run_eval(assistant, gold, out_file, compare, as_json, out, err)


@app.command()
def chat(
    model: ModelOpt = None,
    index_dir: IndexDir = None,
    config: ConfigOpt = None,
    new: Annotated[bool, typer.Option("--new", help="Start a new conversation instead of reopening the last.")] = False,
    conversation: Annotated[Optional[int], typer.Option("--conversation", help="Resume the conversation with this id.")] = None,
) -> None:
    """Open the chat app."""
    with _errors():
        assistant = _assistant(config, index_dir, model)
        from rag.tui.app import run_chat

        raise typer.Exit(run_chat(assistant, conversation_id=conversation, new=new))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
