"""The run folder: what makes a folder a halo-forge run, and reading its records back safely.

`vlm train` and `vlm sft` both write into a folder the user names; both refuse one that holds
something else (nothing there is overwritten), both record their settings in `config.yaml`, and
both refuse to resume with other settings unless told to, naming every difference.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import yaml

from ..errors import HaloForgeError

HISTORY_FILE = "training_history.json"
CONFIG_FILE = "config.yaml"  # the settings of the latest start (a copy in each cycle_N/)
EVAL_SET_FILE = "eval_set.json"  # the held-out set's size and hash


def prepare_output(folder: Path) -> bool:
    """Creates `folder` for a run; True when it already holds one (it has a config.yaml).

    Refuses, in one sentence, a file, a path under a file, a place that cannot be written, and a
    non-empty folder that is not a run, so nothing the user keeps there is overwritten."""
    if folder.exists() and not folder.is_dir():
        raise HaloForgeError(f"--output {str(folder)!r} is a file; name a folder for the run.")
    is_run = (folder / CONFIG_FILE).is_file()
    if folder.is_dir() and not is_run and any(folder.iterdir()):
        raise HaloForgeError(f"--output {str(folder)!r} is not empty and holds no halo-forge run (no {CONFIG_FILE}); "
                             f"name a new or empty folder, so nothing in it is overwritten.")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as exc:
        raise HaloForgeError(f"--output {str(folder)!r} cannot be created: part of that path is a file.") from exc
    except OSError as exc:
        raise HaloForgeError(f"--output {str(folder)!r} cannot be created ({exc.strerror}).") from exc
    if not os.access(folder, os.W_OK):
        raise HaloForgeError(f"--output {str(folder)!r} cannot be written (no permission).")
    return is_run


def check_settings(folder: Path, settings, say) -> None:
    """Compares `settings` (a command's Settings) with the ones `folder`'s run was made with, then
    records them. A difference in anything but its runtime fields is refused (all named), or with
    `allow_changes` said once and accepted."""
    config_file = folder / CONFIG_FILE
    previous = yaml.safe_load(config_file.read_text()) if config_file.is_file() else None
    runtime, current = settings.runtime_fields(), settings.to_dict()
    changes = [f"{k} {previous[k]!r} -> {v!r}" for k, v in current.items()
               if isinstance(previous, dict) and k in previous and k not in runtime and previous[k] != v]
    if changes and not settings.allow_changes:
        raise HaloForgeError(
            f"{folder} holds a run made with other settings ({'; '.join(changes)}); its steps would not compare. "
            f"Pass the same settings to resume it, --allow-changes to continue with these, or another --output."
        )
    if changes:
        say(f"Continuing {folder} with changed settings: {'; '.join(changes)}.")
    write_settings(config_file, current)


def write_settings(path: Path, settings: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(yaml.safe_dump(settings, sort_keys=False))
    tmp.replace(path)


def read_history(run: Path) -> list[dict]:
    """A run's training_history.json: a non-empty list of cycle entries, or one sentence saying why not."""
    path = run / HISTORY_FILE
    if not path.is_file():
        raise HaloForgeError(f"{path} does not exist; is {str(run)!r} the --output of a `vlm train` run?")
    try:
        history = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise HaloForgeError(f"{path} is not valid JSON ({getattr(exc, 'msg', exc)}); it was damaged outside "
                             f"halo-forge, which writes it atomically.") from exc
    if not isinstance(history, list) or not history:
        raise HaloForgeError(f"{path} holds no cycles (expected a list of cycle entries).")
    bad = next((i for i, e in enumerate(history)
                if not isinstance(e, dict) or not isinstance(e.get("cycle"), int) or "eval_accuracy" not in e), None)
    if bad is not None:
        raise HaloForgeError(f"{path} entry {bad} is not a cycle entry (it needs 'cycle' and 'eval_accuracy').")
    return history


def finished_cycles(run: Path) -> int:
    """How many training cycles `run` has saved (0 when none, or no readable history)."""
    try:
        return read_history(run)[-1]["cycle"]
    except HaloForgeError:
        return 0
