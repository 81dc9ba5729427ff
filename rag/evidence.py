"""Choose the evidence sentences the model sees, and the language tests abstention uses on them (which
names the evidence lacks, how much of the question the collection covers); rag/checks.py decides."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from rag import qtypes
from rag.chunking import split_sentences
from rag.citations import Source
from rag.grounding import NOT_NAMES, names
from rag.injection import flagged, is_instruction, overlaps  # noqa: F401 (is_instruction: re-exported)
from rag.lexical import tokenize
from rag.pertinence import QUOTATION, WHY, Corpus
from rag.places import canonical, fold, unaccented
from rag.places import mentions as place_mentions
from rag.question import Question
from rag.roles import Roles, without_roles
from rag.schema import Document, Passage, Sentence
from rag.weights import CheckThresholds

MAX_SOURCES = 4
REPEAT_SHARE = 0.8  # set by hand: a sentence repeats another when this share of the shorter one's words is in it
DATELINE_CHARS = 200    # where an article names the place it was filed from ("Brussels, April 4 (EFE)")
LOOKBACK_SENTENCES = 3  # how far back a person the evidence calls "he" or "she" may be named
_FIRST_WORD = re.compile(r"^\W*\w+")
_WORD_PAIR = re.compile(r"(?=\b([A-Z][\w’']*)\s+([A-Za-z][\w’']*))")  # every capitalised word and the next
_THIRD_PERSON = re.compile(r"\b(he|she|his|her|him)\b", re.I)
# "according to the Responsible Statecraft piece" names an outlet, not what the question is about.
_SOURCE_REF = re.compile(r"\b(according to|in|from|by)\s+(the\s+|an?\s+)?([A-Z][\w’'\-]*\s+){1,4}"
                         r"(piece|report|article|story|coverage|account|dispatch|analysis|interview)\b")
# Adjectives of regions: "Which Nordic country" describes the answer; the article names Finland.
_REGIONS = {"nordic", "baltic", "scandinavian", "balkan", "western", "eastern", "northern", "southern", "central",
            "european", "asian", "african", "arab", "latin", "slavic", "mediterranean", "atlantic", "arctic",
            "pacific", "caucasian", "caspian", "west", "east", "north", "south"}


def select(question: str, query: str, passages: list[Passage], limit: int = MAX_SOURCES) -> list[Source]:
    """The best sentences across passages, best first, skipping repeats of the same words."""
    ranked = sorted(((s, p) for p in passages for s in p.sentences), key=lambda sp: -sp[0].score)
    chosen: list[Source] = []
    seen: list[set[str]] = []
    for sentence, passage in ranked:
        words = set(tokenize(sentence.text))
        if repeats(words, seen):
            continue
        chosen.append(Source(passage=passage, sentence=sentence))
        seen.append(words)
        if len(chosen) == limit:
            break
    return chosen


def repeats(words: set[str], seen: list[set[str]]) -> bool:
    """A sentence whose words are mostly (REPEAT_SHARE) those of one already chosen says it again: the
    sentence two overlapping passages share, or one wire story filed twice."""
    return any(len(words & w) >= REPEAT_SHARE * min(len(words), len(w) or 1) for w in seen)


def as_written(missing: list[str], question: str) -> list[str]:
    """Missing words the question writes side by side, rejoined for a reason's message: 'Super Bowl', not
    'Super' and 'Bowl' (`missing_names` finds them word by word)."""
    out: list[str] = []
    for name in missing:
        if out and re.search(rf"\b{re.escape(out[-1])}\s+{re.escape(name)}\b", question):
            out[-1] = f"{out[-1]} {name}"
        else:
            out.append(name)
    return out


def missing_names(question: str, passages: list[Passage] | list[str]) -> list[str]:
    """Names in the question that no retrieved passage mentions in any form."""
    texts = [p if isinstance(p, str) else p.chunk.text for p in passages]
    words = {w for t in texts for w in _words(t)}
    # Acronyms (US, EU) are written too many ways, and too often left out, to count as missing.
    missing = [written for written, place in place_mentions(question)
               if place not in words and not (len(written.replace(".", "")) <= 3 and written.isupper())]
    rest = _SOURCE_REF.sub(" ", question)  # "according to the Responsible Statecraft piece" names no content
    for written, _ in place_mentions(question):
        rest = rest.replace(written, " ")
    # The first word is capitalised anyway (and typed "WHat" at times): it names nothing for sure.
    found = names(_FIRST_WORD.sub(lambda m: m.group().lower(), rest, count=1) if rest.startswith(question[:1])
                  else rest)
    words |= {part for w in words for part in w.split("-")}  # "Jean-Noël" holds "Noël"
    words |= {unaccented(w) for w in words}  # and "Noel"
    joined = _written_joined(rest, words)
    parts = {part for n in found for part in n.split("-") if part[:1].isupper()}  # Ramstein-format
    for name in sorted(parts, key=lambda p: (rest.find(p), p)):  # in the question's order, run after run
        if name in joined:
            continue  # "Apple Talk" where the article writes "AppleTalk"
        if _first_name_of_present(name, rest, words):
            continue  # "Mark Rutte" where the article says "Rutte"
        if len(name) <= 3 and name.isupper():
            continue  # acronyms are written too many ways (U.S., United States) to check by spelling
        if name.lower() in _REGIONS:
            continue  # "Which Nordic country": a description of the answer, not a name to find
        if not any(any(w.startswith(f) for w in words) for f in name_forms(name) | {unaccented(name.lower())}):
            missing.append(name)
    return missing


def on_point_first(question: Question, sources: list[Source], corpus: Corpus,
                   misses_point: Callable[[Source], bool], limits: CheckThresholds | None = None) -> list[Source]:
    """The sources, the best one widened where the question needs a neighbour. When the best never
    mentions the thing a "what/which NOUN" question asks about ("which trap ...") and one of the next
    few names it outright, and `misses_point` finds nothing wrong with it, that one leads instead."""
    limits = limits or CheckThresholds()
    if not sources:
        return sources
    best = widen(sources[0], question.text, corpus.document(sources[0].passage.doc_id))
    noun = question.focus
    if noun and corpus.resemblance(noun, best.text) < limits.min_resemblance:
        for i, s in enumerate(sources[1 : limits.promote_within], 1):
            s = widen(s, question.text, corpus.document(s.passage.doc_id))
            if corpus.resemblance(noun, s.text) == 1.0 and not misses_point(s):
                return [s] + [x for j, x in enumerate(sources) if j != i]
    elif question.kind and qtypes.strength(best.text, question.kind, question.text) == 0:
        # "How many countries ..." and the best sentence holds no number: the next that holds a number of
        # countries (and passes the point checks) leads, as the one naming a "what NOUN" question's noun
        # does above. Any number at all would not do: "How many civil servants walked out?" would then lead
        # with a sentence giving some other count, and read as answered when it is not.
        for i, s in enumerate(sources[1 : limits.promote_kind_within], 1):
            s = widen(s, question.text, corpus.document(s.passage.doc_id))
            if qtypes.strength(s.text, question.kind, question.text) == 1 and not misses_point(s):
                return [s] + [x for j, x in enumerate(sources) if j != i]
    return [best] + sources[1:]


def coverage(question: str, corpus: Corpus) -> float:
    """Share of the question's words (weighted by rarity) that occur anywhere in the collection."""
    weights = {t: corpus.idf(t) for t in dict.fromkeys(tokenize(question))}
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if corpus.known(t)) / total if total else 1.0


