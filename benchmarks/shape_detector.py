"""Does the shape detector generalise beyond the synthetic task? Per-attribute recall on scenes
drawn unlike it (`shape_scenes.py`: 32-1024 px images, shapes from 12 px, PIL's named colours,
light and dark backgrounds, half anti-aliased), clean, as JPEG at quality 60 and blurred, and on
the synthetic task itself.

    python benchmarks/shape_detector.py [--scenes 400]

Per condition: found (a detected box holds the object's centre), kind and colour named right
(per object), count right (per scene), and the share of scenes it declined (None).
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections import Counter
from pathlib import Path

from PIL import Image, ImageFilter

sys.path.insert(0, str(Path(__file__).parent))

from shape_scenes import recall, scene  # noqa: E402

from halo_forge.vlm.data import synthetic  # noqa: E402
from halo_forge.vlm.verifiers.shapes import ShapeDetector  # noqa: E402


def jpeg(image: Image.Image) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=60)
    return Image.open(buffer).convert("RGB")


CONDITIONS = {"clean": lambda im: im, "jpeg60": jpeg, "blur1": lambda im: im.filter(ImageFilter.GaussianBlur(1))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenes", type=int, default=400)
    args = parser.parse_args()
    detector = ShapeDetector()
    scenes = [scene(i) for i in range(args.scenes)]
    synthetic_scenes = [(s.image, [dict(o) for o in s.annotations["scene"]["objects"]])
                        for s in synthetic.generate("test", args.scenes, seed=1)]
    print(f"{'condition':<16}{'scenes':>7}{'objects':>8}{'found':>8}{'kind':>8}{'colour':>8}{'count':>8}"
          f"{'declined':>9}{'ms/scene':>9}")
    worst = 1.0
    for name, data, transform in [*((n, scenes, t) for n, t in CONDITIONS.items()),
                                  ("synthetic task", synthetic_scenes, CONDITIONS["clean"])]:
        total, declined, start = Counter(), 0, time.perf_counter()
        for image, truth in data:
            detected = detector.detect(transform(image))
            declined += detected is None
            total.update(recall(detected, truth))
        ms = 1000 * (time.perf_counter() - start) / len(data)
        rates = {k: total[k] / total["objects"] for k in ("found", "kind", "color")}
        rates["count"] = total["count"] / len(data)
        worst = min(worst, *rates.values()) if name == "clean" else worst
        print(f"{name:<16}{len(data):>7}{total['objects']:>8}" + "".join(f"{rates[k]:>8.3f}" for k in rates)
              + f"{declined / len(data):>9.3f}{ms:>9.1f}")
    print(f"worst_clean_recall: {worst:.3f}")


if __name__ == "__main__":
    main()
