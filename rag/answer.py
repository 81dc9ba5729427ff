"""prompt -> generate -> check citations -> verify grounding -> fall back or abstain.

The answer always rests on a quoted evidence sentence. The model's own words lead it only when every
sentence cites a source that holds what it says and they answer what was asked; otherwise the answer
is that sentence alone, quoted and cited. Retrieval that finds nothing answers with a fixed sentence
without calling the model at all."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence

from rag import citations as cit
from rag import evidence, followup, prompts, qtypes
from rag.config import LLMConfig, Settings
from rag.errors import QuestionError
from rag.grounding import overlap, restates, unsupported
from rag.schema import Answer, Delta, Final, Retrieved, StreamEvent, Turn

MAX_QUESTION_CHARS = 2000
MAX_ANSWER_SENTENCES = 3


def answer_stream(question: str, history: Sequence[Turn], retriever, get_llm: Callable[[], object],
                  settings: Settings, llm_config: LLMConfig) -> Iterator[StreamEvent]:
    question = " ".join(question.split())
    if not question:
        raise QuestionError("the question is empty: ask something about the articles")
    if len(question) > MAX_QUESTION_CHARS:
        _check_length(question, get_llm())
    query = followup.resolve(question, history)
    passages = retriever.search(query)
    record = Answer(question=question, answer="", search_query=query if query != question else None,
                    retrieved=[Retrieved(doc_id=p.doc_id, chunk_id=p.chunk_id, score=round(p.score, 4))
                               for p in passages])
    sources = evidence.select(question, query, passages)
    corpus = retriever if hasattr(retriever, "known") else None
    if corpus is not None:
        sources = evidence.on_point_first(question, query, sources, corpus)
    elif sources and hasattr(retriever, "document"):
        sources[0] = evidence.widen(sources[0], question, retriever.document(sources[0].passage.doc_id))
    if not evidence.answerable(question, query, passages, sources, corpus):
        yield Final(answer=_abstain(record))
        return

    shown = sources[: llm_config.sources]
    llm = get_llm()
    pieces: list[str] = []
    for piece in _generate(llm, llm_config, prompts.format_sources([s.text for s in shown]), question):
        pieces.append(piece)
        yield Delta(text=piece)
    raw = "".join(pieces).strip()
    record.tokens = len(pieces)

    if prompts.NOT_IN_SOURCES.lower() in raw.lower() or not cit.strip_markers(raw):
        if not evidence.confident(passages, sources):
            yield Final(answer=_abstain(record))
            return
        raw = ""
    # "the EU's top diplomat" is Kaja Kallas: an answer that only names her gives the question back,
    # unless the question asks who it is.
    given = retriever.expand(question) if hasattr(retriever, "expand") else question
    text, cited = _generated(raw, shown, question, given if qtypes.expected(question) != "person" else question)
    if text and cited:
        text, own_words = _with_quote(text, shown[cited[0] - 1], cited[0])
        record.answer, record.citations = cit.resolve(text, shown)
        record.mode = "generated" if own_words else "extractive"
    else:
        record.answer, record.citations = _extractive(sources)
        record.mode = "extractive"
    yield Final(answer=record)


def _generate(llm, cfg: LLMConfig, snippets: str, question: str) -> Iterator[str]:
    if cfg.style == "chat":
        messages = [{"role": "system", "content": prompts.render("chat_system.txt").strip()},
                    {"role": "user", "content": prompts.render("chat_user.txt", sources=snippets,
                                                               question=question).strip()}]
        _fits(llm, "\n".join(m["content"] for m in messages), cfg)
        yield from llm.chat(messages)
    else:
        prompt = prompts.render("completion.txt", sources=snippets, question=question).rstrip()
        _fits(llm, prompt, cfg)
        yield from llm.complete(prompt, stop=["\n", "Sources:", "Question:"])


def _fits(llm, prompt: str, cfg: LLMConfig) -> None:
    used = llm.count_tokens(prompt)
    if used + cfg.max_tokens > llm.n_ctx:
        raise QuestionError(f"the question and its sources need {used} tokens but the model's context is "
                            f"{llm.n_ctx}: shorten the question or raise context_size in models.toml")


def _check_length(question: str, llm) -> None:
    n = llm.count_tokens(question)
    budget = llm.n_ctx // 2
    if n > budget:
        raise QuestionError(f"the question is {n} tokens, more than this model's context allows ({budget}): "
                            "shorten it")


def _generated(raw: str, sources: list[cit.Source], question: str, given: str | None = None) -> tuple[str, list[int]]:
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
    if not qtypes.fits(claim_text, qtypes.expected(question), question) or restates(claim_text, given or question):
        return "", []  # grounded perhaps, but not an answer to what was asked
    fixed: list[str] = []
    used: list[int] = []
    for sentence in sentences:
        claim = cit.strip_markers(sentence)
        cited = _sources_for(claim, [n for n in cit.markers(sentence) if 1 <= n <= len(sources)], sources, question)
        if not cited:
            return "", []
        fixed.append(_cite(claim, cited))
        used += [n for n in cited if n not in used]
    return " ".join(fixed), used


def _sources_for(claim: str, cited: list[int], sources: list[cit.Source], question: str) -> list[int]:
    """The sources a sentence rests on. The model's marker stands when what it points at holds the claim
    and no other shown source holds more of the claim's own words; otherwise (no usable marker, or an
    instruct model shown several sources numbering the wrong one) the source that holds most of them,
    if any holds the claim at all. Empty: no source supports it."""
    holding = [i + 1 for i, s in enumerate(sources) if not unsupported(claim, s.text, question)]
    best = max(holding, key=lambda n: overlap(claim, sources[n - 1].text), default=None)
    if cited and not unsupported(claim, " ".join(sources[n - 1].text for n in cited), question):
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


def _with_quote(text: str, source: cit.Source, n: int) -> tuple[str, bool]:
    """A one-sentence answer is followed by the sentence it rests on, quoted, so a reader can check it
    at a glance; an answer that only repeats how that sentence begins is left out. Returns the text
    and whether the model's own words are in it."""
    if len(cit.answer_sentences(text)) > 1:
        return text, True
    quoted = f"{_quoted(source.text)} [{n}]"
    if _opens(source.text, cit.strip_markers(text)):
        return quoted, False
    return f"{text} {quoted}", True


def _opens(quote: str, answer: str) -> bool:
    def bare(t: str) -> str:
        return " ".join(re.sub(r"[^\w\s]", " ", t.lower()).split())

    return bool(bare(answer)) and bare(quote).startswith(bare(answer))


def _extractive(sources: list[cit.Source]) -> tuple[str, list]:
    best = sources[0]
    return cit.resolve(f"{_quoted(best.text)} [1]", [best])


def _quoted(text: str) -> str:
    return cit.quoted(text)


def _abstain(record: Answer) -> Answer:
    record.answer = prompts.abstain_sentence()
    record.abstained, record.mode, record.citations = True, "abstained", []
    return record
