"""Places: countries, their adjectives, capitals used as metonyms and multi-word names all fold to one
canonical word, so "Estonia's", "Estonian" and "Tallinn" match each other. Spellings that are also
ordinary words ("us", "turkey", "china") count only when capitalised."""

from __future__ import annotations

import pytest

from rag.places import canonical, fold, is_place, mentions

# ----- canonical -------------------------------------------------------------------------------------

@pytest.mark.parametrize("word, place", [
    ("Estonia", "estonia"),
    ("Estonian", "estonia"),
    ("Estonians", "estonia"),
    ("German", "germany"),
    ("Polish", "poland"),
    ("British", "britain"),
    ("Dutch", "netherlands"),
    ("Chinese", "china"),
    ("Türkiye", "turkey"),
    ("Turkish", "turkey"),
])
def test_countries_and_adjectives_fold_to_the_country(word, place):
    assert canonical(word) == place


@pytest.mark.parametrize("capital, place", [
    ("Moscow", "russia"),
    ("Kremlin", "russia"),
    ("Kyiv", "ukraine"),
    ("Kiev", "ukraine"),
    ("Berlin", "germany"),
    ("Tallinn", "estonia"),
    ("Warsaw", "poland"),
    ("London", "britain"),
    ("Washington", "usa"),
    ("The Hague", "netherlands"),
])
def test_capitals_stand_for_their_country(capital, place):
    assert canonical(capital) == place


@pytest.mark.parametrize("name", ["USSR", "Soviet Union", "Soviet", "U.S.S.R."])
def test_a_state_that_no_longer_exists_is_still_a_place(name):
    assert canonical(name) == "ussr"
    assert mentions(f"A confrontation with the {name} worried the US.")[0][1] == "ussr"


def test_brussels_is_a_venue_not_belgium():
    assert canonical("Brussels") is None
    assert canonical("Belgian") == "belgium"


@pytest.mark.parametrize("name", ["United States", "U.S.", "US", "USA", "U.S.A.", "America", "American",
                                  "united states"])
def test_every_spelling_of_the_united_states(name):
    assert canonical(name) == "usa"


@pytest.mark.parametrize("name", ["United Kingdom", "U.K.", "UK", "Britain", "Great Britain"])
def test_every_spelling_of_the_united_kingdom(name):
    assert canonical(name) == "britain"


def test_organisations_are_places_too():
    assert canonical("EU") == canonical("European Union") == "eu"
    assert canonical("UN") == canonical("United Nations") == "un"
    assert canonical("NATO") == "nato"


@pytest.mark.parametrize("word, place", [
    ("Estonia's", "estonia"),
    ("Russia’s", "russia"),  # typographic apostrophe
    ("U.S.'s", "usa"),
    ("Britain's.", "britain"),
])
def test_possessives(word, place):
    assert canonical(word) == place


def test_punctuation_around_a_word_is_ignored():
    assert canonical("France.") == "france"
    assert canonical("Washington.") == "usa"
    assert canonical("(China)") == "china"
    assert canonical('"Estonia,"') == "estonia"
    assert canonical("UK.") == "britain"


@pytest.mark.parametrize("lower, capitalised", [("us", "US"), ("uk", "UK"), ("turkey", "Turkey"),
                                                ("china", "China"), ("washington", "Washington"),
                                                ("poles", "Poles"), ("georgia", "Georgia"), ("sofia", "Sofia"),
                                                ("indian", "Indian")])
def test_ordinary_words_are_places_only_when_capitalised(lower, capitalised):
    assert canonical(lower) is None
    assert canonical(capitalised) is not None


def test_case_sensitive_pairs():
    assert canonical("US") == "usa" and canonical("us") is None
    assert canonical("Turkey") == "turkey" and canonical("turkey") is None
    assert canonical("China") == "china" and canonical("china") is None


def test_a_trailing_period_does_not_make_a_common_word_a_place():
    # "They told us." / "We ate turkey.": the last word of a sentence
    assert canonical("us.") is None
    assert canonical("turkey.") is None
    assert canonical("china.") is None


def test_acronyms_count_only_in_capitals():
    # A sentence-initial "Us" ("Us Europeans must act") is the pronoun, not the country.
    assert canonical("Us") is None
    assert canonical("Un") is None
    assert canonical("Eu") is None
    assert canonical("US") == "usa" and canonical("EU") == "eu"


