"""Supervised fine-tuning on the ground-truth answers: the warm start before RAFT.

With `target_accuracy`, training stops as soon as held-out greedy accuracy reaches it, which is
how the demo makes a deliberately mediocre starting model for RAFT to improve.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import torch
from rich.console import Console
from transformers import TrainerCallback

from ..errors import HaloForgeError
from ..files import write_json
from .config import SFTOptions
from .data.registry import get_spec, load_run_data
from .evaluate import evaluate
from .finetune import add_lora, finetune, last_checkpoint
from .models.loading import load_model
from .runs import CONFIG_FILE, check_settings, prepare_output, write_settings

SUMMARY_FILE = "sft_summary.json"
CHECKPOINTS = "checkpoints"  # the Trainer's resumable state while training


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
    """Trains, saves a full model (LoRA merged in) at `options.output_dir`, returns a summary.

    Interrupted, it resumes from its last checkpoint (`checkpoints/`, every `save_every` steps)
    when run again with the same settings; finished, it returns the summary it wrote."""
    console = console or Console(markup=False)
    options.validate()
    output = Path(options.output_dir)
    if prepare_output(output):
        check_settings(output, options, console.print)
        if (output / SUMMARY_FILE).is_file():
            console.print(f"{output} already holds this warm start; pass another --output to train again.")
            return json.loads((output / SUMMARY_FILE).read_text())
    else:
        write_settings(output / CONFIG_FILE, options.to_dict())
    if options.num_threads:
        torch.set_num_threads(options.num_threads)
    spec = get_spec(options.dataset)
    data = load_run_data(options.dataset, split=options.split, limit=options.limit, eval_limit=options.eval_limit,
                         seed=options.seed, path=options.dataset_path, on_skip=console.print,
                         max_pixels=options.max_pixels, allow_outside_paths=options.allow_outside_paths)
    train_set, eval_set = data.train, data.held_out
    if not train_set or not eval_set:
        raise HaloForgeError(f"{data.policy}: {len(train_set)} training and {len(eval_set)} held-out samples; "
                             f"a warm start needs both.")
    checkpoints = output / CHECKPOINTS
    resume = last_checkpoint(checkpoints)
    loaded = load_model(resume or options.model_name, trainable_adapter=True, **options.loading_options(spec))
    if not options.full_finetune and not resume:
        add_lora(loaded, options, seed=options.seed)

    def check() -> float:
        return evaluate(loaded, eval_set, spec.metric, batch_size=64, max_new_tokens=options.max_new_tokens,
                        show_progress=False).accuracy

    callbacks = []
    if options.target_accuracy is not None:
        callbacks.append(_StopAtTarget(check, options.eval_every, options.target_accuracy, console))
    stats = finetune(
        loaded, [(s, s.target) for s in train_set], learning_rate=options.learning_rate, epochs=options.epochs,
        batch_size=options.batch_size, seed=options.seed, callbacks=callbacks, description="sft",
        checkpoints=checkpoints, save_steps=options.save_every,
    )
    if stats.resumed_from:
        console.print(f"sft resumed from {stats.resumed_from}")
    accuracy = check()
    model = loaded.model if options.full_finetune else loaded.model.merge_and_unload()
    model.save_pretrained(output)
    loaded.processor.save_pretrained(output)
    summary = {
        "options": options.to_dict(), "steps": stats.steps, "train_loss": stats.loss, "eval_accuracy": accuracy,
        "checks": callbacks[0].history if callbacks else [], "resumed_from": stats.resumed_from,
    }
    write_json(output / SUMMARY_FILE, summary)
    shutil.rmtree(checkpoints, ignore_errors=True)  # optimizer state; the model is saved
    console.print(f"sft done: {stats.steps} steps, held-out accuracy {accuracy:.3f}, saved to {output}")
    return summary


def resume_hint(output: Path) -> str:
    """Where an interrupted `vlm sft` into `output` will resume."""
    last = last_checkpoint(output / CHECKPOINTS)
    return (f"Run the same command again to resume from {last}." if last else
            "No checkpoint was saved yet; running the same command again starts over.")
