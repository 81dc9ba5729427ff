"""The eval judge's own reading of an answer's names and numbers: plain, fixed patterns, kept apart from
the rules the answer pipeline rejects answers by, so the judge does not pass answers by construction."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import PROJECT
from helpers import BUSINESS, SCIENCE, SPORT
from rag.eval_claims import digit_runs, name_runs, unsupported

PIPELINE = ("rag.grounding", "rag.qtypes", "rag.evidence")


def test_name_runs_are_runs_of_capitalised_words():
    assert name_runs("Lammy said Russia owes an answer.") == ["Lammy", "Russia"]
    assert name_runs("NATO Secretary General Mark Rutte met Jean-Noël Barrot in Brussels.") == [
        "NATO Secretary General Mark Rutte", "Jean-Noël Barrot", "Brussels"]
    assert name_runs("Rutte spoke. Barrot, too. Rutte again.") == ["Rutte", "Barrot"]  # each once


def test_a_sentence_opener_is_not_a_name_and_a_possessive_is_left_off():
    assert name_runs("The United States agreed. He said yes. In Oslo, they met.") == ["United States", "Oslo"]
    assert name_runs("Russia's answer and Rutte’s reply") == ["Russia", "Rutte"]
    assert name_runs("Poland's Foreign Minister spoke") == ["Poland", "Foreign Minister"]  # not one run
    assert name_runs("it was all lower case, 42 times") == []


def test_digit_runs():
    assert digit_runs("5,000 troops by 2024, 4.2 billion, 5 more") == ["5", "000", "2024", "4", "2"]
    assert digit_runs("no numbers here") == []


@pytest.mark.parametrize("article, claim, invented", [
    (BUSINESS, "Harbourline made a profit of 312 million euros, Marta Lindqvist said.", []),
    (BUSINESS, "Harbourline made a profit of 412 million euros, Marta Lindqvist said.", ["412"]),
    (SPORT, "Riverton beat Ashford 4-3 on penalties.", []),
    (SPORT, "Riverton beat Castleford 5-3 on penalties.", ["Castleford", "5"]),
    (SCIENCE, "Samir Okafor's team found water vapour on KX-41b.", []),
    (SCIENCE, "The Hubble telescope found water vapour 12 light years away.", ["Hubble", "12"]),
])
def test_unsupported_names_and_numbers(article, claim, invented):
    assert unsupported(claim, article) == invented


def test_a_name_must_stand_in_the_sources_as_words():
    assert unsupported("Rutte said so.", "Mark Rutte said the ball was in Moscow's court.") == []
    assert unsupported("The Russians agreed.", "Russian officials agreed.") == ["Russians"]
    assert unsupported("Russia agreed.", "Russian officials agreed.") == []  # a name begins a word
    assert unsupported("Ford said so.", "Riverton beat Ashford.") == ["Ford"]  # not inside another word
    assert unsupported("The EU agreed, NATO too.", "Europe's leaders agreed, and NATO's.") == ["EU"]  # capitals whole
    assert unsupported("United States", "the United\nStates said") == []  # line breaks are spaces
    assert unsupported("Barrot said so.", "BARROT SAID SO") == []  # case aside
    assert unsupported("It was 20 days.", "It was 120 days.") == ["20"]  # a whole run of digits


def test_the_judge_imports_nothing_of_the_answer_pipeline_s_checks():
    code = ("import sys, rag.evaluate, rag.eval_claims; "
            f"print(sorted(m for m in {PIPELINE!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PROJECT, check=True)
    assert out.stdout.strip() == "[]"
