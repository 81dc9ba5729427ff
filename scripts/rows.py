"""The measured rows a fit script works on, kept in a JSONL file (`--rows FILE`) so that a re-fit with other
settings of the fit itself repeats no retrieval or model call."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path


def measured(path: Path | None, collect: Callable[[], list[dict]]) -> list[dict]:
    """The rows in `path` when it exists; else `collect()`'s, written to `path` when one is given."""
    if path is not None and path.is_file():
        return [json.loads(line) for line in path.read_text().splitlines()]
    rows = collect()
    if path is not None:
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return rows
