"""Plain records a verifier returns: one per stage, one per completion."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

STAGES = ("perception", "reasoning", "output")  # the verifier's stages, in the order they run


@dataclass
class StageResult:
    """A stage's score in [0, 1], or None when it had nothing to check ("not applicable")."""

    score: float | None
    checks: list[dict[str, Any]] = field(default_factory=list)  # each: name, score or None, evidence
    reason: str = ""  # why the stage abstained, when it did

    @classmethod
    def abstain(cls, reason: str) -> StageResult:
        return cls(score=None, reason=reason)


@dataclass
class VerifyResult:
    reward: float  # in [0, 1]; every correct answer outscores every wrong one
    success: bool  # the answer is correct
    details: dict[str, StageResult]
