"""Does the verifier make the difference where labels are answers only? Four arms from one warm start.

The task is `synthetic-reasoning`: questions that need two facts, training rows with the final
answer only. The warm start (a tiny Qwen2-VL fine-tuned on the 300 worked demonstrations) describes
the scene before answering. From it, at equal sampled completions or optimizer steps:

- full:        RAFT, the multi-stage verifier (0.3 / 0.4 / 0.3) ranks the completions
- output_only: RAFT, output stage only (0 / 0 / 1): any right answer is as good as another
- label_sft:   `vlm sft` on the answer-only rows, as many optimizer steps as the `full` run of the
               same seed took (the control arm)
- grpo:        TRL's GRPOTrainer, the same verifier as reward, the same prompts and K

Two ideas from the RAFT literature were measured as arms of this script and dropped: keeping
nothing from prompts whose K samples are all right, and GVM-style budgets (half of K first, the
rest to the least-solved prompts); neither helped (benchmarks/results/learning_raft_variants.txt).

Reported per arm over the seeds (mean ± sd): held-out accuracy; hallucinated-claim rate (share of
the visual claims in greedy held-out answers that the scene refutes); share of answers that still
reason before answering; wall time. The last line reads
`full: ACC/HALL output_only: ACC/HALL label_sft: ACC/HALL grpo: ACC/HALL`.

    python benchmarks/learning.py                  # 4 arms x 3 seeds, 2 worker processes
    python benchmarks/learning.py --arms full output_only --seeds 1 --cycles 2   # a quick look
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "demo.yaml"
# Each arm's settings over examples/demo.yaml (label_sft runs `vlm sft` instead, see label_sft()).
ARMS = {
    "full": {},
    "output_only": dict(perception_weight=0.0, reasoning_weight=0.0, output_weight=1.0),
    "label_sft": {},
    "grpo": dict(algorithm="grpo"),
}


def warm_start(workdir: Path, epochs: float) -> Path:
    """The tiny model fine-tuned on the worked demonstrations (built once, reused by every arm)."""
    from halo_forge.vlm.models.tiny import build_tiny_model
    from halo_forge.vlm.sft import SFTOptions, run_sft

    warm = workdir / "warm-start"
    if not (warm / "sft_summary.json").is_file():
        tiny = build_tiny_model("qwen2_vl", workdir / "tiny-model")
        run_sft(SFTOptions(model_name=str(tiny), dataset="synthetic-reasoning", split="demonstrations", output_dir=str(warm),
                           full_finetune=True, learning_rate=2e-3, batch_size=32, epochs=epochs, max_new_tokens=28,
                           eval_limit=200, num_threads=1))
    return warm


def config_for(arm: str, seed: int, warm: Path, run: Path, args):
    from halo_forge.vlm.config import VLMRAFTConfig

    overrides = dict(model_name=str(warm), output_dir=str(run), seed=seed, num_cycles=args.cycles,
                     prompts_per_cycle=args.prompts_per_cycle, eval_limit=args.eval_limit, **ARMS[arm])
    if arm == "grpo":
        overrides.update(learning_rate=args.grpo_learning_rate)
    return VLMRAFTConfig.from_yaml(EXAMPLE, **overrides)


def run_arm(arm: str, seed: int, warm: str, workdir: str, args, steps: int = 0) -> dict:
    """One arm, one seed: the run's history (cycle 0 = the warm start) and its wall time."""
    import torch

    torch.set_num_threads(1)
    from rich.console import Console

    run = Path(workdir) / f"{arm}-seed{seed}"
    start = time.perf_counter()
    quiet = Console(quiet=True)
    if arm == "label_sft":
        history = label_sft(seed, Path(warm), run, args, steps, quiet)
    else:
        from halo_forge.vlm.trainer import VLMRAFTTrainer

        history = VLMRAFTTrainer(config_for(arm, seed, Path(warm), run, args), console=quiet).train()
    return {"arm": arm, "seed": seed, "seconds": time.perf_counter() - start, "history": history}


def label_sft(seed: int, warm: Path, run: Path, args, steps: int, console) -> list[dict]:
    """The control: `vlm sft` from the warm start on the answer-only training rows, for as many
    optimizer steps as the `full` run of the same seed took, at the mean of its learning rates;
    then the same held-out evaluation. History: [warm start, after]."""
    from halo_forge.vlm.data.registry import load_run_data
    from halo_forge.vlm.evaluate import evaluate
    from halo_forge.vlm.models.loading import load_model
    from halo_forge.vlm.sft import SFTOptions, run_sft
    from halo_forge.vlm.verifiers import VisionVerifier

    config = config_for("full", seed, warm, run, args)
    rates = [config.learning_rate_for(c) for c in range(1, config.num_cycles + 1)]
    rows = steps * config.finetune_batch_size
    summary = run_sft(SFTOptions(
        model_name=str(warm), dataset=config.dataset, output_dir=str(run), epochs=rows / config.limit, limit=config.limit,
        batch_size=config.finetune_batch_size, learning_rate=sum(rates) / len(rates), full_finetune=True,
        max_new_tokens=config.max_new_tokens, eval_limit=config.eval_limit, seed=seed, num_threads=1,
    ), console=console)
    verifier = VisionVerifier(ocr="none")
    held_out = load_run_data(config.dataset, limit=0, eval_limit=config.eval_limit, seed=seed).held_out
    history = []
    for model, cycle in ((warm, 0), (run, config.num_cycles)):
        result = evaluate(load_model(str(model)), held_out, "exact_match", batch_size=64,
                          max_new_tokens=config.max_new_tokens, verifier=verifier, show_progress=False)
        history.append({"cycle": cycle, "eval_accuracy": result.accuracy,
                        "eval_hallucination_rate": result.grounding.hallucination_rate,
                        "eval_reasoning_share": result.grounding.reasoning_share,
                        "finetune_steps": summary["steps"] if cycle else 0, "num_samples": 0})
    return history


