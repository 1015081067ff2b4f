"""Which scored completions are kept for fine-tuning (the keep-set)."""

from __future__ import annotations

import math
import random
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
    rng: random.Random,
) -> list[ScoredCompletion]:
    """Completions at or above the threshold, at most `max_per_prompt` distinct ones per prompt,
    then the top `keep_percent` of those by reward.

    The per-prompt cap stops easy prompts (where every sample is right) from crowding out hard
    ones; a trial that kept every correct sample stalled on the hard questions. Among equal
    rewards a prompt's best completion comes before any prompt's second, and the rest of the tie
    is broken by `rng` (seed it per cycle): dataset order must not decide, or the first half of a
    dataset whose answers all score 1.0 is kept every cycle and the second half never.
    """
    candidates: list[tuple[float, int, float, ScoredCompletion]] = []
    for group in groups:
        seen: set[str] = set()
        passing = [c for c in group if c.reward >= reward_threshold]
        rng.shuffle(passing)
        for c in sorted(passing, key=lambda c: -c.reward):
            if c.completion in seen or len(seen) >= max_per_prompt:
                continue
            candidates.append((-c.reward, len(seen), rng.random(), c))
            seen.add(c.completion)
    candidates.sort(key=lambda entry: entry[:3])
    return [entry[3] for entry in candidates[: math.ceil(len(candidates) * keep_percent)]]
