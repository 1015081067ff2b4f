"""A Ctrl-C swallowed by a library's bare `except:` still stops the run at the next check."""

import os
import signal

import pytest

from halo_forge import interrupts


def test_a_swallowed_ctrl_c_is_raised_again_at_the_next_check(monkeypatch):
    previous = signal.getsignal(signal.SIGINT)
    monkeypatch.setattr(interrupts, "_requested", False)
    interrupts.install()
    try:
        interrupts.check()  # nothing pressed yet
        try:  # what datasets does around its fingerprint hashing
            os.kill(os.getpid(), signal.SIGINT)  # the handler runs here and raises KeyboardInterrupt ...
        except:  # noqa: E722  ... which is swallowed
            pass
        with pytest.raises(KeyboardInterrupt):
            interrupts.check()
    finally:
        signal.signal(signal.SIGINT, previous)


def test_the_command_line_runs_off_the_main_thread():
    import threading

    from halo_forge import cli

    codes = []
    worker = threading.Thread(target=lambda: codes.append(cli.main(["vlm", "datasets"])))
    worker.start()
    worker.join()
    assert codes == [0]  # before, installing the SIGINT handler there raised ValueError
