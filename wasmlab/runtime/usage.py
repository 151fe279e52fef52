"""What a run actually used: environment, arguments, clocks, randomness and files, and what
the host refused it.

wasmtime implements WASI inside the host; to see which parts a guest really calls, wasmlab
shadows the small, resource-free interfaces (``wasi:cli/environment``, ``wasi:random/*``,
the wall clock) with Python implementations that serve exactly what the grants allow
and count each call.  Files are seen through inotify on the granted directories.

The network is refused the same way: when sockets or name lookup are not granted, the
interfaces that open sockets (``wasi:sockets/tcp-create-socket``, ``udp-create-socket``) and
resolve names (``wasi:sockets/ip-name-lookup``) are replaced by ones that answer
``access-denied`` and note each attempt (with the name looked up), so the report can list them.
"""

from __future__ import annotations

import os
import posixpath
import random as _random
import re
import time
from dataclasses import dataclass, field

from wasmtime import component as wc

from wasmlab.runtime import inotify

__all__ = ["Usage", "UsageMeter", "record_wasi_use", "watch_files"]


@dataclass
class Usage:
    """Counts of what one run asked the host for, and the files it touched (by guest path)."""

    calls: dict[str, int] = field(default_factory=dict)  # by capability: "environment", "clocks", "random"
    files: dict[str, set[str]] = field(default_factory=dict)  # guest path -> read/wrote/created/...
    refused: list[tuple[str, str]] = field(default_factory=list)  # (capability, the attempt the host refused)
    note: str | None = None  # where the run happened when nothing could be counted (the wasmtime CLI)

    def count(self, capability: str) -> None:
        self.calls[capability] = self.calls.get(capability, 0) + 1

    def refuse(self, capability: str, attempt: str) -> None:
        self.refused.append((capability, attempt))

    def tried(self) -> set[str]:
        """Capabilities the run attempted and was refused."""
        return {capability for capability, _ in self.refused}

    def refusals(self, capability: str) -> list[str]:
        """The refused attempts of one capability, repeated ones counted: ``["TCP socket (ipv4) x3"]``."""
        counts: dict[str, int] = {}
        for cap, attempt in self.refused:
            if cap == capability:
                counts[attempt] = counts.get(attempt, 0) + 1
        return [attempt + (f" x{n}" if n > 1 else "") for attempt, n in counts.items()]

    def used(self) -> set[str]:
        """Capabilities this run exercised."""
        used = {c for c, n in self.calls.items() if n}
        if self.files:
            used.add("filesystem")
        return used

    def note_guest_errors(self, stderr: str, grants) -> None:
        """Refused file operations a guest reported when it failed (Python's ``OSError`` lines).

        Denied file access never reaches the host's file system (the guest's libc finds no
        granted directory for the path, or wasmtime refuses to leave one), so only what the
        guest says about it is seen.  A missing file inside a granted directory is not a refusal.
        """
        for match in _GUEST_OS_ERROR.finditer(stderr):
            kind, reason, path, target = match.groups()
            if kind == "FileNotFoundError" and _inside_a_grant(path, grants):
                continue
            self.refuse("filesystem", f"{path}{f' -> {target}' if target else ''}: {reason}")

    def merge_files(self, seen: dict[str, set[str]]) -> None:
        for path, actions in seen.items():
            self.files.setdefault(path, set()).update(actions)

    def rows(self) -> list[tuple[str, str]]:
        rows = [(cap, f"{n} call{'s' if n != 1 else ''}") for cap, n in sorted(self.calls.items())]
        rows += [(f"file {path}", ", ".join(sorted(actions))) for path, actions in sorted(self.files.items())]
        rows += [(f"refused {cap}", attempt) for cap in sorted(self.tried()) for attempt in self.refusals(cap)]
        return rows


# e.g. "PermissionError: [Errno 63] Operation not permitted: '/data/a.txt' -> '/tmp/a.txt'"
_GUEST_OS_ERROR = re.compile(r"^(\w+Error): \[Errno \d+\] ([^:\n]+): '([^'\n]*)'(?: -> '([^'\n]*)')?\s*$",
                             re.MULTILINE)


