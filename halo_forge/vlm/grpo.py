"""GRPO as an alternative to RAFT's fine-tune: one cycle is one pass of TRL's GRPOTrainer over the
cycle's prompts, rewarded by the same verifier.

TRL samples K completions per prompt, scores them with `VerifierReward`, and takes a policy-gradient
step on group-normalised advantages, so every completion trains (right ones up, wrong ones down)
where RAFT fine-tunes on the kept right ones only. What TRL needed for these VLMs: prompts as
conversations with the image in its own column; batch sizes that count completions (a multiple of
K); a reward that takes completions as message lists and extra columns by name; no bf16 or gradient
checkpointing on a CPU (TRL turns both on by default); `max_prompt_length` unset, since truncating
a prompt would cut its image tokens.

Under `accelerate launch` (DDP) TRL shares out the prompts itself: each process samples and scores
its share (`--grpo-prompts-per-step` is per process) and TRL gathers the rewards to normalise each
group; the scored completions each process saw are gathered here, so the cycle's record holds all.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass

from transformers.trainer_callback import PrinterCallback
from trl import GRPOConfig, GRPOTrainer

from .data.sample import VLMSample
from .distributed import Ranks
from .finetune import NoInputGradients, RichProgress, StopOnInterrupt, one_device_per_process, trainer_arguments
from .models.loading import LoadedModel
from .rewards import VerifierReward, grpo_rows
from .selection import ScoredCompletion


@dataclass
class GRPOStats:
    steps: int
    loss: float
    groups: list[list[ScoredCompletion]]  # every scored completion, grouped by prompt
    entropy: float | None  # TRL's mean token entropy over the pass (of the tempered distribution)


def grpo_cycle(
    loaded: LoadedModel,
    prompts: Sequence[VLMSample],
    reward: VerifierReward,
    *,
    learning_rate: float,
    num_generations: int,
    prompts_per_step: int,
    temperature: float,
    max_new_tokens: int,
    gradient_checkpointing: bool = False,
    seed: int = 0,
    description: str = "grpo",
    ranks: Ranks | None = None,
) -> GRPOStats:
    """One pass over `prompts` (ceil(len / (prompts_per_step x processes)) optimizer steps), training
    in place."""
    ranks = ranks or Ranks()
    reward.record = []
    with tempfile.TemporaryDirectory(prefix="halo-forge-grpo-") as workdir:
        args = GRPOConfig(
            per_device_train_batch_size=num_generations * prompts_per_step,  # counts completions
            num_generations=num_generations,
            num_train_epochs=1,
            temperature=temperature,
            max_completion_length=max_new_tokens,
            **trainer_arguments(loaded, workdir, learning_rate, gradient_checkpointing, seed),
        )
        one_device_per_process(args)
        trainer = GRPOTrainer(
            model=loaded.model,
            reward_funcs=[reward],
            args=args,
            train_dataset=grpo_rows(prompts, loaded.adapter.messages),
            processing_class=loaded.processor,
            callbacks=[RichProgress(description, ranks.is_main), NoInputGradients(), StopOnInterrupt()],
        )
        trainer.remove_callback(PrinterCallback)
        output = trainer.train()
        entropies = [log["entropy"] for log in trainer.state.log_history if "entropy" in log]
    groups: dict[int, list[ScoredCompletion]] = {}
    for sample_id, completion, result in sorted(ranks.gather(reward.record), key=lambda r: r[0]):
        groups.setdefault(sample_id, []).append(ScoredCompletion(prompts[sample_id], completion, result))
    reward.record = None
    return GRPOStats(steps=output.global_step, loss=output.training_loss, groups=list(groups.values()),
                     entropy=sum(entropies) / len(entropies) if entropies else None)
