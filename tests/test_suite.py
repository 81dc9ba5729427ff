"""Eval suites: the TOML file (one-line errors naming the file and the set), and the per-set index cache
(built once, reused while nothing that shapes it changes, rebuilt when an article does)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import GOLD, SEEDS, one_line
from rag.assistant import Assistant
from rag.cache import CACHE_ENV, cache_root
from rag.errors import UsageError
from rag.suite import index_dir_for, index_key, load_suite, open_index


def write_suite(tmp_path, body: str):
    (tmp_path / "data" / "arts").mkdir(parents=True, exist_ok=True)
    (tmp_path / "data" / "gold.jsonl").write_text('{"id": "a", "question": "Q?"}\n')
    suite = tmp_path / "suites" / "dev.toml"
    suite.parent.mkdir(exist_ok=True)
    suite.write_text(body)
    return suite


GOOD = '''
[[set]]
name = "one"
articles = "../data/arts"
gold = "../data/gold.jsonl"
'''


def test_a_suite_lists_sets_with_paths_relative_to_its_file(tmp_path):
    suite = load_suite(write_suite(tmp_path, GOOD + GOOD.replace('"one"', '"two"')))
    assert [s.name for s in suite.sets] == ["one", "two"]
    assert suite.sets[0].articles == (tmp_path / "data" / "arts").resolve()
    assert suite.sets[0].gold == (tmp_path / "data" / "gold.jsonl").resolve()


@pytest.mark.parametrize("body, says", [
    ("[[set]\nname = 'x'", "not valid TOML"),
    ("", "lists no [[set]]"),
    ("[[set]]\nname = 'one'\narticles = '../data/arts'\n", "set 1: gold field required"),
    (GOOD + "colour = 'red'\n", "set 1: colour extra inputs are not permitted"),
    (GOOD + GOOD, "two sets are named 'one'"),
    (GOOD.replace("../data/arts", "../data/nowhere"), "set 'one': articles folder not found"),
    (GOOD.replace("gold.jsonl", "gone.jsonl"), "set 'one': gold file not found"),
    (GOOD.replace('"one"', '"a/b"'), "set name 'a/b'"),
])
def test_a_bad_suite_is_one_line_naming_the_file(tmp_path, body, says):
    path = write_suite(tmp_path, body)
    with pytest.raises(UsageError) as info:
        load_suite(path)
    message = str(info.value)
    assert one_line(message) and str(path) in message and says in message, message
    assert info.value.exit_code == 2


def test_a_missing_suite_file(tmp_path):
    with pytest.raises(UsageError, match="suite file not found"):
        load_suite(tmp_path / "none.toml")


def test_the_project_dev_suite_names_the_shared_sets_and_the_seeds():
    from conftest import PROJECT

    text = (PROJECT / "eval" / "dev.toml").read_text()
    assert "../../shared/eval/bbc-dev/articles" in text and "../../shared/eval/squad-dev/gold.jsonl" in text
    assert 'articles = "../seeds"' in text


# ----- the index cache ------------------------------------------------------------------------------------
def test_the_cache_is_the_user_cache_dir_unless_told(monkeypatch, tmp_path):
    monkeypatch.delenv(CACHE_ENV, raising=False)
    assert cache_root().name == "rag-news"
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    assert cache_root() == tmp_path


def test_the_key_follows_the_articles_and_the_settings(settings, tmp_path, seeds_copy):
    key = index_key(settings, seeds_copy)
    moved = shutil.copytree(seeds_copy, tmp_path / "elsewhere")
    assert index_key(settings, moved) == key  # the same articles, wherever they are
    (moved / "notes.json").write_text("{}")
    assert index_key(settings, moved) == key  # not an article
    first = sorted(moved.glob("*.txt"))[0]
    first.write_text(first.read_text() + "\nOne more line.\n")
    assert index_key(settings, moved) != key
    other = settings.model_copy(deep=True)
    other.retrieval.chunk_chars += 100
    assert index_key(other, seeds_copy) != key
    assert index_dir_for(settings, seeds_copy, tmp_path) == tmp_path / "eval-index" / key


def test_the_key_follows_the_place_data(settings, seeds_copy, monkeypatch, tmp_path):
    """The BM25 tokens fold every country's spellings (rag/world_places.json): new data, a new index."""
    import rag.suite

    key = index_key(settings, seeds_copy)
    package = tmp_path / "rag"
    shutil.copytree(Path(rag.suite.__file__).parent, package, ignore=shutil.ignore_patterns("__pycache__", "tui"))
    monkeypatch.setattr(rag.suite, "__file__", str(package / "suite.py"))
    assert index_key(settings, seeds_copy) == key
    (package / "world_places.json").write_text('{"atlantis": ["atlantean"]}', encoding="utf-8")
    assert index_key(settings, seeds_copy) != key


