"""What differs between model families, in one place per family.

An adapter is chosen by the checkpoint's `config.model_type`, never by the model's name, and
knows the chat messages for one image and a question, the processor options that bound the
number of visual tokens, and which modules LoRA should touch.
"""

from __future__ import annotations

from dataclasses import dataclass

# The language model's projections; the vision tower stays frozen unless asked otherwise.
LM_PROJECTIONS = r".*language_model.*\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)"
ALL_PROJECTIONS = r".*\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj|qkv|proj|fc1|fc2)"


@dataclass(frozen=True)
class ModelAdapter:
    """Family-specific knowledge; the generic adapter trusts the processor's own chat template."""

    family: str
    pixel_budget_keys: tuple[str, str] | None = None  # processor size keys for (min, max) pixels

    def messages(self, question: str) -> list[dict]:
        """One user turn holding the image, then the question."""
        return [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": question}]}]

    def lora_target_modules(self, train_vision: bool = False) -> str:
        return ALL_PROJECTIONS if train_vision else LM_PROJECTIONS

    def image_processor_size(self, min_pixels: int | None, max_pixels: int | None) -> dict | None:
        """Processor `size` override bounding the visual tokens per image, or None to keep its own."""
        if self.pixel_budget_keys is None or (min_pixels is None and max_pixels is None):
            return None
        low, high = self.pixel_budget_keys
        size = {}
        if min_pixels is not None:
            size[low] = min_pixels
        if max_pixels is not None:
            size[high] = max_pixels
        return size


ADAPTERS = {
    "qwen2_vl": ModelAdapter("qwen2_vl", pixel_budget_keys=("shortest_edge", "longest_edge")),
    "qwen2_5_vl": ModelAdapter("qwen2_5_vl", pixel_budget_keys=("shortest_edge", "longest_edge")),
    "llava": ModelAdapter("llava"),
    "llava_next": ModelAdapter("llava_next"),
    "generic": ModelAdapter("generic"),
}


def adapter_for(model_type: str, override: str | None = None) -> ModelAdapter:
    """The adapter for a `config.model_type`; `override` names one explicitly (`--adapter`)."""
    if override is not None:
        if override not in ADAPTERS:
            raise ValueError(f"Unknown adapter {override!r}; choose one of {', '.join(sorted(ADAPTERS))}.")
        return ADAPTERS[override]
    return ADAPTERS.get(model_type, ADAPTERS["generic"])
