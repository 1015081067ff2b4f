"""The shape detector on scenes it was not tuned on: other sizes, colours, backgrounds and drawing."""

import sys
from pathlib import Path

import pytest
from PIL import Image, ImageColor, ImageDraw

from halo_forge.vlm.data import synthetic
from halo_forge.vlm.verifiers import VisionVerifier

pytest.importorskip("cv2")
sys.path.insert(0, str(Path(__file__).parent.parent / "benchmarks"))

from shape_scenes import BACKGROUNDS, NAMED, recall, scene  # noqa: E402

from halo_forge.vlm.verifiers.shapes import ShapeDetector, name_color  # noqa: E402


@pytest.fixture(scope="module")
def detector():
    return ShapeDetector()


@pytest.mark.parametrize("pil_name, expected", sorted({**NAMED, **BACKGROUNDS}.items()))
def test_colours_are_named_by_hue_saturation_and_value_not_a_palette(pil_name, expected):
    assert name_color(ImageColor.getrgb(pil_name)) == expected


def test_three_pil_red_circles_on_a_wide_image(detector):
    image = Image.new("RGB", (336, 112), "white")
    draw = ImageDraw.Draw(image)
    for x in (20, 130, 240):
        draw.ellipse([x, 24, x + 64, 88], fill="red")
    found = detector.detect(image)
    assert [(o["kind"], o["color"]) for o in found] == [("circle", "red")] * 3


def test_scenes_drawn_by_other_hands(detector):
    """120 scenes of 32-1024 px, shapes from 12 px, PIL colours, half anti-aliased."""
    totals = {"objects": 0, "found": 0, "kind": 0, "color": 0, "count": 0}
    for seed in range(120):
        image, truth = scene(seed)
        for key, value in recall(detector.detect(image), truth).items():
            totals[key] += value
    assert totals["found"] >= 0.97 * totals["objects"]
    assert totals["kind"] >= 0.95 * totals["objects"] and totals["color"] >= 0.95 * totals["objects"]
    assert totals["count"] >= 0.95 * 120


def test_synthetic_scenes_without_annotations(detector):
    samples = synthetic.generate("test", 60, seed=1)
    right = sum(sorted((o["kind"], o["color"]) for o in s.annotations["scene"]["objects"])
                == sorted((o["kind"], o["color"]) for o in detector.detect(s.image)) for s in samples)
    assert right >= 0.95 * len(samples)


def test_an_unnameable_shape_makes_claims_not_applicable_never_refuted(detector):
    image = Image.new("RGB", (120, 120), "white")
    draw = ImageDraw.Draw(image)
    draw.ellipse([10, 40, 110, 70], fill="blue")  # an ellipse: no kind the detector names
    draw.rectangle([10, 80, 30, 100], fill="red")
    draw.rectangle([40, 80, 60, 100], fill="red")
    kinds = sorted(str(o["kind"]) for o in detector.detect(image))
    assert kinds == ["None", "square", "square"]
    v = VisionVerifier(ocr="none")
    r = v.verify(image, "How many circles?", "I see 1 blue circle. The answer is 1.", "1")
    assert all(c["score"] is None for c in r.details["perception"].checks if "circle" in c["name"])
    r = v.verify(image, "How many squares?", "I see 2 red squares. The answer is 2.", "2")
    assert r.details["perception"].score == 1.0


def test_absence_is_checked_on_detected_scenes(detector):
    image = Image.new("RGB", (64, 64), "white")
    ImageDraw.Draw(image).ellipse([10, 10, 40, 40], fill="red")
    v = VisionVerifier(ocr="none")
    assert v.verify(image, "q", "There is no gray shape. The answer is no.", "no").details["perception"].score == 1.0
    assert v.verify(image, "q", "There are no circles. The answer is no.", "no").details["perception"].score == 0.0


def test_text_and_photos_are_not_shape_scenes(detector):
    noise = Image.effect_noise((128, 128), 80).convert("RGB")
    assert detector.detect(noise) is None
    page = Image.new("RGB", (300, 200), "white")
    draw = ImageDraw.Draw(page)
    for row in range(8):
        draw.text((10, 10 + 22 * row), "Invoice total due 1990 March", fill="black")
    found = detector.detect(page)
    assert found is None or not any(o["kind"] for o in found)
