"""JavaScript guests and the npm tools: componentize-js builds, jco transpiles.

The npm packages are pinned by the lockfile shipped next to this module (``npm/package-lock.json``)
and installed on first use with ``npm ci`` into wasmlab's tool cache,
``<cache dir>/tools/npm-<lock hash>/``, never into the user's folders; a file lock keeps two
kernels from installing at once.  Builds are cached like Python builds: the key hashes the
source, the world's WIT, the features and the tool versions, never the output.

componentize-js reads WIT inside a WASI sandbox that sees no host paths, so the world goes to it
as one WIT text (the package and, nested, every package it uses, as ``wasm-tools component wit``
prints them).
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import json
import os
import re
import shutil
import tempfile
from importlib import resources
from pathlib import Path

from wasmlab.errors import BuildError, Location, ToolError
from wasmlab.progress import Progress
from wasmlab.toolchain import cache
from wasmlab.toolchain.builders import BuildResult, _cached_or_build, _dir_fingerprint, _materialized
from wasmlab.toolchain.tools import _run, _strip_color, wasm_tools
from wasmlab.toolchain.wit import WitRegistry
from wasmlab.toolchain.wit import registry as session_registry

__all__ = ["build_javascript", "transpile", "jco", "npm_tools", "npm_tools_path", "node_command", "node_wasm_flags",
           "run_node", "FEATURES", "DEFAULT_FEATURES", "NodeMissing"]

#: componentize-js's engine features; ``http`` (``fetch``) is off unless a build asks for it, since
#: it makes the component import wasi:http, which wasmlab's in-process host does not provide.
FEATURES = ("stdio", "random", "clocks", "http", "fetch-event")
DEFAULT_FEATURES = ("stdio", "random", "clocks")
_INSTALL_HINT = ("install Node.js 18 or newer with npm: `apt-get install nodejs npm` (Debian/Ubuntu), "
                 "`brew install node` (macOS), or https://nodejs.org")
_MARKER = ".wasmlab-installed"


class NodeMissing(ToolError):
    """Node.js or npm is not installed."""


@functools.lru_cache(maxsize=1)
def node_command() -> str:
    """The ``node`` executable (``$WASMLAB_NODE`` or ``node`` on PATH) at version 18 or newer."""
    node = os.environ.get("WASMLAB_NODE") or shutil.which("node")
    if not node:
        raise NodeMissing("JavaScript needs Node.js, which is not installed", hint=_INSTALL_HINT)
    version = _run([node, "--version"]).text.strip()
    major = int(re.match(r"v?(\d+)", version).group(1)) if re.match(r"v?(\d+)", version) else 0
    if major < 18:
        raise NodeMissing(f"Node.js {version} is too old for componentize-js and jco", hint=_INSTALL_HINT)
    return node


@functools.lru_cache(maxsize=1)
def node_wasm_flags() -> tuple[str, ...]:
    """V8 flags for the Wasm features componentize-py output uses (extended constant expressions are
    behind a flag before Node 22)."""
    options = _run([node_command(), "--v8-options"]).text
    return tuple(f"--{flag}" for flag in ("experimental-wasm-extended-const",) if f"--{flag} " in options)


def _npm_command() -> str:
    npm = shutil.which("npm", path=os.pathsep.join([str(Path(node_command()).parent), os.environ.get("PATH", "")]))
    if not npm:
        raise NodeMissing("installing the JavaScript tools needs npm, which is not installed", hint=_INSTALL_HINT)
    return npm


def _lock_files() -> dict[str, bytes]:
    folder = resources.files("wasmlab.toolchain") / "npm"
    return {name: (folder / name).read_bytes() for name in ("package.json", "package-lock.json")}


def lock_hash() -> str:
    """A short hash of the pinned package set: a new lockfile means a new tool folder and new builds."""
    digest = hashlib.sha256()
    for name, data in sorted(_lock_files().items()):
        digest.update(name.encode() + b"\0" + data)
    return digest.hexdigest()[:16]


def tools_dir() -> Path:
    """``$WASMLAB_TOOLS_DIR``, else ``tools/`` in the build cache folder."""
    return Path(os.environ.get("WASMLAB_TOOLS_DIR") or cache.cache_dir() / "tools")


def npm_tools_path() -> Path:
    """Where the pinned npm packages are (or will be) installed; :func:`npm_tools` installs them.
    Without ``$WASMLAB_TOOLS_DIR``, a shared cache that has them installed (an image's) comes first."""
    name = f"npm-{lock_hash()}"
    if not os.environ.get("WASMLAB_TOOLS_DIR"):
        shared = cache.find_shared(f"tools/{name}/{_MARKER}")
        if shared is not None:
            return shared.parent
    return tools_dir() / name


def script_source(name: str) -> bytes:
    """One of wasmlab's JavaScript files (``npm/*.mjs``)."""
    return (resources.files("wasmlab.toolchain") / "npm" / name).read_bytes()


def npm_tools(*, progress: bool = True) -> Path:
    """The folder holding the pinned npm packages, installed with ``npm ci`` on first use."""
    root = npm_tools_path()
    if (root / _MARKER).is_file():
        return root
    node_command()
    npm = _npm_command()
    root.mkdir(parents=True, exist_ok=True)
    with _file_lock(root.with_suffix(".lock")):
        if (root / _MARKER).is_file():  # another kernel installed them while we waited
            return root
        for name, data in _lock_files().items():
            (root / name).write_bytes(data)
        reporter = Progress("installing the JavaScript tools (once)", enabled=progress)
        reporter.stage("npm ci: componentize-js, jco, preview2-shim")
        env = {**os.environ, "NODE_ENV": "production", "npm_config_update_notifier": "false"}
        result = _run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=root, env=env,
                      timeout=1800, on_tick=reporter.tick)
        if not result.ok:
            raise ToolError("npm ci could not install the JavaScript tools",
                            detail=_strip_color(result.stderr).strip()[-2000:],
                            hint="npm needs to reach registry.npmjs.org (or your npm registry) once")
        (root / _MARKER).write_text(json.dumps({"lock": lock_hash()}), encoding="utf-8")
        reporter.done(f"installed in {reporter.elapsed:.0f} s into {root}")
    return root


