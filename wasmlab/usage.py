"""What a run actually used: environment, arguments, clocks, randomness and files.

wasmtime implements WASI inside the host; to see which parts a guest really calls, wasmlab
shadows the small, resource-free interfaces (``wasi:cli/environment``, ``wasi:random/*``,
the wall clock) with Python implementations that serve exactly what the grants allow
and count each call.  Files are seen through inotify on the granted directories.
"""

from __future__ import annotations

import os
import random as _random
import time
from dataclasses import dataclass, field

from wasmtime import component as wc

from . import _inotify

__all__ = ["Usage", "UsageMeter", "record_wasi_use", "watch_files"]


@dataclass
class Usage:
    """Counts of what one run asked the host for, and the files it touched (by guest path)."""

    calls: dict[str, int] = field(default_factory=dict)  # by capability: "environment", "clocks", "random"
    files: dict[str, set[str]] = field(default_factory=dict)  # guest path -> read/wrote/created/...

    def count(self, capability: str) -> None:
        self.calls[capability] = self.calls.get(capability, 0) + 1

    def used(self) -> set[str]:
        """Capabilities this run exercised."""
        used = {c for c, n in self.calls.items() if n}
        if self.files:
            used.add("filesystem")
        return used

    def merge_files(self, seen: dict[str, set[str]]) -> None:
        for path, actions in seen.items():
            self.files.setdefault(path, set()).update(actions)

    def rows(self) -> list[tuple[str, str]]:
        rows = [(cap, f"{n} call{'s' if n != 1 else ''}") for cap, n in sorted(self.calls.items())]
        rows += [(f"file {path}", ", ".join(sorted(actions))) for path, actions in sorted(self.files.items())]
        return rows


class UsageMeter:
    """The usage being recorded now; each call or run starts a fresh :class:`Usage`."""

    def __init__(self):
        self.current = Usage()

    def start(self) -> Usage:
        self.current = Usage()
        return self.current


def _datetime(ns: int) -> wc.Record:
    record = wc.Record()
    record.seconds, record.nanoseconds = divmod(ns, 1_000_000_000)
    return record


def _recorders(grants, meter: UsageMeter) -> dict[str, dict]:
    """Python implementations of the resource-free WASI functions, by interface name."""
    def counted(capability, fn):
        def host(_store, *args):
            meter.current.count(capability)
            return fn(*args)
        return host

    environment = grants.environment()
    return {
        "wasi:cli/environment": {
            "get-environment": counted("environment", lambda: list(environment)),
            "get-arguments": counted("environment", lambda: list(grants.args)),
            "initial-cwd": counted("environment", lambda: None),
        },
        "wasi:random/random": {
            "get-random-bytes": counted("random", lambda n: os.urandom(n)),
            "get-random-u64": counted("random", lambda: int.from_bytes(os.urandom(8), "little")),
        },
        "wasi:random/insecure": {
            "get-insecure-random-bytes": counted("random", lambda n: _random.randbytes(n)),
            "get-insecure-random-u64": counted("random", lambda: _random.getrandbits(64)),
        },
        "wasi:random/insecure-seed": {
            "insecure-seed": counted("random", lambda: (_random.getrandbits(64), _random.getrandbits(64))),
        },
        "wasi:clocks/wall-clock": {
            "now": counted("clocks", lambda: _datetime(time.time_ns())),
            "resolution": counted("clocks", lambda: _datetime(1)),
        },
    }


def record_wasi_use(linker: wc.Linker, import_names, grants, meter: UsageMeter) -> None:
    """Shadow the resource-free WASI interfaces a component imports with counting ones.

    Call after ``linker.add_wasip2()``.  Only interfaces implementable whole in Python are
    shadowed (an interface defined under the component's exact version replaces wasmtime's
    entirely), so the monotonic clock, whose pollables are resources, is not counted.
    """
    recorders = _recorders(grants, meter)
    linker.allow_shadowing = True
    with linker.root() as root:
        for name in import_names:
            functions = recorders.get(name.split("@")[0])
            if functions is None:
                continue
            with root.add_instance(name) as instance:
                for fn_name, host in functions.items():
                    instance.add_func(fn_name, host)


def watch_files(grants) -> _inotify.FileWatch:
    return _inotify.FileWatch({g.host: g.guest for g in grants.dirs})
