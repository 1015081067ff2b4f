"""The output stage: is the final answer right?

When the dataset has an official metric (VQA accuracy, ANLS, relaxed accuracy, MathVista), the
stage uses it, so that the training reward and the benchmark agree. Otherwise rules decide
closed-class answers (yes/no, numbers, colours, directions, shapes: an embedding puts "yes" and
"no" at 0.73 and left/right swaps at 0.92, so it cannot), option letters map to option text, and
only free-form text falls back to fuzzy and, optionally, semantic similarity.
"""

from __future__ import annotations

import math
import re

from rapidfuzz import fuzz

from .. import metrics
from ..answers import extract_answer
from .claims import COLORS, SHAPES, SIDES
from .result import StageResult

CLOSED_CLASSES = (
    frozenset({"yes", "no"}),
    frozenset(COLORS),
    frozenset(SIDES) | {"above", "below"},
    frozenset(SHAPES),
)
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
FUZZY_FLOOR = 0.85  # free-form answers this similar (rapidfuzz ratio) count by their similarity
SEMANTIC_FLOOR = 0.8


def _as_number(text: str) -> float | None:
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return None


class OutputChecker:
    """Scores the extracted final answer; `success_threshold` is the score at which it counts as right.

    `semantic` is an optional callable (text, text) -> cosine similarity for free-form answers.
    """

    def __init__(self, metric: str = "exact_match", success_threshold: float = 0.5, semantic=None):
        self.metric, self.success_threshold, self.semantic = metric, success_threshold, semantic

    def check(self, completion: str, answers: list[str], annotations: dict | None = None) -> StageResult:
        if not answers:
            return StageResult.abstain("the sample has no gold answer")
        prediction = extract_answer(completion)
        if self.metric != "exact_match":
            score = metrics.score(self.metric, prediction, answers, annotations)
            return StageResult(score=score, checks=[{"name": self.metric, "score": score, "evidence": prediction}])
        choices = (annotations or {}).get("choices") or []
        best = max((self.match(prediction, a, choices) for a in answers), key=lambda r: r[0])
        return StageResult(score=best[0], checks=[{"name": best[1], "score": best[0], "evidence": prediction}])

    def is_correct(self, stage: StageResult) -> bool:
        return stage.score is not None and stage.score >= self.success_threshold

    def match(self, prediction: str, gold: str, choices: list[str]) -> tuple[float, str]:
        """(score, rule that decided) for one gold answer."""
        pred, want = metrics.normalize(prediction), metrics.normalize(gold)
        if not pred:
            return 0.0, "empty"
        if choices:
            pred, want = self._option_text(pred, choices), self._option_text(want, choices)
        if pred == want:
            return 1.0, "exact"
        if (target := _as_number(want)) is not None:
            numbers = {float(n) for n in _NUMBER.findall(pred)}
            right = len(numbers) == 1 and math.isclose(numbers.pop(), target, rel_tol=1e-4, abs_tol=1e-9)
            return float(right), "numeric"
        for words in CLOSED_CLASSES:
            if want in words:
                said = set(pred.split()) & words
                return float(said == {want}), "closed-class"
        similarity = fuzz.ratio(pred, want) / 100
        if similarity >= FUZZY_FLOOR:
            return similarity, "fuzzy"
        if self.semantic is not None and len(want.split()) > 1:
            cosine = float(self.semantic(pred, want))
            if cosine >= SEMANTIC_FLOOR:
                return cosine, "semantic"
        return 0.0, "no match"

    @staticmethod
    def _option_text(answer: str, choices: list[str]) -> str:
        """An option letter as its option's (normalised) text; anything else unchanged."""
        letter = metrics.option_letter(answer)
        if letter and len(answer) <= 3 and ord(letter) - ord("A") < len(choices):
            return metrics.normalize(choices[ord(letter) - ord("A")])
        return answer
