"""`rag eval --suite`: every set over its own cached index with the real models, a baseline row beside
the system's, per-set records in the --out folder, and everything checkable checked before a question."""

from __future__ import annotations

import io
import json
import shutil

import pytest
from rich.console import Console

from conftest import SEED_FILES, gold_items
from rag.assistant import Assistant
from rag.errors import UsageError
from rag.eval_run import run_suite
from rag.schema import Answer


def consoles():
    return (Console(file=io.StringIO(), width=200, color_system=None),
            Console(file=io.StringIO(), width=200, color_system=None))


def make_suite(tmp_path, sets: dict[str, tuple[list, list[str]]]):
    """A suite file and, per set, its articles (copies of seed files) and gold (seed questions by id)."""
    gold = gold_items()
    body = ""
    for name, (files, ids) in sets.items():
        folder = tmp_path / "data" / name
        folder.mkdir(parents=True)
        for f in files:
            shutil.copy2(f, folder / f.name)
        (folder / "gold.jsonl").write_text("".join(json.dumps(gold[i]) + "\n" for i in ids))
        body += f'[[set]]\nname = "{name}"\narticles = "data/{name}"\ngold = "data/{name}/gold.jsonl"\n\n'
    suite = tmp_path / "suite.toml"
    suite.write_text(body)
    return suite


@pytest.mark.slow
def test_a_suite_runs_each_set_over_its_own_cached_index(tmp_path, fast_build, assistant):
    suite = make_suite(tmp_path, {"nato": (SEED_FILES, ["p01", "p30", "g35"]),
                                  "two": (SEED_FILES[:2], ["p30", "g34"])})
    cache, out_dir = tmp_path / "cache", tmp_path / "runs"
    runner = Assistant()
    runner._llm = assistant.llm  # the session's loaded model
    out, err = consoles()
    result = run_suite(runner, suite, out_dir, True, out, err, "extractive", cache)
    assert json.loads(out.file.getvalue()) == result
    assert [s["name"] for s in result["sets"]] == ["nato", "two"]
    nato, two = result["sets"]
    assert nato["system"]["questions"] == 3 and two["system"]["questions"] == 2
    assert nato["baselines"]["extractive"]["questions"] == 3
    assert nato["baselines"]["extractive"]["false_abstentions"] == 0  # the baseline never abstains
    assert nato["baselines"]["extractive"]["right_abstentions"] == 0
    # the off-topic questions abstained, rightly, each for a recorded reason
    assert two["system"]["right_abstentions"] == 2 and "unrecorded" not in two["abstain_reasons"]
    assert sum(c["right"] for c in two["abstain_reasons"].values()) == 2
    assert set(result["macro"]) == {"rag", "extractive"} and result["macro"]["rag"]["sets"] == 2
    assert nato["index"] != two["index"] and all(s["index"].startswith(str(cache)) for s in result["sets"])
    progress = err.file.getvalue()
    assert "[nato] built" in progress and "[two] built" in progress and "[nato extractive] p01:" in progress
    records = {p.name: [Answer.model_validate_json(x) for x in p.read_text().splitlines()]
               for p in out_dir.iterdir()}
    assert sorted(records) == ["nato.extractive.jsonl", "nato.jsonl", "two.extractive.jsonl", "two.jsonl"]
    assert [r.id for r in records["nato.jsonl"]] == ["p01", "p30", "g35"]
    assert all(r.abstain_reason for r in records["two.jsonl"])

    # a second run reuses both indexes and prints the table
    out, err = consoles()
    again = run_suite(runner, suite, None, False, out, err, None, cache)
    assert "[nato] reused" in err.file.getvalue() and "[two] reused" in err.file.getvalue()
    assert [s["index"] for s in again["sets"]] == [nato["index"], two["index"]]
    table = out.file.getvalue()
    assert "macro (2 sets)" in table and "abstentions by reason" in table and "extractive" not in table


def test_a_bad_gold_file_in_a_suite_fails_before_any_index_is_built(tmp_path):
    suite = make_suite(tmp_path, {"nato": ([], [])})
    (tmp_path / "data" / "nato" / "gold.jsonl").write_text("not json\n")

    class NotToBeUsed:
        settings = None

    with pytest.raises(UsageError, match="gold.jsonl:1"):
        run_suite(NotToBeUsed(), suite, None, False, *consoles())


def test_an_out_path_that_is_a_file_fails_before_the_run(tmp_path):
    suite = make_suite(tmp_path, {"nato": ([], ["p30"])})
    blocker = tmp_path / "runs"
    blocker.write_text("a file")
    with pytest.raises(UsageError, match="names a folder"):
        run_suite(object(), suite, blocker, False, *consoles())


def test_an_unknown_baseline(tmp_path):
    suite = make_suite(tmp_path, {"nato": ([], ["p30"])})
    with pytest.raises(UsageError, match="unknown baseline 'naive'"):
        run_suite(object(), suite, None, False, *consoles(), "naive")
