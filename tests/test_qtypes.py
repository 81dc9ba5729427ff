"""Question types: what kind of answer a question wants (a date, a number, a demand, a person, a
place), and how clearly a sentence holds one that the question does not already give."""

from __future__ import annotations

import pytest

from rag.qtypes import counted_noun, expected, fits, people, strength

# ----- expected ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("question, kind", [
    ("When did the ministers meet?", "date"),
    ("What date was the summit?", "date"),
    ("On what day did he speak?", "date"),
    ("What year did Finland join NATO?", "date"),
    ("How many soldiers will Germany send?", "number"),
    ("How much did Berlin pledge?", "number"),
    ("How long will the mission last?", "number"),
    ("What percentage of GDP should allies spend?", "number"),
    ("What share of GDP will Poland spend on defence?", "number"),
    ("What did Barrot demand?", "directive"),
    ("What did Rutte urge allies to do?", "directive"),
    ("What did Zelensky call for?", "directive"),
    ("What did Barrot ask Russia to do?", "directive"),
    ("Who chaired the meeting?", "person"),
    ("Whose proposal was rejected?", "person"),
    ("Who is NATO's Secretary General?", "person"),
    ("Which minister spoke first?", "person"),
    ("Which Estonian official spoke?", "person"),
    ("Which analyst said that?", "person"),
    # people in business, sport and the arts, not only in government
    ("Which coach was sacked?", "person"),
    ("Which Chelsea player scored twice?", "person"),
    ("Which chairman resigned after the takeover?", "person"),
    ("Which actress won the best actress award?", "person"),
    ("Which singer topped the chart?", "person"),
    ("Where did the ministers meet?", "place"),
    ("Which country left the Ottawa convention?", "place"),
    ("In which city did they meet?", "place"),
    ("Why did Finland leave the treaty?", None),
    ("What did Rutte say about the ball?", None),
    ("What did the analyst say?", None),
])
def test_expected_kind(question, kind):
    assert expected(question) == kind


def test_an_analyst_in_the_question_is_not_the_answer():
    # the answer is a think tank, not a person, although "analyst" is a person word
    assert expected("Which think tank does analyst Jane Doe work for?") is None
    assert expected("What does analyst Jane Doe think?") is None


# ----- strength and fits: numbers ------------------------------------------------------------------------

HOW_MANY = "How many soldiers will Germany send by 2027?"


@pytest.mark.parametrize("sentence, score", [
    ("Germany will send 5,000 soldiers by 2027.", 1.0),  # a number of the very thing asked about
    ("About 5,000 German soldiers will be based there.", 1.0),
    ("The brigade's base cost 300 million euros.", 0.6),  # a new number, of something else
    ("Germany will send thousands of troops.", 0.4),  # a number in words
    ("Germany will send soldiers to Lithuania.", 0.0),
    ("Germany will send soldiers by 2027.", 0.0),  # the only number is the question's own
])
def test_strength_for_how_many(sentence, score):
    assert expected(HOW_MANY) == "number"
    assert strength(sentence, "number", HOW_MANY) == score
    assert fits(sentence, "number", HOW_MANY) is (score > 0)


@pytest.mark.parametrize("head, noun", [
    ("Russian troops", "troops"),  # the noun, not its modifier
    ("countries belong to", "countries"),  # a verb and a preposition follow it
    ("civil servants walked", "servants"),
    ("copies of Halo", "copies"),
    ("US Presidents once", "Presidents"),  # "US" is no plural
    ("children voted in", "children"),  # an irregular plural: the phrase's last word
    ("people", "people"),
    ("Patriot air defence", "defence"),
])
def test_the_counted_noun_of_how_many(head, noun):
    assert counted_noun(head) == noun


def test_a_number_of_the_counted_thing_is_the_strongest_whatever_follows_it():
    q = "Roughly how many countries belong to the Ramstein group?"
    assert strength("The Ramstein format (some 50 countries supporting Ukraine) meets in April.", "number", q) == 1.0
    assert strength("The Ramstein format meets on 11 April for 3 hours.", "number", q) == 0.6