# A name of more than one word: capitalised words, with the particles names keep inside them ("Tamara de
# Lempicka", "University of Michigan"). A rule of English spelling, not a list of names.
_NAME_PARTICLE = r"(?:of|de|da|di|del|der|van|von|la|le|du|al|bin)"
_NAME_RUN = re.compile(rf"[A-Z][\w’'\-.]*(?: (?:{_NAME_PARTICLE} )?[A-Z][\w’'\-.]*)+")  # one space apart
_NAME_EDGE = re.compile(rf"^(?:(?:{_NAME_PARTICLE}|{'|'.join(sorted(NOT_NAMES))})\s+)+|\s+{_NAME_PARTICLE}$")
_POSSESSIVE_END = re.compile(r"['’]s?$")
_INITIAL = r" (?:[a-z]\.? )?"  # between two words of a name, as written: "George W. Bush" is George Bush
_CASED = re.compile(rf"\b(?!{_NAME_PARTICLE}\b)[a-z]")  # a word in lower case: the capitals mean something


def split_names(question: str, passages: list[Passage] | list[str]) -> list[str]:
    """Names of more than one word that the question writes and no passage found writes whole, though
    they write its words: "Tamara de Maria" against "Tamara de Lempicka ... born Maria Górska", "the
    Miasta City Council" against "Warsaw City Council (Rada Miasta)", "Donald Davis" against "Donald
    Davies". The words of a name in another order or company name someone else. A name whose last word
    the passages write and whose first words they leave out ("Mark Rutte" against "Rutte") is the same
    one shortened, and one none of whose words they write is `missing_names`' to find. Places and
    offices are left out first ("US Secretary of State" is no name to find whole), and so is the
    question's first word, capitalised anyway."""
    if not _CASED.search(question.split(None, 1)[-1]):
        return []  # "WHAT DID GEORGE BUSH SAY", "What Did He Say": capitals that mark no name
    texts = [p if isinstance(p, str) else p.chunk.text for p in passages]
    pool = _spelled(" ".join(texts))
    capitalised = {_spelled(w) for w in re.findall(r"\b[A-Z][\w\-]*", " ".join(texts).replace("’", "'"))}
    asked = _SOURCE_REF.sub(" | ", question)
    asked = _FIRST_WORD.sub(lambda m: m.group() if m.group().strip().isupper() else " | ", asked, count=1)
    for written, _ in place_mentions(asked):
        asked = re.sub(rf"\b{re.escape(written)}(?:['’]s)?\b", " | ", asked)
    asked = without_roles(asked)
    split = []
    for m in _NAME_RUN.finditer(asked):
        name = _NAME_EDGE.sub("", m.group()).rstrip(".")
        parts = [_spelled(_POSSESSIVE_END.sub("", w)) for w in name.split()
                 if not re.fullmatch(_NAME_PARTICLE, w)]
        if len(parts) < 2:
            continue
        whole = _spelled(_POSSESSIVE_END.sub("", name))
        written = _INITIAL.join(re.escape(_stem(w)) + r"\w*" for w in whole.split())
        if whole.replace(" ", "") in pool or re.search(rf"\b{written}\b", pool):
            continue  # written whole, with a middle initial ("George W. Bush"), or as one word ("AppleTalk")
        present = [any(c.startswith(_stem(w)) for c in capitalised) for w in parts]
        if any(present) and (all(present) or not present[-1]):
            split.append(name)
    return split


