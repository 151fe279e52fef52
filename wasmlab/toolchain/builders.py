"""Building components: Python guests (componentize-py), WAT guests, stubs from a WIT world.

Every build is cached on disk under a hash of its inputs (:mod:`wasmlab.cache`): an unchanged
build cell returns in milliseconds, also after a kernel restart.  Failures come back as
:class:`~wasmlab.errors.BuildError` located in the source the user wrote.
"""

from __future__ import annotations

import ast
import json
import os
import re
import tempfile
from pathlib import Path

from wasmlab.errors import BuildError, Location
from wasmlab.progress import Progress
from wasmlab.toolchain import cache
from wasmlab.toolchain.tools import (
    _strip_color,
    componentize_py,
    tool_versions,
    wasm_tools,
    wat_is_component,
    wat_is_empty,
)
from wasmlab.toolchain.wit import WitRegistry
from wasmlab.toolchain.wit import registry as session_registry
from wasmlab.values import class_name, py_name
from wasmlab.wittypes import Resolve, World

__all__ = ["build_python", "build_wat", "build_stub", "BuildResult", "world_of_wasm"]

_PY_MODULE = "app"
_TRACE_LINE = re.compile(r'File "[^"]*/' + _PY_MODULE + r'\.py", line (\d+)')
_WAT_LOCATION = re.compile(r"-->\s+(.+?):(\d+):(\d+)")


class BuildResult:
    """A built component on disk with its world; ``cached`` says whether the build was skipped."""

    def __init__(self, entry: cache.CacheEntry, cached: bool, seconds: float):
        self.entry = entry
        self.cached = cached
        self.seconds = seconds

    @property
    def wasm_path(self) -> Path:
        return self.entry.wasm

    @property
    def meta(self) -> dict:
        return self.entry.meta


def world_of_wasm(wasm: bytes | os.PathLike) -> dict:
    """The world a component binary implements: ``{"wit": text, "resolve": json}``."""
    with tempfile.TemporaryDirectory(prefix="wasmlab-inspect-") as tmp:
        path = Path(tmp) / "c.wasm"
        if isinstance(wasm, (bytes, bytearray)):
            path.write_bytes(wasm)
        else:
            path = Path(wasm)
        text = wasm_tools("component", "wit", path, "--color", "never", check=False)
        if not text.ok:
            raise BuildError("the output is not a valid component", detail=_strip_color(text.stderr))
        resolved = wasm_tools("component", "wit", path, "--json", "--color", "never")
    return {"wit": text.text, "resolve": json.loads(resolved.stdout)}


def _cached_or_build(kind: str, key_inputs: dict, title: str, produce, *, progress: bool) -> BuildResult:
    key = cache.input_key(kind=kind, tools=tool_versions(), **key_inputs)
    entry = cache.lookup(key)
    reporter = Progress(title, enabled=progress)
    if entry is not None:
        return BuildResult(entry, True, reporter.elapsed)
    cache.writable_dir()  # a cache that cannot take the result says so before a build, not after
    wasm = produce(reporter)
    reporter.stage("reading its world")
    meta = {"kind": kind, "title": title, **world_of_wasm(wasm)}
    entry = cache.store(key, wasm, meta)
    reporter.done(f"built in {reporter.elapsed:.1f} s")
    return BuildResult(entry, False, reporter.elapsed)


def _materialized(reg: WitRegistry, world: str, tmp: Path, deps_dir) -> tuple[Path, str, str]:
    package, world_name = reg.find_world(world)
    wit_dir = reg.materialize(package.name, tmp / "wit", deps_dir=deps_dir)
    return wit_dir, world_name, reg.fingerprint(package.name)


