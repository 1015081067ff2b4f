"""Does the reward track correctness? A labelled audit of the verifier, by class.

Every completion's correctness is known without the verifier: by construction for the template
classes, by the scene for the tiny model's rollouts (an independent rule in this file: the answer
word of the scene, and no rival word from that question's answer set), and by the metric's
definition for the classes that each reproduce one row of issue 9's table (signs of numbers,
option letters, negations, digits in near misses, MathVista extraction, ANLS and VQA partial
credit, filler, detector scenes drawn by other hands, claims of absence). For each class it
prints the ROC-AUC of reward against correctness (ties count half; "-" where one label is absent)
and the false-positive rate of `success` (wrong answers called right). The last line gives the
AUC over all completions and the worst class's FPR. Goal: FPR <= 0.01 on every class.

    python benchmarks/verifier_audit.py [--scenes 40] [--signs 20] [--rollout-prompts 100]

The rollout class builds a tiny Qwen2-VL, fine-tunes it for --sft-steps on the synthetic task,
and samples K=8 answers at temperature 1.2 per held-out scene (about a minute on 2 cores).
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).parent))

from shape_scenes import scene as drawn_scene  # noqa: E402
from textimages import WORDS, signs  # noqa: E402

from halo_forge.vlm.data import synthetic  # noqa: E402
from halo_forge.vlm.data.sample import VLMSample  # noqa: E402
from halo_forge.vlm.verifiers import OutputChecker, VisionVerifier  # noqa: E402

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


# One class per row of issue 9's table: (metric, gold answers, annotations, [(completion, correct)]).
TABLE_ROWS = {
    "signed numbers": ("exact_match", ["-3"], {}, [("3", False), ("-3", True), ("\u22123", True), ("+3", False),
                                                   ("The answer is 3.", False), ("The answer is -3.", True)]),
    "letter gold": ("option_match", ["A"], {}, [("A", True), ("(A)", True), ("a", True), ("option A", True),
                                                ("B", False), ("a truck on the road", False),
                                                ("A truck is on the road.", False)]),
    "letters with choices": ("exact_match", ["cat"], {"choices": ["cat", "dog"]},
                             [("(A)", True), ("A", True), ("cat", True), ("B", False), ("(B)", False), ("dog", False)]),
    "negations and hedges": ("exact_match", ["blue"], {}, [("blue", True), ("not blue", False), ("red or blue", False),
                                                           ("maybe blue", False), ("It is not blue.", False),
                                                           ("The shapes are blue.", True)]),
    "yes and no": ("exact_match", ["yes"], {}, [("yes", True), ("yes and no", False), ("no", False), ("Yes.", True)]),
    "digits in near misses": ("exact_match", ["january 2019"], {},
                              [("january 2019", True), ("January 2019", True), ("january 2018", False),
                               ("january 2091", False), ("janury 2019", False)]),
    "thousands separators": ("exact_match", ["1000"], {}, [("1,000", True), ("1000", True), ("1,001", False),
                                                           ("100", False)]),
    "marker word boundary": ("exact_match", ["red"], {}, [("The answer isn't clear, maybe red", False),
                                                          ("The answer is red.", True), ("The answer is", False)]),
    "mathvista choices": ("mathvista", ["5"], {"question_type": "multi_choice", "answer_type": "text",
                                               "choices": ["2", "5"]},
                          [("The answer is zzzz", False), ("**", False), ("The answer is .", False), ("B", True),
                           ("(B) 5", True), ("A", False), ("The answer is 2", False)]),
    "mathvista numbers": ("mathvista", ["3"], {"question_type": "free_form", "answer_type": "integer"},
                          [("inf", False), ("nan", False), ("1e999", False), ("9" * 400, False), ("3.0", True),
                           ("3", True)]),
    "anls near misses": ("anls", ["March 1, 1990"], {}, [("March 1, 1991", False), ("march 1 1990", True),
                                                         ("March 1, 1990", True), ("March 11, 1990", False)]),
    "vqa partial credit": ("vqa_accuracy", ["stop"] * 2 + ["go"] * 8, {},
                           [("stop", False), ("go", True), ("Step 1. Step 2. The answer is stop.", False)]),
}


def labelled_by_scene(sample, completion: str) -> bool:
    """Right by the scene: the answer word, and no rival from the question's answer set, no hedge."""
    words = re.findall(r"[a-z0-9]+", completion.lower())
    words = [{"one": "1", "two": "2", "three": "3"}.get(w, w) for w in words]
    said = {w for w in words if w in ALTERNATIVES[sample.annotations["question_type"]]}
    hedged = any(w in ("not", "no", "or", "maybe") for w in words)
    return said == {sample.answers[0]} and not hedged


