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


# --- VQA accuracy (TextVQA) --------------------------------------------------------------------
# Answer processing of EvalAI / MMF `EvalAIAnswerProcessor` (mmf/datasets/processors/processors.py),
# itself from the VQA challenge's `vqaEval.py` (GT-Vision-Lab). Quirks kept: the period regex's
# `(?!<=\d)` typo (a negative lookahead, not the intended lookbehind), `re.UNICODE` passed as the
# count of `sub`, capitalised contraction keys that never match lower-cased text, and
# "somebody'd" mapped to "somebodyd".
_VQA_CONTRACTIONS = {
    "aint": "ain't", "arent": "aren't", "cant": "can't", "couldve": "could've", "couldnt": "couldn't",
    "couldn'tve": "couldn't've", "couldnt've": "couldn't've", "didnt": "didn't", "doesnt": "doesn't",
    "dont": "don't", "hadnt": "hadn't", "hadnt've": "hadn't've", "hadn'tve": "hadn't've", "hasnt": "hasn't",
    "havent": "haven't", "hed": "he'd", "hed've": "he'd've", "he'dve": "he'd've", "hes": "he's",
    "howd": "how'd", "howll": "how'll", "hows": "how's", "Id've": "I'd've", "I'dve": "I'd've", "Im": "I'm",
    "Ive": "I've", "isnt": "isn't", "itd": "it'd", "itd've": "it'd've", "it'dve": "it'd've", "itll": "it'll",
    "let's": "let's", "maam": "ma'am", "mightnt": "mightn't", "mightnt've": "mightn't've",
    "mightn'tve": "mightn't've", "mightve": "might've", "mustnt": "mustn't", "mustve": "must've",
    "neednt": "needn't", "notve": "not've", "oclock": "o'clock", "oughtnt": "oughtn't",
    "ow's'at": "'ow's'at", "'ows'at": "'ow's'at", "'ow'sat": "'ow's'at", "shant": "shan't",
    "shed've": "she'd've", "she'dve": "she'd've", "she's": "she's", "shouldve": "should've",
    "shouldnt": "shouldn't", "shouldnt've": "shouldn't've", "shouldn'tve": "shouldn't've",
    "somebody'd": "somebodyd", "somebodyd've": "somebody'd've", "somebody'dve": "somebody'd've",
    "somebodyll": "somebody'll", "somebodys": "somebody's", "someoned": "someone'd",
    "someoned've": "someone'd've", "someone'dve": "someone'd've", "someonell": "someone'll",
    "someones": "someone's", "somethingd": "something'd", "somethingd've": "something'd've",
    "something'dve": "something'd've", "somethingll": "something'll", "thats": "that's", "thered": "there'd",
    "thered've": "there'd've", "there'dve": "there'd've", "therere": "there're", "theres": "there's",
    "theyd": "they'd", "theyd've": "they'd've", "they'dve": "they'd've", "theyll": "they'll",
    "theyre": "they're", "theyve": "they've", "twas": "'twas", "wasnt": "wasn't", "wed've": "we'd've",
    "we'dve": "we'd've", "weve": "we've", "werent": "weren't", "whatll": "what'll", "whatre": "what're",
    "whats": "what's", "whatve": "what've", "whens": "when's", "whered": "where'd", "wheres": "where's",
    "whereve": "where've", "whod": "who'd", "whod've": "who'd've", "who'dve": "who'd've", "wholl": "who'll",
    "whos": "who's", "whove": "who've", "whyll": "why'll", "whyre": "why're", "whys": "why's",
    "wont": "won't", "wouldve": "would've", "wouldnt": "wouldn't", "wouldnt've": "wouldn't've",
    "wouldn'tve": "wouldn't've", "yall": "y'all", "yall'll": "y'all'll", "y'allll": "y'all'll",
    "yall'd've": "y'all'd've", "y'alld've": "y'all'd've", "y'all'dve": "y'all'd've", "youd": "you'd",
    "youd've": "you'd've", "you'dve": "you'd've", "youll": "you'll", "youre": "you're", "youve": "you've",
}
_VQA_PUNCTUATION = [";", "/", "[", "]", '"', "{", "}", "(", ")", "=", "+", "\\", "_", "-", ">", "<", "@", "`", ",", "?", "!"]
_VQA_PERIOD_STRIP = re.compile(r"(?!<=\d)(\.)(?!\d)")
_VQA_COMMA_STRIP = re.compile(r"(\d)(\,)(\d)")


def _vqa_punctuation(text: str) -> str:
    out = text
    for p in _VQA_PUNCTUATION:
        if (p + " " in text or " " + p in text) or _VQA_COMMA_STRIP.search(text) is not None:
            out = out.replace(p, "")
        else:
            out = out.replace(p, " ")
    return _VQA_PERIOD_STRIP.sub("", out, re.UNICODE)


def _vqa_digits_articles(text: str) -> str:
    words = [_NUMBER_WORDS.get(w, w) for w in text.lower().split()]
    words = [w for w in words if w not in _ARTICLES]
    return " ".join(_VQA_CONTRACTIONS.get(w, w) for w in words)


def vqa_normalize(answer: str) -> str:
    """EvalAI's answer processing: tokenise, punctuation, number words, articles, contractions."""
    answer = answer.lower().replace(",", "").replace("?", "").replace("'s", " 's").strip()
    answer = answer.replace("\n", " ").replace("\t", " ").strip()
    return _vqa_digits_articles(_vqa_punctuation(answer))


