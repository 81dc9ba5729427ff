"""The per-user cache folder: installed models, eval indexes, exported encoders, the llama.cpp probe."""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "rag-news"
CACHE_ENV = "RAG_CACHE_DIR"  # overrides the platform's cache folder (tests, CI, a shared machine)


def cache_root() -> Path:
    """$RAG_CACHE_DIR, else the platform's per-user cache dir (~/.cache/rag-news on Linux)."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir(APP_NAME))
