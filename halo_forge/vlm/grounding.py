"""How grounded a model's answers are: the share of its visual claims the image refutes
(hallucinations), and the share of its answers that still reason before answering.

Read off the verifier's results on greedy held-out completions, so the figures use the same claim
reading and the same evidence as the reward.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .verifiers import VerifyResult
from .verifiers.vision import refuted_share


@dataclass
class Grounding:
    completions: int
    reasoning: int  # completions with at least one reasoning step before the answer
    claims: int  # visual claims the evidence could check
    refuted: int

    @property
    def hallucination_rate(self) -> float | None:
        """Refuted claims over checked claims; None when no completion made a checkable claim."""
        return self.refuted / self.claims if self.claims else None

    @property
    def reasoning_share(self) -> float:
        return self.reasoning / self.completions if self.completions else 0.0


def _reasons(result: VerifyResult) -> bool:
    """The reasoning stage scores above 0 exactly when it found at least one step."""
    stage = result.details.get("reasoning")
    return bool(stage and stage.score)


def grounding(results: Sequence[VerifyResult]) -> Grounding:
    """Counts over one verifier result per completion."""
    counts = [refuted_share(r.details.get("perception")) for r in results]
    return Grounding(completions=len(results), reasoning=sum(_reasons(r) for r in results),
                     claims=sum(c for _, c in counts), refuted=sum(r for r, _ in counts))
