"""Rollout throughput: batched generation against one `generate` call per sample; then K samples
from one shared prefill against expanded inputs.

Same tiny model, prompts and settings (32 prompts x 4 samples x 16 forced new tokens, temperature
sampling); only the batching differs. Prints samples/s of each and `ratio: X.XX`.

Then K=8 samples per prompt, batched, with the vision tower and prompt run once per prompt (the
cache expanded K times) against `num_return_sequences=8` (inputs expanded, so both run 8 times),
at three pixel budgets: the synthetic task's 56x56 images (4 visual tokens), 896x896 (1024 visual
tokens, a document page) and 448x448 (256 visual tokens, what Qwen2-VL makes of a small photo).
Prints, last, `shared_prefill_ratio: X.XX` for the 448x448 budget.

    python benchmarks/rollout_throughput.py [--prompts 32] [--samples 4] [--tokens 16] [--threads 1]
"""

from __future__ import annotations

import argparse
import tempfile
import time

import torch
import transformers

from halo_forge.vlm import rollout
from halo_forge.vlm.data import synthetic
from halo_forge.vlm.models.loading import load_model
from halo_forge.vlm.models.tiny import build_tiny_model


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prompts", type=int, default=32)
    parser.add_argument("--samples", type=int, default=4)
    parser.add_argument("--tokens", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    transformers.utils.logging.disable_progress_bar()

    with tempfile.TemporaryDirectory() as workdir:
        model = build_tiny_model("qwen2_vl", f"{workdir}/tiny")
        loaded = load_model(str(model))
        photo = load_model(str(model), min_pixels=448 * 448, max_pixels=448 * 448)
        page = load_model(str(model), min_pixels=896 * 896, max_pixels=896 * 896)
    prompts = synthetic.generate("train", args.prompts)
    settings = dict(temperature=1.0, max_new_tokens=args.tokens, min_new_tokens=args.tokens, show_progress=False)
    total = args.prompts * args.samples

    def batched():
        rollout.generate(loaded, prompts, num_samples=args.samples, batch_size=args.prompts, **settings)

    def naive():
        for sample in prompts:
            for _ in range(args.samples):
                rollout.generate(loaded, [sample], num_samples=1, batch_size=1, **settings)

    batched()  # warm-up
    batched_s, naive_s = timed(batched), timed(naive)
    print(f"{args.prompts} prompts x {args.samples} samples x {args.tokens} new tokens, {args.threads} thread(s)")
    print(f"batched: {total / batched_s:8.1f} samples/s ({batched_s:.2f} s)")
    print(f"naive:   {total / naive_s:8.1f} samples/s ({naive_s:.2f} s)")
    print(f"ratio: {naive_s / batched_s:.2f}")

    k = 8
    budgets = (("56x56 (4 visual tokens)", loaded), ("896x896 (1024 visual tokens)", page),
               ("448x448 (256 visual tokens)", photo))
    for name, model in budgets:
        def shared(model=model):
            rollout.generate(model, prompts, num_samples=k, batch_size=8, **settings)

        def expanded(model=model):
            rollout.generate(model, prompts, num_samples=k, batch_size=8, shared_prefill=False, **settings)

        shared()  # warm-up
        shared_s, expanded_s = timed(shared), timed(expanded)
        print(f"K={k}, images {name}: shared prefill {args.prompts * k / shared_s:7.1f} samples/s, "
              f"expanded inputs {args.prompts * k / expanded_s:7.1f} samples/s, ratio {expanded_s / shared_s:.2f}")
    print(f"shared_prefill_ratio: {expanded_s / shared_s:.2f}")


if __name__ == "__main__":
    main()
