"""Tiny vision-language models built offline, saved so they load exactly as a hub id does.

Each builder trains a byte-level BPE tokenizer on the task text, wraps it in the family's real
processor and chat template, and builds the model from a config with literal hyperparameters.
The result goes through `AutoProcessor` / `AutoModelForImageTextToText.from_pretrained`, the same
code path a hub model takes, so tests exercise the real loading code without a network.
"""

from __future__ import annotations

from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import (
    AutoModelForImageTextToText,
    CLIPImageProcessor,
    Gemma3Config,
    Gemma3ImageProcessor,
    Gemma3Processor,
    CLIPVisionConfig,
    LlamaConfig,
    LlavaConfig,
    LlavaNextConfig,
    LlavaNextImageProcessor,
    LlavaNextProcessor,
    LlavaProcessor,
    PreTrainedTokenizerFast,
    Qwen2_5_VLConfig,
    Qwen2_5_VLProcessor,
    Qwen2VLConfig,
    Qwen2VLImageProcessor,
    Qwen2VLProcessor,
    Qwen2VLVideoProcessor,
    SiglipVisionConfig,
)

from ...errors import HaloForgeError
from ..data import reasoning, synthetic

# Qwen2-VL's chat format, reduced to what a single-image turn needs.
QWEN_CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for part in message['content'] %}"
    "{% if part['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}"
    "{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
QWEN_SPECIAL_TOKENS = [
    "<|endoftext|>", "<|im_start|>", "<|im_end|>",
    "<|vision_start|>", "<|vision_end|>", "<|image_pad|>", "<|video_pad|>",
]
# Filler so the tokenizer can spell ordinary prompts and free-form answers too.
EXTRA_TEXT = [
    "The answer is", "Answer with a single word or number.", "Question:", "Answer:",
    "I see", "there is", "there are", "in the image", "on the", "of the", "and", "shapes", "shape",
]
# LLaVA-1.5's conversation format ("USER: <image>\n... ASSISTANT: ...</s>").
LLAVA_CHAT_TEMPLATE = (
    "{% for message in messages %}{% if message['role'] == 'user' %}USER: "
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}{% for part in message['content'] %}"
    "{% if part['type'] == 'image' %}<image>\n{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}"
    "{% endfor %}{% endif %} {% else %}ASSISTANT: "
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}{% for part in message['content'] %}"
    "{% if part['type'] == 'text' %}{{ part['text'] }}{% endif %}{% endfor %}{% endif %}</s>{% endif %}"
    "{% endfor %}{% if add_generation_prompt %}ASSISTANT:{% endif %}"
)
LLAVA_SPECIAL_TOKENS = ["<pad>", "<s>", "</s>", "<image>"]
# Gemma 3's turn format; it has no adapter of its own, so it stands for "any other model" in tests.
GEMMA3_CHAT_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}"
    "<start_of_turn>{{ 'model' if message['role'] == 'assistant' else message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}{% for part in message['content'] %}"
    "{% if part['type'] == 'image' %}<start_of_image>{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}"
    "{% endfor %}{% endif %}<end_of_turn>\n{% endfor %}{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}"
)
GEMMA3_SPECIAL_TOKENS = ["<pad>", "<bos>", "<start_of_turn>", "<end_of_turn>", "<start_of_image>", "<end_of_image>",
                         "<image_soft_token>"]
# 0.05 rather than the usual 0.02: at 0.02 a model this small sits at the answer prior for ~1000 steps.
INIT = 0.05


def train_tokenizer(special_tokens: list[str], vocab_size: int = 400) -> PreTrainedTokenizerFast:
    """A byte-level BPE trained on the synthetic task's text: tiny, yet able to spell anything."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=special_tokens,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    corpus = synthetic.vocabulary_text() + reasoning.vocabulary_text() + EXTRA_TEXT
    tok.train_from_iterator(corpus * 20, trainer=trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok)


def _chat_tokenizer(special_tokens: list[str], roles: dict[str, str], chat_template: str) -> PreTrainedTokenizerFast:
    """A trained tokenizer with the family's bos/eos/pad tokens and chat template."""
    tokenizer = train_tokenizer(special_tokens)
    tokenizer.add_special_tokens(roles)
    tokenizer.chat_template = chat_template
    return tokenizer


