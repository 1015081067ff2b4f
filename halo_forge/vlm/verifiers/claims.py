"""Visual claims a completion makes, read off its text with word boundaries.

Only what the text plainly asserts becomes a claim: "3 red circles" claims a count of red circles
and a colour, "2 red circles on the left" a count of red circles in the left half;
"category" is not a cat and "written in 2019 sales" is not a count of 2019 sales, because nouns
must be whole words from the vocabulary and a count must be followed by one. Negated mentions
("no dog", "there is no gray shape", "does not contain a circle") are claims of absence, checked
as such, never claims of presence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..vocabulary import COLOR_ALIASES, SHAPES
from ..vocabulary import COLORS as VOCABULARY_COLORS

NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "a single": 1, "a pair of": 2,
}
COLORS = tuple(VOCABULARY_COLORS) + tuple(COLOR_ALIASES)
GENERIC = ("shape", "object", "item", "thing")
# COCO's classes: the detector vocabulary users' YOLO weights speak.
COCO = (
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat", "traffic light",
    "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog", "horse", "sheep", "cow",
    "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella", "handbag", "tie", "suitcase", "frisbee",
    "skis", "snowboard", "sports ball", "kite", "baseball bat", "baseball glove", "skateboard", "surfboard",
    "tennis racket", "bottle", "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple",
    "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch",
    "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard",
    "cell phone", "microwave", "oven", "toaster", "sink", "refrigerator", "book", "clock", "vase", "scissors",
    "teddy bear", "hair drier", "toothbrush",
)
RELATIONS = {"left of": "left of", "right of": "right of", "above": "above", "below": "below",
             "under": "below", "beneath": "below", "next to": "next to", "beside": "next to"}

_NOUNS = sorted(set(SHAPES + GENERIC + tuple(c for c in COCO if c != "orange")), key=len, reverse=True)
_NOUN = "(" + "|".join(re.escape(n) for n in _NOUNS) + r")(?:e?s)?"
_COLOR = "(" + "|".join(COLORS) + ")"
_NUMBER = r"(\d+|" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True)) + ")"
_NEGATION = r"(?:no|not|without|never|isn't|aren't|not\s+(?:contain|have|include|show)|n't\s+(?:contain|have|include|show))"

_SIDE = r"(?:on|at|in|to(?:wards)?)\s+the\s+(left|right|top|bottom)\b"

COUNT = re.compile(rf"\b{_NUMBER}\s+(?:{_COLOR}\s+)?{_NOUN}\b(?:\s+{_SIDE})?", re.IGNORECASE)
COLOR_NOUN = re.compile(rf"\b{_COLOR}\s+{_NOUN}\b", re.IGNORECASE)
NOUN_IS_COLOR = re.compile(rf"\b{_NOUN}\s+(?:is|are)\s+(?:all\s+|both\s+)?{_COLOR}\b", re.IGNORECASE)
OBJECT = re.compile(rf"\b{_NOUN}\b", re.IGNORECASE)
SIDE = re.compile(rf"\b{_SIDE}", re.IGNORECASE)
RELATION = re.compile(
    rf"\b{_NOUN}\s+(?:is|are)\s+(?:to\s+the\s+)?(left of|right of|above|below|under|beneath|next to|beside)"
    rf"\s+(?:the\s+|a\s+|an\s+)?{_NOUN}\b",
    re.IGNORECASE,
)
ABSENT = re.compile(rf"\b{_NEGATION}\s+(?:a\s+|an\s+|any\s+)?(?:{_COLOR}\s+)?{_NOUN}\b", re.IGNORECASE)
TEXT = re.compile(r"(?:\"([^\"]{1,60})\"|\b(?:says|reads|written|the word|the words|the text)\s*:?\s*'([^']{1,60})')",
                  re.IGNORECASE)


@dataclass(frozen=True)
class Claim:
    kind: str  # object | count | color | side | relation | text | absent
    subject: str  # a singular noun ("circle", "shape", "dog") or "" for scene-wide claims
    value: str  # "3", "red", "left", "left of:dog", "stop"; for absent, the colour or ""
    span: str  # the words that made the claim
    color: str = ""  # a count's qualifiers: only objects of this colour ...
    side: str = ""  # ... in this half of the image are counted

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        """What the claim asserts, without the words that made it: equal keys are one claim."""
        return self.kind, self.subject, self.value, self.color, self.side


def _noun(word: str) -> str:
    """Singular form of a vocabulary noun as matched ("circles" -> "circle", "boxes" -> "box")."""
    word = word.lower()
    return word if word in _NOUNS else next((n for n in _NOUNS if word.startswith(n)), word)


def _color(word: str | None) -> str:
    word = (word or "").lower()
    return COLOR_ALIASES.get(word, word)


def _number(word: str) -> int:
    word = word.lower()
    return int(word) if word.isdigit() else NUMBER_WORDS[word]


def extract_claims(text: str) -> list[Claim]:
    """Every distinct claim in `text`, in order; a claim repeated counts once."""
    claims: dict[tuple, Claim] = {}

    def add(kind, subject, value, span, color="", side=""):
        claim = Claim(kind, subject, value, span, color, side)
        claims.setdefault(claim.key, claim)

    absences = list(ABSENT.finditer(text))
    for m in absences:
        add("absent", _noun(m.group(2)), _color(m.group(1)), m.group(0))

    def negated(m) -> bool:
        """Whether a mention lies inside a claim of absence ("no red circle"): not a claim of presence."""
        return any(a.start() <= m.start() < a.end() for a in absences)

    counted = []  # "on the left" that qualifies a count is not a claim about the whole scene
    for m in COUNT.finditer(text):
        noun = _noun(m.group(3))
        add("count", noun, str(_number(m.group(1))), m.group(0), color=_color(m.group(2)), side=(m.group(4) or "").lower())
        if m.group(4):
            counted.append(m.span(4))
        if m.group(2):
            add("color", noun, _color(m.group(2)), m.group(0))
    for m in COLOR_NOUN.finditer(text):
        if not negated(m):
            add("color", _noun(m.group(2)), _color(m.group(1)), m.group(0))
    for m in NOUN_IS_COLOR.finditer(text):
        add("color", _noun(m.group(1)), _color(m.group(2)), m.group(0))
    for m in OBJECT.finditer(text):
        noun = _noun(m.group(1))
        if noun not in GENERIC and not negated(m):
            add("object", noun, "present", m.group(0))
    for m in SIDE.finditer(text):
        if m.span(1) not in counted:
            add("side", "", m.group(1).lower(), m.group(0))
    for m in RELATION.finditer(text):
        add("relation", _noun(m.group(1)), f"{RELATIONS[m.group(2).lower()]}:{_noun(m.group(3))}", m.group(0))
    for m in TEXT.finditer(text):
        add("text", "", (m.group(1) or m.group(2)).strip().lower(), m.group(0))
    return list(claims.values())
