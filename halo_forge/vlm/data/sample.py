"""The one record every dataset is turned into, and every stage downstream reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image


@dataclass
class VLMSample:
    """An image, a question about it, and every acceptable answer.

    `image` is a decoded PIL image, a path, a reference to an Arrow row, or encoded bytes (what
    `datasets` gives for an undecoded Image cell), decoded within `max_pixels` when used.
    `annotations` carries whatever truth the dataset has beyond the answers (a synthetic scene
    description, TextVQA's OCR tokens, multiple-choice options) so that verifiers can check claims
    against it; it is never a training target.
    """

    id: str
    image: Image.Image | str | Path | Any
    question: str
    answers: list[str]
    annotations: dict[str, Any] = field(default_factory=dict)
    demonstration: str | None = None  # a worked answer (reasoning, then the answer), where the data has one
    max_pixels: int | None = None  # the pixel budget a path is decoded within

    @property
    def answer(self) -> str:
        """The canonical answer (the first one)."""
        return self.answers[0] if self.answers else ""

    @property
    def target(self) -> str:
        """What supervised fine-tuning trains on: the worked answer where there is one, else the answer."""
        return self.demonstration or self.answer

    def load_image(self) -> Image.Image:
        """The image as RGB, opened lazily so a dataset of paths costs nothing until it is used."""
        if isinstance(self.image, Image.Image):
            return self.image.convert("RGB") if self.image.mode != "RGB" else self.image
        from .images import decode

        return decode(self.image, self.max_pixels)

    def stored_image(self) -> dict:
        """The image as a fine-tune's dataset row stores it (see `images.stored`)."""
        from .images import stored

        return stored(self.image, self.max_pixels)
