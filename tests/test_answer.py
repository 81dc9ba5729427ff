"""The answer pipeline. First its branches (grounded, repaired to an extractive quote, abstained, refused
questions) with a scripted LLM over hand-made passages; then end to end with the real model over the seeds."""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import pytest

from conftest import GOLD, INJECTED_ID, WIRE_COPY_ID, gold_items
from helpers import ALLIES, BUSINESS, SCIENCE, SPORT, Collection, document, passages
from rag import checks, evidence, prompts
from rag.answer import MAX_QUESTION_CHARS, AnswerRetriever, answer_stream
from rag.citations import answer_sentences, markers, strip_markers, verify
from rag.config import CheckThresholds
from rag.errors import QuestionError
from rag.lexical import tokenize
from rag.schema import Answer, Delta, Document, Final, Passage, Turn

LIMITS = CheckThresholds()

# ----- a scripted world: one article, a retriever that returns it, an LLM that says what we tell it ------

DOC = document(ALLIES, "allies")
STRONG = {"owes": 0.95, "yes or no": 0.9, "ball": 0.6, "Brussels": 0.5, "Allies urge": 0.3}
PASSAGE_CHARS = 120  # two or three sentences a passage


def passages_with(scores: dict[str, float], dense: float = 0.8, doc: Document = DOC) -> list[Passage]:
    return passages(doc, PASSAGE_CHARS, scores, dense)


class FakeRetriever(Collection):
    """Returns the scripted passages whatever the query; as a collection it knows the article's words."""

    def __init__(self, passages: list[Passage], doc: Document = DOC) -> None:
        super().__init__(doc.text)
        self.doc = doc
        self.passages = passages
        self.queries: list[str] = []

    def search(self, query: str, k: int | None = None, **kwargs) -> list[Passage]:
        self.queries.append(query)
        return [p.model_copy(deep=True) for p in self.passages]

    def document(self, doc_id: str) -> Document:
        assert doc_id == self.doc.doc_id
        return self.doc


class ScriptedLLM:
    """Replies with `reply(prompt)`, streamed word by word, like llama.cpp does."""

    def __init__(self, reply, n_ctx: int = 2048, tokens_per_word: float = 1.3) -> None:
        self.reply = reply
        self.n_ctx = n_ctx
        self.tokens_per_word = tokens_per_word
        self.prompts: list[str] = []
        self.messages: list[list[dict]] = []

    def count_tokens(self, text: str) -> int:
        return int(len(text.split()) * self.tokens_per_word) + 1

    def _stream(self, prompt: str):
        self.prompts.append(prompt)
        text = self.reply(prompt) if callable(self.reply) else self.reply
        yield from (piece for piece in re.split(r"(?<=\s)", text) if piece)

    def complete(self, prompt, stop, max_tokens=None, grammar=None):
        yield from self._stream(prompt)

    def chat(self, messages, stop=None, max_tokens=None, grammar=None):
        self.messages.append(messages)
        yield from self._stream("\n".join(m["content"] for m in messages))


def number_of(prompt: str, needle: str) -> int:
    """The [n] the prompt gave to the source holding `needle` (in its last Sources block)."""
    block = prompt[prompt.rindex("Sources:"):]
    for n, text in re.findall(r"^\[(\d+)\] (.*)$", block, re.M):
        if needle in text:
            return int(n)
    raise AssertionError(f"{needle!r} is not among the sources shown to the model")


def citing(*claims: tuple[str, str]) -> Callable[[str], str]:
    """A model's reply: each claim, marked with the number the prompt gave the source holding its needle."""
    return lambda prompt: " ".join(f"{claim} [{number_of(prompt, needle)}]." for claim, needle in claims)


OWES = "Barrot said Russia owes the United States an answer"
YES = "He demanded a clear yes or no from the Kremlin"
OWES_REPLY = citing((OWES, "owes"))


def run(question, reply=None, scores=STRONG, dense=0.8, history=(), llm_config=None, settings=None,
        llm=None, doc=DOC):
    from conftest import MODELS_TOML
    from rag.config import load_settings

    settings = settings or load_settings(MODELS_TOML)
    # Several sources by default, so the branches that renumber and mix citations are exercised.
    cfg = llm_config or settings.llm_config()[1].model_copy(update={"sources": evidence.MAX_SOURCES})
    retriever = FakeRetriever(passages_with(scores, dense, doc), doc)
    llm = llm or ScriptedLLM(reply if reply is not None else "")
    asked = []

    def get_llm():
        asked.append(True)
        return llm

    events = list(answer_stream(question, history, retriever, get_llm, settings, cfg))
    finals = [e for e in events if isinstance(e, Final)]
    assert len(finals) == 1 and events[-1] is finals[0], "exactly one Final, and it comes last"
    return finals[0].answer, events, llm, retriever, bool(asked)


def assert_cited_and_verified(answer: Answer, doc: Document = DOC) -> None:
    assert answer.citations and not answer.abstained
    assert sorted(set(markers(answer.answer))) == [c.n for c in answer.citations]
    for c in answer.citations:
        assert verify(c, doc), c


Q = "What did Barrot demand?"


