"""What a component asks for, in the terms of capability-based security.

A component can only reach what its host hands it.  Its WASI imports say what it could ask
for; this module names those asks as capabilities (filesystem, network, environment, ...).
"""

from __future__ import annotations

import math
import os
import posixpath
import re
from dataclasses import dataclass, replace
from pathlib import Path

from wasmlab import views
from wasmlab.errors import ArgumentError
from wasmlab.views import Displayable

__all__ = ["CAPABILITIES", "capability_of", "group_imports", "DirGrant", "Grants", "Limits", "parse_size",
           "granted_capabilities", "Sandboxed", "CapabilityReport", "denial_hint", "sockets_available",
           "SOCKETS_UNAVAILABLE", "SOCKETS_WORKAROUND"]

# capability -> what a learner should read it as
CAPABILITIES = {
    "filesystem": "files and directories the host preopens",
    "network": "sockets: TCP, UDP and name lookup",
    "http": "outgoing HTTP requests and HTTP types",
    "environment": "environment variables, arguments, working directory",
    "clocks": "wall-clock and monotonic time",
    "random": "random numbers",
    "stdio": "stdin, stdout, stderr and terminals",
    "exit": "ending the program with an exit code",
    "io": "streams and polling (the plumbing the others use)",
}

_BY_INTERFACE = {
    ("cli", "environment"): "environment",
    ("cli", "exit"): "exit",
    ("cli", "run"): "exit",
}


def capability_of(import_name: str) -> str | None:
    """The capability a WASI import stands for (``wasi:filesystem/types@0.2.0`` -> ``filesystem``).

    ``None`` for anything that is not WASI: those imports are the component's own business.
    """
    if not import_name.startswith("wasi:"):
        return None
    package, _, rest = import_name[len("wasi:"):].partition("/")
    interface = rest.partition("@")[0]
    if (package, interface) in _BY_INTERFACE:
        return _BY_INTERFACE[(package, interface)]
    if package == "cli":
        return "stdio"
    if package == "sockets":
        return "network"
    if package in CAPABILITIES:
        return package
    return None


def group_imports(import_names) -> dict[str, list[str]]:
    """WASI imports grouped by capability, in the order of :data:`CAPABILITIES`."""
    groups: dict[str, list[str]] = {}
    for name in import_names:
        cap = capability_of(name)
        if cap is not None:
            groups.setdefault(cap, []).append(name)
    return {cap: groups[cap] for cap in CAPABILITIES if cap in groups}


# ---- grants: what a run may touch ------------------------------------------------------------

# Since wasmtime 48 a WASI context creates no TCP or UDP socket unless allow_tcp / allow_udp
# switch them on.  wasi.h (the C API wasmtime-py is built on) only has inherit_network, which
# opens every address but not the protocols, and allow_ip_name_lookup: through wasmtime-py a
# guest can be granted name lookup, never an outbound socket.  So a command granted sockets
# runs in the wasmtime CLI instead (wasmtime_command.run_in_cli); an in-process call is refused.
SOCKETS_UNAVAILABLE = ("wasmtime-py cannot switch TCP/UDP on: since wasmtime 48 sockets also need "
                       "allow_tcp/allow_udp, which its C API (wasi.h) does not offer")
SOCKETS_WORKAROUND = ("make it a command (export wasi:cli/run) and .run() it, or `wasmlab run --inherit-network`: "
                       "a command granted sockets runs in the wasmtime CLI (pip install 'wasmlab[wasi03]'); "
                       "call one function there with "
                       "wasmlab.runtime.wasmtime_command.call_in_cli(component, 'func', *args); "
                       "or grant name lookup only: Grants().with_network(sockets=False)")


def sockets_available() -> bool:
    """Whether this wasmtime-py can grant outbound sockets (its C API can switch TCP/UDP on):
    not the wasmtime-py pyproject.toml pins (tests/test_capi.py checks that against
    :data:`wasmlab.runtime.capi.SOCKETS_SWITCHABLE`)."""
    return False



# ---- checking what a user typed: every refusal names the fix --------------------------------

def _type_name(value) -> str:
    return type(value).__name__


