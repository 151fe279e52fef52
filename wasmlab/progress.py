"""Progress of long work (builds, first compiles): a live line in the cell, or on stderr."""

from __future__ import annotations

import sys
import time

__all__ = ["Progress"]


def _in_kernel() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


class Progress:
    """``stage()`` names what runs now; ``tick()`` refreshes the elapsed time; ``done()`` ends."""

    def __init__(self, title: str, *, enabled: bool = True, stream=None):
        self.title = title
        self.enabled = enabled
        self.started = time.perf_counter()
        self.current = ""
        self._stream = stream
        self._handle = None
        self._last_draw = 0.0
        self._kernel = enabled and stream is None and _in_kernel()

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def _line(self) -> str:
        return f"{self.title}: {self.current} ({self.elapsed:.1f} s)"

    def _draw(self, text: str, *, final: bool = False) -> None:
        if not self.enabled:
            return
        self._last_draw = time.perf_counter()
        if self._kernel:
            from IPython.display import display

            bundle = {"text/plain": text}
            if self._handle is None:
                self._handle = display(bundle, raw=True, display_id=True)
            else:
                self._handle.update(bundle, raw=True)
        else:
            stream = self._stream or sys.stderr
            # one line per stage on a log, a live line on a terminal
            end = "\n" if final or not getattr(stream, "isatty", lambda: False)() else "\r"
            stream.write(f"wasmlab: {text}{end}")
            stream.flush()

    def stage(self, text: str) -> None:
        self.current = text
        self._draw(self._line())

    def tick(self) -> None:
        if self._kernel and time.perf_counter() - self._last_draw >= 0.5:
            self._draw(self._line())

    def done(self, text: str) -> None:
        self._draw(f"{self.title}: {text}", final=True)