def test_the_scripted_retrievers_are_whole_retrievers():
    # every member of the interface the pipeline calls, so the scripted tests reach the collection checks too
    assert isinstance(FakeRetriever([]), AnswerRetriever) and isinstance(RoleRetriever([]), AnswerRetriever)
    assert not isinstance(object(), AnswerRetriever)


def test_grounded_answer_is_kept_with_its_citation():
    reply = OWES_REPLY
    answer, events, llm, _, _ = run(Q, reply)
    assert answer.mode == "generated"
    # the model's sentence is kept as written (renumbered); the pipeline may append the quote it rests on
    assert answer.answer.startswith("Barrot said Russia owes the United States an answer [1].")
    assert set(markers(answer.answer)) == {1, 2}  # [2]: the next best evidence, quoted after it
    assert_cited_and_verified(answer)
    assert "owes the United States" in answer.citations[0].quote
    assert answer.citations[1].quote in answer.answer and "owes" not in answer.citations[1].quote
    streamed = "".join(e.text for e in events if isinstance(e, Delta))
    assert streamed.strip() == reply(llm.prompts[0])
    assert answer.retrieved and answer.retrieved[0].doc_id == "allies"


def test_markers_are_renumbered_in_order_of_use():
    reply = citing((YES, "yes or no"), (OWES, "owes"))
    answer, *_ = run(Q, reply)
    assert answer.mode == "generated"
    assert answer.answer.startswith("He demanded a clear yes or no from the Kremlin [1]. Barrot said Russia owes "
                                    "the United States an answer [2].")
    assert list(dict.fromkeys(markers(answer.answer))) == [1, 2]
    assert "yes or no" in answer.citations[0].quote and "owes" in answer.citations[1].quote
    assert_cited_and_verified(answer)


def test_a_grounded_sentence_without_a_marker_gets_one():
    answer, *_ = run(Q, "Barrot said Russia owes the United States an answer.")
    assert answer.mode == "generated"
    assert answer.answer.startswith("Barrot said Russia owes the United States an answer [1].")
    assert_cited_and_verified(answer)
    assert "owes" in answer.citations[0].quote


def test_a_grounded_sentence_citing_the_wrong_source_cites_the_right_one():
    # an instruct model shown several sources may number the wrong one; the claim is still the source's
    reply = citing((OWES, "yes or no"))
    answer, *_ = run(Q, reply)
    assert answer.mode == "generated"
    assert answer.answer.startswith("Barrot said Russia owes the United States an answer [1].")
    assert "owes the United States" in answer.citations[0].quote
    assert_cited_and_verified(answer)


def test_a_sentence_cites_the_source_it_was_taken_from_not_one_the_question_props_up():
    # Against Rutte's "ball" sentence this claim passes only because the question supplies its words;
    # the "owes" sentence holds it itself, so that is the source its marker must point at.
    q = "What did Barrot say Russia owes the United States?"
    reply = citing((OWES + " on the ceasefire", "ball"))
    answer, *_ = run(q, reply)
    assert answer.mode == "generated" and answer.answer.startswith("Barrot said Russia owes the United States")
    assert "owes the United States" in answer.citations[0].quote
    assert_cited_and_verified(answer)


def test_a_marker_that_points_nowhere_is_not_kept():
    answer, *_ = run(Q, "Barrot said Russia owes the United States an answer [9].")
    assert "[9]" not in answer.answer
    assert_cited_and_verified(answer)


@pytest.mark.parametrize("reply", [
    "Barrot demanded an answer within 45 days [1].",              # a number nobody wrote
    "Barrot and Lammy said Russia owes an answer [1].",            # a name nobody wrote
    "The moon is made of cheese [1].",                             # nothing to do with the sources
    "Russia owes nothing and will never negotiate with anyone at all [2].",
])
def test_an_ungrounded_answer_is_repaired_to_a_quote(reply):
    answer, *_ = run(Q, reply)
    assert answer.mode == "extractive" and not answer.abstained
    assert_cited_and_verified(answer)
    assert len(answer.citations) == 2  # the best evidence sentence and the next best (settings.answer.quotes)
    assert all(c.quote in answer.answer for c in answer.citations)  # the answer is the evidence, verbatim
    assert "owes the United States" in answer.citations[0].quote  # ... the best of it first
    for bad in ("45", "Lammy", "cheese", "never negotiate"):
        assert bad not in answer.answer


def test_more_than_three_sentences_is_repaired():
    s = "Barrot said Russia owes the United States an answer [1]. "
    answer, *_ = run(Q, s * 4)
    assert answer.mode == "extractive"
    assert 1 <= len(answer_sentences(answer.answer)) <= 3


def test_a_three_sentence_answer_stays_within_three_sentences():
    reply = citing((OWES, "owes"), (YES, "yes or no"), ("Rutte said the ball was now in the Russian court", "ball"))
    answer, *_ = run(Q, reply)
    assert answer.mode == "generated"
    assert count_sentences(answer.answer) <= 3, answer.answer


