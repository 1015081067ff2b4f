"""Peak memory of one LoRA training step and one generation at real size, without downloading weights.

Builds the published architecture (halo_forge/vlm/models/sizes.py: Qwen2-VL, Qwen2.5-VL, LLaVA-1.5)
with random bf16 weights and runs, each in its own process so one phase's peak cannot hide the other's:
  - train: one LoRA step (r=16 on the language model's projections, gradient checkpointing,
    batch 1, one image, 64 prompt and 64 completion tokens, AdamW);
  - generate: 16 new tokens from the same prompt.
On CPU it reports the process's peak resident memory; on a GPU, torch.cuda.max_memory_allocated.
It also prints what `vlm train --dry-run`'s formula estimates for the same step, and the ratio.
The last line is `train_peak_gb: X.XX`.

    python benchmarks/memory.py --family qwen2_vl --size 2b [--image-size 448]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import torch

from halo_forge.vlm.memory import estimate
from halo_forge.vlm.models.sizes import SIZES


def qwen_inputs(config, image_size: int):
    """A Qwen image as its processor makes it: 14-pixel patches, one token per 2x2 of them."""
    from transformers import Qwen2VLImageProcessor

    pixels = Qwen2VLImageProcessor(size={"shortest_edge": image_size**2, "longest_edge": image_size**2})(
        images=[random_image(image_size)], return_tensors="pt")
    tokens = int(pixels["image_grid_thw"].prod()) // config.vision_config.spatial_merge_size**2
    span = torch.cat([torch.tensor([config.vision_start_token_id]), torch.full((tokens,), config.image_token_id),
                      torch.tensor([config.vision_end_token_id])])
    return span, dict(pixels)


def llava_inputs(config, image_size: int):
    """A LLaVA-1.5 image: always one square at the tower's size, whatever `image_size` asks."""
    from transformers import CLIPImageProcessor

    side = config.vision_config.image_size
    pixels = CLIPImageProcessor(size={"shortest_edge": side}, crop_size={"height": side, "width": side})(
        images=[random_image(image_size)], return_tensors="pt")
    return torch.full((config.image_seq_length,), config.image_token_id), dict(pixels)


IMAGE_INPUTS = {"qwen2_vl": qwen_inputs, "qwen2_5_vl": qwen_inputs, "llava": llava_inputs}


def random_image(side: int):
    import numpy as np
    from PIL import Image

    return Image.fromarray(np.random.default_rng(0).integers(0, 255, (side, side, 3), dtype=np.uint8))


def build_inputs(family: str, config, image_size: int, prompt_tokens: int, completion_tokens: int):
    """Token ids laid out as the processor would (image span, then text), real pixel values, labels."""
    span, pixels = IMAGE_INPUTS[family](config, image_size)
    text = torch.randint(0, config.text_config.vocab_size, (prompt_tokens + completion_tokens,))
    text[torch.isin(text, span)] = 0  # random text must not look like part of the image
    ids = torch.cat([span, text])[None]
    labels = ids.clone()
    labels[:, : ids.shape[1] - completion_tokens] = -100
    if family.startswith("qwen"):  # Qwen's rope needs to know which positions hold the image
        pixels["mm_token_type_ids"] = (ids == config.image_token_id).long()
    image_tokens = int((ids == config.image_token_id).sum())
    return ids, labels, pixels, image_tokens


def peak_gb(device: str) -> float:
    if device == "cuda":
        return torch.cuda.max_memory_allocated() / 2**30
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # kB on Linux