@pytest.mark.parametrize("sentence, score", [
    ("Berlin pledged €130 million.", 1.0),
    ("Berlin pledged $2 billion.", 1.0),
    ("Berlin pledged 130 million euros.", 1.0),
    ("Berlin pledged more.", 0.0),
])
def test_strength_for_how_much_wants_money(sentence, score):
    assert strength(sentence, "number", "How much did Berlin pledge?") == score


def test_strength_for_a_share_wants_a_percentage():
    q = "What share of GDP will Poland spend on defence?"
    assert strength("Poland will spend 4.7% of GDP.", "number", q) == 1.0
    assert strength("Poland will spend 4.7 per cent of GDP.", "number", q) == 1.0
    assert strength("Poland will spend 35 billion zloty.", "number", q) == 0.6


# ----- dates -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("sentence, score", [
    ("Finland left the convention on June 27.", 1.0),
    ("Finland left the convention in 2025.", 1.0),
    ("Finland left on Tuesday.", 1.0),
    ("Finland left the convention last month.", 0.5),
    ("Finland left the convention.", 0.0),
])
def test_strength_for_when(sentence, score):
    q = "When did Finland leave the Ottawa convention?"
    assert strength(sentence, "date", q) == score
    assert fits(sentence, "date", q) is (score > 0)


def test_a_date_the_question_gives_is_not_an_answer():
    q = "When in 2025 did Finland leave the convention?"
    assert strength("Finland left the convention in 2025.", "date", q) == 0.0
    assert strength("Finland left the convention on June 27, 2025.", "date", q) == 1.0


@pytest.mark.parametrize("sentence, score", [
    ("When Edward the Confessor returned from exile in 1041, he was crowned.", 1.0),
    ("The first reference to the town dates back to the year 1313, at a time of war.", 1.0),
    ("The device was described by Hero of Alexandria in the first century AD.", 1.0),
    ("The abbey was rebuilt in the 10th and 11th centuries.", 1.0),
    ("Norman influence grew during the 1060s.", 1.0),
    ("Caesar landed in 55 BC.", 1.0),
    ("He won in 300 cases out of 1000.", 0.0),  # a count after "in", not a year
    ("Page 123 of 456 was missing.", 0.0),
])
def test_a_year_before_1800_is_a_date_where_english_marks_it(sentence, score):
    assert strength(sentence, "date", "When did Edward return?") == score


def test_what_year_takes_an_early_year_but_not_a_century():
    q = "What year was the town first mentioned?"
    assert strength("It is first mentioned in 1313, as a fishing village.", "date", q) == 1.0
    assert strength("It is first mentioned in the 14th century.", "date", q) == 0.0


def test_a_place_no_list_holds_is_still_a_place_after_in_or_at():
    q = "Where are the championships being held?"
    assert strength("The championships will be held in St Etienne next month.", "place", q) == 0.5
    assert strength("The championships were postponed again.", "place", q) == 0.0
    assert strength("The championships will be held in France.", "place", q) == 1.0


# ----- directives ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("sentence, score", [
    ("Barrot said Russia must answer.", 1.0),
    ("Barrot urged Moscow to reply.", 1.0),
    ("Barrot said Russia should accept a ceasefire without conditions.", 1.0),
    ("Barrot spoke in Paris.", 0.5),  # never 0: a demand can be phrased any way
])
def test_strength_for_a_demand(sentence, score):
    q = "What did Barrot demand?"
    assert strength(sentence, "directive", q) == score
    assert fits(sentence, "directive", q)


# ----- places ----------------------------------------------------------------------------------------------

def test_strength_for_where():
    q = "Where did the German ministers meet?"
    assert strength("The German ministers met in Warsaw.", "place", q) == 1.0
    assert strength("The German ministers met in Tallinn.", "place", q) == 1.0  # a capital is a place
    assert strength("The German ministers met in Germany.", "place", q) == 0.0  # only the place asked about
    # a bare "where" takes a place no name gives ("in the condenser"), though less surely; not a span of time
    assert strength("The German ministers met at the hotel.", "place", q) == 0.5
    assert fits("The German ministers met at the hotel.", "place", q)
    assert strength("The German ministers will meet in the coming weeks.", "place", q) == 0.0
    assert strength("The German ministers met at the end of a long week.", "place", q) == 0.0
    assert not fits("The German ministers met on Friday.", "place", q)


