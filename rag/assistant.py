"""The one core service the CLI, the TUI and the eval script call. It imports no UI."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from rag.config import Settings, index_dir, load_settings
from rag.schema import Answer, ArticleInfo, Delta, Document, Final, IndexReport, IndexStats, StreamEvent, Turn
from rag.scope import Scope, article_date

if TYPE_CHECKING:
    from rag.judge import Judge
    from rag.llm import LLM
    from rag.question import Question
    from rag.retrieval import Retriever
    from rag.store_api import Store

# (done, total, description): how indexing reports progress; the CLI draws it with rich.
ProgressFn = Callable[[int, int, str], None]


class Assistant:
    """Index articles and answer questions about them. Models and the index load lazily, once."""

    def __init__(
        self,
        settings: Settings | None = None,
        index_path: Path | str | None = None,
        model: str | None = None,
    ) -> None:
        self.settings = settings or load_settings()
        self.index_path = index_dir(index_path, self.settings)
        self.model_name, self.llm_config = self.settings.llm_config(model)
        self._store: Store | None = None
        self._retriever: Retriever | None = None
        self._llm: LLM | None = None
        self._judge_llm: LLM | None = None
        self.scope = Scope()  # the articles questions are asked of (`narrow`); the whole index at first
        self._within: frozenset[str] | None = None

    # ----- indexing -------------------------------------------------------------------------
    def index(self, paths: Sequence[Path | str] = (), progress: ProgressFn | None = None, *, prune: bool = False,
              wait_s: float | None = None, on_wait: Callable[[str], None] | None = None) -> IndexReport:
        """Add or update the articles under `paths` (none: re-read every path the index was built from);
        `prune` drops the articles not under them. Waits up to `wait_s` for another writer."""
        from rag.builds import LOCK_WAIT_S
        from rag.indexer import build_index

        report = build_index([Path(p) for p in paths], self.index_path, self.settings, progress=progress,
                             prune=prune, wait_s=LOCK_WAIT_S if wait_s is None else wait_s, on_wait=on_wait)
        self._store = self._retriever = self._within = None  # reload on next question
        return report

    def verify_index(self) -> int:
        """Check every file of the index against the manifest's checksums: the number of files checked,
        or `IndexCorruptError` naming what is damaged."""
        from rag.errors import IndexCorruptError, UsageError
        from rag.store import REBUILD, verify_index

        if self.settings.store.backend != "faiss":  # Milvus keeps no per-file checksums; a load checks it
            raise UsageError(f"--verify checks the FAISS backend's files; models.toml uses [store] backend = "
                             f"{self.settings.store.backend!r}: check it with `rag doctor`")
        checked, problems = verify_index(self.index_path)
        if problems:
            more = f" and {len(problems) - 2} more" if len(problems) > 2 else ""
            raise IndexCorruptError(f"index at {self.index_path} is damaged ({'; '.join(problems[:2])}{more}): "
                                    f"{REBUILD}")
        return checked

    # ----- state ----------------------------------------------------------------------------
    @property
    def store(self) -> Store:
        if self._store is None:
            from rag.store_api import open_store

            self._store = open_store(self.settings, self.index_path)
        return self._store

    @property
    def retriever(self) -> Retriever:
        if self._retriever is None:
            from rag.embeddings import query_encoder
            from rag.retrieval import Retriever

            self._retriever = Retriever(self.store, query_encoder(self.store, self.settings), self.settings.retrieval,
                                        within=self._scoped())
        return self._retriever

    @property
    def llm(self) -> LLM:
        if self._llm is None:
            from rag.llm import LLM

            self._llm = LLM(self.llm_config.resolve(self.settings.base_dir), self.llm_config, self.model_name)
        return self._llm

    def _judge_model(self) -> LLM | None:
        """The model of the yes/no judge (`[answer] judge`): the answering one when it is the one named."""
        name = self.settings.answer.judge
        if name is None:
            return None
        if name == self.model_name:
            return self.llm
        if self._judge_llm is None:
            from rag.hardware import cores
            from rag.llm import LLM

            _, cfg = self.settings.llm_config(name)
            if cfg.threads_batch is None:  # the judge only reads a prompt: every usable core, unless set
                cfg = cfg.model_copy(update={"threads_batch": cores().usable})
            self._judge_llm = LLM(cfg.resolve(self.settings.base_dir), cfg, name)
        return self._judge_llm

    @property
    def judge(self) -> Judge | None:
        from rag.judge import ModelJudge

        model = self._judge_model()
        return None if model is None else ModelJudge(model)

    def check_model(self) -> None:
        """Raise ModelMissingError now if the LLM (or the judge's) is not there (cheap), rather than after
        retrieval."""
        self.llm_config.check(self.settings.base_dir)
        if self.settings.answer.judge is not None:
            self.settings.llm_config(self.settings.answer.judge)[1].check(self.settings.base_dir)

    def has_index(self) -> bool:
        from rag.store_api import store_exists

        return store_exists(self.settings, self.index_path)

    def index_warnings(self) -> list[str]:
        """One line per thing to fix in the index that does not stop it answering (rag/store_api.py)."""
        from rag.store_api import index_warnings

        return index_warnings(self.store, self.index_path)

    def stats(self) -> IndexStats:
        return self.store.stats()

    def document(self, doc_id: str) -> Document:
        return self.store.document(doc_id)

    def articles(self, scope: Scope | None = None) -> list[ArticleInfo]:
        """The indexed articles, or those in `scope` (UsageError when it matches none): what a question can
        be narrowed to. Dated ones first, oldest first, as an archive reads; then the undated, by file."""
        catalog = self.store.catalog()
        if scope is not None and not scope.whole:
            kept = scope.select(catalog)
            catalog = [a for a in catalog if a.doc_id in kept]
        dated = {a.doc_id: article_date(a) for a in catalog}
        return sorted(catalog, key=lambda a: (dated[a.doc_id] is None, dated[a.doc_id] or date.min, a.source, a.doc_id))

    def indexed_paths(self) -> list[Path]:
        """The folders and files the current index was built from (for re-indexing)."""
        sources = self.store.manifest.sources if self.has_index() else []
        return [Path(p) for p in sources] or [self.settings.base_dir / "seeds"]

    def models(self) -> list[str]:
        return list(self.settings.llm)

    def switch_model(self, name: str) -> None:
        self.model_name, self.llm_config = self.settings.llm_config(name)
        self._llm = None

    def narrow(self, scope: Scope) -> int | None:
        """Ask every later question of the articles in `scope` only (an empty Scope: all of them again).
        Checked against the index now when there is one: UsageError, and the scope unchanged, when no
        article matches; else when the first question loads it. Returns how many articles are in scope
        (None: all of them, or no index yet)."""
        within = scope.select(self.store.catalog()) if not scope.whole and self.has_index() else None
        self.scope, self._within = scope, within
        if self._retriever is not None:
            self._retriever.within = within
        return None if within is None else len(within)

    def _scoped(self) -> frozenset[str] | None:
        """The scope's articles in the index as it is now (re-read after `rag index` or another index)."""
        if self.scope.whole:
            return None
        if self._within is None:
            self._within = self.scope.select(self.store.catalog())
        return self._within

    def use_index(self, index_path: Path | str) -> None:
        """Answer from another index folder; the loaded LLM stays (`rag eval` runs several sets)."""
        self.index_path = Path(index_path)
        self._store = self._retriever = self._within = None

    def parse(self, question: str, history: Sequence[Turn] = ()) -> Question:
        """The question as the answer core reads it (for `rag ask --explain`)."""
        from rag.question import parse

        r = self.retriever
        return parse(question, history, expand=r.expand, roles=r.roles)

    def warm_up(self) -> None:
        """Load the index, the query encoder and the LLM now, so the first answer is fast."""
        self.retriever.search("warm up", k=1)
        self.llm.load()
        judge = self._judge_model()
        if judge is not None:
            judge.load()

    # ----- answering ------------------------------------------------------------------------
    def stream(self, question: str, history: Sequence[Turn] = ()) -> Iterator[StreamEvent]:
        """Yield `Delta`s as the model writes, then one `Final` with the verified answer."""
        from rag.answer import answer_stream

        started = time.perf_counter()
        for event in answer_stream(question, history, self.retriever, lambda: self.llm, self.settings, self.llm_config,
                                   self.judge):
            if isinstance(event, Final):
                event.answer.latency_s = round(time.perf_counter() - started, 3)
                event.answer.model = self.model_name
                event.answer.scope = None if self.scope.whole else self.scope.describe()
            yield event

    def ask(self, question: str, history: Sequence[Turn] = ()) -> Answer:
        final = None
        for event in self.stream(question, history):
            if isinstance(event, Final):
                final = event.answer
        assert final is not None
        return final


__all__ = ["Assistant", "Delta", "Final"]
