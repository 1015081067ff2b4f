"""A Ctrl-C that no library can swallow.

Some libraries catch every exception where a Ctrl-C can land (datasets wraps the pickling of a
transform for its fingerprint in a bare `except:`), so the KeyboardInterrupt raised there is lost
and the run carries on to the end. The command line's SIGINT handler also records the request,
and the training loops `check` it at every step and cycle boundary.
"""

from __future__ import annotations

import signal
import threading

_requested = False


def install() -> None:
    """Takes over SIGINT; only the main thread may (`cli.main` called from another thread keeps
    Python's own handler)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, _handle)


def _handle(signum, frame) -> None:
    global _requested
    _requested = True
    raise KeyboardInterrupt


def check() -> None:
    """Raises KeyboardInterrupt when Ctrl-C was pressed, even if the one it raised was swallowed."""
    if _requested:
        raise KeyboardInterrupt
