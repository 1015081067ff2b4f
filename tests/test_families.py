"""Every model family (and Gemma 3, through the generic adapter) through the whole product: rollout, verify, one RAFT cycle with LoRA and
gradient checkpointing, a cycle_1 checkpoint that reloads, and a benchmark; and labels on the
completion tokens only."""

import pytest
import torch
from transformers import AutoModelForImageTextToText
from trl.trainer.sft_trainer import DataCollatorForVisionLanguageModeling

from halo_forge.vlm import rollout
from halo_forge.vlm.benchmark import BenchmarkOptions, run_benchmark
from halo_forge.vlm.data import synthetic
from halo_forge.vlm.finetune import training_rows
from halo_forge.vlm.models.adapters import ADAPTERS
from halo_forge.vlm.models.loading import load_model
from halo_forge.vlm.models.tiny import BUILDERS, build_tiny_model
from halo_forge.vlm.trainer import VLMRAFTConfig, VLMRAFTTrainer
from halo_forge.vlm.verifiers import VisionVerifier

FAMILIES = sorted(BUILDERS)
EOS = {"qwen2_vl": "<|im_end|>", "qwen2_5_vl": "<|im_end|>", "llava": "</s>", "llava_next": "</s>",
       "gemma3": "<end_of_turn>"}


def _image_token_id(config) -> int:
    return getattr(config, "image_token_id", None) or config.image_token_index


@pytest.fixture(scope="module", params=FAMILIES)
def family_model(request, tmp_path_factory):
    return request.param, build_tiny_model(request.param, tmp_path_factory.mktemp(request.param) / "model")


def test_adapter_is_chosen_by_model_type(family_model):
    family, path = family_model
    loaded = load_model(str(path))
    assert loaded.model.config.model_type == family
    assert loaded.adapter.family == (family if family in ADAPTERS else "generic")  # Gemma 3 has no adapter of its own
    assert sum(p.numel() for p in loaded.model.parameters()) < 1_000_000


def test_only_completion_tokens_carry_labels(family_model):
    family, path = family_model
    loaded = load_model(str(path))
    samples = synthetic.generate("train", 3)
    completions = ["red", "3", "two blue squares"]
    rows = list(training_rows(loaded, list(zip(samples, completions))))
    batch = DataCollatorForVisionLanguageModeling(loaded.processor, completion_only_loss=True)(rows)
    tokenizer = loaded.processor.tokenizer
    for input_ids, labels, completion in zip(batch["input_ids"], batch["labels"], completions):
        labelled = labels != -100
        # the labelled tokens are exactly the completion and its end-of-turn token, contiguous, at the end
        assert tokenizer.decode(input_ids[labelled]).strip().startswith(completion)
        assert EOS[family] in tokenizer.decode(input_ids[labelled])
        positions = labelled.nonzero().flatten()
        assert (positions == torch.arange(positions[0], positions[-1] + 1)).all()
    assert (batch["labels"][batch["input_ids"] == _image_token_id(loaded.model.config)] == -100).all()
    assert (batch["labels"][batch["attention_mask"] == 0] == -100).all()


def test_whole_product_runs_for_the_family(family_model, tmp_path):
    family, path = family_model
    loaded = load_model(str(path))
    samples = synthetic.generate("train", 4)
    groups = rollout.generate(loaded, samples, num_samples=2, temperature=1.0, max_new_tokens=3, show_progress=False)
    results = VisionVerifier(ocr="none").verify_batch(samples, groups)
    assert [len(r) for r in results] == [2] * 4

    config = VLMRAFTConfig(
        model_name=str(path), output_dir=str(tmp_path / "run"), num_cycles=1, limit=6, eval_limit=4,
        samples_per_prompt=2, temperature=1.0, max_new_tokens=3, reward_threshold=0.0, finetune_batch_size=3,
        learning_rate=1e-2,  # gradient checkpointing stays at its default (on)
    )
    assert config.gradient_checkpointing
    before = {k: v.clone() for k, v in AutoModelForImageTextToText.from_pretrained(path).state_dict().items()}
    history = VLMRAFTTrainer(config).train()
    assert history[-1]["finetune_steps"] > 0

    reloaded = AutoModelForImageTextToText.from_pretrained(tmp_path / "run" / "cycle_1")  # transformers alone
    assert any("lora_B" in name for name, _ in reloaded.named_parameters())
    merged = load_model(str(tmp_path / "run" / "cycle_1")).model.merge_and_unload()
    changed = [k for k, v in merged.state_dict().items() if k in before and not torch.equal(v, before[k])]
    assert changed and all("language_model" in k for k in changed)  # LoRA moved the LM, not the vision tower

    report = run_benchmark(BenchmarkOptions(model_name=str(tmp_path / "run" / "cycle_1"), dataset="synthetic", limit=3,
                                            max_new_tokens=3))
    assert report["n"] == 3


