import pytest

from halo_forge.vlm.answers import extract_answer
from halo_forge.vlm.metrics import exact_match, normalize


@pytest.mark.parametrize(
    "completion, expected",
    [
        ("red", "red"),
        ("The answer is 3.5.", "3.5"),
        ("Looking at the image...\nAnswer: New York City", "New York City"),
        ("**blue**", "blue"),
        ("I think so. The final answer is: left", "left"),
        ("", ""),
        ("  \n ", ""),
    ],
)
def test_extract_answer(completion, expected):
    assert extract_answer(completion) == expected


def test_normalize_keeps_decimals_and_maps_number_words():
    assert normalize("Three") == "3"
    assert normalize("3.5") == "3.5"
    assert normalize("The Red-Car.") == "red car"


def test_exact_match():
    assert exact_match("Three", ["3"]) == 1.0
    assert exact_match("blue", ["red"]) == 0.0
    assert exact_match("", [""]) == 0.0  # an empty prediction is never right
    assert exact_match("3.5", "35") == 0.0
