"""What is known about one image: its objects and its words, from annotations or from tools.

Computed once per image and cached by image content (in memory, and on disk across runs), then
reused for all K completions and all cycles; OCR runs only when a completion claims text. Dataset
annotations (the synthetic scene, TextVQA's OCR tokens) are truth where they exist; tools fill in
elsewhere. A tool that is missing or fails leaves its part unknown (None),
with the reason, so the checks that need it abstain instead of guessing.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from ...files import write_json
from ..data.images import content_key
from .backends import Detector, OCRBackend


@dataclass
class ImageEvidence:
    width: int
    height: int
    objects: list[dict] | None = None  # each: kind, color (or None), box [x0, y0, x1, y1]
    notes: list[str] = field(default_factory=list)  # where each part came from, or why it is missing
    known_words: set[str] | None = None  # lower-case words read in the image, once known
    read_words: Callable[[], set[str] | None] | None = field(default=None, repr=False, compare=False)

    @property
    def words(self) -> set[str] | None:
        """The image's words: from annotations, or read by OCR the first time a claim needs them
        (a dataset whose completions never claim text never pays for OCR)."""
        if self.read_words is not None:
            reader, self.read_words = self.read_words, None
            self.known_words = reader()
        return self.known_words


image_key = content_key  # the same pixels give the same key, whichever object or file they came from


def _words(texts) -> set[str]:
    return {w.strip(".,:;!?\"'()").lower() for t in texts for w in str(t).split() if w.strip(".,:;!?\"'()")}


class EvidenceCache:
    """Evidence per image content: the least recently used dropped beyond `capacity` in memory, and,
    with `directory`, what the tools found kept on disk, so a second or resumed run runs no tool on
    an image twice."""

    def __init__(self, detector: Detector | None, ocr: OCRBackend | None, capacity: int = 4096,
                 directory: str | Path | None = None):
        self.detector, self.ocr, self.capacity = detector, ocr, capacity
        self.directory = Path(directory) if directory else None
        self._store: OrderedDict[str, ImageEvidence] = OrderedDict()
        self.computed = 0  # how many images needed real work (the rest were cache hits)
        tools = f"{type(detector).__name__}-{type(ocr).__name__}"
        self._tools = hashlib.blake2b(tools.encode(), digest_size=4).hexdigest()

    def get(self, image: Image.Image | None, annotations: dict) -> ImageEvidence:
        if image is None:
            return self.compute(None, annotations)
        key = image_key(image) + str(sorted(annotations.get("ocr_tokens") or []))
        key = hashlib.blake2b(f"{key}{self._tools}".encode(), digest_size=16).hexdigest()
        if key in self._store:
            self._store.move_to_end(key)
            return self._store[key]
        evidence = self._from_disk(key, image, annotations) or self.compute(image, annotations, key)
        self._store[key] = evidence
        if len(self._store) > self.capacity:
            self._store.popitem(last=False)
        return evidence

    def compute(self, image: Image.Image | None, annotations: dict, key: str | None = None) -> ImageEvidence:
        """Evidence without the cache: annotations first, then tools (OCR when first needed)."""
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
            evidence.known_words = _words(annotations["ocr_tokens"])
            evidence.notes.append("words: dataset OCR tokens")
        elif scene:
            evidence.known_words = set()  # a synthetic scene has no text: claimed text is false
            evidence.notes.append("words: none in the scene annotation")
        elif image is not None and self.ocr is not None:
            evidence.read_words = self._reader(image, evidence, key)
        if key is not None and not scene:
            self._to_disk(key, evidence, evidence.known_words)
        return evidence

    def _path(self, key: str) -> Path | None:
        return self.directory / key[:2] / f"{key}.json" if self.directory else None

    def _from_disk(self, key: str, image: Image.Image, annotations: dict) -> ImageEvidence | None:
        path = self._path(key)
        if path is None or annotations.get("scene") or not path.is_file():
            return None
        try:
            record = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            return None  # a damaged entry is recomputed
        evidence = ImageEvidence(width=record["width"], height=record["height"], objects=record["objects"],
                                 notes=record["notes"], known_words=None if record["words"] is None
                                 else set(record["words"]))
        if not record["words_read"] and self.ocr is not None:  # OCR not run yet: still when first needed
            evidence.read_words = self._reader(image, evidence, key)
        return evidence

    def _reader(self, image: Image.Image, evidence: ImageEvidence, key: str | None):
        """Reads the image's words with OCR (and records them on disk), for ImageEvidence.words."""
        def read() -> set[str] | None:
            texts = self._run("words", self.ocr.read, image, evidence)
            words = None if texts is None else _words(texts)
            if key is not None:
                self._to_disk(key, evidence, words)
            return words

        return read

    def _to_disk(self, key: str, evidence: ImageEvidence, words: set[str] | None) -> None:
        path = self._path(key)
        if path is None:
            return
        record = {"width": evidence.width, "height": evidence.height, "objects": evidence.objects,
                  "notes": evidence.notes, "words": None if words is None else sorted(words),
                  "words_read": evidence.read_words is None}
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_json(path, record)
        except OSError:
            pass  # a cache that cannot be written costs speed, never the run

    @staticmethod
    def _run(part: str, tool, image, evidence: ImageEvidence):
        try:
            result = tool(image)
        except Exception as exc:  # a backend failure costs its checks, never the run
            evidence.notes.append(f"{part}: {type(exc).__name__}: {exc}")
            return None
        evidence.notes.append(f"{part}: {getattr(tool, '__self__', tool).__class__.__name__}")
        return result
