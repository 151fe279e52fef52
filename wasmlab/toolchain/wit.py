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

_MISSING = re.compile(r"package '([\w-]+:[\w-]+)(?:@([\w.+-]+))?' not found")
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
        _check_deps_dir(deps_dir)
        defined_here = _declared_packages(source)
        with tempfile.TemporaryDirectory(prefix="wasmlab-wit-") as tmp:
            root = Path(tmp)
            (root / CELL_FILE).write_text(source, encoding="utf-8")
            if not wasi.PACKAGE_HEADER.search(source):
                # Only nested `package x:y { ... }` blocks: give the folder a package of its own.
                (root / "_scratch.wit").write_text(f"package {_SCRATCH};\n", encoding="utf-8")
            shown = self._write_deps(root / "deps", skip=defined_here, deps_dir=deps_dir)
            result = wasm_tools("component", "wit", root, "--json", "--color", "never", check=False)
            tried: set[str] = set()
            while not result.ok and self._fetch_missing(result.stderr, root / "deps", tried):
                result = wasm_tools("component", "wit", root, "--json", "--color", "never", check=False)
            if not result.ok:
                raise _located_wit_error(result.stderr, {str(root / CELL_FILE): origin, **shown, str(root): origin},
                                         cell=(str(root / CELL_FILE), source))
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

    def _fetch_missing(self, stderr: str, deps: Path, tried: set[str]) -> bool:
        """A package wasm-tools did not find, pulled from its registry (wkg configuration) into the
        session and ``deps``; False when there is none to fetch."""
        from wasmlab.errors import RegistryError
        from wasmlab.toolchain.registry import fetch_package, wit_text

        missing = _MISSING.search(_strip_color(stderr))
        if missing is None or missing[0] in tried:
            return False
        tried.add(missing[0])
        try:
            data = fetch_package(missing[1], missing[2])
            if data is None:
                return False
            text = wit_text(data)
        except RegistryError as exc:
            raise WitError(f"package '{missing[0]}' is not defined here, and its registry failed: {exc.message}",
                           hint=exc.hint) from None
        name = wasi.header_package(text) or missing[0]
        self._packages[name] = WitPackage(name, text, f"registry:{name}")
        (deps / _file_name(name)).write_text(text, encoding="utf-8")
        return True

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
            shown = {}
            for name, src in wasi.wasi_packages().items():
                link = deps / f"wasmlab-{_file_name(name, folder=src.is_dir())}"
                _link(src, link)
                shown[str(link)] = str(src)
            result = wasm_tools("component", "wit", root, "--color", "never", check=False)
            if not result.ok:
                raise _located_wit_error(result.stderr, {**shown, str(root): str(path)})
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

    def _write_deps(self, deps: Path, *, skip: set[str], deps_dir=None) -> dict[str, str]:
        """Lay out what a package may depend on; returns how to name each written path to a user."""
        deps.mkdir(parents=True, exist_ok=True)
        shown: dict[str, str] = {}
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
            shown[str(deps / name)] = f"{pkg.origin} (package {pkg.name})"
            taken.add(pkg.name)
        for name, path in wasi.wasi_packages().items():
            if name in taken:
                continue
            link = deps / _file_name(name, folder=path.is_dir())
            _link(path, link)
            shown[str(link)] = str(path)
        for entry_name, path in user.items():
            _link(path, deps / f"user-{entry_name}")
            shown[str(deps / f"user-{entry_name}")] = str(path)
        shown[str(deps)] = str(deps_dir) if deps_dir is not None else "the packages defined before"
        return shown

    def materialize(self, package: str, dest: str | os.PathLike, *, deps_dir=None) -> Path:
        """Write ``package`` as ``dest/main.wit`` and everything it may depend on into ``dest/deps``.

        The folder is what componentize-py and ``wasm-tools component embed`` take as ``--wit``.
        """
        pkg = self.find(package)
        if pkg is None:
            raise WitError(f"no WIT package named {package!r} is defined in this session",
                           hint=_known_hint(self))
        _check_deps_dir(deps_dir)
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
    for match in [*wasi.PACKAGE_HEADER.finditer(source), *_NESTED.finditer(source)]:
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
            name = wasi.header_package(text)
            if name:
                texts[name] = text
        return texts


