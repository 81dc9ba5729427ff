"""The archive bench (scripts/bench_archive.py): one story filed twice; the run sizes in scripts/bench.py."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

from bench_archive import near_copies, same_text  # noqa: E402

STORY = [f"The council voted on plan number {i} after a long debate about the town's budget." for i in range(10)]
FOOTER = "Send us your comments using the form below, and tell us what you think."


def write(folder: Path, name: str, sentences: list[str]) -> None:
    (folder / f"{name}.txt").write_text("\n\n".join(sentences), encoding="utf-8")


def test_a_story_filed_again_with_a_line_changed_is_a_near_copy_and_not_a_byte_copy(tmp_path):
    write(tmp_path, "first", STORY + [FOOTER])
    write(tmp_path, "edited", STORY[:8] + ["The mayor, who chaired the meeting, said the vote was a fair one."])
    other = [f"An unrelated line number {i} about the weather in the hills." for i in range(5)]
    write(tmp_path, "half", STORY[:5] + other)
    near = near_copies(tmp_path)
    assert near["first"] == {"edited"} and near["edited"] == {"first"}
    assert "half" not in near  # five of ten sentences shared: a follow-up story, not a copy
    assert same_text(tmp_path)["first"] == ["first"]


def test_a_line_many_articles_end_with_makes_no_copies(tmp_path):
    for i in range(7):
        write(tmp_path, f"a{i}", [f"Story {i}, in brief.", FOOTER])  # the footer is their one long line
    assert near_copies(tmp_path) == {}


def test_the_full_bench_sizes_every_section_the_quick_one_does():
    """The full run once stopped at its first section: a size only the quick run set (KeyError)."""
    from bench import FULL, QUICK

    assert set(FULL) == set(QUICK)
