import torch
from peft import LoraConfig, get_peft_model
from trl.trainer.sft_trainer import DataCollatorForVisionLanguageModeling

from halo_forge.vlm.data import synthetic
from halo_forge.vlm.finetune import finetune, training_rows
from halo_forge.vlm.models.loading import LoadedModel, load_model


def test_labels_cover_only_the_completion(tiny_model_dir):
    loaded = load_model(str(tiny_model_dir))
    samples = synthetic.generate("train", 3)
    completions = ["red", "3", "a long answer"]
    rows = training_rows(loaded, list(zip(samples, completions)))
    batch = DataCollatorForVisionLanguageModeling(loaded.processor, completion_only_loss=True)([r for r in rows])
    tokenizer = loaded.processor.tokenizer
    for labels, completion in zip(batch["labels"], completions):
        labelled = labels[labels != -100]
        assert tokenizer.decode(labelled) == completion + "<|im_end|>\n"
    image_token = loaded.model.config.image_token_id
    assert (batch["labels"][batch["input_ids"] == image_token] == -100).all()


def test_lora_finetune_changes_adapter_weights_only(tiny_model_dir):
    loaded = load_model(str(tiny_model_dir))
    target = loaded.adapter.lora_target_modules()
    model = get_peft_model(loaded.model, LoraConfig(r=4, lora_alpha=8, target_modules=target, task_type="CAUSAL_LM"))
    loaded = LoadedModel(model, loaded.processor, loaded.adapter, loaded.base)
    before = {k: v.detach().clone() for k, v in model.named_parameters()}
    trainable = {k for k, v in model.named_parameters() if v.requires_grad}
    assert trainable and all("lora_" in k and "language_model" in k for k in trainable)
    samples = synthetic.generate("train", 16)
    stats = finetune(loaded, [(s, s.answer) for s in samples], learning_rate=1e-2, batch_size=8, show_progress=False)
    assert stats.steps == 2
    changed = {k for k, v in model.named_parameters() if not torch.equal(v, before[k])}
    assert changed and changed <= trainable
    assert any("lora_B" in k for k in changed)


def test_full_finetune_lowers_the_loss(tiny_model_dir):
    loaded = load_model(str(tiny_model_dir))
    samples = synthetic.generate("train", 64)
    pairs = [(s, s.answer) for s in samples]
    first = finetune(loaded, pairs, learning_rate=3e-3, batch_size=16, show_progress=False)
    later = finetune(loaded, pairs, learning_rate=3e-3, epochs=3, batch_size=16, show_progress=False)
    assert later.loss < first.loss


def test_lora_backward_never_enters_the_frozen_vision_tower(tiny_model_dir):
    loaded = load_model(str(tiny_model_dir))
    target = loaded.adapter.lora_target_modules()
    loaded.model = get_peft_model(loaded.model, LoraConfig(r=4, target_modules=target, task_type="CAUSAL_LM"))
    on_backward_path = []  # whether each vision block's output is part of the autograd graph
    vision = loaded.model.get_base_model().model.visual
    for block in vision.blocks:
        block.register_forward_hook(lambda module, args, output: on_backward_path.append(output.requires_grad))
    samples = synthetic.generate("train", 8)
    stats = finetune(loaded, [(s, s.answer) for s in samples], learning_rate=1e-2, batch_size=4,
                     gradient_checkpointing=True, show_progress=False)
    assert stats.steps == 2 and on_backward_path and not any(on_backward_path)
