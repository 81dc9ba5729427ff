"""An optional yes/no judge of the evidence: an instruct model asked whether the evidence an answer would
quote states the answer, read as P(Yes) from its next-token logits (one forward pass, no generation).
Its estimate is one more signal of the gate fitted with it (rag/judged_gate.toml); similarity
and shared words cannot tell "obtained the first patent for a steam engine" from "received the first
chamber engine patent", a reading model can more often."""

from __future__ import annotations

import re
from typing import Protocol

from rag import prompts

_MARKER = re.compile(r"\s*\[\d+\]")
MAX_EVIDENCE_CHARS = 3000  # two quoted sentences are far shorter; a runaway one is cut to fit any context


class Judge(Protocol):
    """Anything that puts a probability on "the evidence states the answer to the question"."""

    def p_yes(self, question: str, evidence: str) -> float: ...

    def supports(self, question: str, answer: str, evidence: str) -> float:
        """P(the evidence supports `answer` as an answer to the question): a lead-in's meaning check."""
        ...


class YesNoModel(Protocol):
    """What the judge needs of a model: P(Yes) as its reply to chat messages (rag.llm.LLM is one)."""

    def yes_probability(self, messages: list[dict[str, str]]) -> float: ...


class ModelJudge:
    """The judge on a local instruct model, with the prompts in prompts/judge_*.txt."""

    def __init__(self, model: YesNoModel) -> None:
        self.model = model

    def p_yes(self, question: str, evidence: str) -> float:
        return self.model.yes_probability(messages(question, evidence[:MAX_EVIDENCE_CHARS]))

    def supports(self, question: str, answer: str, evidence: str) -> float:
        return self.model.yes_probability(
            messages(question, evidence[:MAX_EVIDENCE_CHARS], answer[:MAX_EVIDENCE_CHARS]))


def messages(question: str, evidence: str, answer: str | None = None) -> list[dict[str, str]]:
    """Does the evidence answer the question (or, given `answer`, support that answer)?"""
    user = prompts.render("judge_user.txt", evidence=evidence, question=question) if answer is None else \
        prompts.render("judge_support_user.txt", evidence=evidence, question=question, answer=answer)
    return [{"role": "system", "content": prompts.render("judge_system.txt").strip()},
            {"role": "user", "content": user.strip()}]


def headed(evidence: str, titles: list[str], max_chars: int) -> str:
    """The evidence after the headlines of the articles it is quoted from (prompts/judge_evidence.txt):
    `(from the article "Wipro beats forecasts") Third-quarter sales rose 34% ...`. Measured on the dev
    suite, 2026-12-05, with the 1.5B judge: AUC for "the quoted evidence holds the gold answer" 0.91 ->
    0.925 (bbc-dev), 0.81 -> 0.821 (squad-dev), 0.92 -> 0.914 (seeds), and the judged gate re-fitted with
    it passes 0.799 -> 0.812 of the questions held out (mean of the three sets). A title over `max_chars`
    is an article's opening sentence standing in for a headline it lacks (rag.documents cuts it at
    TITLE_CHARS), not a headline: it is left out (see AnswerConfig.judge_headline_chars)."""
    named = list(dict.fromkeys(t for t in titles if t.strip() and len(t) <= max_chars))
    if not named:
        return evidence
    return prompts.render("judge_evidence.txt", noun="article" if len(named) == 1 else "articles",
                          titles=", ".join(f'"{t}"' for t in named), evidence=evidence).strip()


def plain(quoted_answer: str) -> str:
    """The evidence as the judge reads it: the quoted sentences without citation markers or curly quotes."""
    return _MARKER.sub("", quoted_answer).replace("“", "").replace("”", "")
