"""Sentence embeddings through onnxruntime + tokenizers, so answering never imports torch.

Importing sentence-transformers costs 5-7 s in a fresh process; a one-shot `rag ask` only needs to
embed one question. `export()` runs at index time (torch is loaded there anyway) and writes the
model's transformer as ONNX next to the index; `OnnxEncoder` reproduces `SentenceTransformer.encode`
(tokenize, run, pool, normalise) with onnxruntime, tokenizers and numpy only.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import IndexCorruptError
from rag.hardware import cores

MODEL_FILE = "model.onnx"
DATA_FILE = "model.onnx.data"  # the weights, kept outside the graph so loading can map them
TOKENIZER_FILE = "tokenizer.json"
CONFIG_FILE = "encoder.json"
FORMAT_VERSION = 1
POOLING_MODES = ("mean", "cls", "max")
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_KNOWN_MODULES = ("Transformer", "Pooling", "Normalize")
SORT_WINDOW = 16  # batches sorted by length together: padding near its minimum, progress even


def read_st_config(st_folder: Path) -> dict[str, Any]:
    """Pooling mode, normalisation and max length, read from the sentence-transformers folder's files."""
    st_folder = Path(st_folder)
    modules = json.loads((st_folder / "modules.json").read_text(encoding="utf-8"))
    kinds = {m["type"].rsplit(".", 1)[-1]: m for m in modules}
    unknown = sorted(set(kinds) - set(_KNOWN_MODULES))
    if unknown or "Transformer" not in kinds or "Pooling" not in kinds:
        raise ValueError(f"{st_folder}: ONNX export supports Transformer + Pooling (+ Normalize) models, "
                         f"this one has {[m['type'] for m in modules]}")
    pooling_cfg = json.loads((st_folder / (kinds["Pooling"]["path"] or "1_Pooling") / "config.json")
                             .read_text(encoding="utf-8"))
    modes = [k.removeprefix("pooling_mode_").removesuffix("_tokens").removesuffix("_token")
             for k, v in pooling_cfg.items() if k.startswith("pooling_mode_") and v is True]
    if len(modes) != 1 or modes[0] not in POOLING_MODES:
        raise ValueError(f"{st_folder}: pooling {modes} not supported (one of {', '.join(POOLING_MODES)})")
    sbert_file = st_folder / "sentence_bert_config.json"
    sbert = json.loads(sbert_file.read_text(encoding="utf-8")) if sbert_file.is_file() else {}
    return {"pooling": modes[0], "normalize": "Normalize" in kinds,
            "max_seq_length": sbert.get("max_seq_length"), "do_lower_case": bool(sbert.get("do_lower_case"))}


