"""llama.cpp through llama-cpp-python: load once, stream completions or chat, count tokens."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from rag.config import LLMConfig
from rag.errors import ConfigError, GenerationError, ModelMissingError
from rag.hardware import cores, default_threads, llama_build
from rag.selfcheck import ensure_runs

if TYPE_CHECKING:
    from llama_cpp import Llama
    from llama_cpp.llama_types import ChatCompletionRequestMessage

YES = ("Yes", " Yes", "yes")
NO = ("No", " No", "no")
# With stream=True llama.cpp yields plain dict chunks; its types also allow the one-shot response.
Chunks = Iterator[dict[str, Any]]


class LLM:
    def __init__(self, path: Path, config: LLMConfig, name: str) -> None:
        self.path = path
        self.config = config
        self.name = name
        self._llama: Llama | None = None
        # For yes_probability, made once: the chat formatter, and the tokens a reply may start Yes / No with.
        self._judging: tuple[Any, list[int], list[int]] | None = None
        self._openings: dict[str, list[int]] = {}  # see _opening

    def threads(self) -> tuple[int, int]:
        """(threads, threads_batch): models.toml's, else chosen from the cores this process may use."""
        auto_threads, auto_batch = default_threads(cores().usable)
        return self.config.threads or auto_threads, self.config.threads_batch or auto_batch

    def load(self) -> Llama:
        if self._llama is None:
            from llama_cpp import Llama

            # A build that crashes on this CPU is found in a child process, once per model and build.
            ensure_runs(self.path, llama_build().identity)
            n_threads, n_threads_batch = self.threads()
            try:
                with _quiet_stderr():
                    self._llama = Llama(
                        model_path=str(self.path), n_ctx=self.config.context_size,
                        n_threads=n_threads, n_threads_batch=n_threads_batch, n_batch=512,
                        verbose=False, seed=0,
                    )
            except (ValueError, RuntimeError, OSError) as exc:
                if "context" in str(exc).lower():  # the weights loaded; the context (KV cache) could not be made
                    raise ConfigError(
                        f"cannot make a context of {self.config.context_size} tokens for model {self.name}: "
                        "context_size is too large for this model or this machine's memory (lower it in "
                        "models.toml)") from None
                raise ModelMissingError(f"cannot load model {self.path}: not a valid GGUF file? ({exc})") from None
        return self._llama

    @property
    def n_ctx(self) -> int:
        return self.config.context_size

    def count_tokens(self, text: str) -> int:
        return len(self.load().tokenize(text.encode("utf-8"), add_bos=True, special=True))

    def complete(self, prompt: str, stop: list[str], max_tokens: int | None = None,
                 grammar: str | None = None) -> Iterator[str]:
        """Stream text pieces of a plain completion (base models, few-shot prompts)."""
        llama = self.load()
        kwargs = self._sampling(max_tokens, grammar)
        try:
            parts = cast(Chunks, llama.create_completion(prompt, stop=stop, stream=True, **kwargs))
            for part in parts:
                yield part["choices"][0]["text"]
        except ValueError as exc:  # e.g. prompt longer than the context
            raise GenerationError(f"generation failed: {exc}") from None

    def chat(self, messages: list[dict[str, str]], stop: list[str] | None = None,
             max_tokens: int | None = None, grammar: str | None = None) -> Iterator[str]:
        """Stream text pieces of a chat completion (instruct models with a chat template)."""
        llama = self.load()
        kwargs = self._sampling(max_tokens, grammar)
        try:
            request = cast("list[ChatCompletionRequestMessage]", messages)  # {"role": ..., "content": ...} each
            parts = cast(Chunks, llama.create_chat_completion(messages=request, stop=stop, stream=True, **kwargs))
            for part in parts:
                delta = part["choices"][0].get("delta", {})
                if delta.get("content"):
                    yield delta["content"]
        except ValueError as exc:
            raise GenerationError(f"generation failed: {exc}") from None

    def yes_probability(self, messages: list[dict[str, str]]) -> float:
        """P(Yes) against P(No) for the model's first reply token to chat `messages`, from one forward
        pass over the prompt the model's own chat template makes (no token is generated)."""
        import llama_cpp
        import numpy as np
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        llama = self.load()
        if self._judging is None:
            template = llama.metadata.get("tokenizer.chat_template")
            if not template:
                raise ConfigError(f"model {self.name} has no chat template: a yes/no judge must be an instruct model")

            def first(words: tuple[str, ...]) -> list[int]:
                return sorted({llama.tokenize(w.encode(), add_bos=False, special=False)[0] for w in words})

            special = {t: llama.detokenize([i], special=True).decode("utf-8", "replace")
                       for t, i in (("eos", llama.token_eos()), ("bos", llama.token_bos())) if i != -1}
            formatter = Jinja2ChatFormatter(template=template, eos_token=special.get("eos", ""),
                                            bos_token=special.get("bos", ""))
            self._judging = (formatter, first(YES), first(NO))
        formatter, yes_ids, no_ids = self._judging
        prompt = formatter(messages=cast("list[ChatCompletionRequestMessage]", messages)).prompt
        tokens = llama.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)
        if len(tokens) >= self.n_ctx:
            raise GenerationError(f"the judge's prompt ({len(tokens)} tokens) does not fit model {self.name}'s "
                                  f"context of {self.n_ctx}")
        # The opening (template and instructions) is the same for every judge prompt: it is read once as a
        # batch of its own and kept in the context, and each prompt reads only the rest. Always split at
        # the same place, so an answer never depends on what was asked before (llama.cpp's numbers differ
        # slightly with how a prompt is cut into batches).
        opening = self._opening(formatter, llama, messages[:-1])
        split = len(opening) if tokens[: len(opening)] == opening and len(opening) < len(tokens) else 0
        kept = split and llama.n_tokens >= split and llama.input_ids[:split].tolist() == opening
        llama.n_tokens = split if kept else 0
        if split and not kept:
            llama.eval(opening)
        llama.eval(tokens[split:])
        logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(llama.ctx, -1), shape=(llama.n_vocab(),))
        yes, no = (float(np.logaddexp.reduce(logits[ids])) for ids in (yes_ids, no_ids))
        return 1.0 / (1.0 + float(np.exp(no - yes)))

    def _opening(self, formatter: Any, llama: Llama, before: list[dict[str, str]]) -> list[int]:
        """The tokens every prompt of these opening messages (the system's) starts with, whatever the
        last message says: where two prompts with different last messages part."""
        key = repr(before)
        if key not in self._openings:
            a, b = (llama.tokenize(formatter(messages=[*before, {"role": "user", "content": text}]).prompt.encode(),
                                   add_bos=False, special=True) for text in ("a", "b"))
            self._openings[key] = list(os.path.commonprefix([a, b]))  # works on any lists, not only paths
        return self._openings[key]

    def _sampling(self, max_tokens: int | None, grammar: str | None) -> dict:
        kwargs: dict = {"max_tokens": max_tokens or self.config.max_tokens,
                        "temperature": self.config.temperature, "repeat_penalty": 1.0}
        if self.config.temperature == 0:
            kwargs["top_k"] = 1
        if grammar:
            from llama_cpp import LlamaGrammar

            kwargs["grammar"] = LlamaGrammar.from_string(grammar, verbose=False)
        return kwargs


@contextlib.contextmanager
def _quiet_stderr():
    """llama.cpp prints model details to fd 2 while loading; keep the terminal clean."""
    try:
        fd = os.dup(2)
    except OSError:
        yield
        return
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(fd, 2)
            os.close(fd)
