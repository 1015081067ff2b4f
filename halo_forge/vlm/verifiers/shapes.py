"""Shapes on a plain background, drawn by any tool: what the perception stage checks claims against
when a dataset gives no scene description.

The background is the border's median colour; everything that differs from it is foreground,
split by colour name so that touching shapes of different colours stay apart, and opened
(3x3) so that anti-aliased fringes do not become shapes of their own. Each blob gets a colour
name from its hue, saturation and value (`name_colors`, one of `vocabulary.COLORS`, not any
dataset's palette) and a kind from the ideal shape (circle, square, rectangle, triangle pointing
any of four ways) that best overlaps it once fitted to its box, its fringe restored. A blob that
fits none well gets kind None, so claims about it are not applicable.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from ..vocabulary import COLORS

# Hue bands in degrees (saturated, bright enough colours), checked in this order.
HUES = (("red", 0, 15), ("orange", 15, 45), ("yellow", 45, 70), ("green", 70, 165), ("teal", 165, 195),
        ("blue", 195, 260), ("purple", 260, 310), ("pink", 310, 345), ("red", 345, 361))
BLACK_VALUE = 0.22  # darker than this is black
GRAY_SATURATION = 0.18  # less saturated than this is white (value above WHITE_VALUE) or gray
WHITE_VALUE = 0.85
BROWN_VALUE = 0.7  # red and orange hues darker than this are brown
PINK_SATURATION = 0.55  # red hues paler than this (and bright) are pink


def name_colors(rgb: np.ndarray) -> np.ndarray:
    """For an (..., 3) uint8 RGB array, the index in `COLORS` of each pixel's colour name."""
    import cv2

    flat = rgb.reshape(-1, 1, 3).astype(np.float32) / 255.0
    hsv = cv2.cvtColor(flat, cv2.COLOR_RGB2HSV).reshape(-1, 3)
    h, s, v = hsv[:, 0], hsv[:, 1], hsv[:, 2]
    names = np.empty(len(h), dtype=object)
    for name, low, high in HUES:
        names[(h >= low) & (h < high)] = name
    reddish = (h < 45) | (h >= 345)
    names[reddish & (v < BROWN_VALUE)] = "brown"
    names[((h < 15) | (h >= 345)) & (s < PINK_SATURATION) & (v >= BROWN_VALUE)] = "pink"
    names[s < GRAY_SATURATION] = np.where(v[s < GRAY_SATURATION] > WHITE_VALUE, "white", "gray")
    names[v < BLACK_VALUE] = "black"
    index = {name: i for i, name in enumerate(COLORS)}
    return np.array([index[n] for n in names], dtype=np.int16).reshape(rgb.shape[:-1])


def name_color(rgb: tuple[int, int, int]) -> str:
    """The colour name of one RGB triple."""
    return COLORS[int(name_colors(np.array([[rgb]], dtype=np.uint8))[0, 0])]


def _templates(w: int, h: int) -> dict[str, list[np.ndarray]]:
    """Ideal masks of each kind filling a w x h box (triangles pointing each way)."""
    from PIL import ImageDraw

    def mask(draw_shape) -> np.ndarray:
        canvas = Image.new("1", (w * 4, h * 4), 0)
        draw_shape(ImageDraw.Draw(canvas), w * 4 - 1, h * 4 - 1)
        return np.asarray(canvas.resize((w, h), Image.BOX).convert("L")) > 127

    box = "square" if 0.8 <= w / h <= 1.25 else "rectangle"
    round_kind = "circle" if box == "square" else "ellipse"
    return {
        box: [mask(lambda d, x, y: d.rectangle([0, 0, x, y], fill=1))],
        round_kind: [mask(lambda d, x, y: d.ellipse([0, 0, x, y], fill=1))],
        "triangle": [mask(lambda d, x, y, p=p: d.polygon(p(x, y), fill=1)) for p in (
            lambda x, y: [(x / 2, 0), (x, y), (0, y)], lambda x, y: [(0, 0), (x, 0), (x / 2, y)],
            lambda x, y: [(0, y / 2), (x, 0), (x, y)], lambda x, y: [(0, 0), (x, y / 2), (0, y)])],
    }


def _kind(mask: np.ndarray, min_iou: float = 0.72) -> str | None:
    """The kind whose ideal mask, fitted to the blob's box, overlaps the blob best (IoU at least
    `min_iou`); None for an ellipse or anything that fits no kind well."""
    best, best_iou = None, min_iou
    for kind, templates in _templates(mask.shape[1], mask.shape[0]).items():
        for template in templates:
            iou = (mask & template).sum() / max(1, (mask | template).sum())
            if iou > best_iou:
                best, best_iou = kind, iou
    return None if best == "ellipse" else best


class ShapeDetector:
    """Coloured shapes on a plain background (any size from 32 px, shapes from about 12 px).

    Returns None when the image is not such a scene (a border of many colours, a crowded or
    unnameable foreground such as a photo or a page of text), so its checks abstain."""

    def __init__(self, min_side: int = 8, min_area: int = 30, tolerance: int = 40, max_objects: int = 30):
        import cv2

        self.cv2, self.min_side, self.min_area = cv2, min_side, min_area
        self.tolerance, self.max_objects = tolerance, max_objects

    def detect(self, image: Image.Image) -> list[dict] | None:
        cv2 = self.cv2
        rgb = np.asarray(image.convert("RGB"))
        border = np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]]).astype(np.int32)
        background = np.median(border, axis=0)
        if (np.abs(border - background).max(axis=1) <= self.tolerance).mean() < 0.8:
            return None  # no plain background
        foreground = np.abs(rgb.astype(np.int32) - background).max(axis=2) > self.tolerance
        if foreground.mean() > 0.6:
            return None
        cores = self._cores(foreground, name_colors(rgb))
        if len(cores) > self.max_objects:
            return None  # text, a photo or a chart: not a shapes scene
        claimed = np.zeros_like(foreground)
        for _, core in cores:
            claimed |= core
        _, regions = cv2.connectedComponents(foreground.astype(np.uint8), connectivity=8)
        objects = []
        for color_index, core in cores:
            # the fringe the opening took, grown back over foreground connected to the blob that
            # no other blob holds
            blob = cv2.dilate(core.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
            blob &= np.isin(regions, np.unique(regions[core])) & ~(claimed & ~core)
            ys, xs = np.nonzero(blob)
            x0, y0, x1, y1 = xs.min(), ys.min(), xs.max() + 1, ys.max() + 1
            objects.append({"kind": _kind(blob[y0:y1, x0:x1]), "color": COLORS[int(color_index)],
                            "box": [int(x0), int(y0), int(x1), int(y1)]})
        if sum(o["kind"] is None for o in objects) > len(objects) / 2:
            return None  # mostly blobs of no known kind: not a shapes scene
        return objects

    def _cores(self, foreground: np.ndarray, names: np.ndarray) -> list[tuple[int, np.ndarray]]:
        """(colour index, mask) of each blob of one colour name, opened so fringes drop out."""
        cv2, cores = self.cv2, []
        for color_index in np.unique(names[foreground]):
            mask = (foreground & (names == color_index)).astype(np.uint8)
            mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
            count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
            for label in range(1, count):
                x, y, w, h, area = stats[label]
                if area >= self.min_area and min(w, h) >= self.min_side and area >= 0.25 * w * h:
                    cores.append((int(color_index), labels == label))  # else speckle or a fringe fragment
        return cores
