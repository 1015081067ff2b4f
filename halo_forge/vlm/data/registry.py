"""One declaration per dataset, used by `train`, `sft`, `benchmark` and `datasets` alike."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field

from ...errors import HaloForgeError
from . import synthetic
from .sample import VLMSample

Loader = Callable[["DatasetSpec", str, "int | None", int], list[VLMSample]]


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    task: str
    hub_id: str | None
    splits: dict[str, int]  # split -> number of rows
    metric: str  # a name in halo_forge.vlm.metrics.METRICS
    loader: Loader
    prompt: str = "{question}"  # how the question is put to the model
    unanswered_splits: tuple[str, ...] = ()  # splits whose answers are withheld
    min_pixels: int | None = None
    max_pixels: int | None = None
    config: str | None = None
    train_split: str = "train"
    eval_split: str = "validation"
    notes: dict = field(default_factory=dict)


def _load_synthetic(spec: DatasetSpec, split: str, limit: int | None, seed: int) -> list[VLMSample]:
    return synthetic.generate(split, limit, seed=seed)


REGISTRY: dict[str, DatasetSpec] = {
    "synthetic": DatasetSpec(
        name="synthetic",
        task="Shapes: colour, count, kind, position (built in)",
        hub_id=None,
        splits=dict(synthetic.SPLIT_SIZES),
        metric="exact_match",
        loader=_load_synthetic,
        prompt="{question}",
    ),
}


def get_spec(name: str) -> DatasetSpec:
    """The registered dataset `name`, or an error that suggests the closest names."""
    if name in REGISTRY:
        return REGISTRY[name]
    close = difflib.get_close_matches(name, REGISTRY, n=1)
    hint = f" Did you mean: {close[0]}?" if close else ""
    raise HaloForgeError(f"Unknown dataset {name!r}.{hint} Available: {', '.join(REGISTRY)}.")


def load_samples(name: str, split: str | None = None, limit: int | None = None, seed: int = 0) -> list[VLMSample]:
    """Up to `limit` samples of a split (the dataset's training split by default)."""
    spec = get_spec(name)
    split = split or spec.train_split
    if split not in spec.splits:
        raise HaloForgeError(f"Dataset {name!r} has no split {split!r}; it has {', '.join(spec.splits)}.")
    if limit is not None and limit < 0:
        raise HaloForgeError(f"--limit must be 0 or more, got {limit}.")
    samples = spec.loader(spec, split, limit, seed)
    for sample in samples:
        sample.question = spec.prompt.format(question=sample.question)
    return samples
