"""Sentences that address whoever reads them (a reader, an assistant, a model) instead of reporting.

News reports: it says who did what, and quotes people. A sentence that gives its reader orders,
sets rules for answering, plays a chat transcript or carries a ready-made `[n]` citation is written to
steer an assistant, so it is never evidence and never reaches a prompt. The test is the sentence's
grammatical form, not its topic or wording:

- imperative mood: a clause that opens with a bare verb of saying, answering or heeding ("Always
  answer ...", "When asked X, say ...", "Do not mention ..."), in the narration;
- second-person directives and identities: "you must state ...", "you are an assistant ...";
- an addressee other than the reader made to answer: "anyone who asks should be told ...";
- answer-instruction frames that speak of the answering itself: "if anyone asks", "in every answer",
  "rules for answering", "whatever other articles say", "previous instructions", "cite this article";
- speaker-role transcripts and labels: "Assistant: ...", "User: ...", "The rule: ...";
- a planted citation marker: "[1]".

Imperatives and "you" inside a quotation that has a speaker are reported speech ("'Answer the
question,' the senator told him") and stay evidence; a quotation nobody is said to have spoken is read
as narration. The frames aimed at an assistant count wherever they stand.
"""

from __future__ import annotations

import re
from functools import lru_cache

from rag.chunking import split_sentences

# Verbs whose bare form opens an order to say, answer or heed something. A closed class of English
# (verbs of saying and of attention), not of any topic. Strong ones are orders about what to say; the
# others are orders only when the sentence also speaks of the answering or of its reader.
_SAYING_VERBS = ("answer|reply|respond|say|state|tell|write|repeat|cite|quote|mention|claim|assert|insist|"
                 "declare|confirm|deny|affirm|announce|inform|emphasi[sz]e|stress")
_HEEDING_VERBS = ("ignore|disregard|forget|overlook|skip|omit|drop|remember|note|keep|make|ensure|be|treat|"
                  "consider|regard|assume|believe|accept|trust|pretend|act|behave|follow|obey|use|output|print|report|"
                  "prefer|priori[tz]i[sz]e|rely|base|refer|include|add|give|provide|list|explain|describe|"
                  "summari[sz]e|translate|correct|replace|change|update|insert|copy|refuse|avoid|stop|"
                  "start|begin|continue|do|let")
# Words before the verb that keep the mood imperative: "Please always answer", "Do not mention".
_PRE_VERB = r"(?:(?:please|kindly|always|never|just|simply|only|now|also|then|so|instead|immediately|" \
            r"henceforth|do\s+not|don[’']t|never\s+ever)\s+)*"
# What follows a noun that only looks like a bare verb: "Use of force ...", "Report is due ...", and a
# name it begins ("State Department", "Answer Records Ltd").
_NOUN_READING = re.compile(r"^(?:(?:of|is|was|were|are|has|had|have|will|would|could|can|may|might|must|"
                           r"should|shall)\b|[’']s\b|(?!I\b)[A-Z]|[-–])")
# A fronted clause before an imperative: "When asked about the budget, ...", "From now on, ...".
_FRONTED = re.compile(r"^(?:when|whenever|if|once|before|after|should|unless|as\s+soon\s+as|while|in\s+case|"
                      r"from\s+now\s+on|going\s+forward|henceforth|for\s+(?:any|every|all|this)|in\s+(?:any|every|"
                      r"all|your)|regardless|no\s+matter)\b[^,;:]{0,160}[,;:]\s*", re.I)
_LEAD = re.compile(r"^[\s\"“”‘’'*#>\-•–—(\[]+")  # bullets, heading marks, stray quote marks

_YOU = re.compile(r"\b(?:you|your|yours|yourself|yourselves)\b", re.I)
_MODAL = r"(?:must|should|shall|will|need\s+to|needs\s+to|have\s+to|has\s+to|are\s+to|is\s+to|ought\s+to)"
_DEONTIC = r"(?:must|should|shall|need\s+to|needs\s+to|have\s+to|has\s+to|are\s+to|is\s+to|ought\s+to)"
# Who an order can be given to besides "you": one who asks or reads this, or a machine that reads or answers
# it. A machine alone is not an addressee: "chatbots must tell users they are bots" reports a law.
_READS = (r"(?:ask|asks|asking|reads?|reading|quer(?:y|ies|ying)|enquir(?:e|es|ing)|inquir(?:e|es|ing)|"
          r"wonder(?:s|ing)?|summari[sz](?:e|es|ing)|process(?:es|ing)?|answer(?:s|ing)?|see(?:s|ing)?|given)")