def _path_text(value, what: str) -> str:
    """``value`` as path text: a str or os.PathLike, without NUL bytes."""
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str):
        raise ArgumentError(f"{what} must be a path (str or pathlib.Path), not {_type_name(value)}: {value!r}",
                            hint="Grants().with_dir('data', '/data')")
    if "\0" in value:
        raise ArgumentError(f"{what} {value!r} contains a NUL character", hint="paths cannot contain NUL")
    return value


def _check_bool(value, what: str) -> None:
    if not isinstance(value, bool):
        raise ArgumentError(f"{what} must be True or False, not {_type_name(value)}: {value!r}")


def _check_env_name(name, what: str = "environment variable name") -> str:
    if not isinstance(name, str):
        raise ArgumentError(f"{what} must be a str, not {_type_name(name)}: {name!r}", hint="--env NAME=VALUE")
    if not name or "=" in name or "\0" in name:
        problem = "is empty" if not name else ("contains '='" if "=" in name else "contains a NUL character")
        raise ArgumentError(f"{what} {name!r} {problem}",
                            hint="a name is non-empty, without '=' or NUL: --env NAME=VALUE, "
                                 "Grants().with_env(NAME='value')")
    return name


def _check_env_value(name: str, value) -> str:
    if not isinstance(value, str):
        raise ArgumentError(f"environment variable {name} must be a str, not {_type_name(value)}: {value!r}",
                            hint=f"pass text: with_env({name}={str(value)!r})")
    if "\0" in value:
        raise ArgumentError(f"environment variable {name}'s value contains a NUL character",
                            hint="environment values cannot contain NUL")
    return value


@dataclass(frozen=True)
class DirGrant:
    """A host directory visible to the guest at ``guest`` (``read_only`` refuses every change).

    Checked when made: the host directory exists, the guest path is absolute.

    >>> DirGrant("", "/data")
    Traceback (most recent call last):
    wasmlab.errors.ArgumentError: argument error: an empty host path would grant the current directory
    hint: name the directory to grant: --dir ./data::/data or Grants().with_dir('data', '/data')
    """

    host: str
    guest: str
    read_only: bool = False

    def __post_init__(self):
        host = _path_text(self.host, "the host path")
        if not host.strip():
            raise ArgumentError("an empty host path would grant the current directory",
                                hint="name the directory to grant: --dir ./data::/data or "
                                     "Grants().with_dir('data', '/data')")
        if not os.path.isdir(host):
            problem = "is not a directory" if os.path.exists(host) else "does not exist"
            raise ArgumentError(f"cannot grant {host!r}: it {problem}",
                                hint="grant an existing directory (create it first, or grant the folder "
                                     "a file is in)")
        guest = _path_text(self.guest, "the guest path")
        if not guest.startswith("/"):
            rooted = "/" + (guest.lstrip("./") or "data")
            raise ArgumentError(f"the guest path {guest!r} is not absolute",
                                hint=f"say where the guest sees it, from the root: --dir {host}::{rooted} "
                                     f"or Grants().with_dir({host!r}, {rooted!r})")
        _check_bool(self.read_only, "read_only")
        object.__setattr__(self, "host", host)
        object.__setattr__(self, "guest", posixpath.normpath(guest).replace("//", "/"))

    def __str__(self) -> str:
        return f"{self.host}::{self.guest}" + (" (read-only)" if self.read_only else "")