def build_python(source: str, *, world: str, origin: str = "<python>", deps_dir=None,
                 registry: WitRegistry | None = None, progress: bool = True) -> BuildResult:
    """Build a component from Python ``source`` implementing ``world`` (with componentize-py).

    Root functions of the world are methods of a class ``WitWorld``; each exported interface
    is a class named after it in CamelCase (``pricing`` -> ``Pricing``).  Imports are
    modules of ``wit_world.imports``.
    """
    reg = registry or session_registry
    package, world_name = reg.find_world(world)
    key_inputs = {"source": source, "world": f"{package.name}/{world_name}",
                  "wit": reg.fingerprint(package.name), "deps": _dir_fingerprint(deps_dir)}

    def produce(reporter: Progress) -> bytes:
        with tempfile.TemporaryDirectory(prefix="wasmlab-build-") as tmp:
            tmp = Path(tmp)
            reporter.stage("checking the Python source")
            _check_python_syntax(source, origin)
            _check_python_exports(source, origin, reg, package.name, world_name)
            wit_dir, world_name_, _ = _materialized(reg, world, tmp, deps_dir)
            (tmp / f"{_PY_MODULE}.py").write_text(source, encoding="utf-8")
            out = tmp / "out.wasm"
            reporter.stage("componentize-py: bundling Python into a component")
            result = componentize_py("-d", wit_dir, "-w", world_name_, "componentize", _PY_MODULE, "-o", out,
                                     cwd=tmp, on_tick=reporter.tick)
            if not result.ok or not out.exists():
                raise _python_build_error(result.stderr + result.text, source, origin)
            return out.read_bytes()

    return _cached_or_build("python", key_inputs, f"building {world_name} from Python", produce, progress=progress)


def build_wat(source: str, *, world: str | None = None, origin: str = "<wat>", deps_dir=None,
              registry: WitRegistry | None = None, progress: bool = True) -> BuildResult:
    """Build a component from WAT: a ``(component ...)`` as is, or a core ``(module ...)``
    that implements ``world`` under the canonical ABI's names (embedded and wrapped with
    ``wasm-tools component embed`` + ``component new``)."""
    reg = registry or session_registry
    if wat_is_empty(source):
        raise BuildError("the WAT is empty", location=Location(origin, 1, 1, source),
                         hint="write a (component ...), or a core (module ...) implementing the world")
    is_component = wat_is_component(source)
    if not is_component and world is None:
        raise BuildError("a core module needs a world to become a component",
                         hint="pass world=... (or --world), or load the module with wasmlab.load_module")
    key_inputs = {"source": source, "world": world or "", "deps": _dir_fingerprint(deps_dir)}
    if world is not None:
        package, world_name = reg.find_world(world)
        key_inputs["wit"] = reg.fingerprint(package.name)
        key_inputs["world"] = f"{package.name}/{world_name}"

    def produce(reporter: Progress) -> bytes:
        with tempfile.TemporaryDirectory(prefix="wasmlab-build-") as tmp:
            tmp = Path(tmp)
            src = tmp / "cell.wat"
            src.write_text(source, encoding="utf-8")
            reporter.stage("wasm-tools parse")
            parsed = wasm_tools("parse", src, "-o", tmp / "core.wasm", check=False)
            if not parsed.ok:
                raise _wat_error(parsed.stderr, source, origin, src)
            if is_component:
                _validate_component(tmp / "core.wasm")
                if world is not None:
                    wit_dir, world_name_, _ = _materialized(reg, world, tmp, deps_dir)
                    _check_targets(tmp / "core.wasm", wit_dir, world_name_, world)
                return (tmp / "core.wasm").read_bytes()
            wit_dir, world_name_, _ = _materialized(reg, world, tmp, deps_dir)
            reporter.stage("wasm-tools component embed + new")
            _component_tool("embed", wit_dir, "--world", world_name_, tmp / "core.wasm", "-o", tmp / "embedded.wasm")
            _component_tool("new", tmp / "embedded.wasm", "-o", tmp / "out.wasm")
            return (tmp / "out.wasm").read_bytes()

    title = f"building {world or 'component'} from WAT"
    return _cached_or_build("wat", key_inputs, title, produce, progress=progress)


