"""prompt -> generate -> check citations -> verify grounding -> fall back or abstain.

The answer always rests on a quoted evidence sentence. The model's own words lead it only when every
sentence cites a source that holds what it says and they answer what was asked; otherwise the answer
is that sentence alone, quoted and cited. When a check (rag/checks.py) finds the evidence cannot answer,
the answer is a fixed sentence, given without calling the model, with the check's reason on the record."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Protocol, runtime_checkable

from rag import checks, evidence, prompts, qtypes
from rag import citations as cit
from rag.config import LLMConfig, Settings
from rag.errors import QuestionError
from rag.grounding import overlap, restates, unsupported
from rag.judge import Judge, headed, plain
from rag.pertinence import Corpus
from rag.question import Question, normalise, parse
from rag.schema import Answer, Delta, Final, Passage, Reason, Retrieved, StreamEvent, Turn
from rag.weights import CheckThresholds

MAX_QUESTION_CHARS = 2000
MAX_ANSWER_SENTENCES = 3
# The least of a source worth showing the model: a question that leaves less room than this in the
# context is too long; above it, the sources are cut to fit and the question stands.
MIN_SOURCE_TOKENS = 32
_SURROGATE = re.compile(r"[\ud800-\udfff]")


@runtime_checkable
class AnswerRetriever(Corpus, Protocol):
    """What answering needs of retrieval: the passages for a query, and what the abstention checks ask
    of the collection. rag.retrieval.Retriever is one; the tests' scripted retrievers are others."""

    def search(self, query: str) -> list[Passage]: ...


def clean_question(question: str) -> str:
    """The question as the checks read it, or QuestionError when nothing is left: a face can refuse an empty
    question before it loads an index or a model."""
    # Bytes that were not UTF-8 reach Python as lone surrogates (argv); no encoder or JSON takes them.
    text = normalise(_SURROGATE.sub("\ufffd", question))
    if not text:
        raise QuestionError("the question is empty: ask something about the articles")
    return text


def answer_stream(question: str, history: Sequence[Turn], retriever: AnswerRetriever, get_llm: Callable[[], object],
                  settings: Settings, llm_config: LLMConfig, judge: Judge | None = None) -> Iterator[StreamEvent]:
    text = clean_question(question)
    if len(text) > MAX_QUESTION_CHARS:
        _check_length(text, get_llm())
    q = parse(text, history, expand=retriever.expand, roles=retriever.roles)
    found = gather(q, retriever, settings.answer.checks)
    record = Answer(question=q.text, answer="", search_query=q.query if q.follow_up else None,
                    retrieved=[Retrieved(doc_id=p.doc_id, chunk_id=p.chunk_id, score=round(p.score, 4),
                                         copies=p.copies)
                               for p in found.passages])
    sources = found.sources
    quotes = settings.answer.quotes
    if judge is None:
        reason, record.answerability = checks.decide(q, found, retriever, settings.answer.gate)
    else:
        reason, record.answerability = checks.decide(q, found, retriever, settings.answer.judged_gate,
                                                     lambda: judge_reading(judge, q.text, judged_evidence(
                                                         found, quotes, settings.answer.judge_headline_chars,
                                                         settings.answer.judge_each_story)))
    if reason is not None:
        yield Final(answer=_abstain(record, reason, found, quotes))
        return

    shown = sources[: llm_config.sources]
    llm = get_llm()
    snippets = _fitting_sources(llm, llm_config, [s.text for s in shown], q.text)
    pieces: list[str] = []
    started = time.perf_counter()
    for piece in _generate(llm, llm_config, snippets, q.text):
        pieces.append(piece)
        yield Delta(text=piece)
    raw = "".join(pieces).strip()
    record.tokens, record.generation_s = len(pieces), round(time.perf_counter() - started, 3)

    if prompts.NOT_IN_SOURCES.lower() in raw.lower() or not cit.strip_markers(raw):
        # The judge has read this evidence and the gate found it answers: the answering model's "not in
        # the sources" does not overrule a larger model's reading, and the evidence is quoted instead.
        reason = checks.declined(found) if judge is None or record.answerability is None else None
        if reason is not None:
            yield Final(answer=_abstain(record, reason, found, quotes))
            return
        raw = ""
    # "the EU's top diplomat" is Kaja Kallas: an answer that only names her gives the question back,
    # unless the question asks who it is.
    text, cited = _generated(raw, shown, q, q.expanded if q.kind != "person" else q.text,
                             settings.answer.lead_in_min_words, settings.answer.loop_words)
    if text and cited and judge is not None:
        record.lead_in_support = judge.supports(q.text, cit.strip_markers(text),
                                                plain(" ".join(shown[n - 1].text for n in cited)))
        if record.lead_in_support < settings.answer.lead_in_support:
            text, cited = "", []  # the model's words say what the source may not: quote the evidence instead
    if text and cited:
        first = shown[cited[0] - 1]
        text, own_words = _with_quote(text, first, cited[0])
        listed = list(shown)
        if own_words is not None:  # the answer ends in a quote: the next best evidence follows it
            text = _add_quotes(text, first, sources, listed, quotes - 1)
        record.answer, record.citations = cit.resolve(text, listed)
        record.mode = "generated" if own_words is not False else "extractive"
    else:
        text, listed = quoted_evidence(found, quotes)
        record.answer, record.citations = cit.resolve(text, listed)
        record.mode = "extractive"
    yield Final(answer=record)


