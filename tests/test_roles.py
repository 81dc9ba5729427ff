"""Roles: who holds which office, read from the articles' own appositions, so a question about
"Estonia's foreign minister" can be searched with the name the article uses. The articles below are
made up for the tests."""

from __future__ import annotations

import json

import pytest

from rag.roles import Roles, asked_roles, mentions

# ----- mentions: role and name side by side in news copy ---------------------------------------------


@pytest.mark.parametrize("sentence, found", [
    # role before the name
    ("Estonian Foreign Minister Margus Tsahkna said the alliance must stay united.",
     ("estonia", "foreign minister", "Margus Tsahkna")),
    ("NATO Secretary General Mark Rutte told reporters the ball was in Moscow’s court.",
     ("nato", "secretary general", "Mark Rutte")),
    ("Poland's Foreign Minister, Radek Sikorski, said Warsaw would not wait.",
     ("poland", "foreign minister", "Radek Sikorski")),
    ("The outgoing German Foreign Minister Annalena Baerbock said Berlin stands with Kyiv.",
     ("germany", "foreign minister", "Annalena Baerbock")),
    ("French Foreign Minister Jean-Noel Barrot said Russia owes an answer.",
     ("france", "foreign minister", "Jean-Noel Barrot")),
    ("Russian Deputy Foreign Minister Sergei Ryabkov said Moscow could not accept the plan.",
     ("russia", "deputy foreign minister", "Sergei Ryabkov")),
    ("U.S. Secretary of State Marco Rubio said Washington wanted a deal.",
     ("usa", "foreign minister", "Marco Rubio")),
    ("Kremlin spokesman Dmitry Peskov said Russia would study the proposal.",
     ("russia", "spokesperson", "Dmitry Peskov")),
    ("Chancellor Friedrich Merz said Germany would help.",
     (None, "chancellor", "Friedrich Merz")),
    # name before the role
    ("Andrij Sybiha, Kyiv’s foreign minister, said Ukraine was ready.",
     ("ukraine", "foreign minister", "Andrij Sybiha")),
    ("On Tuesday, Andrij Sybiha, Kyiv’s top diplomat, said the talks were useful.",
     ("ukraine", "foreign minister", "Andrij Sybiha")),
    ("Margus Tsahkna, the Estonian foreign minister, said the sanctions would stay.",
     ("estonia", "foreign minister", "Margus Tsahkna")),
])
def test_a_role_next_to_a_name(sentence, found):
    assert mentions(sentence) == [found]


def test_synonyms_fold_to_one_role():
    assert mentions("British Foreign Secretary David Lammy said London would help.") == [
        ("britain", "foreign minister", "David Lammy")]
    assert mentions("EU foreign policy chief Kaja Kallas said the bloc would respond.") == [
        ("eu", "foreign minister", "Kaja Kallas")]
    assert mentions("Defense Secretary Pete Hegseth chaired the meeting.") == [
        (None, "defence minister", "Pete Hegseth")]


def test_several_roles_in_one_sentence():
    assert mentions("French President Emmanuel Macron met Finnish President Alexander Stubb in Paris.") == [
        ("france", "president", "Emmanuel Macron"), ("finland", "president", "Alexander Stubb")]


def test_a_possessive_after_the_name_is_dropped():
    assert mentions("Foreign Minister Radek Sikorski's remarks drew criticism.") == [
        (None, "foreign minister", "Radek Sikorski")]


def test_a_role_without_a_name_is_not_a_mention():
    assert mentions("The foreign minister said nothing.") == []
    assert mentions("He met the German Chancellor in Berlin.") == []  # "Berlin" is a place, not a surname


def test_a_headline_in_title_case_stops_the_name_at_the_verb():
    assert mentions("NATO Secretary General Mark Rutte Says Allies Must Spend More") == [
        ("nato", "secretary general", "Mark Rutte")]
    assert mentions("Estonian Foreign Minister Margus Tsahkna Says Russia Must Answer") == [
        ("estonia", "foreign minister", "Margus Tsahkna")]


def test_a_place_in_the_sentence_before_does_not_qualify_the_role():
    text = "The Polish delegation arrived in Tallinn. Foreign Minister Radek Sikorski said Poland was ready."
    assert mentions(text) == [(None, "foreign minister", "Radek Sikorski")]
    # a dotted abbreviation right before the role still qualifies it
    assert mentions("the U.S. Defense Secretary Pete Hegseth said") == [("usa", "defence minister", "Pete Hegseth")]


