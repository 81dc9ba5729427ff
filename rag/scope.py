"""Which articles a question is asked of: the whole index, or the part a user narrows it to by file name and
date (`rag ask --source sport --since 2005-03`). An archive holds years of stories on the same subjects; a
question about this spring's budget should not be answered from last year's.

The scope is resolved once to a set of article ids (`Scope.select`), which every search then keeps to
(rag/store_api.py `Within`). The checks that weigh words across the collection still read the whole index:
how common a word is does not change with what the user asks of."""

from __future__ import annotations

import calendar
import glob
import re
from collections.abc import Iterable
from datetime import date
from fnmatch import fnmatchcase
from pathlib import PurePath

from pydantic import BaseModel, ConfigDict

from rag.errors import UsageError
from rag.schema import ArticleInfo
from rag.wording import counted

# A date as a user types it and as `rag index` reads it from front matter or an article's first line:
# a year, a year and month, or a full ISO date.
_DATE = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")
_GLOB = re.compile(r"[*?\[]")


def parse_date(text: str, end: bool = False) -> date:
    """`2005`, `2005-03` or `2005-03-14` as a day: the period's first (`end`: its last). UsageError if not."""
    m = _DATE.fullmatch(text.strip())
    if not m:
        raise UsageError(f"not a date: {text!r} (write YYYY, YYYY-MM or YYYY-MM-DD, e.g. 2005-03)")
    day = _day(m, end)
    if day is None:
        raise UsageError(f"not a date: {text!r} (no such day; write YYYY, YYYY-MM or YYYY-MM-DD)")
    return day


def article_date(doc: ArticleInfo) -> date | None:
    """The article's date (its period's first day when only a year or month is given), None if undated."""
    m = _DATE.match((doc.date or "").strip())
    return _day(m, False) if m else None


def _day(m: re.Match[str], end: bool) -> date | None:
    year, month, day = int(m[1]), int(m[2] or (12 if end else 1)), m[3]
    try:
        last = calendar.monthrange(year, month)[1]
        return date(year, month, int(day) if day else (last if end else 1))
    except ValueError:  # month 13, 31 April, year 0
        return None


class Scope(BaseModel):
    """A narrowing of the index; every field None is the whole index."""

    model_config = ConfigDict(frozen=True)

    # a glob on the article's file name (or on its whole path when it holds a "/"); without a wildcard,
    # any file name holding these letters: "sport" is "*sport*"
    source: str | None = None
    since: date | None = None  # articles dated on or after this day (undated articles are left out)
    until: date | None = None  # articles dated on or before this day (undated articles are left out)

    @classmethod
    def parse(cls, source: str | None = None, since: str | None = None, until: str | None = None) -> Scope:
        """The scope from what a user typed (CLI options); UsageError for a bad date or an empty range."""
        source = source.strip() if source is not None else None
        if source == "":
            raise UsageError("--source is empty: give part of a file name or a glob, e.g. --source 'sport*'")
        scope = cls(source=source, since=parse_date(since) if since else None,
                    until=parse_date(until, end=True) if until else None)
        if scope.since and scope.until and scope.since > scope.until:
            raise UsageError(f"--since {since} is after --until {until}: nothing can be in between")
        return scope

    @classmethod
    def only(cls, article: ArticleInfo, catalog: Iterable[ArticleInfo]) -> Scope:
        """The scope of one article (the chat's "ask only this article"): the shortest end of its path that
        no other article's path holds ("bbc_business_001.txt", else "business/001.txt"), so the status line
        reads as a user would type it. Wildcard characters in the name are escaped."""
        others = [a for a in catalog if a.doc_id != article.doc_id]
        parts = PurePath(article.source).parts
        for n in range(1, len(parts) + 1):
            tail = PurePath(*parts[-n:]).as_posix()
            if n == len(parts) and not tail.startswith("/"):
                tail = "/" + tail  # the whole of a relative path: from its first folder
            scope = cls(source=glob.escape(tail))
            if scope.matches(article) and not any(scope.matches(a) for a in others):
                return scope
        return cls(source=glob.escape(PurePath(article.source).as_posix()))

    @property
    def whole(self) -> bool:
        return self.source is None and self.since is None and self.until is None

    def matches(self, doc: ArticleInfo) -> bool:
        if self.source is not None and not _source_matches(self.source, doc.source):
            return False
        if self.since is None and self.until is None:
            return True
        day = article_date(doc)
        return day is not None and (self.since is None or day >= self.since) and (
            self.until is None or day <= self.until)

    def select(self, documents: Iterable[ArticleInfo]) -> frozenset[str]:
        """The ids of the articles in scope; UsageError when there are none, saying what the index holds."""
        docs = list(documents)
        kept = frozenset(d.doc_id for d in docs if self.matches(d))
        if not kept:
            dated = sum(article_date(d) is not None for d in docs)
            raise UsageError(f"no article is {self.describe()} (the index holds {counted(len(docs), 'article')}, "
                             f"{dated} of them dated): widen it, or ask without --source/--since/--until")
        return kept

    def describe(self) -> str:
        """In words, for messages and the chat app's status line: "from files matching 'sport', 2005-03-01 on"."""
        parts = []
        if self.source is not None:
            parts.append(f"from files matching {self.source!r}")
        if self.since and self.until:
            parts.append(f"dated {self.since.isoformat()} to {self.until.isoformat()}")
        elif self.since:
            parts.append(f"dated {self.since.isoformat()} or later")
        elif self.until:
            parts.append(f"dated {self.until.isoformat()} or earlier")
        return ", ".join(parts) or "in the index"


def _source_matches(pattern: str, source: str) -> bool:
    """A pattern without "/" is matched against the file name; one with it against the path, from any folder
    down ("sport/*.txt" matches ".../bbc/sport/001.txt")."""
    glob = pattern if _GLOB.search(pattern) else f"*{pattern}*"
    path = PurePath(source)
    if "/" not in pattern:
        return fnmatchcase(path.name, glob)
    return fnmatchcase(path.as_posix(), glob if glob.startswith(("/", "*")) else f"*/{glob}")