def test_unknown_words_are_not_places():
    for word in ["Rutte", "minister", "Ramstein", "", "Ottawa", "Prussia"]:
        assert canonical(word) is None


def test_is_place():
    assert is_place("Estonian") and is_place("Kyiv") and is_place("U.S.")
    assert not is_place("us") and not is_place("Hegseth") and not is_place("turkey")


# ----- fold ------------------------------------------------------------------------------------------

def test_fold_replaces_every_spelling_by_the_canonical_word():
    assert fold("The United States, the U.S. and America") == "The usa, the usa and usa"
    assert fold("Estonian troops and Estonia's minister") == "estonia troops and estonia's minister"
    assert fold("Moscow said the Kremlin would answer") == "russia said the russia would answer"


def test_fold_leaves_lower_case_ordinary_words_alone():
    assert fold("They told us about the US.") == "They told us about the usa."
    assert fold("We ate turkey in Turkey.") == "We ate turkey in turkey."
    assert fold("china plates from China") == "china plates from china"
    assert fold("Us Europeans") == "Us Europeans"


def test_fold_matches_whole_words_only():
    assert fold("Prussia and Russiagate") == "Prussia and Russiagate"
    assert fold("the Frenchman") == "the Frenchman"


def test_fold_prefers_the_longest_name():
    # "United Kingdom" is one place, not "United" + a stray word
    assert fold("the United Kingdom and the UK") == "the britain and the britain"
    assert fold("New Delhi") == "india"


# ----- mentions --------------------------------------------------------------------------------------

def test_mentions_keep_the_written_form_and_the_canonical_place():
    text = "The United States and the United Kingdom told Moscow that US ties with Kyiv matter."
    assert mentions(text) == [("United States", "usa"), ("United Kingdom", "britain"), ("Moscow", "russia"),
                              ("US", "usa"), ("Kyiv", "ukraine")]


def test_mentions_of_a_multi_word_name_are_one_mention():
    assert mentions("the United States") == [("United States", "usa")]
    assert mentions("the U.S. envoy") == [("U.S.", "usa")]


def test_mentions_skip_lower_case_ordinary_words():
    assert mentions("Let us carve the turkey on china plates.") == []
    assert mentions("Us Europeans must act. Un poco.") == []
    assert mentions("Turkey and China") == [("Turkey", "turkey"), ("China", "china")]


def test_mentions_of_possessives_and_hyphenated_forms():
    assert mentions("Estonia's minister and Russia’s envoy") == [("Estonia", "estonia"), ("Russia", "russia")]
    assert mentions("a U.S.-led coalition") == [("U.S.", "usa")]


def test_no_mentions():
    assert mentions("") == []
    assert mentions("Rutte met Hegseth at Ramstein.") == []


# ----- the rest of the world (rag/world_places.json) ------------------------------------------------------

@pytest.mark.parametrize("word, place", [
    ("Nigerian", "nigeria"),
    ("Nigerians", "nigeria"),
    ("Saudi Arabia", "saudi arabia"),
    ("Peruvian", "peru"),
    ("Kenya's", "kenya"),
    ("Ivory Coast", "ivory coast"),
    ("Myanmar", "burma"),
    ("South African", "south africa"),
    ("Filipinos", "philippines"),
])
def test_every_country_of_the_world_folds(word, place):
    assert canonical(word) == place


def test_world_spellings_are_places_only_when_capitalised():
    assert canonical("Chad") == "chad" and canonical("chad") is None  # the country, not the hanging paper
    assert canonical("Jordan") == "jordan" and canonical("jordan") is None
    assert mentions("A Chadian official met Kenyan and Peruvian delegates.") == [
        ("Chadian", "chad"), ("Kenyan", "kenya"), ("Peruvian", "peru")]


def test_the_hand_table_keeps_its_countries():
    assert canonical("Kremlin") == "russia" and canonical("Korean") == "korea"  # not re-listed by the world file
    assert canonical("South Korea") == "south korea"


def test_the_world_file_is_what_the_script_writes():
    """rag/world_places.json is generated: a hand edit, or a change to the script or the hand table that
    the file does not follow, fails here (run scripts/world_places.py)."""
    import json
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    sys.path.insert(0, str(root / "scripts"))
    from world_places import build

    from rag.places import OUT_FILE

    assert json.loads(OUT_FILE.read_text(encoding="utf-8")) == build()
