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
from .images import ImageError, SkipCounter, content_key, decode
from .sample import VLMSample

ALL = "all"  # the one split of a file whose rows name none


def _records(file: str, skips: SkipCounter | None = None):
    """(line number, record) for each non-empty line; a clear error for a line that is not JSON.
    A line that is not UTF-8 is skipped (and counted in `skips`)."""
    path = Path(file)
    if not path.is_file():
        raise HaloForgeError(f"JSONL dataset {file!r} does not exist.")
    with path.open("rb") as f:
        for line, raw in enumerate(f, start=1):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                if skips is not None:
                    skips.add(f"line {line}", "not UTF-8 text")
                continue
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
        if not isinstance(record, dict):
            continue  # skipped and counted when loading
        if "split" in record:
            names[str(record["split"])] = None
        elif unnamed is None:
            unnamed = line
    if names and unnamed is not None:
        raise HaloForgeError(f"{file} line {unnamed} has no \"split\" although other rows name theirs; "
                             f"name every row's.")
    return list(names)


class RowError(ValueError):
    """A row that cannot become a sample; the message says why."""


def _sample(record, line: int, folder: Path, file: str, allow_outside_paths: bool) -> VLMSample:
    if not isinstance(record, dict):
        raise RowError(f"a JSON {type(record).__name__}, not an object")
    question = record.get("question", record.get("prompt"))
    answers = record.get("answers", record.get("answer"))
    missing = [k for k, v in (("image", record.get("image")), ("question", question), ("answers", answers)) if v is None]
    if missing:
        raise RowError(f"missing {', '.join(missing)}")
    if not isinstance(record["image"], str):
        raise RowError(f"image must be a path, got {record['image']!r}")
    if not isinstance(question, str) or not question.strip():
        raise RowError("question must be non-empty text")
    answers = answers if isinstance(answers, list) else [answers]
    if not answers or not all(isinstance(a, (str, int, float)) and not isinstance(a, bool) for a in answers):
        raise RowError(f"answers must be text or a non-empty list of texts, got {answers!r}")
    image = folder / record["image"]
    if not allow_outside_paths and not image.resolve().is_relative_to(folder.resolve()):
        raise RowError(f"image {record['image']!r} lies outside the dataset's folder (--allow-outside-paths allows it)")
    return VLMSample(id=f"{Path(file).stem}-{line}", image=image, question=question, answers=[str(a) for a in answers])


def load(file: str, split: str, limit: int | None, on_skip: Callable[[str], None] | None = None,
         keep: Callable[[str], bool] | None = None, max_pixels: int | None = None,
         allow_outside_paths: bool = False) -> list[VLMSample]:
    """The rows of `split` (ALL for a file without split names); `keep` filters by image content.

    A row that cannot be used (not an object, wrong types, no answers, an image outside the
    file's folder, or one that cannot be decoded within `max_pixels`) is skipped and counted."""
    folder = Path(file).parent
    samples, skips = [], SkipCounter()
    for line, record in _records(file, skips):
        if limit is not None and len(samples) >= limit:
            break
        if isinstance(record, dict) and record.get("split", ALL) != split:
            continue
        try:
            sample = _sample(record, line, folder, file, allow_outside_paths)
            sample.max_pixels = max_pixels
            decode(sample.image, max_pixels)  # check now, so a bad file is skipped here and not mid-cycle
        except (RowError, ImageError) as exc:
            skips.add(f"line {line}", str(exc))
            continue
        if keep is None or keep(content_key(sample.image)):
            samples.append(sample)
    if skips.skipped and on_skip is not None:
        on_skip(skips.message(file))
    return samples
