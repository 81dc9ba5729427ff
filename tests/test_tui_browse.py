"""rag/tui/browse.py: the article browser (ctrl+l) lists the index, filters as the user types, opens an
article to read, and `a` there asks only that article; against the fake index of tests/helpers.py."""

from __future__ import annotations

from pathlib import Path
from typing import cast

from textual.widgets import Input, OptionList, Static

from helpers import ARTICLES, FakeAssistant, make_app, settle, toasts
from rag.schema import ArticleInfo
from rag.scope import Scope
from rag.tui.browse import BROWSE_ROWS, ArticlesScreen, browse_line, filtered
from rag.tui.screens import ArticleScreen


def listed(app) -> list[str]:
    return [str(o.prompt) for o in app.screen.query_one("#browse-list", OptionList).options]


def count(app) -> str:
    return str(app.screen.query_one("#browse-count", Static).render())


def test_filter_keeps_articles_whose_file_name_or_title_holds_every_word() -> None:
    assert [a.doc_id for a in filtered(ARTICLES, "  ")] == [a.doc_id for a in ARTICLES]
    assert [a.doc_id for a in filtered(ARTICLES, "AD profit")] == ["bbc_business_001"]  # title, any case
    assert [a.doc_id for a in filtered(ARTICLES, "sport 3")] == ["bbc_sport_003"]  # file name and title
    assert filtered(ARTICLES, "sport business") == []
    odd = ArticleInfo(doc_id="x", title="Line\x1b[2Jwiped", source="/news/folder/odd.txt", date="2005")
    line = str(browse_line(odd, dated=True))
    assert line.startswith("2005        odd.txt  Line") and "\x1b" not in line and "folder" not in line
    assert str(browse_line(odd, dated=False)).startswith("odd.txt  ")


async def test_the_browser_lists_filters_and_opens_an_article_to_read(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        await pilot.press("ctrl+l")
        await settle(pilot, app)
        assert isinstance(app.screen, ArticlesScreen)
        assert count(app) == "7 articles"
        rows = listed(app)
        assert rows[0] == "2005-03-01  bbc_sport_001.txt  Sport story 1"  # dated first, oldest first
        assert rows[-1].startswith("            bbc_business_001.txt  Ad sales boost profit")
        await pilot.press(*"story 3")
        assert listed(app) == ["2005-03-03  bbc_sport_003.txt  Sport story 3"]
        assert count(app) == "1 of 7 articles hold 'story 3'"
        await pilot.press("enter")  # from the filter box: the highlighted article
        await settle(pilot, app)
        assert isinstance(app.screen, ArticleScreen) and app.screen.doc.doc_id == "bbc_sport_003"
        assert "Sport story 3" in str(app.screen.query_one("#article-title").render())
        assert "a ask only this article" in str(app.screen.query_one("#article-hint").render())
        await pilot.press("escape")  # back to the browser, the filter kept
        assert isinstance(app.screen, ArticlesScreen)
        assert listed(app) == ["2005-03-03  bbc_sport_003.txt  Sport story 3"]
        app.screen.query_one("#browse-filter", Input).value = "sport"
        await pilot.pause()
        await pilot.press("down", "down", "up", "down")  # moves the list's highlight while typing
        assert app.screen.query_one("#browse-list", OptionList).highlighted == 2
        await pilot.press("enter")
        await settle(pilot, app)
        assert isinstance(app.screen, ArticleScreen) and app.screen.doc.doc_id == "bbc_sport_003"
        await pilot.press("escape")
        app.screen.query_one("#browse-filter", Input).value = "tennis"
        await pilot.pause()
        assert listed(app) == [] and count(app) == "no file name or title holds 'tennis' (the index holds 7 articles)"
        await pilot.press("enter")  # nothing to open: nothing happens
        await settle(pilot, app)
        assert isinstance(app.screen, ArticlesScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, ArticlesScreen)


async def test_a_in_the_viewer_asks_only_that_article(tmp_path: Path) -> None:
    fake = FakeAssistant()
    app = make_app(tmp_path, fake)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        app.action_browse()
        await settle(pilot, app)
        await pilot.press(*"ad sales", "enter")
        await settle(pilot, app)
        await pilot.press("a")
        await settle(pilot, app)
        assert app.screen is app.screen_stack[0]  # back in the chat
        assert fake.scope == Scope(source="bbc_business_001.txt")
        assert "only those from files matching 'bbc_business_001.txt'" in str(app.status.render())
        assert any("Asking 1 article from files matching 'bbc_business_001.txt'" in t for t in toasts(app))
        await pilot.press("ctrl+l")  # an article gone from the index since the list was read
        await settle(pilot, app)
        app.post_message(ArticleScreen.AskOnly("gone"))
        await settle(pilot, app)
        assert fake.scope == Scope(source="bbc_business_001.txt")  # kept
        assert any("article 'gone' is no longer in the index" in t for t in toasts(app))
        assert app.screen is app.screen_stack[0]


async def test_the_browser_without_an_index_or_with_a_long_list(tmp_path: Path) -> None:
    fake = FakeAssistant()
    fake.index_present = False
    app = make_app(tmp_path, fake)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        await pilot.press("ctrl+l")
        await settle(pilot, app)
        assert "no index yet" in count(app) and listed(app) == []
        many = [ArticleInfo(doc_id=f"a{i}", title=f"Story {i}", source=f"/n/a{i}.txt") for i in range(BROWSE_ROWS + 20)]
        cast("ArticlesScreen", app.screen).show_articles(many)
        await pilot.pause()
        assert len(listed(app)) == BROWSE_ROWS
        assert count(app) == f"{len(many):,} articles · the first {BROWSE_ROWS:,} listed: type to narrow"
        await pilot.press(*"story 51")
        assert len(listed(app)) == 15  # letters, not numbers: 51, 151, … 451 and 510-519


async def test_an_article_that_cannot_be_read_is_a_notification(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        app.action_browse()
        await settle(pilot, app)
        app.tasks.read_article("gone")
        await settle(pilot, app)
        assert isinstance(app.screen, ArticlesScreen)
        assert any("cannot open article 'gone'" in t for t in toasts(app))