def summarise(results: list[dict]) -> str:
    lines = ["| arm | held-out accuracy | hallucinated claims (n/a: none made) | answers that reason | sampled completions | "
             "optimizer steps | wall s |", "|---|---|---|---|---|---|---|"]
    last = []
    for arm in ARMS:
        runs = [r for r in results if r["arm"] == arm]
        if not runs:
            continue
        final = [r["history"][-1] for r in runs]
        acc = [e["eval_accuracy"] for e in final]
        hall = [e["eval_hallucination_rate"] for e in final if e["eval_hallucination_rate"] is not None]
        reason = [e["eval_reasoning_share"] for e in final]

        def ms(values, pct=False):
            if not values:
                return "n/a"
            scale = 100 if pct else 1
            sd = statistics.stdev(values) * scale if len(values) > 1 else 0.0
            return f"{statistics.mean(values) * scale:.{1 if pct else 3}f} ± {sd:.{1 if pct else 3}f}{'%' if pct else ''}"

        sampled = statistics.mean(sum(e.get("num_samples", 0) for e in r["history"][1:]) for r in runs)
        steps = statistics.mean(sum(e.get("finetune_steps", 0) for e in r["history"][1:]) for r in runs)
        seconds = statistics.mean(r["seconds"] for r in runs)
        lines.append(f"| {arm} | {ms(acc)} | {ms(hall, pct=True)} | {ms(reason, pct=True)} | {sampled:,.0f} | "
                     f"{steps:.0f} | {seconds:.0f} |")
        hall_text = f"{statistics.mean(hall):.3f}" if hall else "n/a"
        last.append(f"{arm}: {statistics.mean(acc):.3f}/{hall_text}")
    starts = [r["history"][0] for r in results if r["arm"] == results[0]["arm"]]
    lines.insert(0, "warm start (mean over the seeds' held-out sets): accuracy "
                    f"{statistics.mean(e['eval_accuracy'] for e in starts):.3f}, hallucinated claims "
                    f"{statistics.mean(e['eval_hallucination_rate'] for e in starts):.1%}, answers that reason "
                    f"{statistics.mean(e['eval_reasoning_share'] for e in starts):.0%}\n")
    return "\n".join(lines + ["", " ".join(last)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arms", nargs="+", default=list(ARMS), choices=list(ARMS))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--cycles", type=int, default=6)
    parser.add_argument("--prompts-per-cycle", type=int, default=512)
    parser.add_argument("--eval-limit", type=int, default=500)
    parser.add_argument("--warm-epochs", type=float, default=40)
    parser.add_argument("--grpo-learning-rate", type=float, default=1e-4)
    parser.add_argument("--jobs", type=int, default=2, help="worker processes, one torch thread each")
    parser.add_argument("--workdir", default="runs/learning")
    args = parser.parse_args()
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    warm = str(warm_start(workdir, args.warm_epochs))
    seeds = range(args.seeds)
    needs_full = "label_sft" in args.arms
    arms = [a for a in args.arms if a != "label_sft"] + (["full"] if needs_full and "full" not in args.arms else [])
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        jobs = [pool.submit(run_arm, arm, seed, warm, str(workdir), args) for seed in seeds for arm in arms]
        results = [job.result() for job in jobs]
        if needs_full:
            steps = {r["seed"]: sum(e["finetune_steps"] for e in r["history"][1:]) for r in results if r["arm"] == "full"}
            jobs = [pool.submit(run_arm, "label_sft", seed, warm, str(workdir), args, steps[seed]) for seed in seeds]
            results += [job.result() for job in jobs]
    results = [r for r in results if r["arm"] in args.arms]
    (workdir / "results.json").write_text(json.dumps(results, indent=1))
    for r in results:
        trail = " ".join(f"{e['eval_accuracy']:.3f}/" + ("n/a" if e["eval_hallucination_rate"] is None else
                                                            f"{e['eval_hallucination_rate']:.3f}") for e in r["history"])
        print(f"{r['arm']} seed {r['seed']} ({r['seconds']:.0f} s), accuracy/hallucination per cycle: {trail}")
    print(f"total wall time {time.perf_counter() - began:.0f} s\n")
    print(summarise(results))


if __name__ == "__main__":
    main()
