"""Small file helpers shared by the run records."""

import json
import math
from pathlib import Path


def finite(data):
    """`data` with every non-finite float (NaN, ±inf) as None, so the record is strict JSON that
    `jq` and browsers read (Python's json writes NaN and Infinity, which they refuse)."""
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {k: finite(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [finite(v) for v in data]
    return data


def write_json(path: Path, data) -> None:
    """Atomic strict-JSON write, so an interruption never leaves a half-written record."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(finite(data), indent=2, allow_nan=False))
    tmp.replace(path)