def test_an_organisation_is_matched_as_a_whole_word():
    # "begun" ends in "un" but says nothing about the United Nations
    text = "Once the talks had begun, Foreign Minister Radek Sikorski said Poland was ready."
    assert mentions(text) == [(None, "foreign minister", "Radek Sikorski")]
    assert mentions("NATO's Secretary General Mark Rutte said") == [("nato", "secretary general", "Mark Rutte")]
    # an organisation is held by its own name: no table of what stands for which government
    assert mentions("White House spokeswoman Karoline Leavitt said") == [
        ("white house", "spokesperson", "Karoline Leavitt")]


# ----- asked_roles: the roles a question names ----------------------------------------------------------

def test_asked_role_with_a_possessive_qualifier():
    q = "What did Estonia's foreign minister say?"
    assert asked_roles(q) == [((9, 35), "estonia", {"foreign minister"})]
    assert q[9:35] == "Estonia's foreign minister"


def test_asked_role_with_an_adjective_or_an_of_phrase():
    assert asked_roles("What did the Estonian foreign minister say?")[0][1:] == ("estonia", {"foreign minister"})
    (span, qualifier, roles), = asked_roles("What did the foreign minister of Estonia say?")
    assert qualifier == "estonia" and roles == {"foreign minister"}


def test_asked_role_synonyms_and_organisations():
    assert asked_roles("What did Britain's foreign secretary say?")[0][1:] == ("britain", {"foreign minister"})
    assert asked_roles("What did Kyiv's top diplomat say?")[0][1:] == ("ukraine", {"foreign minister"})
    assert asked_roles("Who is NATO's Secretary General?")[0][1:] == ("nato", {"secretary general"})


def test_asked_deputy_also_covers_the_minister():
    (_, qualifier, roles), = asked_roles("What did Russia's deputy foreign minister say?")
    assert qualifier == "russia" and roles == {"deputy foreign minister", "foreign minister"}


def test_a_loose_word_needs_a_place():
    (span, qualifier, roles), = asked_roles("Which Polish minister spoke first?")
    assert qualifier == "poland" and "foreign minister" in roles and "defence minister" in roles
    assert "Which Polish minister spoke first?"[span[0] : span[1]] == "Polish minister"
    (span, qualifier, roles), = asked_roles("Which minister spoke first?")
    assert span == (6, 14) and qualifier is None
    assert {"minister", "foreign minister", "finance minister", "health minister", "prime minister"} <= roles
    assert asked_roles("Which leader spoke first?") == []  # a loose word without a place: no role at all


def test_a_question_without_a_role():
    assert asked_roles("How many soldiers will Germany send?") == []


# ----- Roles: from the articles to the names for a question ------------------------------------------------

ARTICLES = [
    "Estonian Foreign Minister Margus Tsahkna said the alliance must stay united. "
    "NATO Secretary General Mark Rutte told reporters the ball was in Moscow’s court.",
    "Poland's Foreign Minister, Radek Sikorski, said Warsaw would not wait. "
    "Polish Foreign Minister Radek Sikorski repeated the warning on Friday.",
    "Andrij Sybiha, Kyiv’s foreign minister, said Ukraine was ready for talks. "
    "British Foreign Secretary David Lammy said London would keep up its support.",
    "Russian Deputy Foreign Minister Sergei Ryabkov said Moscow could not accept the terms.",
]


@pytest.fixture(scope="module")
def roles() -> Roles:
    return Roles.from_texts(ARTICLES)


def test_from_texts_counts_every_mention(roles):
    assert roles.table[("poland", "foreign minister")] == {"Radek Sikorski": 2}
    assert roles.table[("estonia", "foreign minister")] == {"Margus Tsahkna": 1}
    assert roles.table[("nato", "secretary general")] == {"Mark Rutte": 1}
    assert roles.table[("ukraine", "foreign minister")] == {"Andrij Sybiha": 1}


