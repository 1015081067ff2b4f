"""The output stage: is the final answer right?"""

from __future__ import annotations

from ..answers import extract_answer
from .. import metrics
from .result import StageResult


class OutputChecker:
    """Scores the extracted final answer with the dataset's official metric, so that the training
    reward and the benchmark agree; `success_threshold` is the score at which an answer counts as
    correct.
    """

    def __init__(self, metric: str = "exact_match", success_threshold: float = 0.5):
        self.metric = metric
        self.success_threshold = success_threshold

    def check(self, completion: str, answers: list[str], annotations: dict | None = None) -> StageResult:
        if not answers:
            return StageResult.abstain("the sample has no gold answer")
        prediction = extract_answer(completion)
        score = metrics.score(self.metric, prediction, answers, annotations)
        return StageResult(score=score, checks=[{"name": self.metric, "score": score, "evidence": prediction}])

    def is_correct(self, stage: StageResult) -> bool:
        return stage.score is not None and stage.score >= self.success_threshold
