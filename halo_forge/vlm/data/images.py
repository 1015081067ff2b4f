"""Decoding images one at a time, so a corrupt one is skipped and counted rather than fatal."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image


@dataclass
class SkipCounter:
    """How many rows were dropped for an unreadable image, and the first few reasons."""

    skipped: int = 0
    examples: list[str] = field(default_factory=list)

    def add(self, row_id: str, reason: str) -> None:
        self.skipped += 1
        if len(self.examples) < 5:
            self.examples.append(f"{row_id}: {reason}")

    def message(self, dataset: str) -> str:
        return f"skipped {self.skipped} row(s) of {dataset} with unreadable images ({'; '.join(self.examples)})"


def decode(value) -> Image.Image:
    """A PIL image from what `datasets` gives for an undecoded Image column, a path, or an image."""
    if isinstance(value, Image.Image):
        return value
    if isinstance(value, dict):
        if value.get("bytes"):
            image = Image.open(io.BytesIO(value["bytes"]))
        else:
            image = Image.open(value["path"])
    else:
        image = Image.open(value)
    image.load()  # force the decode here, where a failure can be counted
    return image.convert("RGB")


def content_key(value) -> str:
    """A hash of an image's content: its pixels for a decoded image, else its encoded bytes (what
    `datasets` gives for an undecoded Image column, or the file at a path). The same picture, the
    same key, whichever row or object it came from."""
    if isinstance(value, Image.Image):
        digest = hashlib.blake2b(value.tobytes(), digest_size=16)
        digest.update(f"{value.size}{value.mode}".encode())
        return digest.hexdigest()
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
