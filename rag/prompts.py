"""Prompt templates live in prompts/ as files; this only reads and fills them."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from string import Template

from rag.config import PROJECT_ROOT
from rag.errors import ConfigError

PROMPTS_DIR = PROJECT_ROOT / "prompts"
NOT_IN_SOURCES = "NOT IN SOURCES"


@lru_cache(maxsize=None)
def template(name: str, folder: Path = PROMPTS_DIR) -> Template:
    path = folder / name
    try:
        return Template(path.read_text(encoding="utf-8"))
    except OSError:
        raise ConfigError(f"prompt template missing: {path} (restore it from the project)") from None


def render(name: str, **values: str) -> str:
    return template(name).safe_substitute(**values)


def abstain_sentence() -> str:
    return template("abstain.txt").template.strip()


def format_sources(snippets: list[str]) -> str:
    """Sources are one line each; newlines inside an article must not break the prompt's layout."""
    return "\n".join(f"[{i}] {' '.join(s.split())}" for i, s in enumerate(snippets, 1))
