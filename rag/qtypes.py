"""What kind of answer a question wants (a person, a number, a date, a place), and how clearly a piece of
text holds one, so evidence and answers that cannot be of that kind rank lower. Classic
question-answering typing from the question's wording; no knowledge of any article."""

from __future__ import annotations

import re

from rag.grounding import names, numbers
from rag.lexical import MONTH_NAMES, WEEKDAY_NAMES, tokenize
from rag.places import CAPITALS, canonical
from rag.places import mentions as place_mentions
from rag.roles import OFFICES

# Nouns for people in the news of any subject: government, business, sport, the arts, science, the courts.
_PERSON_NOUNS = (r"(official|minister|leader|general|envoy|spokes\w*|president|secretary|diplomat|head|chief|"
                 r"politician|person|man|woman|member|analyst|commander|negotiator|ambassador|chancellor|premier|"
                 r"expert|journalist|reporter|author|researcher|fellow|scholar|professor|economist|historian|"
                 r"scientist|adviser|advisor|aide|lawmaker|senator|congressman|congresswoman|mp|general|admiral|"
                 r"colonel|officer|soldier|activist|lawyer|judge|prosecutor|mayor|governor|candidate|"
                 r"coach|manager|player|striker|goalkeeper|defender|midfielder|captain|skipper|athlete|champion|"
                 r"boxer|golfer|cyclist|swimmer|runner|sprinter|chairman|chairwoman|executive|ceo|founder|owner|"
                 r"entrepreneur|investor|banker|director|producer|actor|actress|singer|musician|rapper|artist|"
                 r"writer|novelist|poet|composer|designer|presenter|comedian|star|doctor|surgeon|teacher|student|"
                 r"victim|suspect|witness|employee|worker|boss|engineer|inventor|philosopher|king|queen|emperor|"
                 r"pope|bishop|priest)s?")
_WHO_PERSON = re.compile(rf"^\s*who\s+(is|was|are|were)\s+the\s+([\w.’'\-]+\s+){{0,3}}?{_PERSON_NOUNS}\b", re.I)
_PERSON = re.compile(r"^\s*(who|whom|whose)\b|^\s*(which|what)\s+((?!(?:does|did|do|is|are|was|were|has|have|had)\b)"
                     rf"\w+\s+){{0,3}}{_PERSON_NOUNS}\b|"
                     rf"\bnames?\s+of\s+(the|a|an|this|that)\s+([\w’'\-]+\s+){{0,3}}{_PERSON_NOUNS}\b", re.I)
_NUMBER = re.compile(r"\bhow\s+(many|much|big|large|long|old|far|soon|high)\b|\bwhat\s+(percentage|share|level|"
                     r"number|amount|age|ages|range|size|proportion|sum|figure)\b|\bby how\b|\bwhat\s+\w+\s+of\s+GDP|"
                     r"\bwhat\s+(is|was|are|were|would be)\s+the\s+(\w+\s+)?(value|cost|price|worth)\b", re.I)
# "What is the estimated value of the deal?" wants money, not any number.
_VALUE_Q = re.compile(r"\b(value|cost|price|worth)\b", re.I)
_LOCAL_Q = re.compile(r"\b(which|what)\s+((?!(?:is|are|was|were|did|does|do)\b)[\w’'\-]+\s+){0,2}?"
                      r"(village|villages|district|districts|province|provinces|region|regions)\b|"
                      r"\bin which\s+(\w+\s+)?(village|district|province|region)\b", re.I)
_CITY_Q = re.compile(r"\b(which|what)\s+(city|town|capital)\b|\bin which (city|town)\b", re.I)
_DATE = re.compile(r"^\s*when\b|\b(what|which)\s+(date|day|month|year|time)\b|\bon what (date|day)\b", re.I)
_PLACE_NOUNS = (r"(city|cities|country|countries|region|regions|capital|capitals|town|towns|village|villages|"
                r"province|provinces|district|districts|place|places|nation|nations|state|states)")
# "Which NATO countries ...", "which Belgorod villages": up to two words may qualify the place noun.
_PLACE = re.compile(r"^\s*where\b|\b(which|what)\s+((?!(?:is|are|was|were|did|does|do|has|have|had|will|would)\b)"
                    rf"[\w’'\-]+\s+){{0,2}}?{_PLACE_NOUNS}\b|\bin which\s+(\w+\s+)?{_PLACE_NOUNS}\b", re.I)