@contextlib.contextmanager
def _file_lock(path: Path):
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _driver(tools: Path, name: str) -> Path:
    """wasmlab's Node scripts, copied into the tool folder (ES modules resolve packages from where
    they lie); returns the path of ``name``."""
    for script in (resources.files("wasmlab.toolchain") / "npm").iterdir():
        if script.name.endswith(".mjs"):
            data = script.read_bytes()
            path = tools / script.name
            if not path.is_file() or path.read_bytes() != data:
                cache.write_atomically(path, data)
    return tools / name


def run_node(script: str, *args, cwd=None, timeout: float | None = 600, on_tick=None, env: dict | None = None,
             progress: bool = True, input: bytes | None = None):
    """Run one of wasmlab's Node scripts (``npm/*.mjs``) with the tool folder's packages importable."""
    tools = npm_tools(progress=progress)
    environment = {**os.environ, **(env or {})}
    return _run([node_command(), _driver(tools, script), *map(os.fspath, args)], cwd=cwd, timeout=timeout,
                env=environment, on_tick=on_tick, input=input)


def _tool_versions() -> dict:
    return {"npm-lock": lock_hash(), "node": _run([node_command(), "--version"]).text.strip()}


def world_wit_text(wit_dir: Path) -> str:
    """The package in ``wit_dir`` and, nested, every package it uses: one WIT text."""
    return wasm_tools("component", "wit", wit_dir, "--color", "never").text


def build_javascript(source: str, *, world: str, origin: str = "<javascript>", deps_dir=None,
                     features: tuple[str, ...] | list[str] | None = None, registry: WitRegistry | None = None,
                     progress: bool = True) -> BuildResult:
    """Build a component from a JavaScript ES module implementing ``world`` (with componentize-js).

    Root functions of the world are exported functions (``export function greet(name) {...}``);
    an exported interface is an exported object named after it in camelCase
    (``export const greeter = { greet(name) {...} }``).  ``features`` picks componentize-js's
    engine features (default: stdio, random, clocks; add ``"http"`` for ``fetch``).
    """
    reg = registry or session_registry
    chosen = tuple(DEFAULT_FEATURES if features is None else features)
    unknown = [f for f in chosen if f not in FEATURES]
    if unknown:
        raise BuildError(f"unknown componentize-js feature {unknown[0]!r}",
                         hint=f"choose from {', '.join(FEATURES)}")
    package, world_name = reg.find_world(world)
    key_inputs = {"source": source, "world": f"{package.name}/{world_name}", "wit": reg.fingerprint(package.name),
                  "deps": _dir_fingerprint(deps_dir), "features": sorted(chosen), "js-tools": _tool_versions()}

    def produce(reporter: Progress) -> bytes:
        with tempfile.TemporaryDirectory(prefix="wasmlab-build-") as tmp:
            tmp = Path(tmp)
            reporter.stage("checking the JavaScript source")
            src = tmp / "app.mjs"
            src.write_text(source, encoding="utf-8")
            _check_syntax(src, source, origin)
            wit_dir, world_name_, _ = _materialized(reg, world, tmp, deps_dir)
            (tmp / "world.wit").write_text(world_wit_text(wit_dir), encoding="utf-8")
            out = tmp / "out.wasm"
            options = {"source": str(src), "wit": str(tmp / "world.wit"), "world": world_name_,
                       "disable": [f for f in FEATURES if f not in chosen], "out": str(out)}
            reporter.stage("componentize-js: SpiderMonkey + your module into a component")
            result = run_node("componentize.mjs", json.dumps(options), cwd=tmp, on_tick=reporter.tick,
                              progress=progress)
            if not result.ok or not out.exists():
                raise _build_error(result.stderr + result.text, source, origin)
            return out.read_bytes()

    title = f"building {world_name} from JavaScript"
    return _cached_or_build("javascript", key_inputs, title, produce, progress=progress)