def rollout_completions(prompts: int, sft_steps: int, seed: int = 0):
    """(sample, completions) from a tiny Qwen2-VL fine-tuned briefly on the synthetic task."""
    import torch

    from halo_forge.vlm import rollout
    from halo_forge.vlm.models.loading import load_model
    from halo_forge.vlm.models.tiny import build_tiny_model
    from halo_forge.vlm.sft import SFTOptions, run_sft

    torch.manual_seed(seed)
    with tempfile.TemporaryDirectory() as tmp:
        base = build_tiny_model("qwen2_vl", Path(tmp) / "tiny", seed=seed)
        run_sft(SFTOptions(model_name=str(base), output_dir=str(Path(tmp) / "warm"), full_finetune=True, learning_rate=2e-3,
                           batch_size=32, epochs=sft_steps * 32 / 2000, eval_limit=50, max_new_tokens=4))
        loaded = load_model(str(Path(tmp) / "warm"))
        samples = synthetic.generate("validation", prompts, seed=seed)
        groups = rollout.generate(loaded, samples, num_samples=8, temperature=1.2, max_new_tokens=6, batch_size=50,
                                  show_progress=False)
    return list(zip(samples, groups))


def roc_auc(scores: list[float], labels: list[bool]) -> float | None:
    """Probability that a random correct completion outscores a random wrong one (ties count half)."""
    pos = [s for s, y in zip(scores, labels) if y]
    neg = [s for s, y in zip(scores, labels) if not y]
    if not pos or not neg:
        return None
    wins = sum((p > q) + 0.5 * (p == q) for p in pos for q in neg)
    return wins / (len(pos) * len(neg))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenes", type=int, default=40)
    parser.add_argument("--signs", type=int, default=20)
    parser.add_argument("--rollout-prompts", type=int, default=100, help="0 skips the tiny model's rollouts")
    parser.add_argument("--sft-steps", type=int, default=250)
    args = parser.parse_args()
    rng = random.Random(0)
    verifiers = {}
    results = defaultdict(list)  # class -> [(reward, success, label)]

    def score(name, metric, image, question, answers, annotations, completions):
        verifier = verifiers.setdefault(metric, VisionVerifier(output=OutputChecker(metric)))
        sample = VLMSample(id="", image=image, question=question, answers=answers, annotations=annotations)
        for (_, label), r in zip(completions, verifier.verify_batch([sample], [[c for c, _ in completions]])[0]):
            results[name].append((r.reward, r.success, label))

    for sample in synthetic.generate("test", args.scenes, seed=7):
        score("templates: scenes", "exact_match", sample.image, sample.question, sample.answers, sample.annotations,
              scene_completions(sample, rng))
    for image, word in signs(args.signs, seed=3):
        score("templates: signs", "exact_match", image, "What does the sign say?", [word.lower()], {},
              sign_completions(word, rng))
    blank = Image.new("RGB", (64, 64), "white")
    for name, (metric, answers, row_annotations, completions) in TABLE_ROWS.items():
        score(name, metric, blank, "q", answers, row_annotations, completions)
    three = Image.new("RGB", (336, 112), "white")
    for x in (20, 130, 240):
        ImageDraw.Draw(three).ellipse([x, 24, x + 64, 88], fill="red")
    score("detector: three red circles", "exact_match", three, "How many circles are there?", ["3"], {},
          [("There are 3 red circles. The answer is 3.", True), ("3", True), ("There are 2 red circles. The answer is 2.", False),
           ("I see 3 blue squares. The answer is 2.", False), ("There is no circle. The answer is 0.", False)])
    for seed in range(args.scenes):
        image, objects = drawn_scene(seed)
        n, first = len(objects), objects[0]
        score("detector: drawn scenes", "exact_match", image, "How many shapes are there?", [str(n)], {},
              [(str(n), True), (f"I see {n} shape{'s' * (n > 1)}, one a {first['color']} {first['kind']}. "
                                f"The answer is {n}.", True),
               (str(n + 1), False), (f"I see {n + 1} {first['color']} {first['kind']}s. The answer is {n + 1}.", False)])
        absent = next(c for c in ("gray", "teal", "pink", "orange") if all(o["color"] != c for o in objects))
        score("absence claims", "exact_match", image, f"Is there a {absent} shape?", ["no"], {},
              [(f"There is no {absent} shape. The answer is no.", True),
               (f"There is a {absent} shape. The answer is yes.", False), ("no", True), ("yes", False)])
    if args.rollout_prompts:
        for sample, group in rollout_completions(args.rollout_prompts, args.sft_steps):
            score("rollouts: tiny model", "exact_match", sample.image, sample.question, sample.answers,
                  sample.annotations, [(c, labelled_by_scene(sample, c)) for c in group])

    print(f"{'class':<30}{'n':>6}{'correct':>9}{'roc_auc':>9}{'fpr':>8}")
    worst = 0.0
    for name, rows in results.items():
        rewards, successes, labels = zip(*rows)
        auc = roc_auc(list(rewards), list(labels))
        wrong = [s for s, y in zip(successes, labels) if not y]
        fpr = sum(wrong) / len(wrong) if wrong else 0.0
        worst = max(worst, fpr)
        print(f"{name:<30}{len(rows):>6}{sum(labels):>9}{'-' if auc is None else f'{auc:.4f}':>9}{fpr:>8.4f}")
    everything = [row for rows in results.values() for row in rows]
    missed = sum(1 for _, s, y in everything if y and not s)
    print(f"{len(everything)} completions ({sum(y for *_, y in everything)} correct); correct answers called wrong: {missed}")
    print(f"roc_auc: {roc_auc([r for r, *_ in everything], [y for *_, y in everything]):.4f} fpr: {worst:.4f}")


if __name__ == "__main__":
    main()
