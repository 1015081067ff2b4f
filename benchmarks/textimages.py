"""Rendered-word images for the verifier benchmarks: the OCR-dependent half of their data."""

from __future__ import annotations

import random

from PIL import Image, ImageDraw, ImageFont

WORDS = ["STOP", "EXIT", "OPEN", "CAFE", "SALE", "HOTEL", "PARKING", "BAKERY", "TAXI", "PHARMACY", "MUSEUM",
         "LIBRARY", "GARAGE", "FLORIST", "CINEMA", "MARKET", "BANK", "POLICE", "SCHOOL", "STATION"]


def text_image(word: str, seed: int) -> Image.Image:
    """A sign: one word in black on a light background, at a seeded position and size."""
    rng = random.Random(seed)
    image = Image.new("RGB", (320, 120), tuple(rng.randint(215, 255) for _ in range(3)))
    font = ImageFont.load_default(size=rng.randint(30, 44))
    ImageDraw.Draw(image).text((rng.randint(5, 60), rng.randint(10, 50)), word, fill=(20, 20, 20), font=font)
    return image


def signs(n: int, seed: int = 0) -> list[tuple[Image.Image, str]]:
    rng = random.Random(seed)
    return [(text_image(w, seed * 1000 + i), w) for i, w in enumerate(rng.choices(WORDS, k=n))]
