"""Loading the registered hub datasets, from the hub or from a local copy in the hub's schema.

A local copy is a folder of parquet files as the hub stores them (`data/validation-0000.parquet`,
or `validation/*.parquet`) or a `save_to_disk` folder. With a limit, rows are streamed, so `--limit
10` never downloads or decodes a whole split.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import islice
from pathlib import Path

from ...errors import HaloForgeError
from .images import ArrowImage, ImageError, SkipCounter, content_key, decode
from .sample import VLMSample

RowMapper = Callable[[dict, int], VLMSample]


def _parquet_files(folder: Path, split: str) -> list[str]:
    patterns = [f"**/{split}-*.parquet", f"**/{split}/*.parquet", f"**/{split}.parquet"]
    files = sorted({str(p) for pattern in patterns for p in folder.glob(pattern)})
    return files


def _open_local(folder: Path, split: str, image_column: str, streaming: bool):
    import datasets

    if (folder / "dataset_dict.json").is_file():
        data = datasets.load_from_disk(str(folder))
        if split not in data:
            raise HaloForgeError(f"{folder} has no split {split!r}; it has {', '.join(data)}.")
        data = data[split]
    elif (folder / "state.json").is_file():
        data = datasets.load_from_disk(str(folder))
    else:
        files = _parquet_files(folder, split)
        if not files:
            raise HaloForgeError(f"{folder} holds no parquet files for split {split!r} (looked for {split}-*.parquet).")
        data = datasets.load_dataset("parquet", data_files={split: files}, split=split, streaming=streaming)
    return data.cast_column(image_column, datasets.Image(decode=False))


def _open_hub(hub_id: str, config: str | None, split: str, image_column: str, streaming: bool, name: str):
    import datasets

    try:
        data = datasets.load_dataset(hub_id, config, split=split, streaming=streaming)
    except Exception as exc:  # datasets raises many types for "unreachable"; all mean the same to a user
        raise HaloForgeError(
            f"Could not load dataset {name!r} ({hub_id}) from the Hugging Face Hub ({type(exc).__name__}); "
            f"without a network, download it elsewhere (its parquet files, or datasets' save_to_disk) and pass "
            f"the folder with --dataset-path."
        ) from exc
    return data.cast_column(image_column, datasets.Image(decode=False))


def _keeps(keep: Callable[[str], bool], image) -> bool:
    try:
        return keep(content_key(image))
    except OSError:  # an image file that cannot be read: let decoding skip and count it
        return True


def load_rows(
    name: str,
    hub_id: str,
    config: str | None,
    split: str,
    limit: int | None,
    image_column: str,
    to_sample: RowMapper,
    path: str | None = None,
    on_skip: Callable[[str], None] | None = None,
    keep: Callable[[str], bool] | None = None,
    max_pixels: int | None = None,
) -> list[VLMSample]:
    """Samples of one split, skipping (and reporting) rows whose image cannot be decoded.

    `keep` sees each row's image content key before decoding (a partition by image); rows it
    refuses do not count towards `limit`. Images are checked here and decoded within `max_pixels`
    when used: samples hold a reference to the Arrow row (or a streamed row's encoded bytes), never
    the pixels."""
    import datasets

    streaming = limit is not None
    if path is not None:
        folder = Path(path)
        if not folder.is_dir():
            raise HaloForgeError(f"--dataset-path {path!r} is not a folder.")
        data = _open_local(folder, split, image_column, streaming)
    else:
        data = _open_hub(hub_id, config, split, image_column, streaming, name)
    rows: Iterable[dict] = enumerate(data)
    if keep is not None:
        rows = ((i, row) for i, row in rows if _keeps(keep, row[image_column]))
    if limit is not None:
        rows = islice(rows, limit)
    samples, skips = [], SkipCounter()
    for index, row in rows:
        try:
            decode(row[image_column], max_pixels)  # check now, so a bad image is skipped here and not mid-cycle
        except ImageError as exc:
            skips.add(f"row {index}", str(exc))
            continue
        if isinstance(data, datasets.Dataset):  # memory-mapped: keep a reference, decode on use
            row[image_column] = ArrowImage(data, index, image_column)
        sample = to_sample(row, index)  # a streamed row keeps its encoded bytes (at most `limit` of them)
        sample.max_pixels = max_pixels
        samples.append(sample)
    if skips.skipped and on_skip is not None:
        on_skip(skips.message(name))
    return samples
