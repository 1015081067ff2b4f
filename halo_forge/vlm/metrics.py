"""Answer scoring. Knows nothing of models: a prediction string and the gold answers in, a score out."""

from __future__ import annotations

import re

_NUMBER_WORDS = {
    "none": "0", "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
    "six": "6", "seven": "7", "eight": "8", "nine": "9", "ten": "10",
}
_ARTICLES = {"a", "an", "the"}
# Any symbol but a decimal point between digits.
_PUNCTUATION = re.compile(r"(?!(?<=\d)\.(?=\d))[^\w\s]|_")


def normalize(text: str) -> str:
    """Lower case, punctuation dropped (a decimal point kept), number words as digits, no articles."""
    text = _PUNCTUATION.sub(" ", text.lower())
    words = [_NUMBER_WORDS.get(w, w) for w in text.split()]
    return " ".join(w for w in words if w not in _ARTICLES)


def exact_match(prediction: str, answers: list[str] | str) -> float:
    """1.0 when the normalised prediction equals any normalised gold answer."""
    answers = [answers] if isinstance(answers, str) else answers
    pred = normalize(prediction)
    return float(bool(pred) and any(pred == normalize(a) for a in answers))


def _exact(prediction: str, answers: list[str], annotations: dict) -> float:
    return exact_match(prediction, answers)


# Each dataset names its official metric here; all take (extracted prediction, answers, annotations).
METRICS = {"exact_match": _exact}


def score(metric: str, prediction: str, answers: list[str], annotations: dict | None = None) -> float:
    """The named metric of an already extracted prediction."""
    return METRICS[metric](prediction, answers, annotations or {})