def build_stub(world: str, *, deps_dir=None, registry: WitRegistry | None = None,
               progress: bool = True) -> BuildResult:
    """A component for ``world`` whose every export traps: for exploring composition first."""
    reg = registry or session_registry
    package, world_name = reg.find_world(world)
    key_inputs = {"world": f"{package.name}/{world_name}", "wit": reg.fingerprint(package.name),
                  "deps": _dir_fingerprint(deps_dir)}

    def produce(reporter: Progress) -> bytes:
        with tempfile.TemporaryDirectory(prefix="wasmlab-build-") as tmp:
            tmp = Path(tmp)
            wit_dir, world_name_, _ = _materialized(reg, world, tmp, deps_dir)
            reporter.stage("wasm-tools component embed --dummy + new")
            _component_tool("embed", "--dummy", wit_dir, "--world", world_name_, "-o", tmp / "embedded.wasm")
            _component_tool("new", tmp / "embedded.wasm", "-o", tmp / "out.wasm")
            return (tmp / "out.wasm").read_bytes()

    return _cached_or_build("stub", key_inputs, f"stubbing {world_name}", produce, progress=progress)


def _component_tool(*args) -> None:
    result = wasm_tools("component", *args, check=False)
    if not result.ok:
        text = _strip_color(result.stderr).strip()
        first = re.sub(r"^error:\s*", "", text.splitlines()[0]) if text else f"wasm-tools component {args[0]} failed"
        rest = "\n".join(line for line in text.splitlines()[1:] if line.strip())
        hint = None
        if "export" in text and "not found" in text or "missing" in text:
            hint = ("a core module exports each WIT function under its canonical-ABI name, e.g. "
                    "`ns:pkg/iface@1.0.0#func` or a root function's own name; see "
                    "`wasm-tools component embed --dummy WIT --world W -t` for a template")
        raise BuildError(first, detail=rest or None, hint=hint)


def _validate_component(path: Path) -> None:
    result = wasm_tools("validate", path, check=False)
    if not result.ok:
        raise BuildError("the component does not validate", detail=_strip_color(result.stderr).strip())


def _check_targets(path: Path, wit_dir: Path, world_name: str, asked: str) -> None:
    """A ``(component ...)`` built for a world must implement it: import nothing the world does
    not, export everything the world does."""
    result = wasm_tools("component", "targets", wit_dir, "--world", world_name, path, "--color", "never",
                        check=False)
    if not result.ok:
        text = _strip_color(result.stderr).strip()
        reasons = []
        for line in text.partition("Caused by:")[2].splitlines():
            line = re.sub(r"^\s*(\d+:\s*)?|\s*\(at offset 0x[0-9a-f]+\)$", "", line)
            if line and not line.startswith("type mismatch for import"):  # wasm-tools' framing
                line = re.sub(r"^missing export named (`[^`]*`)", r"it does not export \1", line)
                line = re.sub(r"^missing import named (`[^`]*`)", r"it imports \1, which the world does not", line)
                reasons.append(line)
        raise BuildError(f"the component does not implement the world {asked}",
                         detail="\n".join(reasons) or text or None,
                         hint="leave out the world to take the component as it is, or fix its imports and exports")


