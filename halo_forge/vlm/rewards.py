"""The verifier as a reward function for TRL's trainers (GRPOTrainer, RLOOTrainer, ...).

TRL calls `f(prompts=..., completions=..., completion_ids=..., **columns)` with one entry per
completion and every dataset column repeated alongside (here `image`, `question`, `answers`,
`annotations`, `sample_id`), and reads back one float per completion, or None where the reward does not apply
(a row without gold answers). Completions arrive as message lists for conversational prompts and
as strings otherwise; both work.

    from trl import GRPOTrainer
    from halo_forge.vlm.rewards import VerifierReward
    trainer = GRPOTrainer(model=..., reward_funcs=[VerifierReward()], train_dataset=grpo_rows(samples))
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence

from datasets import Dataset

from .data.sample import VLMSample
from .verifiers import VisionVerifier


def completion_text(completion) -> str:
    """The text of a completion given as a string or as messages (content a string or typed parts)."""
    if isinstance(completion, str):
        return completion
    parts = []
    for message in completion:
        content = message.get("content") or ""
        parts += [content] if isinstance(content, str) else [p.get("text", "") for p in content if p.get("type") == "text"]
    return "".join(parts)


def _question(prompt) -> str:
    """The last user text of a prompt (conversational or a string), for rows without a question column."""
    if isinstance(prompt, str):
        return prompt
    users = [m for m in prompt if m.get("role") == "user"]
    return completion_text(users[-1:]) if users else ""


class VerifierReward:
    """The multi-stage verifier under TRL's reward-function contract (see the module docstring)."""

    __name__ = "halo_forge_verifier"  # TRL names the reward's logged columns after it

    def __init__(self, verifier: VisionVerifier | None = None):
        self.verifier = verifier or VisionVerifier()
        self.record: list | None = None  # when a list: (sample_id, completion, result) per scored completion

    def __call__(self, prompts: Sequence, completions: Sequence, image: Sequence | None = None,
                 answers: Sequence | None = None, annotations: Sequence | None = None,
                 question: Sequence | None = None, sample_id: Sequence | None = None, **_) -> list[float | None]:
        n = len(completions)
        images = image if image is not None else [None] * n
        golds = answers if answers is not None else [None] * n
        notes = annotations if annotations is not None else [None] * n
        questions = question if question is not None else [_question(p) for p in prompts]
        ids = sample_id if sample_id is not None else range(n)  # TRL repeats a row's columns K times in a row
        rewards: list[float | None] = [None] * n  # None: no gold answer to check against
        rows = [(i, row) for i, row in enumerate(ids) if golds[i]]
        for row, members in itertools.groupby(rows, key=lambda pair: pair[1]):
            indices = [i for i, _ in members]
            first = indices[0]
            note = notes[first]
            note = json.loads(note) if isinstance(note, str) else (note or {})
            gold = golds[first]
            sample = VLMSample(id=str(row), image=images[first], question=questions[first],
                               answers=[gold] if isinstance(gold, str) else [str(a) for a in gold], annotations=note)
            texts = [completion_text(completions[i]) for i in indices]
            for i, text, result in zip(indices, texts, self.verifier.verify_batch([sample], [texts])[0]):
                rewards[i] = result.reward
                if self.record is not None:
                    self.record.append((row, text, result))
        return rewards


def grpo_rows(samples: Sequence[VLMSample], messages) -> Dataset:
    """TRL's conversational prompt rows: `messages(question)` for the prompt, the image in its own
    column, and the gold answers, annotations and position as columns the reward function receives.
    Annotations travel as JSON, since Arrow needs one schema for every row's nested values."""
    return Dataset.from_list([
        {"prompt": messages(s.question), "image": s.load_image(), "question": s.question, "answers": s.answers,
         "annotations": json.dumps(s.annotations), "sample_id": i}
        for i, s in enumerate(samples)
    ])
