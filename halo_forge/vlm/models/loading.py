"""Load a model and its processor from a hub id, a local folder, or a `cycle_N` adapter folder."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import AutoConfig, AutoModelForImageTextToText, AutoProcessor

from ...errors import HaloForgeError
from .adapters import ModelAdapter, adapter_for

DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}


@dataclass
class LoadedModel:
    model: torch.nn.Module
    processor: object
    adapter: ModelAdapter
    base: str  # the base model's id or folder (for an adapter folder, the model it adapts)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device


def resolve_dtype(dtype: str) -> torch.dtype:
    """`auto` is bf16 on a GPU that supports it and fp32 otherwise (CPU bf16 is slow and lossy)."""
    if dtype == "auto":
        return torch.bfloat16 if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else torch.float32
    if dtype not in DTYPES:
        raise HaloForgeError(f"Unknown dtype {dtype!r}; choose one of auto, {', '.join(DTYPES)}.")
    return DTYPES[dtype]


def adapter_base(path: str) -> str | None:
    """The base model of a PEFT adapter folder, or None when `path` is not one."""
    config_file = Path(path) / "adapter_config.json"
    if not config_file.is_file():
        return None
    return json.loads(config_file.read_text())["base_model_name_or_path"]


def quantization_config(load_in_4bit: bool):
    """4-bit NF4 weights for QLoRA, or None; a clear error where it cannot run."""
    if not load_in_4bit:
        return None
    if not torch.cuda.is_available():
        raise HaloForgeError("4-bit QLoRA needs a CUDA GPU and this machine has none; drop --load-in-4bit.")
    try:
        import bitsandbytes  # noqa: F401
    except ImportError as exc:
        raise HaloForgeError("4-bit QLoRA needs the bitsandbytes package: pip install bitsandbytes.") from exc
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                              bnb_4bit_compute_dtype=resolve_dtype("auto"))


def _hub_call(what: str, name: str, fn, *args, **kwargs):
    """Run a `from_pretrained`, turning a missing network, a missing repo or custom code that was
    not allowed into one sentence."""
    try:
        return fn(*args, **kwargs)
    except ValueError as exc:
        if "trust_remote_code" in str(exc):
            raise HaloForgeError(
                f"{name!r} ships its own model code (auto_map in its config), which runs with your permissions; "
                f"read it, then pass --trust-remote-code to allow it."
            ) from exc
        if "Unrecognized" in str(exc):
            raise HaloForgeError(f"Could not load the {what} {name!r}: its model type is not one this version of "
                                 f"transformers knows.") from exc
        raise
    except (OSError, ConnectionError) as exc:  # hub errors subclass these
        if Path(name).exists():
            raise HaloForgeError(f"Could not load the {what} from folder {name!r}: {exc}") from exc
        raise HaloForgeError(
            f"Could not load the {what} {name!r}: it is not a local folder and the Hugging Face Hub could not "
            f"provide it (no network, or no such repository); download it where there is a network and pass "
            f"the folder instead."
        ) from exc


def load_model(
    name_or_path: str,
    *,
    adapter: str | None = None,
    dtype: str = "auto",
    trust_remote_code: bool = False,
    min_pixels: int | None = None,
    max_pixels: int | None = None,
    trainable_adapter: bool = False,
    device: str | None = None,
    load_in_4bit: bool = False,
) -> LoadedModel:
    """Model, processor and family adapter, ready for generation on `device` (GPU when present;
    "auto": spread over every visible GPU by accelerate's device map, for a model larger than one)."""
    quantization = quantization_config(load_in_4bit)
    base = adapter_base(name_or_path) or name_or_path
    config = _hub_call("model config", base, AutoConfig.from_pretrained, base, trust_remote_code=trust_remote_code)
    family = adapter_for(config.model_type, adapter)
    model = _hub_call(
        "model",
        base,
        AutoModelForImageTextToText.from_pretrained,
        base,
        dtype=resolve_dtype(dtype),
        trust_remote_code=trust_remote_code,
        use_safetensors=True,
        quantization_config=quantization,
        device_map="auto" if device == "auto" else None,
    )
    if quantization is not None:
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(model)
    processor = _hub_call(
        "processor", name_or_path, AutoProcessor.from_pretrained, name_or_path, trust_remote_code=trust_remote_code
    )
    family.apply_pixel_budget(model.config, processor, min_pixels, max_pixels)
    if base != name_or_path:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, name_or_path, is_trainable=trainable_adapter)
    processor.tokenizer.padding_side = "left"  # batched generation needs the prompts flush right
    if processor.tokenizer.pad_token is None:  # some models ship none; padding is masked by position, so eos serves
        processor.tokenizer.pad_token = processor.tokenizer.eos_token
    if quantization is None and device != "auto":  # quantized and mapped models are placed as they load
        model.to(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    return LoadedModel(model=model, processor=processor, adapter=family, base=base)
