"""Verifier throughput with the per-image evidence cache against without it.

K=4 completions per image over rendered-word signs, whose evidence comes from OCR (rapidocr): with
the cache the image is read once for its 4 completions, without it once per completion. Same
verifier settings and completions; a fresh cache for each timed pass. The last line is
`ratio: X.XX` (the limit is K = 4). Target: >= 3.5.

    python benchmarks/verifier_throughput.py [--images 24] [--k 4]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from textimages import signs, text_image  # noqa: E402

from halo_forge.vlm.data.sample import VLMSample  # noqa: E402
from halo_forge.vlm.verifiers import VisionVerifier  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=24)
    parser.add_argument("--k", type=int, default=4)
    args = parser.parse_args()
    data = signs(args.images, seed=11)
    samples = [VLMSample(id=str(i), image=img, question="What does the sign say?", answers=[w.lower()])
               for i, (img, w) in enumerate(data)]
    completions = [[f'The sign says "{w}". The answer is {w.lower()}.', w.lower(), "no idea", f"It reads {w}."][: args.k]
                   for _, w in data]

    verifier = VisionVerifier(detector="none")
    verifier.evidence.ocr.read(text_image("WARM", 0))  # load the OCR models outside the timing

    reads = {}

    def timed(use_cache: bool) -> float:
        verifier.evidence._store.clear()
        before = verifier.evidence.computed
        start = time.perf_counter()
        verifier.verify_batch(samples, completions, use_cache=use_cache)
        seconds = time.perf_counter() - start
        reads[use_cache] = verifier.evidence.computed - before
        return seconds

    # Alternate the two passes and keep each one's best, so drift in machine load favours neither.
    runs = [(timed(True), timed(False)) for _ in range(3)]
    cached, uncached = min(r[0] for r in runs), min(r[1] for r in runs)
    total = args.images * args.k
    print(f"{args.images} images x K={args.k} completions, OCR by rapidocr")
    print(f"with the per-image cache:          {total / cached:7.1f} completions/s ({cached:.2f} s, "
          f"{reads[True]} images read)")
    print(f"without (evidence per completion): {total / uncached:7.1f} completions/s ({uncached:.2f} s, "
          f"{reads[False]} images read)")
    print(f"ratio: {uncached / cached:.2f}")


if __name__ == "__main__":
    main()
