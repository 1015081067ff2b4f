"""The output stage: is the final answer right?

Correctness is the dataset metric's verdict of full credit (`metrics.is_success`): for exact-match
datasets the rules of `matching` (the same rules held-out evaluation uses), VQA accuracy from three
agreeing annotators, ANLS 1.0 after normalisation, relaxed accuracy as defined, MathVista exact
with a choice named. The stage's score ranks answers: the metric's own score (partial credit
included), and for free-form gold answers that no rule passed, fuzzy (rapidfuzz) or, optionally,
semantic similarity as partial credit. Partial credit never makes an answer correct, and a text
whose numbers differ from the gold's earns none ("january 2018" for "january 2019").
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz

from .. import matching, metrics
from ..answers import extract_answer
from .result import StageResult

FUZZY_FLOOR = 0.85  # free-form answers this similar (rapidfuzz ratio) earn their similarity as partial credit
SEMANTIC_FLOOR = 0.8
PARTIAL_CAP = 0.9  # partial credit stays below a right answer's score


@dataclass
class OutputResult(StageResult):
    correct: bool = False


def _free_form(gold: str) -> bool:
    """Whether no rule of `matching` decides this gold answer (not a number, letter or closed class)."""
    want = matching.normalize(gold)
    return bool(want) and not matching.NUMBER.fullmatch(want) and len(gold.strip()) > 1 and not any(
        want in members for members in matching.CLOSED_CLASSES
    )


class OutputChecker:
    """Scores the extracted final answer with `metric` (a name in `metrics.METRICS`).

    `semantic` is an optional callable (text, text) -> cosine similarity for free-form answers.
    """

    def __init__(self, metric: str = "exact_match", semantic=None):
        self.metric, self.semantic = metric, semantic

    def check(self, completion: str, answers: list[str], annotations: dict | None = None) -> OutputResult:
        if not answers:
            return OutputResult(score=None, reason="the sample has no gold answer")
        prediction = extract_answer(completion)
        score, correct = metrics.judge(self.metric, prediction, answers, annotations) if prediction else (0.0, False)
        rule = self.metric
        if not correct and self.metric == "exact_match" and score == 0.0:
            score, rule = self.partial_credit(prediction, answers)
        if not correct:
            score = min(score, PARTIAL_CAP)
        check = {"name": rule, "score": score, "evidence": prediction, "correct": correct}
        return OutputResult(score=score, checks=[check], correct=correct)

    @staticmethod
    def is_correct(stage: OutputResult) -> bool:
        return stage.correct

    def partial_credit(self, prediction: str, answers: list[str]) -> tuple[float, str]:
        """Similarity of a free-form answer to its nearest gold, when the numbers agree."""
        pred = matching.normalize(prediction)
        best = (0.0, "no match")
        for gold in (a for a in answers if _free_form(a)):
            want = matching.normalize(gold)
            if not pred or matching.numbers(pred) != matching.numbers(want):
                continue
            similarity = fuzz.ratio(pred, want) / 100
            if similarity >= FUZZY_FLOOR:
                best = max(best, (similarity, "fuzzy"))
            elif self.semantic is not None and len(want.split()) > 1:
                cosine = float(self.semantic(pred, want))
                if cosine >= SEMANTIC_FLOOR:
                    best = max(best, (cosine, "semantic"))
        return best
