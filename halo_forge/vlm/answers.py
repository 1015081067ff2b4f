"""Getting the final answer out of a free-form completion, before any metric sees it.

A short chain of small filters, as in lm-evaluation-harness: take what follows the last
"answer is" / "Answer:" marker if there is one, else the last non-empty line; then drop wrapping
quotes, markdown emphasis and trailing punctuation. Multi-word answers stay whole, "3.5" stays 3.5.
"""

from __future__ import annotations

import re

_MARKER = re.compile(r"(?:final answer|the answer|answer)\s*(?:is\s*:?|:)\s*", re.IGNORECASE)
_WRAPPING = " \t\n\"'`*_"


def after_marker(text: str) -> str:
    """The text after the last answer marker, or the whole text when there is none."""
    matches = list(_MARKER.finditer(text))
    return text[matches[-1].end() :] if matches else text


def last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def strip_wrapping(text: str) -> str:
    """Drop quotes, emphasis, and a trailing full stop or comma that is not part of a number."""
    text = text.strip(_WRAPPING)
    text = re.sub(r"[.,;:!]+$", "", text)
    return text.strip(_WRAPPING)


def extract_answer(completion: str) -> str:
    """The final answer a completion gives; empty when it gives none."""
    return strip_wrapping(last_line(after_marker(completion.strip())))
