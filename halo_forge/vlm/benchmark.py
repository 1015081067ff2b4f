"""`vlm benchmark`: a model over a dataset split, scored with the dataset's official metric."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from ..errors import HaloForgeError
from .data.registry import get_spec, load_samples
from .evaluate import evaluate
from .models.loading import load_model


@dataclass
class BenchmarkOptions:
    model: str
    dataset: str
    split: str | None = None
    limit: int | None = None
    batch_size: int = 8
    max_new_tokens: int = 32
    output: str | None = None
    dataset_path: str | None = None
    adapter: str | None = None
    dtype: str = "auto"
    trust_remote_code: bool = False
    min_pixels: int | None = None
    max_pixels: int | None = None
    held_out: bool = False  # score only the held-out part of a split that `vlm train` partitions


def run_benchmark(options: BenchmarkOptions, on_skip=None) -> dict:
    """Scores the model; returns (and with `output`, writes) the summary and every sample's record."""
    spec = get_spec(options.dataset)
    split = options.split or spec.eval_split
    if options.limit == 0:
        raise HaloForgeError("--limit 0 leaves nothing to score; pass a positive limit or none.")
    trains_on_it = spec.partitioned and split == spec.train_split
    if options.held_out and not trains_on_it:
        raise HaloForgeError(
            f"--held-out applies where `vlm train` partitions one split by image; {spec.name!r} split {split!r} "
            f"is not partitioned, so score it whole."
        )
    if trains_on_it and not options.held_out and on_skip is not None:
        on_skip(f"note: `vlm train` trains on {1 - spec.held_out_fraction:.0%} of the images of {spec.name!r} split "
                f"{split!r}; pass --held-out to score only the {spec.held_out_fraction:.0%} it never trains on.")
    samples = load_samples(options.dataset, split, options.limit, path=options.dataset_path, on_skip=on_skip,
                           part="held_out" if options.held_out else None)
    if not samples:
        raise HaloForgeError(f"The {split!r} split of {options.dataset!r} gave no samples to score.")
    loaded = load_model(
        options.model, adapter=options.adapter, dtype=options.dtype, trust_remote_code=options.trust_remote_code,
        min_pixels=options.min_pixels or spec.min_pixels, max_pixels=options.max_pixels or spec.max_pixels,
    )
    start = time.perf_counter()
    result = evaluate(loaded, samples, spec.metric, batch_size=options.batch_size,
                      max_new_tokens=options.max_new_tokens)
    seconds = time.perf_counter() - start
    report = {
        "options": asdict(options),
        "dataset": spec.name,
        "split": split + (" (held-out part)" if options.held_out else ""),
        "metric": spec.metric,
        "n": len(samples),
        "score": result.accuracy,
        "seconds": seconds,
        "samples_per_second": len(samples) / seconds,
        "samples": [
            {"id": s.id, "question": s.question, "completion": c, "prediction": p, "gold": s.answers, "score": sc}
            for s, c, p, sc in zip(samples, result.completions, result.predictions, result.scores)
        ],
    }
    if options.output:
        Path(options.output).parent.mkdir(parents=True, exist_ok=True)
        Path(options.output).write_text(json.dumps(report, indent=2))
    return report
