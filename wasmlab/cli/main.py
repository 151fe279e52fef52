"""The ``wasmlab`` command: the notebook's operations from a shell, for scripts and tests.

Conventions follow wasm-tools, wac and wasmtime: ``path:line:col: message`` errors, exit 1 on
failure, values in WAVE text (wasmtime's ``--invoke`` syntax).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from pathlib import Path

from wasmlab.capabilities import Grants, Limits
from wasmlab.errors import WasmlabError

__all__ = ["main", "command"]


def _wit_check(args) -> int:
    from wasmlab.toolchain.wit import check_paths

    errors = check_paths(args.paths)
    for err in errors:
        _print_error(err)
    return 1 if errors else 0


def _build(args) -> int:
    from wasmlab.toolchain import builders
    from wasmlab.toolchain.wit import WitRegistry

    registry = WitRegistry()
    if args.wit:
        registry.define_path(args.wit)
    if args.python:
        source = Path(args.python).read_text(encoding="utf-8")
        result = builders.build_python(source, world=args.world, origin=args.python, registry=registry)
    elif args.js:
        from wasmlab.toolchain.javascript import DEFAULT_FEATURES, build_javascript

        source = Path(args.js).read_text(encoding="utf-8")
        result = build_javascript(source, world=args.world, origin=args.js, registry=registry,
                                  features=(*DEFAULT_FEATURES, *args.js_feature))
    elif args.wat:
        source = Path(args.wat).read_text(encoding="utf-8")
        result = builders.build_wat(source, world=args.world, origin=args.wat, registry=registry)
    else:
        result = builders.build_stub(args.world, registry=registry)
    out = Path(args.output)
    out.write_bytes(result.wasm_path.read_bytes())
    print(f"wrote {out} ({out.stat().st_size} bytes{', from cache' if result.cached else ''})", file=sys.stderr)
    return 0


def _inspect(args) -> int:
    from wasmlab.runtime.component import load

    component = load(args.component)
    if args.json:
        print(json.dumps(_inspect_json(component), indent=2))
    else:
        print(component.summary())
        print()
        print(component.wit)
    return 0


def _inspect_json(component) -> dict:
    def describe(item):
        if item.function is not None:
            return {"kind": "function", "signature": item.function.signature()}
        if item.interface is not None:
            return {"kind": "interface",
                    "functions": {n: f.signature() for n, f in item.interface.functions.items()}}
        return {"kind": "type"}

    return {
        "name": component.name,
        "imports": {k: describe(v) for k, v in component.imports.items()},
        "exports": {k: describe(v) for k, v in component.exports.items()},
        "capabilities": component.capabilities,
        "wit": component.wit,
    }


def _call(args) -> int:
    from wasmlab import wave
    from wasmlab.runtime.component import load

    component = load(args.component)
    component.grants = _grants(args)
    component.limits = Limits(timeout=args.timeout, max_memory=args.max_memory, fuel=args.fuel)
    target, _ = wave.parse_call(args.expression, origin="call")
    exported = component.engine(args.engine).export(target)
    try:
        values = wave.parse_arguments(args.expression, exported.function.params, origin="call")
    except WasmlabError as err:
        err.hint = err.hint or f"{target}: {exported.function.signature()}"
        raise
    try:
        result = exported.result(*values)  # ok and err both print as values, as in wasmtime
    finally:
        if args.fuel is not None and component.fuel_consumed is not None:
            print(f"fuel consumed: {component.fuel_consumed}", file=sys.stderr)
    if exported.function.result is not None:
        print(wave.format(result, exported.function.result))
    return 0


def _transpile(args) -> int:
    from wasmlab.runtime.component import load

    module = load(args.component).transpile(args.output)
    print(f"wrote {module} (an ES module; it imports @bytecodealliance/preview2-shim)", file=sys.stderr)
    return 0


def _run(args) -> int:
    from wasmlab.runtime.component import load
    from wasmlab.runtime.core_modules import load_module

    path = Path(args.component)
    head = path.read_bytes()[:8] if path.is_file() else b""
    is_core = head[4:8] == b"\x01\x00\x00\x00" or (path.suffix == ".wat" and "(component" not in path.read_text()[:200])
    program = load_module(path) if is_core else load(path)
    # a program run from the shell reads and writes the shell's own stdin, stdout and stderr
    program.grants = dataclasses.replace(_grants(args), inherit_stdio=True)
    program.limits = Limits(timeout=args.timeout, max_memory=args.max_memory, fuel=args.fuel)
    result = program.run(*args.args)
    if args.fuel is not None and program.fuel_consumed is not None:
        print(f"fuel consumed: {program.fuel_consumed}", file=sys.stderr)
    return result.exit_code


def _grants(args) -> Grants:
    grants = Grants()
    for spec, read_only in [(d, False) for d in args.dir] + [(d, True) for d in args.ro_dir]:
        host, sep, guest = spec.partition("::")
        grants = grants.with_dir(host, guest if sep else host, read_only=read_only)
    for item in args.env:
        name, sep, value = item.partition("=")
        grants = grants.with_env(**{name: value}) if sep else grants.with_host_env(name)
    if args.inherit_network or args.allow_ip_name_lookup:
        grants = grants.with_network(sockets=args.inherit_network, name_lookup=args.allow_ip_name_lookup)
    return grants


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    """The grant and limit flags of a run, spelled as wasmtime spells them."""
    parser.add_argument("--dir", action="append", default=[], metavar="HOST::GUEST",
                        help="grant a host directory read-write at GUEST")
    parser.add_argument("--ro-dir", action="append", default=[], metavar="HOST::GUEST",
                        help="grant a host directory read-only at GUEST")
    parser.add_argument("--env", action="append", default=[], metavar="NAME[=VALUE]",
                        help="set a variable, or pass one host variable through")
    parser.add_argument("--inherit-network", action="store_true", help="allow outbound sockets")
    parser.add_argument("--allow-ip-name-lookup", action="store_true", help="allow DNS name lookup")
    parser.add_argument("--timeout", type=float, default=None, metavar="SECONDS", help="stop a run after this long")
    parser.add_argument("--max-memory", default=None, metavar="SIZE", help="bytes, or with K/M/G: 64M")
    parser.add_argument("--fuel", type=int, default=None, metavar="N",
                        help="a deterministic budget of Wasm instructions; the fuel used is reported")


def _install_kernel(args) -> int:
    from wasmlab.notebook.kernel import install_kernel

    path = install_kernel(user=args.user, sys_prefix=args.sys_prefix, prefix=args.prefix)
    print(f"installed the kernel 'Python 3 (wasmlab)' in {path}", file=sys.stderr)
    return 0


def _wac(args) -> int:
    from wasmlab.cli import wac as wac_cli

    return wac_cli.main(args.wac_args)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wasmlab", description="Build, inspect, call and compose "
                                     "WebAssembly components.")
    sub = parser.add_subparsers(dest="command", required=True)

    wit = sub.add_parser("wit", help="WIT packages").add_subparsers(dest="wit_command", required=True)
    check = wit.add_parser("check", help="validate WIT files or folders")
    check.add_argument("paths", nargs="+")
    check.set_defaults(run=_wit_check)

    build = sub.add_parser("build", help="build a component")
    build.add_argument("--wit", required=True, help="a .wit file, or a folder (may hold deps/)")
    build.add_argument("--world", required=True)
    source = build.add_mutually_exclusive_group(required=True)
    source.add_argument("--python", metavar="FILE")
    source.add_argument("--wat", metavar="FILE")
    source.add_argument("--js", metavar="FILE", help="a JavaScript module (componentize-js)")
    source.add_argument("--stub", action="store_true")
    build.add_argument("--js-feature", action="append", default=[], metavar="FEATURE",
                       help="a componentize-js feature beyond stdio, random and clocks: http (fetch)")
    build.add_argument("-o", "--output", required=True)
    build.set_defaults(run=_build)

    inspect = sub.add_parser("inspect", help="imports, exports and capabilities of a component")
    inspect.add_argument("component")
    inspect.add_argument("--json", action="store_true")
    inspect.set_defaults(run=_inspect)

    call = sub.add_parser("call", help="call one export: wasmlab call app.wasm 'add(1, 2)'")
    call.add_argument("component")
    call.add_argument("expression", help="EXPORT(ARGS) with WAVE arguments; EXPORT is func, iface#func "
                      "or ns:pkg/iface@ver#func")
    call.add_argument("--engine", choices=("wasmtime", "node"), default="wasmtime",
                      help="node: run it under Node's V8 (jco + preview2-shim)")
    _add_run_options(call)
    call.set_defaults(run=_call)

    transpile = sub.add_parser("transpile", help="a component as an ES module (jco transpile)")
    transpile.add_argument("component")
    transpile.add_argument("-o", "--output", required=True, metavar="DIR")
    transpile.set_defaults(run=_transpile)

    run = sub.add_parser("run", help="run a command (a wasi:cli/run component or a WASI core module)")
    run.add_argument("component")
    run.add_argument("args", nargs=argparse.REMAINDER, help="arguments for the program")
    _add_run_options(run)
    run.set_defaults(run=_run)

    kernel = sub.add_parser("install-kernel", help="install the 'Python 3 (wasmlab)' kernel (magics preloaded)")
    where = kernel.add_mutually_exclusive_group()
    where.add_argument("--user", action="store_true", help="for this user only")
    where.add_argument("--sys-prefix", action="store_true", help="into this Python environment")
    where.add_argument("--prefix", default=None, help="under another prefix")
    kernel.set_defaults(run=_install_kernel)

    wac = sub.add_parser("wac", help="compose components with WAC (parse, resolve, compose, plug)",
                         add_help=False)
    wac.add_argument("wac_args", nargs=argparse.REMAINDER)
    wac.set_defaults(run=_wac)
    return parser


def _print_error(err: WasmlabError) -> None:
    loc = err.location
    if loc is not None:
        print(f"{loc.origin}:{loc.line}:{loc.column}: {err.message}", file=sys.stderr)
        quoted = loc.source_line()
        if quoted is not None:
            print(f"  {quoted}\n  {loc.caret_padding(quoted)}^", file=sys.stderr)
        if err.hint:
            print(f"hint: {err.hint}", file=sys.stderr)
        if err.detail:
            print(err.detail, file=sys.stderr)
    else:
        print(err.render(), file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.run(args)
    except WasmlabError as err:
        _print_error(err)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def command() -> None:
    """The ``wasmlab`` executable: :func:`main`, then an exit that skips interpreter teardown.

    wasmtime's WASI runtime keeps tokio worker threads; when the interpreter tears down around
    them they can panic and abort the process after its work is done, turning the exit code of
    a run that succeeded into 134.  All output is flushed first, so nothing is lost.
    """
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    command()