# A bare "where" may be answered by any phrase of place, named or not ("in the condenser", "at his monthly
# news conference"): a locative preposition and a determiner before a noun that is not a span of time.
_WHERE_Q = re.compile(r"^\s*where\b", re.I)
_TIME_NOUNS = (r"(time|times|moment|past|future|end|start|beginning|meantime|meanwhile|run|long|short|event|case|"
               r"wake|face|light|hope|way|process|course|years?|months?|weeks?|days?|morning|afternoon|evening|"
               r"night|season|period|centur(y|ies)|decades?|coming|last|next|first|same|latest|early|late|middle)")
_LOCATIVE = re.compile(r"\b(in|at|inside|within|near|outside|throughout|beside|across)\s+"
                       rf"(the|a|an|its|their|his|her|this|that|other|some|several)\s+(?!{_TIME_NOUNS}\b)[A-Za-z][\w\-]+",
                       re.I)
# Month names are matched capitalised only: "may" and "march" are verbs too.
_NAME_Q = re.compile(r"\bwhat\s+(is|was|are|were)\s+the\s+(\w+\s+)?names?\s+of\b", re.I)
_ROMAN = re.compile(r"[IVX]{1,4}")
_WHO = re.compile(r"^\s*(who|whom|whose)\b", re.I)
_MONTHS = "|".join(MONTH_NAMES) + "|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec"
_WEEKDAYS = f"(?i:{'|'.join(WEEKDAY_NAMES)})"
# A year before 1800 is written as a bare number too, so it is a year only where English marks one: after
# "in", "since", "the year" ... and not before a counted noun ("in 1041, Edward", not "in 300 cases"), or
# with an era ("AD 60", "55 BC"). Only the number is matched, so a question's year compares with the text's.
_YEAR_WORDS = ("in", "In", "year", "since", "Since", "until", "Until", "by", "By", "from", "From", "circa", "c.",
               "around", "before", "Before", "after", "After", "between", "Between")
_YEAR_MARK = "|".join(f"(?<=\\b{re.escape(w)} )" for w in _YEAR_WORDS)
# What may follow such a year in lower case ("in 1500 the city fell", "1066 saw"); any other lower-case word
# makes the number a count ("in 300 cases").
_FUNCTION_WORD = (r"(?:the|a|an|and|or|to|when|where|after|before|he|she|it|they|we|his|her|its|their|at|in|on|"
                  r"as|with|by|for|of|from|until|during|there|this|that|which|who|was|were|is|had|saw|led)\b")
_HISTORIC_YEAR = (rf"(?:{_YEAR_MARK})[1-9]\d{{2,3}}\b(?![\d,.]\d|\s*%|\s+(?!{_FUNCTION_WORD})[a-z])|"
                  r"\b[1-9]\d{0,3}(?=\s?(?:BC|BCE|AD|CE)\b)|(?<=\bAD )[1-9]\d{0,3}\b")
# "the 1060s", "the 11th century", "the tenth and eleventh centuries" say when, less exactly than a year.
_ERA = (r"\b[1-9]\d{2}0s\b|\b\d{1,2}(?:st|nd|rd|th)[\s-]centur(?:y|ies)\b|"
        r"(?i:\b(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|thirteenth|"
        r"fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|nineteenth|twentieth)[\s-]centur(?:y|ies)\b)")
EXACT_DATE = re.compile(rf"\b({_MONTHS})\.?\s+\d{{1,2}}\b|\b\d{{1,2}}\s+({_MONTHS})\b|\b(1[89]|20)\d\d\b|"
                         rf"\b\d{{4}}-\d\d-\d\d\b|\b{_WEEKDAYS}\b|{_HISTORIC_YEAR}|{_ERA}")