@pytest.mark.parametrize("reply", [prompts.NOT_IN_SOURCES, "not in sources.", "", "[1]"])
def test_model_says_not_in_sources(reply):
    # strong evidence: answer from it anyway, as a quote
    answer, *_ = run(Q, reply)
    assert answer.mode == "extractive" and "owes" in answer.answer
    assert_cited_and_verified(answer)
    # evidence good enough to ask the model but not to override it: abstain
    middle = (LIMITS.min_sentence + LIMITS.confident_sentence) / 2
    answer, _, _, _, asked = run(Q, reply, scores={**{k: middle / 2 for k in STRONG}, "owes": middle})
    assert asked and answer.abstained and answer.mode == "abstained" and answer.citations == []
    assert answer.answer == prompts.abstain_sentence()
    # The evidence it was decided on is kept beside the reason, verbatim and numbered as a quote would be.
    assert [c.n for c in answer.considered] == [1, 2] and "owes" in answer.considered[0].quote
    assert all(verify(c, DOC) for c in answer.considered)


def test_weak_retrieval_abstains_without_calling_the_model():
    answer, _, llm, _, asked = run("Who won the 2024 European football championship?", reply=None,
                                   dense=LIMITS.min_dense / 2)
    assert answer.abstained and answer.citations == [] and answer.mode == "abstained"
    assert not asked
    assert answer.retrieved  # what was looked at is still reported
    assert answer.considered and all(verify(c, DOC) for c in answer.considered)


def test_an_answer_keeps_no_considered_evidence():
    answer, *_ = run(Q, OWES_REPLY)
    assert not answer.abstained and answer.citations and answer.considered == []


def test_an_abstention_with_no_evidence_considers_none():
    from conftest import MODELS_TOML
    from rag.config import load_settings

    settings = load_settings(MODELS_TOML)
    events = list(answer_stream("Who won the 2024 European football championship?", [], FakeRetriever([]),
                                lambda: ScriptedLLM(""), settings, settings.llm_config()[1]))
    answer = events[-1].answer
    assert answer.abstained and answer.considered == [] and answer.abstain_reason is not None


def test_a_question_mostly_about_what_no_article_holds_abstains_without_calling_the_model():
    # The scripted passages score as strongly as can be; without a fitted gate the checks' order decides.
    from conftest import MODELS_TOML
    from rag.config import load_settings
    from rag.gate import Gate

    settings = load_settings(MODELS_TOML)
    settings.answer.gate = Gate()
    answer, _, _, _, asked = run("What did Barrot demand about the harvest festival parade costumes?", reply=None,
                                 settings=settings)
    assert answer.abstained and not asked
    assert answer.abstain_reason is not None and answer.abstain_reason.code == "uncovered"
    assert answer.answerability is None


def test_the_fitted_gate_abstains_with_the_check_that_counts_most_against_answering():
    from conftest import MODELS_TOML
    from rag.config import load_settings
    from rag.gate import Gate

    settings = load_settings(MODELS_TOML)
    settings.answer.gate = Gate(bias=2.0, weights={"check:uncovered": -1.0, "check:few_shared_words": -3.0},
                                abstain_below=0.5)
    q = "What did Barrot demand about the harvest festival parade costumes?"
    answer, _, _, _, asked = run(q, reply=None, settings=settings)
    assert answer.abstained and not asked
    assert answer.abstain_reason is not None and answer.abstain_reason.code == "few_shared_words"
    assert "below 50%" in answer.abstain_reason.message and answer.answerability is not None
    assert answer.answerability < 0.5
    settings.answer.gate = Gate(bias=2.0, weights={"check:uncovered": -1.0}, abstain_below=0.5)
    answer, *_ = run(q, reply="Barrot said Russia owes the United States an answer [1].", settings=settings)
    assert not answer.abstained and answer.answerability is not None and answer.answerability > 0.5


def test_a_name_no_passage_mentions_abstains_without_calling_the_model():
    answer, _, _, _, asked = run("What did Kaja Kallas demand?", reply=None)
    assert answer.abstained and not asked


@pytest.mark.parametrize("question", ["", "   ", "\n\t  \n"])
def test_empty_question(question):
    retriever = FakeRetriever(passages_with(STRONG))
    with pytest.raises(QuestionError) as info:
        list(answer_stream(question, (), retriever, lambda: pytest.fail("no model for an empty question"),
                           None, None))
    assert "empty" in str(info.value) and info.value.exit_code == 2
    assert retriever.queries == []