def _dir_fingerprint(path) -> str:
    if path is None:
        return ""
    root = Path(path)
    if not root.exists():
        raise BuildError(f"the deps folder {root} does not exist")
    digest = cache.input_key(files=sorted(
        (str(p.relative_to(root)), p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*") if p.is_file()
    ))
    return digest


def _check_python_syntax(source: str, origin: str) -> None:
    try:
        compile(source, origin, "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise BuildError(f"{type(exc).__name__}: {exc.msg}",
                         location=Location(origin, exc.lineno or 1, exc.offset or 1, source)) from None


def _check_python_exports(source: str, origin: str, reg: WitRegistry, package: str, world_name: str) -> None:
    """Name a missing class or method before a 5-second build would only fail at call time."""
    world = _world_from_registry(reg, package, world_name)
    if world is None:
        return
    classes = {node.name: node for node in ast.parse(source).body if isinstance(node, ast.ClassDef)}
    expected: dict[str, list] = {}
    for key, item in world.exports.items():
        if item.function is not None:
            expected.setdefault("WitWorld", []).append(item.function)
        elif item.interface is not None:
            name = item.interface.name or key
            funcs = [f for f in item.interface.functions.values() if f.kind == "freestanding"]
            expected.setdefault(class_name(name.split("/")[-1].split("@")[0]), []).extend(funcs)
    for wanted, functions in expected.items():
        if not functions:
            continue
        node = classes.get(wanted)
        sigs = "; ".join(f"{py_name(f.name)}{_py_params(f)}" for f in functions)
        if node is None:
            raise BuildError(f"no class {wanted} in the cell",
                             location=Location(origin, 1, 1, source),
                             hint=f"world {world_name} needs `class {wanted}:` with methods: {sigs}")
        if any(not isinstance(b, (ast.Name, ast.Attribute)) for b in node.bases):
            continue
        if any(_base_name(b) not in ("object", "WitWorld", wanted, "Protocol") for b in node.bases):
            continue  # methods may come from a base class we cannot see
        methods = {n.name for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
        missing = [f for f in functions if py_name(f.name) not in methods]
        if missing:
            names = "; ".join(f"def {py_name(f.name)}{_py_params(f)}" for f in missing)
            raise BuildError(f"class {wanted} lacks {', '.join(py_name(f.name) for f in missing)}",
                             location=Location(origin, node.lineno, node.col_offset + 1, source),
                             hint=f"add: {names}")


def _base_name(node) -> str:
    return node.id if isinstance(node, ast.Name) else node.attr


def _py_params(fn) -> str:
    return "(self" + "".join(f", {py_name(n)}" for n, _ in fn.params) + ")"


def _world_from_registry(reg: WitRegistry, package: str, world_name: str) -> World | None:
    with tempfile.TemporaryDirectory(prefix="wasmlab-world-") as tmp:
        wit_dir = reg.materialize(package, Path(tmp) / "wit")
        result = wasm_tools("component", "wit", wit_dir, "--json", check=False)
        if not result.ok:
            return None
        resolve = Resolve(json.loads(result.stdout))
    pkg = resolve.package(package)
    return pkg.worlds.get(world_name) if pkg else None


def _python_build_error(output: str, source: str, origin: str) -> BuildError:
    text = _strip_color(output)
    lines = [line for line in text.splitlines() if line.strip()]
    message = "componentize-py failed"
    caused = [i for i, line in enumerate(lines) if line.strip() == "Caused by:"]
    if caused and caused[-1] + 1 < len(lines):
        message = lines[caused[-1] + 1].strip()
    elif lines:
        message = lines[-1].strip()
    message = re.sub(r"^AssertionError:\s*", "", message)
    location = None
    frames = _TRACE_LINE.findall(text)
    if frames:
        location = Location(origin, int(frames[-1]), 1, source)
    hint = None
    if "ModuleNotFoundError" in message:
        hint = "only the standard library and wit_world bindings are available to a guest"
    elif "duplicate items detected" in message:
        hint = ("componentize-py could not generate bindings: an export name probably clashes with one it "
                "uses itself (root functions named read or write do); rename it")
    elif "has no attribute" in message:
        hint = "each exported interface is a class named after it in CamelCase; root functions go in WitWorld"
    return BuildError(message, location=location, hint=hint)


def _wat_error(stderr: str, source: str, origin: str, src_path: Path) -> BuildError:
    text = _strip_color(stderr).strip()
    first = re.sub(r"^error:\s*", "", text.splitlines()[0]) if text else "invalid WAT"
    match = _WAT_LOCATION.search(text)
    location = None
    if match:
        location = Location(origin, int(match.group(2)), int(match.group(3)), source)
    return BuildError(first, location=location)