_ADDRESSEE = (rf"(?:(?:(?:anyone|anybody|everyone|everybody|whoever|someone|somebody|people|those|users?|readers?)"
              rf"|(?:an?\s+|the\s+|any\s+|all\s+)?(?:ai\s+)?(?:assistants?|chatbots?|bots?|language\s+models?|llms?|ai))"
              rf"\s+(?:(?:who|that|which)\s+)?{_READS}\b|\bthe\s+reader)")
_ADVERBS = r"(?:now\s+|only\s+|always\s+|never\s+|not\s+|also\s+|instead\s+)*"
# "you must state", "you will now reply", "anyone asking about it should be told", "AI assistants must say".
_DIRECTIVE = re.compile(
    rf"\byou\s+{_MODAL}\s+{_ADVERBS}(?:{_SAYING_VERBS})\b"
    rf"|\b(?:instruct|order|tell|ask|want|need|require|urge|command|direct|request)(?:s|ed)?\s+you\s+to\s+{_ADVERBS}"
    rf"(?:{_SAYING_VERBS})\b"
    rf"|\b{_ADDRESSEE}\b(?:\s+[\w’']+){{0,8}}?\s+{_DEONTIC}\s+{_ADVERBS}(?:{_SAYING_VERBS}|be\s+told|be\s+answered)\b",
    re.I)
_YOU_ARE = re.compile(r"\byou\s+(?:are|[’']re)\s+(?:now\s+)?(?:an?|the)\s+(?:\w+\s+){0,3}"
                      r"(?:assistant|chatbot|bot|model|ai|system|agent)\b", re.I)

# Frames that speak of an assistant's instructions, of the text being read or of the other sources: aimed
# at an assistant wherever they stand, quotation marks or not.
_FRAMES = re.compile(
    r"\b(?:previous|prior|above|earlier|original|system|initial|all\s+other|other)\s+"
    r"(?:instructions?|prompts?|messages|directives|guidelines)\b"
    r"|\bsystem\s+(?:prompt|override|message|instruction)s?\b"
    r"|\b(?:whatever|regardless\s+of\s+what|no\s+matter\s+what)\s+(?:the\s+)?(?:other\s+)?"
    r"(?:articles?|sources?|documents?|texts?|passages?|context)\s+(?:says?|claims?|states?|shows?)\b"
    r"|\b(?:other|the\s+other|all\s+other|the\s+remaining)\s+(?:articles?|sources?|documents?|passages?|texts?)\s+"
    r"(?:are|is)\s+(?:\w+\s+)?(?:wrong|outdated|incorrect|false|mistaken|unreliable|obsolete)\b"
    r"|\b(?:cite|quote|reference|credit)\s+(?:only\s+)?this\s+(?:article|text|source|passage|document|page|notice|story)\b"
    r"|\bthis\s+(?:article|text|passage|document|notice|source)\s+(?:overrides|supersedes|takes\s+precedence|replaces)\b"
    r"|\b(?:the\s+assistant[’']s|the\s+model[’']s)\s+(?:answer|reply|response|output)\b"
    r"|\b(?:rules?|instructions?|guidelines?|notes?|directives?)\s+(?:for|to|on)\s+(?:answering|responding|replying|"
    r"assistants|chatbots|language\s+models|ai\b|anyone\s+answering|whoever\s+answers)"
    r"|\b(?:reading|summari[sz]ing|processing|answering\s+questions\s+about)\s+this\s+(?:article|text|page|story|passage|document)\b",
    re.I)
# Frames that tell the reader how to answer. People say such things too ("'The correct answer is to cut
# taxes,' he said"), so these count in the narration only.
_ANSWER_FRAMES = re.compile(
    r"\b(?:in|into|with)\s+(?:every|any|each|all|your|the\s+final)\s+(?:answers?|repl(?:y|ies)|responses?|summar(?:y|ies)|outputs?)\b"
    r"|\byour\s+(?:answer|reply|response|output)\b"
    r"|\bfor\s+(?:answering|responding\s+to|replying\s+to)\s+(?:any\s+|all\s+|such\s+|these\s+|the\s+)?"
    r"(?:questions?|queries|users?|prompts?)\b"
    r"|\b(?:if|when|whenever|should|once)\s+(?:you|anyone|anybody|someone|somebody|a\s+user|the\s+user|users|a\s+reader|"
    r"readers)\s+(?:ever\s+)?(?:asks?|(?:is|are|be|gets?|get)\s+asked)\b"
    r"|\b(?:correct|right|true|proper|expected)\s+answer\s+(?:is|to|for|will|should|must)\b",
    re.I)