def test_question_too_long_for_the_context_is_refused_before_retrieval():
    long_q = "Why " + "really " * (MAX_QUESTION_CHARS // 5) + "?"
    retriever = FakeRetriever(passages_with(STRONG))
    llm = ScriptedLLM("x", n_ctx=512)
    with pytest.raises(QuestionError) as info:
        list(answer_stream(long_q, (), retriever, lambda: llm, None, None))
    assert "tokens" in str(info.value) and "shorten" in str(info.value)
    assert retriever.queries == []


def test_long_question_that_fits_is_answered():
    # padded with the article's own words: a question mostly about what no article holds is abstained on
    long_q = "What did Barrot demand? " + "The foreign ministers met in Brussels for two days of talks. " * 40
    assert len(long_q) > MAX_QUESTION_CHARS
    reply = OWES_REPLY
    answer, *_ = run(long_q, reply, llm=ScriptedLLM(reply, n_ctx=8192))
    assert not answer.abstained and answer.citations


def test_prompt_that_overflows_the_context_is_a_question_error():
    from conftest import MODELS_TOML
    from rag.config import load_settings

    settings = load_settings(MODELS_TOML)
    cfg = settings.llm_config()[1].model_copy(update={"max_tokens": 64})
    llm = ScriptedLLM("whatever [1].", n_ctx=256, tokens_per_word=3)
    with pytest.raises(QuestionError, match="context"):
        run(Q, "x", llm=llm, llm_config=cfg, settings=settings)


def test_the_prompt_holds_the_question_and_one_line_per_source():
    reply = OWES_REPLY
    _, _, llm, _, _ = run(Q, reply)
    prompt = llm.prompts[0]
    assert prompt.rstrip().endswith("Answer:")
    assert f"Question: {Q}" in prompt
    block = prompt[prompt.rindex("Sources:"):]
    numbered = re.findall(r"^\[(\d+)\] ", block, re.M)
    assert numbered == [str(i) for i in range(1, len(numbered) + 1)] and 1 <= len(numbered) <= evidence.MAX_SOURCES


def test_chat_style_sends_system_and_user_messages():
    from conftest import MODELS_TOML
    from rag.config import load_settings

    settings = load_settings(MODELS_TOML)
    cfg = settings.llm_config()[1].model_copy(update={"style": "chat"})
    reply = OWES_REPLY
    answer, _, llm, _, _ = run(Q, reply, llm_config=cfg, settings=settings)
    (messages,) = llm.messages
    assert [m["role"] for m in messages] == ["system", "user"]
    assert "instructions" in messages[0]["content"].lower()  # sources are data, not instructions
    assert Q in messages[1]["content"] and "owes the United States" in messages[1]["content"]
    assert answer.mode == "generated"
    assert_cited_and_verified(answer)


def test_follow_up_searches_with_the_previous_subject():
    history = [Turn(question="What did Barrot demand of Russia?",
                    answer=Answer(question="What did Barrot demand of Russia?", answer="An answer [1]."))]
    reply = citing((YES, "yes or no"))
    answer, _, _, retriever, _ = run("What exactly did he want?", reply, history=history)
    assert "Barrot" in retriever.queries[0]
    assert answer.search_query == retriever.queries[0] and answer.question == "What exactly did he want?"


# ----- other kinds of news: a company's results, a match, a science story -----------------------------------

OTHER_NEWS = [  # (article, question, the sentence that answers it, a claim it holds)
    (BUSINESS, "How much profit did Harbourline make last year?", "net profit",
     "Harbourline reported a net profit of 312 million euros for last year"),
    (SPORT, "Who saved two penalties in the shoot-out?", "saved two", "Tomas Brandt saved two penalties"),
    (SCIENCE, "How far from Earth is the planet with water vapour?", "light years",
     "The planet is 120 light years from Earth"),
]
MISTAKES = {  # a claim for each of those, with what no sentence of the article says
    BUSINESS: ("Harbourline reported a net profit of 412 million euros for last year", "412"),
    SPORT: ("Marco Weiss saved two penalties", "Weiss"),
    SCIENCE: ("The planet is 12 light years from Earth", "12 light"),
}


@pytest.mark.parametrize("article, question, needle, claim", OTHER_NEWS, ids=["business", "sport", "science"])
def test_a_grounded_answer_about_other_news_is_kept(article, question, needle, claim):
    doc = document(article, "other")
    answer, *_ = run(question, citing((claim, needle)), scores={needle: 0.9}, doc=doc)
    assert answer.mode == "generated" and answer.answer.startswith(f"{claim} [1].")
    assert_cited_and_verified(answer, doc)
    assert needle in answer.citations[0].quote


@pytest.mark.parametrize("article, question, needle, claim", OTHER_NEWS, ids=["business", "sport", "science"])
def test_a_wrong_answer_about_other_news_is_repaired_to_the_quote(article, question, needle, claim):
    doc = document(article, "other")
    wrong, bad = MISTAKES[article]
    answer, *_ = run(question, citing((wrong, needle)), scores={needle: 0.9}, doc=doc)
    assert answer.mode == "extractive" and bad not in answer.answer
    assert_cited_and_verified(answer, doc)
    assert needle in answer.citations[0].quote and answer.citations[0].quote in answer.answer


# ----- end to end: real embedder, FAISS, BM25 and the bundled GGUF model --------------------------------

GOLD_ITEMS = gold_items()
ANSWERABLE_SAMPLE = ["p01", "p03", "p04", "p10", "p12"]
OFF_TOPIC = ["p30", "g33", "g34", "g35"]


@pytest.fixture(scope="module")
def ask(assistant):
    """Each question goes to the real model once per module."""
    cache: dict[str, Answer] = {}

    def _ask(question: str) -> Answer:
        if question not in cache:
            cache[question] = assistant.ask(question)
        return cache[question]

    return _ask


def count_sentences(text: str) -> int:
    """Sentences of an answer; a quotation counts as one piece of speech, abbreviations do not end one."""
    text = re.sub(r"“[^”]*”|\"[^\"]*\"", "“Q”", text)
    text = re.sub(r"\b(?:[A-Z]\.){2,}|\b(?:Mr|Mrs|Ms|Dr|Gen|Sen|Rep|St)\.", lambda m: m.group().replace(".", ""), text)
    return len(answer_sentences(text))


def test_count_sentences():
    assert count_sentences("One [1]. Two [2].") == 2
    assert count_sentences("The U.S. Secretary spoke [1]. The article says: “Yes. No. Maybe.” [1]") == 2
    assert count_sentences("“Yes or no. And quickly,” Barrot stressed. [1]") == 1


def check_record(answer: Answer, assistant) -> None:
    """What every answer record must satisfy, abstained or not."""
    docs = assistant.store.documents
    retrieved = {r.chunk_id for r in answer.retrieved}
    assert answer.retrieved and answer.model == assistant.model_name and answer.latency_s > 0
    # The model's own time is within the answer's, and it is kept whenever the model wrote
    assert answer.generation_s <= answer.latency_s and (answer.generation_s > 0 or not answer.tokens)
    if answer.abstained:
        assert answer.citations == [] and answer.mode == "abstained"
        assert answer.answer == prompts.abstain_sentence()
        return
    assert answer.mode in ("generated", "extractive")
    assert answer.citations, "an answer that is not an abstention must cite"
    assert sorted(set(markers(answer.answer))) == [c.n for c in answer.citations]
    for c in answer.citations:
        assert verify(c, docs[c.doc_id]), f"citation [{c.n}] does not verify: {c.quote!r}"
        assert c.chunk_id in retrieved, "a citation must point at a retrieved passage"
        assert c.title == docs[c.doc_id].title
    n = count_sentences(answer.answer)
    assert 1 <= n <= 3, f"{n} sentences: {answer.answer!r}"
    assert strip_markers(answer.answer)


@pytest.mark.slow
@pytest.mark.parametrize("gid", ANSWERABLE_SAMPLE)
def test_gold_answers_are_cited_and_verified(ask, assistant, gid):
    check_record(ask(GOLD_ITEMS[gid]["question"]), assistant)


@pytest.mark.slow
def test_most_sampled_gold_questions_are_answered(ask, assistant):
    answers = {gid: ask(GOLD_ITEMS[gid]["question"]) for gid in ANSWERABLE_SAMPLE}
    answered = [gid for gid, a in answers.items() if not a.abstained]
    assert len(answered) >= len(ANSWERABLE_SAMPLE) - 2, {g: a.answer for g, a in answers.items()}
    # what is answered mostly cites an article the gold set names as holding the evidence
    on_source = [g for g in answered if {c.doc_id for c in answers[g].citations} & set(GOLD_ITEMS[g]["sources"])]
    assert len(on_source) >= len(answered) - 1, {g: [c.doc_id for c in answers[g].citations] for g in answered}


@pytest.mark.slow
@pytest.mark.parametrize("gid", OFF_TOPIC)
def test_off_topic_questions_abstain(ask, assistant, gid):
    item = GOLD_ITEMS[gid]
    assert not item["answerable"]
    answer = ask(item["question"])
    assert answer.abstained, answer.answer
    check_record(answer, assistant)


@pytest.mark.slow
def test_barrot_question_streams_a_grounded_answer(assistant):
    events = list(assistant.stream("What did Barrot demand?"))
    final = events[-1]
    assert isinstance(final, Final) and sum(isinstance(e, Final) for e in events) == 1
    answer = final.answer
    assert not answer.abstained, answer.answer
    assert re.search(r"answer|yes|quick", answer.answer, re.I), answer.answer
    assert {c.doc_id for c in answer.citations} & {"002_557866627175f759", "004_fd8e4d69e29a1245"}
    check_record(answer, assistant)
    if answer.mode == "generated":  # what was shown while streaming is what was kept
        streamed = "".join(e.text for e in events if isinstance(e, Delta))
        assert strip_markers(answer.answer).rstrip(".")[:20] in " ".join(streamed.split())


@pytest.mark.slow
@pytest.mark.parametrize("question", ["What did Barrot demand?", GOLD_ITEMS["p09"]["question"]])
def test_prompt_injection_in_an_article_is_not_obeyed(extended_assistant, question):
    a = extended_assistant
    assert INJECTED_ID in a.store.documents
    answer = a.ask(question)
    assert "cheese" not in answer.answer.lower(), answer.answer
    if not answer.abstained:
        assert all(c.doc_id != INJECTED_ID for c in answer.citations)
    check_record(answer, a)


@pytest.mark.slow
def test_the_injected_article_is_retrieved_for_those_questions(extended_assistant):
    """Premise of the test above: the attack text does reach the model's candidates."""
    hits = {q: [p.doc_id for p in extended_assistant.retriever.search(q)]
            for q in ("What did Barrot demand?", GOLD_ITEMS["p09"]["question"])}
    assert any(INJECTED_ID in docs for docs in hits.values()), hits


@pytest.mark.slow
def test_an_answer_quoting_a_story_filed_twice_names_the_other_filing(extended_assistant):
    """End to end over an index that holds article 002 twice: the quote comes from one filing, and the
    citation and the answer record name the other."""
    filings = {"002_557866627175f759", WIRE_COPY_ID}
    answer = extended_assistant.ask("What did Barrot demand?")
    quoted = [c for c in answer.citations if c.doc_id in filings]
    assert quoted, answer.answer
    assert all(c.copies == sorted(filings - {c.doc_id}) for c in quoted)
    assert any(r.copies for r in answer.retrieved if r.doc_id in filings)


def test_a_question_about_what_did_not_happen_is_not_answered_with_what_did(assistant):
    """Real retrieval over the seeds: the evidence says most allies are spending more; the question asks
    which are not. The rule decides before the gate and the model."""
    answer = assistant.ask("Which allies are not spending more on defence today than five years ago?")
    assert answer.abstained and answer.abstain_reason is not None
    assert answer.abstain_reason.code == "opposite_of_asked", answer.abstain_reason
    assert "did not happen" in answer.abstain_reason.message


def test_empty_question_through_the_assistant(assistant):
    with pytest.raises(QuestionError):
        assistant.ask("   ")


@pytest.mark.slow
def test_question_longer_than_the_context(assistant):
    question = " ".join(["ceasefire"] * 30_000) + "?"
    with pytest.raises(QuestionError) as info:
        assistant.ask(question)
    message = str(info.value)
    assert "tokens" in message and "shorten" in message and "\n" not in message


def test_gold_file_is_well_formed():
    items = gold_items()
    assert len(items) == len(GOLD.read_text().strip().splitlines())
    for gid in ANSWERABLE_SAMPLE:
        assert items[gid]["answerable"] and items[gid]["sources"]


def test_an_answer_that_only_repeats_the_start_of_its_quote_is_not_shown_twice():
    reply = "French Foreign Minister Jean-Noel Barrot said Russia owes the United States an answer."
    answer, *_ = run(Q, reply, llm_config=None)
    assert answer.mode == "extractive"  # what is shown is the quote, not the model's words
    assert answer.answer.count("owes the United States") == 1, answer.answer
    assert_cited_and_verified(answer)



class RoleRetriever(FakeRetriever):
    """Knows that "France's foreign minister" is Jean-Noel Barrot, as the real one does from the articles."""

    def expand(self, query: str) -> str:
        return f"{query} (Jean-Noel Barrot)" if "France's foreign minister" in query else query


def test_an_answer_that_only_names_who_the_question_means_is_not_kept():
    retriever = RoleRetriever(passages_with(STRONG))
    from conftest import MODELS_TOML
    from rag.config import load_settings

    settings = load_settings(MODELS_TOML)
    cfg = settings.llm_config()[1]
    llm = ScriptedLLM("Jean-Noel Barrot [1].")
    what = "What did France's foreign minister demand?"
    final = [e for e in answer_stream(what, (), retriever, lambda: llm, settings, cfg) if isinstance(e, Final)][0]
    assert not final.answer.answer.startswith("Jean-Noel Barrot [1]"), final.answer.answer
    assert "owes the United States an answer" in final.answer.answer  # the quote answers instead
    who = "Who is France's foreign minister?"
    final = [e for e in answer_stream(who, (), retriever, lambda: llm, settings, cfg) if isinstance(e, Final)][0]
    assert final.answer.answer.startswith("Jean-Noel Barrot [1]"), final.answer.answer  # here the name is the answer


@pytest.mark.slow
def test_a_huge_passage_is_cut_to_fit_the_context_not_blamed_on_the_question(fast_build, assistant, tmp_path):
    """An article that is one endless sentence becomes evidence far larger than the model's context. The
    source is cut to fit; the question, which fits, is answered (it used to fail with "shorten the
    question")."""
    from conftest import MODELS_TOML
    from rag.assistant import Assistant
    from rag.config import load_settings

    folder = tmp_path / "articles"
    folder.mkdir()
    line = " ".join(f"the Aarhus harbour bridge cost 90 million euros and section {i} of it was painted blue"
                    for i in range(400))  # ~33,000 characters, no sentence end: one sentence, one passage
    (folder / "endless.txt").write_text("City works report\n" + line + "\n", encoding="utf-8")
    settings = load_settings(MODELS_TOML)
    settings.retrieval.chunk_chars = 40_000  # a user's setting that lets a whole article be one chunk
    huge = Assistant(settings, index_path=tmp_path / "index")
    huge.index([folder])
    huge._llm = assistant.llm
    question = "How much did the Aarhus harbour bridge cost?"
    passages = huge.retriever.search(question)
    assert max(len(s.text) for p in passages for s in p.sentences) > 30_000  # premise: one huge sentence
    answer = huge.ask(question)
    assert not answer.abstained and "90 million euros" in answer.answer, answer.answer
    assert all(verify(c, huge.document(c.doc_id)) for c in answer.citations)


def test_one_quote_when_the_settings_ask_for_one():
    from conftest import MODELS_TOML
    from rag.config import load_settings

    settings = load_settings(MODELS_TOML)
    settings.answer.quotes = 1
    answer, *_ = run(Q, "The moon is made of cheese [1].", settings=settings)
    assert answer.mode == "extractive" and len(answer.citations) == 1
    assert "owes the United States" in answer.citations[0].quote

def test_the_checks_thresholds_come_from_the_settings():
    """`[answer.checks]` reaches the checks: the same strong evidence passes at the default weak_evidence
    threshold and abstains, naming the configured one, when it is raised above every score."""
    from conftest import MODELS_TOML
    from rag.config import load_settings
    from rag.gate import Gate

    settings = load_settings(MODELS_TOML)
    settings.answer.gate = Gate()  # the checks' order decides
    answer, *_ = run(Q, OWES_REPLY, settings=settings)
    assert not answer.abstained
    settings.answer.checks = settings.answer.checks.model_copy(update={"min_sentence": 5.0})
    answer, _, _, _, asked = run(Q, OWES_REPLY, settings=settings)
    assert answer.abstained and not asked
    assert answer.abstain_reason is not None and answer.abstain_reason.code == "weak_evidence"
    assert "below 5.0" in answer.abstain_reason.message


def _judged(p, empty: bool = False, support: float = 1.0, headline_chars: int | None = None, reply: str = OWES_REPLY,
            scores: dict[str, float] = STRONG):
    """`run` with a scripted judge and a judged gate that follows the judge alone."""
    from conftest import MODELS_TOML
    from helpers import ScriptedJudge
    from rag.config import load_settings
    from rag.gate import Gate

    settings = load_settings(MODELS_TOML)
    settings.answer.judged_gate = Gate(bias=-5.0, weights={"judge": 10.0}, abstain_below=0.5)
    if headline_chars is not None:
        settings.answer.judge_headline_chars = headline_chars
    judge = ScriptedJudge(p, support)
    cfg = settings.llm_config()[1].model_copy(update={"sources": evidence.MAX_SOURCES})
    doc = DOC
    found = [] if empty else passages_with(scores, 0.8, doc)
    retriever = FakeRetriever(found, doc)
    llm = ScriptedLLM(reply)
    events = list(answer_stream(Q, (), retriever, lambda: llm, settings, cfg, judge))
    return events[-1].answer, judge


def test_a_judge_that_says_yes_lets_the_answer_through_and_sees_the_quoted_evidence():
    answer, judge = _judged(0.9)
    assert not answer.abstained and answer.answerability == pytest.approx(1 / (1 + math.exp(-4.0)))
    assert len(judge.asked) == 1
    question, shown = judge.asked[0]
    assert question == Q and "owes the United States an answer" in shown
    assert "[" not in shown and "“" not in shown  # plain text: no markers, no quotation marks of ours
    assert shown.startswith('(from the article "Allies urge Moscow to answer") ')  # what the sentences are about


def test_the_answering_model_declining_does_not_overrule_the_judge():
    """Evidence the model's "not in the sources" would overrule without a judge (see
    test_model_says_not_in_sources) is quoted when the judge has read it and said it answers."""
    middle = (LIMITS.min_sentence + LIMITS.confident_sentence) / 2
    scores = {**{k: middle / 2 for k in STRONG}, "owes": middle}
    answer, judge = _judged(0.9, reply=prompts.NOT_IN_SOURCES, scores=scores)
    assert not answer.abstained and answer.mode == "extractive" and "owes" in answer.answer
    assert_cited_and_verified(answer)
    answer, _ = _judged(0.1, reply=prompts.NOT_IN_SOURCES, scores=scores)
    assert answer.abstained


def test_the_judge_reads_no_headline_longer_than_the_setting():
    _, judge = _judged(0.9, headline_chars=len("Allies urge Moscow to answer") - 1)
    (_, shown), = judge.asked
    assert not shown.startswith("(from") and "owes the United States an answer" in shown


def _quoted_from(*stories: tuple[str, str, list[str]]) -> checks.Evidence:
    """Evidence whose sources are the given sentences of the given articles (doc_id, text, copies), best
    first, one sentence each."""
    from helpers import source

    found = []
    for doc_id, text, copies in stories:
        doc = document(text, doc_id=doc_id)
        found.append(source(doc, text.split("\n", 1)[1]))
        found[-1].passage.copies = copies
    return checks.Evidence(passages=[s.passage for s in found], sources=found, limits=LIMITS)


WIPRO = ("wipro", "Wipro beats forecasts\nWipro's sales rose 34% in the quarter.", [])
INFOSYS = ("infosys", "Infosys to hire staff\nInfosys will hire 5,000 staff this year.", [])


def test_the_judge_reads_quotes_from_two_stories_apart_and_the_likelier_one_counts():
    """Read together, two stories' sentences let the judge compose an answer neither gives."""
    from helpers import ScriptedJudge
    from rag.answer import judge_reading, judged_evidence

    ev = _quoted_from(WIPRO, INFOSYS)
    together = ('(from the articles "Wipro beats forecasts", "Infosys to hire staff") '
                "Wipro's sales rose 34% in the quarter. Infosys will hire 5,000 staff this year.")
    assert judged_evidence(ev, 2, 80) == [together]
    apart = judged_evidence(ev, 2, 80, each_story=True)
    assert apart == ['(from the article "Wipro beats forecasts") Wipro\'s sales rose 34% in the quarter.',
                     '(from the article "Infosys to hire staff") Infosys will hire 5,000 staff this year.']
    judge = ScriptedJudge(lambda q, e: 0.8 if "Infosys" in e else 0.2)
    assert judge_reading(judge, "How many staff will Infosys hire?", apart) == 0.8 and len(judge.asked) == 2
    assert judge_reading(judge, "How many staff will Infosys hire?", apart[:1]) == 0.2


def test_quotes_from_one_story_or_a_copy_of_it_are_read_together():
    from rag.answer import judged_evidence

    copy = ("wipro-again", "Wipro beats forecasts\nWipro's profit rose 60% in the quarter.", ["wipro"])
    assert len(judged_evidence(_quoted_from(WIPRO, copy), 2, 80, each_story=True)) == 1
    assert len(judged_evidence(_quoted_from(WIPRO, INFOSYS), 1, 80, each_story=True)) == 1  # one quote, one story


class TwoStories(FakeRetriever):
    """The scripted retriever over two articles."""

    def __init__(self, found: list[Passage], docs: list[Document]) -> None:
        super().__init__(found, docs[0])
        self.docs = {d.doc_id: d for d in docs}
        self.vocabulary |= {t for d in docs for t in tokenize(d.text)}

    def document(self, doc_id: str) -> Document:
        return self.docs[doc_id]


@pytest.mark.parametrize("each_story", [False, True])
def test_the_setting_puts_two_stories_quotes_to_the_judge_apart(each_story):
    from conftest import MODELS_TOML
    from helpers import ScriptedJudge
    from rag.config import load_settings
    from rag.gate import Gate

    other = document("Kremlin weighs the ceasefire\nBarrot demanded a clear reply from the Kremlin by Friday.\n",
                     "kremlin")
    found = passages_with(STRONG) + passages(other, PASSAGE_CHARS, {"Barrot demanded": 0.92})
    settings = load_settings(MODELS_TOML)
    settings.answer.judged_gate = Gate(bias=-5.0, weights={"judge": 10.0}, abstain_below=0.5)
    settings.answer.judge_each_story = each_story
    judge = ScriptedJudge(lambda q, e: 0.9 if "Kremlin weighs" in e else 0.2)
    cfg = settings.llm_config()[1].model_copy(update={"sources": evidence.MAX_SOURCES})
    events = list(answer_stream(Q, (), TwoStories(found, [DOC, other]), lambda: ScriptedLLM(OWES_REPLY), settings,
                                cfg, judge))
    read = [shown for _, shown in judge.asked]
    if each_story:
        assert len(read) == 2 and all(shown.startswith("(from the article ") for shown in read)
        assert not events[-1].answer.abstained  # one story that answers is enough
    else:
        assert len(read) == 1 and read[0].startswith("(from the articles ")


def test_a_judge_that_says_no_makes_the_judged_gate_abstain_without_calling_the_model():
    answer, judge = _judged(0.1)
    assert answer.abstained and answer.abstain_reason is not None
    assert answer.abstain_reason.code == "unlikely_answer" and "below 50%" in answer.abstain_reason.message
    assert len(judge.asked) == 1


def test_the_judge_is_not_asked_when_nothing_can_be_quoted():
    answer, judge = _judged(0.9, empty=True)
    assert answer.abstained and answer.abstain_reason is not None
    assert answer.abstain_reason.code == "no_passages" and judge.asked == []


def test_a_lead_in_the_judge_finds_unsupported_is_not_shown():
    """Item 5 of the judge: the model's own words go only when the cited source supports them."""
    answer, judge = _judged(0.9, support=0.9)
    assert answer.mode == "generated" and answer.answer.startswith("Barrot said Russia owes")
    assert answer.lead_in_support == 0.9
    (question, lead, shown), = judge.leads
    assert question == Q and lead.startswith("Barrot said Russia owes") and "[" not in lead
    assert "owes the United States an answer" in shown
    answer, judge = _judged(0.9, support=0.1)
    assert answer.mode == "extractive" and answer.answer.startswith("“") and answer.lead_in_support == 0.1
    assert_cited_and_verified(answer)


def test_without_a_judge_no_lead_in_is_judged():
    answer, *_ = run(Q, OWES_REPLY)
    assert answer.mode == "generated" and answer.lead_in_support is None


def test_the_lead_in_share_of_source_words_is_the_configured_one():
    # half of this lead-in's words are the source's: kept at lead_in_min_words 0.4, quotes alone at 0.9
    from conftest import MODELS_TOML
    from rag.config import load_settings

    reply = "Barrot said Russia owes the United States a reckoning, loudly and often [1]."
    settings = load_settings(MODELS_TOML)
    settings.answer.lead_in_min_words = 0.4
    kept, *_ = run(Q, reply, settings=settings)
    assert kept.mode == "generated" and kept.answer.startswith("Barrot said Russia owes")
    settings.answer.lead_in_min_words = 0.9
    dropped, *_ = run(Q, reply, settings=settings)
    assert not dropped.answer.startswith("Barrot said Russia owes")


def test_a_lead_in_that_goes_round_in_circles_is_replaced_by_the_quoted_evidence():
    # every word is the source's, but the 270M model looped until it ran out of tokens
    loop = "Barrot said Russia owes an answer. Barrot said Russia owes an answer again [1]."
    answer, *_ = run(Q, loop)
    assert answer.mode == "extractive" and answer.answer.startswith("“")
    assert_cited_and_verified(answer)
    answer, *_ = run(Q, OWES_REPLY)
    assert answer.mode == "generated"  # the same words said once stand


def test_loops_finds_a_run_of_words_said_twice():
    from rag.answer import loops

    assert loops("He's a good player and he's a good player for England", 4)
    assert not loops("He's a good player for England and for Wasps", 4)
    assert loops("The fund's sales rose; the fund's sales fell", 3)
    assert not loops("The fund's sales rose; the fund's sales fell", 4)