def _inside_a_grant(path: str, grants) -> bool:
    normal = posixpath.normpath(path)
    return ".." not in path.split("/") and any(
        normal == g.guest.rstrip("/") or normal.startswith(g.guest.rstrip("/") + "/") for g in grants.dirs)


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
        # only for components that import no subscribe-* (those return wasmtime's pollables)
        "wasi:clocks/monotonic-clock": {
            "now": counted("clocks", time.monotonic_ns),
            "resolution": counted("clocks", lambda: 1),
        },
    }


_RESOLVE_STREAM = wc.ResourceType.host(0x5_0C_E7)  # stands in for wasmtime's; never constructed


def _network_refusers(grants, meter: UsageMeter) -> dict[str, dict]:
    """Replacements for the socket-opening and name-resolving interfaces the grants do not allow.

    Each answers ``access-denied`` and notes the attempt.  A refused socket never exists, so
    the methods of the resources these interfaces define can never be reached.
    """
    from wasmlab.capabilities import sockets_available

    refusers: dict[str, dict] = {}
    if not (grants.network and sockets_available()):
        why = " (granted, but unavailable in wasmtime-py)" if grants.network else ""

        def socket_refuser(kind):
            def refuse(_store, family):
                meter.current.refuse("network", f"{kind} socket ({family}){why}")
                return "access-denied"
            return refuse

        refusers["wasi:sockets/tcp-create-socket"] = {"create-tcp-socket": socket_refuser("TCP")}
        refusers["wasi:sockets/udp-create-socket"] = {"create-udp-socket": socket_refuser("UDP")}
    if not grants.ip_name_lookup:
        def resolve(store, network, name):
            network.drop(store)  # a borrowed handle must be released before returning
            meter.current.refuse("network", f"name lookup of {name}")
            return "access-denied"

        def unreachable(_store, *_args):
            raise RuntimeError("a refused name lookup has no address stream")

        refusers["wasi:sockets/ip-name-lookup"] = {
            "resolve-address-stream": _RESOLVE_STREAM,
            "[method]resolve-address-stream.resolve-next-address": unreachable,
            "[method]resolve-address-stream.subscribe": unreachable,
            "resolve-addresses": resolve,
        }
    return refusers


def record_wasi_use(linker: wc.Linker, import_names, grants, meter: UsageMeter) -> bool:
    """Shadow the resource-free WASI interfaces a component imports with counting ones, and
    the network interfaces the grants do not allow with refusing ones.

    Call after ``linker.add_wasip2()``.  ``import_names`` are the component's imports (a
    mapping to their world items tells which functions each one really imports).  Only
    interfaces implementable whole in Python are shadowed (an interface defined under the
    component's exact version replaces wasmtime's entirely): the monotonic clock is counted
    only where the component imports none of its pollable-returning functions (Python guests
    do), and granted sockets and name lookups run in wasmtime uncounted.  Returns whether
    anything was shadowed, i.e. whether a call can record anything.
    """
    replacements = {**_recorders(grants, meter), **_network_refusers(grants, meter)}
    linker.allow_shadowing = True
    shadowed = False
    with linker.root() as root:
        for name in import_names:
            items = replacements.get(name.split("@")[0])
            if items is None or not _covers(items, import_names, name):
                continue
            shadowed = True
            with root.add_instance(name) as instance:
                for item_name, item in items.items():
                    if isinstance(item, wc.ResourceType):
                        instance.add_resource(item_name, item, lambda _store, _rep: None)
                    else:
                        instance.add_func(item_name, item)
    return shadowed


def _covers(items: dict, imports, name: str) -> bool:
    """Whether ``items`` implement every function the component imports from ``name``."""
    if name.split("@")[0] != "wasi:clocks/monotonic-clock":
        return True  # the other replacements implement their whole interface
    item = imports.get(name) if hasattr(imports, "get") else None
    interface = getattr(item, "interface", None)
    return interface is not None and set(interface.functions) <= set(items)


def watch_files(grants) -> inotify.FileWatch:
    return inotify.FileWatch({g.host: g.guest for g in grants.dirs})