@pytest.mark.slow
def test_a_set_s_index_is_built_once_and_rebuilt_when_an_article_changes(tmp_path, fast_build, seeds_copy):
    from rag.suite import EvalSet

    cache = tmp_path / "cache"
    eval_set = EvalSet(name="seeds", articles=seeds_copy, gold=GOLD)
    assistant = Assistant()
    assert open_index(assistant, eval_set, cache) is True
    first = assistant.index_path
    assert first.parent == cache / "eval-index" and assistant.stats().documents == len(list(SEEDS.glob("*.txt")))
    built = (first / "current").resolve()

    again = Assistant()
    assert open_index(again, eval_set, cache) is False  # reused: nothing rebuilt
    assert again.index_path == first and (first / "current").resolve() == built

    article = sorted(seeds_copy.glob("*.txt"))[0]
    article.write_text(article.read_text() + "\nNATO ministers will meet again in June.\n")
    changed = Assistant()
    assert open_index(changed, eval_set, cache) is True
    assert changed.index_path != first
    doc = changed.document(article.stem)
    assert "meet again in June" in doc.text
    assert "meet again in June" not in again.document(article.stem).text  # the old one is untouched


@pytest.mark.slow
def test_a_damaged_cached_index_is_rebuilt(tmp_path, fast_build, seeds_copy):
    from rag.suite import EvalSet

    cache = tmp_path / "cache"
    eval_set = EvalSet(name="seeds", articles=seeds_copy, gold=GOLD)
    assistant = Assistant()
    open_index(assistant, eval_set, cache)
    (assistant.index_path / "current" / "chunks.jsonl").write_text("not json\n")
    again = Assistant()
    assert open_index(again, eval_set, cache) is True and again.stats().documents > 0


@pytest.mark.slow
def test_prune_removes_only_the_indexes_other_index_code_opened_last(tmp_path, fast_build, seeds_copy, monkeypatch):
    """Each cached index is stamped with the code that last opened it. After a change to the index code the
    old ones are stale until a run opens one again; `rag eval --prune-cache` deletes the stale ones only."""
    import io

    from rich.console import Console

    import rag.suite
    from rag.eval_run import prune_suite_cache
    from rag.suite import EvalSet, stale_indexes

    few = tmp_path / "few"
    few.mkdir()
    for f in sorted(seeds_copy.glob("*.txt"))[:2]:
        shutil.copy2(f, few / f.name)
    cache = tmp_path / "cache"
    monkeypatch.setattr(rag.suite, "code_key", lambda: "old")
    sets = [EvalSet(name="all", articles=seeds_copy, gold=GOLD), EvalSet(name="few", articles=few, gold=GOLD)]
    folders = []
    for s in sets:
        a = Assistant()
        open_index(a, s, cache)
        folders.append(a.index_path)
    legacy = cache / "eval-index" / "0123456789abcdef"  # cached before stamps were kept
    legacy.mkdir()
    assert stale_indexes(cache) == [legacy]

    monkeypatch.setattr(rag.suite, "code_key", lambda: "new")
    assert set(stale_indexes(cache)) == {*folders, legacy}
    assert open_index(Assistant(), sets[0], cache) is False  # still the same index: reused, and stamped anew
    assert set(stale_indexes(cache)) == {folders[1], legacy}

    said = io.StringIO()
    prune_suite_cache(Console(file=said, width=200), cache)
    assert said.getvalue().startswith("removed 2 cached suite indexes (")
    assert folders[0].is_dir() and not folders[1].exists() and not legacy.exists()
    assert stale_indexes(cache) == []
    said = io.StringIO()
    prune_suite_cache(Console(file=said, width=200), cache)
    assert said.getvalue().strip() == "no cached suite index to remove"
