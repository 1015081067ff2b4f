"""The settings of every command, declared once.

Settings come in groups (model, data, held-out, LoRA, generation, verifier) that `vlm train`
(`VLMRAFTConfig`), `vlm sft` (`SFTOptions`) and `vlm benchmark` (`BenchmarkOptions`) combine, so a
setting has one name, one default, one help text and one rule everywhere. YAML keys and command-line
flags are generated from the same fields (no flag can be parsed and then dropped); YAML values are
coerced by the field's type; `problems()` lists every problem at once, before any weight loads.
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
from . import tracking
from .models.adapters import ADAPTERS
from .verifiers.backends import yolo_weights_problem

TYPES = {"bool": bool, "int": int, "float": float, "str": str}
TYPE_NAMES = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}


def _f(default: Any, help: str, flag: str | None = None, minimum: float | None = None,
       choices: tuple[str, ...] | None = None, runtime: bool = False) -> Any:
    """A field with its help text, its flag where the specification names it differently, the
    smallest value it accepts, the values it may take, and whether it only says how a run is
    carried out (`runtime`: a resume may change it; any other setting changes what is trained)."""
    return field(default=default, metadata={"help": help, "flag": flag, "minimum": minimum, "choices": choices,
                                            "runtime": runtime})


def field_type(f: dataclasses.Field) -> tuple[type, bool]:
    """(bool, int, float or str, whether None is allowed) from a field's annotation."""
    parts = [p.strip() for p in str(f.type).split("|")]
    return TYPES[next(p for p in parts if p != "None")], "None" in parts


def coerce(f: dataclasses.Field, value: Any) -> Any:
    """`value` as the field's type (YAML reads `5e-5` as a string), or a HaloForgeError naming the key."""
    kind, optional = field_type(f)
    if value is None:
        if optional:
            return None
        raise HaloForgeError(f"{f.name} needs a value ({TYPE_NAMES[kind]})")
    if kind is bool:
        if isinstance(value, bool):
            return value
    elif kind is str:
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return str(value)
    elif not isinstance(value, (bool, list, dict)):
        try:
            number = float(value)
            if kind is float:
                return number
            if number.is_integer():
                return int(number)
        except (TypeError, ValueError, OverflowError):
            pass
    raise HaloForgeError(f"{f.name} must be {TYPE_NAMES[kind]}, got {value!r}")


