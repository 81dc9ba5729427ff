"""How `rag index` shows its progress: a live bar on a terminal; elsewhere (a log, CI, a pipe) a plain
line now and then, so a long build of an archive is never silent."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from rag.indexer import ARTICLES_TO_EMBED, ProgressFn

LOG_EVERY_S = 10.0  # off a terminal: seconds between progress lines; a build done sooner prints none


class _Rate(ProgressColumn):
    """Chunks per second, and the articles per second they amount to."""

    def render(self, task: Task) -> Text:
        speed, per_chunk = task.speed, task.fields.get("articles_per_chunk", 0.0)
        if not speed or task.description != "embedding":
            return Text("")
        return Text(f"{speed:,.0f} chunks/s, {speed * per_chunk:,.1f} articles/s")


def _eta(seconds: float) -> str:
    minutes, secs = divmod(int(seconds + 0.5), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


class _Lines:
    """Progress as occasional plain lines: the phase, counts, rate and time left."""

    def __init__(self, console: Console, clock: Callable[[], float] = time.monotonic) -> None:
        self.console, self.clock = console, clock
        self.articles = 0
        self.phase, self.started = "", clock()
        self.last = self.started  # the first line comes LOG_EVERY_S into the build
        self.printed = False

    def __call__(self, done: int, total: int, what: str) -> None:
        if what == ARTICLES_TO_EMBED:
            self.articles = done
            return
        now = self.clock()
        if what != self.phase:
            self.phase, self.started = what, now
        finished = bool(total) and done == total and self.printed  # close a phase that was being shown
        if now - self.last < LOG_EVERY_S and not finished:
            return
        self.last, self.printed = now, True
        line = f"{what}: {done:,}/{total:,}" if total else f"{what}"
        if what == "embedding" and total:
            line += f" chunks of {self.articles:,} articles"
            elapsed = now - self.started
            if done and elapsed > 0:
                rate = done / elapsed
                line += (f" ({rate:,.0f} chunks/s, {rate * self.articles / total:,.1f} articles/s, "
                         f"{_eta((total - done) / rate)} left)")
        self.console.print(line, soft_wrap=True, markup=False, highlight=False)


@contextmanager
def index_progress(console: Console) -> Iterator[tuple[ProgressFn, Callable[[str], None]]]:
    """(report progress, print a message) for the length of a build."""
    if not console.is_terminal:
        lines = _Lines(console)
        yield lines, lambda message: console.print(message, soft_wrap=True, markup=False)
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), _Rate(),
               TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("reading articles", total=None, articles_per_chunk=0.0)

        def report(done: int, total: int, what: str) -> None:
            if what == ARTICLES_TO_EMBED:
                progress.update(task, articles_per_chunk=done / total if total else 0.0)
                return
            if what != progress.tasks[0].description:  # a new phase: its own rate and time left
                progress.reset(task, total=total, completed=done, description=what)
            progress.update(task, completed=done, total=total)

        yield report, lambda message: progress.console.print(message, soft_wrap=True, markup=False)
