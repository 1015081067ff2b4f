import json

import pytest
import yaml
from transformers import AutoModelForImageTextToText

from halo_forge.errors import HaloForgeError
from halo_forge.vlm import trainer as trainer_module
from halo_forge.vlm.trainer import VLMRAFTConfig, VLMRAFTTrainer

HISTORY_KEYS = {
    "cycle", "eval_accuracy", "mean_reward", "num_samples", "num_kept", "learning_rate", "rollout_seconds",
    "verify_seconds", "finetune_seconds", "eval_seconds", "stage_scores",
}


def small_config(model_dir, output, **overrides):
    fields = dict(
        model_name=str(model_dir), dataset="synthetic", output_dir=str(output), num_cycles=2, limit=8,
        eval_limit=8, samples_per_prompt=2, temperature=1.0, max_new_tokens=3, reward_threshold=0.0,
        keep_percent=1.0, learning_rate=1e-3, finetune_batch_size=4, gradient_checkpointing=False,
    )
    return VLMRAFTConfig(**{**fields, **overrides})


def test_two_cycles_write_history_checkpoints_and_rollouts(tiny_model_dir, tmp_path):
    history = VLMRAFTTrainer(small_config(tiny_model_dir, tmp_path)).train()
    assert [e["cycle"] for e in history] == [0, 1, 2]
    assert json.loads((tmp_path / "training_history.json").read_text()) == history
    for entry in history[1:]:
        assert HISTORY_KEYS <= entry.keys()
        assert entry["num_samples"] == 16 and entry["num_kept"] > 0 and entry["finetune_steps"] > 0
    assert history[2]["learning_rate"] == pytest.approx(1e-3 * 0.85)
    for cycle in (1, 2):
        directory = tmp_path / f"cycle_{cycle}"
        model = AutoModelForImageTextToText.from_pretrained(directory)  # the adapter, through transformers
        assert model.config.model_type == "qwen2_vl"
        rows = [json.loads(line) for line in (directory / "rollouts.jsonl").read_text().splitlines()]
        assert len(rows) == 16 and {"completion", "reward", "success", "kept", "stages"} <= rows[0].keys()