def test_only_a_bare_where_takes_an_unnamed_place():
    q = "In which city did the German ministers meet?"
    assert strength("The German ministers met at the hotel.", "place", q) == 0.0


# ----- people ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("sentence, score", [
    ("The meeting was chaired by Pete Hegseth.", 1.0),  # a full name
    ("The meeting was chaired by Hegseth.", 0.5),  # one capitalised word that may be a surname
    ("It was chaired by the United States.", 0.5),  # a country can answer "who" too, less surely than a name
    ("It was chaired by the committee.", 0.0),  # nobody named at all
    ("It was chaired by the European Commission.", 0.5),  # a named body answers "who" as a country does
    ("Al Jazeera reported the meeting.", 0.0),  # news outlets are not people
    ("The meeting was reported by CNN and Reuters.", 0.0),
    ("The BBC and the Associated Press reported it.", 0.0),
    ("Pete Hegseth chaired the meeting, Al Jazeera reported.", 1.0),
])
def test_strength_for_who(sentence, score):
    q = "Who chaired the meeting?"
    assert strength(sentence, "person", q) == score
    assert fits(sentence, "person", q) is (score > 0)


def test_a_body_the_question_names_is_not_the_answer():
    assert strength("The Budget Commission met on Monday.", "person", "Who chaired the Budget Commission?") == 0.0
    assert strength("The Budget Commission met on Monday.", "person", "Who chaired the meeting?") == 0.5


def test_a_person_the_question_names_is_not_the_answer():
    q = "Who did Pete Hegseth meet?"
    assert strength("Pete Hegseth met allies.", "person", q) == 0.0
    assert strength("Pete Hegseth met Mark Rutte.", "person", q) == 1.0


def test_no_kind_always_fits():
    assert strength("Anything at all.", None, "Why did Finland leave the treaty?") == 1.0
    assert fits("", None, "Why did Finland leave the treaty?")


def test_people_are_full_names_not_places_bodies_or_outlets():
    assert people("French Foreign Minister Jean-Noel Barrot said so.") == {"Jean-Noel Barrot"}
    assert people("The United States and Pete Hegseth agreed.") == {"Pete Hegseth"}
    assert people("John Smith") == {"John Smith"}
    for text in ["Al Jazeera and the Associated Press reported.", "The Wall Street Journal reported it.",
                 "He told Radio Free Europe.", "The Ramstein Contact Group met in Wiesbaden.",
                 "The United Kingdom and the European Union", "He told Reuters on Sunday."]:
        assert people(text) == set(), text


def test_which_city_wants_a_city_not_a_country():
    q = "Which city will host the leaders' summit?"
    assert expected(q) == "place"
    assert strength("The summit will be held in The Hague in June.", "place", q) == 1.0
    assert strength("Leaders will meet in Vilnius next year.", "place", q) == 1.0
    assert strength("The summit will be held in Lithuania.", "place", q) == 0.0  # a country is not a city
    assert strength("The United States will host the summit on Friday.", "place", q) == 0.0
    assert strength("During her trip to Kyiv, Baerbock said so.", "place", "Which city did Baerbock visit?") == 1.0


# ----- focus ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("question, noun", [
    ("What agreement came out of the meeting?", "agreement"),
    ("How many casualties has Russia suffered?", "casualties"),
    ("How many German soldiers are going to Lithuania?", "soldiers"),
    ("What kind of peace does Kyiv want?", "peace"),
    ("What new sanctions did the EU adopt?", "sanctions"),
    ("What is the name of the German brigade in Lithuania?", "brigade"),
    # the answer's category is not looked for in the evidence: it names the country, not "country"
    ("Which country left the convention?", None),
    ("Which think tank does the analyst work for?", None),
    ("What level of spending did Rubio ask for?", None),
    # verbs and auxiliaries after "what" are not nouns
    ("What makes Germany's deployment historic?", None),
    ("What happened in Brussels?", None),
    ("What did Barrot demand?", None),
    ("Who chaired the meeting?", None),
])
def test_focus_is_the_noun_asked_about(question, noun):
    from rag.qtypes import focus

    assert focus(question) == noun