def gather(q: Question, retriever: AnswerRetriever, limits: CheckThresholds | None = None) -> checks.Evidence:
    """The passages for the question and the evidence sentences in them, best first (the one that
    answers the point asked about leading), with where the checks fire."""
    limits = limits or CheckThresholds()
    passages = retriever.search(q.query)
    sources = evidence.select(q.text, q.query, passages)
    sources = evidence.on_point_first(q, sources, retriever, lambda s: checks.misses_point(q, s, retriever, limits),
                                      limits)
    return checks.Evidence(passages=passages, sources=sources, limits=limits)


def quoted_evidence(ev: checks.Evidence, quotes: int) -> tuple[str, list[cit.Source]]:
    """The evidence alone as an answer quotes it: the best sentence and the next `quotes - 1`, cited, and
    the sources its markers number."""
    best = ev.sources[0]
    listed = [best]
    return _add_quotes(f"{_quoted(best.text)} [1]", best, ev.sources, listed, quotes - 1), listed


def judged_evidence(ev: checks.Evidence, quotes: int, headline_chars: int, each_story: bool = False) -> list[str]:
    """What the judge reads: the quoted evidence as plain text, after the headline of the article it
    comes from. Two sentences alone often leave out what they are about ("the film" of "Who directed the
    film about the singer?" is the one in "George Michael film to be his last"); with the headline the
    judge separates evidence that answers from evidence that does not better on every dev set (see
    `rag.judge.headed`). With `each_story`, quotes from different stories are read apart, one text each:
    read together, the judge composes an answer from two stories that neither gives ("France Telecom is
    to buy out Equant's minority shareholders" and "Deutsche Boerse's offer" for what Deutsche Telekom
    is paying)."""
    text, listed = quoted_evidence(ev, quotes)
    stories = _stories(listed) if each_story else [listed]
    if len(stories) < 2:
        return [headed(plain(text), [s.passage.chunk.title for s in listed], headline_chars)]
    return [headed(plain(" ".join(_quoted(s.text) for s in story)), [story[0].passage.chunk.title], headline_chars)
            for story in stories]


def judge_reading(judge: Judge, question: str, judged: list[str]) -> float:
    """The judge's P(Yes) that the evidence states the answer: the highest over the stories it was read
    in (`judged_evidence`), as one story that answers is enough."""
    return max(judge.p_yes(question, text) for text in judged)


def _stories(listed: list[cit.Source]) -> list[list[cit.Source]]:
    """The quoted sources grouped by the story they come from, in order: one article, or copies of it that
    retrieval collapsed into one passage (`Passage.copies`)."""
    stories: list[tuple[set[str], list[cit.Source]]] = []  # each story's article names, and its sources
    for source in listed:
        names = {source.passage.doc_id, *source.passage.copies}
        story = next((st for st in stories if st[0] & names), None)
        if story is None:
            stories.append((names, [source]))
        else:
            story[0].update(names)
            story[1].append(source)
    return [sources for _, sources in stories]