def _user_dep_names(deps_dir: Path) -> list[str]:
    names = []
    for entry in sorted(deps_dir.iterdir()):
        files = sorted(entry.glob("*.wit")) if entry.is_dir() else [entry] if entry.suffix == ".wit" else []
        for file in files:
            name = wasi.header_package(file.read_text(encoding="utf-8"))
            if name:
                names.append(name)
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


def _check_deps_dir(deps_dir) -> None:
    if deps_dir is not None and not Path(deps_dir).is_dir():
        what = "is not a folder" if Path(deps_dir).exists() else "does not exist"
        raise WitError(f"the deps folder {deps_dir} {what}",
                       hint="a deps folder holds WIT packages: one .wit file or one folder each")


_PATH_PREFIX = re.compile(r"^failed to parse (?:dependency directory|package): [^:\n]*: ")
_DUPLICATE = re.compile(r"^\s*\*\s+(.+?):(\d+):(\d+)\s*$", re.MULTILINE)


def _located_wit_error(stderr: str, shown: dict[str, str], *, cell: tuple[str, str] | None = None) -> WitError:
    """wasm-tools' complaint, located in what the user wrote: ``shown`` names the scratch paths
    wasmlab made (longest first wins); ``cell`` is the scratch file holding the cell's source."""
    text = _strip_color(stderr).strip()

    def user_path(path: str) -> str:
        for scratch in sorted(shown, key=len, reverse=True):
            if path == scratch or path.startswith(scratch + os.sep):
                return shown[scratch] + path[len(scratch):]
        return path

    first = text.splitlines()[0] if text else "wasm-tools rejected the WIT"
    message = re.sub(r"^error:\s*", "", first)
    while _PATH_PREFIX.match(message):  # the folders wasm-tools was in: the location says where
        message = _PATH_PREFIX.sub("", message, count=1)
    hint = None
    if "known packages:" in text or "not found" in message:
        message = message.split(". known packages")[0]
        hint = "WASI packages are available at versions " + ", ".join(wasi.WASI_VERSIONS) + \
               "; define other packages in an earlier %%wit cell or pass a deps folder"
    places = [(m.group(1), m.group(2), m.group(3)) for m in _LOCATION.finditer(text)]
    if "defined in two different locations" in message:
        message = message.replace("defined in two different locations:", "defined twice")
        places = [(m.group(1), m.group(2), m.group(3)) for m in _DUPLICATE.finditer(text)]
        hint = "wasmlab provides the WASI packages itself; give yours another name" if "`wasi:" in message else \
            "a package of this name is also among the packages defined before or in the deps folder"
    if cell is not None:  # prefer a place in the cell
        places.sort(key=lambda place: Path(place[0]) != Path(cell[0]))
    inline = _INLINE_LOCATION.match(message)
    if not places and inline is not None:  # "PATH:LINE:COL: message", e.g. "type nesting too deep"
        places, message = [(inline.group(1), inline.group(2), inline.group(3))], inline.group(4)
    location = None
    if places:
        path, line, col = places[0][0], int(places[0][1]), int(places[0][2])
        if cell is not None and Path(path) == Path(cell[0]):
            location = Location(shown.get(cell[0], "<wit>"), line, col, cell[1])
        else:
            try:
                file_text = Path(path).read_text(encoding="utf-8")
            except OSError:
                file_text = None
            location = Location(user_path(path), line, col, file_text)
    for scratch in sorted(shown, key=len, reverse=True):
        message = message.replace(scratch, shown[scratch])
    return WitError(message, location=location, hint=hint)
