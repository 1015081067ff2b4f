"""The one progress bar every long loop shows: what, how far, how fast, how long is left."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from rich.progress import (BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeRemainingColumn)
from rich.text import Text

T = TypeVar("T")


class RateColumn(ProgressColumn):
    """Steps per second (or seconds per step, when slower than one a second)."""

    def render(self, task) -> Text:
        speed = task.finished_speed or task.speed
        if not speed:
            return Text("", style="progress.data.speed")
        return Text(f"{speed:.1f}/s" if speed >= 1 else f"{1 / speed:.1f}s/it", style="progress.data.speed")


def bar(disable: bool = False) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), RateColumn(),
                    TimeRemainingColumn(), transient=True, disable=disable)


def track(items: Iterable[T], description: str, disable: bool = False) -> Iterable[T]:
    """`items`, with a progress bar while they are consumed."""
    with bar(disable) as progress:
        yield from progress.track(items, description=description)
