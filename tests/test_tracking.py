"""Live logging: a run with --report-to tensorboard leaves event files under OUTPUT/runs with each
cycle's figures and each fine-tune step's loss, which TensorBoard's own reader reads back."""

import json

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from halo_forge.vlm.config import VLMRAFTConfig
from halo_forge.vlm.trainer import VLMRAFTTrainer


def test_tensorboard_gets_every_cycle_and_every_fine_tune_step(tiny_model_dir, tmp_path):
    config = VLMRAFTConfig(model_name=str(tiny_model_dir), dataset="synthetic", output_dir=str(tmp_path), num_cycles=2,
                           limit=8, eval_limit=8, samples_per_prompt=2, temperature=1.0, max_new_tokens=3,
                           reward_threshold=0.1, learning_rate=1e-3, finetune_batch_size=4,
                           gradient_checkpointing=False, report_to="tensorboard")
    VLMRAFTTrainer(config).train()
    history = json.loads((tmp_path / "training_history.json").read_text())

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
