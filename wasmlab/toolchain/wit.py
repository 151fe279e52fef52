"""WIT packages written in cells: validation by wasm-tools, the session registry, located errors.

``define(text)`` hands the text to the real wasm-tools, registers every package it defines
under its name (``acme:shop@0.1.0``) so later cells and builds can refer to it, and returns a
:class:`WitDefinition` that displays the canonical WIT and a diagram of each world.
Dependencies are found in the session registry, in an optional deps folder, and in the WASI
definitions wasmlab ships (see :mod:`wasmlab._wasi`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from wasmlab.errors import Location, WitError
from wasmlab.toolchain import wasi
from wasmlab.toolchain.tools import _strip_color, wasm_tools
from wasmlab.views import Displayable
from wasmlab.wittypes import Resolve, World

__all__ = ["WitPackage", "WitDefinition", "WitRegistry", "define", "registry", "check_paths"]

_HEADER = re.compile(r"^\s*package\s+([\w-]+:[\w-]+)(?:@([\w.+-]+))?\s*;", re.MULTILINE)
_NESTED = re.compile(r"^\s*package\s+([\w-]+:[\w-]+)(?:@([\w.+-]+))?\s*\{", re.MULTILINE)
_LOCATION = re.compile(r"-->\s+(.+?):(\d+):(\d+)\s*$", re.MULTILINE)
_INLINE_LOCATION = re.compile(r"(\S+?):(\d+):(\d+): (.*)")
_SCRATCH = "wasmlab:cell"
CELL_FILE = "cell.wit"
_PACKAGE_REFERENCE = re.compile(r"%?([a-z][a-z0-9]*(?:-[a-z0-9]+)*:%?[a-z][a-z0-9]*(?:-[a-z0-9]+)*)")


@dataclass
class WitPackage:
    """One validated WIT package as wasm-tools prints it (canonical text)."""

    name: str  # "ns:pkg@1.0.0" (no "@..." when unversioned)
    text: str
    origin: str = "<wit>"

    @property
    def base_name(self) -> str:
        return self.name.partition("@")[0]

    @property
    def version(self) -> str | None:
        return self.name.partition("@")[2] or None


@dataclass
class WitDefinition(Displayable):
    """What a ``%%wit`` cell defined: its packages, resolved together with their dependencies."""

    packages: list[WitPackage]
    resolve: Resolve
    source: str
    origin: str = "<wit>"

    @property
    def worlds(self) -> list[World]:
        names = {p.name for p in self.packages}
        return [w for w in self.resolve.worlds if w.package is not None and w.package.name in names]

    @property
    def text(self) -> str:
        return "\n".join(p.text for p in self.packages)

    def __repr__(self) -> str:
        names = ", ".join(p.name for p in self.packages)
        return f"<WitDefinition {names}>"



class WitRegistry:
    """The WIT packages known to a session, by name; re-defining a package replaces it."""

    def __init__(self) -> None:
        self._packages: dict[str, WitPackage] = {}

    def __contains__(self, name: str) -> bool:
        return self.find(name) is not None

    def __iter__(self):
        return iter(list(self._packages.values()))

    def clear(self) -> None:
        self._packages.clear()

    def find(self, name: str) -> WitPackage | None:
        """A package by ``ns:pkg@ver`` or ``ns:pkg`` (the newest version when several)."""
        if name in self._packages:
            return self._packages[name]
        matches = [p for p in self._packages.values() if p.base_name == name]
        return max(matches, key=lambda p: _version_key(p.version)) if matches else None

    def define(self, source: str, *, origin: str = "<wit>", deps_dir: str | os.PathLike | None = None) -> WitDefinition:
        """Validate ``source`` (one or more WIT packages) and register what it defines."""
        if not source.strip():
            raise WitError("the cell is empty", hint="write a WIT package, e.g. `package demo:hello;` and an interface")
        defined_here = _declared_packages(source)
        with tempfile.TemporaryDirectory(prefix="wasmlab-wit-") as tmp:
            root = Path(tmp)
            (root / CELL_FILE).write_text(source, encoding="utf-8")
            if not _HEADER.search(source):
                # Only nested `package x:y { ... }` blocks: give the folder a package of its own.
                (root / "_scratch.wit").write_text(f"package {_SCRATCH};\n", encoding="utf-8")
            self._write_deps(root / "deps", skip=defined_here, deps_dir=deps_dir)
            result = wasm_tools("component", "wit", root, "--json", "--color", "never", check=False)
            if not result.ok:
                raise _located_wit_error(result.stderr, source, origin, root)
            resolve = Resolve(json.loads(result.stdout))
            canonical = _split_packages(root)
        dep_names = set(self._dep_names(skip=defined_here, deps_dir=deps_dir))
        packages = [
            WitPackage(name, text, origin)
            for name, text in canonical.items()
            if name not in dep_names and name != _SCRATCH
        ]
        if not packages:
            raise WitError("no WIT package was defined", hint="start the cell with `package ns:name;`",
                           location=Location(origin, 1, 1, source))
        for pkg in packages:
            self._packages[pkg.name] = pkg
        return WitDefinition(packages, resolve, source, origin)

    def define_path(self, path: str | os.PathLike) -> list[WitPackage]:
        """Register the packages of a ``.wit`` file, or of a folder (a package plus ``deps/``)."""
        path = Path(path)
        if path.is_file():
            return self.define(path.read_text(encoding="utf-8"), origin=str(path)).packages
        if not path.is_dir():
            raise WitError(f"{path}: no such file or folder")
        with tempfile.TemporaryDirectory(prefix="wasmlab-wit-") as tmp:
            root = Path(tmp) / "pkg"
            shutil.copytree(path, root, symlinks=True)
            deps = root / "deps"
            deps.mkdir(exist_ok=True)
            for name, src in wasi.wasi_packages().items():
                _link(src, deps / f"wasmlab-{_file_name(name, folder=src.is_dir())}")
            result = wasm_tools("component", "wit", root, "--color", "never", check=False)
            if not result.ok:
                raise _located_wit_error(result.stderr.replace(str(root), str(path)), None, None, None)
            canonical = _split_packages(root)
        packages = [WitPackage(n, t, str(path)) for n, t in canonical.items() if n not in wasi.wasi_packages()]
        for pkg in packages:
            self._packages[pkg.name] = pkg
        return packages

    def _dep_names(self, *, skip: set[str], deps_dir) -> list[str]:
        names = [n for n in self._packages if n not in skip and n.partition("@")[0] not in skip]
        names += list(wasi.wasi_packages())
        if deps_dir is not None:
            names += [n for n in _user_dep_names(Path(deps_dir))]
        return names

    def _write_deps(self, deps: Path, *, skip: set[str], deps_dir=None) -> None:
        deps.mkdir(parents=True, exist_ok=True)
        taken: set[str] = set()
        user = {}
        if deps_dir is not None:
            for entry in sorted(Path(deps_dir).iterdir()):
                if entry.is_dir() or entry.suffix == ".wit":
                    user[entry.name] = entry
        for pkg in self._packages.values():
            if pkg.name in skip or pkg.base_name in skip:
                continue
            name = _file_name(pkg.name)
            (deps / name).write_text(pkg.text, encoding="utf-8")
            taken.add(pkg.name)
        for name, path in wasi.wasi_packages().items():
            if name in taken:
                continue
            _link(path, deps / _file_name(name, folder=path.is_dir()))
        for entry_name, path in user.items():
            _link(path, deps / f"user-{entry_name}")

    def materialize(self, package: str, dest: str | os.PathLike, *, deps_dir=None) -> Path:
        """Write ``package`` as ``dest/main.wit`` and everything it may depend on into ``dest/deps``.

        The folder is what componentize-py and ``wasm-tools component embed`` take as ``--wit``.
        """
        pkg = self.find(package)
        if pkg is None:
            raise WitError(f"no WIT package named {package!r} is defined in this session",
                           hint=_known_hint(self))
        dest = Path(dest)
        dest.mkdir(parents=True, exist_ok=True)
        (dest / "main.wit").write_text(pkg.text, encoding="utf-8")
        self._write_deps(dest / "deps", skip={pkg.name}, deps_dir=deps_dir)
        return dest

    def fingerprint(self, package: str) -> str:
        """A hash of a package and of the session packages it refers to, directly or through
        others: what a build of it can depend on.  Defining an unrelated package leaves it alone,
        so a build stays cached whichever other cells ran before it."""
        digest = hashlib.sha256()
        for pkg in sorted(self._referenced(package), key=lambda p: p.name):
            digest.update(pkg.name.encode() + b"\0" + pkg.text.encode() + b"\0")
        digest.update(package.encode())
        return digest.hexdigest()

    def _referenced(self, package: str) -> list[WitPackage]:
        """``package`` and every session package its text names (``ns:pkg``), transitively."""
        start = self.find(package)
        found: dict[str, WitPackage] = {}
        pending = [start] if start is not None else []
        while pending:
            pkg = pending.pop()
            if pkg.name in found:
                continue
            found[pkg.name] = pkg
            named = set(_PACKAGE_REFERENCE.findall(pkg.text))
            pending.extend(p for p in self._packages.values() if p.base_name in named and p.name not in found)
        return list(found.values())

    def find_world(self, name: str) -> tuple[WitPackage, str]:
        """Resolve a world reference: ``ns:pkg/world@ver``, ``ns:pkg/world`` or a bare ``world``."""
        if "/" in name:
            pkg_part, _, world_part = name.partition("/")
            world, _, version = world_part.partition("@")
            pkg = self.find(f"{pkg_part}@{version}" if version else pkg_part)
            if pkg is None:
                raise WitError(f"no WIT package {pkg_part!r} is defined in this session", hint=_known_hint(self))
            if world not in _world_names(pkg.text):
                raise WitError(f"package {pkg.name} has no world {world!r}",
                               hint=_choices("worlds", _world_names(pkg.text)))
            return pkg, world
        owners = [p for p in self._packages.values() if name in _world_names(p.text)]
        if not owners:
            every = sorted({w for p in self._packages.values() for w in _world_names(p.text)})
            raise WitError(f"no world named {name!r} is defined in this session",
                           hint=_choices("worlds", every) if every else "define one in a %%wit cell first")
        if len(owners) > 1:
            raise WitError(f"several packages define a world {name!r}",
                           hint="name it fully: " + ", ".join(f"{p.base_name}/{name}" for p in owners))
        return owners[0], name


registry = WitRegistry()


def define(source: str, *, origin: str = "<wit>", deps_dir: str | os.PathLike | None = None) -> WitDefinition:
    """Validate WIT ``source`` and register its packages in the session :data:`registry`.

    >>> define('package demo:hi; interface greet { hello: func(name: string) -> string; }')
    <WitDefinition demo:hi>
    """
    return registry.define(source, origin=origin, deps_dir=deps_dir)


def check_paths(paths: list[str | os.PathLike]) -> list[WitError]:
    """Validate WIT files or folders (folders may hold ``deps/``); the errors found, located in files."""
    errors = []
    for path in paths:
        try:
            WitRegistry().define_path(path)
        except WitError as err:
            errors.append(err)
    return errors


def _declared_packages(source: str) -> set[str]:
    names = set()
    for match in [*_HEADER.finditer(source), *_NESTED.finditer(source)]:
        names.add(match.group(1) + (f"@{match.group(2)}" if match.group(2) else ""))
        names.add(match.group(1))
    return names


def _split_packages(root: Path) -> dict[str, str]:
    """Each package of a resolved folder as its own canonical WIT text."""
    with tempfile.TemporaryDirectory(prefix="wasmlab-wit-out-") as out:
        wasm_tools("component", "wit", root, "--out-dir", out, "--color", "never")
        texts = {}
        for file in sorted(Path(out).rglob("*.wit")):
            text = file.read_text(encoding="utf-8")
            match = _HEADER.search(text)
            if match:
                texts[match.group(1) + (f"@{match.group(2)}" if match.group(2) else "")] = text
        return texts


def _user_dep_names(deps_dir: Path) -> list[str]:
    names = []
    for entry in sorted(deps_dir.iterdir()):
        files = sorted(entry.glob("*.wit")) if entry.is_dir() else [entry] if entry.suffix == ".wit" else []
        for file in files:
            match = _HEADER.search(file.read_text(encoding="utf-8"))
            if match:
                names.append(match.group(1) + (f"@{match.group(2)}" if match.group(2) else ""))
                break
    return names


def _world_names(text: str) -> list[str]:
    return re.findall(r"^\s*world\s+([\w-]+)\s*\{", text, re.MULTILINE)


def _file_name(package: str, *, folder: bool = False) -> str:
    safe = package.replace(":", "-").replace("@", "-")
    return safe if folder else f"{safe}.wit"


def _link(src: Path, dest: Path) -> None:
    try:
        dest.symlink_to(src, target_is_directory=src.is_dir())
    except OSError:  # filesystems without symlinks
        if src.is_dir():
            shutil.copytree(src, dest)
        else:
            shutil.copyfile(src, dest)


def _version_key(version: str | None):
    if not version:
        return (0,)
    core = version.split("-")[0].split("+")[0]
    return tuple(int(p) if p.isdigit() else 0 for p in core.split("."))


def _known_hint(reg: WitRegistry) -> str:
    names = sorted(p.name for p in reg)
    return _choices("packages", names) if names else "define it in a %%wit cell first"


def _choices(what: str, names) -> str:
    names = list(names)
    shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
    return f"known {what}: {shown}"


def _located_wit_error(stderr: str, source: str | None, origin: str | None, root: Path | None) -> WitError:
    text = _strip_color(stderr).strip()
    first = text.splitlines()[0] if text else "wasm-tools rejected the WIT"
    message = re.sub(r"^error:\s*", "", first)
    message = re.sub(r"^failed to parse package: [^:]*: ", "", message)
    hint = None
    if "known packages:" in text or "not found" in message:
        message = message.split(". known packages")[0]
        hint = "WASI packages are available at versions " + ", ".join(wasi.WASI_VERSIONS) + \
               "; define other packages in an earlier %%wit cell or pass a deps folder"
    match = _LOCATION.search(text)
    inline = _INLINE_LOCATION.match(message)
    if match is None and inline is not None:  # "PATH:LINE:COL: message", e.g. "type nesting too deep"
        match, message = inline, inline.group(4)
    location = None
    if match:
        path, line, col = match.group(1), int(match.group(2)), int(match.group(3))
        if source is not None and root is not None and Path(path).resolve() == (root / CELL_FILE).resolve():
            location = Location(origin or "<wit>", line, col, source)
        else:
            shown = path
            if root is not None and path.startswith(str(root)):
                shown = os.path.relpath(path, root)
            try:
                file_text = Path(path).read_text(encoding="utf-8")
            except OSError:
                file_text = None
            location = Location(shown, line, col, file_text)
    return WitError(message, location=location, hint=hint)
