"""The built-in synthetic task: shapes with a known colour, kind, count and position.

Every answer is known exactly, and every sample carries its scene description, so verifiers can
check perception claims against truth and a tiny model can learn the task on a CPU in minutes.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable

from PIL import Image, ImageDraw

from .images import content_key
from .sample import VLMSample

COLORS = {"red": (220, 30, 30), "green": (30, 170, 40), "blue": (30, 60, 220), "yellow": (235, 200, 20)}
KINDS = ("circle", "square", "triangle")
SIDES = ("left", "right", "top", "bottom")
MAX_COUNT = 3
IMAGE_SIZE = 56
SHAPE_SIZE = 11

QUESTIONS = {
    "color": "What color are the shapes?",
    "count": "How many shapes are there?",
    "kind": "What shape are they?",
    "horizontal": "Are the shapes on the left or the right?",
    "vertical": "Are the shapes at the top or the bottom?",
}

# A distinct seed offset per split keeps the splits disjoint streams of the same distribution.
SPLIT_OFFSETS = {"train": 0, "validation": 1_000_003, "test": 2_000_003, "demonstrations": 3_000_017}
SPLIT_SIZES = {"train": 2000, "validation": 500, "test": 500}
EXCLUDED = {"train": ("validation", "test"), "test": ("validation",)}  # split -> splits it shares no image with


def place_boxes(rng: random.Random, side: str, count: int) -> list[list[int]]:
    """Non-overlapping boxes inside the half named by `side`: distinct cells of a grid, jittered."""
    cell, half = IMAGE_SIZE // 4, IMAGE_SIZE // 2
    xs = {"left": range(0, half, cell), "right": range(half, IMAGE_SIZE, cell)}.get(side, range(0, IMAGE_SIZE, cell))
    ys = {"top": range(0, half, cell), "bottom": range(half, IMAGE_SIZE, cell)}.get(side, range(0, IMAGE_SIZE, cell))
    cells = rng.sample([(x, y) for x in xs for y in ys], count)
    slack = cell - SHAPE_SIZE - 1
    boxes = []
    for x, y in cells:
        x0, y0 = x + 1 + rng.randint(0, slack - 1), y + 1 + rng.randint(0, slack - 1)
        boxes.append([x0, y0, x0 + SHAPE_SIZE, y0 + SHAPE_SIZE])
    return boxes


def _draw(draw: ImageDraw.ImageDraw, kind: str, box: list[int], fill: tuple[int, int, int]) -> None:
    x0, y0, x1, y1 = box
    if kind == "circle":
        draw.ellipse(box, fill=fill)
    elif kind == "square":
        draw.rectangle(box, fill=fill)
    else:
        draw.polygon([((x0 + x1) / 2, y0), (x1, y1), (x0, y1)], fill=fill)


def render_scene(scene: dict) -> Image.Image:
    """Draw a scene description onto a white canvas."""
    image = Image.new("RGB", (scene["width"], scene["height"]), "white")
    draw = ImageDraw.Draw(image)
    for obj in scene["objects"]:
        _draw(draw, obj["kind"], obj["box"], COLORS[obj["color"]])
    return image


def make_sample(rng: random.Random, sample_id: str) -> VLMSample:
    """One scene and one question about it, drawn from `rng`."""
    kind, color = rng.choice(KINDS), rng.choice(list(COLORS))
    count, side = rng.randint(1, MAX_COUNT), rng.choice(SIDES)
    boxes = place_boxes(rng, side, count)
    scene = {
        "width": IMAGE_SIZE,
        "height": IMAGE_SIZE,
        "side": side,
        "objects": [{"kind": kind, "color": color, "box": box} for box in boxes],
    }
    question_type = rng.choice(["color", "count", "kind", "horizontal" if side in ("left", "right") else "vertical"])
    answer = {"color": color, "count": str(count), "kind": kind}.get(question_type, side)
    return VLMSample(
        id=sample_id,
        image=render_scene(scene),
        question=QUESTIONS[question_type],
        answers=[answer],
        annotations={"scene": scene, "question_type": question_type},
    )


Maker = Callable[[random.Random, str, str], VLMSample]  # (rng, sample id, split) -> sample


def _shapes(rng: random.Random, sample_id: str, split: str) -> VLMSample:
    return make_sample(rng, f"synthetic-{sample_id}")


@functools.lru_cache(maxsize=16)
def _images(make: Maker, split: str, seed: int, sizes: tuple, exclude: tuple) -> frozenset[str]:
    """Content keys of every image of a split at its declared size (`sizes`, `exclude` as item tuples)."""
    samples = generate(split, seed=seed, make=make, sizes=dict(sizes), exclude=dict(exclude))
    return frozenset(content_key(s.image) for s in samples)


def _draw_split(make: Maker, split: str, n: int, seed: int, excluded: frozenset[str],
                keep: Callable[[str], bool] | None) -> list[VLMSample]:
    rng = random.Random(seed * 7_919 + SPLIT_OFFSETS[split])
    samples, draws = [], 0
    while len(samples) < n and draws < 50 * max(n, 1):
        sample = make(rng, f"{split}-{draws}", split)
        draws += 1
        key = content_key(sample.image)
        if key not in excluded and (keep is None or keep(key)):
            samples.append(sample)
    return samples


def generate(split: str, n: int | None = None, seed: int = 0,
             keep: Callable[[str], bool] | None = None, *, make: Maker = _shapes,
             sizes: dict[str, int] | None = None, exclude: dict[str, tuple[str, ...]] | None = None) -> list[VLMSample]:
    """`n` samples of `split`, the same for the same (split, seed), disjoint across splits by image
    content: a scene drawn for a split named in `exclude[split]` is redrawn (by default train
    redraws validation's and test's, test redraws validation's). `keep` filters by image content
    key (a partition of the split). `make` draws one sample; the shapes task by default."""
    sizes = sizes or SPLIT_SIZES
    exclude = EXCLUDED if exclude is None else exclude
    if split not in sizes:
        raise ValueError(f"This synthetic dataset has no split {split!r}; choose one of {', '.join(sizes)}.")
    frozen = tuple(sizes.items()), tuple(exclude.items())
    excluded = frozenset().union(*(_images(make, other, seed, *frozen) for other in exclude.get(split, ())))
    return _draw_split(make, split, sizes[split] if n is None else n, seed, excluded, keep)


def vocabulary_text() -> list[str]:
    """Every string the task can produce, for training a tiny model's tokenizer."""
    return list(QUESTIONS.values()) + list(COLORS) + list(KINDS) + list(SIDES) + [
        str(i) for i in range(1, MAX_COUNT + 1)
    ]
