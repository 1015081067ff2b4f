"""Getting the final answer out of a free-form completion, before any metric sees it.

A short chain of small filters, as in lm-evaluation-harness: take what follows the last
"answer is" / "Answer:" marker (the last stated answer wins) up to the end of its sentence, else
the last non-empty line; then drop wrapping quotes, markdown emphasis and trailing punctuation.
The marker needs whole words, so "The answer isn't clear" announces nothing, and "The answer is"
with nothing after it gives an empty answer. Multi-word answers stay whole, "3.5" stays 3.5.
"""

from __future__ import annotations

import re

_MARKER = re.compile(r"\b(?:final answer|the answer|answer)\s*(?:is(?![\w'’])\s*:?|:)\s*", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?](?=\s)")
_WRAPPING = " \t\n\"'`*_"
# Control characters a sampled completion may hold; some (\x1c-\x1e) would end a line for splitlines().
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def split_final(text: str) -> tuple[str, str]:
    """(what comes before the final answer, the final answer's text); control characters read as spaces."""
    text = _CONTROL.sub(" ", text).strip()
    matches = list(_MARKER.finditer(text))
    if matches:
        return text[: matches[-1].start()], text[matches[-1].end() :]
    before, _, last = text.rpartition("\n")
    return before, last


def states_answer(text: str) -> bool:
    """Whether `text` announces an answer ("the answer is ...")."""
    return _MARKER.search(text) is not None


def strip_wrapping(text: str) -> str:
    """Drop quotes, emphasis, and a trailing full stop or comma that is not part of a number."""
    text = text.strip(_WRAPPING)
    text = re.sub(r"[.,;:!]+$", "", text)
    return text.strip(_WRAPPING)


def extract_answer(completion: str) -> str:
    """The final answer a completion gives; empty when it gives none."""
    final = split_final(completion)[1]
    lines = [line for line in final.splitlines() if line.strip()]
    answer = lines[0] if lines else ""
    if states_answer(completion):  # after a marker the answer ends with its sentence
        answer = _SENTENCE_END.split(answer, maxsplit=1)[0]
    return strip_wrapping(answer)
