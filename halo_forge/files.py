"""Small file helpers shared by the run records."""

import json
from pathlib import Path


def write_json(path: Path, data) -> None:
    """Atomic write, so an interruption never leaves a half-written record."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2))
    tmp.replace(path)
