"""VLMRAFTConfig: every field of a run, its default and its help, in one place.

YAML keys map one to one onto the fields; command-line flags are generated from the same fields
(so no flag can be parsed and then dropped) and override the YAML. `validate()` reports every
problem at once, before any weight is loaded.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import HaloForgeError
from .models.adapters import ADAPTERS


def _f(default: Any, help: str, flag: str | None = None) -> Any:
    """A field with its help text and, where the specification names it differently, its flag."""
    return field(default=default, metadata={"help": help, "flag": flag})


@dataclass
class VLMRAFTConfig:
    # What to train, on what, and where to put it.
    model_name: str = _f("Qwen/Qwen2-VL-7B-Instruct", "Hub id or local folder of the model.", "--model")
    dataset: str = _f("synthetic", "Registered dataset name (see `halo-forge vlm datasets`).")
    dataset_path: str | None = _f(None, "Local copy of the dataset in its hub schema (parquet or save_to_disk folder).")
    output_dir: str = _f("models/vlm_raft", "Run folder: cycle_N/ checkpoints and training_history.json.", "--output")
    split: str | None = _f(None, "Training split (default: the dataset's training split).")
    limit: int | None = _f(None, "Use at most this many training samples.")
    eval_split: str | None = _f(None, "Held-out split for evaluation (default: the dataset's).")
    eval_limit: int | None = _f(200, "Evaluate on at most this many held-out samples.")
    eval_dataset: str | None = _f(None, "Held-out data from another source (a JSONL file or dataset name) "
                                        "instead of the dataset's held-out split or partition.")
    seed: int = _f(0, "Seed for data order, sampling and training.")

    # The cycle.
    algorithm: str = _f("raft", "raft (fine-tune on the verified keep-set) or grpo (TRL's GRPOTrainer, the same "
                                "verifier as reward, one pass over the cycle's prompts).")
    grpo_prompts_per_step: int = _f(4, "GRPO: prompts per optimizer step (each with samples_per_prompt completions).")
    num_cycles: int = _f(6, "Number of RAFT cycles; checkpoints are cycle_1 .. cycle_N.", "--cycles")
    prompts_per_cycle: int | None = _f(None, "Prompts sampled each cycle (default: all training samples).")
    samples_per_prompt: int = _f(4, "Completions sampled per prompt (K).")
    temperature: float = _f(0.7, "Sampling temperature for rollouts.")
    max_new_tokens: int = _f(64, "Longest completion generated.")
    rollout_batch_size: int = _f(16, "Prompts per generate call during rollouts and evaluation.")

    # Verification and selection.
    perception_weight: float = _f(0.3, "Weight of the perception stage in the reward.")
    reasoning_weight: float = _f(0.4, "Weight of the reasoning stage in the reward.")
    output_weight: float = _f(0.3, "Weight of the output stage in the reward.")
    reward_threshold: float = _f(0.5, "Keep only completions with at least this reward.")
    keep_percent: float = _f(0.5, "Then keep this top fraction of them, by reward.")
    max_kept_per_prompt: int = _f(2, "Keep at most this many distinct completions per prompt.")
    ocr_backend: str = _f("rapidocr", "OCR where a dataset gives no OCR tokens: rapidocr, tesseract, easyocr, none.")
    detector: str = _f("shapes", "Object detector where a dataset gives no scene: shapes, yolo, none.")
    yolo_weights: str | None = _f(None, "YOLOv8 weights file for --detector yolo.")
    semantic_similarity: bool = _f(False, "Let sentence embeddings judge free-form answers (needs [semantic]).")

    # Fine-tuning.
    learning_rate: float = _f(5e-5, "Learning rate of cycle 1.")
    lr_decay_per_cycle: float = _f(0.85, "Learning rate multiplier per cycle.", "--lr-decay")
    min_lr: float = _f(1e-6, "Floor for the decayed learning rate.")
    finetune_epochs: float = _f(1.0, "Passes over the keep-set per cycle.")
    finetune_batch_size: int = _f(8, "Training rows per step.")
    gradient_accumulation_steps: int = _f(1, "Steps accumulated per optimizer update.")
    gradient_checkpointing: bool = _f(True, "Recompute activations to save memory.")
    full_finetune: bool = _f(False, "Train all weights instead of LoRA adapters.")
    train_vision: bool = _f(False, "With LoRA, also adapt the vision tower.")
    lora_r: int = _f(16, "LoRA rank.")
    lora_alpha: int = _f(32, "LoRA alpha.")
    lora_dropout: float = _f(0.0, "LoRA dropout.")
    merge: bool = _f(False, "Also write a merged model to cycle_N/merged/.")

    # Model loading.
    adapter: str | None = _f(None, "Model family adapter (default: from config.model_type).")
    load_in_4bit: bool = _f(False, "QLoRA: load the base weights in 4 bits (needs a CUDA GPU and bitsandbytes).")
    dtype: str = _f("auto", "auto, bf16, fp16 or fp32 (auto: bf16 on a capable GPU, else fp32).")
    trust_remote_code: bool = _f(False, "Allow model code from the hub (off unless asked).")
    min_pixels: int | None = _f(None, "Fewest pixels per image (Qwen resizes up to it; LLaVA-NeXT drops smaller grids).")
    max_pixels: int | None = _f(None, "Most pixels per image, bounding its visual tokens (Qwen resizes down to it; "
                                      "LLaVA-NeXT drops larger grids; LLaVA-1.5 always makes 576).")
    num_threads: int | None = _f(None, "CPU threads for torch (default: torch's choice).")

    @classmethod
    def from_yaml(cls, path: str | Path, **overrides: Any) -> VLMRAFTConfig:
        """Fields from a YAML file, then `overrides` (non-None values) on top."""
        path = Path(path)
        if not path.is_file():
            raise HaloForgeError(f"Config file {str(path)!r} does not exist.")
        data = yaml.safe_load(path.read_text()) or {}
        if not isinstance(data, dict):
            raise HaloForgeError(f"Config file {str(path)!r} must hold a mapping of field names to values.")
        return cls.from_dict({**data, **{k: v for k, v in overrides.items() if v is not None}})

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VLMRAFTConfig:
        names = [f.name for f in dataclasses.fields(cls)]
        unknown = [k for k in data if k not in names]
        if unknown:
            hints = [
                f"{k!r}" + (f" (did you mean {m[0]!r}?)" if (m := difflib.get_close_matches(k, names, n=1)) else "")
                for k in unknown
            ]
            raise HaloForgeError(f"Unknown config field(s): {', '.join(hints)}.")
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def learning_rate_for(self, cycle: int) -> float:
        """lr0 × decay^(cycle-1), floored at min_lr: cycle 1 trains at the full rate."""
        return max(self.min_lr, self.learning_rate * self.lr_decay_per_cycle ** (cycle - 1))

    def problems(self) -> list[str]:
        """Every inconsistency in the config, each naming the field and the fix."""
        p = [f"{f.name} must be a finite number, got {getattr(self, f.name)}" for f in dataclasses.fields(self)
             if isinstance(getattr(self, f.name), float) and not math.isfinite(getattr(self, f.name))]
        for name in ("num_cycles", "samples_per_prompt", "max_new_tokens", "rollout_batch_size",
                     "finetune_batch_size", "gradient_accumulation_steps", "max_kept_per_prompt", "lora_r",
                     "grpo_prompts_per_step"):
            if getattr(self, name) < 1:
                p.append(f"{name} must be at least 1, got {getattr(self, name)}")
        for name in ("limit", "eval_limit", "prompts_per_cycle", "num_threads", "min_pixels", "max_pixels"):
            value = getattr(self, name)
            if value is not None and value < (0 if name == "limit" else 1):
                p.append(f"{name} must be positive, got {value}" + (" (every run is judged on held-out samples)"
                                                                     if name == "eval_limit" else ""))
        weights = (self.perception_weight, self.reasoning_weight, self.output_weight)
        if any(w < 0 for w in weights) or sum(weights) <= 0:
            p.append(f"stage weights must be non-negative with a positive sum, got {weights}")
        if self.output_weight <= 0:
            p.append("output_weight must be positive: the output stage decides correctness")
        if self.temperature < 0:
            p.append(f"temperature must be 0 or more, got {self.temperature}")
        if self.temperature == 0 and self.samples_per_prompt > 1:
            p.append("temperature 0 (greedy) gives K identical samples; set a temperature above 0 or samples_per_prompt 1")
        if not 0 < self.keep_percent <= 1:
            p.append(f"keep_percent must be in (0, 1], got {self.keep_percent}")
        if not 0 <= self.reward_threshold <= 1:
            p.append(f"reward_threshold must be in [0, 1], got {self.reward_threshold}")
        if self.learning_rate <= 0 or self.min_lr < 0:
            p.append("learning_rate must be positive and min_lr non-negative")
        if not 0 < self.lr_decay_per_cycle <= 1:
            p.append(f"lr_decay_per_cycle must be in (0, 1], got {self.lr_decay_per_cycle}")
        if self.finetune_epochs <= 0:
            p.append(f"finetune_epochs must be positive, got {self.finetune_epochs}")
        if self.dtype not in ("auto", "bf16", "fp16", "fp32"):
            p.append(f"dtype must be auto, bf16, fp16 or fp32, got {self.dtype!r}")
        if self.adapter is not None and self.adapter not in ADAPTERS:
            p.append(f"adapter {self.adapter!r} is unknown; choose one of {', '.join(ADAPTERS)}")
        if self.min_pixels and self.max_pixels and self.min_pixels > self.max_pixels:
            p.append(f"min_pixels ({self.min_pixels}) exceeds max_pixels ({self.max_pixels})")
        if self.algorithm not in ("raft", "grpo"):
            p.append(f"algorithm must be raft or grpo, got {self.algorithm!r}")
        if self.algorithm == "grpo" and self.samples_per_prompt < 2:
            p.append("grpo compares completions within a group: samples_per_prompt must be at least 2")
        if self.ocr_backend not in ("rapidocr", "tesseract", "easyocr", "none"):
            p.append(f"ocr_backend must be rapidocr, tesseract, easyocr or none, got {self.ocr_backend!r}")
        if self.detector not in ("shapes", "yolo", "none"):
            p.append(f"detector must be shapes, yolo or none, got {self.detector!r}")
        if self.detector == "yolo" and not self.yolo_weights:
            p.append("detector yolo needs yolo_weights (a .pt file); no package ships COCO detector weights")
        if self.load_in_4bit and self.full_finetune:
            p.append("load_in_4bit is for LoRA (QLoRA); 4-bit weights cannot be fully fine-tuned")
        if self.full_finetune and self.train_vision:
            p.append("train_vision applies to LoRA; a full fine-tune already trains the vision tower")
        return p

    def validate(self) -> None:
        problems = self.problems()
        if problems:
            raise HaloForgeError("Invalid configuration: " + "; ".join(problems) + ".")
