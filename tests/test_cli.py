import dataclasses
import json

import pytest

from halo_forge import cli
from halo_forge.vlm.config import BenchmarkOptions, SFTOptions, VerifierSettings, VLMRAFTConfig, field_type

COMMANDS = {"train": VLMRAFTConfig, "sft": SFTOptions, "benchmark": BenchmarkOptions, "verify": VerifierSettings}


def _value_for(field):
    kind, _ = field_type(field)
    if kind is bool:
        return [], not field.default
    sample = {int: 7, float: 0.123, str: "abc"}[kind]
    return [str(sample)], sample


@pytest.mark.parametrize(("command", "field"), [(c, f) for c, s in COMMANDS.items() for f in dataclasses.fields(s)],
                         ids=lambda x: x if isinstance(x, str) else x.name)
def test_every_flag_reaches_the_settings(command, field):
    extra, expected = _value_for(field)
    flag = field.metadata["flag"] or "--" + field.name.replace("_", "-")
    if field_type(field)[0] is bool:
        flag = flag if expected else "--no-" + flag[2:]
    required = ["--image", "i", "--prompt", "p", "--completion", "c", "--answer", "a"] if command == "verify" else []
    args = cli.build_parser().parse_args(["vlm", command, flag, *extra, *required])
    assert getattr(cli.settings_from_args(args, COMMANDS[command]), field.name) == expected


def test_shared_settings_are_declared_once():
    """A setting two commands share has one default, help and rule (the LoRA of sft is the LoRA of train)."""
    train = {f.name: f for f in dataclasses.fields(VLMRAFTConfig)}
    for other in (SFTOptions, BenchmarkOptions):
        for f in dataclasses.fields(other):
            if f.name in train and f.name not in ("output_dir", "learning_rate", "max_new_tokens"):
                assert f.metadata == train[f.name].metadata and f.default == train[f.name].default, f.name
    assert {"lora_r", "lora_alpha", "lora_dropout", "model_name", "dtype", "max_pixels"} <= {
        f.name for f in dataclasses.fields(SFTOptions)}


def test_specification_flag_names():
    args = cli.build_parser().parse_args(
        ["vlm", "train", "--model", "m", "--dataset", "synthetic", "--cycles", "3", "--output", "o", "--lr-decay", "0.5"]
    )
    c = cli.settings_from_args(args, VLMRAFTConfig)
    assert (c.model_name, c.num_cycles, c.output_dir, c.lr_decay_per_cycle) == ("m", 3, "o", 0.5)


