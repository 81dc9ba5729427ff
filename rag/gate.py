"""The fitted abstention gate's model and its file: light enough for the settings to load at start-up
(the signals it weighs are measured in rag/answerability.py)."""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, Field

GATE_FILE = Path(__file__).with_name("gate.toml")
JUDGED_GATE_FILE = Path(__file__).with_name("judged_gate.toml")


class Gate(BaseModel):
    """The fitted model: P(the evidence answers) = logistic(bias + sum of weight x signal)."""

    bias: float = 0.0
    weights: dict[str, float] = Field(default_factory=dict)  # signal or "check:<name>" -> weight
    # Below this probability the assistant abstains rather than quote evidence.
    abstain_below: float = Field(0.0, ge=0.0, le=1.0)

    def probability(self, signals: Mapping[str, float]) -> float:
        z = self.bias + sum(w * signals.get(name, 0.0) for name, w in self.weights.items())
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))

    def against(self, signals: Mapping[str, float]) -> list[str]:
        """The fired checks that count against answering, most first."""
        fired = [(self.weights.get(n, 0.0) * v, n) for n, v in signals.items() if n.startswith("check:") and v]
        return [n.removeprefix("check:") for w, n in sorted(fired) if w < 0]


def load_gate(path: Path = GATE_FILE) -> Gate:
    """The fitted gate (an empty one, which never abstains, when the file is absent)."""
    if not path.is_file():
        return Gate()
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return Gate.model_validate(data.get("gate", {}))


def load_judged_gate() -> Gate:
    """The gate fitted with a judge's estimate among its signals (`scripts/fit_gate.py --judge NAME`)."""
    return load_gate(JUDGED_GATE_FILE)
