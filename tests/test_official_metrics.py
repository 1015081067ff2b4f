"""The official metrics on worked examples, quirks included."""

import pytest

from halo_forge.vlm.metrics import (
    anls, mathvista_score, option_letter, option_match, relaxed_accuracy, score, vqa_accuracy, vqa_normalize,
)


def ten(answer, matches, other="other"):
    return [answer] * matches + [f"{other}{i}" for i in range(10 - matches)]


@pytest.mark.parametrize("matches, expected", [(0, 0.0), (1, 0.3), (2, 0.6), (3, 0.9), (4, 1.0), (10, 1.0)])
def test_vqa_accuracy_leave_one_out(matches, expected):
    assert vqa_accuracy("stop", ten("stop", matches)) == pytest.approx(expected)


def test_vqa_normalisation():
    assert vqa_normalize("Two") == "2"
    assert vqa_normalize("The Stop.") == "stop"
    assert vqa_normalize("dont") == "don't"
    assert vqa_normalize("1,000") == "1000"
    assert vqa_normalize("3.5") == "3.5"
    assert vqa_normalize("yes!") == "yes"
    assert vqa_accuracy("A stop sign.", ten("stop sign", 3)) == pytest.approx(0.9)
    assert vqa_accuracy("Three", ["3"]) == 1.0  # a single gold answer: normalised equality


def test_anls():
    assert anls("helo", ["hello"]) == pytest.approx(0.8)
    assert anls("Hello", ["hello"]) == 1.0
    assert anls("xyz", ["abc"]) == 0.0  # below the 0.5 threshold
    assert anls("  hello   world ", ["hello world"]) == 1.0
    assert anls("hellx", ["nope", "hello"]) == pytest.approx(0.8)  # best over the answers


def test_relaxed_accuracy():
    assert relaxed_accuracy("10.4", ["10"]) == 1.0
    assert relaxed_accuracy("10.6", ["10"]) == 0.0
    assert relaxed_accuracy("5%", "0.05") == 1.0
    assert relaxed_accuracy(" Yes ", ["yes"]) == 1.0
    assert relaxed_accuracy("0", ["0"]) == 1.0
    assert relaxed_accuracy("0.0", ["0"]) == 0.0  # pix2struct quirk: a zero target is compared as text
    assert relaxed_accuracy("12", ["a", "12.3"]) == 1.0


def test_mathvista_score():
    choices = ["3", "4", "5"]
    assert mathvista_score("B", "4", "multi_choice", "text", choices=choices) == 1.0
    assert mathvista_score("(C) five", "5", "multi_choice", "text", choices=choices) == 1.0
    assert mathvista_score("4.0", "4", "multi_choice", "text", choices=choices) == 1.0  # nearest option
    assert mathvista_score("3.0", "3", "free_form", "integer") == 1.0
    assert mathvista_score("1.456", "1.46", "free_form", "float", precision=2) == 1.0
    assert mathvista_score("1.4", "1.46", "free_form", "float", precision=2) == 0.0
    assert mathvista_score("abc", "3", "free_form", "integer") == 0.0
    assert mathvista_score("[1, 2]", "[1, 2]", "free_form", "list") == 1.0


def test_option_letters():
    assert option_letter("B") == "B"
    assert option_letter("(c) the red car") == "C"
    assert option_letter("B. left") == "B"
    assert option_letter("Because") is None
    assert option_match("(B)", ["B"]) == 1.0
    assert option_match("blue", ["blue"]) == 1.0
    assert option_match("Because it is", ["B"]) == 0.0


def test_score_dispatches_by_name():
    ann = {"question_type": "free_form", "answer_type": "integer"}
    assert score("mathvista", "7.0", ["7"], ann) == 1.0
    assert score("anls", "helo", ["hello"]) == pytest.approx(0.8)
