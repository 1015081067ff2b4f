"""Peak memory of one LoRA training step and one generation at real size, without downloading weights.

Builds the published architecture (halo_forge/vlm/models/sizes.py) with random bf16 weights and
runs, each in its own process so one phase's peak cannot hide the other's:
  - train: one LoRA step (r=16 on the language model's projections, gradient checkpointing,
    batch 1, one image, 64 prompt and 64 completion tokens, AdamW);
  - generate: 16 new tokens from the same prompt.
On CPU it reports the process's peak resident memory; on a GPU, torch.cuda.max_memory_allocated.
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


def build_inputs(config, image_size: int, prompt_tokens: int, completion_tokens: int):
    """Token ids laid out as the processor would (vision span, then text) and real pixel values."""
    import numpy as np
    from PIL import Image
    from transformers import Qwen2VLImageProcessor

    side = image_size
    pixels = Qwen2VLImageProcessor(size={"shortest_edge": side * side, "longest_edge": side * side})(
        images=[Image.fromarray(np.random.default_rng(0).integers(0, 255, (side, side, 3), dtype=np.uint8))],
        return_tensors="pt",
    )
    image_tokens = int(pixels["image_grid_thw"].prod()) // config.vision_config.spatial_merge_size**2
    text = torch.randint(0, 150_000, (prompt_tokens + completion_tokens,))
    ids = torch.cat([torch.tensor([config.vision_start_token_id]),
                     torch.full((image_tokens,), config.image_token_id),
                     torch.tensor([config.vision_end_token_id]), text])[None]
    mm = (ids == config.image_token_id).long()
    labels = ids.clone()
    labels[:, : ids.shape[1] - completion_tokens] = -100
    return ids, mm, labels, pixels, image_tokens


def peak_gb(device: str) -> float:
    if device == "cuda":
        return torch.cuda.max_memory_allocated() / 2**30
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # kB on Linux


def phase(args) -> dict:
    from peft import LoraConfig, get_peft_model
    from transformers import Qwen2VLForConditionalGeneration

    from halo_forge.vlm.models.adapters import LM_PROJECTIONS
    from halo_forge.vlm.models.sizes import SIZES

    device = "cuda" if torch.cuda.is_available() else "cpu"
    config = SIZES[(args.family, args.size)]()
    torch.set_default_dtype(torch.bfloat16)
    start = time.perf_counter()
    with torch.device(device):
        model = Qwen2VLForConditionalGeneration(config)
    build_seconds = time.perf_counter() - start
    ids, mm, labels, pixels, image_tokens = build_inputs(config, args.image_size, 64, 64)
    pixels = {k: v.to(device) for k, v in pixels.items()}
    pixels["pixel_values"] = pixels["pixel_values"].to(torch.bfloat16)
    ids, mm, labels = ids.to(device), mm.to(device), labels.to(device)
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    if args.phase == "train":
        # As halo_forge.vlm.finetune trains: non-reentrant checkpointing, no input-gradient hooks, so
        # backward stops at the language model and never enters the frozen vision tower.
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        model = get_peft_model(model, LoraConfig(r=16, lora_alpha=32, target_modules=LM_PROJECTIONS))
        optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
        loss = model(input_ids=ids, mm_token_type_ids=mm, labels=labels, **pixels).loss
        loss.backward()
        optimizer.step()
    else:
        with torch.inference_mode():
            prompt = slice(0, ids.shape[1] - 64)
            model.generate(input_ids=ids[:, prompt], mm_token_type_ids=mm[:, prompt], max_new_tokens=16,
                           min_new_tokens=16, do_sample=False, **pixels)
    return {"phase": args.phase, "peak_gb": peak_gb(device), "device": device, "seconds": time.perf_counter() - start,
            "build_seconds": build_seconds, "image_tokens": image_tokens,
            "parameters": sum(p.numel() for p in model.parameters())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--family", default="qwen2_vl")
    parser.add_argument("--size", default="2b")
    parser.add_argument("--image-size", type=int, default=448)
    parser.add_argument("--phase", choices=["train", "generate"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(phase(args)))
        return
    results = {}
    for name in ("generate", "train"):
        command = [sys.executable, __file__, "--family", args.family, "--size", args.size,
                   "--image-size", str(args.image_size), "--phase", name]
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        results[name] = json.loads(output.strip().splitlines()[-1])
        print(f"{name}: {json.dumps(results[name])}", flush=True)
    r = results["train"]
    print(f"{args.family} {args.size}: {r['parameters'] / 1e9:.2f}B parameters, bf16, {r['image_tokens']} image tokens "
          f"({args.image_size}x{args.image_size}), on {r['device']}")
    print(f"generate_peak_gb: {results['generate']['peak_gb']:.2f} ({results['generate']['seconds']:.1f} s)")
    print(f"train_peak_gb: {r['peak_gb']:.2f} ({r['seconds']:.1f} s for one LoRA step)")


if __name__ == "__main__":
    main()
