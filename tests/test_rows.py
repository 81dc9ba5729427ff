"""scripts/rows.py: a fit script's measured rows are kept in `--rows FILE` and read back instead of measured again."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

from rows import measured  # noqa: E402


def test_rows_are_measured_once_then_read_back(tmp_path):
    calls = []

    def collect():
        calls.append(1)
        return [{"set": "a", "hit": True}, {"set": "b", "hit": False}]

    path = tmp_path / "rows.jsonl"
    first = measured(path, collect)
    assert path.is_file() and len(path.read_text().splitlines()) == 2
    assert measured(path, collect) == first and len(calls) == 1


def test_without_a_file_the_rows_are_measured_and_not_kept(tmp_path):
    assert measured(None, lambda: [{"x": 1}]) == [{"x": 1}]
    assert list(tmp_path.iterdir()) == []