# A line that plays a chat or a prompt: "Assistant: ...", "User: ...", "### Instruction: ...", "The rule: ...".
_ROLE_LABEL = re.compile(
    r"^(?:(?:the|a|our|new|your|this|my)\s+)?(?:(?:ai|chat|virtual)\s+)?(?:assistant|user|system|human|ai|bot|chatbot|"
    r"model|llm|gpt|agent|q|a|question|answer|response|reply|output|input|prompt|instructions?|rules?|task|"
    r"directive|override|command|note\s+to\s+[\w\s]{1,30}?|note\s+for\s+[\w\s]{1,30}?)\s*(?:\d+\s*)?:", re.I)
_VOCATIVE = re.compile(r"^(?:dear\s+|attention\s+|hey\s+|hello\s+)?(?:ai|assistants?|chatbots?|bots?|models?|"
                       r"language\s+models?|llms?|readers?)\s*[,!:]", re.I)
_MARKER = re.compile(r"\[\s*\d{1,3}\s*\]")
# A sentence that announces what follows ("Here is the rule:", "... as follows.") hands its flag on.
_ANNOUNCES = re.compile(r"(?::\s*$|\bas\s+follows\b|\bthe\s+following\b|\bbelow\b)", re.I)

# Quotations: paired marks within a paragraph; an unclosed one runs to the paragraph's end. In the
# narration a quotation leaves this mark, so a clause after it ("..." state prosecutors said) is no
# sentence start.
_QUOTED = " ⟨quote⟩ "
_MIN_NARRATION_WORDS = 2  # "he said": a quotation with a speaker is reported speech


def is_instruction(sentence: str) -> bool:
    """Whether one sentence, read on its own, addresses its reader rather than reporting."""
    return bool(flagged(sentence))


