"""Real-size architectures from their published configs, for memory measurements without weights.

Each builder returns the config of a released checkpoint with its literal hyperparameters; the
model built from it has random weights, so no download is needed to measure what training costs.
"""

from __future__ import annotations

from transformers import CLIPVisionConfig, LlavaConfig, LlavaNextConfig, Qwen2_5_VLConfig, Qwen2VLConfig


def _qwen_text(hidden, intermediate, layers, heads, kv_heads, vocab) -> dict:
    """The language model both Qwen2-VL and Qwen2.5-VL put behind their vision towers."""
    return {
        "vocab_size": vocab, "hidden_size": hidden, "intermediate_size": intermediate,
        "num_hidden_layers": layers, "num_attention_heads": heads, "num_key_value_heads": kv_heads,
        "max_position_embeddings": 32768, "rms_norm_eps": 1e-6,
        "rope_parameters": {"rope_type": "default", "rope_theta": 1_000_000.0, "mrope_section": [16, 24, 24]},
        "bos_token_id": 151643, "eos_token_id": 151645,
    }


def _qwen2_vl(hidden, intermediate, layers, heads, kv_heads, vocab, tie) -> Qwen2VLConfig:
    return Qwen2VLConfig(
        text_config=_qwen_text(hidden, intermediate, layers, heads, kv_heads, vocab),
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


def _qwen2_5_vl(hidden, intermediate, layers, heads, kv_heads, vocab, tie) -> Qwen2_5_VLConfig:
    return Qwen2_5_VLConfig(
        text_config=_qwen_text(hidden, intermediate, layers, heads, kv_heads, vocab),
        vision_config={"depth": 32, "hidden_size": 1280, "intermediate_size": 3420, "num_heads": 16,
                       "out_hidden_size": hidden, "patch_size": 14, "spatial_merge_size": 2, "temporal_patch_size": 2,
                       "window_size": 112, "fullatt_block_indexes": [7, 15, 23, 31], "in_channels": 3},
        tie_word_embeddings=tie,
    )


def qwen2_5_vl_3b() -> Qwen2_5_VLConfig:
    """Qwen/Qwen2.5-VL-3B-Instruct config.json."""
    return _qwen2_5_vl(hidden=2048, intermediate=11008, layers=36, heads=16, kv_heads=2, vocab=151_936, tie=True)


def qwen2_5_vl_7b() -> Qwen2_5_VLConfig:
    """Qwen/Qwen2.5-VL-7B-Instruct config.json."""
    return _qwen2_5_vl(hidden=3584, intermediate=18944, layers=28, heads=28, kv_heads=4, vocab=152_064, tie=False)


# CLIP ViT-L/14 at 336 px (openai/clip-vit-large-patch14-336), the tower of every LLaVA-1.5 and -NeXT.
CLIP_L_336 = {"hidden_size": 1024, "intermediate_size": 4096, "num_hidden_layers": 24, "num_attention_heads": 16,
              "image_size": 336, "patch_size": 14, "projection_dim": 768}
LLAVA_NEXT_PINPOINTS = [[336, 672], [672, 336], [672, 672], [1008, 336], [336, 1008]]


def _llama(hidden, intermediate, layers, heads, kv_heads, vocab, **extra) -> dict:
    return {"model_type": "llama", "hidden_size": hidden, "intermediate_size": intermediate,
            "num_hidden_layers": layers, "num_attention_heads": heads, "num_key_value_heads": kv_heads,
            "vocab_size": vocab, "max_position_embeddings": 4096, "rms_norm_eps": 1e-5, **extra}


def llava_1_5_7b() -> LlavaConfig:
    """llava-hf/llava-1.5-7b-hf config.json: Vicuna-7B behind CLIP ViT-L/14-336, 576 image tokens."""
    return LlavaConfig(vision_config=CLIPVisionConfig(**CLIP_L_336),
                       text_config=_llama(4096, 11008, 32, 32, 32, 32_064),
                       image_token_index=32000, vision_feature_layer=-2, image_seq_length=576)


def llava_next_mistral_7b() -> LlavaNextConfig:
    """llava-hf/llava-v1.6-mistral-7b-hf config.json: Mistral-7B, any-resolution tiles of 336 px."""
    text = _llama(4096, 14336, 32, 32, 8, 32_064, rope_theta=1_000_000.0) | {"model_type": "mistral",
                                                                            "max_position_embeddings": 32768}
    return LlavaNextConfig(vision_config=CLIPVisionConfig(**CLIP_L_336), text_config=text, image_token_index=32000,
                           vision_feature_layer=-2, image_grid_pinpoints=LLAVA_NEXT_PINPOINTS)


def llava_next_34b() -> LlavaNextConfig:
    """llava-hf/llava-v1.6-34b-hf config.json: Yi-34B, any-resolution tiles of 336 px."""
    return LlavaNextConfig(vision_config=CLIPVisionConfig(**CLIP_L_336),
                           text_config=_llama(7168, 20480, 60, 56, 8, 64_064, rope_theta=5_000_000.0),
                           image_token_index=64000, vision_feature_layer=-2, image_grid_pinpoints=LLAVA_NEXT_PINPOINTS)


SIZES = {
    ("qwen2_vl", "2b"): qwen2_vl_2b, ("qwen2_vl", "7b"): qwen2_vl_7b, ("qwen2_vl", "72b"): qwen2_vl_72b,
    ("qwen2_5_vl", "3b"): qwen2_5_vl_3b, ("qwen2_5_vl", "7b"): qwen2_5_vl_7b,
    ("llava", "7b"): llava_1_5_7b, ("llava_next", "7b"): llava_next_mistral_7b, ("llava_next", "34b"): llava_next_34b,
}
HUB_IDS = {
    "Qwen/Qwen2-VL-2B-Instruct": qwen2_vl_2b,
    "Qwen/Qwen2-VL-7B-Instruct": qwen2_vl_7b,
    "Qwen/Qwen2-VL-72B-Instruct": qwen2_vl_72b,
    "Qwen/Qwen2.5-VL-3B-Instruct": qwen2_5_vl_3b,
    "Qwen/Qwen2.5-VL-7B-Instruct": qwen2_5_vl_7b,
    "llava-hf/llava-1.5-7b-hf": llava_1_5_7b,
    "llava-hf/llava-v1.6-mistral-7b-hf": llava_next_mistral_7b,
    "llava-hf/llava-v1.6-34b-hf": llava_next_34b,
}


def count_parameters(config) -> int:
    """Parameters of the model a config describes, built on the meta device (no memory, no weights)."""
    import torch
    from transformers import AutoModelForImageTextToText

    with torch.device("meta"):
        model = AutoModelForImageTextToText.from_config(config)
    return sum(p.numel() for p in model.parameters())
