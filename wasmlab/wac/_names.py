"""Component-model extern names (imports and exports), checked as wasmparser checks them.

``parse_extern_name(name)`` returns the name's kind - ``"label"``, ``"constructor"``,
``"method"``, ``"static"``, ``"interface"``, ``"dependency"``, ``"url"``, ``"hash"`` - or raises
``ValueError`` with wasmparser's message (e.g. ``"`Foo` is not in kebab case"``).
``interface_package(name)`` gives ``"ns:pkg"`` of an interface name.
"""

from __future__ import annotations

import re

__all__ = ["parse_extern_name", "is_kebab", "interface_package"]

_WORD = re.compile(r"^(?:[a-z][a-z0-9]*|[A-Z][A-Z0-9]*)$")
_SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$")


def is_kebab(text: str) -> bool:
    if not text:
        return False
    return all(_WORD.match(word) for word in text.split("-"))


def _kebab(text: str) -> None:
    if not text:
        raise ValueError("`` is not in kebab case")
    if not is_kebab(text):
        raise ValueError(f"`{text}` is not in kebab case")


def _interface(name: str) -> None:
    main, _, version = name.partition("@")
    if "@" in name and not _SEMVER.match(version):
        raise ValueError(f"`{version}` is not a valid semver")
    if ":" not in main:
        raise ValueError(f"`{main}` is not in kebab case")
    ns, _, rest = main.partition(":")
    _kebab(ns)
    if "/" not in rest:
        raise ValueError("expected `/` after package name")
    pkg, _, tail = rest.partition("/")
    _kebab(pkg)
    for part in tail.split("/"):
        _kebab(part)


def parse_extern_name(name: str) -> str:
    for prefix, kind in (("[constructor]", "constructor"), ("[method]", "method"),
                         ("[static]", "static")):
        if name.startswith(prefix):
            rest = name[len(prefix):]
            if kind == "constructor":
                _kebab(rest)
            else:
                if "." not in rest:
                    raise ValueError("failed to find `.` character")
                res, _, fn = rest.partition(".")
                _kebab(res)
                _kebab(fn)
            return kind
    for prefix, kind in (("unlocked-dep=", "dependency"), ("locked-dep=", "dependency"),
                         ("url=", "url"), ("integrity=", "hash")):
        if name.startswith(prefix):
            return kind
    if ":" in name:
        _interface(name)
        return "interface"
    _kebab(name)
    return "label"


def interface_package(name: str) -> str | None:
    if ":" not in name or "/" not in name:
        return None
    return name.split("/", 1)[0]
