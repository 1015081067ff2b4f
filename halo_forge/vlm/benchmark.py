"""`vlm benchmark`: a model over a dataset split, scored with the dataset's official metric."""

from __future__ import annotations

import time
from pathlib import Path

from ..errors import HaloForgeError
from ..files import write_json
from .config import BenchmarkOptions
from .data.registry import get_spec, load_samples
from .evaluate import evaluate
from .models.loading import load_model


def run_benchmark(options: BenchmarkOptions, on_skip=None) -> dict:
    """Scores the model; returns (and with `output`, writes) the summary and every sample's record."""
    options.validate()
    spec = get_spec(options.dataset)
    split = options.split or spec.eval_split
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
                           part="held_out" if options.held_out else None, max_pixels=options.max_pixels,
                           allow_outside_paths=options.allow_outside_paths)
    if not samples:
        raise HaloForgeError(f"The {split!r} split of {options.dataset!r} gave no samples to score.")
    loaded = load_model(options.model_name, **options.loading_options(spec))
    start = time.perf_counter()
    result = evaluate(loaded, samples, spec.metric, batch_size=options.batch_size,
                      max_new_tokens=options.max_new_tokens)
    seconds = time.perf_counter() - start
    report = {
        "options": options.to_dict(),
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
        try:
            Path(options.output).parent.mkdir(parents=True, exist_ok=True)
            write_json(Path(options.output), report)
        except OSError as exc:
            raise HaloForgeError(f"--output {options.output!r} cannot be written ({exc.strerror}); the score was "
                                 f"{result.accuracy:.4f} on {len(samples)} samples.") from exc
    return report