def _stem(word: str) -> str:
    """A name word without a last vowel, so spellings that only lengthen it are the same name ("Zelensky",
    "Zelenskyy", "Zelenskiy"; "Russia", "Russian"): `name_forms` and `split_names` match by it."""
    return word[:-1] if len(word) > 4 and word[-1] in "aeiouy" else word


def _spelled(text: str) -> str:
    """Lower case, plain quotes and hyphens as spaces, accents off, possessives dropped: how a name is
    compared, not how it is shown."""
    text = unaccented(text.replace("’", "'")).lower().replace("-", " ")
    return " ".join(re.sub(r"'s\b", "", text).split())


def focus_missing(question: str, source: Source, idf: Callable[[str], float], roles: Roles | None = None,
                  document: Document | None = None,
                  resolved: list[tuple[tuple[int, int], list[str]]] | None = None,
                  min_idf: float = CheckThresholds().focus_idf) -> list[str]:
    """The question's uncommon names (idf at least `min_idf`) that the best evidence's own passage does
    not mention. A name found all over the collection ("Ukraine" in articles about Ukraine) is its backdrop and may go
    unsaid; a rarer one ("Poland's spending", "the United Kingdom's pledge") is what the question is
    about, and evidence that never mentions it answers some other question. With the article at hand,
    its dateline place ("Brussels, April 4 (EFE)") is backdrop too, and a person the evidence calls
    "he" or "she" may be named a few sentences before. `resolved` is `roles.resolve(question)` when
    already worked out."""
    if resolved is None:
        resolved = roles.resolve(question) if roles else []
    asked = question
    for (start, end), _ in sorted(resolved, reverse=True):
        asked = asked[:start] + " " + asked[end:]  # "France's foreign minister" stands for a person
    asked = without_roles(asked)
    missing = missing_names(asked, [source.passage.chunk.text, source.text])
    missing = [m for m in missing if not _acronym(m) and _rarity(m, idf) >= min_idf]
    if missing and document is not None:
        dateline = _words(document.title + " " + document.text[:DATELINE_CHARS])
        before = _words(" ".join(_preceding(document, source, LOOKBACK_SENTENCES)))
        refers_back = bool(_THIRD_PERSON.search(source.text))
        missing = [m for m in missing
                   if not any(f in dateline for f in name_forms(m))
                   and not (refers_back and not canonical(m) and m.lower() in before)]
    return missing


