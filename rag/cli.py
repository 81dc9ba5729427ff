"""`rag` command line: index, ask, articles, eval, doctor, chat (and `rag models`, rag/cli_models.py). A thin face
over `Assistant`; no retrieval logic here."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.markup import escape
from typer.core import TyperGroup

try:  # typer >= 0.2x parses with its own copy of click; older typer uses click itself
    from typer._click import exceptions as click_errors
except ImportError:  # pragma: no cover
    from click import exceptions as click_errors  # type: ignore[no-redef]  # the same module, older typer

from rag.cli_common import (
    ConfigOpt,
    IndexDir,
    ModelOpt,
    NoJudgeOpt,
    SinceOpt,
    SourceOpt,
    UntilOpt,
    err,
    errors,
    fail,
    make_assistant,
    out,
)
from rag.cli_models import models_app
from rag.errors import UsageError
from rag.sanitize import clean_line, json_line
from rag.wording import counted

# click >= 8.2 raises this for a bare `rag` (no_args_is_help); older versions print the help themselves.
_NO_ARGS_IS_HELP = getattr(click_errors, "NoArgsIsHelpError", ())


class _OneLineErrors(TyperGroup):
    """click answers a bad option with a usage banner over four lines; here it is one `error:` line,
    with the same exit code (2) and a pointer to the command's --help."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, windows_expand_args: bool = True, **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False,
                                windows_expand_args=windows_expand_args, **extra)
        as_json = "--json" in (list(args) if args is not None else sys.argv[1:])
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False,
                                windows_expand_args=windows_expand_args, **extra)
        except _NO_ARGS_IS_HELP as exc:  # bare `rag`: the help, as click shows it
            exc.show()
            sys.exit(exc.exit_code)
        except click_errors.UsageError as exc:
            fail(f"{' '.join(exc.format_message().split())} (see {self._command_path(exc, args)} --help)",
                 exc.exit_code, as_json)
        except click_errors.ClickException as exc:
            fail(" ".join(exc.format_message().split()), exc.exit_code, as_json)
        except typer.Abort:
            fail("aborted", 1)
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


@app.command()
def index(
    paths: Annotated[Optional[list[Path]], typer.Argument(
        help="Folders or .txt/.md files to add or update (default: every path the index was built from, "
             "else seeds/).")] = None,
    prune: Annotated[bool, typer.Option("--prune", help="Also drop the articles not under PATHS.")] = False,
    verify: Annotated[bool, typer.Option("--verify", help="Only check every index file against its checksum "
                                                          "(exit 4 if one is damaged).")] = False,
    wait: Annotated[float, typer.Option("--wait", min=0, metavar="SECONDS",
                                        help="How long to wait for another `rag index` on the same folder "
                                             "(0: refuse at once).")] = 600,
    index_dir: IndexDir = None,
    config: ConfigOpt = None,
) -> None:
    """Build or update the index; only new or changed articles are embedded."""
    from rag.index_progress import index_progress

    with errors():
        assistant = make_assistant(config, index_dir)
        if verify:
            if paths or prune:
                raise UsageError("--verify checks the index as it is: give it no paths and no --prune")
            checked = assistant.verify_index()
            err.print(f"verified {checked} files of the index at {assistant.index_path}: all intact",
                      soft_wrap=True, markup=False)
            return
        with index_progress(err) as (report, waiting):
            result = assistant.index(paths or [], progress=report, prune=prune, wait_s=wait, on_wait=waiting)
        try:
            for line in result.skipped + result.warnings:
                err.print(f"[yellow]warning:[/] {escape(clean_line(line))}", soft_wrap=True)
            err.print(f"indexed {counted(result.documents, 'article')}, {counted(result.chunks, 'chunk')} in "
                      f"{clean_line(str(assistant.index_path))} "
                      f"({len(result.added)} added, {len(result.updated)} updated, {len(result.removed)} removed, "
                      f"{len(result.unchanged)} unchanged; {counted(result.chunks_embedded, 'chunk')} embedded in "
                      f"{result.seconds}s)", soft_wrap=True, markup=False)
        except KeyboardInterrupt:  # the index is published by now: say so, not "nothing was changed"
            err.print(f"interrupted; the new index is published in {assistant.index_path}")


@app.command()
def ask(
    question: Annotated[Optional[str], typer.Argument(help="The question; '-' or none reads it from stdin.")] = None,
    k: Annotated[Optional[int], typer.Option("-k", min=1, max=50, help="Passages to retrieve.")] = None,
    model: ModelOpt = None,
    no_judge: NoJudgeOpt = False,
    index_dir: IndexDir = None,
    config: ConfigOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON answer record.")] = False,
    explain: Annotated[bool, typer.Option("--explain", help="Then say how the question was read and why it was "
                                          "answered or not (the check that stopped it).")] = False,
    source: SourceOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
) -> None:
    """Answer one question with cited sources."""
    from rag.answer import clean_question
    from rag.render import print_answer, print_explanation, stream_answer
    from rag.scope import Scope

    with errors(as_json):
        if question in (None, "-"):
            if sys.stdin.isatty():
                raise UsageError("no question: give one as an argument or pipe it on stdin")
            # Bytes, not text: a question that is not valid UTF-8 is read with replacement characters.
            question = sys.stdin.buffer.read().decode("utf-8", errors="replace")
        clean_question(question)  # an empty question is the first thing wrong, before a missing index
        scope = Scope.parse(source, since, until)  # and so is a date that is no date
        assistant = make_assistant(config, index_dir, model, answers=True, no_judge=no_judge)
        if not scope.whole:
            assistant.narrow(scope)
        if k:
            assistant.settings.retrieval.k = k
        for line in assistant.index_warnings():  # on stderr: --json keeps stdout one record
            err.print(f"[yellow]warning:[/] {escape(clean_line(line))}", soft_wrap=True)
        if as_json:
            answer = assistant.ask(question)
            sys.stdout.write(json_line(answer.model_dump_json()) + "\n")
            return
        if out.is_terminal:
            answer = stream_answer(out, assistant.stream(question))
        else:
            answer = assistant.ask(question)
        print_answer(out, answer)
        if explain:
            print_explanation(out, answer, assistant.parse(question))


