"""The judge's reading of the evidence: its headline and plain text (rag/judge.py)."""

from rag.judge import headed, plain


def test_the_evidence_follows_its_article_s_headline():
    shown = headed("Sales rose 34%.", ["Wipro beats forecasts"], 80)
    assert shown == '(from the article "Wipro beats forecasts") Sales rose 34%.'


def test_evidence_from_two_articles_names_both_once():
    assert headed("A. B. C.", ["One", "Two", "One"], 80) == '(from the articles "One", "Two") A. B. C.'


def test_evidence_without_a_headline_is_read_alone():
    assert headed("Sales rose.", ["", "  "], 80) == "Sales rose."
    assert headed("Sales rose.", [], 80) == "Sales rose."


def test_a_title_longer_than_a_headline_is_left_out():
    """An article with no headline line gets its opening sentence as title: not what the judge should read."""
    opening = "Despite proclamations about a cease-fire, the allies are sceptical about the talks that began…"
    assert headed("Sales rose.", [opening], 80) == "Sales rose."
    assert headed("Sales rose.", [opening, "Wipro beats forecasts"], 80) == \
        '(from the article "Wipro beats forecasts") Sales rose.'
    assert headed("Sales rose.", ["Wipro beats forecasts"], 0) == "Sales rose."


def test_a_dollar_sign_in_a_headline_or_the_evidence_is_kept_as_written():
    assert headed("It cost $5bn.", ["$5bn deal"], 80) == '(from the article "$5bn deal") It cost $5bn.'


def test_the_plain_evidence_drops_markers_and_our_quotation_marks():
    assert plain("“Sales rose 34%.” [1] “Profit rose.” [2]") == "Sales rose 34%. Profit rose."
