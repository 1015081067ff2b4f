"""Combines the stages into one reward in which correctness dominates.

The output stage decides whether an answer is right. A right answer's reward lies in [0.5, 1] and
a wrong one's in [0, 0.5), so perception and reasoning grade how well an answer was reached but can
never lift a wrong answer above a right one. Stages that abstain (None) drop out and the weights
renormalise over those that spoke.
"""

from __future__ import annotations

from collections.abc import Sequence

from PIL import Image

from ..data.sample import VLMSample
from .output import OutputChecker
from .result import StageResult, VerifyResult

# A wrong answer's reward stays strictly below this, a right one's at or above it.
CORRECT_FLOOR = 0.5


def combine(stages: dict[str, StageResult], weights: dict[str, float], success: bool) -> float:
    """The tiered reward: the weighted mean of the stages that spoke, mapped into the answer's tier."""
    spoken = {name: s.score for name, s in stages.items() if s.score is not None and weights.get(name, 0) > 0}
    total = sum(weights[name] for name in spoken)
    quality = sum(weights[name] * score for name, score in spoken.items()) / total if total else 0.0
    if success:
        return CORRECT_FLOOR + (1 - CORRECT_FLOOR) * quality
    return CORRECT_FLOOR * quality * 0.99  # strictly below the floor


class VisionVerifier:
    """Multi-stage verifier: perception (0.3), reasoning (0.4), output (0.3) by default."""

    def __init__(
        self,
        perception_weight: float = 0.3,
        reasoning_weight: float = 0.4,
        output_weight: float = 0.3,
        output: OutputChecker | None = None,
    ):
        self.weights = {"perception": perception_weight, "reasoning": reasoning_weight, "output": output_weight}
        self.output = output or OutputChecker()

    def verify(
        self,
        image: Image.Image | str | None,
        prompt: str,
        completion: str,
        ground_truth: str | list[str],
        annotations: dict | None = None,
    ) -> VerifyResult:
        answers = [ground_truth] if isinstance(ground_truth, str) else list(ground_truth)
        sample = VLMSample(id="", image=image, question=prompt, answers=answers, annotations=annotations or {})
        return self.verify_batch([sample], [[completion]])[0][0]

    def verify_batch(self, samples: Sequence[VLMSample], completions: Sequence[Sequence[str]]) -> list[list[VerifyResult]]:
        """Scores the K completions of each sample."""
        return [[self._score(sample, c) for c in group] for sample, group in zip(samples, completions, strict=True)]

    def _score(self, sample: VLMSample, completion: str) -> VerifyResult:
        if not completion.strip():
            empty = StageResult(score=0.0, reason="empty completion")
            return VerifyResult(reward=0.0, success=False, details={"output": empty})
        output = self.output.check(completion, sample.answers, sample.annotations)
        stages = {"output": output}
        success = self.output.is_correct(output)
        return VerifyResult(reward=combine(stages, self.weights, success), success=success, details=stages)