def _preceding(document: Document, source: Source, n: int) -> list[str]:
    spans = [sp for sp in _sentences(document.text) if sp[1] <= source.sentence.start]
    return [document.text[s:e] for s, e in spans[-n:]]


def _acronym(name: str) -> bool:
    return name.replace(".", "").isupper()


def _rarity(name: str, idf: Callable[[str], float]) -> float:
    tokens = tokenize(name)
    return max((idf(t) for t in tokens), default=0.0)


def shares_name(question: str, text: str) -> bool:
    words = _words(text)
    return any(n.lower() in words for n in names(question[1:]) if not canonical(n) and len(n) > 3)


def confident(sources: list[Source], at: float = CheckThresholds().confident_sentence) -> bool:
    """Strong enough evidence to answer extractively even when the model says it cannot."""
    return bool(sources) and sources[0].sentence.score >= at


def name_forms(name: str) -> set[str]:
    n = name.lower()
    forms = {n, _stem(n)}  # Germany -> German, Estonia -> Estonian, Russia -> Russian
    place = canonical(name)
    if place:
        forms.add(place)  # Britain -> britain, matched against folded text
    return forms


def _written_joined(question: str, words: set[str]) -> set[str]:
    """The question's capitalised words that, with the word after them, the passages write as one word:
    "Apple Talk" for "AppleTalk", "Play Station" for "PlayStation", "Drop box" for "Dropbox"."""
    found: set[str] = set()
    for first, second in _WORD_PAIR.findall(question):
        if (first + second).lower() in words:
            found |= {first, second}
    return found


def _first_name_of_present(name: str, question: str, words: set[str]) -> bool:
    """A first name followed in the question by a surname the passages hold."""
    m = re.search(rf"\b{re.escape(name)}\s+([A-Z][\w’'\-]+)", question)
    return m is not None and unaccented(m.group(1).lower().removesuffix("’s").removesuffix("'s")) in words


def _words(text: str) -> set[str]:
    """Lower-cased words with places folded, so "British" in a passage answers "Britain" in a question."""
    return {w.strip(".,;:!?\"“”’'()").lower().removesuffix("’s").removesuffix("'s") for w in fold(text).split()}


# ----- context: the sentence next door ------------------------------------------------------------
# A sentence often leans on its neighbour: the quote is here, the speaker in the sentence before ("He
# said ..."); the claim is here, the reason in the next one. When the best sentence lacks what the
# question asks for and its neighbour has it, the two are quoted together.
MAX_WIDENED_CHARS = 480
_SAYING = re.compile(r"\baccording to\b|\b(say|said|says|demand\w*|warn\w*|urg\w*|ask\w*|call\w* for|stress\w*|"
                     r"insist\w*|want\w*|tell|told|argu\w*|describ\w*|criticis\w*|criticiz\w*|accus\w*|claim\w*)\b",
                     re.I)
_ELABORATES = re.compile(r"^(namely|specifically|in particular|that is|in other words|i\.e\.)\b", re.I)
_OPENS_QUOTE = re.compile(r"^[\"“‘']")
_GOES_ON = re.compile(r"^[\"“‘']?(he|she|they)\s+(also\s+)?(said|added|says|adds|stressed|warned|noted|insisted|"
                      r"explained|argued|told|urged)\b", re.I)
# A sentence whose speaker is named elsewhere: a bare quote, or "he"/"she". "A Finland-based analyst told
# Newsweek ..." has its own, unnamed, subject: the name in an earlier sentence is someone else's.
_REFERS_BACK = re.compile(r"^\s*[\"“‘']|" + _THIRD_PERSON.pattern, re.I)
_WHOLE_QUOTE = re.compile(r"^\s*(“[^”]+”|\"[^\"]+\")\s*$")  # a sentence that is all quote, no speaker named


