"""RAFT across processes: `accelerate launch --multi_gpu --num_processes 2` on this CPU machine
(gloo; accelerate's `--cpu` flag starts a single process) against one process, same seed.

Rollout batches are seeded by their index, so the first cycle samples, scores and keeps exactly
what one process does. The fine-tune then runs as DDP: each process takes half of every global
batch, so a cycle makes half the optimizer steps of one process at the same per-process batch
size and the weights (and with them later cycles' samples) differ from the one-process run."""

import dataclasses
import json
import os
import subprocess
import sys

from halo_forge.vlm.config import VLMRAFTConfig
from halo_forge.vlm.trainer import VLMRAFTTrainer

SETTINGS = dict(dataset="synthetic", num_cycles=2, limit=16, eval_limit=8, samples_per_prompt=2, temperature=1.0,
                max_new_tokens=3, reward_threshold=0.1, keep_percent=0.5, learning_rate=1e-3, finetune_batch_size=4,
                rollout_batch_size=4, gradient_checkpointing=False, num_threads=1)


def flags(settings):
    names = {f.name: f.metadata["flag"] or "--" + f.name.replace("_", "-") for f in dataclasses.fields(VLMRAFTConfig)}
    out = []
    for key, value in settings.items():
        flag = names[key]
        out += ([flag] if value else ["--no-" + flag[2:]]) if isinstance(value, bool) else [flag, str(value)]
    return out


def test_two_processes_keep_what_one_keeps_and_one_writes(tiny_model_dir, tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    VLMRAFTTrainer(VLMRAFTConfig(model_name=str(tiny_model_dir), output_dir=str(one), **SETTINGS)).train()
    launch = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
              "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
              "-m", "halo_forge.cli", "vlm", "train", "--model", str(tiny_model_dir), "--output", str(two),
              *flags(SETTINGS)]
    done = subprocess.run(launch, capture_output=True, text=True, timeout=300, env={**os.environ, "COLUMNS": "200"})
    assert done.returncode == 0, done.stdout + done.stderr

    ours, theirs = (json.loads((run / "training_history.json").read_text()) for run in (two, one))
    assert [sorted(e) for e in ours] == [sorted(e) for e in theirs]  # the same record
    for key in ("cycle", "num_prompts", "num_samples"):
        assert [e.get(key) for e in ours] == [e.get(key) for e in theirs], key
    # cycle 1: the same completions, rewards and keep-set as one process
    assert (two / "cycle_1" / "rollouts.jsonl").read_text() == (one / "cycle_1" / "rollouts.jsonl").read_text()
    assert 0 < ours[1]["num_kept"] < ours[1]["num_samples"] // 2 + 1  # a real selection: threshold, then top half
    # the fine-tune ran as DDP: each step took one batch per process
    assert ours[1]["finetune_steps"] == -(-theirs[1]["finetune_steps"] // 2)
    # one process spoke and wrote
    assert done.stdout.count("cycle 1: eval_accuracy") == 1 and done.stdout.count("cycle 0 (before") == 1
    assert not list(two.rglob("*.tmp"))
