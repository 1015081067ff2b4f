"""One declaration per dataset, used by `train`, `sft`, `benchmark` and `datasets` alike."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass

from ...errors import HaloForgeError
from . import hub, jsonl, synthetic
from .sample import VLMSample

Loader = Callable[..., list[VLMSample]]


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
    image_column: str = "image"
    to_sample: Callable[[dict, int], VLMSample] | None = None  # hub row -> VLMSample


def _load_synthetic(spec: DatasetSpec, split: str, limit: int | None, seed: int, path=None, on_skip=None):
    return synthetic.generate(split, limit, seed=seed)


def _load_hub(spec: DatasetSpec, split: str, limit: int | None, seed: int, path=None, on_skip=None):
    return hub.load_rows(spec.name, spec.hub_id, spec.config, split, limit, spec.image_column, spec.to_sample,
                         path=path, on_skip=on_skip)


def _answers(value) -> list[str]:
    if value is None:
        return []
    return [str(a) for a in value] if isinstance(value, list) else [str(value)]


SHORT_ANSWER = "{question}\nAnswer the question using a single word or phrase."


REGISTRY: dict[str, DatasetSpec] = {
    "synthetic": DatasetSpec(
        name="synthetic",
        task="Shapes: colour, count, kind, side",
        hub_id=None,
        splits=dict(synthetic.SPLIT_SIZES),
        metric="exact_match",
        loader=_load_synthetic,
        prompt="{question}",
    ),
    "textvqa": DatasetSpec(
        name="textvqa",
        task="Text in photos",
        hub_id="lmms-lab/textvqa",
        splits={"train": 34_602, "validation": 5_000, "test": 5_734},
        unanswered_splits=("test",),
        metric="vqa_accuracy",
        loader=_load_hub,
        prompt=SHORT_ANSWER,
        max_pixels=1024 * 28 * 28,
        to_sample=lambda r, i: VLMSample(
            id=str(r.get("question_id", i)), image=r["image"], question=r["question"], answers=_answers(r["answers"]),
            annotations={"ocr_tokens": list(r.get("ocr_tokens") or [])},
        ),
    ),
    "docvqa": DatasetSpec(
        name="docvqa",
        task="Scanned documents",
        hub_id="lmms-lab/DocVQA",
        config="DocVQA",
        splits={"validation": 5_349, "test": 5_188},
        unanswered_splits=("test",),
        metric="anls",
        loader=_load_hub,
        prompt=SHORT_ANSWER,
        train_split="validation",
        max_pixels=2048 * 28 * 28,  # documents need more pixels than photos
        to_sample=lambda r, i: VLMSample(
            id=str(r.get("questionId", i)), image=r["image"], question=r["question"], answers=_answers(r["answers"]),
        ),
    ),
    "chartqa": DatasetSpec(
        name="chartqa",
        task="Charts",
        hub_id="HuggingFaceM4/ChartQA",
        splits={"train": 28_299, "val": 1_920, "test": 2_500},
        metric="relaxed_accuracy",
        loader=_load_hub,
        prompt=SHORT_ANSWER,
        eval_split="val",
        max_pixels=1024 * 28 * 28,
        to_sample=lambda r, i: VLMSample(
            id=str(i), image=r["image"], question=r["query"], answers=_answers(r["label"]),
            annotations={"human_or_machine": r.get("human_or_machine")},
        ),
    ),
    "realworldqa": DatasetSpec(
        name="realworldqa",
        task="Real-world scenes",
        hub_id="xai-org/RealworldQA",
        splits={"test": 765},
        metric="option_match",
        loader=_load_hub,
        train_split="test",
        eval_split="test",
        max_pixels=1024 * 28 * 28,
        to_sample=lambda r, i: VLMSample(id=str(i), image=r["image"], question=r["question"], answers=_answers(r["answer"])),
    ),
    "mathvista": DatasetSpec(
        name="mathvista",
        task="Math over figures",
        hub_id="AI4Math/MathVista",
        splits={"testmini": 1_000, "test": 5_141},
        unanswered_splits=("test",),
        metric="mathvista",
        loader=_load_hub,
        train_split="testmini",
        eval_split="testmini",
        image_column="decoded_image",
        max_pixels=1024 * 28 * 28,
        to_sample=lambda r, i: VLMSample(
            id=str(r.get("pid", i)), image=r["decoded_image"], question=r.get("query") or r["question"],
            answers=_answers(r.get("answer")),
            annotations={k: r.get(k) for k in ("choices", "unit", "precision", "question_type", "answer_type")},
        ),
    ),
}


def get_spec(name: str) -> DatasetSpec:
    """The registered dataset `name` (or a local JSONL file), or an error that suggests close names."""
    if name in REGISTRY:
        return REGISTRY[name]
    if name.endswith(".jsonl"):
        return DatasetSpec(
            name=name, task="Local JSONL", hub_id=None, splits={"train": 0, "validation": 0}, metric="exact_match",
            max_pixels=1024 * 28 * 28,  # a photo's budget, so a large image cannot become thousands of tokens
            loader=lambda spec, split, limit, seed, path=None, on_skip=None: jsonl.load(name, split, limit, on_skip),
        )
    close = difflib.get_close_matches(name, REGISTRY, n=1)
    hint = f" Did you mean: {close[0]}?" if close else ""
    raise HaloForgeError(f"Unknown dataset {name!r}.{hint} Available: {', '.join(REGISTRY)}.")


def load_samples(
    name: str,
    split: str | None = None,
    limit: int | None = None,
    seed: int = 0,
    *,
    path: str | None = None,
    require_answers: bool = True,
    on_skip: Callable[[str], None] | None = None,
) -> list[VLMSample]:
    """Up to `limit` samples of a split (the dataset's training split by default).

    `path` points at a local copy in the hub's schema; `on_skip` hears how many rows were dropped
    for unreadable images. Asking for answers from a split that withholds them is an error.
    """
    spec = get_spec(name)
    split = split or spec.train_split
    if split not in spec.splits:
        raise HaloForgeError(f"Dataset {name!r} has no split {split!r}; it has {', '.join(spec.splits)}.")
    if require_answers and split in spec.unanswered_splits:
        answered = [s for s in spec.splits if s not in spec.unanswered_splits]
        raise HaloForgeError(
            f"The {split!r} split of {name!r} has no answers (they are withheld for the leaderboard), so it cannot "
            f"be scored or trained on; use {' or '.join(repr(s) for s in answered)}."
        )
    if limit is not None and limit < 0:
        raise HaloForgeError(f"--limit must be 0 or more, got {limit}.")
    samples = spec.loader(spec, split, limit, seed, path=path, on_skip=on_skip)
    for sample in samples:
        sample.question = spec.prompt.format(question=sample.question)
    return samples
