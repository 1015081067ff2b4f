"""Supervised fine-tuning on the ground-truth answers: the warm start before RAFT.

With `target_accuracy`, training stops as soon as held-out greedy accuracy reaches it, which is
how the demo makes a deliberately mediocre starting model for RAFT to improve.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from rich.console import Console
from transformers import TrainerCallback

from ..files import write_json
from .data.registry import get_spec, load_run_data
from .evaluate import evaluate
from .finetune import finetune
from .models.loading import load_model


@dataclass
class SFTOptions:
    model: str
    dataset: str = "synthetic"
    dataset_path: str | None = None
    output: str = "models/vlm_sft"
    split: str | None = None
    limit: int | None = None
    eval_limit: int = 200
    epochs: float = 3.0
    batch_size: int = 8
    learning_rate: float = 2e-4
    full_finetune: bool = False
    lora_r: int = 16
    target_accuracy: float | None = None
    eval_every: int = 50  # steps between held-out checks when a target is set
    max_new_tokens: int = 16
    seed: int = 0
    dtype: str = "auto"
    num_threads: int | None = None


class _StopAtTarget(TrainerCallback):
    """Evaluates every `every` steps; stops training once accuracy reaches `target`."""

    def __init__(self, check, every: int, target: float, console: Console):
        self.check, self.every, self.target, self.console = check, every, target, console
        self.history: list[dict] = []

    def on_step_end(self, args, state, control, model=None, **kwargs):
        if state.global_step % self.every:
            return
        accuracy = self.check()
        model.train()
        self.history.append({"step": state.global_step, "eval_accuracy": accuracy})
        self.console.print(f"sft step {state.global_step}: eval_accuracy {accuracy:.3f}")
        if accuracy >= self.target:
            control.should_training_stop = True


def run_sft(options: SFTOptions, console: Console | None = None) -> dict:
    """Trains, saves a full model (LoRA merged in) at `options.output`, returns a summary."""
    console = console or Console()
    if options.num_threads:
        torch.set_num_threads(options.num_threads)
    spec = get_spec(options.dataset)
    data = load_run_data(options.dataset, split=options.split, limit=options.limit, eval_limit=options.eval_limit,
                         seed=options.seed, path=options.dataset_path, on_skip=console.print)
    train_set, eval_set = data.train, data.held_out
    loaded = load_model(options.model, dtype=options.dtype, min_pixels=spec.min_pixels, max_pixels=spec.max_pixels)
    if not options.full_finetune:
        from peft import LoraConfig, get_peft_model

        torch.manual_seed(options.seed)  # LoRA's initialisation is random: the same seed, the same run

        lora = LoraConfig(r=options.lora_r, lora_alpha=2 * options.lora_r,
                          target_modules=loaded.adapter.lora_target_modules(), task_type="CAUSAL_LM")
        loaded.model = get_peft_model(loaded.model, lora)

    def check() -> float:
        return evaluate(loaded, eval_set, spec.metric, batch_size=64, max_new_tokens=options.max_new_tokens,
                        show_progress=False).accuracy

    callbacks = []
    if options.target_accuracy is not None:
        callbacks.append(_StopAtTarget(check, options.eval_every, options.target_accuracy, console))
    stats = finetune(
        loaded, [(s, s.target) for s in train_set], learning_rate=options.learning_rate, epochs=options.epochs,
        batch_size=options.batch_size, seed=options.seed, callbacks=callbacks, description="sft",
    )
    accuracy = check()
    model = loaded.model if options.full_finetune else loaded.model.merge_and_unload()
    output = Path(options.output)
    model.save_pretrained(output)
    loaded.processor.save_pretrained(output)
    summary = {
        "options": asdict(options), "steps": stats.steps, "train_loss": stats.loss, "eval_accuracy": accuracy,
        "checks": callbacks[0].history if callbacks else [],
    }
    write_json(output / "sft_summary.json", summary)
    console.print(f"sft done: {stats.steps} steps, held-out accuracy {accuracy:.3f}, saved to {output}")
    return summary
