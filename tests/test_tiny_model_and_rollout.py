import pytest
import torch
from transformers import AutoModelForImageTextToText, AutoProcessor

from halo_forge.vlm import rollout
from halo_forge.vlm.data import synthetic


def test_tiny_model_loads_like_a_hub_model(tiny_model_dir):
    processor = AutoProcessor.from_pretrained(tiny_model_dir)
    model = AutoModelForImageTextToText.from_pretrained(tiny_model_dir)
    assert type(processor).__name__ == "Qwen2VLProcessor"
    assert model.config.model_type == "qwen2_vl"
    assert sum(p.numel() for p in model.parameters()) < 1_000_000
    sample = synthetic.generate("train", 1)[0]
    text = processor.apply_chat_template(
        [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": sample.question}]}],
        add_generation_prompt=True, tokenize=False,
    )
    inputs = processor(images=[sample.image], text=[text], return_tensors="pt")
    assert (inputs["input_ids"] == model.config.image_token_id).sum() == 4  # 56x56 -> 4 visual tokens
    assert model.config.text_config.eos_token_id == processor.tokenizer.convert_tokens_to_ids("<|im_end|>")


def test_rollout_gives_k_completions_per_prompt(tiny_loaded):
    samples = synthetic.generate("train", 5)
    groups = rollout.generate(tiny_loaded, samples, num_samples=3, temperature=1.0, max_new_tokens=4, batch_size=2,
                              show_progress=False)
    assert [len(g) for g in groups] == [3] * 5
    assert all(isinstance(c, str) for g in groups for c in g)


def test_batched_greedy_equals_one_at_a_time(tiny_loaded):
    samples = synthetic.generate("validation", 12)
    batched = rollout.generate(tiny_loaded, samples, max_new_tokens=5, batch_size=12, show_progress=False)
    single = [rollout.generate(tiny_loaded, [s], max_new_tokens=5, batch_size=1, show_progress=False)[0]
              for s in samples]
    assert batched == single


def test_sampling_is_seeded(tiny_loaded):
    samples = synthetic.generate("train", 4)
    torch.manual_seed(5)
    a = rollout.generate(tiny_loaded, samples, num_samples=2, temperature=1.0, max_new_tokens=4, show_progress=False)
    torch.manual_seed(5)
    b = rollout.generate(tiny_loaded, samples, num_samples=2, temperature=1.0, max_new_tokens=4, show_progress=False)
    assert a == b


@pytest.mark.parametrize("family", ["qwen2_vl", "llava_next"])
def test_shared_prefill_decodes_exactly_what_expanded_inputs_do(family, tmp_path):
    """Greedy decoding is deterministic, so K copies sampled from one shared prefill must each be
    the completion that `num_return_sequences=K` (vision tower and prompt run K times) gives."""
    import torch

    from halo_forge.vlm.models.loading import load_model
    from halo_forge.vlm.models.tiny import build_tiny_model
    from halo_forge.vlm.rollout import _prefill_once, encode_prompts

    loaded = load_model(str(build_tiny_model(family, tmp_path / family)))
    inputs = encode_prompts(loaded, synthetic.generate("train", 3))
    settings = dict(do_sample=True, top_k=1, max_new_tokens=6, min_new_tokens=6,  # top-1 sampling: deterministic
                    pad_token_id=loaded.processor.tokenizer.pad_token_id)
    with torch.inference_mode():
        expanded = loaded.model.generate(**inputs, num_return_sequences=2, **settings)
        shared = loaded.model.generate(**_prefill_once(loaded.model, dict(inputs), 2), **settings)
    assert torch.equal(shared[:, -6:], expanded[:, -6:])
