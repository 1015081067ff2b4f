"""VisionVerifier: perception, reasoning and output combined into one reward where correctness dominates.

The output stage decides whether an answer is right. A right answer's reward lies in [0.5, 1] and
a wrong one's in [0, 0.5), so perception and reasoning grade how well an answer was reached but can
never lift a wrong answer above a right one. A stage that abstains (None: nothing to check) counts
as NEUTRAL, halfway: so a right answer whose claims the image confirms scores at least as high as
the bare right answer, which scores higher than a right answer whose claims the image refutes,
and saying nothing checkable is neither a free 1.0 nor an unfair 0.
"""

from __future__ import annotations

from collections.abc import Sequence

from PIL import Image

from ..answers import extract_answer
from ..data.sample import VLMSample
from .backends import Detector, OCRBackend, make_detector, make_ocr, make_semantic
from .claims import extract_claims
from .evidence import EvidenceCache, ImageEvidence
from .output import OutputChecker
from .perception import PerceptionChecker
from .reasoning import ReasoningChecker
from .result import StageResult, VerifyResult

CORRECT_FLOOR = 0.5  # a wrong answer's reward stays strictly below this, a right one's at or above it
NEUTRAL = 0.5  # the score of a stage that abstains
REFUTED_BELOW = 0.5  # a checked claim scoring under this (0 for all-or-nothing claims) is refuted


def refuted_share(perception: StageResult | None) -> tuple[int, int]:
    """(refuted, checked): how many of the perception stage's checked claims the evidence refutes."""
    scores = [c["score"] for c in perception.checks if c["score"] is not None] if perception else []
    return sum(s < REFUTED_BELOW for s in scores), len(scores)


def combine(stages: dict[str, StageResult], weights: dict[str, float], success: bool) -> float:
    """The tiered reward: the weighted mean of the stage scores (NEUTRAL for an abstaining stage),
    mapped into the answer's tier. A hallucination costs more than silence: when perception counts
    and refutes any claim, the quality falls below that of the same answer given bare, scaled by
    the share of claims confirmed (so a half-true description cannot ride on its true half)."""
    used = {name: w for name, w in weights.items() if w > 0 and name in stages}
    total = sum(used.values())

    def quality(scores: dict[str, float]) -> float:
        return sum(w * scores[name] for name, w in used.items()) / total if total else 0.0

    scores = {name: NEUTRAL if stages[name].score is None else stages[name].score for name in used}
    value = quality(scores)
    refuted, checked = refuted_share(stages.get("perception"))
    if refuted and "perception" in used:
        bare = quality({name: score if name == "output" else NEUTRAL for name, score in scores.items()})
        value = bare * (checked - refuted) / checked * 0.99
    if success:
        return CORRECT_FLOOR + (1 - CORRECT_FLOOR) * value
    return CORRECT_FLOOR * value * 0.99


class VisionVerifier:
    """Multi-stage verifier: perception (0.3), reasoning (0.4), output (0.3) by default.

    `ocr` / `detector` name the tool backends used where annotations give no truth (see
    `backends.py`); a backend that cannot run here leaves its checks "not applicable". `semantic`
    lets embeddings judge free-form answers that no rule decides.
    """

    def __init__(
        self,
        perception_weight: float = 0.3,
        reasoning_weight: float = 0.4,
        output_weight: float = 0.3,
        output: OutputChecker | None = None,
        ocr: str | OCRBackend | None = "rapidocr",
        detector: str | Detector | None = "shapes",
        yolo_weights: str | None = None,
        allow_pickle: bool = False,
        semantic: bool = False,
        cache_size: int = 4096,
        cache_dir: str | None = None,
    ):
        self.weights = {"perception": perception_weight, "reasoning": reasoning_weight, "output": output_weight}
        self.output = output or OutputChecker()
        self.perception = PerceptionChecker()
        self.reasoning = ReasoningChecker()
        self.tool_notes: list[str] = []  # why a requested backend is not in use
        if isinstance(ocr, str) or ocr is None:
            ocr, why = make_ocr(ocr)
            self.tool_notes += [why] if why else []
        if isinstance(detector, str) or detector is None:
            detector, why = make_detector(detector, yolo_weights, allow_pickle)
            self.tool_notes += [why] if why else []
        if semantic and self.output.semantic is None:
            self.output.semantic, why = make_semantic(True)
            self.tool_notes += [why] if why else []
        self.evidence = EvidenceCache(detector, ocr, capacity=cache_size, directory=cache_dir)

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

    def verify_batch(
        self, samples: Sequence[VLMSample], completions: Sequence[Sequence[str]], use_cache: bool = True
    ) -> list[list[VerifyResult]]:
        """Scores the K completions of each sample; the image's evidence is computed once per image."""
        results = []
        for sample, group in zip(samples, completions, strict=True):
            image = sample.load_image() if sample.image is not None else None
            if use_cache:
                evidence = self.evidence.get(image, sample.annotations)
                results.append([self.score(sample, c, evidence) for c in group])
            else:  # the baseline of benchmarks/verifier_throughput.py: evidence per completion
                results.append([self.score(sample, c, self.evidence.compute(image, sample.annotations)) for c in group])
        return results

    def score(self, sample: VLMSample, completion: str, evidence: ImageEvidence) -> VerifyResult:
        if not completion.strip():
            empty = StageResult(score=0.0, reason="empty completion")
            return VerifyResult(reward=0.0, success=False, details={"output": empty})
        output = self.output.check(completion, sample.answers, sample.annotations)
        claims = extract_claims(completion)
        perception = self.perception.check(claims, evidence)
        confirmed = {claim: check["score"] for claim, check in zip(claims, perception.checks)}
        reasoning = self.reasoning.check(completion, extract_answer(completion), confirmed)
        stages = {"perception": perception, "reasoning": reasoning, "output": output}
        success = self.output.is_correct(output)
        return VerifyResult(reward=combine(stages, self.weights, success), success=success, details=stages)
