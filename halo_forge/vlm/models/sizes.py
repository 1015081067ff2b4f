"""Real-size architectures from their published configs, for memory measurements without weights.

Each builder returns the config of a released checkpoint with its literal hyperparameters; the
model built from it has random weights, so no download is needed to measure what training costs.
"""

from __future__ import annotations

from transformers import Qwen2VLConfig


def _qwen2_vl(hidden, intermediate, layers, heads, kv_heads, vocab, tie) -> Qwen2VLConfig:
    return Qwen2VLConfig(
        text_config={
            "vocab_size": vocab, "hidden_size": hidden, "intermediate_size": intermediate,
            "num_hidden_layers": layers, "num_attention_heads": heads, "num_key_value_heads": kv_heads,
            "max_position_embeddings": 32768, "rms_norm_eps": 1e-6,
            "rope_parameters": {"rope_type": "default", "rope_theta": 1_000_000.0, "mrope_section": [16, 24, 24]},
            "bos_token_id": 151643, "eos_token_id": 151645,
        },
        vision_config={"depth": 32, "embed_dim": 1280, "hidden_size": hidden, "num_heads": 16, "mlp_ratio": 4,
                       "patch_size": 14, "spatial_merge_size": 2, "temporal_patch_size": 2, "in_channels": 3},
        tie_word_embeddings=tie,
    )


def qwen2_vl_2b() -> Qwen2VLConfig:
    """Qwen/Qwen2-VL-2B-Instruct config.json."""
    return _qwen2_vl(hidden=1536, intermediate=8960, layers=28, heads=12, kv_heads=2, vocab=151_936, tie=True)


def qwen2_vl_7b() -> Qwen2VLConfig:
    """Qwen/Qwen2-VL-7B-Instruct config.json."""
    return _qwen2_vl(hidden=3584, intermediate=18944, layers=28, heads=28, kv_heads=4, vocab=152_064, tie=False)


def qwen2_vl_72b() -> Qwen2VLConfig:
    """Qwen/Qwen2-VL-72B-Instruct config.json."""
    return _qwen2_vl(hidden=8192, intermediate=29568, layers=80, heads=64, kv_heads=8, vocab=152_064, tie=False)


SIZES = {("qwen2_vl", "2b"): qwen2_vl_2b, ("qwen2_vl", "7b"): qwen2_vl_7b, ("qwen2_vl", "72b"): qwen2_vl_72b}
HUB_IDS = {
    "Qwen/Qwen2-VL-2B-Instruct": qwen2_vl_2b,
    "Qwen/Qwen2-VL-7B-Instruct": qwen2_vl_7b,
    "Qwen/Qwen2-VL-72B-Instruct": qwen2_vl_72b,
}


def count_parameters(config) -> int:
    """Parameters of the model a config describes, built on the meta device (no memory, no weights)."""
    import torch
    from transformers import AutoModelForImageTextToText

    with torch.device("meta"):
        model = AutoModelForImageTextToText.from_config(config)
    return sum(p.numel() for p in model.parameters())
