"""One declaration per dataset, used by `train`, `sft`, `benchmark` and `datasets` alike.

A declaration is data: hub id, splits, which split trains and which is held out, the prompt, the
metric and the pixel budget. Where one answered split must serve both (DocVQA validation,
RealWorldQA test, MathVista testmini, a JSONL file without split names, or a user who names the
same split twice), it is partitioned by image: `held_out_fraction` of its images, chosen by a
seeded hash of their content, are held out and never trained on, so no image is in both.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from ...errors import HaloForgeError
from . import hub, jsonl, reasoning, synthetic
from .images import in_held_out
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
    held_out_fraction: float = 0.2  # share of images held out when train and eval name the same split
    image_column: str = "image"
    to_sample: Callable[[dict, int], VLMSample] | None = None  # hub row -> VLMSample

    @property
    def partitioned(self) -> bool:
        """Whether training and held-out evaluation share one split (and so split it by image)."""
        return self.train_split == self.eval_split


def _load_synthetic(spec: DatasetSpec, split: str, limit: int | None, seed: int, path=None, on_skip=None, keep=None,
                    **images):
    return synthetic.generate(split, limit, seed=seed, keep=keep)


def _load_reasoning(spec: DatasetSpec, split: str, limit: int | None, seed: int, path=None, on_skip=None, keep=None,
                    **images):
    return reasoning.generate(split, limit, seed=seed, keep=keep)


def _load_hub(spec: DatasetSpec, split: str, limit: int | None, seed: int, path=None, on_skip=None, keep=None,
              **images):
    return hub.load_rows(spec.name, spec.hub_id, spec.config, split, limit, spec.image_column, spec.to_sample,
                         path=path, on_skip=on_skip, keep=keep, max_pixels=images["max_pixels"])


def _load_jsonl(spec: DatasetSpec, split: str, limit: int | None, seed: int, path=None, on_skip=None, keep=None,
                **images):
    return jsonl.load(spec.name, split, limit, on_skip, keep=keep, **images)


def _answers(value) -> list[str]:
    if value is None:
        return []
    return [str(a) for a in value] if isinstance(value, list) else [str(value)]


# lmms-eval's default post_prompt for TextVQA, DocVQA and ChartQA (its chartqa.yaml, textvqa and docvqa
# tasks), so `vlm benchmark` scores compare with published ones. RealWorldQA's questions carry their
# own instruction and are asked as given; MathVista's `query` carries its hint.
SHORT_ANSWER = "{question}\nAnswer the question using a single word or phrase."


def _listed_options(question: str) -> list[str]:
    """The options a question lists as "A. text" lines (RealWorldQA), in letter order."""
    options = dict(re.findall(r"^\s*([A-Z])[.)]\s+(.+?)\s*$", question, re.MULTILINE))
    letters = [chr(ord("A") + i) for i in range(len(options))]
    return [options[letter] for letter in letters] if list(options) == letters else []


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
    "synthetic-reasoning": DatasetSpec(
        name="synthetic-reasoning",
        task="Shapes, two facts per question; answer-only labels, worked answers in 'demonstrations'",
        hub_id=None,
        splits=dict(reasoning.SPLIT_SIZES),
        metric="exact_match",
        loader=_load_reasoning,
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
        train_split="validation",  # the only answered split: partitioned by image
        eval_split="validation",
        held_out_fraction=0.2,
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
        train_split="test",  # the only split: partitioned by image
        eval_split="test",
        held_out_fraction=0.2,
        max_pixels=1024 * 28 * 28,
        to_sample=lambda r, i: VLMSample(id=str(i), image=r["image"], question=r["question"], answers=_answers(r["answer"]),
                                         annotations={"choices": _listed_options(r["question"])}),
    ),
    "mathvista": DatasetSpec(
        name="mathvista",
        task="Math over figures",
        hub_id="AI4Math/MathVista",
        splits={"testmini": 1_000, "test": 5_141},
        unanswered_splits=("test",),
        metric="mathvista",
        loader=_load_hub,
        train_split="testmini",  # the only answered split: partitioned by image
        eval_split="testmini",
        held_out_fraction=0.2,
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
        named = jsonl.split_names(name)
        if named:  # the file names each row's split
            eval_split = next((s for s in ("validation", "val", "test") if s in named), None)
            return replace(JSONL, name=name, splits=dict.fromkeys(named, 0),
                           train_split="train" if "train" in named else named[0], eval_split=eval_split or named[0])
        return replace(JSONL, name=name)
    close = difflib.get_close_matches(name, REGISTRY, n=1)
    hint = f" Did you mean: {close[0]}?" if close else ""
    raise HaloForgeError(f"Unknown dataset {name!r}.{hint} Available: {', '.join(REGISTRY)}.")


# A local JSONL file without split names is one split, "all", of which a tenth of the images is held out.
JSONL = DatasetSpec(
    name="", task="Local JSONL", hub_id=None, splits={jsonl.ALL: 0}, metric="exact_match", loader=_load_jsonl,
    train_split=jsonl.ALL, eval_split=jsonl.ALL, held_out_fraction=0.1,
    max_pixels=1024 * 28 * 28,  # a photo's budget, so a large image cannot become thousands of tokens
)
PARTS = ("train", "held_out")


def load_samples(
    name: str,
    split: str | None = None,
    limit: int | None = None,
    seed: int = 0,
    *,
    path: str | None = None,
    require_answers: bool = True,
    on_skip: Callable[[str], None] | None = None,
    part: str | None = None,
    max_pixels: int | None = None,
    allow_outside_paths: bool = False,
) -> list[VLMSample]:
    """Up to `limit` samples of a split (the dataset's training split by default).

    `part` takes one side of the split's partition by image ("train" or "held_out", see the module
    docstring); None takes the whole split. `path` points at a local copy in the hub's schema;
    `on_skip` hears how many rows were dropped, and why. Images are decoded within `max_pixels`
    (default: the dataset's budget); a JSONL row's image must lie in the file's folder unless
    `allow_outside_paths`. Asking for answers from a split that withholds them is an error.
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
    if part not in (None, *PARTS):
        raise ValueError(f"part must be one of {PARTS} or None, got {part!r}")
    keep = None if part is None else (lambda key: in_held_out(key, spec.held_out_fraction) == (part == "held_out"))
    samples = spec.loader(spec, split, limit, seed, path=path, on_skip=on_skip, keep=keep,
                          max_pixels=max_pixels or spec.max_pixels, allow_outside_paths=allow_outside_paths)
    for sample in samples:
        sample.question = spec.prompt.format(question=sample.question)
    return samples


@dataclass
class RunData:
    """What a run trains on and what it is judged on, and how the two were kept apart."""

    train: list[VLMSample]
    held_out: list[VLMSample]
    policy: str  # one sentence for the user

    def held_out_fingerprint(self) -> dict:
        """How many held-out samples and a hash of their ids, questions and answers: a resumed run
        must be judged on the same ones."""
        digest = hashlib.sha256()
        for s in self.held_out:
            digest.update(repr((s.id, s.question, s.answers)).encode())
        return {"n": len(self.held_out), "sha256": digest.hexdigest()}


def load_run_data(
    name: str,
    *,
    split: str | None = None,
    eval_split: str | None = None,
    eval_dataset: str | None = None,
    limit: int | None = None,
    eval_limit: int | None = None,
    seed: int = 0,
    path: str | None = None,
    on_skip: Callable[[str], None] | None = None,
    max_pixels: int | None = None,
    allow_outside_paths: bool = False,
) -> RunData:
    """The training and held-out samples of a run, never sharing an image: separate splits as
    declared, a partition by image when one split must serve both, or another file's rows."""
    spec = get_spec(name)
    images = dict(max_pixels=max_pixels, allow_outside_paths=allow_outside_paths)
    split, data = split or spec.train_split, dict(seed=seed, path=path, on_skip=on_skip, **images)
    if eval_dataset is not None:
        other = get_spec(eval_dataset)
        held_out = load_samples(eval_dataset, eval_split or other.eval_split, eval_limit, seed=seed, on_skip=on_skip,
                                **images)
        train = load_samples(name, split, limit, **data)
        return RunData(train, held_out, f"held out: {eval_dataset} ({len(held_out)} samples)")
    eval_split = eval_split or spec.eval_split
    if split == eval_split:
        train = load_samples(name, split, limit, part="train", **data)
        held_out = load_samples(name, split, eval_limit, part="held_out", **data)
        policy = (f"train and held-out both come from {name} split {split!r}: partitioned by image, "
                  f"{spec.held_out_fraction:.0%} of the images held out (seeded), so none is in both")
        return RunData(train, held_out, policy)
    train = load_samples(name, split, limit, **data)
    held_out = load_samples(name, eval_split, eval_limit, **data)
    return RunData(train, held_out, f"train: {name} split {split!r}; held out: split {eval_split!r}")
