"""Building a cycle's fine-tune rows from a keep-set of hub images: rows that keep each image's
source bytes (`finetune.training_rows` now) against rows of decoded images, which `datasets`
encodes again (what it did before: a JPEG in its own format at PIL's default quality 75, so the
fine-tune saw a lossier copy than the rollout; other images as PNG; images opened from a path by
that path, i.e. the file at full size even when the rollout saw it downscaled).

500 kept rows of 640x480 JPEG photos (noise and gradients, quality 90) held as Arrow cells, as a
hub split gives them; the pixel budget (1,003,520, a photo's) keeps them whole. Times both ways
of building the same rows in one process, best of 3, and prints their stored size and, last,
`ratio: X.XX` (seconds re-encoding over seconds keeping the bytes).

    python benchmarks/keep_set_rows.py [--rows 500]
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time

import numpy as np
from datasets import Dataset
from PIL import Image

from halo_forge.vlm.data.images import DEFAULT_BUDGET, ArrowImage
from halo_forge.vlm.data.sample import VLMSample
from halo_forge.vlm.finetune import training_rows
from halo_forge.vlm.models.loading import load_model
from halo_forge.vlm.models.tiny import build_tiny_model


def photo(rng) -> bytes:
    gradient = np.linspace(0, 255, 640, dtype=np.float32)[None, :, None]
    pixels = np.clip(gradient + rng.normal(0, 40, (480, 640, 3)), 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def decoded_rows(loaded, pairs) -> Dataset:
    """The rows as they were built before: decoded images, encoded again by `datasets`."""
    return Dataset.from_list([
        {"prompt": loaded.adapter.messages(s.question),
         "completion": [{"role": "assistant", "content": [{"type": "text", "text": c}]}],
         "images": [s.load_image()]}
        for s, c in pairs
    ])


def best(fn, repeats=3) -> tuple[float, Dataset]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=500)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    cells = [{"image": {"bytes": photo(rng), "path": None}} for _ in range(args.rows)]  # undecoded hub cells
    pairs = [(VLMSample(id=str(i), image=ArrowImage(cells, i, "image"), question="What does the sign say?",
                        answers=["stop"], max_pixels=DEFAULT_BUDGET), "stop") for i in range(args.rows)]
    with tempfile.TemporaryDirectory() as folder:
        loaded = load_model(str(build_tiny_model("qwen2_vl", f"{folder}/tiny")))
        kept_s, kept = best(lambda: training_rows(loaded, pairs))
        again_s, again = best(lambda: decoded_rows(loaded, pairs))
    size = lambda rows: rows.data.nbytes / 2**20  # noqa: E731
    print(f"{args.rows} kept rows, 640x480 JPEG photos")
    print(f"source bytes kept: {kept_s:.2f} s, {size(kept):.1f} MiB stored")
    print(f"re-encoded:         {again_s:.2f} s, {size(again):.1f} MiB stored (JPEG at quality 75)")
    print(f"ratio: {again_s / kept_s:.2f}")


if __name__ == "__main__":
    main()
