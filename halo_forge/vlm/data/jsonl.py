"""Local JSONL datasets: one object per line, images as paths relative to the file.

    {"image": "imgs/0001.png", "question": "What does the sign say?", "answers": ["stop"]}

"prompt" may stand for "question" and "answer" (a string) for "answers". A row may name its split
(`"split": "train"`); then every row must, and the file's splits are those names. A file without
split names is one split, "all", which the registry partitions by image (a tenth held out), so
several questions about one image never straddle train and held-out.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path

from ...errors import HaloForgeError
from .images import SkipCounter, content_key, decode
from .sample import VLMSample

ALL = "all"  # the one split of a file whose rows name none


def _records(file: str):
    """(line number, record) for each non-empty line; a clear error for a line that is not JSON."""
    path = Path(file)
    if not path.is_file():
        raise HaloForgeError(f"JSONL dataset {file!r} does not exist.")
    with path.open() as f:
        for line, text in enumerate(f, start=1):
            if not text.strip():
                continue
            try:
                yield line, json.loads(text)
            except json.JSONDecodeError as exc:
                raise HaloForgeError(f"{file} line {line} is not valid JSON: {exc.msg}.") from exc


def split_names(file: str) -> list[str]:
    """The split names a file's rows give, in order of appearance; [] when they give none."""
    path = Path(file)
    if not path.is_file():
        raise HaloForgeError(f"JSONL dataset {file!r} does not exist.")
    return _split_names(str(path.resolve()), path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=16)
def _split_names(file: str, modified: int) -> list[str]:
    """split_names, read once per version of the file (the registry asks for them several times a run)."""
    names: dict[str, None] = {}
    unnamed = None
    for line, record in _records(file):
        if "split" in record:
            names[str(record["split"])] = None
        elif unnamed is None:
            unnamed = line
    if names and unnamed is not None:
        raise HaloForgeError(f"{file} line {unnamed} has no \"split\" although other rows name theirs; "
                             f"name every row's.")
    return list(names)


def _sample(record: dict, line: int, folder: Path, file: str) -> VLMSample:
    question = record.get("question", record.get("prompt"))
    answers = record.get("answers", record.get("answer"))
    missing = [k for k, v in (("image", record.get("image")), ("question", question), ("answers", answers)) if v is None]
    if missing:
        raise HaloForgeError(f"{file} line {line}: missing {', '.join(missing)}.")
    answers = [str(a) for a in answers] if isinstance(answers, list) else [str(answers)]
    return VLMSample(id=f"{Path(file).stem}-{line}", image=folder / record["image"], question=question, answers=answers)


def load(file: str, split: str, limit: int | None, on_skip: Callable[[str], None] | None = None,
         keep: Callable[[str], bool] | None = None) -> list[VLMSample]:
    """The rows of `split` (ALL for a file without split names); `keep` filters by image content."""
    folder = Path(file).parent
    samples, skips = [], SkipCounter()
    for line, record in _records(file):
        if limit is not None and len(samples) >= limit:
            break
        if record.get("split", ALL) != split:
            continue
        sample = _sample(record, line, folder, file)
        try:
            decode(sample.image)  # check now, so a bad file is skipped here and not mid-cycle
        except Exception as exc:
            skips.add(f"line {line}", type(exc).__name__)
            continue
        if keep is None or keep(content_key(sample.image)):
            samples.append(sample)
    if skips.skipped and on_skip is not None:
        on_skip(skips.message(file))
    return samples