def widen(source: Source, question: str, document: Document) -> Source:
    """The source, with the sentence before or after it when that one holds what the question asks for."""
    spans = _sentences(document.text)
    s0, e0 = source.sentence.start, source.sentence.end
    after = next((sp for sp in spans if sp[0] >= e0), None)
    text = document.text
    kind = qtypes.expected(question)
    pick = None
    if kind and qtypes.strength(source.text, kind, question) < 1 and (
            kind != "person" or _REFERS_BACK.search(source.text)):
        pick = _holder(text, spans, (s0, e0), kind, question)
    if pick is None and after and WHY.search(question) and (_same_paragraph(text, after, (s0, e0))
                                                             or _same_speaker(source.text, text[after[0] : after[1]])):
        pick = after
    if pick is None and after and _SAYING.search(question) and (
            _continues(source.text, text[after[0] : after[1]])
            or (_same_paragraph(text, after, (s0, e0)) and _WHOLE_QUOTE.match(text[after[0] : after[1]]))):
        pick = after  # the same person goes on: "They need to answer. Yes or no," Barrot stressed.
    if pick is None and after and _same_paragraph(text, after, (s0, e0)) \
            and _ELABORATES.match(text[after[0] : after[1]]):
        pick = after  # "... a third party take control. Namely, the Russians want ..." spells it out
    if pick is None or overlaps(list(flagged(text)), *pick):
        return source  # a neighbour that gives orders is no context
    if kind == "person" and pick[1] <= s0 and e0 - pick[0] > MAX_WIDENED_CHARS:
        pick = (_from_last_name(text, pick), pick[1])  # "..., Mark Episkopos, a research fellow ..., told RS."
    start, end = min(s0, pick[0]), max(e0, pick[1])
    if end - start > MAX_WIDENED_CHARS:
        return source
    chunk = source.passage.chunk
    c_start, c_end = min(chunk.start, start), max(chunk.end, end)
    wider = chunk.model_copy(update={"start": c_start, "end": c_end, "text": text[c_start:c_end]})
    passage = source.passage.model_copy(update={"chunk": wider})
    sentence = Sentence(text=text[start:end], start=start, end=end, score=source.sentence.score)
    return Source(passage=passage, sentence=sentence)


def _holder(text: str, spans: list[tuple[int, int]], cur: tuple[int, int], kind: str,
            question: str) -> tuple[int, int] | None:
    """The neighbour that holds the wanted kind. A person is looked for up to two sentences back, across
    a paragraph break too ("He said ..." opens a paragraph; the name is in the one before)."""
    i = next((n for n, sp in enumerate(spans) if sp[0] >= cur[0]), 0)
    before = [spans[j] for j in (i - 1, i - 2) if j >= 0]
    after = [spans[i + 1]] if i + 1 < len(spans) and spans[i + 1][0] >= cur[1] else []
    if kind == "person":
        candidates = before
    else:
        candidates = [sp for sp in after + before[:1] if _same_paragraph(text, sp, cur)]
    return next((sp for sp in candidates if qtypes.strength(text[sp[0] : sp[1]], kind, question) == 1), None)


def _from_last_name(text: str, span: tuple[int, int]) -> int:
    """Where the last person named in a sentence before the evidence is first written: the quote can
    start there instead of at that sentence's own start, which may be a long quote of its own."""
    sentence = text[span[0] : span[1]]
    found = [sentence.rfind(name) for name in qtypes.people(sentence)]
    return span[0] + max(found) if found and max(found) >= 0 else span[0]


def _continues(first: str, second: str) -> bool:
    return bool(_GOES_ON.match(second)) or bool(_OPENS_QUOTE.match(second) and _same_speaker(first, second))


@lru_cache(maxsize=256)
def _sentences(text: str) -> list[tuple[int, int]]:
    return split_sentences(text)


def _same_paragraph(text: str, a: tuple[int, int], b: tuple[int, int]) -> bool:
    lo, hi = min(a[1], b[1]), max(a[0], b[0])
    return "\n" not in text[min(lo, hi) : max(lo, hi)]


def _same_speaker(first: str, second: str) -> bool:
    """The second sentence is attributed to a person the first one names: the surname appears in it
    outside quotation marks ("...quickly," Barrot stressed), not merely inside a quote."""
    surnames = {p.split()[-1] for p in qtypes.people(first)} | {n for n in names(first[1:]) if len(n) > 3}
    narration = QUOTATION.sub(" ", second)
    return any(re.search(rf"\b{re.escape(s)}\b", narration) for s in surnames if not canonical(s))