_NODE_SYNTAX = re.compile(
    r"^(?P<file>.*?):(?P<line>\d+)\n(?P<code>.*)\n(?P<caret>\s*\^+)\s*\n+(?P<error>\w*Error: .*)$", re.M)


def _check_syntax(path: Path, source: str, origin: str) -> None:
    """``node --check``: a syntax error at its line and column before a 15-second build."""
    result = _run([node_command(), "--check", str(path)])
    if result.ok:
        return
    text = _strip_color(result.stderr)
    match = _NODE_SYNTAX.search(text)
    if match is None:
        raise BuildError("the JavaScript does not parse", detail=text.strip())
    column = len(match.group("caret")) - len(match.group("caret").lstrip()) + 1
    raise BuildError(match.group("error").strip(),
                     location=Location(origin, int(match.group("line")), column, source))


_MISSING_EXPORT = re.compile(r'does not export a "([^"]+)" (\w+) as expected by the world')


def _build_error(output: str, source: str, origin: str) -> BuildError:
    text = _strip_color(output).strip()
    lines = [line for line in text.splitlines() if line.strip()]
    missing = _MISSING_EXPORT.search(text)
    if missing:
        name, kind = missing.groups()
        suggestion = (f"export function {name}(...) {{ ... }}" if kind == "function"
                      else f"export const {name} = {{ ... }}")
        return BuildError(f"the module does not export {kind} {name!r}, which the world exports",
                          location=Location(origin, 1, 1, source), hint=f"add: {suggestion}")
    message = next((line.removeprefix("error: ") for line in lines if line.startswith("error: ")),
                   lines[-1] if lines else "componentize-js failed")
    location = None
    frame = re.search(r"app\.mjs:(\d+)(?::(\d+))?", text)
    if frame:
        location = Location(origin, int(frame.group(1)), int(frame.group(2) or 1), source)
    return BuildError(message, location=location, detail="\n".join(lines[-12:]) if len(lines) > 1 else None)


def jco(*args, cwd=None, timeout: float | None = 900, on_tick=None, progress: bool = True):
    """Run the pinned ``jco`` command (``jco transpile ...``)."""
    tools = npm_tools(progress=progress)
    script = tools / "node_modules" / "@bytecodealliance" / "jco" / "dist" / "jco.js"
    return _run([node_command(), str(script), *map(os.fspath, args)], cwd=cwd, timeout=timeout, on_tick=on_tick)


def transpile(wasm: Path, out_dir: str | os.PathLike | None = None, *, name: str = "component",
              progress: bool = True, extra: list[str] | tuple[str, ...] = ()) -> Path:
    """``jco transpile``: the component as an ES module ``NAME.js`` (plus its core ``.wasm`` files).

    Without ``out_dir`` the result is cached in the tool folder, keyed by the component's bytes,
    where its ``@bytecodealliance/preview2-shim`` imports resolve; returns the module's path.
    """
    wasm = Path(wasm)
    if out_dir is None:
        key = cache.input_key(wasm=wasm.read_bytes(), name=name, lock=lock_hash(), extra=list(extra))
        out = npm_tools(progress=progress) / "transpiled" / key[:32]
        if (out / f"{name}.js").is_file():
            return out / f"{name}.js"
    else:
        out = Path(out_dir)
    reporter = Progress(f"transpiling {name} with jco", enabled=progress)
    reporter.stage("jco transpile: core modules + an ES module")
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".tmp-", dir=out.parent) as tmp:
        staged = Path(tmp) / "out"
        result = jco("transpile", wasm, "-o", staged, "--name", name, "--quiet", *extra, on_tick=reporter.tick,
                     progress=progress)
        if not result.ok:
            raise ToolError("jco transpile failed", detail=_strip_color(result.stderr + result.text).strip()[-3000:])
        if out.exists() and out_dir is None:
            shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True, exist_ok=True)
        (staged / "package.json").write_text('{"type": "module"}\n', encoding="utf-8")
        for path in staged.rglob("*"):
            if path.is_file():
                target = out / path.relative_to(staged)
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(path, target)
    reporter.done(f"transpiled in {reporter.elapsed:.1f} s")
    return out / f"{name}.js"