@app.command()
def articles(
    source: SourceOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON record per article (doc_id, title, source, "
                                          "date).")] = False,
    index_dir: IndexDir = None,
    config: ConfigOpt = None,
) -> None:
    """List the indexed articles (date, file, title), or those --source/--since/--until select: what a question
    can be narrowed to."""
    from rag.render import print_articles
    from rag.scope import Scope

    with errors(as_json):
        scope = Scope.parse(source, since, until)
        assistant = make_assistant(config, index_dir)
        listed = assistant.articles(scope)
        if as_json:
            for a in listed:
                sys.stdout.write(json_line(a.model_dump_json()) + "\n")
            return
        print_articles(out, listed)
        total = assistant.stats().documents  # from the manifest: the list is not read twice
        which = f"{len(listed)} of {total} articles {scope.describe()}" if not scope.whole else \
            f"{counted(total, 'article')}, {sum(a.date is not None for a in listed)} of them dated"
        err.print(f"{which} (index {clean_line(str(assistant.index_path))})", soft_wrap=True, markup=False)


class Baseline(str, Enum):
    extractive = "extractive"


@app.command("eval")
def evaluate(
    gold: Annotated[Optional[Path], typer.Option("--gold", help="Gold questions (JSONL), answered from the "
                                                 "current index (default: seeds/gold.jsonl).")] = None,
    suite: Annotated[Optional[Path], typer.Option("--suite", help="A suite TOML listing sets (name, articles, "
                                                  "gold); each set gets its own cached index.")] = None,
    baseline: Annotated[Optional[Baseline], typer.Option("--baseline", help="Also run this baseline and show "
                                                         "its row beside the system's.")] = None,
    out_file: Annotated[Optional[Path], typer.Option("--out", help="Write one answer record per question here "
                                                     "(with --suite: a folder, one file per set).")] = None,
    compare: Annotated[Optional[Path], typer.Option("--compare", help="An earlier --out file to diff against.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    prune_cache: Annotated[bool, typer.Option("--prune-cache", help="Delete the cached suite indexes other "
                                              "index code opened last, then run --suite if given.")] = False,
    model: ModelOpt = None,
    no_judge: NoJudgeOpt = False,
    index_dir: IndexDir = None,
    config: ConfigOpt = None,
) -> None:
    """Run every gold question and print retrieval, answer and citation metrics."""
    from rag.eval_run import prune_suite_cache, run_eval, run_suite

    with errors(as_json):
        method = baseline.value if baseline else None
        if prune_cache:
            if suite is None and (gold, out_file, compare, baseline) != (None, None, None, None):
                raise UsageError("--prune-cache runs alone or before a --suite run, not with --gold, --out, "
                                 "--compare or --baseline alone")
            prune_suite_cache(err)
            if suite is None:
                return
        if suite is not None:
            clash = [name for name, given in (("--gold", gold), ("--index-dir", index_dir), ("--compare", compare))
                     if given is not None]
            if clash:
                raise UsageError(f"--suite cannot be combined with {', '.join(clash)}: each set names its gold "
                                 "file and gets its own cached index")
            run_suite(make_assistant(config, None, model, answers=True, no_judge=no_judge), suite, out_file, as_json,
                      out, err, method)
            return
        assistant = make_assistant(config, index_dir, model, answers=True, no_judge=no_judge)
        run_eval(assistant, gold or Path("seeds/gold.jsonl"), out_file, compare, as_json, out, err, method)


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

    with errors():
        settings = load_settings(config)
        rows = diagnose(settings, resolve_index_dir(index_dir, settings), check_runs=not no_run)
        colour = {"ok": "green", "warn": "yellow", "fail": "bold red"}
        width = max(len(f"{r.section} {r.name}") for r in rows)
        for r in rows:
            label = f"{r.section} {r.name}".ljust(width)
            out.print(f"[{colour[r.status]}]{r.status:<4}[/] {escape(clean_line(label))}  "
                      f"{escape(clean_line(r.value))}", soft_wrap=True)
        raise typer.Exit(exit_code(rows))


@app.command()
def chat(
    model: ModelOpt = None,
    no_judge: NoJudgeOpt = False,
    index_dir: IndexDir = None,
    config: ConfigOpt = None,
    new: Annotated[bool, typer.Option(
        "--new", help="Start a new conversation (default: reopen the last one over this index).")] = False,
    conversation: Annotated[Optional[int], typer.Option("--conversation",
                                                        help="Resume the conversation with this id.")] = None,
    source: SourceOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
) -> None:
    """Open the chat app."""
    from rag.scope import Scope

    with errors():
        scope = Scope.parse(source, since, until)
        assistant = make_assistant(config, index_dir, model, answers=True, no_judge=no_judge)
        assistant.narrow(scope)  # with no index yet, checked once the app has built one
        from rag.tui.app import run_chat

        raise typer.Exit(run_chat(assistant, conversation_id=conversation, new=new))


app.add_typer(models_app, name="models")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