def _qwen_tokenizer() -> PreTrainedTokenizerFast:
    return _chat_tokenizer(
        QWEN_SPECIAL_TOKENS,
        {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>", "bos_token": "<|endoftext|>"},
        QWEN_CHAT_TEMPLATE,
    )


# The sizes `make-tiny-model --size` builds: language model, vision tower and image resolution.
# tiny (0.63M parameters, 56x56 pixels = 4 image tokens) learns the synthetic tasks in minutes;
# small (about 3.7M, 112x112 = 16 image tokens, so a 64x64 image is seen at twice its size)
# learns image-dependent questions about several shapes.
SIZES = {
    "tiny": {"hidden": 128, "layers": 2, "vision_depth": 2, "vision_dim": 64, "pixels": 56 * 56},
    "small": {"hidden": 256, "layers": 4, "vision_depth": 4, "vision_dim": 128, "pixels": 112 * 112},
}


def _qwen_text_config(tokenizer, size: dict) -> dict:
    """bos/eos/pad go in the text config too, or it keeps Qwen's ids (151643/151645) and warns."""
    half_head = size["hidden"] // 4 // 2
    third = -(-half_head // 3)  # mrope_section must sum to half the head size: tiny [4, 6, 6]
    return {
        "vocab_size": len(tokenizer),
        "hidden_size": size["hidden"],
        "intermediate_size": 2 * size["hidden"],
        "num_hidden_layers": size["layers"],
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "max_position_embeddings": 512,
        "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0,
                            "mrope_section": [half_head - 2 * third, third, third]},
        "initializer_range": INIT,
        **_token_ids(tokenizer),
    }


def _token_ids(tokenizer) -> dict:
    return {"bos_token_id": tokenizer.bos_token_id, "eos_token_id": tokenizer.eos_token_id,
            "pad_token_id": tokenizer.pad_token_id}


def _qwen_vision_ids(tokenizer) -> dict:
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in QWEN_SPECIAL_TOKENS}
    return {"image_token_id": ids["<|image_pad|>"], "video_token_id": ids["<|video_pad|>"],
            "vision_start_token_id": ids["<|vision_start|>"], "vision_end_token_id": ids["<|vision_end|>"]}


def _qwen_image_processor(pixels: int) -> Qwen2VLImageProcessor:
    # Pixel counts, not edges: 3136 = 56 x 56 gives 4 image tokens after the 2x2 merge.
    return Qwen2VLImageProcessor(size={"shortest_edge": pixels, "longest_edge": pixels})


def _build_qwen(config_class, processor_class, vision: dict, output: Path, seed: int, size: dict) -> Path:
    """Qwen2-VL and Qwen2.5-VL share tokenizer, chat format, image processor and language model."""
    tokenizer = _qwen_tokenizer()
    processor = processor_class(image_processor=_qwen_image_processor(size["pixels"]), tokenizer=tokenizer,
                                video_processor=Qwen2VLVideoProcessor(), chat_template=QWEN_CHAT_TEMPLATE)
    config = config_class(
        text_config=_qwen_text_config(tokenizer, size),
        vision_config={**vision, "patch_size": 14, "spatial_merge_size": 2, "temporal_patch_size": 2,
                       "initializer_range": INIT},
        initializer_range=INIT,
        **_qwen_vision_ids(tokenizer),
        **_token_ids(tokenizer),
    )
    return _save(config, processor, tokenizer, output, seed)


def build_qwen2_vl(output: Path, seed: int = 0, size: str = "tiny") -> Path:
    """A Qwen2-VL of about 0.63M parameters (4 image tokens for a 56x56 image), or a `small` one."""
    s = SIZES[size]
    vision = {"depth": s["vision_depth"], "embed_dim": s["vision_dim"], "hidden_size": s["hidden"], "num_heads": 2,
              "mlp_ratio": 2}
    return _build_qwen(Qwen2VLConfig, Qwen2VLProcessor, vision, output, seed, s)


def build_qwen2_5_vl(output: Path, seed: int = 0, size: str = "tiny") -> Path:
    """A Qwen2.5-VL: a windowed-attention vision tower in front of the same language model."""
    s = SIZES[size]
    vision = {"depth": s["vision_depth"], "hidden_size": s["vision_dim"], "intermediate_size": 2 * s["vision_dim"],
              "num_heads": 2, "out_hidden_size": s["hidden"], "fullatt_block_indexes": [s["vision_depth"] - 1],
              "window_size": 112}
    return _build_qwen(Qwen2_5_VLConfig, Qwen2_5_VLProcessor, vision, output, seed, s)


def _llava_tokenizer() -> PreTrainedTokenizerFast:
    return _chat_tokenizer(
        LLAVA_SPECIAL_TOKENS, {"bos_token": "<s>", "eos_token": "</s>", "pad_token": "<pad>"}, LLAVA_CHAT_TEMPLATE
    )


def _llava_configs(tokenizer) -> dict:
    """CLIP vision tower (28 px, 14 px patches: 4 patch tokens + CLS) and a Llama language model."""
    vision = CLIPVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                              image_size=28, patch_size=14, projection_dim=32, initializer_range=INIT)
    text = LlamaConfig(vocab_size=len(tokenizer), hidden_size=128, intermediate_size=256, num_hidden_layers=2,
                       num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                       initializer_range=INIT, **_token_ids(tokenizer))
    return {"vision_config": vision, "text_config": text,
            "image_token_index": tokenizer.convert_tokens_to_ids("<image>"), "vision_feature_layer": -1,
            "vision_feature_select_strategy": "default", "initializer_range": INIT}


