"""Can the tiny models learn image-dependent questions, or only the answer prior?

On generated shapes-VQA data (`shape_vqa.py`: 64x64 images, about three in four questions yes/no,
a quarter of those negated, the rest colour and shape), `make-tiny-model --size tiny` and
`--size small` are fine-tuned alike (`vlm sft`, full fine-tune, same steps and learning rate),
then scored on the test rows against the best question-only guess (each question's most common
training answer). Last line: `prior: X tiny: Y small: Z`.

    python benchmarks/small_model.py [--epochs 6] [--workdir runs/small-model]
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from shape_vqa import question_only_accuracy, write  # noqa: E402


def train(size: str, data: str, workdir: str, epochs: float, learning_rate: float) -> dict:
    import torch

    torch.set_num_threads(1)
    from rich.console import Console
    from transformers import AutoModelForImageTextToText

    from halo_forge.vlm.models.tiny import build_tiny_model
    from halo_forge.vlm.sft import SFTOptions, run_sft

    start = time.perf_counter()
    model = build_tiny_model("qwen2_vl", Path(workdir) / f"{size}-model", size=size)
    parameters = sum(p.numel() for p in AutoModelForImageTextToText.from_pretrained(model).parameters())
    summary = run_sft(SFTOptions(model_name=str(model), dataset=data, output_dir=str(Path(workdir) / f"{size}-sft"),
                                 full_finetune=True, learning_rate=learning_rate, batch_size=32, epochs=epochs,
                                 max_new_tokens=4, eval_limit=500, num_threads=1), console=Console(quiet=True))
    return {"size": size, "parameters": parameters, "accuracy": summary["eval_accuracy"], "steps": summary["steps"],
            "seconds": time.perf_counter() - start}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=float, default=6)
    parser.add_argument("--learning-rate", type=float, default=3e-4)  # 1e-3 and 2e-3 stay at the prior
    parser.add_argument("--workdir", default="runs/small-model")
    args = parser.parse_args()
    data = write(Path(args.workdir) / "data")
    prior = question_only_accuracy(data)
    with ProcessPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(train, ("tiny", "small"), [str(data)] * 2, [args.workdir] * 2, [args.epochs] * 2,
                                [args.learning_rate] * 2))
    print(f"{data}: 3000 training rows, 500 test rows; best question-only accuracy {prior:.3f}")
    for r in results:
        print(f"{r['size']}: {r['parameters']:,} parameters, {r['steps']} steps, held-out accuracy {r['accuracy']:.3f}, "
              f"{r['seconds']:.0f} s")
    print(f"prior: {prior:.3f} " + " ".join(f"{r['size']}: {r['accuracy']:.3f}" for r in results))


if __name__ == "__main__":
    main()
