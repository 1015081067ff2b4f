"""Local JSONL datasets: one object per line, images as paths relative to the file.

    {"image": "imgs/0001.png", "question": "What does the sign say?", "answers": ["stop"]}

"prompt" may stand for "question" and "answer" (a string) for "answers". Every tenth row (index 9,
19, ...) is the held-out `validation` split; the rest is `train`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from ...errors import HaloForgeError
from .images import SkipCounter, decode
from .sample import VLMSample

HELD_OUT_EVERY = 10


def _sample(record: dict, line: int, folder: Path, file: str) -> VLMSample:
    question = record.get("question", record.get("prompt"))
    answers = record.get("answers", record.get("answer"))
    missing = [k for k, v in (("image", record.get("image")), ("question", question), ("answers", answers)) if v is None]
    if missing:
        raise HaloForgeError(f"{file} line {line}: missing {', '.join(missing)}.")
    answers = [str(a) for a in answers] if isinstance(answers, list) else [str(answers)]
    return VLMSample(id=f"{Path(file).stem}-{line}", image=folder / record["image"], question=question, answers=answers)


def load(file: str, split: str, limit: int | None, on_skip: Callable[[str], None] | None = None) -> list[VLMSample]:
    path = Path(file)
    if not path.is_file():
        raise HaloForgeError(f"JSONL dataset {file!r} does not exist.")
    samples, skips = [], SkipCounter()
    with path.open() as f:
        for line, text in enumerate(f, start=1):
            if limit is not None and len(samples) >= limit:
                break
            if not text.strip():
                continue
            held_out = (line - 1) % HELD_OUT_EVERY == HELD_OUT_EVERY - 1
            if held_out != (split == "validation"):
                continue
            try:
                record = json.loads(text)
            except json.JSONDecodeError as exc:
                raise HaloForgeError(f"{file} line {line} is not valid JSON: {exc.msg}.") from exc
            sample = _sample(record, line, path.parent, file)
            try:
                decode(sample.image)  # check now, so a bad file is skipped here and not mid-cycle
            except Exception as exc:
                skips.add(f"line {line}", type(exc).__name__)
                continue
            samples.append(sample)
    if skips.skipped and on_skip is not None:
        on_skip(skips.message(file))
    return samples
