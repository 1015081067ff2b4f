"""One fine-tune pass on the keep-set, through TRL's SFTTrainer.

Rows are prompt/completion pairs with their image; TRL's vision collator masks the prompt and
image tokens (labels -100) so the loss falls on the completion only.
"""

from __future__ import annotations

import tempfile
from contextlib import nullcontext
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from datasets import Dataset, Image, List
from transformers import TrainerCallback
from transformers.trainer_callback import PrinterCallback
from transformers.trainer_utils import get_last_checkpoint
from trl import SFTConfig, SFTTrainer

from .. import interrupts
from ..progress import bar
from .config import LoraSettings
from .data.sample import VLMSample
from .models.loading import LoadedModel


@dataclass
class FinetuneStats:
    steps: int
    loss: float  # mean training loss over the pass
    resumed_from: str | None = None  # the checkpoint a resumed pass started from


class RichProgress(TrainerCallback):
    """A progress bar for the fine-tune phase, in place of the Trainer's tqdm and log dicts."""

    def __init__(self, description: str, enabled: bool):
        self.description, self.enabled = description, enabled

    def on_train_begin(self, args, state, control, **kwargs):
        self.progress = bar(disable=not self.enabled)
        self.progress.start()
        self.task = self.progress.add_task(self.description, total=state.max_steps)

    def on_step_end(self, args, state, control, **kwargs):
        self.progress.update(self.task, completed=state.global_step)

    def on_train_end(self, args, state, control, **kwargs):
        self.progress.stop()


class StopOnInterrupt(TrainerCallback):
    """Stops at the next step after a Ctrl-C whose KeyboardInterrupt a library swallowed."""

    def on_step_end(self, args, state, control, **kwargs):
        interrupts.check()


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


def add_lora(loaded: LoadedModel, lora: LoraSettings, seed: int) -> None:
    """Wraps `loaded.model` in fresh LoRA adapters, as `lora` says, seeded: LoRA's initialisation is
    random, and the same seed must give the same run."""
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(seed)
    config = LoraConfig(r=lora.lora_r, lora_alpha=lora.lora_alpha, lora_dropout=lora.lora_dropout,
                        target_modules=loaded.adapter.lora_target_modules(lora.train_vision), task_type="CAUSAL_LM")
    loaded.model = get_peft_model(loaded.model, config)


def last_checkpoint(checkpoints: Path) -> str | None:
    """The newest Trainer checkpoint in `checkpoints`, or None."""
    return get_last_checkpoint(str(checkpoints)) if checkpoints.is_dir() else None


class ResumingTrainer(SFTTrainer):
    """SFTTrainer that resumes the optimizer, scheduler, RNG and data position from a checkpoint
    but leaves the weights to the caller, who loads the checkpoint with `from_pretrained`. The
    Trainer's own weight loading skips the key conversion VLMs need (transformers#43701): every
    weight is reported missing and none is restored, so a resumed run would silently restart from
    the base weights with the trained optimizer state."""

    def _load_from_checkpoint(self, resume_from_checkpoint, model=None):
        pass


def training_rows(loaded: LoadedModel, pairs: Sequence[tuple[VLMSample, str]]) -> Dataset:
    """Conversational prompt/completion rows with images, in the shape TRL's collator expects. The
    images keep their source's encoded bytes where those decode to the same pixels (see
    `images.stored`), and are decoded again as each batch is collated."""
    rows = Dataset.from_list(
        [
            {
                "prompt": loaded.adapter.messages(sample.question),
                "completion": [{"role": "assistant", "content": [{"type": "text", "text": completion}]}],
                "images": [sample.stored_image()],
            }
            for sample, completion in pairs
        ]
    )
    return rows.cast_column("images", List(Image()))


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
        ddp_find_unused_parameters=False,  # under accelerate launch every trainable weight takes part in each step
    )


def one_device_per_process(args) -> None:
    """Keeps the Trainer from wrapping the model in nn.DataParallel when one process sees several
    GPUs (DataParallel scatters Qwen2-VL's flattened pixel_values and image_grid_thw inconsistently):
    a process trains on its own device, and several GPUs are used through `accelerate launch`."""
    _ = args.device  # the Trainer counts the GPUs here
    args._n_gpu = min(args._n_gpu, 1)


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
    checkpoints: Path | None = None,
    save_steps: int = 0,
) -> FinetuneStats:
    """Trains `loaded.model` in place on (sample, completion) pairs with a constant learning rate.

    With `checkpoints`, the Trainer saves its full state there every `save_steps` steps and a
    second call resumes from the last one (optimizer, scheduler, RNG and data position); the
    caller must have loaded `loaded` from that checkpoint (see ResumingTrainer)."""
    if not pairs:
        return FinetuneStats(steps=0, loss=float("nan"))
    saving = dict(save_strategy="steps", save_steps=save_steps, save_total_limit=1) if checkpoints else {}
    workdirs = nullcontext(str(checkpoints)) if checkpoints else tempfile.TemporaryDirectory(prefix="halo-forge-sft-")
    with workdirs as workdir:
        args = SFTConfig(
            per_device_train_batch_size=batch_size,
            gradient_accumulation_steps=gradient_accumulation_steps,
            num_train_epochs=epochs,
            max_length=None,  # truncating would cut image tokens
            **{**trainer_arguments(loaded, workdir, learning_rate, gradient_checkpointing, seed), **saving},
        )
        one_device_per_process(args)
        trainer = (ResumingTrainer if checkpoints else SFTTrainer)(
            model=loaded.model,
            args=args,
            train_dataset=training_rows(loaded, pairs),
            processing_class=loaded.processor,
            callbacks=[RichProgress(description, show_progress), NoInputGradients(), StopOnInterrupt(), *callbacks],
        )
        trainer.remove_callback(PrinterCallback)  # it prints a dict per log step
        last = last_checkpoint(Path(workdir)) if checkpoints else None
        output = trainer.train(resume_from_checkpoint=last)
    return FinetuneStats(steps=output.global_step, loss=output.training_loss, resumed_from=last)
