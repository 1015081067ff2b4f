from halo_forge.vlm.data import synthetic
from halo_forge.vlm.data.registry import get_spec, load_samples
from halo_forge.errors import HaloForgeError
import pytest


def test_same_seed_same_samples_and_splits_disjoint():
    a, b = synthetic.generate("train", 50, seed=3), synthetic.generate("train", 50, seed=3)
    assert [(s.question, s.answers, s.annotations) for s in a] == [(s.question, s.answers, s.annotations) for s in b]
    assert list(a[0].image.getdata()) == list(b[0].image.getdata())
    val = synthetic.generate("validation", 50, seed=3)
    assert [s.annotations for s in a] != [s.annotations for s in val]


def test_answers_agree_with_the_scene():
    for s in synthetic.generate("train", 300):
        scene, qtype = s.annotations["scene"], s.annotations["question_type"]
        objects = scene["objects"]
        expected = {
            "color": objects[0]["color"], "count": str(len(objects)), "kind": objects[0]["kind"],
            "horizontal": scene["side"], "vertical": scene["side"],
        }[qtype]
        assert s.answers == [expected]
        assert s.question == synthetic.QUESTIONS[qtype]


def test_shapes_lie_in_the_named_half_without_overlap():
    half = synthetic.IMAGE_SIZE // 2
    for s in synthetic.generate("train", 300):
        scene = s.annotations["scene"]
        boxes = [o["box"] for o in scene["objects"]]
        for x0, y0, x1, y1 in boxes:
            assert 0 <= x0 < x1 <= synthetic.IMAGE_SIZE and 0 <= y0 < y1 <= synthetic.IMAGE_SIZE
            inside = {"left": x1 <= half, "right": x0 >= half, "top": y1 <= half, "bottom": y0 >= half}
            assert inside[scene["side"]]
        for i, a in enumerate(boxes):
            for b in boxes[i + 1 :]:
                assert a[2] < b[0] or b[2] < a[0] or a[3] < b[1] or b[3] < a[1]


def test_pixels_show_the_colour_of_the_scene():
    for s in synthetic.generate("test", 40):
        obj = s.annotations["scene"]["objects"][0]
        x0, y0, x1, y1 = obj["box"]
        assert s.image.getpixel(((x0 + x1) // 2, (y0 + 3 * y1) // 4)) == synthetic.COLORS[obj["color"]]


def test_registry_knows_synthetic_and_suggests_close_names():
    assert get_spec("synthetic").metric == "exact_match"
    with pytest.raises(HaloForgeError, match="Did you mean: synthetic"):
        get_spec("synthetc")
    with pytest.raises(HaloForgeError, match="no split 'dev'"):
        load_samples("synthetic", "dev")
    assert len(load_samples("synthetic", "validation", limit=7)) == 7


def test_splits_share_no_image():
    from halo_forge.vlm.data.images import content_key

    keys = {split: {content_key(s.image) for s in synthetic.generate(split)} for split in ("train", "validation", "test")}
    assert len(synthetic.generate("train")) == synthetic.SPLIT_SIZES["train"]
    assert not keys["train"] & keys["validation"] and not keys["train"] & keys["test"]
    assert not keys["validation"] & keys["test"]
