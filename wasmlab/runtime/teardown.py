"""Leaving the process without a panic from wasmtime's tokio threads.

wasmtime's WASI runtime keeps tokio worker threads, and after a WASI call one of them goes on
working for a few milliseconds (about 7.5 ms here).  A process that exits in that window has the
thread panic as the interpreter tears down around it ("panic in a function that cannot unwind"),
and it aborts after its work is done: a script that succeeded exits 134, a kernel shut down right
after a cell that ran Wasm dies with a Rust panic in its log.  So at exit wasmlab waits, briefly
and with a bound, until every tokio thread sleeps (:func:`wait_until_tokio_idles`, armed when
:mod:`wasmlab.runtime` is imported).  The ``wasmlab`` command leaves through :func:`exit_now`,
which skips the teardown altogether.
"""

from __future__ import annotations

import atexit
import os
import sys
import time
from pathlib import Path

__all__ = ["tokio_thread_states", "wait_until_tokio_idles", "exit_now", "wait_at_exit"]


def tokio_thread_states() -> list[str]:
    """The scheduler states (``R`` running, ``S`` sleeping, ...) of this process's tokio threads."""
    states = []
    try:
        tasks = list(Path("/proc/self/task").iterdir())
    except OSError:
        return states
    for task in tasks:
        try:
            if (task / "comm").read_text().startswith("tokio-rt"):
                states.append((task / "stat").read_text().rsplit(")", 1)[1].split()[0])
        except (OSError, IndexError):
            continue  # a thread that ended meanwhile
    return states


def wait_until_tokio_idles(timeout: float = 1.0) -> bool:
    """Wait until every tokio thread has slept for three samples in a row (at most ``timeout``
    seconds); whether they did."""
    deadline = time.monotonic() + timeout
    asleep = 0
    while asleep < 3:
        states = tokio_thread_states()
        if not states:
            return True
        asleep = asleep + 1 if all(state in "SI" for state in states) else 0
        if time.monotonic() > deadline:
            return False
        time.sleep(0.001)
    return True


def exit_now(code: int) -> None:
    """Flush the process's output streams and leave with ``code``, skipping interpreter teardown."""
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            if stream is not None:
                stream.flush()
        except Exception:  # noqa: BLE001 - a closed or broken stream has nothing left to keep
            pass
    os._exit(code)


_armed = False


def wait_at_exit() -> None:
    """Arm :func:`wait_until_tokio_idles` for interpreter exit.  Idempotent."""
    global _armed
    if not _armed:
        _armed = True
        atexit.register(wait_until_tokio_idles)
