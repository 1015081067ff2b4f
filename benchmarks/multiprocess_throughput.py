"""Cycle throughput of RAFT across processes: 2 processes x 1 thread against 1 process x 1 thread.

The same tiny Qwen2-VL, task, seed and settings; only the launch differs (`accelerate launch
--multi_gpu --num_processes 2`, which on a machine without CUDA runs over gloo). Throughput is
sampled completions per second of cycle time (rollout + verify + fine-tune + evaluation, as each
run's training_history.json records them), so process start-up and model loading are left out.
Prints both and, last, `ratio: X.XX` (2 processes over 1).

    python benchmarks/multiprocess_throughput.py [--prompts 256] [--samples 4] [--cycles 2]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from halo_forge.vlm.models.tiny import build_tiny_model


def run(command: list[str], output: Path) -> tuple[int, float]:
    """(completions sampled, seconds of cycle time) of a finished run."""
    subprocess.run(command, check=True, capture_output=True, text=True)
    cycles = json.loads((output / "training_history.json").read_text())[1:]
    seconds = sum(v for e in cycles for k, v in e.items() if k.endswith("_seconds"))
    return sum(e["num_samples"] for e in cycles), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prompts", type=int, default=256)
    parser.add_argument("--samples", type=int, default=4)
    parser.add_argument("--cycles", type=int, default=2)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as workdir:
        model = build_tiny_model("qwen2_vl", Path(workdir) / "tiny")
        train = ["-m", "halo_forge.cli", "vlm", "train", "--model", str(model), "--dataset", "synthetic",
                 "--cycles", str(args.cycles), "--limit", str(args.prompts), "--samples-per-prompt", str(args.samples),
                 "--eval-limit", "64", "--max-new-tokens", "16", "--temperature", "1.0", "--reward-threshold", "0.1",
                 "--rollout-batch-size", "8", "--finetune-batch-size", "8", "--no-gradient-checkpointing",
                 "--num-threads", "1"]
        one = Path(workdir) / "one"
        samples_1, seconds_1 = run([sys.executable, *train, "--output", str(one)], one)
        two = Path(workdir) / "two"
        launch = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
                  "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no"]
        samples_2, seconds_2 = run([*launch, *train, "--output", str(two)], two)

    print(f"{args.prompts} prompts x {args.samples} samples x {args.cycles} cycles, tiny qwen2_vl, 1 thread per process")
    print(f"1 process:   {samples_1 / seconds_1:7.1f} completions/s of cycle time ({seconds_1:.1f} s)")
    print(f"2 processes: {samples_2 / seconds_2:7.1f} completions/s of cycle time ({seconds_2:.1f} s)")
    print(f"ratio: {(samples_2 / seconds_2) / (samples_1 / seconds_1):.2f}")


if __name__ == "__main__":
    main()
