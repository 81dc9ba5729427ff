"""Counts in the messages every face prints: "1 article", "2,225 articles"."""

from __future__ import annotations


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """`n` and the noun, singular for one (a handful of articles is a normal index: "1 articles" reads as
    a bug). Thousands are separated, as the archive's counts are long."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"
