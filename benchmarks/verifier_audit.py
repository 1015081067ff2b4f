"""Does the reward track correctness? A labelled audit of the verifier.

Builds at least 200 completions whose correctness is known by construction (right and wrong;
short and wordy; with true and hallucinated objects, counts and text) over synthetic shape scenes
and rendered-word signs, scores each with VisionVerifier, and prints the ROC-AUC of reward against
correctness and the false-positive rate of `success` (wrong answers called right).
Targets: AUC >= 0.98, false positives <= 1%.

    python benchmarks/verifier_audit.py [--scenes 40] [--signs 20]
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path
import sys

sys.path.insert(0, str(Path(__file__).parent))

from textimages import WORDS, signs  # noqa: E402

from halo_forge.vlm.data import synthetic  # noqa: E402
from halo_forge.vlm.data.sample import VLMSample  # noqa: E402
from halo_forge.vlm.verifiers import VisionVerifier  # noqa: E402

ALTERNATIVES = {"color": list(synthetic.COLORS), "kind": list(synthetic.KINDS), "count": ["1", "2", "3"],
                "horizontal": ["left", "right"], "vertical": ["top", "bottom"]}


def scene_completions(sample, rng):
    """(completion, correct) pairs for one shape scene."""
    scene, qtype, answer = sample.annotations["scene"], sample.annotations["question_type"], sample.answers[0]
    objects = scene["objects"]
    n, color, kind, side = len(objects), objects[0]["color"], objects[0]["kind"], scene["side"]
    wrong = rng.choice([a for a in ALTERNATIVES[qtype] if a != answer])
    other_color = rng.choice([c for c in synthetic.COLORS if c != color])
    true_claims = f"I can see {n} {color} {kind}{'s' if n > 1 else ''} on the {side} side of the image."
    false_claims = f"I can see {n % 3 + 1} {other_color} {kind}s near the {rng.choice(['left', 'right'])}."
    return [
        (answer, True),
        (f"{true_claims} The answer is {answer}.", True),
        (f"{false_claims} The answer is {answer}.", True),
        (f"Answer: {answer}", True),
        (wrong, False),
        (f"{true_claims} The answer is {wrong}.", False),
        (f"{false_claims} Looking carefully, I am confident. The answer is {wrong}.", False),
        (f"At first glance it might look like {answer}, but the answer is {wrong}.", False),
        ("", False),
    ]


def sign_completions(word, rng):
    wrong = rng.choice([w for w in WORDS if w != word])
    return [
        (word.lower(), True),
        (f'The sign says "{word}". The answer is {word.lower()}.', True),
        (f'The sign in the picture reads "{word.title()}". Answer: {word.title()}', True),
        (wrong.lower(), False),
        (f'The sign says "{wrong}". The answer is {wrong.lower()}.', False),
        (f'The sign clearly says "{word}", so the answer is {wrong.lower()}.', False),
    ]


def roc_auc(scores: list[float], labels: list[bool]) -> float:
    """Probability that a random correct completion outscores a random wrong one (ties count half)."""
    pos = [s for s, y in zip(scores, labels) if y]
    neg = [s for s, y in zip(scores, labels) if not y]
    wins = sum((p > q) + 0.5 * (p == q) for p in pos for q in neg)
    return wins / (len(pos) * len(neg))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenes", type=int, default=40)
    parser.add_argument("--signs", type=int, default=20)
    args = parser.parse_args()
    rng = random.Random(0)
    verifier = VisionVerifier()
    rewards, successes, labels = [], [], []

    def score(image, question, answers, annotations, completions):
        results = verifier.verify_batch(
            [VLMSample(id="", image=image, question=question, answers=answers, annotations=annotations)],
            [[c for c, _ in completions]],
        )[0]
        for (_, label), result in zip(completions, results):
            rewards.append(result.reward)
            successes.append(result.success)
            labels.append(label)

    for sample in synthetic.generate("test", args.scenes, seed=7):
        score(sample.image, sample.question, sample.answers, sample.annotations, scene_completions(sample, rng))
    for image, word in signs(args.signs, seed=3):
        score(image, "What does the sign say?", [word.lower()], {}, sign_completions(word, rng))

    wrong = [s for s, y in zip(successes, labels) if not y]
    missed = [s for s, y in zip(successes, labels) if y and not s]
    print(f"{len(labels)} completions ({sum(labels)} correct, {len(wrong)} wrong)")
    print(f"correct answers called wrong: {len(missed)}")
    print(f"false_positive_rate: {sum(wrong) / len(wrong):.4f}")
    print(f"roc_auc: {roc_auc(rewards, labels):.4f}")


if __name__ == "__main__":
    main()
