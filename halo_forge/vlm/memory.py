"""A back-of-envelope memory estimate for one training step, printed by `vlm train --dry-run`.

Counts weights, trainable state (gradients and AdamW moments) and activations from the config's
shapes alone; benchmarks/memory.py measures the real figure, and the README compares the two.
"""

from __future__ import annotations

from dataclasses import dataclass

GB = 2**30


@dataclass
class MemoryEstimate:
    weights_gb: float
    trainable_gb: float  # gradients + optimizer moments (+ fp32 LoRA weights)
    activations_gb: float
    total_gb: float


def lora_parameters(text_config, r: int) -> int:
    """Rank-r adapters on q, k, v, o, gate, up and down of every language-model layer."""
    h, i = text_config.hidden_size, text_config.intermediate_size
    kv = text_config.num_key_value_heads * (h // text_config.num_attention_heads)
    per_layer = (h + h) * 2 + (h + kv) * 2 + (h + i) * 2 + (i + h)
    return r * per_layer * text_config.num_hidden_layers


def model_config(name: str):
    """The config of `name` without loading weights: a published size, a local folder, or the HF cache."""
    from pathlib import Path

    from transformers import AutoConfig

    from .models.loading import adapter_base
    from .models.sizes import HUB_IDS

    name = adapter_base(name) or name
    if name in HUB_IDS:
        return HUB_IDS[name]()
    try:
        return AutoConfig.from_pretrained(name, local_files_only=not Path(name).exists())
    except (OSError, ValueError):
        return None


def image_tokens(config, max_pixels: int) -> int | None:
    """Visual tokens of one image of at most `max_pixels` pixels, or None for an unknown layout."""
    v = config.vision_config
    if getattr(v, "spatial_merge_size", None):  # Qwen: one token per (patch x merge)^2 pixels
        return max_pixels // (v.patch_size * v.spatial_merge_size) ** 2
    if not getattr(v, "image_size", None):
        return None
    per_tile = (v.image_size // v.patch_size) ** 2
    pinpoints = getattr(config, "image_grid_pinpoints", None)
    if not pinpoints:  # LLaVA-1.5: one fixed square
        return per_tile
    areas = [h * w for h, w in pinpoints]
    grid = max((a for a in areas if a <= max_pixels), default=min(areas))
    return per_tile * (1 + grid // v.image_size**2)  # LLaVA-NeXT: the overview plus each tile of the grid


def estimate(
    config,
    parameters: int,
    *,
    lora_r: int | None = 16,
    dtype_bytes: int = 2,
    text_tokens: int = 128,
    image_tokens: int = 256,
    gradient_checkpointing: bool = True,
    batch_size: int = 1,
) -> MemoryEstimate:
    """`lora_r=None` means a full fine-tune. `image_tokens` are what the language model sees."""
    t = config.text_config
    weights = parameters * dtype_bytes
    trainable = parameters if lora_r is None else lora_parameters(t, lora_r)
    state = trainable * (dtype_bytes + 8)  # gradient in the model dtype + two fp32 AdamW moments
    seq = batch_size * (text_tokens + image_tokens)
    h, i = t.hidden_size, t.intermediate_size
    layer_full = seq * (6 * h + 3 * i) * dtype_bytes  # one layer's activations kept for backward
    kept = seq * h * dtype_bytes * t.num_hidden_layers if gradient_checkpointing else layer_full * t.num_hidden_layers
    recompute = layer_full if gradient_checkpointing else 0
    logits = seq * t.vocab_size * 4 * 2  # fp32 logits and their gradient
    v = config.vision_config
    patches = batch_size * image_tokens * (getattr(v, "spatial_merge_size", None) or 1) ** 2  # Qwen merges 2x2
    width = getattr(v, "embed_dim", None) or v.hidden_size  # Qwen names it embed_dim, CLIP hidden_size
    depth = getattr(v, "depth", None) or v.num_hidden_layers
    vision = patches * width * dtype_bytes * (depth if gradient_checkpointing else 8 * depth)
    activations = kept + recompute + logits + vision
    total = weights + state + activations
    return MemoryEstimate(weights / GB, state / GB, activations / GB, total / GB)
