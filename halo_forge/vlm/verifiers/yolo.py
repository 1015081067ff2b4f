"""YOLO object detection from the user's weights.

An ONNX export (`yolo export model=yolov8n.pt format=onnx`) runs on onnxruntime, which the
perception extra already installs: no ultralytics at run time, so no second OpenCV wheel
(ultralytics requires opencv-python, rapidocr opencv-python-headless; both install the same `cv2`
and overwrite each other). Ultralytics' exports carry their class names and input size in the
model's metadata. Both output layouts are read: YOLOv8/v11 (1, 4 + classes, anchors) with centre
boxes, and end-to-end exports (1, detections, 6) with corner boxes, score and class, already NMS'd.
Pickled `.pt` weights need ultralytics itself (installed by the user) and `--allow-pickle`.
"""

from __future__ import annotations

import ast

import numpy as np
from PIL import Image

CONFIDENCE = 0.25  # ultralytics' predict defaults
IOU = 0.7
MAX_DETECTIONS = 300
PAD = 114  # the grey ultralytics letterboxes with


def letterbox(image: Image.Image, height: int, width: int) -> tuple[np.ndarray, float, tuple[int, int]]:
    """The image scaled to fit (height, width) with its aspect kept and centred on grey, as a
    (1, 3, H, W) float array in [0, 1]; with the scale and the (left, top) padding to undo it."""
    scale = min(height / image.height, width / image.width)
    new_w, new_h = round(image.width * scale), round(image.height * scale)
    left, top = round((width - new_w) / 2 - 0.1), round((height - new_h) / 2 - 0.1)
    canvas = Image.new("RGB", (width, height), (PAD, PAD, PAD))
    canvas.paste(image.convert("RGB").resize((new_w, new_h), Image.Resampling.BILINEAR), (left, top))
    pixels = np.asarray(canvas, dtype=np.float32).transpose(2, 0, 1)[None] / 255.0
    return np.ascontiguousarray(pixels), scale, (left, top)


def boxes_and_classes(output: np.ndarray, confidence: float = CONFIDENCE, iou: float = IOU):
    """(corner boxes in input pixels, scores, class ids) of one image's raw output, above
    `confidence`, after per-class NMS for the YOLOv8 layout."""
    import torch
    from torchvision.ops import batched_nms

    output = output[0]
    if output.ndim == 2 and output.shape[1] == 6 and output.shape[0] != 6:  # end-to-end: x1 y1 x2 y2 score class
        keep = output[:, 4] > confidence
        return output[keep, :4], output[keep, 4], output[keep, 5].astype(int)
    rows = output.T  # (anchors, 4 + classes): cx cy w h, then one score per class
    classes, scores = rows[:, 4:].argmax(1), rows[:, 4:].max(1)
    keep = scores > confidence
    rows, classes, scores = rows[keep], classes[keep], scores[keep]
    corners = np.stack([rows[:, 0] - rows[:, 2] / 2, rows[:, 1] - rows[:, 3] / 2,
                        rows[:, 0] + rows[:, 2] / 2, rows[:, 1] + rows[:, 3] / 2], axis=1)
    kept = batched_nms(torch.from_numpy(corners), torch.from_numpy(scores), torch.from_numpy(classes), iou)
    kept = kept[:MAX_DETECTIONS].numpy()
    return corners[kept], scores[kept], classes[kept]


class OnnxYOLODetector:
    """A YOLO ONNX export on onnxruntime's CPU provider."""

    def __init__(self, weights: str):
        import onnxruntime

        self.session = onnxruntime.InferenceSession(weights, providers=["CPUExecutionProvider"])
        self.input = self.session.get_inputs()[0]
        meta = self.session.get_modelmeta().custom_metadata_map
        self.names = ast.literal_eval(meta["names"]) if "names" in meta else {}
        size = ast.literal_eval(meta["imgsz"]) if "imgsz" in meta else self.input.shape[2:]
        self.height, self.width = (int(s) if isinstance(s, int) else 640 for s in size)

    def detect(self, image: Image.Image) -> list[dict]:
        pixels, scale, (left, top) = letterbox(image, self.height, self.width)
        output = self.session.run(None, {self.input.name: pixels})[0]
        corners, _, classes = boxes_and_classes(output)
        limits = [image.width, image.height] * 2
        return [
            {"kind": self.names.get(int(c), str(int(c))), "color": None,
             "box": [float(min(max((v - offset) / scale, 0), limit))
                     for v, offset, limit in zip(box, (left, top, left, top), limits)]}
            for box, c in zip(corners, classes)
        ]


class UltralyticsDetector:
    """Pickled `.pt` weights through ultralytics (installed by the user; see the module note)."""

    def __init__(self, weights: str):
        try:
            from ultralytics import YOLO
        except ImportError:
            raise ImportError("ultralytics is not installed; export the weights to ONNX once (`yolo export "
                              "format=onnx`) or pip install ultralytics (see the README on its OpenCV wheel)") from None
        self.model = YOLO(weights)

    def detect(self, image: Image.Image) -> list[dict]:
        result = self.model(image, verbose=False)[0]
        return [
            {"kind": result.names[int(c)], "color": None, "box": [float(v) for v in box]}
            for c, box in zip(result.boxes.cls.tolist(), result.boxes.xyxy.tolist())
        ]