@pytest.mark.parametrize("question, name", [
    ("What did Estonia's foreign minister say about the alliance?", "Margus Tsahkna"),
    ("What did the foreign minister of Estonia say?", "Margus Tsahkna"),
    ("Which Polish minister said Warsaw would not wait?", "Radek Sikorski"),
    ("What did Britain's foreign secretary say about support?", "David Lammy"),
    ("What did the UK foreign secretary say?", "David Lammy"),
    ("What did Kyiv's top diplomat say?", "Andrij Sybiha"),
    ("Who is NATO's Secretary General?", "Mark Rutte"),
    ("What did the NATO chief say?", "Mark Rutte"),
    ("What did Russia's deputy foreign minister say?", "Sergei Ryabkov"),
])
def test_names_for_a_role_in_a_question(roles, question, name):
    assert roles.names_for(question) == [name]


def test_resolve_gives_the_span_the_name_stands_for(roles):
    q = "What did Estonia's foreign minister say about the alliance?"
    (span, names), = roles.resolve(q)
    assert q[span[0] : span[1]] == "Estonia's foreign minister"
    assert names == ["Margus Tsahkna"]


def test_a_qualifier_no_article_names_gives_nothing(roles):
    assert roles.resolve("What did China's foreign minister say?") == []
    assert roles.names_for("What did China's foreign minister say?") == []


def test_an_unqualified_role_with_many_holders_gives_no_guess(roles):
    assert roles.names_for("What did the foreign minister say?") == []


def test_an_unqualified_role_with_one_holder_is_answered():
    roles = Roles.from_texts(["Defense Secretary Pete Hegseth chaired the Ramstein meeting."])
    assert roles.names_for("What did the defence secretary announce?") == ["Pete Hegseth"]


def test_a_qualified_question_falls_back_to_the_only_unqualified_holder():
    roles = Roles.from_texts(["Deputy Foreign Minister Sergei Ryabkov said Moscow could not accept the terms."])
    assert roles.names_for("What did Russia's deputy foreign minister say?") == ["Sergei Ryabkov"]


def test_a_name_already_in_the_question_is_not_returned(roles):
    assert roles.names_for("What did Margus Tsahkna, Estonia's foreign minister, say?") == []
    assert roles.names_for("Did Tsahkna, Estonia's foreign minister, agree?") == []


def test_the_most_mentioned_holder_comes_first():
    roles = Roles.from_texts(["Polish Foreign Minister Radek Sikorski said so.",
                              "Polish Foreign Minister Radek Sikorski said it again.",
                              "Polish Foreign Minister Jan Kowalski disagreed."])
    assert roles.names_for("What did Poland's foreign minister say?") == ["Radek Sikorski", "Jan Kowalski"]
    assert roles.names_for("What did Poland's foreign minister say?", limit=1) == ["Radek Sikorski"]


def test_json_round_trip(roles):
    rows = json.loads(json.dumps(roles.to_json()))
    again = Roles.from_json(rows)
    assert dict(again.table) == dict(roles.table)
    for q in ["What did Estonia's foreign minister say?", "Which Polish minister spoke?",
              "What did China's foreign minister say?"]:
        assert again.resolve(q) == roles.resolve(q)


def test_an_empty_table_knows_nobody():
    empty = Roles.from_texts([])
    assert empty.names_for("What did Estonia's foreign minister say?") == []
    assert Roles.from_json(empty.to_json()).table == {}


def test_an_office_with_no_holder_on_file_is_unfilled():
    roles = Roles.from_texts(["Polish Foreign Minister Radek Sikorski said the talks were over."])
    assert roles.unfilled("Who is Poland's foreign minister?") == []
    unfilled = roles.unfilled("Who is Lithuania's foreign minister?")
    assert len(unfilled) == 1 and "foreign minister" in unfilled[0] and "top diplomat" in unfilled[0]
    assert roles.unfilled("Who chaired the meeting?") == []  # no office asked about
    assert roles.unfilled("Who is the foreign minister?") == []  # no place: nothing to hold it to


def test_a_holder_on_file_for_another_place_is_not_borrowed():
    roles = Roles.from_texts(["Defense Secretary Pete Hegseth skipped the meeting.",
                              "US Defense Secretary Pete Hegseth was in Asia."])
    assert roles.names_for("Who is Latvia's defence minister?") == []
    assert roles.unfilled("Who is Latvia's defence minister?")


