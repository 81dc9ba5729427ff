"""rag/scope.py: what a user types to narrow the index, read once, and which articles it keeps."""

from __future__ import annotations

from datetime import date

import pytest

from conftest import one_line
from rag.errors import UsageError
from rag.schema import ArticleInfo
from rag.scope import Scope, article_date, parse_date


def article(source: str, day: str | None = None, doc_id: str = "a") -> ArticleInfo:
    return ArticleInfo(doc_id=doc_id, title="t", source=source, date=day)


@pytest.mark.parametrize(("text", "start", "end"), [
    ("2005", date(2005, 1, 1), date(2005, 12, 31)),
    ("2005-02", date(2005, 2, 1), date(2005, 2, 28)),
    ("2004-2", date(2004, 2, 1), date(2004, 2, 29)),  # a leap year's February
    (" 2005-03-14 ", date(2005, 3, 14), date(2005, 3, 14)),
])
def test_a_date_is_its_periods_first_day_and_as_an_end_its_last(text, start, end):
    assert parse_date(text) == start and parse_date(text, end=True) == end


@pytest.mark.parametrize("text", ["", "March", "05-03-14", "2005/03/14", "2005-13", "2005-02-30", "0000"])
def test_what_is_no_date_is_a_one_line_usage_error(text):
    with pytest.raises(UsageError) as info:
        parse_date(text)
    assert one_line(str(info.value)) and "YYYY-MM-DD" in str(info.value) and info.value.exit_code == 2


def test_source_without_a_wildcard_is_letters_the_file_name_holds():
    scope = Scope.parse(source="sport")
    assert scope.matches(article("/news/bbc_sport_001.txt"))
    assert not scope.matches(article("/sport/bbc_tech_001.txt"))  # the name, not the folder
    assert not scope.matches(article("/news/bbc_Sport_001.txt"))  # as typed: file names are case-sensitive


def test_source_glob_and_path_glob():
    assert Scope.parse(source="bbc_*_00?.txt").matches(article("/n/bbc_tech_001.txt"))
    assert not Scope.parse(source="bbc_*_00?.txt").matches(article("/n/bbc_tech_010.txt"))
    by_folder = Scope.parse(source="sport/*.txt")
    assert by_folder.matches(article("/archive/2005/sport/001.txt"))
    assert not by_folder.matches(article("/archive/2005/tech/001.txt"))
    assert Scope.parse(source="/archive/2005/*").matches(article("/archive/2005/tech/001.txt"))


def test_dates_bound_both_ends_and_leave_undated_articles_out():
    april = Scope.parse(since="2025-04", until="2025-04")
    assert (april.since, april.until) == (date(2025, 4, 1), date(2025, 4, 30))
    assert april.matches(article("a.txt", "2025-04-30")) and april.matches(article("a.txt", "2025-04-01"))
    assert not april.matches(article("a.txt", "2025-05-01")) and not april.matches(article("a.txt", "2025-03-31"))
    assert not april.matches(article("a.txt"))  # undated
    assert Scope.parse(since="2025").matches(article("a.txt", "2026-01-01"))
    assert article_date(article("a.txt", "2025-04")) == date(2025, 4, 1)
    assert article_date(article("a.txt", "April 4")) is None


def test_bad_ranges_and_empty_sources_are_refused():
    with pytest.raises(UsageError, match="after --until"):
        Scope.parse(since="2025-05", until="2025-04")
    with pytest.raises(UsageError, match="--source is empty"):
        Scope.parse(source="  ")


def test_select_names_the_articles_or_says_what_the_index_holds():
    docs = [article("/n/x_sport_1.txt", "2005-01-02", "s1"), article("/n/x_tech_1.txt", None, "t1"),
            article("/n/x_sport_2.txt", None, "s2")]
    assert Scope.parse(source="sport").select(docs) == {"s1", "s2"}
    assert Scope.parse(source="sport", since="2005").select(docs) == {"s1"}
    with pytest.raises(UsageError) as info:
        Scope.parse(source="tech", until="2004").select(docs)
    message = str(info.value)
    assert one_line(message) and "3 articles, 1 of them dated" in message and "'tech'" in message


def test_the_whole_index_and_descriptions():
    assert Scope().whole and Scope.parse().whole and not Scope.parse(source="x").whole
    assert Scope.parse(source="sport", since="2005-03").describe() == "from files matching 'sport', dated " \
                                                                      "2005-03-01 or later"
    assert Scope.parse(until="2005").describe() == "dated 2005-12-31 or earlier"


def test_only_one_article_is_the_shortest_end_of_its_path_no_other_holds():
    catalog = [article("/x/business/001.txt", doc_id="b1"), article("/x/sport/001.txt", doc_id="s1"),
               article("/x/sport/1001.txt", doc_id="s2"), article("/y/sport/001.txt", doc_id="y1"),
               article("/x/odd[1]*.txt", doc_id="w")]
    chosen = {a.doc_id: Scope.only(a, catalog) for a in catalog}
    assert chosen["b1"].source == "business/001.txt"  # "001.txt" would hold three articles
    assert chosen["s1"].source == "x/sport/001.txt"
    assert chosen["s2"].source == "1001.txt"
    assert chosen["w"].source == "odd[[]1][*].txt"  # wildcards in a file name are taken literally
    for doc_id, scope in chosen.items():
        assert [a.doc_id for a in catalog if scope.matches(a)] == [doc_id]
    assert Scope.only(catalog[0], [catalog[0]]).source == "001.txt"
