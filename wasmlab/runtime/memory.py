"""What a learner's kernel lets go of between cells, so a class needs less memory per learner.

A kernel lives for hours and handles component binaries of tens of MB (a componentize-py guest embeds
CPython).  Two things kept them after use:

* glibc's malloc raises its mmap threshold to the largest block freed (up to 32 MiB), so after one
  composition every later component binary is carved from the heap, whose freed pages the process keeps.
  :func:`return_large_blocks` fixes the threshold: a block of 1 MiB or more is mapped on its own and
  its pages go back to the system the moment it is freed.
* an error a cell shows as one screen (a :class:`~wasmlab.errors.WasmlabError`) is kept by IPython as
  the session's last error; its traceback holds the frames it came through, and they hold what those
  functions were working on (a WAC document's packages: whole components).  Nobody looks at those
  frames (the error renders without them), so :func:`forget_frames` clears their variables.
"""

from __future__ import annotations

import ctypes
import sys
import traceback

__all__ = ["return_large_blocks", "forget_frames", "MMAP_THRESHOLD"]

MMAP_THRESHOLD = 1 << 20
_M_MMAP_THRESHOLD = -3  # mallopt's parameter number in glibc's malloc.h


def return_large_blocks() -> bool:
    """Have malloc map each block of :data:`MMAP_THRESHOLD` bytes or more on its own (glibc only; True
    when it took the setting).  Idempotent; it costs a system call per such block, nothing per call of
    a component."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1


def forget_frames(error: BaseException | None) -> None:
    """Clear the variables of the finished frames ``error`` and the errors it chains passed through.

    >>> def fail(big):
    ...     raise ValueError("no")
    >>> try:
    ...     fail(bytes(10))
    ... except ValueError as exc:
    ...     caught = exc
    >>> caught.__traceback__.tb_next.tb_frame.f_locals["big"] == bytes(10)
    True
    >>> forget_frames(caught)
    >>> caught.__traceback__.tb_next.tb_frame.f_locals
    {}
    """
    seen: set[int] = set()
    pending = [error]
    while pending:
        error = pending.pop()
        if error is None or id(error) in seen:
            continue
        seen.add(id(error))
        traceback.clear_frames(error.__traceback__)  # a frame still running is left as it is
        pending += [error.__cause__, error.__context__]
