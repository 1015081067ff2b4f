"""The built-in reasoning task: questions that need two facts about a scene, answer-only labels.

Each image holds two groups of shapes, one in the left half and one in the right, that differ in
colour and kind ("2 red circles on the left, 1 blue square on the right"). Every question joins
two facts: "How many shapes are there in total?", "What color are the squares?", "How many red
shapes are there?", "On which side are the blue shapes?", "Which side has more shapes?".

Like the hub datasets, the training rows carry only the final answer. The `demonstrations` split
(a few hundred rows) also carries a worked answer that states the scene and then the answer, the
only reasoning a warm start ever sees. The scene description rides along in `annotations` for the
verifier to check claims against; it never becomes a training target.
"""

from __future__ import annotations

import random

from .sample import VLMSample
from .synthetic import COLORS, IMAGE_SIZE, KINDS, MAX_COUNT, generate as _generate, place_boxes, render_scene

SPLIT_SIZES = {"train": 2000, "demonstrations": 300, "validation": 500, "test": 500}
# Training, demonstration and held-out images never coincide.
EXCLUDED = {"train": ("validation", "test", "demonstrations"), "demonstrations": ("validation", "test"),
            "test": ("validation",)}
QUESTIONS = {
    "total": "How many shapes are there in total?",
    "count_of_color": "How many {color} shapes are there?",
    "color_of_kind": "What color are the {kind}s?",
    "side_of_color": "On which side are the {color} shapes?",
    "more": "Which side has more shapes?",
}


def describe(scene: dict) -> str:
    """The scene in the words the verifier checks: one sentence per group, left first."""
    sentences = []
    for group in scene["groups"]:
        n, noun = group["count"], group["kind"] + ("s" if group["count"] > 1 else "")
        verb = "are" if n > 1 else "is"
        sentences.append(f"There {verb} {n} {group['color']} {noun} on the {group['side']}.")
    return " ".join(sentences)


def _question(rng: random.Random, groups: list[dict]) -> tuple[str, str, str]:
    """(question type, question, answer) for two groups."""
    types = list(QUESTIONS) if groups[0]["count"] != groups[1]["count"] else list(QUESTIONS)[:-1]
    qtype, group = rng.choice(types), rng.choice(groups)
    question = QUESTIONS[qtype].format(**group)
    answer = {
        "total": str(sum(g["count"] for g in groups)),
        "count_of_color": str(group["count"]),
        "color_of_kind": group["color"],
        "side_of_color": group["side"],
        "more": max(groups, key=lambda g: g["count"])["side"],
    }[qtype]
    return qtype, question, answer


def make_sample(rng: random.Random, sample_id: str, split: str) -> VLMSample:
    """Two groups that differ in colour and kind, one per half, and one question joining two facts."""
    kinds, colors = rng.sample(KINDS, 2), rng.sample(list(COLORS), 2)
    groups = [{"side": side, "kind": kind, "color": color, "count": rng.randint(1, MAX_COUNT)}
              for side, kind, color in zip(("left", "right"), kinds, colors)]
    objects = [{"kind": g["kind"], "color": g["color"], "box": box}
               for g in groups for box in place_boxes(rng, g["side"], g["count"])]
    scene = {"width": IMAGE_SIZE, "height": IMAGE_SIZE, "groups": groups, "objects": objects}
    qtype, question, answer = _question(rng, groups)
    demonstration = f"{describe(scene)} The answer is {answer}." if split == "demonstrations" else None
    return VLMSample(id=f"reasoning-{sample_id}", image=render_scene(scene), question=question, answers=[answer],
                     annotations={"scene": scene, "question_type": qtype}, demonstration=demonstration)


def generate(split: str, n: int | None = None, seed: int = 0, keep=None) -> list[VLMSample]:
    """`n` samples of `split`, seeded, sharing no image with the other splits (see EXCLUDED)."""
    return _generate(split, n, seed, keep, make=make_sample, sizes=SPLIT_SIZES, exclude=EXCLUDED)


def vocabulary_text() -> list[str]:
    """The task's sentences, for training a tiny model's tokenizer."""
    rng = random.Random(0)
    return [make_sample(rng, str(i), "demonstrations").demonstration for i in range(40)] + [
        q.format(color=c, kind=k) for q in QUESTIONS.values() for c in COLORS for k in KINDS
    ]