def build_llava(output: Path, seed: int = 0) -> Path:
    """A LLaVA-1.5: 4 image tokens for a 28x28 (resized, centre-cropped) image."""
    tokenizer = _llava_tokenizer()
    image_processor = CLIPImageProcessor(size={"shortest_edge": 28}, crop_size={"height": 28, "width": 28})
    # num_additional_image_tokens=1: the model crops the CLS token; without it the processor inserts one too few.
    processor = LlavaProcessor(image_processor=image_processor, tokenizer=tokenizer, patch_size=14,
                               vision_feature_select_strategy="default", num_additional_image_tokens=1,
                               chat_template=LLAVA_CHAT_TEMPLATE)
    config = LlavaConfig(image_seq_length=4, **_llava_configs(tokenizer))
    return _save(config, processor, tokenizer, output, seed)


def build_llava_next(output: Path, seed: int = 0) -> Path:
    """A LLaVA-NeXT: any-resolution tiles from the pinpoints below, same tower and language model."""
    tokenizer = _llava_tokenizer()
    pinpoints = [[28, 28], [28, 56], [56, 28], [56, 56]]
    image_processor = LlavaNextImageProcessor(size={"shortest_edge": 28}, crop_size={"height": 28, "width": 28},
                                              image_grid_pinpoints=pinpoints)
    processor = LlavaNextProcessor(image_processor=image_processor, tokenizer=tokenizer, patch_size=14,
                                   vision_feature_select_strategy="default", num_additional_image_tokens=1,
                                   chat_template=LLAVA_CHAT_TEMPLATE)
    config = LlavaNextConfig(image_grid_pinpoints=pinpoints, **_llava_configs(tokenizer))
    return _save(config, processor, tokenizer, output, seed)


def build_gemma3(output: Path, seed: int = 0) -> Path:
    """A Gemma 3: SigLIP tower pooled to 4 image tokens, bracketed by begin/end-of-image tokens."""
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=train_tokenizer(GEMMA3_SPECIAL_TOKENS).backend_tokenizer,
        bos_token="<bos>", eos_token="<end_of_turn>", pad_token="<pad>", chat_template=GEMMA3_CHAT_TEMPLATE,
        # the processor reads these names from the tokenizer
        extra_special_tokens={"boi_token": "<start_of_image>", "eoi_token": "<end_of_image>",
                              "image_token": "<image_soft_token>"},
    )
    processor = Gemma3Processor(image_processor=Gemma3ImageProcessor(size={"height": 28, "width": 28}),
                                tokenizer=tokenizer, image_seq_length=4, chat_template=GEMMA3_CHAT_TEMPLATE)
    config = Gemma3Config(
        text_config={"vocab_size": len(tokenizer), "hidden_size": 128, "intermediate_size": 256,
                     "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 32,
                     "max_position_embeddings": 512, "sliding_window": 64, "initializer_range": INIT,
                     **_token_ids(tokenizer)},
        vision_config=SiglipVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                         num_attention_heads=2, image_size=28, patch_size=14),
        mm_tokens_per_image=4, boi_token_index=tokenizer.boi_token_id, eoi_token_index=tokenizer.eoi_token_id,
        image_token_index=tokenizer.image_token_id, initializer_range=INIT, **_token_ids(tokenizer),
    )
    return _save(config, processor, tokenizer, output, seed)


def _save(config, processor, tokenizer, output: Path, seed: int) -> Path:
    torch.manual_seed(seed)
    model = AutoModelForImageTextToText.from_config(config)
    model.generation_config.update(**_token_ids(tokenizer))
    output.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(output)
    processor.save_pretrained(output)
    return output


BUILDERS = {
    "qwen2_vl": build_qwen2_vl,
    "qwen2_5_vl": build_qwen2_5_vl,
    "llava": build_llava,
    "llava_next": build_llava_next,
    "gemma3": build_gemma3,  # through the generic adapter
}


SIZED = ("qwen2_vl", "qwen2_5_vl")  # the families built in every size; the others are tiny only


def build_tiny_model(family: str, output: str | Path, seed: int = 0, size: str = "tiny") -> Path:
    """Build and save a tiny (or `small`) model of `family` at `output`."""
    if family not in BUILDERS:
        raise HaloForgeError(f"No tiny-model builder for family {family!r}; choose one of {', '.join(BUILDERS)}.")
    if size not in SIZES:
        raise HaloForgeError(f"No tiny-model size {size!r}; choose one of {', '.join(SIZES)}.")
    if size != "tiny":
        if family not in SIZED:
            raise HaloForgeError(f"Size {size!r} is built for {' and '.join(SIZED)} only, not {family!r}.")
        return BUILDERS[family](Path(output), seed=seed, size=size)
    return BUILDERS[family](Path(output), seed=seed)