def _generate(llm, cfg: LLMConfig, snippets: str, question: str) -> Iterator[str]:
    prompt = _prompt(cfg, snippets, question)
    if isinstance(prompt, list):
        yield from llm.chat(prompt)
    else:
        yield from llm.complete(prompt, stop=["\n", "Sources:", "Question:"])


def _prompt(cfg: LLMConfig, snippets: str, question: str) -> str | list[dict[str, str]]:
    """The completion prompt (base models) or the chat messages (instruct models)."""
    if cfg.style == "chat":
        return [{"role": "system", "content": prompts.render("chat_system.txt").strip()},
                {"role": "user", "content": prompts.render("chat_user.txt", sources=snippets,
                                                           question=question).strip()}]
    return prompts.render("completion.txt", sources=snippets, question=question).rstrip()


def _tokens(llm, cfg: LLMConfig, snippets: str, question: str) -> int:
    prompt = _prompt(cfg, snippets, question)
    return llm.count_tokens(prompt if isinstance(prompt, str) else "\n".join(m["content"] for m in prompt))


def _fitting_sources(llm, cfg: LLMConfig, texts: list[str], question: str) -> str:
    """The numbered sources, cut so that the prompt and the answer fit the model's context: the last
    sources go first, then the one left is shortened at a word boundary. The question is never the
    user's fault unless it leaves no room for a source at all."""
    budget = llm.n_ctx - cfg.max_tokens
    while len(texts) > 1 and _tokens(llm, cfg, prompts.format_sources(texts), question) > budget:
        texts = texts[:-1]
    used = _tokens(llm, cfg, prompts.format_sources(texts), question)
    if used <= budget:
        return prompts.format_sources(texts)
    bare = _tokens(llm, cfg, prompts.format_sources([""]), question)
    room = budget - bare
    if room < MIN_SOURCE_TOKENS:
        raise QuestionError(f"the question is too long for the model's context ({bare} of {llm.n_ctx} tokens "
                            f"before any source, {cfg.max_tokens} kept for the answer): shorten it, or raise "
                            "context_size in models.toml")
    text = " ".join(texts[0].split())
    while used > budget and text:
        keep = int(len(text) * room / max(1, used - bare) * 0.9)  # tokens scale with characters, roughly
        text = text[:keep].rsplit(" ", 1)[0] if " " in text[:keep] else text[:keep]
        used = _tokens(llm, cfg, prompts.format_sources([text + " …"]), question)
    return prompts.format_sources([text + " …"])


def _check_length(question: str, llm) -> None:
    n = llm.count_tokens(question)
    budget = llm.n_ctx // 2
    if n > budget:
        raise QuestionError(f"the question is {n} tokens, more than this model's context allows ({budget}): "
                            "shorten it")


def _generated(raw: str, sources: list[cit.Source], question: Question, given: str,
               min_support: float, loop_words: int) -> tuple[str, list[int]]:
    """Keep the model's answer only if every sentence cites a source that holds what it claims and
    the whole answers what was asked. Returns the answer (markers still in the sources' numbering)
    and the source numbers it cites, or ("", []) when it must be replaced."""
    text = re.sub(r"\s+", " ", raw).strip()
    sentences = cit.answer_sentences(text) if text else []
    if not sentences or len(sentences) > MAX_ANSWER_SENTENCES:
        return "", []
    if len(sentences) > 1 and min(len(cit.strip_markers(x).split()) for x in sentences) < 3:
        return "", []  # fragments like "The U.S [1]. Secretary of State [2]." are not an answer
    claim_text = cit.strip_markers(text)
    if loops(claim_text, loop_words):
        return "", []  # a model repeating itself: every word may be the source's, the whole says nothing
    if not qtypes.fits(claim_text, question.kind, question.text) or restates(claim_text, given):
        return "", []  # grounded perhaps, but not an answer to what was asked
    fixed: list[str] = []
    used: list[int] = []
    for sentence in sentences:
        claim = cit.strip_markers(sentence)
        marked = [n for n in cit.markers(sentence) if 1 <= n <= len(sources)]
        cited = _sources_for(claim, marked, sources, question.text, min_support)
        if not cited:
            return "", []
        fixed.append(_cite(claim, cited))
        used += [n for n in cited if n not in used]
    return " ".join(fixed), used


