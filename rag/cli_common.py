"""What every `rag` command shares: the consoles, the one way an error is reported (one line, a distinct exit
code), the options several commands take, and the core service they stand on."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Annotated, NoReturn, Optional

import typer
from rich.console import Console
from rich.markup import escape

from rag.errors import RagError
from rag.sanitize import clean_line, dumps

err = Console(stderr=True, highlight=False)
out = Console(highlight=False)


def say_error(message: str, code: int | None = None, as_json: bool = False) -> None:
    """The one way `rag` reports an error: one line on stderr. Escaped, as messages hold `[llm.*]` or paths
    in brackets that rich would take for markup (and drop, or fail on); cleaned, as they may quote file
    names and titles with escape sequences in them. With --json, also an error record on stdout, so a
    script reading stdout learns what went wrong."""
    line = clean_line(message)
    err.print(f"[bold red]error:[/] {escape(line)}", soft_wrap=True)
    if as_json and code is not None:
        sys.stdout.write(dumps({"error": line, "code": code}) + "\n")
        sys.stdout.flush()


def fail(message: str, code: int, as_json: bool = False) -> NoReturn:
    say_error(message, code, as_json)
    raise SystemExit(code)


IndexDir = Annotated[Optional[Path], typer.Option("--index-dir",
                                                  help="Index folder (default: index/, or $RAG_INDEX_DIR).")]
ConfigOpt = Annotated[Optional[Path], typer.Option("--config",
                                                   help="models.toml to use (default: ./models.toml, or $RAG_CONFIG).")]
ModelOpt = Annotated[Optional[str], typer.Option("--model", "-m", help="LLM name from models.toml.")]
NoJudgeOpt = Annotated[bool, typer.Option("--no-judge", help="The fast profile: no judge model reads the evidence "
                                          "before answering (`[answer] judge`); about 4x faster, abstains less well.")]
SourceOpt = Annotated[Optional[str], typer.Option("--source", help="Only articles whose file name matches: a glob, "
                                                "or letters it holds ('sport' is '*sport*'); with '/', the path.")]
SinceOpt = Annotated[Optional[str], typer.Option("--since", help="Only articles dated on or after: YYYY, YYYY-MM "
                                               "or YYYY-MM-DD (undated articles are left out).")]
UntilOpt = Annotated[Optional[str], typer.Option("--until", help="Only articles dated on or before: YYYY, YYYY-MM "
                                               "or YYYY-MM-DD (undated articles are left out).")]


@contextlib.contextmanager
def errors(as_json: bool = False):
    """Every failure a user can fix is one line on stderr and a distinct exit code (and, with --json, an
    error record on stdout)."""
    try:
        yield
    except RagError as exc:
        say_error(str(exc), exc.exit_code, as_json)
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        err.print("interrupted; nothing was changed")
        if as_json:
            sys.stdout.write(dumps({"error": "interrupted", "code": 130}) + "\n")
        raise typer.Exit(130) from None


def make_assistant(config: Path | None, index_dir: Path | None, model: str | None = None, answers: bool = False,
               no_judge: bool = False):
    """The core service; with `answers`, for a command that needs the LLM (and the judge, unless
    `no_judge`), which must then be installed."""
    from rag.assistant import Assistant
    from rag.config import load_settings

    settings = load_settings(config)
    if no_judge:
        settings.answer.judge = None
    assistant = Assistant(settings, index_dir, model)
    if answers:
        assistant.check_model()
    return assistant
