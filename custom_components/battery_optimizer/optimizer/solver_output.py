"""Keep HiGHS's banner off the process's standard output.

HiGHS prints "Running HiGHS ... Copyright" to standard output when the first
solver of a process is made, whatever its options say. Inside Home Assistant
standard output belongs to Home Assistant, so the first solver is made once
with standard output pointed at the null device; later ones print nothing.
"""

from __future__ import annotations

from collections.abc import Callable
import ctypes
import os
import threading

_lock = threading.Lock()
_done = False


def quiet_highs_banner() -> None:
    """Make the process's first HiGHS solver silently; later calls do nothing."""
    global _done  # noqa: PLW0603 - once per process, as the banner is
    with _lock:
        if _done:
            return
        import highspy

        make: Callable[[], object] = highspy.Highs
        try:
            libc = ctypes.CDLL(None)
        except OSError:  # no C library to flush through: leave output as it is
            make()
        else:
            _make_with_stdout_discarded(libc, make)
        _done = True


def _make_with_stdout_discarded(libc: ctypes.CDLL, make: Callable[[], object]) -> None:
    """Call make() with file descriptor 1 on the null device, then restore it."""
    saved = os.dup(1)
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        libc.fflush(None)  # what others wrote before stays theirs
        os.dup2(null, 1)
        make()
        libc.fflush(None)  # the banner, if buffered, goes to the null device
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(null)