def loops(text: str, n: int) -> bool:
    """Whether some run of `n` words comes twice in `text` (case and punctuation aside)."""
    words = re.findall(r"\w+(?:['’]\w+)?", text.lower())
    runs = [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]
    return len(runs) != len(set(runs))


def _sources_for(claim: str, cited: list[int], sources: list[cit.Source], question: str,
                 min_support: float) -> list[int]:
    """The sources a sentence rests on. The model's marker stands when what it points at holds the claim
    and no other shown source holds more of the claim's own words; otherwise (no usable marker, or an
    instruct model shown several sources numbering the wrong one) the source that holds most of them,
    if any holds the claim at all. Empty: no source supports it."""
    holding = [i + 1 for i, s in enumerate(sources) if not unsupported(claim, s.text, question, min_support)]
    best = max(holding, key=lambda n: overlap(claim, sources[n - 1].text), default=None)
    if cited and not unsupported(claim, " ".join(sources[n - 1].text for n in cited), question, min_support):
        if len(cited) > 1 or best is None:
            return cited
        keep = overlap(claim, sources[cited[0] - 1].text) >= overlap(claim, sources[best - 1].text)
        return cited if keep else [best]
    return [best] if best is not None else []


def _cite(claim: str, cited: list[int]) -> str:
    """ "An answer [1]." — the marker goes before a final period, after a final quote or question mark."""
    marks = "".join(f"[{n}]" for n in cited)
    claim = claim.strip()
    if claim.endswith(".") and not claim.endswith(".."):
        return f"{claim[:-1]} {marks}."
    return f"{claim} {marks}" if claim[-1:] in "!?\"”’'" else f"{claim} {marks}."


def _with_quote(text: str, source: cit.Source, n: int) -> tuple[str, bool | None]:
    """A one-sentence answer is followed by the sentence it rests on, quoted, so a reader can check it
    at a glance; an answer that only repeats how that sentence begins is left out. Returns the text
    and whether the model's own words are in it (None: they are all of it, several sentences, no quote)."""
    if len(cit.answer_sentences(text)) > 1:
        return text, None
    quoted = f"{_quoted(source.text)} [{n}]"
    if _opens(source.text, cit.strip_markers(text)):
        return quoted, False
    return f"{text} {quoted}", True


def _opens(quote: str, answer: str) -> bool:
    def bare(t: str) -> str:
        return " ".join(re.sub(r"[^\w\s]", " ", t.lower()).split())

    return bool(bare(answer)) and bare(quote).startswith(bare(answer))


def _add_quotes(text: str, first: cit.Source, sources: list[cit.Source], listed: list[cit.Source], n: int) -> str:
    """`text` followed by up to `n` more evidence sentences, quoted and cited, best first: the next best
    sentences that are not `first` nor part of it. `listed` holds the sources the markers number; one
    quoted that is not among them is added at its end."""
    for source in [s for s in sources if s is not first and not _within(s, first)][:n]:
        if source not in listed:
            listed.append(source)
        text += f" {_quoted(source.text)} [{listed.index(source) + 1}]"
    return text


def _within(a: cit.Source, b: cit.Source) -> bool:
    """Whether sentence `a` overlaps sentence `b` (a widened source holds its neighbour)."""
    return a.passage.doc_id == b.passage.doc_id and a.sentence.start < b.sentence.end and \
        b.sentence.start < a.sentence.end


def _quoted(text: str) -> str:
    return cit.quoted(text)


def _abstain(record: Answer, reason: Reason, ev: checks.Evidence, quotes: int) -> Answer:
    """The abstention, keeping the evidence it was decided on (`Answer.considered`): "the best evidence
    never mentions 'London'" can be checked only against what that evidence was."""
    record.answer = prompts.abstain_sentence()
    record.abstained, record.mode, record.citations = True, "abstained", []
    record.abstain_reason = reason
    if ev.sources:
        record.considered = cit.resolve(*quoted_evidence(ev, quotes))[1]
    return record
