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


# -- the reasoning task ---------------------------------------------------------------------------

def _answer_from_pixels_truth(sample):
    """The answer recomputed from the scene's object list (not its groups), by where each object lies."""
    from halo_forge.vlm.data import reasoning

    objects, q = sample.annotations["scene"]["objects"], sample.question
    side = {o["color"]: ("left" if (o["box"][0] + o["box"][2]) / 2 < reasoning.IMAGE_SIZE / 2 else "right") for o in objects}
    words = q.rstrip("?").split()
    if q == reasoning.QUESTIONS["total"]:
        return str(len(objects))
    if q == reasoning.QUESTIONS["more"]:
        left = sum(side[o["color"]] == "left" for o in objects)
        return "left" if left > len(objects) - left else "right"
    if q.startswith("What color are the"):
        return next(o["color"] for o in objects if words[-1] == o["kind"] + "s")
    color = next(w for w in words if w in synthetic.COLORS)
    if q.startswith("How many"):
        return str(sum(o["color"] == color for o in objects))
    return side[color]


def test_reasoning_questions_need_two_facts_and_have_the_right_answers():
    from halo_forge.vlm.data import reasoning

    samples = reasoning.generate("train", 300)
    assert {s.annotations["question_type"] for s in samples} == set(reasoning.QUESTIONS)
    for s in samples:
        groups = s.annotations["scene"]["groups"]
        assert len({g["color"] for g in groups}) == 2 and len({g["kind"] for g in groups}) == 2
        assert s.answers == [_answer_from_pixels_truth(s)], s.question


def test_training_rows_carry_answers_only_and_demonstrations_carry_worked_answers():
    from halo_forge.vlm.data import reasoning
    from halo_forge.vlm.verifiers import VisionVerifier

    train = load_samples("synthetic-reasoning", limit=50)
    assert all(s.demonstration is None and s.target == s.answer for s in train)
    demos = load_samples("synthetic-reasoning", "demonstrations")
    assert len(demos) == reasoning.SPLIT_SIZES["demonstrations"]
    assert all(s.target.endswith(f"The answer is {s.answer}.") for s in demos)
    verifier = VisionVerifier(ocr="none")
    results = verifier.verify_batch(demos[:40], [[s.target] for s in demos[:40]])
    for s, [r] in zip(demos, results):  # every claim of a worked answer is true of its scene
        assert r.success and all(c["score"] == 1.0 for c in r.details["perception"].checks), s.target


def test_reasoning_splits_share_no_image():
    from halo_forge.vlm.data import reasoning
    from halo_forge.vlm.data.images import content_key

    keys = {split: {content_key(s.image) for s in reasoning.generate(split)} for split in reasoning.SPLIT_SIZES}
    for a, b in (("train", "validation"), ("train", "test"), ("train", "demonstrations"),
                 ("demonstrations", "validation"), ("demonstrations", "test"), ("validation", "test")):
        assert not keys[a] & keys[b], (a, b)
