"""Getting the final answer out of a free-form completion, before any metric sees it.

A short chain of small filters, as in lm-evaluation-harness: split off what follows the last
"answer is" / "Answer:" marker if there is one, else the last non-empty line; then drop wrapping
quotes, markdown emphasis and trailing punctuation. Multi-word answers stay whole, "3.5" stays 3.5.
"""

from __future__ import annotations

import re

_MARKER = re.compile(r"(?:final answer|the answer|answer)\s*(?:is\s*:?|:)\s*", re.IGNORECASE)
_WRAPPING = " \t\n\"'`*_"


def split_final(text: str) -> tuple[str, str]:
    """(what comes before the final answer, the final answer's text)."""
    text = text.strip()
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
    return strip_wrapping(lines[0] if lines else "")