def test_the_name_of_a_person_is_a_person_question():
    assert expected("What is the name of the Oslo-based analyst who spoke to the BBC?") == "person"
    assert expected("What is the name of the German brigade?") == "name"  # a brigade is not a person


def test_a_country_answers_who_but_not_which_analyst():
    sentence = "An analyst told the BBC that Russia would not stop."
    assert strength(sentence, "person", "Who said the war would not stop?") == 0.5
    assert strength(sentence, "person", "Which analyst said Russia would not stop?") == 0.0
    assert strength(sentence, "person", "What is the name of the analyst who spoke to the BBC?") == 0.0


def test_what_year_wants_a_year():
    q = "By what year should allies reach the target?"
    assert strength("Allies should reach it by 2032.", "date", q) == 1.0
    assert strength("Allies met in recent days and agreed to reach it.", "date", q) == 0.0


def test_the_name_of_a_thing_wants_a_proper_name():
    q = "What is the name of the Dutch battalion sent to Latvia?"
    assert expected(q) == "name"
    assert strength("The battalion, known as Task Force Orange, arrived on Monday.", "name", q) == 1.0
    # places, days, titles and people's names do not name a battalion
    assert strength("On Monday, Berlin sent 800 soldiers to Latvia, Colonel Jan Visser said.", "name", q) == 0.0
    # an office of any field before a person's name marks a person, not the name asked for
    q = "What is the name of the club's new stadium?"
    assert strength("Chelsea manager Jose Mourinho praised it.", "name", q) == 1.0  # Chelsea is a name
    assert strength("The plans were praised by chairman Peter Kenyon on Monday.", "name", q) == 0.0


def test_who_was_the_official_is_not_answered_by_a_country():
    sentence = "Even Washington doubts that Moscow is serious."
    assert strength(sentence, "person", "Who doubts that Moscow is serious?") == 0.5
    assert strength(sentence, "person", "Who was the US official who doubted Moscow?") == 0.0


@pytest.mark.parametrize("question", [
    "Which country's prime minister announced the withdrawal?",  # a category, possessive or not
    "What warning did Sikorski give after the meeting?",  # the evidence quotes a warning, not the word
    "Which entity is the second legislative body?",  # the evidence names the body, not "entity"
    "Which team won the championship in 2000?",
])
def test_categories_of_answers_are_not_the_focus(question):
    from rag.qtypes import focus

    assert focus(question) is None


def test_which_villages_wants_a_local_name_not_a_country():
    q = "Which villages in the Kursk region did the troops reach?"
    assert expected(q) == "place"
    assert strength("The troops reached Sudzha and Plekhovo on Monday.", "place", q) == 1.0
    assert strength("A Finland-based analyst said Ukrainian troops reached several villages.", "place", q) == 0.0


@pytest.mark.parametrize("question, noun", [
    ("Which international convention did Finland leave?", "convention"),  # past the adjective
    ("What military aid did Berlin pledge?", "aid"),
    ("What official said so?", None),
    ("What proposal came from Moscow?", "proposal"),
    ("What length of ceasefire did Kyiv accept?", None),  # a measure
])
def test_focus_skips_adjectives_and_measures(question, noun):
    from rag.qtypes import focus

    assert focus(question) == noun


def test_which_research_fellow_is_a_person_question():
    from rag.qtypes import focus

    q = "Which Quincy Institute research fellow said the West lacks leverage?"
    assert expected(q) == "person" and focus(q) is None


def test_the_value_of_a_deal_wants_money():
    q = "What is the estimated value of the minerals deal?"
    assert expected(q) == "number"
    assert strength("The deal is worth $500 billion, officials said.", "number", q) == 1.0
    assert strength("Kyiv rejected the draft for the third time in 30 days.", "number", q) == 0.0


def test_a_stretch_of_days_is_not_a_when():
    q = "When are the tariffs due to take effect?"
    assert strength("Now, after several days of silence, Rubio came to Brussels.", "date", q) == 0.0
    assert strength("The tariffs take effect next week.", "date", q) == 0.5


def test_a_date_is_not_a_count():
    q = "How many foreign ministers attended the meeting?"
    assert strength("Ministers met in Brussels on April 4, 2025.", "number", q) == 0.0
    assert strength("Ministers from 32 countries met in Brussels on April 4.", "number", q) > 0
