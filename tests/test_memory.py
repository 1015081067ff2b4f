"""Published architectures (built on the meta device, no weights) and the dry-run memory estimate."""

import pytest
import torch
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForImageTextToText

from halo_forge.vlm.memory import estimate, image_tokens, lora_parameters
from halo_forge.vlm.models.adapters import LM_PROJECTIONS
from halo_forge.vlm.models.sizes import HUB_IDS, count_parameters

# Parameter counts the model cards state (billions, three significant figures as the hub shows them).
PUBLISHED = {
    "Qwen/Qwen2-VL-2B-Instruct": 2.21, "Qwen/Qwen2-VL-7B-Instruct": 8.29, "Qwen/Qwen2-VL-72B-Instruct": 73.4,
    "Qwen/Qwen2.5-VL-3B-Instruct": 3.75, "Qwen/Qwen2.5-VL-7B-Instruct": 8.29,
    "llava-hf/llava-1.5-7b-hf": 7.06, "llava-hf/llava-v1.6-mistral-7b-hf": 7.57, "llava-hf/llava-v1.6-34b-hf": 34.8,
}


@pytest.mark.parametrize("hub_id", sorted(HUB_IDS))
def test_published_configs_have_the_published_size(hub_id):
    assert float(f"{count_parameters(HUB_IDS[hub_id]()) / 1e9:.3g}") == PUBLISHED[hub_id]


@pytest.mark.parametrize("hub_id", ["Qwen/Qwen2-VL-2B-Instruct", "llava-hf/llava-1.5-7b-hf"])
def test_lora_count_matches_what_peft_builds(hub_id):
    config = HUB_IDS[hub_id]()
    with torch.device("meta"):
        model = get_peft_model(AutoModelForImageTextToText.from_config(config),
                               LoraConfig(r=16, target_modules=LM_PROJECTIONS))
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert lora_parameters(config.text_config, 16) == trainable


def test_image_tokens_follow_each_family_layout():
    assert image_tokens(HUB_IDS["Qwen/Qwen2-VL-2B-Instruct"](), 448 * 448) == 256  # 28x28 pixels per token
    assert image_tokens(HUB_IDS["llava-hf/llava-1.5-7b-hf"](), 10**7) == 576  # one 336-pixel square, always
    next_34b = HUB_IDS["llava-hf/llava-v1.6-34b-hf"]()
    assert image_tokens(next_34b, 672 * 672) == 5 * 576  # overview + a 2x2 grid of tiles
    assert image_tokens(next_34b, 336 * 672) == 3 * 576
    assert image_tokens(next_34b, 1000) == 3 * 576  # below every grid: the smallest one


def test_estimate_grows_with_what_is_trained_and_kept():
    config = HUB_IDS["Qwen/Qwen2-VL-2B-Instruct"]()
    n = count_parameters(config)
    lora = estimate(config, n)
    assert lora.weights_gb == pytest.approx(n * 2 / 2**30)
    assert estimate(config, n, lora_r=None).trainable_gb > 10 * lora.trainable_gb
    assert estimate(config, n, gradient_checkpointing=False).activations_gb > lora.activations_gb
    assert estimate(config, n, image_tokens=1024).activations_gb > lora.activations_gb


def _memory_benchmark():
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location(
        "memory_benchmark", Path(__file__).parents[1] / "benchmarks" / "memory.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("family", ["qwen2_vl", "llava"])
def test_memory_benchmark_runs_both_phases(family, tmp_path, monkeypatch):
    """benchmarks/memory.py on a tiny config: the same code that measures the published sizes."""
    from argparse import Namespace

    from transformers import AutoConfig

    from halo_forge.vlm.models.sizes import SIZES
    from halo_forge.vlm.models.tiny import build_tiny_model

    path = build_tiny_model(family, tmp_path / family)
    monkeypatch.setitem(SIZES, (family, "tiny"), lambda: AutoConfig.from_pretrained(path))
    benchmark = _memory_benchmark()
    for phase in ("generate", "train"):
        result = benchmark.phase(Namespace(family=family, size="tiny", image_size=56, phase=phase))
        assert 0 < result["baseline_gb"] <= result["peak_gb"] and result["image_tokens"] == 4 and result["text_tokens"] == 128 + 2 * (
            family == "qwen2_vl")  # Qwen wraps the image in vision start/end tokens
