"""What a component asks for, in the terms of capability-based security.

A component can only reach what its host hands it.  Its WASI imports say what it could ask
for; this module names those asks as capabilities (filesystem, network, environment, ...).
"""

from __future__ import annotations

__all__ = ["CAPABILITIES", "capability_of", "group_imports"]

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
