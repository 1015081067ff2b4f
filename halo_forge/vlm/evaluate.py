"""Held-out greedy evaluation with the dataset's official metric (shared by `train` and `benchmark`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from . import metrics, rollout
from .answers import extract_answer
from .data.sample import VLMSample
from .distributed import Ranks
from .grounding import Grounding, grounding
from .models.loading import LoadedModel
from .verifiers import VisionVerifier


@dataclass
class Evaluation:
    accuracy: float  # mean metric score, 0..1
    completions: list[str]
    predictions: list[str]  # the answers extracted from the completions
    scores: list[float]
    grounding: Grounding | None = None  # with a verifier: hallucinated claims and reasoning share


def evaluate(
    loaded: LoadedModel,
    samples: Sequence[VLMSample],
    metric: str,
    *,
    batch_size: int = 32,
    max_new_tokens: int = 64,
    show_progress: bool = True,
    verifier: VisionVerifier | None = None,
    ranks: Ranks | None = None,
) -> Evaluation:
    """Greedy answers scored by `metric`; with a `verifier`, also how grounded they are. With
    `ranks`, the processes share the batches and all return the same evaluation."""
    ranks = ranks or Ranks()
    completions = ranks.map_batches(samples, batch_size, lambda batch, b: [group[0] for group in rollout.generate(
        loaded, batch, max_new_tokens=max_new_tokens, batch_size=len(batch), show_progress=False,
    )], description="evaluate", show_progress=show_progress, lockstep=True)
    predictions = [extract_answer(c) for c in completions]
    scores = [metrics.score(metric, p, s.answers, s.annotations) for p, s in zip(predictions, samples)]
    accuracy = sum(scores) / len(scores) if scores else 0.0
    checked = None
    if verifier is not None:
        results = ranks.map_batches(list(zip(samples, completions)), batch_size, lambda batch, b: [
            group[0] for group in verifier.verify_batch([s for s, _ in batch], [[c] for _, c in batch])
        ], show_progress=False)
        checked = grounding(results)
    return Evaluation(accuracy=accuracy, completions=completions, predictions=predictions, scores=scores,
                      grounding=checked)