@dataclass(frozen=True)
class Grants:
    """What one run may touch.  Nothing is granted unless asked for; editing returns a new value.
    Everything is checked when granted, and refused with the fix in the message.

    >>> Grants().with_env(LANG="C").env
    (('LANG', 'C'),)
    >>> Grants().with_dir("")
    Traceback (most recent call last):
    wasmlab.errors.ArgumentError: argument error: an empty host path would grant the current directory
    hint: name the directory to grant: --dir ./data::/data or Grants().with_dir('data', '/data')
    """

    dirs: tuple[DirGrant, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    inherit_env: tuple[str, ...] = ()  # host variables passed through by name
    args: tuple[str, ...] = ()
    stdin: bytes | None = None
    network: bool = False  # outbound TCP/UDP sockets
    ip_name_lookup: bool = False
    inherit_stdio: bool = False  # the host process's own stdin/stdout/stderr

    def __post_init__(self):
        dirs = _sequence(self.dirs, "dirs")
        seen: dict[str, DirGrant] = {}
        for grant in dirs:
            if not isinstance(grant, DirGrant):
                raise ArgumentError(f"dirs holds a {_type_name(grant)}, not a DirGrant",
                                    hint="grant directories with Grants().with_dir(host, guest)")
            if grant.guest in seen:
                raise ArgumentError(f"the guest path {grant.guest} is granted twice ({seen[grant.guest].host} and "
                                    f"{grant.host})", hint="give each directory a guest path of its own")
            seen[grant.guest] = grant
        object.__setattr__(self, "dirs", tuple(dirs))
        env = self.env.items() if isinstance(self.env, dict) else _sequence(self.env, "env")
        pairs = []
        for pair in env:
            if not isinstance(pair, tuple) or len(pair) != 2:
                raise ArgumentError(f"env holds {pair!r}, not a (name, value) pair",
                                    hint="Grants(env={'NAME': 'value'})")
            name = _check_env_name(pair[0])
            pairs.append((name, _check_env_value(name, pair[1])))
        object.__setattr__(self, "env", tuple(pairs))
        object.__setattr__(self, "inherit_env", tuple(_check_env_name(n, "host variable name")
                                                      for n in _sequence(self.inherit_env, "inherit_env")))
        args = tuple(str(a) for a in _sequence(self.args, "args"))
        if any("\0" in a for a in args):
            raise ArgumentError("an argument contains a NUL character", hint="arguments cannot contain NUL")
        object.__setattr__(self, "args", args)
        if isinstance(self.stdin, str):
            object.__setattr__(self, "stdin", self.stdin.encode("utf-8", "surrogateescape"))
        elif isinstance(self.stdin, (bytearray, memoryview)):
            object.__setattr__(self, "stdin", bytes(self.stdin))
        elif self.stdin is not None and not isinstance(self.stdin, bytes):
            raise ArgumentError(f"stdin must be str or bytes, not {_type_name(self.stdin)}")
        for flag in ("network", "ip_name_lookup", "inherit_stdio"):
            _check_bool(getattr(self, flag), flag)

    @staticmethod
    def checked(value, what: str = "grants") -> "Grants":
        """``value`` if it is a :class:`Grants`; anything else is refused with the fix."""
        if not isinstance(value, Grants):
            raise ArgumentError(f"{what} must be a wasmlab.Grants, not {_type_name(value)}: {value!r:.60}",
                                hint="Grants().with_dir('data', '/data').with_env(NAME='value'); "
                                     "Grants() grants nothing")
        return value

    def with_dir(self, host: str | os.PathLike, guest: str | None = None, *, read_only: bool = False) -> "Grants":
        """Grant the host directory ``host`` at the absolute guest path ``guest`` (by default
        ``host`` itself, when that is absolute)."""
        text = _path_text(host, "the host path")
        if guest is None:
            guest = text
        DirGrant(text, guest, read_only)  # refuses before resolving: "" must not become the working directory
        return replace(self, dirs=self.dirs + (DirGrant(str(Path(text).resolve()), guest, read_only),))

    def with_env(self, **values: str) -> "Grants":
        return replace(self, env=self.env + tuple(values.items()))

    def with_host_env(self, *names: str) -> "Grants":
        return replace(self, inherit_env=self.inherit_env + names)

    def with_args(self, *args: str) -> "Grants":
        return replace(self, args=tuple(args))

    def with_stdin(self, data: str | bytes) -> "Grants":
        return replace(self, stdin=data)

    def with_network(self, *, sockets: bool = True, name_lookup: bool = True) -> "Grants":
        """Outbound sockets to any address (``--inherit-network``) and name lookup
        (``--allow-ip-name-lookup``).  All or nothing: the C API has no per-address check.
        Where wasmtime-py cannot open sockets (see :func:`sockets_available`) a command granted
        them runs in the wasmtime CLI, and calling an exported function in-process is refused.
        ``sockets`` also grants outgoing HTTP (``wasi:http``) to any host, which runs in the CLI too."""
        _check_bool(sockets, "sockets")
        _check_bool(name_lookup, "name_lookup")
        return replace(self, network=sockets, ip_name_lookup=name_lookup)

    def environment(self) -> list[tuple[str, str]]:
        """The variables the guest sees: given values, then named host variables that exist."""
        passed = [(n, os.environ[n]) for n in self.inherit_env if n in os.environ]
        return list(self.env) + passed

    def describe(self) -> dict[str, str]:
        """Each capability and what this run grants of it, in words."""
        env = ", ".join(n for n, _ in self.environment())
        return {
            "filesystem": "; ".join(map(str, self.dirs)) or "nothing",
            "environment": (f"variables {env}" if env else "no variables")
                           + (f"; arguments {list(self.args)}" if self.args else ""),
            "network": self._describe_network(),
            "http": ("outgoing requests to any host, through the wasmtime CLI" if self.network else
                     "no outgoing requests (they need the network grant)"),
            "stdio": "the host's own" if self.inherit_stdio else
                     "captured into the cell" + ("; stdin given" if self.stdin is not None else "; empty stdin"),
            "clocks": "granted (always)",
            "random": "granted (always)",
        }


    def _describe_network(self) -> str:
        if not self.network:
            sockets = "no sockets"
        elif sockets_available():
            sockets = "outbound sockets to any address"
        else:
            sockets = "outbound sockets to any address, through the wasmtime CLI (wasmtime-py cannot open sockets)"
        return sockets + ("; name lookup" if self.ip_name_lookup else "; no name lookup")


def _sequence(value, what: str) -> tuple:
    if isinstance(value, (str, bytes)) or not isinstance(value, (tuple, list)):
        raise ArgumentError(f"{what} must be a tuple or list, not {_type_name(value)}: {value!r:.60}")
    return tuple(value)


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMG]i?B?|B)?\s*$", re.IGNORECASE)
_SIZE_HINT = "write bytes, or a number with K, M or G: 64M"
MAX_MEMORY = (1 << 63) - 1  # the store limiter takes an int64 (a negative one means "no limit")
MAX_FUEL = (1 << 64) - 1  # fuel is a u64


