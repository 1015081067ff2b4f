"""The demo's recipe, end to end: a tiny model, an SFT warm start, RAFT, a held-out gain.

This is the slowest test (about four minutes on 2 cores): it is the evidence that RAFT learns.
"""

from pathlib import Path

from halo_forge.vlm.config import VLMRAFTConfig
from halo_forge.vlm.sft import SFTOptions, run_sft
from halo_forge.vlm.trainer import VLMRAFTTrainer

DEMO_CONFIG = Path(__file__).parent.parent / "examples" / "demo.yaml"


def test_raft_raises_held_out_accuracy_by_five_points(tiny_model_dir, tmp_path):
    warm = run_sft(SFTOptions(
        model=str(tiny_model_dir), output=str(tmp_path / "warm"), full_finetune=True, learning_rate=2e-3,
        batch_size=32, epochs=20, target_accuracy=0.5, eval_every=25, max_new_tokens=4,
    ))
    assert 0.4 <= warm["eval_accuracy"] <= 0.7  # a mediocre start, as the demo wants

    config = VLMRAFTConfig.from_yaml(DEMO_CONFIG, model_name=str(tmp_path / "warm"), output_dir=str(tmp_path / "run"))
    history = VLMRAFTTrainer(config).train()
    gain = history[-1]["eval_accuracy"] - history[0]["eval_accuracy"]
    assert gain >= 0.05, [round(e["eval_accuracy"], 3) for e in history]
    assert history[-1]["mean_reward"] > history[1]["mean_reward"]