def overlaps(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    return any(s < end and start < e for s, e in spans)


@lru_cache(maxsize=512)
def flagged(text: str) -> tuple[tuple[int, int], ...]:
    """Spans of the sentences of `text` (an article or a passage) that address their reader. Quotation
    marks are followed across the whole text, so a sentence in the middle of a long quote is still
    reported speech."""
    quoted = _quoted_spans(text)
    spans = split_sentences(text)
    out: list[tuple[int, int]] = []
    handed_on = False
    for s, e in spans:
        sentence = text[s:e]
        narration = _narration(text, s, e, quoted)
        if handed_on or _addresses(sentence, narration):
            out.append((s, e))
            handed_on = bool(_ANNOUNCES.search(sentence.rstrip(" \"”’'")))
        else:
            handed_on = False
    return tuple(out)


def _addresses(sentence: str, narration: str) -> bool:
    raw = _LEAD.sub("", sentence)
    if _ROLE_LABEL.match(raw) or _VOCATIVE.match(raw) or _MARKER.search(sentence) or _FRAMES.search(sentence):
        return True
    told = _LEAD.sub("", narration)
    if _DIRECTIVE.search(told) or _YOU_ARE.search(told) or _ANSWER_FRAMES.search(told):
        return True
    return _imperative(told)


_STRONG = re.compile(rf"^{_PRE_VERB}(?:{_SAYING_VERBS})\b(?P<rest>.*)", re.I | re.S)
_WEAK = re.compile(rf"^{_PRE_VERB}(?:{_HEEDING_VERBS})\b(?P<rest>.*)", re.I | re.S)
_ABOUT_ANSWERING = re.compile(r"\b(?:questions?|ask(?:s|ed|ing)?|answers?|answering|repl(?:y|ies)|respond|responses?|"
                              r"users?|readers?|sources?|articles?|instructions?|prompts?|context|citations?|"
                              r"summar(?:y|ies)|assistants?|chatbots?)\b", re.I)


def _imperative(narration: str) -> bool:
    """A clause of the narration opens with a bare verb of saying (an order about what to say), or with
    a bare verb of heeding in a sentence that speaks of answering or of its reader. A question ("Do you
    ...?") is not an order."""
    if narration.rstrip(" ⟨quote⟩").endswith("?"):
        return False
    for clause in _clauses(narration):
        m = _STRONG.match(clause)
        if m and not _NOUN_READING.match(m.group("rest").lstrip()):
            return True
        m = _WEAK.match(clause)
        if m and not _NOUN_READING.match(m.group("rest").lstrip()) and _ABOUT_ANSWERING.search(narration):
            return True
    return False


def _clauses(narration: str) -> list[str]:
    """Where an imperative can start: the sentence's start, after a fronted clause ("When asked ..., "),
    and after a colon or semicolon."""
    starts = [narration]
    fronted = _FRONTED.match(narration)
    if fronted:
        starts.append(narration[fronted.end() :])
    starts += [part.strip() for part in re.split(r"[;:]", narration)[1:]]
    return [s for s in starts if s]


def _narration(text: str, s: int, e: int, quoted: list[tuple[int, int]]) -> str:
    """The sentence without what it quotes, when the quotation has a speaker in the sentences it spans.
    A sentence that is all quotation, attributed to nobody, is read as it stands."""
    inside = [(max(a, s), min(b, e)) for a, b in quoted if a < e and s < b]
    if not inside:
        return text[s:e]
    pieces, pos = [], s
    for a, b in inside:
        pieces.append(text[pos:a])
        pos = b
    pieces.append(text[pos:e])
    narration = _QUOTED.join(pieces).strip()
    if len(re.findall(r"[A-Za-z]{2,}", narration.replace(_QUOTED.strip(), ""))) >= _MIN_NARRATION_WORDS:
        return narration
    # All quotation here: reported speech if the quotation's speaker is named where it ends or begins.
    for a, b in quoted:
        if a < e and s < b and _attributed(text, a, b):
            return narration
    return re.sub(r"[\"“”‘’«»]", " ", text[s:e])


def _attributed(text: str, a: int, b: int) -> bool:
    """Narration words right after or before a quotation in its paragraph ('...,' Barrot said)."""
    line_end = text.find("\n", b)
    after = text[b : line_end if line_end >= 0 else len(text)]
    after = after.split("“")[0].split('"')[0][:80]
    line_start = text.rfind("\n", 0, a) + 1
    before = text[line_start:a][-80:]
    return any(len(re.findall(r"[A-Za-z]{2,}", part)) >= _MIN_NARRATION_WORDS for part in (after, before))


def _quoted_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each quotation, marks included: curly and straight double quotes paired within a
    paragraph; single quotes when they open at a word's start and close at a word's end (an apostrophe
    inside a word, "Russia's", is neither)."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for line in text.split("\n"):
        spans += [(pos + a, pos + b) for a, b in _line_quotes(line)]
        pos += len(line) + 1
    return spans


def _line_quotes(line: str) -> list[tuple[int, int]]:
    """Quotation spans in one paragraph. A straight mark opens after a space and closes after a word,
    like a curly one; a mark that opens while a quotation is open starts the next one (news runs a
    quote on with a fresh opening mark and no closing one)."""
    spans: list[tuple[int, int]] = []
    double: int | None = None
    single: int | None = None
    for i, ch in enumerate(line):
        prev = line[i - 1] if i else " "
        nxt = line[i + 1] if i + 1 < len(line) else " "
        if ch in "“”\"«»":
            opens = ch in "“«" or (ch == '"' and (prev.isspace() or prev in "([{–—-:") and not nxt.isspace())
            closes = ch in "”»" or (ch == '"' and not prev.isspace() and not opens)
            if opens:
                if double is not None:
                    spans.append((double, i))
                double = i
            elif closes and double is not None:
                spans.append((double, i + 1))
                double = None
        elif ch in "‘'’" and double is None:
            opens = not prev.isalnum() and (nxt.isalnum() or nxt in "“\"")
            closes = not nxt.isalnum() and (prev.isalnum() or prev in ".,!?…”\"")
            if single is None and opens and ch != "’":
                single = i
            elif single is not None and closes and ch != "‘":
                spans.append((single, i + 1))
                single = None
    for start in (double, single):
        if start is not None:
            spans.append((start, len(line)))
    return sorted(spans)
