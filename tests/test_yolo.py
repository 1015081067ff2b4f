"""YOLO ONNX exports run on onnxruntime: the letterbox puts the image where the model expects it,
raw outputs of both export layouts become boxes in the original image's pixels, per-class NMS and
the confidence floor apply, and the class names come from the export's metadata."""

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from PIL import Image

from halo_forge.vlm.verifiers.backends import make_detector
from halo_forge.vlm.verifiers.yolo import PAD, OnnxYOLODetector, letterbox

NAMES = {0: "cat", 1: "dog", 2: "bird"}


def _scene() -> Image.Image:
    """320 x 160, white, a red 10 x 10 square at x 10..19, y 30..39."""
    image = Image.new("RGB", (320, 160), "white")
    image.paste((255, 0, 0), (10, 30, 20, 40))
    return image


def test_letterbox_scales_by_the_longer_side_and_centres_on_grey():
    pixels, scale, (left, top) = letterbox(_scene(), 640, 640)
    assert pixels.shape == (1, 3, 640, 640) and pixels.dtype == np.float32
    assert scale == 2 and (left, top) == (0, 160)  # 320x160 -> 640x320, 160 rows of grey above and below
    assert pixels[0, :, 230, 30].tolist() == pytest.approx([1, 0, 0])  # the square, now at x 20..39, y 220..239
    assert pixels[0, :, 300, 300].tolist() == pytest.approx([1, 1, 1])  # the white background
    assert pixels[0, :, 100, 30].tolist() == pytest.approx([PAD / 255] * 3)  # padding


def _export(path, raw: np.ndarray, imgsz=(640, 640)) -> str:
    """An ONNX model whose output is `raw` (plus 0 x the input's mean, so the input is consumed),
    with ultralytics' metadata."""
    mean = helper.make_node("ReduceMean", ["images"], ["mean"], keepdims=0)
    zero = helper.make_node("Mul", ["mean", "zero"], ["nothing"])
    out = helper.make_node("Add", ["raw", "nothing"], ["output0"])
    graph = helper.make_graph(
        [mean, zero, out], "yolo",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, *imgsz])],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, list(raw.shape))],
        initializer=[numpy_helper.from_array(raw.astype(np.float32), "raw"),
                     numpy_helper.from_array(np.zeros((), np.float32), "zero")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    for key, value in {"names": str(NAMES), "imgsz": str(list(imgsz)), "task": "detect"}.items():
        model.metadata_props.add(key=key, value=value)
    onnx.save(model, str(path))
    return str(path)


def test_yolov8_layout_is_decoded_suppressed_and_mapped_back(tmp_path):
    anchors = [  # cx, cy, w, h in letterboxed pixels, then cat, dog, bird scores
        [30, 230, 20, 20, 0.9, 0.0, 0.0],  # the square: a cat
        [31, 231, 20, 20, 0.8, 0.0, 0.0],  # the same cat again: NMS removes it
        [30, 230, 20, 20, 0.0, 0.6, 0.0],  # a dog in the same place: another class, kept
        [300, 300, 40, 40, 0.0, 0.0, 0.1],  # a bird below the confidence floor
    ]
    raw = np.array(anchors, np.float32).T[None]  # (1, 4 + 3, 4)
    detector = OnnxYOLODetector(_export(tmp_path / "v8.onnx", raw))
    found = detector.detect(_scene())
    assert [d["kind"] for d in found] == ["cat", "dog"]
    for d in found:
        assert d["box"] == pytest.approx([10, 30, 20, 40])  # back in the 320 x 160 image's pixels


def test_end_to_end_layout_and_clipping(tmp_path):
    rows = [[20, 220, 40, 240, 0.9, 1], [-40, 100, 660, 200, 0.5, 2], [0, 0, 5, 5, 0.1, 0]]  # x1 y1 x2 y2 score class
    detector = OnnxYOLODetector(_export(tmp_path / "e2e.onnx", np.array(rows, np.float32)[None]))
    found = detector.detect(_scene())
    assert [d["kind"] for d in found] == ["dog", "bird"]
    assert found[0]["box"] == pytest.approx([10, 30, 20, 40])
    assert found[1]["box"] == pytest.approx([0, 0, 320, 20])  # clipped to the image


def test_make_detector_runs_onnx_exports_and_names_what_it_cannot_run(tmp_path):
    raw = np.array([[30, 230, 20, 20, 0.9, 0.0, 0.0]], np.float32).T[None]
    detector, why = make_detector("yolo", _export(tmp_path / "m.onnx", raw))
    assert why == "" and isinstance(detector, OnnxYOLODetector)
    (tmp_path / "m.bin").write_bytes(b"x")
    detector, why = make_detector("yolo", str(tmp_path / "m.bin"))
    assert detector is None and "neither an ONNX export" in why
    (tmp_path / "broken.onnx").write_bytes(b"not a model")
    detector, why = make_detector("yolo", str(tmp_path / "broken.onnx"))
    assert detector is None and "unavailable" in why
