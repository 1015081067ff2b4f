"""One scorer for the reward and the held-out score: each row of issue 9's table, as a test.

Each case says what a user expects, not what the code happens to do: the sign of a number
matters, an option letter is an option only when written as one, partial credit is never success.
"""

import pytest

from halo_forge.vlm import metrics
from halo_forge.vlm.answers import extract_answer
from halo_forge.vlm.verifiers import OutputChecker, VisionVerifier


def correct(completion, answers, metric="exact_match", annotations=None):
    checker = OutputChecker(metric)
    return checker.is_correct(checker.check(completion, answers, annotations))


@pytest.mark.parametrize(
    "completion, gold, right",
    [
        ("3", "-3", False),  # the sign is part of the number
        ("-3", "-3", True),
        ("\u22123", "-3", True),  # a typographic minus reads as "-"
        ("-3", "3", False),
        ("There are 3 shapes.", "3", True),  # rewarded and evaluated alike
        ("1,000", "1000", True),  # thousands separators
        ("There are 1,000 people.", "1000", True),
        ("A", "A", True),  # an option letter, not the article "a"
        ("not blue", "blue", False),
        ("The shapes are not blue.", "blue", False),
        ("red or blue", "red", False),
        ("maybe red", "red", False),
        ("yes and no", "yes", False),
        ("no", "no", True),
        ("circles", "circle", True),
        ("grey", "gray", True),
        ("january 2018", "january 2019", False),
        ("The answer isn't clear, maybe red", "red", False),
        ("The answer is", "red", False),  # announced, nothing after it
        ("The answer is red. No wait, the answer is blue.", "blue", True),  # the last stated answer wins
        ("The answer is red. No wait, the answer is blue.", "red", False),
    ],
)
def test_exact_match_rules(completion, gold, right):
    assert correct(completion, [gold]) is right
    assert metrics.exact_match(extract_answer(completion), [gold]) == float(right)  # evaluation agrees


@pytest.mark.parametrize("answer", ["A", "(A)", "a", "A.", "option A", "A)"])
def test_option_letters_map_to_option_text_before_anything_else(answer):
    assert correct(answer, ["cat"], annotations={"choices": ["cat", "dog"]})
    assert not correct(answer, ["dog"], annotations={"choices": ["cat", "dog"]})


def test_an_article_is_never_an_option_letter():
    assert metrics.option_letter("a truck on the road") is None
    assert metrics.option_match("a truck on the road", ["A"]) == 0.0
    assert not correct("a truck on the road", ["A"], "option_match")
    assert metrics.option_match("A", ["A"]) == 1.0 and metrics.option_match("(a)", ["A"]) == 1.0


def test_extraction_needs_a_whole_word_marker():
    assert extract_answer("The answer isn't clear, maybe red") == "The answer isn't clear, maybe red"
    assert extract_answer("The answer is") == ""
    assert extract_answer("The answer is 3. I counted twice.") == "3"
    assert extract_answer("The answer is 3.5") == "3.5"


def test_near_misses_get_partial_credit_only_when_their_numbers_agree():
    checker = OutputChecker()
    near = checker.check("new york citty", ["new york city"])
    assert 0.85 <= near.score < 1.0 and not near.correct
    digits = checker.check("january 2018", ["january 2019"])
    assert digits.score == 0.0 and not digits.correct


@pytest.mark.parametrize("completion", ["The answer is zzzz", "**", "The answer is ."])
def test_mathvista_training_reward_needs_a_named_choice(completion):
    ann = {"question_type": "multi_choice", "answer_type": "text", "choices": ["2", "5"]}
    assert not correct(completion, ["5"], "mathvista", ann)
    r = VisionVerifier(ocr="none", detector="none", output=OutputChecker("mathvista")).verify(
        None, "q", completion, ["5"], ann)
    assert r.reward < 0.5 and not r.success



def test_mathvista_benchmark_keeps_the_official_nearest_choice_quirk():
    ann = {"question_type": "multi_choice", "answer_type": "text", "choices": ["2 cm", "5 cm"]}
    assert metrics.score("mathvista", "5 zz", ["5 cm"], ann) == 1.0  # nearest by edit distance
    assert metrics.reward_score("mathvista", "5 zz", ["5 cm"], ann) == 0.0
    assert not correct("5 zz", ["5 cm"], "mathvista", ann)


@pytest.mark.parametrize("completion, right", [("B", True), ("(B) 5", True), ("The answer is 5", True),
                                                ("5 apples", True), ("2 or 5", False), ("A", False)])
def test_mathvista_training_reward_reads_letters_text_and_real_overlap(completion, right):
    ann = {"question_type": "multi_choice", "answer_type": "text", "choices": ["2", "5"]}
    assert correct(completion, ["5"], "mathvista", ann) is right


@pytest.mark.parametrize("extraction", ["inf", "-inf", "nan", "1e999", "9" * 400, "", "[1, 2]", None])
def test_mathvista_score_never_raises(extraction):
    for answer_type, precision in (("integer", None), ("float", 2), ("float", None)):
        assert metrics.mathvista_score(extraction, "3", "free_form", answer_type, precision) in (0.0, 1.0)


def test_mathvista_list_answers_compare_unstripped_as_officially():
    assert metrics.mathvista_score(" [2014, 2016] ", "[2014, 2016]", "free_form", "list") == 0.0
    assert metrics.mathvista_score("[2014, 2016]", "[2014, 2016]", "free_form", "list") == 1.0


def test_anls_near_miss_earns_benchmark_credit_but_is_no_success():
    assert metrics.score("anls", "March 1, 1991", ["March 1, 1990"]) == pytest.approx(12 / 13)
    assert not correct("March 1, 1991", ["March 1, 1990"], "anls")
    assert correct("march 1 1990", ["March 1, 1990"], "anls")


def test_vqa_success_needs_three_agreeing_annotators():
    two = ["stop"] * 2 + [f"other{i}" for i in range(8)]
    three = ["stop"] * 3 + [f"other{i}" for i in range(7)]
    assert metrics.score("vqa_accuracy", "stop", two) == pytest.approx(0.6)
    assert not correct("stop", two, "vqa_accuracy") and correct("stop", three, "vqa_accuracy")


def test_relaxed_accuracy_success_is_as_defined():
    assert correct("10.4", ["10"], "relaxed_accuracy") and not correct("10.6", ["10"], "relaxed_accuracy")


def test_control_characters_in_a_sample_read_as_spaces():
    """A sampled "to\x1dtop" is the word top after "to" (splitlines() would end a line at \x1d and keep "to")."""
    from halo_forge.vlm.answers import extract_answer

    assert extract_answer("to\x1dtop") == "to top"
    assert extract_answer("The answer is\x1cred.") == "red"
