"""Shape scenes drawn unlike the synthetic task's: any image size from 32 to 1024 px, shapes from
12 px, PIL's named colours, light or dark backgrounds, with or without anti-aliasing. Each scene
comes with its truth, for the shape-detector benchmark and tests."""

from __future__ import annotations

import random

from PIL import Image, ImageColor, ImageDraw

# PIL colour name -> the colour name a person would give it (one of halo_forge.vlm.vocabulary.COLORS).
NAMED = {
    "red": "red", "crimson": "red", "orange": "orange", "darkorange": "orange", "yellow": "yellow", "gold": "yellow",
    "green": "green", "lime": "green", "darkgreen": "green", "teal": "teal", "turquoise": "teal", "blue": "blue",
    "navy": "blue", "royalblue": "blue", "purple": "purple", "indigo": "purple", "pink": "pink", "hotpink": "pink",
    "brown": "brown", "saddlebrown": "brown", "black": "black", "gray": "gray", "white": "white",
}
BACKGROUNDS = {"white": "white", "whitesmoke": "white", "ivory": "white", "black": "black", "dimgray": "gray"}
KINDS = ("circle", "square", "rectangle", "triangle")


def _box(rng, size, kind, placed):
    """A free box for a shape of `kind`, or None after a few tries."""
    for _ in range(50):
        side = rng.randint(12, max(12, size // 3))
        w, h = (side, side) if kind != "rectangle" else (side, int(side * rng.uniform(1.7, 2.5)))
        if kind == "rectangle" and rng.random() < 0.5:
            w, h = h, w
        if w >= size - 4 or h >= size - 4:
            continue
        x0, y0 = rng.randint(2, size - w - 2), rng.randint(2, size - h - 2)
        box = [x0, y0, x0 + w, y0 + h]
        if all(box[2] + 3 < b[0] or b[2] + 3 < box[0] or box[3] + 3 < b[1] or b[3] + 3 < box[1] for b in placed):
            return box
    return None


def _draw(draw, kind, box, fill, scale):
    x0, y0, x1, y1 = (v * scale for v in box)
    if kind == "circle":
        draw.ellipse([x0, y0, x1 - 1, y1 - 1], fill=fill)
    elif kind in ("square", "rectangle"):
        draw.rectangle([x0, y0, x1 - 1, y1 - 1], fill=fill)
    else:
        draw.polygon([((x0 + x1) / 2, y0), (x1 - 1, y1 - 1), (x0, y1 - 1)], fill=fill)


def scene(seed: int) -> tuple[Image.Image, list[dict]]:
    """One scene and its objects (kind, colour name, box)."""
    rng = random.Random(seed)
    size = int(round(2 ** rng.uniform(5, 10)))  # 32 .. 1024 px
    width, height = size, size if rng.random() < 0.7 else max(32, size // 3)
    background = rng.choice(list(BACKGROUNDS))
    colours = [c for c, name in NAMED.items() if name != BACKGROUNDS[background]]
    smooth = rng.random() < 0.5
    scale = 4 if smooth else 1
    image = Image.new("RGB", (width * scale, height * scale), ImageColor.getrgb(background))
    draw, placed, truth = ImageDraw.Draw(image), [], []
    for _ in range(rng.randint(1, 4)):
        kind, colour = rng.choice(KINDS), rng.choice(colours)
        box = _box(rng, min(width, height), kind, placed)
        if box is None:
            continue
        placed.append(box)
        _draw(draw, kind, box, ImageColor.getrgb(colour), scale)
        truth.append({"kind": kind, "color": NAMED[colour], "box": box, "pil_color": colour})
    if smooth:
        image = image.resize((width, height), Image.LANCZOS)
    return image, truth


def recall(detected: list[dict] | None, truth: list[dict]) -> dict[str, float]:
    """Per-attribute hits for one scene: each true object found (centre inside a detected box),
    its kind and colour named right, and the scene's count right."""
    found = kind = colour = 0
    for t in truth:
        cx, cy = (t["box"][0] + t["box"][2]) / 2, (t["box"][1] + t["box"][3]) / 2
        hit = next((d for d in detected or [] if d["box"][0] <= cx <= d["box"][2] and d["box"][1] <= cy <= d["box"][3]), None)
        found += hit is not None
        kind += hit is not None and hit["kind"] == t["kind"]
        colour += hit is not None and hit["color"] == t["color"]
    return {"objects": len(truth), "found": found, "kind": kind, "color": colour,
            "count": float(detected is not None and len(detected) == len(truth))}