@dataclass
class Settings:
    """What every settings group shares: reading, checking and writing the fields."""

    @classmethod
    def from_yaml(cls, path: str | Path, **overrides: Any):
        """Fields from a YAML file, then `overrides` (non-None values) on top."""
        path = Path(path)
        if not path.is_file():
            raise HaloForgeError(f"Config file {str(path)!r} does not exist.")
        try:
            data = yaml.safe_load(path.read_text()) or {}
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            where = getattr(exc, "problem_mark", None)
            at = f" at line {where.line + 1}" if where is not None else ""
            raise HaloForgeError(f"Config file {str(path)!r} is not valid YAML{at}: "
                                 f"{getattr(exc, 'problem', None) or exc}.") from exc
        if not isinstance(data, dict):
            raise HaloForgeError(f"Config file {str(path)!r} must hold a mapping of field names to values.")
        return cls.from_dict({**data, **{k: v for k, v in overrides.items() if v is not None}})

    @classmethod
    def from_dict(cls, data: dict[str, Any]):
        """Fields by name, each coerced to its type; every unknown key and bad value named at once."""
        fields = {f.name: f for f in dataclasses.fields(cls)}
        problems, values = [], {}
        for key, value in data.items():
            if key not in fields:
                close = difflib.get_close_matches(str(key), fields, n=1)
                problems.append(f"unknown field {key!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
                continue
            try:
                values[key] = coerce(fields[key], value)
            except HaloForgeError as exc:
                problems.append(str(exc))
        if problems:
            raise HaloForgeError("Invalid configuration: " + "; ".join(problems) + ".")
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def runtime_fields(cls) -> set[str]:
        """Fields a resumed run may change without changing what it trains or measures."""
        return {f.name for f in dataclasses.fields(cls) if f.metadata.get("runtime")}

    def problems(self) -> list[str]:
        """Every field against its own rules: finite, at least its minimum, one of its choices."""
        p = []
        for f in dataclasses.fields(self):
            value, minimum, choices = getattr(self, f.name), f.metadata.get("minimum"), f.metadata.get("choices")
            if value is None or isinstance(value, bool):
                continue
            if isinstance(value, float) and not math.isfinite(value):
                p.append(f"{f.name} must be a finite number, got {value}")
            elif minimum is not None and isinstance(value, (int, float)) and value < minimum:
                p.append(f"{f.name} must be at least {minimum}, got {value}")
            elif choices is not None and value not in choices:
                p.append(f"{f.name} must be one of {', '.join(choices)}, got {value!r}")
        return p

    def validate(self) -> None:
        problems = self.problems()
        if problems:
            raise HaloForgeError("Invalid configuration: " + "; ".join(problems) + ".")


# -- the groups ----------------------------------------------------------------------------------


@dataclass
class ModelSettings(Settings):
    model_name: str = _f("Qwen/Qwen2-VL-7B-Instruct", "Hub id or local folder of the model.", "--model")
    adapter: str | None = _f(None, "Model family adapter (default: from config.model_type).", choices=tuple(ADAPTERS))
    dtype: str = _f("auto", "auto, bf16, fp16 or fp32 (auto: bf16 on a capable GPU, else fp32).",
                    choices=("auto", "bf16", "fp16", "fp32"))
    trust_remote_code: bool = _f(False, "Allow model code from the hub or the model folder (off unless asked).")
    load_in_4bit: bool = _f(False, "QLoRA: load the base weights in 4 bits (needs a CUDA GPU and bitsandbytes).")
    min_pixels: int | None = _f(None, "Fewest pixels per image (Qwen resizes up to it; LLaVA-NeXT drops smaller "
                                      "grids).", minimum=1)
    max_pixels: int | None = _f(None, "Most pixels per image, bounding its visual tokens (Qwen resizes down to it; "
                                      "LLaVA-NeXT drops larger grids; LLaVA-1.5 always makes 576).", minimum=1)
    num_threads: int | None = _f(None, "CPU threads for torch (default: torch's choice).", minimum=1, runtime=True)

    def problems(self) -> list[str]:
        p = super().problems()
        if self.min_pixels and self.max_pixels and self.min_pixels > self.max_pixels:
            p.append(f"min_pixels ({self.min_pixels}) exceeds max_pixels ({self.max_pixels})")
        return p

    def loading_options(self, spec) -> dict[str, Any]:
        """`load_model`'s keyword arguments, the dataset's pixel budget where none is set: the one
        place a command's loading settings become a load, so no path (merge included) drops one."""
        return dict(adapter=self.adapter, dtype=self.dtype, trust_remote_code=self.trust_remote_code,
                    load_in_4bit=self.load_in_4bit, min_pixels=self.min_pixels or spec.min_pixels,
                    max_pixels=self.max_pixels or spec.max_pixels)


@dataclass
class DataSettings(Settings):
    dataset: str = _f("synthetic", "Registered dataset name (see `halo-forge vlm datasets`) or a local .jsonl file.")
    dataset_path: str | None = _f(None, "Local copy of the dataset in its hub schema (parquet or save_to_disk folder).")
    split: str | None = _f(None, "Split to use (default: the dataset's training split; for benchmark its "
                                 "evaluation split).")
    limit: int | None = _f(None, "Use at most this many samples of the split.", minimum=1)
    allow_outside_paths: bool = _f(False, "Let a JSONL row's image path point outside the JSONL file's folder.")
    seed: int = _f(0, "Seed for data order, sampling and training.")

    def problems(self) -> list[str]:
        p = super().problems()
        from .data.registry import get_spec

        try:
            spec = get_spec(self.dataset)
        except HaloForgeError as exc:
            return [*p, str(exc).rstrip(".")]
        if self.split is not None and self.split not in spec.splits:
            p.append(f"dataset {spec.name!r} has no split {self.split!r}; it has {', '.join(spec.splits)}")
        if self.dataset_path is not None and not Path(self.dataset_path).is_dir():
            p.append(f"dataset_path {self.dataset_path!r} is not a folder")
        return p


@dataclass
class HeldOutSettings(Settings):
    eval_limit: int | None = _f(200, "Evaluate on at most this many held-out samples (every run is judged on "
                                     "held-out samples, so at least 1).", minimum=1)


@dataclass
class LoraSettings(Settings):
    full_finetune: bool = _f(False, "Train all weights instead of LoRA adapters.")
    train_vision: bool = _f(False, "With LoRA, also adapt the vision tower.")
    lora_r: int = _f(16, "LoRA rank.", minimum=1)
    lora_alpha: int = _f(32, "LoRA alpha (the update is scaled by alpha / r).", minimum=1)
    lora_dropout: float = _f(0.0, "LoRA dropout.", minimum=0.0)

    def problems(self) -> list[str]:
        p = super().problems()
        if self.lora_dropout >= 1:
            p.append(f"lora_dropout must be below 1, got {self.lora_dropout}")
        if self.full_finetune and self.train_vision:
            p.append("train_vision applies to LoRA; a full fine-tune already trains the vision tower")
        if self.full_finetune and getattr(self, "load_in_4bit", False):
            p.append("load_in_4bit is for LoRA (QLoRA); 4-bit weights cannot be fully fine-tuned")
        if self.full_finetune and getattr(self, "dtype", None) == "fp16":
            p.append("fp16 full fine-tuning overflows without fp32 master weights; use bf16 or fp32, or LoRA")
        return p


@dataclass
class ResumeSettings(Settings):
    allow_changes: bool = _f(False, "Resume a run with settings other than the ones it was made with "
                                    "(the differences are printed).", runtime=True)


@dataclass
class GenerationSettings(Settings):
    max_new_tokens: int = _f(64, "Longest completion generated.", minimum=1)


@dataclass
class VerifierSettings(Settings):
    perception_weight: float = _f(0.3, "Weight of the perception stage in the reward.", minimum=0.0)
    reasoning_weight: float = _f(0.4, "Weight of the reasoning stage in the reward.", minimum=0.0)
    output_weight: float = _f(0.3, "Weight of the output stage in the reward.", minimum=0.0)
    ocr_backend: str = _f("rapidocr", "OCR where a dataset gives no OCR tokens: rapidocr, tesseract, easyocr, none.",
                          choices=("rapidocr", "tesseract", "easyocr", "none"))
    detector: str = _f("shapes", "Object detector where a dataset gives no scene: shapes, yolo, none.",
                       choices=("shapes", "yolo", "none"))
    yolo_weights: str | None = _f(None, "YOLOv8 weights for --detector yolo: an exported .onnx file (or a .pt "
                                        "pickle with --allow-pickle).")
    allow_pickle: bool = _f(False, "Load pickled (.pt) detector weights, which can run arbitrary code: only "
                                   "for weights you trust.")
    semantic_similarity: bool = _f(False, "Let sentence embeddings judge free-form answers (needs [semantic]).")
    evidence_cache_size: int = _f(4096, "Images whose OCR and detector evidence is kept in memory.", minimum=1, runtime=True)
    evidence_cache_dir: str | None = _f(str(Path("~/.cache/halo-forge/evidence").expanduser()),
                                        "Folder keeping the tools' evidence per image content across runs "
                                        "('none': memory only).", runtime=True)

    def problems(self) -> list[str]:
        p = super().problems()
        if not self.output_weight > 0:
            p.append("output_weight must be positive: the output stage decides correctness")
        if self.detector == "yolo" and not self.yolo_weights:
            p.append("detector yolo needs yolo_weights (an exported .onnx file); no package ships COCO detector weights")
        if self.yolo_weights and (problem := yolo_weights_problem(self.yolo_weights, self.allow_pickle)):
            p.append(problem)
        return p

    def make_verifier(self, metric: str):
        from .verifiers import OutputChecker, VisionVerifier

        return VisionVerifier(self.perception_weight, self.reasoning_weight, self.output_weight,
                              output=OutputChecker(metric), ocr=self.ocr_backend, detector=self.detector,
                              yolo_weights=self.yolo_weights, allow_pickle=self.allow_pickle,
                              semantic=self.semantic_similarity, cache_size=self.evidence_cache_size,
                              cache_dir=None if self.evidence_cache_dir in (None, "none") else self.evidence_cache_dir)


# -- the commands --------------------------------------------------------------------------------


@dataclass
class VLMRAFTConfig(ResumeSettings, VerifierSettings, GenerationSettings, LoraSettings, HeldOutSettings, DataSettings,
                    ModelSettings):
    """`vlm train`: every setting of a RAFT (or GRPO) run."""

    output_dir: str = _f("models/vlm_raft", "Run folder: cycle_N/ checkpoints and training_history.json.", "--output", runtime=True)
    eval_split: str | None = _f(None, "Held-out split for evaluation (default: the dataset's).")
    eval_dataset: str | None = _f(None, "Held-out data from another source (a JSONL file or dataset name) "
                                        "instead of the dataset's held-out split or partition.")

    # The cycle.
    algorithm: str = _f("raft", "raft (fine-tune on the verified keep-set) or grpo (TRL's GRPOTrainer, the same "
                                "verifier as reward, one pass over the cycle's prompts).", choices=("raft", "grpo"))
    grpo_prompts_per_step: int = _f(4, "GRPO: prompts per optimizer step (each with samples_per_prompt completions).",
                                    minimum=1)
    num_cycles: int = _f(6, "Number of RAFT cycles; checkpoints are cycle_1 .. cycle_N.", "--cycles", minimum=1, runtime=True)
    prompts_per_cycle: int | None = _f(512, "Prompts drawn afresh each cycle (null: every training sample, which on a "
                                            "real split such as TextVQA's 34,602 rows makes one cycle an epoch).",
                                       minimum=1)
    samples_per_prompt: int = _f(4, "Completions sampled per prompt (K).", minimum=1)
    temperature: float = _f(0.7, "Sampling temperature for rollouts.", minimum=0.0)
    rollout_batch_size: int = _f(16, "Prompts per generate call during rollouts and evaluation.", minimum=1, runtime=True)

    # Selection.
    reward_threshold: float = _f(0.5, "Keep only completions with at least this reward.", minimum=0.0)
    keep_percent: float = _f(0.5, "Then keep this top fraction of them, by reward.")
    max_kept_per_prompt: int = _f(2, "Keep at most this many distinct completions per prompt.", minimum=1)

    # Fine-tuning.
    learning_rate: float = _f(5e-5, "Learning rate of cycle 1.")
    lr_decay_per_cycle: float = _f(0.85, "Learning rate multiplier per cycle.", "--lr-decay")
    min_lr: float = _f(1e-6, "Floor for the decayed learning rate.", minimum=0.0)
    finetune_epochs: float = _f(1.0, "Passes over the keep-set per cycle.")
    finetune_batch_size: int = _f(8, "Training rows per step.", minimum=1)
    gradient_accumulation_steps: int = _f(1, "Steps accumulated per optimizer update.", minimum=1)
    gradient_checkpointing: bool = _f(True, "Recompute activations to save memory.")
    merge: bool = _f(False, "Also write a merged model to cycle_N/merged/.", runtime=True)
    report_to: str = _f("auto", "Live logging: tensorboard (under OUTPUT/runs), wandb, trackio, none, or auto "
                                "(tensorboard when installed).", choices=tracking.CHOICES, runtime=True)
    project: str = _f("halo-forge", "The wandb / trackio project a run logs to (the run is named after "
                                    "--output).", runtime=True)

    def learning_rate_for(self, cycle: int) -> float:
        """lr0 × decay^(cycle-1), floored at min_lr: cycle 1 trains at the full rate."""
        return max(self.min_lr, self.learning_rate * self.lr_decay_per_cycle ** (cycle - 1))

    def problems(self) -> list[str]:
        p = super().problems()
        if self.temperature == 0 and self.samples_per_prompt > 1:
            p.append("temperature 0 (greedy) gives K identical samples; set a temperature above 0 or samples_per_prompt 1")
        if not 0 < self.keep_percent <= 1:
            p.append(f"keep_percent must be in (0, 1], got {self.keep_percent}")
        if not self.reward_threshold <= 1:
            p.append(f"reward_threshold must be in [0, 1], got {self.reward_threshold}")
        if not self.learning_rate > 0:
            p.append(f"learning_rate must be positive, got {self.learning_rate}")
        if not 0 < self.lr_decay_per_cycle <= 1:
            p.append(f"lr_decay_per_cycle must be in (0, 1], got {self.lr_decay_per_cycle}")
        if not self.finetune_epochs > 0:
            p.append(f"finetune_epochs must be positive, got {self.finetune_epochs}")
        if package := tracking.missing_package(self.report_to):
            p.append(f"report_to {self.report_to} needs the {package} package (pip install {package})")
        if self.algorithm == "grpo" and self.samples_per_prompt < 2:
            p.append("grpo compares completions within a group: samples_per_prompt must be at least 2")
        if self.eval_split is not None and self.eval_dataset is None:
            from .data.registry import get_spec

            try:
                splits = get_spec(self.dataset).splits
                if self.eval_split not in splits:
                    p.append(f"dataset {self.dataset!r} has no split {self.eval_split!r} to evaluate on; it has "
                             f"{', '.join(splits)}")
            except HaloForgeError:
                pass  # the unknown dataset is already named
        return p


@dataclass
class SFTOptions(ResumeSettings, GenerationSettings, LoraSettings, HeldOutSettings, DataSettings, ModelSettings):
    """`vlm sft`: supervised fine-tuning on the dataset's targets (the warm start before RAFT).
    With `target_accuracy`, training stops once held-out greedy accuracy reaches it."""

    output_dir: str = _f("models/vlm_sft", "Folder of the trained model (and its resumable checkpoints).", "--output", runtime=True)
    epochs: float = _f(3.0, "Passes over the training rows.")
    batch_size: int = _f(8, "Training rows per step.", minimum=1)
    learning_rate: float = _f(2e-4, "Learning rate (constant).")
    target_accuracy: float | None = _f(None, "Stop once held-out accuracy reaches this (0..1).", minimum=0.0)
    eval_every: int = _f(50, "Steps between held-out checks when a target is set.", minimum=1, runtime=True)
    save_every: int = _f(200, "Steps between resumable checkpoints.", minimum=1, runtime=True)
    max_new_tokens: int = _f(16, "Longest completion generated when checking held-out accuracy.", minimum=1)

    def problems(self) -> list[str]:
        p = super().problems()
        if not self.epochs > 0:
            p.append(f"epochs must be positive, got {self.epochs}")
        if not self.learning_rate > 0:
            p.append(f"learning_rate must be positive, got {self.learning_rate}")
        if self.target_accuracy is not None and self.target_accuracy > 1:
            p.append(f"target_accuracy must be in [0, 1], got {self.target_accuracy}")
        return p


@dataclass
class BenchmarkOptions(GenerationSettings, DataSettings, ModelSettings):
    """`vlm benchmark`: a model over a dataset split, scored with the dataset's official metric."""

    batch_size: int = _f(8, "Prompts per generate call.", minimum=1)
    max_new_tokens: int = _f(32, "Longest completion generated.", minimum=1)
    output: str | None = _f(None, "JSON file for the summary and every sample's prediction and score.")
    held_out: bool = _f(False, "Score only the held-out part of a split that `vlm train` partitions by image.")

    def problems(self) -> list[str]:
        p = super().problems()
        if self.output is not None and Path(self.output).is_dir():
            p.append(f"output {self.output!r} is a folder; name a .json file to write")
        return p
