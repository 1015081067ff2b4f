"""What is known about one image: its objects and its words, from annotations or from tools.

Computed once per image and cached by image content, then reused for all K completions and all
cycles. Dataset annotations (the synthetic scene, TextVQA's OCR tokens) are truth where they
exist; tools fill in elsewhere. A tool that is missing or fails leaves its part unknown (None),
with the reason, so the checks that need it abstain instead of guessing.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

from PIL import Image

from ..data.images import content_key
from .backends import Detector, OCRBackend


@dataclass
class ImageEvidence:
    width: int
    height: int
    objects: list[dict] | None = None  # each: kind, color (or None), box [x0, y0, x1, y1]
    words: set[str] | None = None  # lower-case words read in the image
    notes: list[str] = field(default_factory=list)  # where each part came from, or why it is missing


image_key = content_key  # the same pixels give the same key, whichever object or file they came from


def _words(texts) -> set[str]:
    return {w.strip(".,:;!?\"'()").lower() for t in texts for w in str(t).split() if w.strip(".,:;!?\"'()")}


class EvidenceCache:
    """Evidence per image content, least recently used dropped beyond `capacity`."""

    def __init__(self, detector: Detector | None, ocr: OCRBackend | None, capacity: int = 4096):
        self.detector, self.ocr, self.capacity = detector, ocr, capacity
        self._store: OrderedDict[str, ImageEvidence] = OrderedDict()
        self.computed = 0  # how many images needed real work (the rest were cache hits)

    def get(self, image: Image.Image | None, annotations: dict) -> ImageEvidence:
        if image is None:
            return self.compute(None, annotations)
        key = image_key(image) + str(sorted(annotations.get("ocr_tokens") or []))
        if key in self._store:
            self._store.move_to_end(key)
            return self._store[key]
        evidence = self._store[key] = self.compute(image, annotations)
        if len(self._store) > self.capacity:
            self._store.popitem(last=False)
        return evidence

    def compute(self, image: Image.Image | None, annotations: dict) -> ImageEvidence:
        """Evidence without the cache: annotations first, then tools."""
        self.computed += 1
        scene = annotations.get("scene")
        width, height = (scene["width"], scene["height"]) if scene else (image.size if image else (0, 0))
        evidence = ImageEvidence(width=width, height=height)
        if scene:
            evidence.objects = [dict(o) for o in scene["objects"]]
            evidence.notes.append("objects: scene annotation")
        elif image is not None and self.detector is not None:
            evidence.objects = self._run("objects", self.detector.detect, image, evidence)
        if annotations.get("ocr_tokens"):
            evidence.words = _words(annotations["ocr_tokens"])
            evidence.notes.append("words: dataset OCR tokens")
        elif scene:
            evidence.words = set()  # a synthetic scene has no text: claimed text is false
            evidence.notes.append("words: none in the scene annotation")
        elif image is not None and self.ocr is not None:
            texts = self._run("words", self.ocr.read, image, evidence)
            evidence.words = None if texts is None else _words(texts)
        return evidence

    @staticmethod
    def _run(part: str, tool, image, evidence: ImageEvidence):
        try:
            result = tool(image)
        except Exception as exc:  # a backend failure costs its checks, never the run
            evidence.notes.append(f"{part}: {type(exc).__name__}: {exc}")
            return None
        evidence.notes.append(f"{part}: {getattr(tool, '__self__', tool).__class__.__name__}")
        return result
