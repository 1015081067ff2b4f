"""Which scored completions are kept for fine-tuning (the keep-set)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from .data.sample import VLMSample
from .verifiers.result import VerifyResult


@dataclass
class ScoredCompletion:
    sample: VLMSample
    completion: str
    result: VerifyResult

    @property
    def reward(self) -> float:
        return self.result.reward


def select_keep_set(
    groups: list[list[ScoredCompletion]],
    reward_threshold: float,
    keep_percent: float,
    max_per_prompt: int,
) -> list[ScoredCompletion]:
    """Completions at or above the threshold, at most `max_per_prompt` distinct ones per prompt,
    then the top `keep_percent` of those by reward.

    The per-prompt cap stops easy prompts (where every sample is right) from crowding out hard
    ones; a trial that kept every correct sample stalled on the hard questions. Among equal
    rewards, completions of prompts the model found harder (lower mean reward) come first.
    """
    candidates: list[tuple[float, float, ScoredCompletion]] = []
    for group in groups:
        if not group:
            continue
        difficulty = sum(c.reward for c in group) / len(group)
        seen: set[str] = set()
        passing = sorted((c for c in group if c.reward >= reward_threshold), key=lambda c: -c.reward)
        for c in passing:
            if c.completion in seen or len(seen) >= max_per_prompt:
                continue
            seen.add(c.completion)
            candidates.append((-c.reward, difficulty, c))
    candidates.sort(key=lambda t: (t[0], t[1]))
    keep = math.ceil(len(candidates) * keep_percent)
    return [c for _, _, c in candidates[:keep]]
