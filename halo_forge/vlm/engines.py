"""Rollout engines: what turns a batch of prompts with images into K sampled completions each.

The cycle asks an engine for completions and tells it when the weights changed; it never calls
`generate` itself. `HFEngine` (the default) samples with the training model through transformers'
`generate`, K samples from one shared prefill. Another engine (a vLLM server, a remote pool)
plugs in through `VLMRAFTTrainer(config, engine=...)`: it must sample with the run's chat template
and pixel budget, and take the new weights in `sync` after each fine-tune.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from . import rollout
from .data.sample import VLMSample
from .models.loading import LoadedModel


class RolloutEngine(Protocol):
    def sample(self, samples: Sequence[VLMSample], *, num_samples: int, temperature: float, max_new_tokens: int,
               seed: int, entropy: rollout.EntropyMeter | None = None) -> list[list[str]]:
        """`num_samples` completions per sample, reproducible from `seed` for the same batch."""
        ...

    def sync(self, loaded: LoadedModel) -> None:
        """The model was fine-tuned: sample from its new weights from now on."""
        ...


class HFEngine:
    """Sampling with the training model itself (transformers `generate`); nothing to copy on sync."""

    def __init__(self, loaded: LoadedModel):
        self.loaded = loaded

    def sample(self, samples, *, num_samples, temperature, max_new_tokens, seed, entropy=None):
        return rollout.generate(self.loaded, samples, num_samples=num_samples, temperature=temperature,
                                max_new_tokens=max_new_tokens, batch_size=len(samples), seed=seed,
                                show_progress=False, entropy=entropy)

    def sync(self, loaded: LoadedModel) -> None:
        self.loaded = loaded