def vqa_accuracy(prediction: str, answers: list[str]) -> float:
    """TextVQA / VQA accuracy: the mean over the gold answers of min(1, matches among the others / 3).

    Follows MMF's `TextVQAAccuracyEvaluator` (mmf/utils/m4c_evaluators.py), which normalises the
    prediction and every answer. With a single gold answer the leave-one-out formula is undefined
    (it would score everything 0), so one answer is scored by normalised equality.
    """
    gold = [vqa_normalize(a) for a in answers]
    pred = vqa_normalize(prediction)
    if len(gold) == 1:
        return float(pred == gold[0])
    if not gold:
        return 0.0
    accs = [min(1.0, sum(1 for j, other in enumerate(gold) if j != i and other == pred) / 3) for i in range(len(gold))]
    return sum(accs) / len(accs)


# --- ANLS (DocVQA) ------------------------------------------------------------------------------
def anls(prediction: str, answers: list[str], threshold: float = 0.5) -> float:
    """Average Normalised Levenshtein Similarity of the DocVQA RRC evaluation script.

    Both strings are lower-cased with spaces collapsed for the distance, but the distance is divided
    by the longer *raw* length, as in the official script; below `threshold` the score is 0.
    """
    from rapidfuzz.distance import Levenshtein

    best = 0.0
    det = " ".join(prediction.strip().lower().split())
    for answer in answers:
        gt = " ".join(answer.strip().lower().split())
        length = max(len(answer.upper()), len(prediction.upper()))
        nl = Levenshtein.distance(gt, det) / length if length else 0.0
        best = max(best, 1 - nl)
    return best if best >= threshold else 0.0


# --- Relaxed accuracy (ChartQA) -----------------------------------------------------------------
def _to_float(text: str) -> float | None:
    """pix2struct's `_to_float`: a trailing % divides by 100."""
    try:
        return float(text.rstrip("%")) / 100.0 if text.endswith("%") else float(text)
    except ValueError:
        return None


def relaxed_accuracy(prediction: str, answers: list[str] | str, tolerance: float = 0.05) -> float:
    """ChartQA relaxed accuracy, pix2struct `relaxed_correctness`: numbers within `tolerance` of the
    gold (relative), anything else case-insensitive equality; the best over the gold answers.
    Quirk kept: a gold value of 0 is falsy there, so it is compared as a string."""
    answers = [answers] if isinstance(answers, str) else answers
    prediction = prediction.strip()
    pred_float = _to_float(prediction)
    for target in answers:
        target_float = _to_float(target)
        if pred_float is not None and target_float:
            if abs(pred_float - target_float) / abs(target_float) <= tolerance:
                return 1.0
        elif prediction.lower() == target.lower():
            return 1.0
    return 0.0


# --- MathVista ----------------------------------------------------------------------------------
def mathvista_normalize(extraction, question_type: str, answer_type: str, precision=None, choices=None,
                        ignore_empty_extractions: bool = False) -> str | None:
    """`normalize_extracted_answer` of MathVista's `calculate_score.py`."""
    from rapidfuzz.distance import Levenshtein

    if question_type == "multi_choice":
        extraction = extraction.strip() if isinstance(extraction, str) else str(extraction)
        if ignore_empty_extractions and not extraction:
            return None
        letter = re.findall(r"\(([a-zA-Z])\)", extraction)
        if letter:
            extraction = letter[0].upper()
        letters = [chr(ord("A") + i) for i in range(len(choices or []))]
        if extraction in letters:
            return choices[letters.index(extraction)]
        if not choices:
            return None
        distances = [Levenshtein.distance(extraction, c) for c in choices]
        return choices[distances.index(min(distances))]
    try:
        if answer_type == "integer":
            return str(int(float(extraction)))
        if answer_type == "float":
            return str(round(float(extraction), int(precision)))
        if answer_type == "list":
            return str(extraction)
    except (TypeError, ValueError):
        return None
    return None


def mathvista_score(extraction, answer, question_type: str, answer_type: str, precision=None, choices=None,
                    ignore_empty_extractions: bool = False) -> float:
    """1.0 when the normalised extraction equals the answer as stripped strings (`safe_equal`)."""
    normalized = mathvista_normalize(extraction, question_type, answer_type, precision, choices,
                                     ignore_empty_extractions)
    if normalized is None:
        return 0.0
    return float(str(normalized).strip() == str(answer).strip())


# --- Option letters (RealWorldQA) ---------------------------------------------------------------
_OPTION = re.compile(r"^\(?([A-Ea-e])[\).:]?(?:\s|$)")


def option_letter(prediction: str) -> str | None:
    """The option letter a prediction names: "B", "(B)", "B.", "B) the red car"."""
    match = _OPTION.match(prediction.strip())
    return match.group(1).upper() if match else None


def option_match(prediction: str, answers: list[str]) -> float:
    """Exact match, where a single-letter gold answer is compared with the predicted option letter."""
    for answer in answers:
        if re.fullmatch(r"[A-Ea-e]", answer.strip()):
            if option_letter(prediction) == answer.strip().upper():
                return 1.0
        elif exact_match(prediction, [answer]):
            return 1.0
    return 0.0


# Each dataset names its official metric here; all take (extracted prediction, answers, annotations).
METRICS = {
    "exact_match": lambda p, answers, ann: exact_match(p, answers),
    "vqa_accuracy": lambda p, answers, ann: vqa_accuracy(p, answers),
    "anls": lambda p, answers, ann: anls(p, answers),
    "relaxed_accuracy": lambda p, answers, ann: relaxed_accuracy(p, answers),
    "option_match": lambda p, answers, ann: option_match(p, answers),
    "mathvista": lambda p, answers, ann: mathvista_score(
        p, answers[0], ann.get("question_type", "free_form"), ann.get("answer_type", "text"),
        ann.get("precision"), ann.get("choices"),
    ),
}


def score(metric: str, prediction: str, answers: list[str], annotations: dict | None = None) -> float:
    """The named metric of an already extracted prediction."""
    return METRICS[metric](prediction, answers, annotations or {})