_YEAR_Q = re.compile(r"\b(what|which)\s+year\b", re.I)
_YEAR = re.compile(rf"\b(1[89]|20)\d\d\b|{_HISTORIC_YEAR}")
# "last month", "within weeks", "in two days" say when; "after several days in which ..." does not.
_VAGUE_DATE = re.compile(rf"\b({_MONTHS}|(?i:today|yesterday|tomorrow|soon|(last|next|this|coming|past|within|in|"
                         r"matter of|few|recent|earlier|later|two|three|four|five|six|ten|30|\d+)\s+"
                         r"(days?|weeks?|months?|years?)))\b")
_NUMBER_WORDS = re.compile(r"\b(one|two|three|four|five|six|seven|eight|nine|ten|dozen|dozens|hundred|hundreds|"
                           r"thousand|thousands|million|billion|trillion|half|double|percent|per cent|weeks|months)\b",
                           re.I)
_MONEY = re.compile(r"[$€£¥]\s?\d|\b\d[\d,.]*\s*(million|billion|trillion|bn|m)\b|\b(dollars|euros|pounds)\b", re.I)
_PERCENT = re.compile(r"\d\s?%|\bper\s?cent\b|\bpercent", re.I)
# "What did X demand / urge / call for?" wants what someone must or should do.
_DIRECTIVE_Q = re.compile(r"^\s*what\s+(did|does|do|has|have)\s+.{1,60}?\b"
                          r"(demand|urge|call\s+for|call\s+on|insist|ask\w*\s+.{1,40}?\bto\b)\w*", re.I)
_DIRECTIVE = re.compile(r"\b(must|need to|needs to|have to|has to|should|ought to|urg\w+|call\w* on|call\w* for|"
                        r"demand\w*|insist\w*|yes or no|without (any )?conditions|unconditionally)\b", re.I)
# "How many German soldiers are ..." counts soldiers: the noun phrase ends before the verb.
_HOW_MANY = re.compile(r"\bhow\s+many\s+((?:(?!(?:are|is|was|were|did|does|do|has|have|had|will|would|can|could|"
                       r"should|must|may|might)\b)[\w-]+\s*){1,3})", re.I)
# Capitalised words that name institutions, events and documents, not people.
_NOT_PEOPLE = {
    "convention", "treaty", "council", "ministry", "department", "group", "union", "nations", "alliance",
    "agreement", "summit", "meeting", "contact", "defense", "defence", "house", "office", "court", "party",
    "forces", "army", "media", "news", "institute", "agency", "commission", "parliament", "congress", "senate",
    "assembly", "organization", "organisation", "foundation", "university", "bank", "fund", "format", "post",
    "times", "journal", "press", "minister", "secretary", "president", "general", "foreign", "state", "see",
    "also", "war", "day", "prime", "deputy", "affairs", "security", "national", "federal", "republic", "kingdom",
    "states", "united", "european", "white", "north", "south", "east",
    "west", "central", "new", "world", "international", "monday", "tuesday", "wednesday", "thursday", "friday",
    "saturday", "sunday", "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december", "however", "meanwhile", "several", "recently", "indeed", "obviously",
    "europe", "asia", "africa", "america", "americas", "pacific", "atlantic", "arctic", "middle", "free",
    "the", "a", "an", "he", "she", "it", "they", "we", "i", "his", "her", "their", "its", "this", "that", "in", "on",
    "at", "by", "for", "and", "but", "or", "according", "after", "before", "when", "while", "if", "as", "so",
    # words that head the names of companies, clubs, competitions and awards
    "club", "fc", "city", "rovers", "athletic", "league", "cup", "championship", "championships", "olympics",
    "games", "open", "company", "corporation", "corp", "inc", "ltd", "plc", "airlines", "airways", "motors",
    "holdings", "industries", "records", "studios", "pictures", "festival", "awards", "prize", "museum",
    "hospital", "school", "college", "board", "authority", "exchange", "reserve", "index", "services",
    # news outlets and agencies, which news copy cites as often as people
    "cnn", "bbc", "reuters", "efe", "nbc", "abc", "cbs", "fox", "msnbc", "npr", "afp", "ap", "dpa", "ansa", "tass",
    "ria", "interfax", "jazeera", "newsweek", "guardian", "telegraph", "independent", "economist", "politico",
    "axios", "bloomberg", "associated", "wall", "street", "rfe", "rl", "radio", "liberty", "euronews", "dw",
    "welle", "spiegel", "monde", "figaro", "kyodo", "xinhua", "yonhap", "anadolu", "ukrinform", "pravda",
    "sky", "itv", "cnbc", "forbes", "nikkei", "cbc", "rte", "aap", "pti", "haaretz", "ft", "wsj",
    # ranks
    "brigadier", "colonel", "major", "lieutenant", "captain", "admiral", "sergeant", "commander", "marshal",
}
_CAPITALISED_RUN = re.compile(r"\b[A-Z][\w’'\-]*(?:\s+[A-Z][\w’'\-]*)+")
_POSSESSIVE = re.compile(r"['’]s$")
_OPENS_WITH_SPEAKER = re.compile(r"^[\"“]?([A-Z][\w’'\-]+)\s+(said|says|told|added|stressed|urged|warned|noted|"
                                 r"explained|insisted|argued|replied|wrote|tweeted|declared)\b")


