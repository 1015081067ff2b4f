"""One fine-tune pass on the keep-set, through TRL's SFTTrainer.

Rows are prompt/completion pairs with their image; TRL's vision collator masks the prompt and
image tokens (labels -100) so the loss falls on the completion only.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from datasets import Dataset
from rich.progress import Progress
from transformers import TrainerCallback
from transformers.trainer_callback import PrinterCallback
from trl import SFTConfig, SFTTrainer

from .data.sample import VLMSample
from .models.loading import LoadedModel


@dataclass
class FinetuneStats:
    steps: int
    loss: float  # mean training loss over the pass


class RichProgress(TrainerCallback):
    """A progress bar for the fine-tune phase, in place of the Trainer's tqdm and log dicts."""

    def __init__(self, description: str, enabled: bool):
        self.description, self.enabled = description, enabled

    def on_train_begin(self, args, state, control, **kwargs):
        self.progress = Progress(transient=True, disable=not self.enabled)
        self.progress.start()
        self.task = self.progress.add_task(self.description, total=state.max_steps)

    def on_step_end(self, args, state, control, **kwargs):
        self.progress.update(self.task, completed=state.global_step)

    def on_train_end(self, args, state, control, **kwargs):
        self.progress.stop()


def strip_input_gradient_hooks(model: torch.nn.Module) -> None:
    """Remove the hooks that make every input embedding's output require gradients.

    `gradient_checkpointing_enable` (and TRL, and PEFT) hook each sub-model's embedding, the frozen
    vision tower's patch embedding included, so backward would run through the whole vision tower
    for nothing. Non-reentrant checkpointing (used here) needs no such hook: trainable weights
    inside a checkpointed layer get their gradients without it. `disable_input_require_grads`
    cannot do this: a second `enable` call overwrites the list of the first one's hooks, which
    then stay registered, so the hooks are found by name.
    """
    for module in model.modules():
        hooks = module._forward_hooks
        for key in [k for k, hook in hooks.items() if getattr(hook, "__name__", "") == "make_inputs_require_grads"]:
            del hooks[key]


class NoInputGradients(TrainerCallback):
    """Strips the input-gradient hooks before every step (the Trainer adds them as it starts)."""

    def on_step_begin(self, args, state, control, model=None, **kwargs):
        strip_input_gradient_hooks(model)


def training_rows(loaded: LoadedModel, pairs: Sequence[tuple[VLMSample, str]]) -> Dataset:
    """Conversational prompt/completion rows with images, in the shape TRL's collator expects."""
    return Dataset.from_list(
        [
            {
                "prompt": loaded.adapter.messages(sample.question),
                "completion": [{"role": "assistant", "content": [{"type": "text", "text": completion}]}],
                "images": [sample.load_image()],
            }
            for sample, completion in pairs
        ]
    )


def trainer_arguments(loaded: LoadedModel, workdir: str, learning_rate: float, gradient_checkpointing: bool,
                      seed: int) -> dict:
    """The TrainingArguments every halo-forge fine-tune shares (SFT and GRPO alike): a constant
    learning rate (the per-cycle decay is the schedule), the model's own precision, non-reentrant
    checkpointing, no saving, no logging but ours."""
    dtype = next(loaded.model.parameters()).dtype
    return dict(
        output_dir=workdir, learning_rate=learning_rate, lr_scheduler_type="constant", warmup_steps=0,
        gradient_checkpointing=gradient_checkpointing, gradient_checkpointing_kwargs={"use_reentrant": False},
        bf16=dtype == torch.bfloat16, fp16=dtype == torch.float16, use_cpu=not torch.cuda.is_available(),
        save_strategy="no", report_to="none", logging_steps=1, disable_tqdm=True, seed=seed, data_seed=seed,
    )


def finetune(
    loaded: LoadedModel,
    pairs: Sequence[tuple[VLMSample, str]],
    *,
    learning_rate: float,
    epochs: float = 1.0,
    batch_size: int = 8,
    gradient_accumulation_steps: int = 1,
    gradient_checkpointing: bool = False,
    seed: int = 0,
    callbacks: Sequence[TrainerCallback] = (),
    show_progress: bool = True,
    description: str = "fine-tune",
) -> FinetuneStats:
    """Trains `loaded.model` in place on (sample, completion) pairs with a constant learning rate."""
    if not pairs:
        return FinetuneStats(steps=0, loss=float("nan"))
    with tempfile.TemporaryDirectory(prefix="halo-forge-sft-") as workdir:
        args = SFTConfig(
            per_device_train_batch_size=batch_size,
            gradient_accumulation_steps=gradient_accumulation_steps,
            num_train_epochs=epochs,
            max_length=None,  # truncating would cut image tokens
            **trainer_arguments(loaded, workdir, learning_rate, gradient_checkpointing, seed),
        )
        trainer = SFTTrainer(
            model=loaded.model,
            args=args,
            train_dataset=training_rows(loaded, pairs),
            processing_class=loaded.processor,
            callbacks=[RichProgress(description, show_progress), NoInputGradients(), *callbacks],
        )
        trainer.remove_callback(PrinterCallback)  # it prints a dict per log step
        output = trainer.train()
    return FinetuneStats(steps=output.global_step, loss=output.training_loss)
