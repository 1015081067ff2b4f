"""Batched generation: many prompts per `generate` call, K samples each.

One call per sample is much slower even for a tiny model on a CPU (benchmarks/rollout_throughput.py
measured 28.7x with 16 forced new tokens; benchmarks/results), so prompts go in batches,
left-padded. The K samples of a prompt share one pass of the vision tower and the prompt (the
cache is expanded, not the inputs).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from transformers import LogitsProcessor, LogitsProcessorList

from ..progress import track
from .data.sample import VLMSample
from .distributed import is_sharded
from .models.loading import LoadedModel


def _batches(items: Sequence, size: int):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def encode_prompts(loaded: LoadedModel, samples: Sequence[VLMSample]) -> dict:
    """Processor inputs (text, images, masks) for a batch of samples, on the model's device."""
    processor = loaded.processor
    texts = [
        processor.apply_chat_template(loaded.adapter.messages(s.question), add_generation_prompt=True, tokenize=False)
        for s in samples
    ]
    inputs = processor(
        images=[[s.load_image()] for s in samples], text=texts, padding=True, return_tensors="pt"  # images per prompt
    )
    return inputs.to(loaded.device)


class EntropyMeter(LogitsProcessor):
    """Mean entropy (nats) of the model's next-token distributions over the tokens it samples: the
    diversity RAFT's positive-only training tends to collapse. Measured before temperature (custom
    processors run before generate's warpers), so it is the model's own; finished rows are left out."""

    def __init__(self, stop_ids: Sequence[int]):
        self.stop_ids = torch.tensor(sorted(set(stop_ids)))
        self.total, self.tokens, self.done = 0.0, 0, None  # sums kept on the model's device until read

    def start_batch(self) -> None:
        self.done = None

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        if self.done is None:  # first step of a batch: the last token is the prompt's
            self.done = torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)
        else:
            self.done |= torch.isin(input_ids[:, -1], self.stop_ids.to(input_ids.device))
        logp = torch.log_softmax(scores.float(), dim=-1)
        entropy = -(logp.exp() * logp).nan_to_num().sum(-1)
        live = ~self.done
        self.total = self.total + entropy[live].sum()  # no device sync per generated token
        self.tokens = self.tokens + live.sum()
        return scores

    @property
    def mean(self) -> float | None:
        tokens = int(self.tokens)
        return float(self.total) / tokens if tokens else None


def _prefill_once(model: torch.nn.Module, inputs: dict, k: int) -> dict:
    """Runs the vision tower and all but the last prompt token once per prompt, and returns
    generate()'s inputs for K samples each: the text expanded K times, the cache expanded K times
    (not recomputed), and no pixels (the images are in the cache). generate() then processes the
    last prompt token and samples from there, so the first sampled token has the same
    distribution as with `num_return_sequences=K`. Qwen's M-RoPE offsets, kept on the model by the
    prefill, are expanded alike."""
    length = inputs["input_ids"].shape[1]

    def per_token(value) -> bool:
        return isinstance(value, torch.Tensor) and value.dim() == 2 and value.shape[1] == length

    prefix = {name: value[:, :-1] if per_token(value) else value for name, value in inputs.items()}
    cache = model(**prefix, use_cache=True).cache
    cache.batch_repeat_interleave(k)
    for module in model.modules():
        if getattr(module, "rope_deltas", None) is not None:
            module.rope_deltas = module.rope_deltas.repeat_interleave(k, dim=0)
    text = {name: value.repeat_interleave(k, dim=0) for name, value in inputs.items() if per_token(value)}
    return {**text, "cache": cache}


# no_grad, not inference_mode: under FSDP the gather buffers made here are reused by the fine-tune,
# which may not update tensors created in inference mode.
@torch.no_grad()
def generate(
    loaded: LoadedModel,
    samples: Sequence[VLMSample],
    *,
    num_samples: int = 1,
    temperature: float = 0.0,
    max_new_tokens: int = 16,
    min_new_tokens: int = 0,
    batch_size: int = 32,
    description: str = "rollout",
    show_progress: bool = True,
    entropy: EntropyMeter | None = None,
    seed: int | None = None,
    shared_prefill: bool = True,
) -> list[list[str]]:
    """`num_samples` completions for each sample; temperature 0 means greedy. `entropy` measures
    the sampling distributions on the way. With `seed`, batch i samples from seed + i, so a batch's
    completions do not depend on what ran before it (or on which process runs it). With K > 1 and
    `shared_prefill`, the vision tower and the prompt run once per prompt (see `_prefill_once`)."""
    sampling = temperature > 0
    if not sampling and num_samples > 1:
        raise ValueError("Greedy decoding gives one completion per prompt; set a temperature above 0 for K > 1.")
    settings = {
        "do_sample": sampling, "max_new_tokens": max_new_tokens, "min_new_tokens": min_new_tokens,
        "num_return_sequences": num_samples,
    }
    if sampling:
        settings.update(temperature=temperature, top_k=0, top_p=1.0)  # plain temperature sampling
    if is_sharded(loaded.model):  # every rank steps to the longest completion: each step is collective
        settings["synced_gpus"] = True
    tokenizer = loaded.processor.tokenizer
    loaded.model.eval()
    completions: list[list[str]] = []
    batches = list(_batches(samples, batch_size))
    for i, batch in enumerate(track(batches, description, disable=not show_progress)):
        if seed is not None:
            torch.manual_seed(seed + i)
        inputs = encode_prompts(loaded, batch)
        if entropy is not None:
            entropy.start_batch()
            settings["logits_processor"] = LogitsProcessorList([entropy])
        if shared_prefill and num_samples > 1:
            inputs = _prefill_once(loaded.model, inputs, num_samples)
            output = loaded.model.generate(**inputs, **{**settings, "num_return_sequences": 1},
                                           pad_token_id=tokenizer.pad_token_id)
        else:
            output = loaded.model.generate(**inputs, **settings, pad_token_id=tokenizer.pad_token_id)
        texts = tokenizer.batch_decode(output[:, inputs["input_ids"].shape[1] :], skip_special_tokens=True)
        completions.extend(
            [t.strip() for t in texts[i * num_samples : (i + 1) * num_samples]] for i in range(len(batch))
        )
    return completions
