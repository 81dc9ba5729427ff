"""`rag index` progress off a terminal: quiet for a quick build, a line every LOG_EVERY_S for a long one."""

from __future__ import annotations

import io

from rich.console import Console

from rag.index_progress import LOG_EVERY_S, _Lines, index_progress
from rag.indexer import ARTICLES_TO_EMBED


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _lines(clock: Clock) -> tuple[_Lines, io.StringIO]:
    out = io.StringIO()
    return _Lines(Console(file=out, width=200, force_terminal=False), clock), out


def test_a_quick_build_prints_nothing() -> None:
    clock = Clock()
    report, out = _lines(clock)
    report(3, 40, ARTICLES_TO_EMBED)
    for done in range(0, 41, 8):
        clock.now += 0.5
        report(done, 40, "embedding")
    assert out.getvalue() == ""


def test_a_long_build_prints_rate_and_time_left_then_the_end() -> None:
    clock = Clock()
    report, out = _lines(clock)
    report(2_000, 10_000, ARTICLES_TO_EMBED)
    report(0, 10_000, "embedding")
    for done in range(100, 10_001, 100):  # 100 chunks a second
        clock.now += 1.0
        report(done, 10_000, "embedding")
    lines = out.getvalue().splitlines()
    assert len(lines) == 100 // int(LOG_EVERY_S)  # one per LOG_EVERY_S; the last at 100 s is also the end
    assert lines[0] == ("embedding: 1,000/10,000 chunks of 2,000 articles "
                        "(100 chunks/s, 20.0 articles/s, 1m30s left)")
    assert lines[-1].startswith("embedding: 10,000/10,000 chunks") and "0s left" in lines[-1]


def test_on_a_terminal_the_bar_takes_every_phase() -> None:
    out = io.StringIO()
    console = Console(file=out, width=200, force_terminal=True)
    with index_progress(console) as (report, say):
        report(5, 50, ARTICLES_TO_EMBED)
        report(0, 50, "loading embedder")
        report(50, 50, "embedding")
        say("waiting for another `rag index`")
    assert "waiting for another" in out.getvalue()