def _image_tokens(loaded, sample) -> int:
    inputs = rollout.encode_prompts(loaded, [sample])
    image_token = _image_token_id(loaded.model.config)
    with torch.inference_mode():
        loaded.model(**inputs)  # the model must accept what the processor made of the image
    return int((inputs["input_ids"] == image_token).sum())


def test_pixel_budget_bounds_the_image_tokens(family_model):
    family, path = family_model
    sample = synthetic.generate("train", 1)[0]
    sample.image = sample.load_image().resize((112, 112))
    free = _image_tokens(load_model(str(path)), sample)
    if family.startswith("qwen"):  # resized to exactly the budget: one token per 28x28 pixels
        assert free == 3136 // 784
        assert _image_tokens(load_model(str(path), min_pixels=112 * 112, max_pixels=112 * 112), sample) == 16
    elif family == "llava_next":  # only the grids within the budget remain, in the processor and the model
        budgeted = load_model(str(path), max_pixels=28 * 56)
        assert budgeted.processor.image_processor.image_grid_pinpoints == [[28, 28], [28, 56], [56, 28]]
        assert budgeted.model.config.image_grid_pinpoints == [[28, 28], [28, 56], [56, 28]]
        assert _image_tokens(budgeted, sample) < free
    else:  # LLaVA-1.5 and Gemma 3 always make the same tokens from a fixed square
        assert _image_tokens(load_model(str(path), max_pixels=28 * 28), sample) == free == 4


def test_a_tokenizer_without_a_pad_token_still_batches(tmp_path):
    from transformers import AutoTokenizer

    path = build_tiny_model("llava", tmp_path / "model")
    tokenizer = AutoTokenizer.from_pretrained(path)
    tokenizer.pad_token = None
    tokenizer.save_pretrained(path)
    loaded = load_model(str(path))
    assert loaded.processor.tokenizer.pad_token == "</s>"
    groups = rollout.generate(loaded, synthetic.generate("train", 3), num_samples=2, temperature=1.0,
                              max_new_tokens=2, show_progress=False)
    assert [len(g) for g in groups] == [2, 2, 2]


def test_qlora_without_a_gpu_is_one_clear_sentence(family_model):
    from halo_forge.errors import HaloForgeError

    if torch.cuda.is_available():
        pytest.skip("this check is for machines without a GPU")
    with pytest.raises(HaloForgeError, match="4-bit QLoRA needs a CUDA GPU"):
        load_model(str(family_model[1]), load_in_4bit=True)


def test_a_budget_below_every_grid_keeps_the_nearest():
    from types import SimpleNamespace

    from halo_forge.vlm.models.adapters import pinpoint_pixel_budget

    def kept(min_pixels, max_pixels):
        processor = SimpleNamespace(image_grid_pinpoints=[[336, 672], [672, 672], [336, 1008]])
        config = SimpleNamespace()
        pinpoint_pixel_budget(config, processor, min_pixels, max_pixels)
        assert config.image_grid_pinpoints == processor.image_grid_pinpoints
        return processor.image_grid_pinpoints

    assert kept(None, 1000) == [[336, 672]]
    assert kept(10**7, None) == [[672, 672]]
    assert kept(300_000, 400_000) == [[336, 1008]]


def test_a_budgeted_llava_next_checkpoint_reloads_without_the_budget(tmp_path):
    """A cycle folder holds the budgeted processor over the base model's full grid list."""
    path = build_tiny_model("llava_next", tmp_path / "model")
    budgeted = load_model(str(path), max_pixels=28 * 28)
    budgeted.processor.save_pretrained(tmp_path / "model")  # as a cycle_N folder keeps it
    sample = synthetic.generate("train", 1)[0]
    sample.image = sample.load_image().resize((112, 112))
    reloaded = load_model(str(path))  # benchmarked later on a dataset with no budget
    assert reloaded.model.config.image_grid_pinpoints == [[28, 28]]
    assert _image_tokens(reloaded, sample) == _image_tokens(budgeted, sample)


def test_the_small_size_sees_a_64_pixel_image_as_16_tokens_and_loads_like_a_hub_model(tmp_path):
    from PIL import Image
    from transformers import AutoModelForImageTextToText, AutoProcessor

    from halo_forge.errors import HaloForgeError
    from halo_forge.vlm.models.tiny import build_tiny_model

    path = build_tiny_model("qwen2_vl", tmp_path / "small", size="small")
    model = AutoModelForImageTextToText.from_pretrained(path)
    processor = AutoProcessor.from_pretrained(path)
    assert 2_000_000 < sum(p.numel() for p in model.parameters()) < 6_000_000
    inputs = processor(images=[Image.new("RGB", (64, 64), "white")], text=["<|vision_start|><|image_pad|><|vision_end|>hi"],
                       return_tensors="pt")
    assert int((inputs["input_ids"] == model.config.image_token_id).sum()) == 16
    model(**inputs)  # the forward pass runs at this size
    with pytest.raises(HaloForgeError, match="qwen2_vl and qwen2_5_vl only"):
        build_tiny_model("llava", tmp_path / "x", size="small")
