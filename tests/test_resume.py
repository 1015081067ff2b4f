"""Kill-anywhere resume: real `halo-forge vlm train` processes are killed (SIGKILL, and once
SIGINT) at several moments of a run, restarted with the same command each time, and the finished
run must equal an uninterrupted one of the same seed: the same cycles once each, the same sample
counts, the same held-out set, the same figures and the same weights."""

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
import torch
from safetensors.torch import load_file

from halo_forge.vlm.config import SFTOptions
from halo_forge.vlm.sft import run_sft

CYCLES = 3


def command(model, output):
    return [sys.executable, "-m", "halo_forge.cli", "vlm", "train", "--model", str(model), "--dataset", "synthetic",
            "--output", str(output), "--cycles", str(CYCLES), "--limit", "8", "--eval-limit", "8",
            "--samples-per-prompt", "2", "--temperature", "1.0", "--max-new-tokens", "3", "--reward-threshold", "0",
            "--keep-percent", "1.0", "--learning-rate", "1e-3", "--finetune-batch-size", "4",
            "--no-gradient-checkpointing", "--num-threads", "1"]


def history(output):
    path = output / "training_history.json"
    return json.loads(path.read_text()) if path.is_file() else []


def interrupt(cmd, when, sig=signal.SIGKILL, timeout=180):
    """Starts `cmd`, sends `sig` the moment `when(lines printed so far)` holds, returns (exit code, output)."""
    process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env={**os.environ, "COLUMNS": "200"})
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True)
    reader.start()
    deadline = time.monotonic() + timeout
    while not when(lines):
        assert process.poll() is None, "the run ended before the moment to interrupt it:\n" + "".join(lines)
        assert time.monotonic() < deadline, "the moment to interrupt never came"
        time.sleep(0.02)
    process.send_signal(sig)
    process.wait(timeout=timeout)
    reader.join(timeout=10)
    return process.returncode, "".join(lines)


def comparable(entries):
    return [{k: v for k, v in e.items() if not k.endswith("_seconds")} for e in entries]


def test_a_run_killed_anywhere_resumes_to_the_uninterrupted_result(tiny_model_dir, tmp_path):
    reference, killed = tmp_path / "reference", tmp_path / "killed"
    subprocess.run(command(tiny_model_dir, reference), check=True, capture_output=True, timeout=300)

    def training(lines):  # past start-up, inside a cycle
        return any(line.startswith(("Resuming", "cycle")) for line in lines)

    moments = [
        ("before cycle 0 is evaluated", lambda lines: (killed / "config.yaml").is_file(), signal.SIGKILL),
        ("while cycle 1 is checkpointed", lambda lines: (killed / "cycle_1" / "rollouts.jsonl").is_file(),
         signal.SIGKILL),
        ("with Ctrl-C in a later cycle", lambda lines: training(lines) and len(history(killed)) >= 2, signal.SIGINT),
        ("right after cycle 2's history", lambda lines: len(history(killed)) == 3, signal.SIGKILL),
    ]
    for moment, when, sig in moments:
        code, output = interrupt(command(tiny_model_dir, killed), when, sig)
        if sig == signal.SIGINT:  # a clean stop that says where it will resume
            done = history(killed)[-1]["cycle"]
            assert code == 130 and f"Run the same command again to resume after cycle {done}" in output, output
        else:
            assert code == -signal.SIGKILL, (moment, code, output)
        if (killed / "training_history.json").is_file():
            json.loads((killed / "training_history.json").read_text())  # never half-written
    subprocess.run(command(tiny_model_dir, killed), check=True, capture_output=True, timeout=300)

    done, expected = history(killed), history(reference)
    assert [e["cycle"] for e in done] == list(range(CYCLES + 1))
    assert comparable(done) == comparable(expected)  # sample counts, kept counts, rewards, accuracy, loss
    assert (killed / "eval_set.json").read_text() == (reference / "eval_set.json").read_text()
    for cycle in range(1, CYCLES + 1):
        ours = load_file(killed / f"cycle_{cycle}" / "adapter_model.safetensors")
        theirs = load_file(reference / f"cycle_{cycle}" / "adapter_model.safetensors")
        assert ours.keys() == theirs.keys() and all(torch.equal(ours[k], theirs[k]) for k in ours), cycle
        rollouts = (killed / f"cycle_{cycle}" / "rollouts.jsonl").read_text()
        assert rollouts == (reference / f"cycle_{cycle}" / "rollouts.jsonl").read_text()


@pytest.mark.parametrize("full_finetune", [True, False], ids=["full", "lora"])
def test_sft_resumes_from_its_last_checkpoint(full_finetune, tiny_model_dir, tmp_path, monkeypatch):
    from halo_forge.vlm import finetune as finetune_module

    options = dict(model_name=str(tiny_model_dir), dataset="synthetic", limit=32, eval_limit=8, epochs=2.0,
                   batch_size=8, learning_rate=1e-3, save_every=3, max_new_tokens=3, full_finetune=full_finetune)
    whole = run_sft(SFTOptions(**options, output_dir=str(tmp_path / "whole")))

    class Interrupted(finetune_module.RichProgress):  # Ctrl-C after step 5, past the checkpoint at step 3
        def on_step_end(self, args, state, control, **kwargs):
            if state.global_step == 5:
                raise KeyboardInterrupt

    monkeypatch.setattr(finetune_module, "RichProgress", Interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_sft(SFTOptions(**options, output_dir=str(tmp_path / "cut")))
    assert (tmp_path / "cut" / "checkpoints" / "checkpoint-3").is_dir()
    monkeypatch.undo()
    resumed = run_sft(SFTOptions(**options, output_dir=str(tmp_path / "cut")))

    assert resumed["resumed_from"].endswith("checkpoint-3") and resumed["steps"] == whole["steps"] == 8
    assert not (tmp_path / "cut" / "checkpoints").exists()  # removed once the model is saved
    ours, theirs = load_file(tmp_path / "cut" / "model.safetensors"), load_file(tmp_path / "whole" / "model.safetensors")
    assert all(torch.allclose(ours[k], theirs[k], atol=1e-6) for k in ours)
    assert resumed["eval_accuracy"] == whole["eval_accuracy"]
