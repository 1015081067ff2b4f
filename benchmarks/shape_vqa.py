"""A generated stand-in for an external shapes-VQA set: 64x64 images of one to three shapes, and a
question mix like that set's: about three in four questions are yes/no about the image ("Is there a
blue shape?", "Does the image not contain a circle?"), the rest ask a colour or a shape. Written as
a JSONL file with split names, the format `--dataset FILE.jsonl` reads.

    python benchmarks/shape_vqa.py OUT_DIR [--train 3000 --test 500 --seed 0]
"""

from __future__ import annotations

import argparse
import json
import random
from collections import Counter, defaultdict
from pathlib import Path

from PIL import Image, ImageDraw

COLORS = {"red": (220, 30, 30), "green": (30, 170, 40), "blue": (30, 60, 220), "yellow": (235, 200, 20)}
KINDS = ("circle", "square", "triangle")
SIZE, SHAPE = 64, 14


def _scene(rng: random.Random) -> list[tuple[str, str, list[int]]]:
    cells = rng.sample([(x, y) for x in range(4) for y in range(4)], rng.randint(1, 3))
    shapes = []
    for x, y in cells:
        x0, y0 = x * 16 + rng.randint(0, 1), y * 16 + rng.randint(0, 1)
        shapes.append((rng.choice(KINDS), rng.choice(list(COLORS)), [x0, y0, x0 + SHAPE, y0 + SHAPE]))
    return shapes


def _render(shapes) -> Image.Image:
    image = Image.new("RGB", (SIZE, SIZE), "white")
    draw = ImageDraw.Draw(image)
    for kind, color, (x0, y0, x1, y1) in shapes:
        fill = COLORS[color]
        if kind == "circle":
            draw.ellipse([x0, y0, x1, y1], fill=fill)
        elif kind == "square":
            draw.rectangle([x0, y0, x1, y1], fill=fill)
        else:
            draw.polygon([((x0 + x1) / 2, y0), (x1, y1), (x0, y1)], fill=fill)
    return image


def _question(rng: random.Random, shapes) -> tuple[str, str]:
    kinds, colors = {k for k, _, _ in shapes}, {c for _, c, _ in shapes}
    roll = rng.random()
    if roll < 0.30:
        color = rng.choice(list(COLORS))
        return f"Is there a {color} shape?", "yes" if color in colors else "no"
    if roll < 0.55:
        kind = rng.choice(KINDS)
        return f"Is there a {kind}?", "yes" if kind in kinds else "no"
    if roll < 0.74:
        kind = rng.choice(KINDS)
        return f"Does the image not contain a {kind}?", "yes" if kind not in kinds else "no"
    kind, color, _ = rng.choice(shapes)
    if roll < 0.87 and sum(k == kind for k, _, _ in shapes) == 1:
        return f"What color is the {kind}?", color
    if sum(c == color for _, c, _ in shapes) == 1:
        return f"What shape is the {color} shape?", kind
    return f"Is there a {color} shape?", "yes"


def write(out: Path, train: int = 3000, test: int = 500, seed: int = 0) -> Path:
    """Images under `out/images/`, rows in `out/shape_vqa.jsonl` (a "split" per row)."""
    rng = random.Random(seed)
    (out / "images").mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(train + test):
        shapes = _scene(rng)
        question, answer = _question(rng, shapes)
        _render(shapes).save(out / "images" / f"{i}.png")
        rows.append({"image": f"images/{i}.png", "question": question, "answers": [answer],
                     "split": "train" if i < train else "test"})
    path = out / "shape_vqa.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def question_only_accuracy(path: Path) -> float:
    """The best a model can do without looking: each question's most common training answer, on test."""
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    by_question: dict[str, Counter] = defaultdict(Counter)
    for r in rows:
        if r["split"] == "train":
            by_question[r["question"]][r["answers"][0]] += 1
    test = [r for r in rows if r["split"] == "test"]
    guess = {q: c.most_common(1)[0][0] for q, c in by_question.items()}
    return sum(guess.get(r["question"]) == r["answers"][0] for r in test) / len(test)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--train", type=int, default=3000)
    parser.add_argument("--test", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    path = write(args.out, args.train, args.test, args.seed)
    print(f"{path}: question-only accuracy {question_only_accuracy(path):.3f}")
