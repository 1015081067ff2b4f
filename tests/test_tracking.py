"""Live logging: a run with --report-to tensorboard, wandb or trackio leaves each cycle's figures,
the sampled completions and each fine-tune step's loss where that tracker's own reader finds them."""

import json
import struct
from pathlib import Path

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from halo_forge.errors import HaloForgeError
from halo_forge.vlm.config import VLMRAFTConfig
from halo_forge.vlm.trainer import VLMRAFTTrainer


def _config(model_dir, output, **changes) -> VLMRAFTConfig:
    settings = dict(model_name=str(model_dir), dataset="synthetic", output_dir=str(output), num_cycles=2, limit=8,
                    eval_limit=8, samples_per_prompt=2, temperature=1.0, max_new_tokens=3, reward_threshold=0.1,
                    learning_rate=1e-3, finetune_batch_size=4, gradient_checkpointing=False)
    return VLMRAFTConfig(**{**settings, **changes})


def _history(output: Path) -> list[dict]:
    return json.loads((output / "training_history.json").read_text())


def test_tensorboard_gets_every_cycle_and_every_fine_tune_step(tiny_model_dir, tmp_path):
    VLMRAFTTrainer(_config(tiny_model_dir, tmp_path, report_to="tensorboard")).train()
    history = _history(tmp_path)

    cycles = EventAccumulator(str(tmp_path / "runs"), size_guidance={"scalars": 0, "tensors": 0}).Reload()
    accuracy = cycles.Scalars("cycle/eval_accuracy")
    assert [e.step for e in accuracy] == [0, 1, 2]
    assert [round(e.value, 6) for e in accuracy] == [round(h["eval_accuracy"], 6) for h in history]
    tags = set(cycles.Tags()["scalars"])
    assert {"cycle/mean_reward", "cycle/keep_rate", "cycle/stage_output", "cycle/learning_rate",
            "cycle/distinct_per_prompt", "cycle/rollout_seconds"} <= tags
    assert "samples" in {t.split("/")[0] for t in cycles.Tags()["tensors"]}  # the completions table

    steps = EventAccumulator(str(tmp_path / "runs" / "finetune_cycle_1")).Reload()
    losses = steps.Scalars("train/loss")
    assert len(losses) == history[1]["finetune_steps"] and all(e.value > 0 for e in losses)


def _wandb_history(run_file: Path) -> list[dict]:
    """The history rows of an offline wandb run, read from its transaction log (a LevelDB-style log
    of protobuf records: 32 KiB blocks, 7-byte chunk headers) after a 7-byte file header."""
    from wandb.proto import wandb_internal_pb2

    data, pos, chunk, rows = run_file.read_bytes(), 7, b"", []
    assert data[:4] == b":W&B"
    while pos + 7 <= len(data):
        left = 32768 - pos % 32768
        _crc, length, kind = struct.unpack("<IHB", data[pos:pos + 7])
        if left < 7 or (length == 0 and kind == 0):  # block padding
            pos += left
            continue
        chunk, pos = chunk + data[pos + 7:pos + 7 + length], pos + 7 + length
        if kind in (1, 4):  # a whole record, or the last chunk of one
            record = wandb_internal_pb2.Record()
            record.ParseFromString(chunk)
            chunk = b""
            if record.WhichOneof("record_type") == "history":
                rows.append({item.key or "/".join(item.nested_key): json.loads(item.value_json)
                             for item in record.history.item})
    return rows


def test_wandb_gets_every_cycle_the_samples_and_every_fine_tune_step(tiny_model_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    for name in ("WANDB_CONFIG_DIR", "WANDB_CACHE_DIR", "WANDB_DATA_DIR"):
        monkeypatch.setenv(name, str(tmp_path / "wandb-home"))
    output = tmp_path / "run"
    VLMRAFTTrainer(_config(tiny_model_dir, output, report_to="wandb", project="tests")).train()
    history = _history(output)

    [run_file] = (output / "runs" / "wandb").glob("offline-run-*/run-*.wandb")
    rows = _wandb_history(run_file)
    cycles = [r for r in rows if "cycle/cycle" in r]
    assert [r["cycle/cycle"] for r in cycles] == [0, 1, 2]
    assert [r["cycle/eval_accuracy"] for r in cycles] == pytest.approx([h["eval_accuracy"] for h in history])
    assert [r["cycle/keep_rate"] for r in cycles[1:]] == pytest.approx(
        [h["num_kept"] / h["num_samples"] for h in history[1:]])
    assert all(r["cycle/samples/_type"] == "table-file" and r["cycle/samples/nrows"] > 0 for r in cycles[1:])
    steps = [r for r in rows if "finetune/loss" in r]
    total = history[1]["finetune_steps"] + history[2]["finetune_steps"]
    assert [r["finetune/step"] for r in steps] == list(range(1, total + 1))  # one axis over both cycles
    assert all(r["finetune/loss"] > 0 for r in steps)


def test_trackio_run_continues_its_step_axis_on_resume(tiny_model_dir, tmp_path):
    from trackio.sqlite_storage import SQLiteStorage

    output = tmp_path / "run"
    VLMRAFTTrainer(_config(tiny_model_dir, output, report_to="trackio", project=tmp_path.name, num_cycles=1)).train()
    VLMRAFTTrainer(_config(tiny_model_dir, output, report_to="trackio", project=tmp_path.name, num_cycles=2)).train()
    history = _history(output)

    [run] = SQLiteStorage.get_runs(tmp_path.name)  # the resumed start logged into the same run
    logs = SQLiteStorage.get_logs(tmp_path.name, run)
    cycles = [r for r in logs if "cycle/eval_accuracy" in r]
    assert [r["step"] for r in cycles] == [0, 1, 2]
    assert [r["cycle/eval_accuracy"] for r in cycles] == pytest.approx([h["eval_accuracy"] for h in history])
    assert all(r["cycle/samples"]["_type"] == "trackio.table" for r in cycles[1:])
    steps = [r["step"] for r in logs if "finetune/loss" in r]
    total = history[1]["finetune_steps"] + history[2]["finetune_steps"]
    assert steps == list(range(1, total + 1))  # cycle 2, after the restart, counts on from cycle 1


def test_a_tracker_that_is_not_installed_is_one_sentence(tmp_path, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "wandb" else real(name, *a))
    with pytest.raises(HaloForgeError, match=r"report_to wandb needs the wandb package \(pip install wandb\)"):
        _config("m", tmp_path, report_to="wandb").validate()


def test_collapse_is_warned_only_when_k_samples_came_out_the_same():
    from halo_forge.vlm.tracking import collapse_warning

    entry = {"cycle": 3, "num_prompts": 10, "num_samples": 40, "distinct_per_prompt": 1.2}
    assert "collapsed in cycle 3 (1.20 distinct completions per prompt of 4)" in collapse_warning(entry)
    assert collapse_warning({**entry, "distinct_per_prompt": 2.0}) is None
    assert collapse_warning({**entry, "num_samples": 10, "distinct_per_prompt": 1.0}) is None  # K = 1: nothing to compare
    assert collapse_warning({"cycle": 0, "eval_accuracy": 0.5}) is None  # cycle 0 samples nothing
