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
