"""What a learner's kernel lets go of between cells, so a class needs less memory per learner.

A kernel lives for hours and handles component binaries of tens of MB (a componentize-py guest embeds
CPython).  Two things kept them after use:

* glibc's malloc raises its mmap threshold to the largest block freed (up to 32 MiB), so after one
  composition every later component binary is carved from the heap, whose freed pages the process keeps.
  :func:`return_large_blocks` fixes the threshold: a block of 1 MiB or more is mapped on its own and
  its pages go back to the system the moment it is freed.
* compiling a component (Cranelift, on a worker thread) frees hundreds of MB into that thread's malloc
  arena, which keeps them; :func:`give_back_free_pages` returns them after a compile.
* an error a cell shows as one screen (a :class:`~wasmlab.errors.WasmlabError`) is kept by IPython as
  the session's last error; its traceback holds the frames it came through, and they hold what those
  functions were working on (a WAC document's packages: whole components).  Nobody looks at those
  frames (the error renders without them), so :func:`forget_frames` clears their variables.
"""

from __future__ import annotations

import ctypes
import functools
import sys
import traceback

__all__ = ["return_large_blocks", "give_back_free_pages", "forget_frames", "MMAP_THRESHOLD"]

MMAP_THRESHOLD = 1 << 20
_M_MMAP_THRESHOLD = -3  # mallopt's parameter number in glibc's malloc.h


def return_large_blocks() -> bool:
    """Have malloc map each block of :data:`MMAP_THRESHOLD` bytes or more on its own (glibc only; True
    when it took the setting).  Idempotent; it costs a system call per such block, nothing per call of
    a component."""
    libc = _glibc()
    return libc is not None and libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1


@functools.lru_cache(maxsize=1)
def _glibc():
    """The C library when it is glibc (``mallopt``, ``malloc_trim``), else None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)
        mallopt, malloc_trim = libc.mallopt, libc.malloc_trim
    except (OSError, AttributeError):  # not glibc (musl has neither)
        return None
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    malloc_trim.argtypes, malloc_trim.restype = [ctypes.c_size_t], ctypes.c_int
    return libc


def give_back_free_pages() -> bool:
    """Return the free pages of every malloc arena to the system (glibc's ``malloc_trim``; True when
    it gave some back).  It walks the free lists: milliseconds, so after seconds-long work only."""
    libc = _glibc()
    return bool(libc is not None and libc.malloc_trim(0))


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