def export(st_folder: Path, out_dir: Path, opset: int = 17) -> None:
    """Write out_dir/model.onnx, tokenizer.json and encoder.json for the model at `st_folder`.

    Only the transformer is exported (dynamic batch and sequence axes); pooling and normalisation are
    cheap and done in numpy, driven by encoder.json. The legacy TorchScript exporter is used because the
    dynamo one needs onnxscript and is slower to run. Files appear atomically, encoder.json last.
    """
    import inspect

    import torch
    from sentence_transformers import SentenceTransformer

    st_folder, out_dir = Path(st_folder), Path(out_dir)
    cfg = read_st_config(st_folder)
    st = SentenceTransformer(str(st_folder), device="cpu", model_kwargs={"attn_implementation": "eager"})
    # torch types a submodule's attributes as Tensor | Module; the first module is sentence-transformers'
    # Transformer wrapper, whose model and tokenizer are Hugging Face objects.
    module: Any = st[0]
    model, hf_tok = module.auto_model.eval(), module.tokenizer
    seq_len = cfg["max_seq_length"] or st.max_seq_length
    if seq_len is None:
        raise ValueError(f"{st_folder} sets no max_seq_length: the ONNX export needs a fixed input length")
    max_len = int(seq_len)
    accepted = set(inspect.signature(model.forward).parameters)
    names = [n for n in _INPUTS if n in accepted and (n != "token_type_ids" or n in hf_tok.model_input_names)]

    class _TokenEmbeddings(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *args: torch.Tensor) -> torch.Tensor:
            return self.model(**dict(zip(names, args, strict=True)), return_dict=True).last_hidden_state

    sample = hf_tok(["A short query.", "A somewhat longer sentence, so the batch needs padding here."],
                    padding=True, return_tensors="pt")
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".onnx-export-", dir=out_dir))
    try:
        axes = {0: "batch", 1: "sequence"}
        with torch.no_grad(), warnings.catch_warnings():  # tracer warnings are about code paths BERT never takes
            warnings.simplefilter("ignore")
            torch.onnx.export(_TokenEmbeddings(), tuple(sample[n] for n in names), str(tmp / "raw.onnx"),
                              input_names=names, output_names=["token_embeddings"],
                              dynamic_axes={n: axes for n in [*names, "token_embeddings"]},
                              opset_version=opset, do_constant_folding=True, dynamo=False)
        _optimize(tmp / "raw.onnx", tmp / MODEL_FILE)
        hf_tok.backend_tokenizer.save(str(tmp / TOKENIZER_FILE))  # as ST uses it, lower-casing included
        config = {
            "format_version": FORMAT_VERSION, "source": st_folder.name, "source_path": str(st_folder),
            "pooling": cfg["pooling"], "normalize": cfg["normalize"], "max_seq_length": max_len,
            "dim": int(model.config.hidden_size), "inputs": names, "pad_id": int(hf_tok.pad_token_id or 0),
            "pad_token": str(hf_tok.pad_token or "[PAD]"), "do_lower_case": cfg["do_lower_case"],
            "padding_side": str(getattr(hf_tok, "padding_side", "right")),
            "sizes": {f: (tmp / f).stat().st_size for f in (MODEL_FILE, DATA_FILE)},
        }
        (tmp / CONFIG_FILE).write_text(json.dumps(config, indent=2), encoding="utf-8")
        texts = ["What did the minister say?", "Brussels, April 4 (Reuters) - NATO ministers met on Thursday. " * 9]
        cos = (_unit(OnnxEncoder(tmp, threads=1).encode(texts)) * _unit(st.encode(texts))).sum(axis=1)
        if float(cos.min()) < 0.999:  # a broken export must fail the build, not degrade answers quietly
            raise RuntimeError(f"ONNX export of {st_folder} does not match sentence-transformers (cos {cos.min():.4f})")
        for name in (DATA_FILE, MODEL_FILE, TOKENIZER_FILE, CONFIG_FILE):  # encoder.json last: the "done" mark
            os.replace(tmp / name, out_dir / name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _optimize(raw: Path, dst: Path) -> None:
    """Fuse the graph once, offline, and store weights beside it: the session then starts ~3x faster.

    ORT_ENABLE_EXTENDED output is hardware-independent (ENABLE_ALL would bake in CPU-specific layouts).
    """
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    opts.optimized_model_filepath = str(dst)
    opts.log_severity_level = 3
    opts.add_session_config_entry("session.optimized_model_external_initializers_file_name", DATA_FILE)
    opts.add_session_config_entry("session.optimized_model_external_initializers_min_size_in_bytes", "1024")
    ort.InferenceSession(str(raw), opts, providers=["CPUExecutionProvider"])


def _unit(vecs: np.ndarray) -> np.ndarray:
    return vecs / np.clip(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12, None)


def _corrupt(folder: Path, what: str) -> IndexCorruptError:
    return IndexCorruptError(f"query encoder in {folder} is damaged ({what}): re-run `rag index` to rebuild it")


def default_threads() -> int:
    """The cores this process may use, affinity and cgroup quota counted (at most 8: a batch of short
    texts gains nothing past that)."""
    return min(8, cores().usable)


def read_config(folder: Path) -> dict[str, Any]:
    """An export's encoder.json, once it and every file it lists check out (format, sizes); cheap enough
    to ask before every use, since it loads no model."""
    try:
        config: dict[str, Any] = json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8"))
        if config.get("format_version") != FORMAT_VERSION or config["pooling"] not in POOLING_MODES:
            raise ValueError("unknown format or pooling")
        int(config["max_seq_length"])  # both keys are read by OnnxEncoder: a bad value is a damaged export
        list(config["inputs"])
        sizes = {str(k): int(v) for k, v in config["sizes"].items()}
    except FileNotFoundError:
        raise _corrupt(folder, f"{CONFIG_FILE} missing") from None
    except (ValueError, KeyError, TypeError, OSError) as exc:
        raise _corrupt(folder, f"{CONFIG_FILE}: {type(exc).__name__}") from None
    for name, size in sizes.items():  # catches a missing or truncated file without hashing 90 MB
        if not (folder / name).is_file():
            raise _corrupt(folder, f"{name} missing")
        if (folder / name).stat().st_size != size:
            raise _corrupt(folder, f"{name} has the wrong size")
    return config


class OnnxEncoder:
    """Embed texts like `SentenceTransformer.encode(normalize_embeddings=...)`, without torch."""

    def __init__(self, folder: Path, threads: int | None = None, batch_size: int = 32) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.folder = folder = Path(folder)
        self.batch_size = batch_size
        self.config: dict[str, Any] = read_config(folder)
        max_len, self._inputs = int(self.config["max_seq_length"]), list(self.config["inputs"])
        model_path = folder / MODEL_FILE
        try:
            self._tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
        except Exception as exc:  # tokenizers raises a bare Exception for both missing and bad files
            raise _corrupt(folder, f"{TOKENIZER_FILE}: {str(exc)[:60]}") from None
        self._tokenizer.enable_truncation(max_length=max_len)
        self._tokenizer.enable_padding(pad_id=self.config["pad_id"], pad_token=self.config["pad_token"],
                                       direction=self.config.get("padding_side", "right"))

        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.intra_op_num_threads = threads or default_threads()
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.log_severity_level = 3  # warnings about unused initialisers are noise for users
        # Idle ORT workers must not spin and steal the cores llama.cpp generates on right after.
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self._session = ort.InferenceSession(str(model_path), opts, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own Fail/InvalidProtobuf types
            raise _corrupt(folder, f"{MODEL_FILE}: {type(exc).__name__}") from None
        if [i.name for i in self._session.get_inputs()] != self._inputs:
            raise _corrupt(folder, f"{MODEL_FILE} inputs do not match {CONFIG_FILE}")

    @property
    def dim(self) -> int:
        return int(self.config["dim"])

    @property
    def normalize(self) -> bool:
        return bool(self.config["normalize"])

    def encode(self, texts: list[str], progress: Callable[[int, int], None] | None = None) -> np.ndarray:
        """float32 (len(texts), dim). Batches are formed by length within windows of SORT_WINDOW batches:
        little time goes on padding, and the pace stays even, so `progress(done, total)` (told after each
        batch) gives an honest time left."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        window = self.batch_size * SORT_WINDOW
        done = 0
        for first in range(0, len(texts), window):
            order = sorted(range(first, min(first + window, len(texts))), key=lambda i: len(texts[i]))
            for start in range(0, len(order), self.batch_size):
                idx = order[start : start + self.batch_size]
                out[idx] = self._encode_batch([texts[i] for i in idx])
                done += len(idx)
                if progress:
                    progress(done, len(texts))
        return out

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        if self.config.get("do_lower_case"):  # older sentence-transformers lower-cased outside the tokenizer
            texts = [t.lower() for t in texts]
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask,
                 "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64)}
        tokens = self._session.run(None, {n: feeds[n] for n in self._inputs})[0].astype(np.float32, copy=False)
        m = mask[:, :, None].astype(np.float32)
        mode = self.config["pooling"]
        if mode == "mean":
            vecs = (tokens * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
        elif mode == "cls":
            vecs = tokens[np.arange(len(tokens)), mask.argmax(axis=1)]  # first real token, any padding side
        else:  # max over real tokens only
            vecs = np.where(m > 0, tokens, -1e9).max(axis=1)
        if self.normalize:
            vecs = _unit(vecs)
        return vecs.astype(np.float32, copy=False)
