"""The WASI WIT definitions wasmlab resolves user worlds against.

They are not typed in here: they come from the WebAssembly/WASI definitions that the
``spin-sdk`` wheel on PyPI carries (``spin_sdk/wit/deps``), found without importing it.
"""

from __future__ import annotations

import functools
import importlib.util
import re
from pathlib import Path

from wasmlab.errors import ToolError

__all__ = ["wasi_packages", "WASI_VERSIONS", "PACKAGE_HEADER", "header_package"]

WASI_PACKAGES = ("io", "clocks", "random", "cli", "filesystem", "sockets", "http")
# 0.2.0 because tutorials use it, 0.2.6 the newest 0.2 release shipped, 0.3.0 for async.
WASI_VERSIONS = ("0.2.0", "0.2.6", "0.3.0")
# `package ns:name@version;` opening a WIT file (nested `package ... { }` blocks end in `{`)
PACKAGE_HEADER = re.compile(r"^\s*package\s+([\w-]+:[\w-]+)(?:@([\w.+-]+))?\s*;", re.MULTILINE)


def header_package(text: str) -> str | None:
    r"""The package a WIT text declares in its header, ``ns:name@version`` (or ``ns:name``).

    >>> header_package("// a comment\npackage acme:shop@0.1.0;\ninterface x {}"), header_package("world w {}")
    ('acme:shop@0.1.0', None)
    """
    match = PACKAGE_HEADER.search(text)
    if match is None:
        return None
    return match.group(1) + (f"@{match.group(2)}" if match.group(2) else "")


@functools.lru_cache(maxsize=1)
def _deps_root() -> Path:
    spec = importlib.util.find_spec("spin_sdk")
    if spec is None or not spec.submodule_search_locations:
        raise ToolError("the WASI WIT definitions are missing", hint="pip install spin-sdk")
    return Path(next(iter(spec.submodule_search_locations))) / "wit" / "deps"


@functools.lru_cache(maxsize=1)
def wasi_packages() -> dict[str, Path]:
    """``{"wasi:cli@0.2.6": path, ...}``: each a folder or a single ``.wit`` file."""
    root = _deps_root()
    found: dict[str, Path] = {}
    for entry in sorted(root.iterdir()):
        base = entry.name.removesuffix(".wit").split("@")[0]
        if base not in WASI_PACKAGES:
            continue
        name = _package_name(entry)
        if name and name.split("@")[1] in WASI_VERSIONS:
            found[name] = entry
    return found


def _package_name(entry: Path) -> str | None:
    files = sorted(entry.glob("*.wit")) if entry.is_dir() else [entry]
    for file in files:
        name = header_package(file.read_text(encoding="utf-8"))
        if name and "@" in name:
            return name
    return None