def expected(question: str) -> str | None:
    if _DATE.search(question):
        return "date"
    if _NUMBER.search(question):
        return "number"
    if _DIRECTIVE_Q.search(question):
        return "directive"
    if _PERSON.search(question):
        return "person"
    if _PLACE.search(question):
        return "place"
    if _NAME_Q.search(question):
        return "name"
    return None


def strength(text: str, kind: str | None, question: str) -> float:
    """How clearly `text` holds something of the wanted kind that the question does not: 0, 0.5 or 1."""
    if kind is None:
        return 1.0
    if kind == "number":
        return _number_strength(text, question)
    if kind == "date" and _YEAR_Q.search(question):
        return 1.0 if _new(_YEAR, text, question) else 0.0  # "by what year": "in recent days" is no year
    if kind == "date":
        return 1.0 if _new(EXACT_DATE, text, question) else 0.5 if _new(_VAGUE_DATE, text, question) else 0.0
    if kind == "directive":
        return 1.0 if _DIRECTIVE.search(text) else 0.5
    if kind == "place" and _CITY_Q.search(question):
        return 1.0 if _cities(text) - {w.lower() for w in question.split()} else 0.0
    if kind == "place" and _LOCAL_Q.search(question):
        return 1.0 if _local_places(text, question) else 0.0
    if kind == "place":
        asked = {canonical(w) for w in question.split()} - {None}
        places = {canonical(w) for w in re.findall(r"[A-Z][\w.’']+", text)} - {None}
        # a place no list holds ("in St Etienne", "at Kirkcaldy") is still written as one
        if places - asked:
            return 1.0
        if _cities(text) - _words_of(question):
            return 0.5
        return 0.5 if _WHERE_Q.search(question) and _LOCATIVE.search(text) else 0.0  # an unnamed place
    if kind == "name":
        return 1.0 if _proper_names(text, question) else 0.0
    return _person_strength(text, question)


# An office (rag/roles.py), a rank or an honorific right before a name: "General Christoph Huber", "Chelsea
# manager Jose Mourinho", "Dr Jane Smith".
_TITLE_BEFORE = re.compile(rf"\b({OFFICES}|secretary|colonel|major|lieutenant|admiral|commander|chief|analyst|boss|"
                           r"mr|mrs|ms|dr|prof|sir|dame|lord|lady)\.?\s+$", re.I)
_SAYS_AFTER = re.compile(r"^['’]?s?,?\s+(said|says|told|tells|added|stressed|warned|noted|explained|wrote|tweeted)\b")


def _speakers_and_officials(text: str) -> set[str]:
    """People's names that a title precedes ("General Christoph Huber") or a verb of saying follows."""
    found = set()
    for name in people(text):
        for m in re.finditer(re.escape(name), text):
            if _TITLE_BEFORE.search(text[max(0, m.start() - 30) : m.start()]) or _SAYS_AFTER.match(text[m.end() :]):
                found.add(name)
    return found


def _proper_names(text: str, question: str) -> set[str]:
    """Capitalised words that can be part of a name the question does not give: not people's names,
    titles, bodies, places, days or roman numerals ("the Ramstein group", "Panzerbrigade 45")."""
    skip = _words_of(question) | CAPITALS  # a capital city names no brigade or group
    skip |= {w.lower() for p in _speakers_and_officials(text) for w in p.split()}  # nor does a person
    return _unknown_capitalised(re.findall(r"[A-Z][\w’'\-]*", text), skip, lambda p: bool(_ROMAN.fullmatch(p)))