def test_the_most_specific_office_on_file_unqualified_is_used():
    roles = Roles.from_texts(["Deputy Foreign Minister Sergei Ryabkov told the paper the talks were stuck.",
                              "Foreign Minister Jean-Noel Barrot spoke first.",
                              "French Foreign Minister Jean-Noël Barrot said Paris was ready."])
    assert roles.names_for("What did Russia's deputy foreign minister say?") == ["Sergei Ryabkov"]
    # the unqualified foreign minister is France's, spelled without the accent: not borrowed for Russia
    assert roles.names_for("What did Russia's foreign minister say?") == []


def test_who_leads_an_organisation_asks_for_its_head():
    roles = Roles.from_texts(["NATO Secretary General Mark Rutte said allies were united.",
                              "President Volodymyr Zelenskyy thanked them."])
    assert roles.names_for("Who leads NATO?") == ["Mark Rutte"]
    assert roles.names_for("Who runs Estonia?") == []  # a president on file without a country is no guess


# ----- offices beyond government: business, sport, the arts, science --------------------------------------------

@pytest.mark.parametrize("sentence, found", [
    ("Microsoft chairman Bill Gates said the software would ship in May.", ("microsoft", "chairman", "Bill Gates")),
    ("Yukos chief executive Steven Theede said the firm would fight on.",
     ("yukos", "chief executive", "Steven Theede")),
    ("Chelsea manager Jose Mourinho said his side was tired.", ("chelsea", "manager", "Jose Mourinho")),
    ("Manchester United's manager, Alex Ferguson, praised the youngsters.",
     ("manchester united", "manager", "Alex Ferguson")),
    ("CBI director general Sir Digby Jones called for tax cuts.", ("cbi", "director", "Sir Digby Jones")),
    ("England captain Michael Vaughan won the toss.", ("britain", "captain", "Michael Vaughan")),
    ("Nigerian Finance Minister Ngozi Okonjo-Iweala said debt relief was vital.",
     ("nigeria", "finance minister", "Ngozi Okonjo-Iweala")),
    ("Professor Jane Smith, who led the study, said the results were clear.", (None, "professor", "Jane Smith")),
])
def test_offices_of_any_news(sentence, found):
    assert mentions(sentence) == [found]


def test_a_word_after_a_comma_does_not_qualify_a_role():
    assert mentions("On Tuesday, Foreign Minister Radek Sikorski said Poland was ready.") == [
        (None, "foreign minister", "Radek Sikorski")]
    assert mentions("Meanwhile Chancellor Gordon Brown said growth was strong.") == [
        (None, "chancellor", "Gordon Brown")]


def test_a_name_ends_in_a_surname():
    assert mentions("the chancellor, Labour MP said") == []


def test_asked_offices_of_any_news():
    assert asked_roles("Who is Chelsea's manager?")[0][1:] == ("chelsea", {"manager"})
    (_, qualifier, roles), = asked_roles("What did the Chelsea boss say about the referee?")
    assert qualifier == "chelsea" and {"manager", "coach", "chief executive"} <= roles
    assert asked_roles("What did the chairman of Yukos say?")[0][1:] == ("yukos", {"chairman"})


def test_an_adjective_or_a_verb_is_no_office():
    assert asked_roles("Which constituency is he standing in at the general election?") == []
    assert asked_roles("How did critics judge the film?") == []
    assert asked_roles("Which German general spoke about the mission?")[0][1:] == ("germany", {"general"})


def test_a_role_before_a_name_the_question_gives_is_not_asked():
    assert asked_roles("Did President Bush visit Brussels?") == []
    assert asked_roles("Which Premier League club won?") == []


def test_names_for_offices_of_any_news():
    roles = Roles.from_texts(["CBI director general Sir Digby Jones called for tax cuts.",
                              "Chelsea manager Jose Mourinho said his side was tired.",
                              "Arsenal manager Arsene Wenger disagreed."])
    assert roles.names_for("What did the CBI director general want?") == ["Sir Digby Jones"]
    assert roles.names_for("What did Chelsea's manager say?") == ["Jose Mourinho"]
    assert roles.names_for("Who leads Arsenal?") == [] and roles.names_for("What did the Arsenal boss say?") == [
        "Arsene Wenger"]