def phase(args) -> dict:
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForImageTextToText

    from halo_forge.vlm.finetune import strip_input_gradient_hooks
    from halo_forge.vlm.models.adapters import LM_PROJECTIONS

    device = "cuda" if torch.cuda.is_available() else "cpu"
    config = SIZES[(args.family, args.size)]()
    baseline = peak_gb(device)  # the interpreter and libraries (CPU RSS), before any model exists
    start = time.perf_counter()
    with torch.device(device):
        model = AutoModelForImageTextToText.from_config(config, dtype=torch.bfloat16)
    build_seconds = time.perf_counter() - start
    ids, labels, pixels, image_tokens = build_inputs(args.family, config, args.image_size, 64, 64)
    pixels = {k: v.to(device) for k, v in pixels.items()}
    pixels["pixel_values"] = pixels["pixel_values"].to(torch.bfloat16)
    ids, labels = ids.to(device), labels.to(device)
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    if args.phase == "train":
        # As halo_forge.vlm.finetune trains: non-reentrant checkpointing, no input-gradient hooks, so
        # backward stops at the language model and never enters the frozen vision tower.
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        model = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, target_modules=LM_PROJECTIONS))
        strip_input_gradient_hooks(model)
        optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
        loss = model(input_ids=ids, labels=labels, **pixels).loss
        loss.backward()
        optimizer.step()
    else:
        with torch.inference_mode():
            prompt = {k: v[:, : ids.shape[1] - 64] if k == "mm_token_type_ids" else v for k, v in pixels.items()}
            model.generate(input_ids=ids[:, : ids.shape[1] - 64], max_new_tokens=16, min_new_tokens=16,
                           do_sample=False, **prompt)
    return {"phase": args.phase, "peak_gb": peak_gb(device), "baseline_gb": baseline, "device": device, "seconds": time.perf_counter() - start,
            "build_seconds": build_seconds, "image_tokens": image_tokens, "text_tokens": ids.shape[1] - image_tokens,
            "parameters": sum(p.numel() for p in model.parameters())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--family", default="qwen2_vl", choices=sorted(IMAGE_INPUTS))
    parser.add_argument("--size", default="2b", help="a published size of the family: " +
                        ", ".join(f"{f} {s}" for f, s in SIZES if f in IMAGE_INPUTS))
    parser.add_argument("--image-size", type=int, default=448)
    parser.add_argument("--phases", nargs="+", choices=["generate", "train"], default=["generate", "train"],
                        help="which phases to run (a CPU needs hours for a 7B training step)")
    parser.add_argument("--phase", choices=["train", "generate"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if (args.family, args.size) not in SIZES:
        parser.error(f"no published {args.family} of size {args.size!r}; see --help for the sizes")
    if args.phase:
        print(json.dumps(phase(args)))
        return
    results = {}
    for name in args.phases:
        command = [sys.executable, __file__, "--family", args.family, "--size", args.size,
                   "--image-size", str(args.image_size), "--phase", name]
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        results[name] = json.loads(output.strip().splitlines()[-1])
        print(f"{name}: {json.dumps(results[name])}", flush=True)
    r = next(iter(results.values()))
    print(f"{args.family} {args.size}: {r['parameters'] / 1e9:.2f}B parameters, bf16, {r['image_tokens']} image tokens "
          f"({args.image_size}x{args.image_size}), on {r['device']}")
    print(f"baseline_gb: {r['baseline_gb']:.2f} (before the model is built; part of every peak below)")
    if "generate" in results:
        print(f"generate_peak_gb: {results['generate']['peak_gb']:.2f} ({results['generate']['seconds']:.1f} s)")
    if "train" in results:
        r = results["train"]
        estimated = estimate(SIZES[(args.family, args.size)](), r["parameters"], lora_r=16,
                             text_tokens=r["text_tokens"], image_tokens=r["image_tokens"]).total_gb
        print(f"estimate_gb: {estimated:.2f} (vlm train --dry-run's formula for this step; measured/estimate "
              f"{r['peak_gb'] / estimated:.2f}, {(r['peak_gb'] - r['baseline_gb']) / estimated:.2f} without the baseline)")
        print(f"train_peak_gb: {r['peak_gb']:.2f} ({r['seconds']:.1f} s for one LoRA step)")


if __name__ == "__main__":
    main()