def test_interrupted_run_resumes_after_the_last_finished_cycle(tiny_model_dir, tmp_path, monkeypatch, capsys):
    real_finetune, calls = trainer_module.finetune, []

    def interrupt_in_cycle_2(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_finetune(*args, **kwargs)

    monkeypatch.setattr(trainer_module, "finetune", interrupt_in_cycle_2)
    with pytest.raises(KeyboardInterrupt):
        VLMRAFTTrainer(small_config(tiny_model_dir, tmp_path, num_cycles=3)).train()
    assert [e["cycle"] for e in json.loads((tmp_path / "training_history.json").read_text())] == [0, 1]

    monkeypatch.setattr(trainer_module, "finetune", real_finetune)
    history = VLMRAFTTrainer(small_config(tiny_model_dir, tmp_path, num_cycles=3)).train()
    assert "Resuming" in capsys.readouterr().out
    assert [e["cycle"] for e in history] == [0, 1, 2, 3]
    assert (tmp_path / "cycle_3" / "adapter_model.safetensors").is_file()


def test_resume_names_every_changed_setting_and_allow_changes_accepts_them(tiny_model_dir, tmp_path, capsys):
    VLMRAFTTrainer(small_config(tiny_model_dir, tmp_path, num_cycles=1)).train()
    changed = dict(learning_rate=2e-3, lora_r=8, samples_per_prompt=3)
    with pytest.raises(HaloForgeError) as info:
        VLMRAFTTrainer(small_config("other/model", tmp_path, num_cycles=2, **changed)).train()
    for change in ("-> 'other/model'", "learning_rate 0.001 -> 0.002", "lora_r 16 -> 8", "samples_per_prompt 2 -> 3"):
        assert change in str(info.value)
    assert not (tmp_path / "cycle_2").exists()
    history = VLMRAFTTrainer(small_config(tiny_model_dir, tmp_path, num_cycles=2, allow_changes=True, **changed)).train()
    assert "Continuing" in capsys.readouterr().out and [e["cycle"] for e in history] == [0, 1, 2]
    saved = yaml.safe_load((tmp_path / "cycle_2" / "config.yaml").read_text())
    assert (saved["learning_rate"], saved["lora_r"]) == (2e-3, 8)  # each cycle records what it was trained with
    assert yaml.safe_load((tmp_path / "cycle_1" / "config.yaml").read_text())["lora_r"] == 16


def test_resume_refuses_a_changed_held_out_set(tiny_model_dir, tmp_path):
    VLMRAFTTrainer(small_config(tiny_model_dir, tmp_path, num_cycles=1)).train()
    assert json.loads((tmp_path / "eval_set.json").read_text())["n"] == 8
    with pytest.raises(HaloForgeError, match="other settings \\(eval_limit 8 -> 6\\)"):
        VLMRAFTTrainer(small_config(tiny_model_dir, tmp_path, num_cycles=2, eval_limit=6)).train()
    with pytest.raises(HaloForgeError, match="another held-out set"):  # even when changes are allowed
        VLMRAFTTrainer(small_config(tiny_model_dir, tmp_path, num_cycles=2, eval_limit=6, allow_changes=True)).train()


def test_full_finetune_and_merge_write_loadable_models(tiny_model_dir, tmp_path):
    VLMRAFTTrainer(small_config(tiny_model_dir, tmp_path / "full", num_cycles=1, full_finetune=True)).train()
    AutoModelForImageTextToText.from_pretrained(tmp_path / "full" / "cycle_1")
    VLMRAFTTrainer(small_config(tiny_model_dir, tmp_path / "lora", num_cycles=1, merge=True)).train()
    merged = AutoModelForImageTextToText.from_pretrained(tmp_path / "lora" / "cycle_1" / "merged")
    assert not any("lora" in name for name, _ in merged.named_parameters())


def test_prompts_are_reshuffled_each_cycle_when_no_draw_size_is_set(tmp_path):
    trainer = VLMRAFTTrainer(VLMRAFTConfig(output_dir=str(tmp_path)))
    prompts = list(range(50))
    one, two = trainer._prompts_for(1, prompts), trainer._prompts_for(2, prompts)
    assert sorted(one) == prompts and sorted(two) == prompts
    assert one != prompts and one != two


def _weights(model_dir):
    from safetensors.torch import load_file

    return load_file(str(model_dir / "model.safetensors"))


def test_grpo_runs_a_cycle_through_trl_with_the_same_checkpoints_and_history(tiny_model_dir, tmp_path):
    config = small_config(tiny_model_dir, tmp_path, num_cycles=1, algorithm="grpo", samples_per_prompt=4,
                          grpo_prompts_per_step=2, full_finetune=True, max_new_tokens=4, learning_rate=1e-3)
    history = VLMRAFTTrainer(config).train()
    entry = history[1]
    assert entry["algorithm"] == "grpo"
    assert {"cycle", "eval_accuracy", "mean_reward", "stage_scores", "num_samples", "learning_rate",
            "eval_hallucination_rate", "distinct_per_prompt", "token_entropy", "eval_seconds"} <= entry.keys()
    assert entry["num_samples"] == 8 * 4 and entry["finetune_steps"] == 8 // 2
    rows = [json.loads(line) for line in (tmp_path / "cycle_1" / "rollouts.jsonl").read_text().splitlines()]
    assert len(rows) == 32 and all(0 <= r["reward"] <= 1 for r in rows)
    before, after = _weights(tiny_model_dir), _weights(tmp_path / "cycle_1")
    assert any(not (before[k] == after[k]).all() for k in before)  # GRPO really changed the weights
    AutoModelForImageTextToText.from_pretrained(tmp_path / "cycle_1")


def test_each_cycle_logs_sampling_diversity_and_grounding(tiny_model_dir, tmp_path):
    history = VLMRAFTTrainer(small_config(tiny_model_dir, tmp_path, num_cycles=1, samples_per_prompt=3)).train()
    entry = history[1]
    assert 1 <= entry["distinct_per_prompt"] <= 3
    assert entry["token_entropy"] > 0
    for e in history:
        assert 0 <= e["eval_reasoning_share"] <= 1 and e["eval_claims"] >= 0


def test_grpo_needs_groups_to_compare():
    with pytest.raises(HaloForgeError, match="samples_per_prompt must be at least 2"):
        VLMRAFTConfig(algorithm="grpo", samples_per_prompt=1).validate()
    with pytest.raises(HaloForgeError, match="algorithm must be one of raft, grpo"):
        VLMRAFTConfig(algorithm="ppo").validate()



def test_records_are_strict_json_with_non_finite_numbers_as_null(tmp_path):
    from halo_forge.files import write_json

    write_json(tmp_path / "h.json", [{"cycle": 1, "finetune_loss": float("nan"), "x": [float("inf"), 1.5]}])

    def refuse(constant):
        raise ValueError(constant)

    assert json.loads((tmp_path / "h.json").read_text(), parse_constant=refuse) == [
        {"cycle": 1, "finetune_loss": None, "x": [None, 1.5]}]


def test_two_fresh_lora_runs_with_the_same_seed_are_identical(tiny_model_dir, tmp_path):
    from safetensors.torch import load_file

    for name in ("a", "b"):
        VLMRAFTTrainer(small_config(tiny_model_dir, tmp_path / name, num_cycles=1)).train()
    a, b = (load_file(str(tmp_path / n / "cycle_1" / "adapter_model.safetensors")) for n in ("a", "b"))
    assert a.keys() == b.keys() and all((a[k] == b[k]).all() for k in a)


def test_a_run_without_held_out_samples_is_refused(tiny_model_dir, tmp_path):
    """A JSONL whose images all fall on the training side of the 10% partition (a small file can):
    without the check the run would train and report "0.000 -> 0.000"."""
    from PIL import Image

    from halo_forge.vlm.data.images import content_key, in_held_out

    rows, shade = [], 0
    while len(rows) < 9:
        path = tmp_path / f"{shade}.png"
        Image.new("RGB", (56, 56), (shade, 0, 0)).save(path)
        shade += 1
        if not in_held_out(content_key(path), 0.1):
            rows.append(json.dumps({"image": path.name, "question": "What color?", "answers": ["red"]}))
    data = tmp_path / "tiny.jsonl"
    data.write_text("\n".join(rows) + "\n")
    with pytest.raises(HaloForgeError, match="No held-out samples"):
        VLMRAFTTrainer(small_config(tiny_model_dir, tmp_path / "run", dataset=str(data))).train()
    with pytest.raises(HaloForgeError, match="eval_limit must be at least 1"):
        small_config(tiny_model_dir, tmp_path / "run2", eval_limit=0).validate()


def test_a_diverged_cycle_is_never_checkpointed(tiny_model_dir, tmp_path):
    config = small_config(tiny_model_dir, tmp_path, num_cycles=1, learning_rate=1e38)  # finite, and far too high
    with pytest.raises(HaloForgeError, match="cycle 1 diverged .* nothing of it was saved"):
        VLMRAFTTrainer(config).train()
    assert not (tmp_path / "cycle_1").exists()
    assert [e["cycle"] for e in json.loads((tmp_path / "training_history.json").read_text())] == [0]


def test_rollouts_come_from_the_engine_which_hears_of_every_fine_tune(tiny_model_dir, tmp_path):
    """The rollout-engine seam: a stand-in engine answers every prompt with one right and one wrong
    completion; the cycle must verify and keep exactly those, and tell the engine of the new weights."""
    class Scripted:
        def __init__(self):
            self.synced, self.seeds = [], []

        def sample(self, samples, *, num_samples, temperature, max_new_tokens, seed, entropy=None):
            self.seeds.append(seed)
            return [[s.answers[0], "purple elephant"][:num_samples] for s in samples]

        def sync(self, loaded):
            self.synced.append(sum(float(p.detach().sum()) for p in loaded.model.parameters() if p.requires_grad))

    engine = Scripted()
    config = small_config(tiny_model_dir, tmp_path, num_cycles=1, reward_threshold=0.5, keep_percent=1.0)
    history = VLMRAFTTrainer(config, engine=engine).train()
    rows = [json.loads(line) for line in (tmp_path / "cycle_1" / "rollouts.jsonl").read_text().splitlines()]
    assert {r["completion"] for r in rows if r["kept"]} == {r["answers"][0] for r in rows}
    assert not any(r["kept"] for r in rows if r["completion"] == "purple elephant")
    assert history[1]["num_kept"] == 8 and history[1]["success_rate"] == 0.5
    assert len(engine.synced) == 2 and engine.synced[0] != engine.synced[1]  # at load, then after the fine-tune
    assert len(set(engine.seeds)) == len(engine.seeds)  # a seed per batch


@pytest.mark.parametrize("launcher", ["DEEPSPEED", "MEGATRON_LM"])
def test_launches_that_shard_another_way_are_refused_before_anything_loads(launcher, tmp_path, monkeypatch):
    monkeypatch.setenv(f"ACCELERATE_USE_{launcher}", "true")
    with pytest.raises(HaloForgeError, match=f"{launcher} launches are not supported; launch with FSDP"):
        VLMRAFTTrainer(VLMRAFTConfig(model_name="not-loaded", dataset="synthetic", output_dir=str(tmp_path))).train()