def parse_size(text: str | int) -> int:
    """Bytes from ``65536``, ``"64K"``, ``"16M"``, ``"1G"`` (powers of 1024): a positive size
    the memory limiter can hold.

    >>> parse_size("1.5K")
    1536
    >>> parse_size("-1M")
    Traceback (most recent call last):
    wasmlab.errors.ArgumentError: argument error: '-1M' is not a size
    hint: write bytes, or a number with K, M or G: 64M
    """
    if isinstance(text, bool) or not isinstance(text, (int, str)):
        raise ArgumentError(f"a size must be a number of bytes or text like '64M', not {_type_name(text)}: "
                            f"{text!r:.60}", hint=_SIZE_HINT)
    if isinstance(text, int):
        size = text
    else:
        match = _SIZE.match(text)
        if not match:
            raise ArgumentError(f"{text!r:.60} is not a size", hint=_SIZE_HINT)
        whole, _, fraction = match.group(1).partition(".")
        scale = {"B": 1, "K": 1024, "M": 1024 ** 2, "G": 1024 ** 3}[(match.group(2) or "B").upper()[:1]]
        # exact arithmetic: float would round a long number of bytes
        size = int(whole) * scale + (int(fraction) * scale // 10 ** len(fraction) if fraction else 0)
    if size <= 0:
        raise ArgumentError(f"a memory limit of {text!r:.60} leaves no memory", hint="a positive size: 64M")
    if size > MAX_MEMORY:
        raise ArgumentError(f"a memory limit of {text!r:.60} is more than wasmtime can count ({MAX_MEMORY:,} bytes)",
                            hint="leave the limit out for no limit, or give a size like 4G")
    return size


@dataclass(frozen=True)
class Limits:
    """Per-run limits: wall-clock ``timeout`` in seconds, ``max_memory`` in bytes (or "64M"),
    ``fuel``: a deterministic budget of Wasm instructions per call.  Checked when made:

    >>> Limits(fuel=-1)
    Traceback (most recent call last):
    wasmlab.errors.ArgumentError: argument error: a fuel budget of -1 is not between 1 and 2**64 - 1
    hint: give a positive budget (Limits(fuel=1_000_000)); leave it out for none

    ``interruptible=False`` drops the epoch checks compiled into every loop (time limits and
    the kernel's stop button need them): tight loops run several times faster, but only a
    fuel budget can stop them.
    """

    timeout: float | None = None
    max_memory: int | str | None = None
    fuel: int | None = None
    interruptible: bool = True

    def __post_init__(self):
        if self.max_memory is not None:
            object.__setattr__(self, "max_memory", parse_size(self.max_memory))
        if self.fuel is not None:
            if isinstance(self.fuel, bool) or not isinstance(self.fuel, int):
                raise ArgumentError(f"fuel must be a whole number of instructions, not {_type_name(self.fuel)}: "
                                    f"{self.fuel!r:.60}", hint="Limits(fuel=1_000_000) or --fuel 1000000")
            if not 0 < self.fuel <= MAX_FUEL:
                raise ArgumentError(f"a fuel budget of {self.fuel:,} is not between 1 and 2**64 - 1",
                                    hint="give a positive budget (Limits(fuel=1_000_000)); leave it out for none")
        if self.timeout is not None:
            if isinstance(self.timeout, bool) or not isinstance(self.timeout, (int, float)):
                raise ArgumentError(f"timeout must be a number of seconds, not {_type_name(self.timeout)}: "
                                    f"{self.timeout!r:.60}", hint="Limits(timeout=2.5) or --timeout 2.5")
            if not (math.isfinite(self.timeout) and self.timeout > 0):
                raise ArgumentError(f"a timeout of {self.timeout!r} seconds is not a positive, finite time",
                                    hint="give seconds > 0 (Limits(timeout=5)); leave it out for no time limit")
        _check_bool(self.interruptible, "interruptible")
        if self.timeout is not None and not self.interruptible:
            raise ArgumentError("a timeout needs an interruptible run", hint="drop interruptible=False or the timeout")

    @staticmethod
    def checked(value, what: str = "limits") -> "Limits":
        """``value`` if it is a :class:`Limits`; anything else is refused with the fix."""
        if not isinstance(value, Limits):
            raise ArgumentError(f"{what} must be a wasmlab.Limits, not {_type_name(value)}: {value!r:.60}",
                                hint="Limits(timeout=5, max_memory='64M', fuel=10_000_000); Limits() limits nothing")
        return value


# ---- asked / granted / used -------------------------------------------------------------------

def granted_capabilities(grants: Grants) -> set[str]:
    """The capabilities a run with ``grants`` can exercise at all."""
    granted = {"clocks", "random", "stdio", "exit", "io"}
    if grants.dirs:
        granted.add("filesystem")
    if grants.network or grants.ip_name_lookup:
        granted.add("network")
    if grants.network:  # outgoing HTTP (wasi:http) goes with the network grant
        granted.add("http")
    if grants.env or grants.inherit_env or grants.args:
        granted.add("environment")
    return granted


_FILE_DENIALS = ("FileNotFoundError", "PermissionError", "No such file", "Permission denied",
                 "Operation not permitted", "Read-only file system", "capabilities insufficient")
# what a guest says when a socket or a lookup failed (Python's socket module, wasi:sockets error names)
_SOCKET_SIGNS = ("socket", "connect", "access-denied", "AccessDenied")
_LOOKUP_SIGNS = ("gaierror", "getaddrinfo", "resolve-addresses", "resolver-failure", "name-unresolvable",
                 "Name or service not known", "name lookup")


def _network_hint(grants: Grants, *, lookup: bool) -> str | None:
    if lookup:
        if grants.ip_name_lookup:
            return None
        return ("name lookup is off; allow it with --allow-ip-name-lookup or "
                "Grants().with_network(sockets=False, name_lookup=True)")
    if grants.network:
        return None if sockets_available() else f"outbound sockets are granted, but {SOCKETS_UNAVAILABLE}"
    hint = "the network is off; allow outbound sockets with --inherit-network or Grants().with_network()"
    return hint if sockets_available() else f"{hint} (a command then runs in the wasmtime CLI: {SOCKETS_UNAVAILABLE})"


def denial_hint(grants: Grants, stderr: str, usage=None) -> str | None:
    """When a guest failed on something it was not granted, the grant that would allow it.

    ``usage`` (the run's :class:`~wasmlab.runtime.usage.Usage`) names refused network attempts
    exactly; without it the guest's error output is read for the signs of one.
    """
    if "unknown encoding: idna" in stderr:
        return ("componentize-py's Python has no idna codec, so socket functions fail on a host name given as "
                "text: pass it as bytes, socket.getaddrinfo(b'localhost', 80)")
    refused = usage.refusals("network") if usage is not None else []
    if refused:
        return _network_hint(grants, lookup=refused[-1].startswith("name lookup"))
    if any(sign in stderr for sign in _LOOKUP_SIGNS):
        hint = _network_hint(grants, lookup=True)
        if hint:
            return hint
    if any(sign in stderr for sign in _SOCKET_SIGNS):
        hint = _network_hint(grants, lookup=False)
        if hint:
            return hint
    if any(sign in stderr for sign in _FILE_DENIALS):
        if not grants.dirs:
            return "no directory is granted; grant one with --dir HOST::GUEST or Grants().with_dir(host, guest)"
        if all(d.read_only for d in grants.dirs) and any(s in stderr for s in ("Read-only", "PermissionError",
                                                                                 "not permitted")):
            return "the directories are granted read-only; grant with --dir (or read_only=False) to allow writes"
        return "only the granted directories exist for the guest: " + ", ".join(d.guest for d in grants.dirs)
    if "KeyError" in stderr and not grants.env:
        return "no environment variable is granted; pass one with --env NAME=VALUE or Grants().with_env(NAME=...)"
    return None


class Sandboxed:
    """``grants`` and ``limits`` of something that runs guest code (a component, a core module),
    checked when set; :meth:`_sandbox_changed` runs after each change."""

    name: str
    _grants: Grants = Grants()
    _limits: Limits = Limits()

    @property
    def grants(self) -> Grants:
        """What its runs and calls may touch (nothing unless granted)."""
        return self._grants

    @grants.setter
    def grants(self, value: Grants) -> None:
        self._grants = Grants.checked(value, f"{self.name}.grants")
        self._sandbox_changed()

    @property
    def limits(self) -> Limits:
        """How long, how much memory and how much fuel its runs and calls may take."""
        return self._limits

    @limits.setter
    def limits(self, value: Limits) -> None:
        self._limits = Limits.checked(value, f"{self.name}.limits")
        self._sandbox_changed()

    def _sandbox_changed(self) -> None:
        pass


class CapabilityReport(Displayable):
    """A component's capabilities: asked for (imports), granted (this run's grants), used.

    Displays as a graph (component -> capabilities) and a table.
    """

    def __init__(self, name: str, import_names, grants: Grants, usage, *, note: str | None = None):
        self.name = name
        self.note = note if note is not None else usage.note  # e.g. that the run happened in the wasmtime CLI
        self.asked = group_imports(import_names)
        self.grants = grants
        self.usage = usage
        self.granted = granted_capabilities(grants)
        self.used = usage.used()
        self.refused = usage.tried()

    def status(self, capability: str) -> str:
        """``used``, ``refused`` (tried and denied), ``granted, unused`` or ``denied``."""
        if capability in self.used:
            return "used" if capability in self.granted else "refused"
        if capability in self.refused:
            return "refused"
        if capability in self.granted:
            return "granted, unused"
        return "denied"

    def rows(self) -> list[tuple[str, str, str, str]]:
        """(capability, asked, granted, used) for every capability the component asks for."""
        described = self.grants.describe()
        rows = []
        for cap, names in self.asked.items():
            granted = described.get(cap, "granted (always)" if cap in self.granted else "nothing")
            if cap not in self.granted:
                granted = "denied"
            calls = self.usage.calls.get(cap)
            used = f"{calls} call{'s' if calls != 1 else ''}" if calls else ""
            if calls and cap not in self.granted:  # the guest asked and got nothing (an empty environment)
                used = f"{calls} attempt{'s' if calls != 1 else ''}, nothing granted"
            if cap == "filesystem" and self.usage.files:
                used = "; ".join(f"{p} ({', '.join(sorted(a))})" for p, a in sorted(self.usage.files.items()))
            refusals = self.usage.refusals(cap)
            if refusals:
                used = "; ".join(filter(None, [used, "refused: " + "; ".join(refusals)]))
            rows.append((cap, f"{len(names)} interface{'s' if len(names) != 1 else ''}", granted, used or "-"))
        return rows

    def table(self) -> str:
        header = ("capability", "asked", "granted", "used")
        rows = [header, *self.rows()]
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
        return "\n".join(lines + ([f"note: {self.note}"] if self.note else []))

    def graph(self):
        return views.make("capability graph", self)

    def __repr__(self) -> str:
        return self.table()
