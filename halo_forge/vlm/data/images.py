"""Decoding images one at a time, within the run's pixel budget, so a corrupt, hostile or
unusable one is skipped and counted rather than fatal."""

from __future__ import annotations

import hashlib
import io
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image


@dataclass
class SkipCounter:
    """How many rows were dropped, and the first few reasons."""

    skipped: int = 0
    examples: list[str] = field(default_factory=list)

    def add(self, row_id: str, reason: str) -> None:
        self.skipped += 1
        if len(self.examples) < 5:
            self.examples.append(f"{row_id}: {reason}")

    def message(self, dataset: str) -> str:
        return f"skipped {self.skipped} row(s) of {dataset} ({'; '.join(self.examples)})"


@dataclass(frozen=True)
class ArrowImage:
    """An image cell of a memory-mapped Arrow table (a `datasets.Dataset`), read and decoded only
    when used, so a split of any size costs its row count in memory, not its pixels."""

    table: Any
    index: int
    column: str

    def raw(self) -> dict:
        """What `datasets` holds for an undecoded Image cell: {"bytes": ..., "path": ...}."""
        return self.table[self.index][self.column]


class ImageError(ValueError):
    """An image that cannot or should not be used; the message says why, for the user."""


DEFAULT_BUDGET = 1024 * 28 * 28  # pixels, where the dataset declares none (a photo's budget)
BOMB_MARGIN = 64  # images up to this many times the budget are decoded and downscaled; larger ones are refused unread
MAX_ASPECT = 200  # Qwen2-VL's processor refuses longer sides than 200x the shorter one (the strictest family)
MIN_SIDE = 8  # pixels: a thinner image shows nothing a model can read


def _open(value) -> Image.Image:
    if isinstance(value, ArrowImage):
        value = value.raw()
    if isinstance(value, dict):
        if value.get("bytes"):
            return Image.open(io.BytesIO(value["bytes"]))
        value = value["path"]
    if not Path(value).is_file():  # a FIFO or device would block Image.open forever
        raise ImageError("not a regular file" if Path(value).exists() else "file not found")
    return Image.open(value)


def decode(value, max_pixels: int | None = None) -> Image.Image:
    """An RGB image from a path, what `datasets` gives for an undecoded Image column, or an image,
    at most `max_pixels` (downscaled as it decodes: a 12-megapixel photo never sits in memory at
    full size). Raises ImageError for an unreadable file and for an image no model here can use:
    far beyond the budget (refused before decoding), thinner than MIN_SIDE, or longer than
    MAX_ASPECT times its width."""
    if isinstance(value, Image.Image):
        image = value
    else:
        try:
            image = _open(value)
        except ImageError:
            raise
        except Image.DecompressionBombError as exc:
            raise ImageError(f"too large to decode safely ({exc})") from exc
        except Exception as exc:  # PIL raises several types for a file that is not an image
            raise ImageError(f"unreadable ({type(exc).__name__})") from exc
    try:
        return _within_budget(image, max_pixels, opened=image is not value)
    except ImageError:
        if image is not value:
            image.close()
        raise


def stored(value, max_pixels: int | None = None) -> dict:
    """The image as `datasets` stores one ({"bytes", "path"}), for a fine-tune's rows: the source's
    own encoded bytes when decoding them gives exactly what `decode` gives (RGB, within the budget:
    nothing converted or downscaled), so a kept image is not encoded again every cycle; otherwise
    `decode`'s image as PNG, which is what `datasets` would make of it."""
    raw = None if isinstance(value, Image.Image) else _encoded(value)
    if raw is not None:
        with Image.open(io.BytesIO(raw)) as header:
            if header.mode == "RGB" and (max_pixels is None or header.width * header.height <= max_pixels):
                return {"bytes": raw, "path": None}
    buffer = io.BytesIO()
    decode(value, max_pixels).save(buffer, format="PNG")
    return {"bytes": buffer.getvalue(), "path": None}


def _encoded(value) -> bytes | None:
    """The encoded bytes behind a path or an undecoded `datasets` cell."""
    if isinstance(value, ArrowImage):
        value = value.raw()
    if isinstance(value, dict):
        if value.get("bytes"):
            return value["bytes"]
        value = value.get("path")
    if isinstance(value, (str, Path)) and Path(value).is_file():
        return Path(value).read_bytes()
    return None


def _within_budget(image: Image.Image, max_pixels: int | None, opened: bool) -> Image.Image:
    """`image` checked, decoded and downscaled. `opened`: it is a file we opened (so JPEG can decode
    at reduced size, and it may be resized in place); otherwise the caller's image, left untouched."""
    width, height = image.size
    budget = max_pixels or DEFAULT_BUDGET
    if width * height > budget * BOMB_MARGIN:
        raise ImageError(f"{width}x{height} pixels is over {BOMB_MARGIN}x the pixel budget of {budget:,}; refused "
                         f"before decoding")
    if max(width, height) > MAX_ASPECT * min(width, height):
        raise ImageError(f"{width}x{height} pixels has an aspect ratio over {MAX_ASPECT}, which the model's "
                         f"processor refuses")
    if min(width, height) < MIN_SIDE:
        raise ImageError(f"{width}x{height} pixels is too small (a side under {MIN_SIDE})")
    target = None
    if max_pixels and width * height > max_pixels:
        scale = math.sqrt(max_pixels / (width * height))
        target = (max(1, int(width * scale)), max(1, int(height * scale)))
    try:
        if target and opened:
            image.draft("RGB", target)  # JPEG decodes at a fraction of its size; other formats ignore it
        image.load()  # force the decode here, where a failure can be counted
        image = image.convert("RGB") if image.mode != "RGB" else image
    except Exception as exc:
        raise ImageError(f"unreadable ({type(exc).__name__}: {exc})") from exc
    if target:
        image = image if opened else image.copy()
        image.thumbnail(target, Image.Resampling.BICUBIC)
    return image


def content_key(value) -> str:
    """A hash of an image's content: its pixels for a decoded image, else its encoded bytes (what
    `datasets` gives for an undecoded Image column, or the file at a path). The same picture, the
    same key, whichever row or object it came from."""
    if isinstance(value, Image.Image):
        digest = hashlib.blake2b(value.tobytes(), digest_size=16)
        digest.update(f"{value.size}{value.mode}".encode())
        return digest.hexdigest()
    if isinstance(value, ArrowImage):
        value = value.raw()
    if isinstance(value, dict):
        data = value.get("bytes") or Path(value["path"]).read_bytes()
    else:
        data = Path(value).read_bytes()
    return hashlib.blake2b(data, digest_size=16).hexdigest()


PARTITION_SEED = "halo-forge-held-out-0"


def in_held_out(key: str, fraction: float) -> bool:
    """Whether the image with content `key` falls in the held-out share `fraction` of a partition
    (seeded by PARTITION_SEED, so every run and `vlm benchmark --held-out` draw the same line)."""
    bucket = hashlib.blake2b(f"{PARTITION_SEED}:{key}".encode(), digest_size=8).digest()
    return int.from_bytes(bucket, "big") / 2**64 < fraction
