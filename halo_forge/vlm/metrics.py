"""Answer scoring. Knows nothing of models: a prediction string and the gold answers in, a score out."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .matching import ARTICLES, NUMBER_WORDS, best_match, normalize, option_letter


def exact_match(prediction: str, answers: list[str] | str, choices: list[str] | None = None) -> float:
    """1.0 when the prediction says a gold answer by the rules of `matching` (the same rules the
    training reward uses), else 0.0."""
    answers = [answers] if isinstance(answers, str) else answers
    return best_match(prediction, answers, choices)[0]


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
    words = [NUMBER_WORDS.get(w, w) for w in text.lower().split()]
    words = [w for w in words if w not in ARTICLES]
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
def _mathvista_free_form(extraction, answer_type: str, precision):
    """The free-form branch of `normalize_extracted_answer`; None when unparsable. Catches what
    the official `except:` catches, so "inf", "nan" or "1e999" score 0 instead of raising."""
    try:
        if answer_type == "integer":
            return str(int(float(extraction)))
        if answer_type == "float":
            return str(round(float(extraction), int(precision)))
        if answer_type == "list":
            return str(extraction)
    except (TypeError, ValueError, OverflowError):
        return None
    return extraction


def mathvista_normalize(extraction, question_type: str, answer_type: str, precision=None, choices=None,
                        ignore_empty_extractions: bool = False) -> str | None:
    """`normalize_extracted_answer` of MathVista's `calculate_score.py`, quirks kept: a multiple-choice
    extraction that names no letter becomes the choice nearest to it by edit distance, whatever it is."""
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
    return _mathvista_free_form(extraction, answer_type, precision)


def mathvista_score(extraction, answer, question_type: str, answer_type: str, precision=None, choices=None,
                    ignore_empty_extractions: bool = False) -> float:
    """1.0 when the normalised extraction equals the answer (`safe_equal`: plain `==`, so a list
    answer is compared unstripped, as officially)."""
    normalized = mathvista_normalize(extraction, question_type, answer_type, precision, choices,
                                     ignore_empty_extractions)
    if normalized is None:
        return 0.0
    return float(str(normalized) == str(answer))


def mathvista_choice(extraction: str, choices: list[str]) -> str | None:
    """The choice an extraction names by letter, by its text, or by containing exactly one choice's
    text as whole words; None when it names none (the training reward's reading, without the
    official nearest-choice fallback that turns "zzzz" into an option)."""
    extraction = extraction.strip()
    if not extraction:
        return None
    letter = option_letter(extraction)
    if letter and ord(letter) - ord("A") < len(choices):
        return choices[ord(letter) - ord("A")]
    said = normalize(extraction)
    exact = [c for c in choices if normalize(str(c)) == said]
    if exact:
        return exact[0]
    contained = [c for c in choices if normalize(str(c)) and re.search(rf"(?<!\S){re.escape(normalize(str(c)))}(?!\S)", said)]
    return contained[0] if len(contained) == 1 else None


def mathvista_strict(extraction, answer, question_type: str, answer_type: str, precision=None, choices=None) -> float:
    """MathVista scored for training: as `mathvista_score`, but a multiple-choice extraction must
    name a choice (`mathvista_choice`)."""
    if question_type == "multi_choice":
        chosen = mathvista_choice(str(extraction), list(choices or []))
        return float(chosen is not None and str(chosen) == str(answer))
    return mathvista_score(extraction, answer, question_type, answer_type, precision, choices)


# --- Option letters (RealWorldQA) ---------------------------------------------------------------
def option_match(prediction: str, answers: list[str], choices: list[str] | None = None) -> float:
    """Exact match in which a letter gold answer ("A") needs the prediction to name that option:
    the letter alone or "(A)", "A.", "A)", "option A"; or, when the options are known, its text."""
    return exact_match(prediction, answers, choices)


# --- The metric table ---------------------------------------------------------------------------
Scorer = Callable[[str, list[str], dict], float]


def _vqa_success(prediction: str, answers: list[str], ann: dict) -> bool:
    """At least three annotators gave the answer (VQA's min(1, humans/3) = 1), or the only gold answer."""
    pred = vqa_normalize(prediction)
    gold = [vqa_normalize(a) for a in answers]
    agreeing = sum(g == pred for g in gold)
    return bool(pred) and agreeing >= min(3, len(gold))


def _anls_success(prediction: str, answers: list[str], ann: dict) -> bool:
    """ANLS 1.0 after normalisation: a near miss ("March 1, 1991" for "March 1, 1990") earns ANLS
    credit in the benchmark but is never trained on."""
    pred = normalize(prediction)
    return bool(pred) and any(pred == normalize(a) for a in answers)


def _mathvista(strict: bool) -> Scorer:
    score = mathvista_strict if strict else mathvista_score

    def scorer(p: str, answers: list[str], ann: dict) -> float:
        args = (p, answers[0], ann.get("question_type", "free_form"), ann.get("answer_type", "text"),
                ann.get("precision"), ann.get("choices"))
        return score(*args)

    return scorer


@dataclass(frozen=True)
class Metric:
    """A dataset metric: `score` is the official number `vlm benchmark` reports and held-out
    evaluation averages; `reward_score` ranks answers for training where it must differ from the
    official score; `success` says the answer is fully right (what the keep-set may hold), by
    default a reward score of 1.0."""

    score: Scorer
    reward_score: Scorer | None = None
    success: Callable[[str, list[str], dict], bool] | None = None


_exact: Scorer = lambda p, answers, ann: exact_match(p, answers, ann.get("choices"))
METRICS = {
    "exact_match": Metric(_exact),
    "option_match": Metric(_exact),
    "vqa_accuracy": Metric(lambda p, answers, ann: vqa_accuracy(p, answers), success=_vqa_success),
    "anls": Metric(lambda p, answers, ann: anls(p, answers), success=_anls_success),
    "relaxed_accuracy": Metric(lambda p, answers, ann: relaxed_accuracy(p, answers)),
    "mathvista": Metric(_mathvista(strict=False), reward_score=_mathvista(strict=True)),
}


def score(metric: str, prediction: str, answers: list[str], annotations: dict | None = None) -> float:
    """The named metric's official score of an already extracted prediction."""
    return METRICS[metric].score(prediction, answers, annotations or {})


def judge(metric: str, prediction: str, answers: list[str], annotations: dict | None = None) -> tuple[float, bool]:
    """(the score the training reward ranks by, whether the answer is fully right), computed once."""
    m, annotations = METRICS[metric], annotations or {}
    ranked = (m.reward_score or m.score)(prediction, answers, annotations)
    return ranked, (m.success(prediction, answers, annotations) if m.success else ranked >= 1.0)


def reward_score(metric: str, prediction: str, answers: list[str], annotations: dict | None = None) -> float:
    """The score the training reward ranks by (the official one, except where noted in METRICS)."""
    return judge(metric, prediction, answers, annotations)[0]


def is_success(metric: str, prediction: str, answers: list[str], annotations: dict | None = None) -> bool:
    """Whether the metric scores the prediction as fully right."""
    return judge(metric, prediction, answers, annotations)[1]
