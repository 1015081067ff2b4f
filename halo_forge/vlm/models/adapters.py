"""What differs between model families, in one place per family.

An adapter is chosen by the checkpoint's `config.model_type`, never by the model's name, and
knows the chat messages for one image and a question, the processor options that bound the
number of visual tokens, and which modules LoRA should touch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ...errors import HaloForgeError

# The language model's projections; the vision tower stays frozen unless asked otherwise.
LM_PROJECTIONS = r".*language_model.*\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)"
ALL_PROJECTIONS = r".*\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj|qkv|proj|fc1|fc2)"


def qwen_pixel_budget(model_config, image_processor, min_pixels: int | None, max_pixels: int | None) -> None:
    """Qwen resizes every image to between min and max pixels; one visual token per 28x28 pixels."""
    if min_pixels is not None:
        image_processor.size.shortest_edge = min_pixels
    if max_pixels is not None:
        image_processor.size.longest_edge = max_pixels


def pinpoint_pixel_budget(model_config, image_processor, min_pixels: int | None, max_pixels: int | None) -> None:
    """LLaVA-NeXT tiles an image on the best of its grid pinpoints; keep only those within the budget.

    The model reads the same pinpoints to unpad the tiles, so its config must follow the processor
    or the image features and image tokens disagree; with no budget it still follows, because a
    `cycle_N` folder carries the budgeted processor but its base model's original config.
    """
    pinpoints = [list(p) for p in image_processor.image_grid_pinpoints]
    low, high = min_pixels or 0, max_pixels or float("inf")
    kept = [p for p in pinpoints if low <= p[0] * p[1] <= high]
    if not kept:  # no grid within the budget: the one nearest to it
        by_area = sorted(pinpoints, key=lambda p: p[0] * p[1])
        kept = [by_area[0] if max_pixels is not None else by_area[-1]]
    image_processor.image_grid_pinpoints = kept
    model_config.image_grid_pinpoints = kept


@dataclass(frozen=True)
class ModelAdapter:
    """Family-specific knowledge; the generic adapter trusts the processor's own chat template."""

    family: str
    pixel_budget: Callable | None = None  # bounds the visual tokens per image; None: the processor's own sizes

    def messages(self, question: str) -> list[dict]:
        """One user turn holding the image, then the question."""
        return [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": question}]}]

    def lora_target_modules(self, train_vision: bool = False) -> str:
        return ALL_PROJECTIONS if train_vision else LM_PROJECTIONS

    def apply_pixel_budget(self, model_config, processor, min_pixels: int | None, max_pixels: int | None) -> None:
        """Bound the visual tokens per image (`--min-pixels/--max-pixels`, or the dataset's budget).

        LLaVA-1.5 always makes 576 tokens from a 336-pixel square, so it has no budget to set.
        """
        if self.pixel_budget is not None:
            self.pixel_budget(model_config, processor.image_processor, min_pixels, max_pixels)


ADAPTERS = {
    "qwen2_vl": ModelAdapter("qwen2_vl", pixel_budget=qwen_pixel_budget),
    "qwen2_5_vl": ModelAdapter("qwen2_5_vl", pixel_budget=qwen_pixel_budget),
    "llava": ModelAdapter("llava"),
    "llava_next": ModelAdapter("llava_next", pixel_budget=pinpoint_pixel_budget),
    "generic": ModelAdapter("generic"),
}


def adapter_for(model_type: str, override: str | None = None) -> ModelAdapter:
    """The adapter for a `config.model_type`; `override` names one explicitly (`--adapter`)."""
    if override is not None:
        if override not in ADAPTERS:
            raise HaloForgeError(f"Unknown adapter {override!r}; choose one of {', '.join(sorted(ADAPTERS))}.")
        return ADAPTERS[override]
    return ADAPTERS.get(model_type, ADAPTERS["generic"])
