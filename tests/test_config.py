import dataclasses

import pytest

from halo_forge.errors import HaloForgeError
from halo_forge.vlm.config import VLMRAFTConfig


def test_defaults_are_the_specifications():
    c = VLMRAFTConfig()
    assert (c.num_cycles, c.samples_per_prompt, c.temperature) == (6, 4, 0.7)
    assert (c.perception_weight, c.reasoning_weight, c.output_weight) == (0.3, 0.4, 0.3)
    assert (c.learning_rate, c.lr_decay_per_cycle) == (5e-5, 0.85)
    assert (c.keep_percent, c.reward_threshold, c.output_dir) == (0.5, 0.5, "models/vlm_raft")


def test_every_field_has_help():
    assert all(f.metadata.get("help") for f in dataclasses.fields(VLMRAFTConfig))


def test_learning_rate_decays_per_cycle_with_a_floor():
    c = VLMRAFTConfig(learning_rate=1e-3, lr_decay_per_cycle=0.5, min_lr=2e-4)
    assert [c.learning_rate_for(n) for n in (1, 2, 3, 4)] == [1e-3, 5e-4, 2.5e-4, 2e-4]


def test_yaml_then_overrides(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("num_cycles: 3\ntemperature: 0.9\nmodel_name: some/model\n")
    c = VLMRAFTConfig.from_yaml(path, temperature=1.2, seed=None)
    assert (c.num_cycles, c.temperature, c.model_name, c.seed) == (3, 1.2, "some/model", 0)


def test_unknown_yaml_key_is_named_with_a_suggestion(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("num_cycle: 3\n")
    with pytest.raises(HaloForgeError, match="'num_cycle' \\(did you mean 'num_cycles'\\?\\)"):
        VLMRAFTConfig.from_yaml(path)


def test_missing_yaml_file():
    with pytest.raises(HaloForgeError, match="does not exist"):
        VLMRAFTConfig.from_yaml("nope.yaml")


def test_validation_reports_every_problem_at_once():
    c = VLMRAFTConfig(num_cycles=0, keep_percent=1.5, temperature=0.0, output_weight=0.0, dtype="int8")
    problems = c.problems()
    assert len(problems) == 5, problems
    with pytest.raises(HaloForgeError) as info:
        c.validate()
    for word in ("num_cycles", "keep_percent", "temperature 0", "output_weight", "dtype"):
        assert word in str(info.value)
    VLMRAFTConfig().validate()