def test_flags_override_yaml(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("num_cycles: 9\nseed: 4\n")
    args = cli.build_parser().parse_args(["vlm", "train", "--config", str(path), "--cycles", "2"])
    c = cli.settings_from_args(args, VLMRAFTConfig)
    assert (c.num_cycles, c.seed) == (2, 4)


def test_dry_run_prints_the_plan_and_loads_nothing(capsys, tmp_path):
    out = tmp_path / "run"
    code = cli.main(["vlm", "train", "--model", "Qwen/Qwen2-VL-7B-Instruct", "--dry-run", "--output", str(out),
                     "--limit", "100", "--cycles", "2"])
    text = " ".join(capsys.readouterr().out.split())  # undo rich's line wrapping
    assert code == 0
    assert "100 prompts x 4 samples = 400 completions per cycle" in text
    assert "1: 5.00e-05, 2: 4.25e-05" in text
    assert "memory estimate for one training step (LoRA r=16" in text  # from the published 7B config
    assert not out.exists()


def test_dry_run_estimates_memory_of_a_local_model(capsys, tiny_model_dir):
    assert cli.main(["vlm", "train", "--model", str(tiny_model_dir), "--dry-run", "--full-finetune"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "memory estimate for one training step (full fine-tune" in text


def test_dry_run_says_when_no_estimate_is_possible(capsys):
    assert cli.main(["vlm", "train", "--model", "someone/unknown-vlm", "--dry-run"]) == 0
    assert "memory estimate: unavailable" in " ".join(capsys.readouterr().out.split())


def test_bad_input_is_one_sentence(capsys, tmp_path):
    assert cli.main(["vlm", "train", "--dataset", "textvq", "--dry-run"]) == 2
    assert "Unknown dataset 'textvq'" in capsys.readouterr().err
    assert cli.main(["vlm", "train", "--keep-percent", "2", "--cycles", "0", "--dry-run"]) == 2
    text = capsys.readouterr().err
    assert "keep_percent" in text and "num_cycles" in text and "Traceback" not in text
    assert cli.main(["vlm", "train", "--adapter", "qwen", "--dry-run"]) == 2
    assert "adapter must be one of" in capsys.readouterr().err
    assert cli.main(["vlm", "make-tiny-model", "--family", "qwen", "--output", str(tmp_path)]) == 2
    assert "No tiny-model builder for family 'qwen'" in capsys.readouterr().err


def test_missing_model_offline_is_one_sentence(capsys, tmp_path):
    code = cli.main(["vlm", "train", "--model", "no-such-org/no-such-model", "--output", str(tmp_path / "r"),
                     "--limit", "2", "--eval-limit", "2"])
    text = capsys.readouterr().err
    assert code == 2
    assert "no-such-org/no-such-model" in text and "Traceback" not in text


def test_datasets_table(capsys):
    assert cli.main(["vlm", "datasets"]) == 0
    assert "synthetic" in capsys.readouterr().out


def test_report_and_min_gain(capsys, tmp_path):
    history = [{"cycle": 0, "eval_accuracy": 0.5, "eval_seconds": 1.0}]
    history.append({"cycle": 1, "eval_accuracy": 0.6, "mean_reward": 0.5, "num_kept": 3, "num_samples": 8,
                    "learning_rate": 1e-4, "rollout_seconds": 1.0})
    (tmp_path / "training_history.json").write_text(json.dumps(history))
    assert cli.main(["vlm", "report", str(tmp_path), "--min-gain", "0.05"]) == 0
    assert "+10.0 points" in capsys.readouterr().out
    assert cli.main(["vlm", "report", str(tmp_path), "--min-gain", "0.2"]) == 2


def test_report_shows_hallucinated_claims_and_gates_on_their_drop(capsys, tmp_path):
    grounded = {"eval_claims": 100, "eval_reasoning_share": 1.0}
    history = [{"cycle": 0, "eval_accuracy": 0.5, "eval_hallucination_rate": 0.36, **grounded, "eval_seconds": 1.0},
               {"cycle": 1, "eval_accuracy": 0.6, "eval_hallucination_rate": 0.22, **grounded, "mean_reward": 0.5,
                "num_kept": 3, "num_samples": 8, "learning_rate": 1e-4, "rollout_seconds": 1.0}]
    (tmp_path / "training_history.json").write_text(json.dumps(history))
    assert cli.main(["vlm", "report", str(tmp_path), "--min-hallucination-drop", "0.1"]) == 0
    assert "hallucinated-claim rate 36.0% -> 22.0%" in capsys.readouterr().out
    assert cli.main(["vlm", "report", str(tmp_path), "--min-hallucination-drop", "0.2"]) == 2
    assert "fell by 14.0 points" in capsys.readouterr().err


def test_non_finite_numbers_are_refused_together_before_anything_loads(capsys, tmp_path):
    out = tmp_path / "run"
    code = cli.main(["vlm", "train", "--dry-run", "--output", str(out), "--learning-rate", "nan",
                     "--temperature", "inf", "--min-lr", "nan", "--perception-weight", "nan",
                     "--finetune-epochs", "nan"])
    text = capsys.readouterr().err
    assert code == 2 and not out.exists()
    for name in ("learning_rate", "temperature", "min_lr", "perception_weight", "finetune_epochs"):
        assert f"{name} must be a finite number" in text
