"""RAFT across processes: `accelerate launch --multi_gpu --num_processes 2` on this CPU machine
(gloo; accelerate's `--cpu` flag starts a single process) against one process, same seed; and
FSDP against DDP.

Rollout batches are seeded by their index, so the first cycle samples, scores and keeps exactly
what one process does. The fine-tune then runs as DDP: each process takes half of every global
batch, so a cycle makes half the optimizer steps of one process at the same per-process batch
size and the weights (and with them later cycles' samples) differ from the one-process run.
Under FSDP each process holds half of the weights; the same global batches give the same
gradients as DDP, so both cycles sample the same and the adapters agree to float rounding."""

import dataclasses
import json
import os
import re
from collections import Counter
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from halo_forge.vlm.config import VLMRAFTConfig
from halo_forge.vlm.trainer import VLMRAFTTrainer

# 12 prompts and 12 held-out rows in batches of 4: three batches, so one process runs two and the
# other one (under FSDP it must still keep pace with a third).
SETTINGS = dict(dataset="synthetic", num_cycles=2, limit=12, eval_limit=12, samples_per_prompt=2, temperature=1.0,
                max_new_tokens=3, reward_threshold=0.1, keep_percent=0.5, learning_rate=1e-3, finetune_batch_size=4,
                rollout_batch_size=4, gradient_checkpointing=False, num_threads=1)
EXAMPLES = Path(__file__).parents[1] / "examples" / "accelerate"


def flags(settings):
    names = {f.name: f.metadata["flag"] or "--" + f.name.replace("_", "-") for f in dataclasses.fields(VLMRAFTConfig)}
    out = []
    for key, value in settings.items():
        flag = names[key]
        out += ([flag] if value else ["--no-" + flag[2:]]) if isinstance(value, bool) else [flag, str(value)]
    return out


def launch(model, output, config: str, program=("-m", "halo_forge.cli"), settings=None) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(EXAMPLES / config),
               "--num_processes", "2", *program, "vlm", "train", "--model", str(model), "--output", str(output),
               *flags(settings or SETTINGS)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, env={**os.environ, "COLUMNS": "200"})
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def history(run: Path) -> list[dict]:
    return json.loads((run / "training_history.json").read_text())


@pytest.fixture(scope="module")
def ddp(tiny_model_dir, tmp_path_factory):
    output = tmp_path_factory.mktemp("ddp") / "run"
    return output, launch(tiny_model_dir, output, "ddp.yaml")


def test_two_processes_keep_what_one_keeps_and_one_writes(tiny_model_dir, ddp, tmp_path):
    one, (two, done) = tmp_path / "one", ddp
    VLMRAFTTrainer(VLMRAFTConfig(model_name=str(tiny_model_dir), output_dir=str(one), **SETTINGS)).train()

    ours, theirs = history(two), history(one)
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


def test_fsdp_shards_the_weights_and_trains_as_ddp_does(tiny_model_dir, ddp, tmp_path):
    ddp_run, fsdp_run = ddp[0], tmp_path / "fsdp"
    done = launch(tiny_model_dir, fsdp_run, "fsdp.yaml", program=(str(Path(__file__).parent / "fixtures" /
                                                                       "fsdp_on_cpu.py"),))
    units = re.search(r"FSDP: the weights are sharded over 2 processes in (\d+) units; this one holds", done.stdout)
    assert units and int(units.group(1)) > 2, done.stdout  # the root and each decoder and vision block
    assert "(50%)" in done.stdout  # each process holds half
    assert done.stdout.count("cycle 2: eval_accuracy") == 1

    ours, theirs = history(fsdp_run), history(ddp_run)
    for key in ("num_samples", "num_kept", "finetune_steps", "eval_accuracy"):
        assert [e.get(key) for e in ours] == [e.get(key) for e in theirs], key
    assert [e["finetune_loss"] for e in ours[1:]] == pytest.approx([e["finetune_loss"] for e in theirs[1:]], rel=1e-5)
    for cycle in (1, 2):  # the same samples before and after a sharded fine-tune ...
        folder = f"cycle_{cycle}"
        assert (fsdp_run / folder / "rollouts.jsonl").read_text() == (ddp_run / folder / "rollouts.jsonl").read_text()
        # ... and a checkpoint gathered from the shards that equals DDP's to float rounding
        sharded, copied = (load_file(run / folder / "adapter_model.safetensors") for run in (fsdp_run, ddp_run))
        assert sharded.keys() == copied.keys()
        assert any(v.abs().sum() > 0 for k, v in sharded.items() if "lora_B" in k)  # it trained
        for name in copied:
            torch.testing.assert_close(sharded[name], copied[name], rtol=0, atol=1e-5)


def test_grpo_across_processes_records_every_completion_of_every_group(tiny_model_dir, tmp_path):
    settings = {**SETTINGS, "algorithm": "grpo", "num_cycles": 1, "grpo_prompts_per_step": 2}
    one, two = tmp_path / "one", tmp_path / "two"
    VLMRAFTTrainer(VLMRAFTConfig(model_name=str(tiny_model_dir), output_dir=str(one), **settings)).train()
    done = launch(tiny_model_dir, two, "ddp.yaml", settings=settings)

    ours, theirs = history(two), history(one)
    assert [sorted(e) for e in ours] == [sorted(e) for e in theirs]
    assert ours[1]["num_samples"] == theirs[1]["num_samples"] == 12 * 2  # both processes' completions, gathered
    assert ours[1]["finetune_steps"] == theirs[1]["finetune_steps"] // 2  # a step: 2 prompts from each process
    rollouts = [json.loads(line) for line in (two / "cycle_1" / "rollouts.jsonl").read_text().splitlines()]
    assert sorted(Counter(r["id"] for r in rollouts).values()) == [2] * 12  # every group whole, none twice
    assert done.stdout.count("cycle 1: eval_accuracy") == 1


def test_fsdp_wraps_only_the_blocks_a_model_contains(tmp_path):
    from halo_forge.vlm.distributed import blocks_to_wrap
    from halo_forge.vlm.models.loading import load_model
    from halo_forge.vlm.models.tiny import build_tiny_model

    model = load_model(str(build_tiny_model("llava", tmp_path / "llava"))).model
    assert "CLIPTextEmbeddings" in model._no_split_modules  # listed, but a LLaVA holds CLIP's vision tower only
    assert set(blocks_to_wrap(model)) == {"LlamaDecoderLayer", "CLIPEncoderLayer", "CLIPVisionEmbeddings"}