def _local_places(text: str, question: str) -> set[str]:
    """Names that can be a village, district or region: capitalised words that are not a country or its
    people ("Finland-based", "Russian"), not a person, title, body or outlet, and not in the question."""
    skip = _words_of(question) | {w.lower() for p in people(text) for w in p.split()}
    return _unknown_capitalised(re.findall(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z][\w’'\-]*", text), skip)


def _words_of(question: str) -> set[str]:
    return {w.lower() for w in re.findall(r"[\w’'\-]+", question)}


def _unknown_capitalised(words: list[str], skip: set[str], also=lambda part: False) -> set[str]:
    """The capitalised words none of whose hyphenated parts is in `skip`, a title, body or outlet
    (_NOT_PEOPLE), a country or its people, or `also` ("Finland-based" is Finland's)."""
    found = set()
    for word in words:
        parts = [_POSSESSIVE.sub("", p) for p in word.split("-") if p]
        if not any(p.lower() in skip or p.lower() in _NOT_PEOPLE or canonical(p) or also(p) for p in parts):
            found.add(word)
    return found


def _cities(text: str) -> set[str]:
    """Names that can be a city: a known capital, or a capitalised word after "in", "at" or "to" that is
    not a country ("talks in Brussels", "her trip to Kyiv")."""
    found = {w.lower() for w in re.findall(r"[A-Z][\w’'\-]+", text) if w.lower() in CAPITALS}
    found |= {c for c in CAPITALS if " " in c and c in text.lower()}  # The Hague, New Delhi
    for m in re.finditer(r"\b(?:in|at|to|from)\s+([A-Z][a-z’'\-]+)", text):
        word = m.group(1)
        if word.lower() not in _NOT_PEOPLE and (canonical(word) is None or word.lower() in CAPITALS):
            found.add(word.lower())
    return found


def fits(text: str, kind: str | None, question: str) -> bool:
    """Does `text` hold something of the wanted kind that the question itself does not?"""
    return strength(text, kind, question) > 0


def people(text: str) -> set[str]:
    """Full names that look like people's: two or three capitalised words that are not titles, places,
    bodies or outlets ("NATO Secretary General Mark Rutte's" -> "Mark Rutte")."""
    found = set()
    for m in _CAPITALISED_RUN.finditer(text):
        words = [_POSSESSIVE.sub("", w) for w in m.group().split()]
        run: list[str] = []
        for w in words + [""]:  # a title, place or body ends a name; the sentinel flushes the last one
            if w and not (w.lower().strip("’'") in _NOT_PEOPLE or canonical(w)):
                run.append(w)
                continue
            if len(run) >= 2:
                found.add(" ".join(run[-3:]))
            run = []
    return found


def _person_strength(text: str, question: str) -> float:
    asked = {n.lower() for n in names(question)}
    if any(all(w.lower() not in asked for w in p.split()) for p in people(text)):
        return 1.0
    single = [n for n in names(text[1:]) | _speaker_first(text) if n.lower() not in asked and len(n) > 2
              and not canonical(n) and n.lower() not in _NOT_PEOPLE]
    # "Who chaired the meeting?" - "The United Kingdom did": a country or body can be the answer too,
    # but not to "which analyst" or "the name of the minister".
    asked_places = {canonical(w) for w in question.split()} - {None}
    who_body = _WHO.match(question) and not _WHO_PERSON.match(question)
    bodies = ({p for _, p in place_mentions(text)} - asked_places) | _bodies(text, question) if who_body else set()
    return 0.5 if single or bodies else 0.0


# Nouns that end the name of a body of people ("the European Commission", "the Labour Party", "Manchester
# United Football Club"): "Who proposes laws?" - "the Commission" answers it as a person would.
_BODY_HEADS = {"commission", "council", "parliament", "congress", "senate", "assembly", "government", "party",
               "union", "court", "committee", "ministry", "department", "agency", "authority", "board", "bank",
               "company", "corporation", "club", "team", "university", "college", "institute", "foundation",
               "association", "federation", "society", "church", "army", "navy", "police", "executive", "cabinet",
               "office", "group", "band", "orchestra", "league", "organisation", "organization", "tribunal"}
_BODY = re.compile(r"\b(?:[A-Z][\w’'\-]*\s+){0,4}[A-Z][\w’'\-]*")


def _bodies(text: str, question: str) -> set[str]:
    """Names of bodies of people in `text` that the question does not give: a capitalised run ending in a
    noun that heads such a name."""
    asked = _words_of(question)
    return {m.group(0) for m in _BODY.finditer(text)
            if m.group(0).split()[-1].lower() in _BODY_HEADS and {w.lower() for w in m.group(0).split()} - asked
            - {"the", "a", "an"}}


def _speaker_first(text: str) -> set[str]:
    """A sentence that opens with a name and a verb of saying ("Rutte said ...") names a person."""
    m = _OPENS_WITH_SPEAKER.match(text)
    return {m.group(1)} if m else set()


def _number_strength(text: str, question: str) -> float:
    text = EXACT_DATE.sub(" ", text)  # "April 4" and "2024" say when, not how many
    new = numbers(text) - numbers(question)
    if re.search(r"\bhow\s+much\b", question, re.I) and _MONEY.search(text):
        return 1.0
    if _VALUE_Q.search(question):
        return 1.0 if _MONEY.search(text) else 0.0
    if re.search(r"\b(percentage|share|proportion|level)\b|%|GDP", question, re.I) and _PERCENT.search(text):
        return 1.0
    head = _HOW_MANY.search(question)
    if head and new:
        wanted = set(tokenize(counted_noun(head.group(1))))
        for m in re.finditer(r"\d[\d,.]*", text):
            if wanted & set(tokenize(text[m.end() : m.end() + 40])[:3]):
                return 1.0
    if new:
        return 0.6
    return 0.4 if _NUMBER_WORDS.search(text) else 0.0


# Where the noun phrase after "how many" ends: a preposition or particle ("copies of Halo", "countries make
# up"), an adverb of time ("US Presidents once"), or a verb in the past ("civil servants walked out").
_PHRASE_END = re.compile(r"^(of|in|on|at|to|for|from|with|by|into|up|out|off|over|under|about|per|the|a|an|once|"
                         r"ever|still|now|currently|already|total)$|\w{2,}ed$", re.I)


def counted_noun(head: str) -> str:
    """The thing a "how many" question counts, from the (up to three) words after "how many": the first
    plural among them before the phrase ends ("Russian troops" counts troops, "countries belong to" and
    "countries make up" count countries), else its last word ("children", "MHC")."""
    words: list[str] = []
    for w in head.split():
        if words and _PHRASE_END.match(w):
            break
        words.append(w)
    plural = next((w for w in words if re.fullmatch(r"[A-Za-z][a-z]*[^sui\W]s", w)), None)
    return plural or (words[-1] if words else "")


def _new(pattern: re.Pattern[str], text: str, question: str) -> bool:
    asked = {m.group().lower() for m in pattern.finditer(question)}
    return any(m.group().lower() not in asked for m in pattern.finditer(text))


# ----- focus: the thing a "what/which NOUN" question asks about ---------------------------------------------
# "What agreement came out of the meeting?" asks about an agreement: evidence that never speaks of one
# (or of a deal, an accord) is about the meeting, not the answer. Nouns that only name the answer's
# category ("which country", "which think tank", "what level") are not looked for: the evidence names
# the country, not the word "country".
_AUX = r"(?:is|are|was|were|did|does|do|has|have|had|will|would|can|could|should|must|may|might)"
_FOCUS = re.compile(rf"\b(?i:what|which|how\s+many)\s+(?!{_AUX}\b)"
                    r"(?:(?i:kinds?|types?|sorts?|forms?)\s+of\s+)?((?:[A-Z][\w’'\-]*\s+)*)([a-z][\w’'\-]+)"
                    r"(?:\s+([\w’'\-]+))?")
_NAME_OF = re.compile(rf"\b(?i:what)\s+{_AUX}\s+the\s+(?:full\s+)?names?\s+of\s+(?:the\s+|a\s+|an\s+)?"
                      r"((?:[A-Z][\w’'\-]*\s+)*)([a-z][\w’'\-]+)(?:\s+([\w’'\-]+))?")
_CATEGORY = {
    "country", "countries", "nation", "nations", "state", "states", "city", "cities", "town", "capital", "region",
    "place", "side", "sides", "organisation", "organization", "organisations", "organizations", "publication",
    "newspaper", "outlet", "agency", "institute", "company", "party", "body", "group", "person", "people",
    "official", "officials", "member", "members", "ally", "allies", "minister", "ministers", "leader", "leaders",
    "general", "envoy", "diplomat", "president", "secretary", "spokesperson", "day", "days", "year", "years",
    "date", "month", "week", "time", "level", "range", "kind", "type", "name", "number", "percentage", "share",
    "amount", "age", "ages", "way", "thing", "things", "part", "word", "words", "term", "phrase", "figure",
    "title", "role", "news", "one", "ones", "think", "tank", "media", "network", "entity", "entities",
    "institution", "institutions", "team", "teams", "club", "clubs", "firm", "firms", "individual", "individuals",
    # what was said: the evidence quotes it rather than naming the act
    "warning", "warnings", "message", "statement", "remark", "remarks", "comment", "comments", "claim", "point",
    "argument", "view", "views", "response", "reply", "answer", "assessment", "line", "quote",
    # measures: "what length of ceasefire" wants a length
    "length", "duration", "period", "size", "scale", "extent", "proportion", "rate", "sum",
}
# Adjectives that say which one, not what: the noun after them is the focus.
_PLAIN_ADJECTIVES = {"new", "latest", "main", "first", "last", "other", "recent", "current", "next", "previous",
                     "big", "biggest", "major", "key", "possible", "specific", "particular", "exact", "total",
                     "additional", "further", "own", "top", "senior", "same", "different", "single", "two", "three"}
# Endings that mark an adjective before the noun it qualifies ("economic pressures", "military aid").
_ADJECTIVE = re.compile(r"(al|ic|ive|ous|ary|ian|ish|ful|less|able|ible)$")
_NOT_NOUNS = {"is", "are", "was", "were", "did", "does", "do", "has", "have", "had", "will", "would", "can", "could",
              "should", "must", "may", "might", "of", "to", "in", "on", "for", "with", "from", "by", "at", "about",
              "that", "which", "who", "and", "or", "said", "says", "made", "came", "went", "led", "told", "took"}
_DETERMINERS = {"the", "a", "an", "his", "her", "its", "their", "this", "that", "these", "those", "it", "them"}


def focus(question: str) -> str | None:
    """The noun a "what/which NOUN" question asks about, if it is more than the answer's category."""
    m = _NAME_OF.search(question) or _FOCUS.search(question)
    if not m or _PERSON.search(question):
        return None  # "which research fellow": a person, looked for as one
    word, after = m.group(2), m.group(3) or ""
    if word.lower() in _CATEGORY:
        return None
    if after[:1].islower() and after.lower() not in _NOT_NOUNS and not after.endswith("ed") and (
            word.lower() in _PLAIN_ADJECTIVES or _ADJECTIVE.search(word.lower())):
        word, after = after, ""  # "which international convention": the convention is asked about
    if after.lower() in _DETERMINERS or after[:1].isupper() or word.endswith("ed"):
        return None  # "What makes Germany's deployment historic?", "What happened": a verb, not a noun
    word, after = _POSSESSIVE.sub("", word), _POSSESSIVE.sub("", after)  # "which country's prime minister"
    if word.lower() in _CATEGORY or after.lower() in _CATEGORY:
        return None
    return word


# "Where will the next NATO summit take place?" is about that summit: a sentence about some other
# meeting is not its answer, however alike the two words are.
_EVENT = re.compile(r"^\s*(?:where|when|in which \w+|on what \w+)\b.*?\b([a-z]+)['’]?\s+(?:take place|be held|"
                    r"happen|convene|open|begin|start)\b", re.I)


def event(question: str) -> str | None:
    """The event a where/when question asks about ("summit"), if it names one."""
    m = _EVENT.search(question)
    return m.group(1) if m and m.group(1).lower() not in _CATEGORY | _DETERMINERS | _NOT_NOUNS else None

