"""Decoding images one at a time, so a corrupt one is skipped and counted rather than fatal."""

from __future__ import annotations

import io
from dataclasses import dataclass, field

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
