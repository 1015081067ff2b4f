"""Does a short answer say the gold answer? The one rule set behind exact match and option letters,
used alike by the training reward's output stage and by held-out evaluation.

Rules, in order: option letters become their option's text (a letter counts only alone or as
"(B)", "B.", "B)", "option B", never as the article "a" opening a sentence); the texts are
normalised (case, punctuation, articles, number words, thousands separators; a minus sign is
kept); equal texts match; a numeric gold answer needs exactly one number in the answer, equal to
it; a gold answer from a closed class (yes/no, colours, directions, shapes) needs exactly that
member and no other, with no negation ("not blue") or hedge ("maybe", "red or blue"). Anything
else is free-form text, which only exact equality passes here; the verifier may give near misses
partial credit, never a pass.
"""

from __future__ import annotations

import math
import re

from .vocabulary import COLOR_ALIASES, COLORS, SHAPES, SIDES

NUMBER_WORDS = {
    "none": "0", "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
    "six": "6", "seven": "7", "eight": "8", "nine": "9", "ten": "10",
}
ARTICLES = {"a", "an", "the"}
CLOSED_CLASSES = (
    frozenset({"yes", "no"}),
    frozenset(COLORS),
    frozenset(SIDES) | {"above", "below"},
    frozenset(SHAPES),
)
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
# Any symbol but a decimal point between digits or a minus sign opening a number.
_PUNCTUATION = re.compile(r"(?!(?<=\d)\.(?=\d))(?!(?<![\w.])-(?=\d))[^\w\s]|_")
NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w])")
NEGATION = re.compile(r"\b(?:not|never|neither|nor|cannot|no longer)\b|n[’']t\b", re.IGNORECASE)
HEDGE = re.compile(
    r"\b(?:or|maybe|perhaps|probably|possibly|might|unsure|unclear|uncertain|either|guess|not sure)\b", re.IGNORECASE
)
_LETTER_ALONE = re.compile(r"^\s*(?:\(([a-z])\)|option\s+\(?([a-z])\)?|([a-z])[.):]?)\s*$", re.IGNORECASE)
_LETTER_FIRST = re.compile(r"^\s*(?:\(([a-z])\)|([A-Z])[.):])\s+\S", re.IGNORECASE)


def normalize(text: str) -> str:
    """Lower case, thousands separators and punctuation dropped (a decimal point and a leading minus
    kept, "−" read as "-"), number words as digits, no articles, "grey" as "gray"."""
    text = _THOUSANDS.sub("", text.replace("\u2212", "-").lower())
    text = _PUNCTUATION.sub(" ", text)
    words = [COLOR_ALIASES.get(w, NUMBER_WORDS.get(w, w)) for w in text.split()]
    return " ".join(w for w in words if w not in ARTICLES)


def numbers(text: str) -> set[float]:
    """The distinct numbers of a normalised text, signs included."""
    return {float(n) for n in NUMBER.findall(text)}


def option_letter(text: str) -> str | None:
    """The option letter an answer names: "B", "b", "(B)", "B.", "B)", "option B", "(c) the red car",
    "B. left". Never the article of "a truck on the road"."""
    match = _LETTER_ALONE.match(text)
    if match:
        return next(g for g in match.groups() if g).upper()
    match = _LETTER_FIRST.match(text)
    if match and (match.group(1) or match.group(2).isupper()):
        return (match.group(1) or match.group(2)).upper()
    return None


def option_text(answer: str, choices: list[str]) -> str:
    """An option letter as its option's text; anything else unchanged."""
    letter = option_letter(answer)
    if letter and ord(letter) - ord("A") < len(choices):
        return str(choices[ord(letter) - ord("A")])
    return answer


def _class_words(text: str, members: frozenset[str]) -> set[str]:
    """The members of a closed class a normalised text names, plurals read as singulars."""
    said = set()
    for word in text.split():
        for form in (word, word[:-1] if word.endswith("s") else None, word[:-2] if word.endswith("es") else None):
            if form in members:
                said.add(form)
                break
    return said


def match(prediction: str, gold: str, choices: list[str] | None = None) -> tuple[float, str]:
    """(1.0 or 0.0, the rule that decided) for one gold answer."""
    choices = list(choices or [])
    if choices:
        prediction, gold = option_text(prediction, choices), option_text(gold, choices)
    elif re.fullmatch(r"\s*[A-Za-z]\s*", gold):  # an option letter whose options the sample does not list
        return float(option_letter(prediction) == gold.strip().upper()), "option letter"
    pred, want = normalize(prediction), normalize(gold)
    if not pred:
        return 0.0, "empty"
    if pred == want:
        return 1.0, "exact"
    hedged = HEDGE.search(prediction) is not None
    if want and NUMBER.fullmatch(want):
        said = numbers(pred)
        right = (len(said) == 1 and math.isclose(said.pop(), float(want), rel_tol=1e-9, abs_tol=1e-9)
                 and not hedged and not NEGATION.search(prediction))
        return float(right), "numeric"
    for members in CLOSED_CLASSES:
        if want in members:
            negated = (re.search(r"\bnot\s+(?:yes|no)\b", pred) if want in ("yes", "no")
                       else NEGATION.search(prediction) or re.search(r"\bno\b", pred))
            right = _class_words(pred, members) == {want} and not hedged and not negated
            return float(right), "closed class"
    return 0.0, "no match"


def best_match(prediction: str, answers: list[str], choices: list[str] | None = None) -> tuple[float, str]:
    """The best (score, rule) over the gold answers."""
    return max((match(prediction, a, choices) for a in answers), key=lambda r: r[0], default=(0.0, "no gold answer"))
