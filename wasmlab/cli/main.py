"""The ``wasmlab`` command: the notebook's operations from a shell, for scripts and tests.

Conventions follow wasm-tools, wac and wasmtime: ``path:line:col: message`` errors, exit 1 on
failure, values in WAVE text (wasmtime's ``--invoke`` syntax), options before the component.

A subcommand is a function ``_name(args) -> int`` and one entry in :func:`_parser` ending in
``set_defaults(run=_name)``.  It reads and writes files through :mod:`wasmlab.cli.shell`
(``read_text``, ``read_bytes``, ``check_output`` before the work, ``write_bytes``), raises a
``WasmlabError`` for what the user can fix (``shell.UsageError`` for a bad argument value), and
leaves exit codes and printing to ``shell.execute``.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import sys
from pathlib import Path

from wasmlab.capabilities import Grants, Limits
from wasmlab.cli import shell
from wasmlab.cli.shell import UsageError, read_bytes, read_text, unicode_text
from wasmlab.errors import FileError, WasmlabError

__all__ = ["main", "command"]


def _wit_check(args) -> int:
    from wasmlab.toolchain.wit import check_paths

    for path in args.paths:
        _check_wit_text(path)
    errors = check_paths(args.paths)
    for err in errors:
        shell.print_error(err)
    return 1 if errors else 0


def _check_wit_text(path: str) -> None:
    """Every .wit file of ``path`` (a file, or a folder and its deps/) is UTF-8 text; a missing
    path is left to the WIT checks, which say so in their own words."""
    folder = shell.named_path(path, "WIT")
    if folder.is_dir():
        for file in sorted(folder.rglob("*.wit")):
            read_text(file, "WIT file")
    elif folder.exists():
        read_text(path, "WIT file")


def _build(args) -> int:
    from wasmlab.toolchain import builders
    from wasmlab.toolchain.wit import WitRegistry

    world = unicode_text(args.world, "the world")
    _check_wit_text(args.wit)
    python = read_text(args.python, "Python file") if args.python is not None else None
    wat = read_text(args.wat, "WAT file") if args.wat is not None else None
    js = read_text(args.js, "JavaScript file") if args.js is not None else None
    out = shell.check_output(args.output)
    registry = WitRegistry()
    registry.define_path(args.wit)
    if python is not None:
        result = builders.build_python(python, world=world, origin=args.python, registry=registry)
    elif js is not None:
        from wasmlab.toolchain.javascript import DEFAULT_FEATURES, build_javascript

        result = build_javascript(js, world=world, origin=args.js, registry=registry,
                                  features=(*DEFAULT_FEATURES, *args.js_feature))
    elif wat is not None:
        result = builders.build_wat(wat, world=world, origin=args.wat, registry=registry)
    else:
        result = builders.build_stub(world, registry=registry)
    shell.write_bytes(out, read_bytes(result.wasm_path))
    print(f"wrote {out} ({out.stat().st_size} bytes{', from cache' if result.cached else ''})", file=sys.stderr)
    return 0


def _load(component: str, args):
    """The component ``component`` names: a file wasmlab can read, or an ``oci://`` reference (pulled)."""
    from wasmlab.runtime.component import load

    path = _local_path(component, args)
    read_bytes(path, "component (.wasm or .wat)")
    return load(path)


def _inspect(args) -> int:
    component = _load(args.component, args)
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

    expression = unicode_text(args.expression, "the call expression")
    grants, limits = _grants(args), _limits(args)
    component = _load(args.component, args)
    component.grants = grants
    component.limits = limits
    target, _ = wave.parse_call(expression, origin="call")
    try:
        exported = component.engine(args.engine).export(target)
    except KeyError as exc:  # an export that is not there, in a form the component raised as a bare KeyError
        if isinstance(exc, WasmlabError):
            raise
        raise WasmlabError(str(exc.args[0] if exc.args else exc), hint="see `wasmlab inspect COMPONENT`") from None
    try:
        values = wave.parse_arguments(expression, exported.function.params, origin="call")
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
    module = _load(args.component, args).transpile(str(shell.named_path(args.output, "output folder")))
    print(f"wrote {module} (an ES module; it imports @bytecodealliance/preview2-shim)", file=sys.stderr)
    return 0


def _run(args) -> int:
    from wasmlab.runtime.component import load
    from wasmlab.runtime.core_modules import load_module
    from wasmlab.toolchain.tools import wat_is_component

    _warn_about_own_options(args.args, args.own_options)
    program_args = [unicode_text(arg, "the program argument") for arg in args.args]
    # a program run from the shell reads and writes the shell's own stdin, stdout and stderr
    grants = dataclasses.replace(_grants(args), inherit_stdio=True)
    limits = _limits(args)
    local = _local_path(args.component, args)
    head = read_bytes(local, "program (.wasm or .wat)")[:8]
    path = Path(local)
    is_core = head[4:8] == b"\x01\x00\x00\x00" or (
        path.suffix == ".wat" and not wat_is_component(read_text(path, "WAT file")))
    program = load_module(path) if is_core else load(path)
    program.grants = grants
    program.limits = limits
    result = program.run(*program_args)
    if args.fuel is not None and program.fuel_consumed is not None:
        print(f"fuel consumed: {program.fuel_consumed}", file=sys.stderr)
    return result.exit_code


def _pull(args) -> int:
    from wasmlab.toolchain import registry

    out = shell.check_output(args.output)
    pulled = registry.pull(unicode_text(args.reference, "the reference"), **_pull_options(args))
    shell.write_bytes(out, pulled.wasm)
    notes = [f"{len(pulled.wasm)} bytes"] + (["from cache"] if pulled.from_cache else []) \
        + (["offline: the tag as last seen"] if pulled.offline else [])
    print(f"pulled {pulled.pinned} -> {out} ({', '.join(notes)})", file=sys.stderr)
    return 0


def _push(args) -> int:
    from wasmlab.toolchain import registry

    annotations = {}
    for item in args.annotation:
        key, sep, value = unicode_text(item, "the annotation").partition("=")
        if not sep or not key:
            raise UsageError(f"--annotation {item}: give KEY=VALUE",
                             hint="--annotation org.opencontainers.image.description=...")
        annotations[key] = value
    data = read_bytes(_local_path(args.component, args), "component or WIT package (.wasm)")
    print(registry.push_wasm(data, unicode_text(args.reference, "the reference"), annotations=annotations,
                             **_pull_options(args)))
    return 0


def _add_registry_options(parser: argparse.ArgumentParser) -> list:
    return [
        parser.add_argument("--insecure", action="store_true", default=None,
                            help="plain HTTP to the registry (localhost and 127.0.0.1 always are)"),
        parser.add_argument("--user", metavar="USER:PASSWORD", help="basic auth for the registry"),
        parser.add_argument("--token", help="a bearer token for the registry"),
    ]


def _pull_options(args) -> dict:
    """Registry options of a command (defaults where it has none)."""
    user = getattr(args, "user", None)
    if user is not None and ":" not in user:
        raise UsageError(f"--user {user}: give the password too", hint="--user USER:PASSWORD")
    return {"insecure": getattr(args, "insecure", None), "token": getattr(args, "token", None),
            "auth": tuple(user.split(":", 1)) if user else None}


def _local_path(component: str, args) -> str:
    """A component argument as a file: a registry reference is pulled (into the blob cache)."""
    from wasmlab.toolchain import registry

    if registry.is_reference(component):
        return str(registry.pull(component, **_pull_options(args)).path)
    return component


def _warn_about_own_options(program_args: list[str], own_options: frozenset[str]) -> None:
    """Everything after the component belongs to the program (wasmtime's convention), so an
    option of wasmlab's own written there grants or limits nothing: say so."""
    misplaced = [arg for arg in program_args if arg.partition("=")[0] in own_options]
    if misplaced:
        shown = " ".join(dict.fromkeys(arg.partition("=")[0] for arg in misplaced))
        print(f"warning: {shown} after the component is passed to the program, not to wasmlab; "
              "put wasmlab's options before the component: wasmlab run [OPTIONS] COMPONENT [ARGS...]",
              file=sys.stderr)


def _grants(args) -> Grants:
    """The grants of the run flags; a value Grants refuses is a usage error naming its flag."""
    grants = Grants()
    for flag, specs, read_only in [("--dir", args.dir, False), ("--ro-dir", args.ro_dir, True)]:
        for spec in specs:
            host, sep, guest = unicode_text(spec, flag).partition("::")
            with _flag(flag, spec):
                grants = grants.with_dir(host, guest if sep else host, read_only=read_only)
    for item in args.env:
        name, sep, value = unicode_text(item, "--env").partition("=")
        if not sep:  # the host's value is passed through: it has to be text as well
            unicode_text(os.environ.get(name, ""), f"--env {name}: the host's value")
        with _flag("--env", item):
            grants = grants.with_env(**{name: value}) if sep else grants.with_host_env(name)
    if args.inherit_network or args.allow_ip_name_lookup:
        grants = grants.with_network(sockets=args.inherit_network, name_lookup=args.allow_ip_name_lookup)
    return grants


def _limits(args) -> Limits:
    flags = {"timeout": ("--timeout", args.timeout), "max_memory": ("--max-memory", args.max_memory),
             "fuel": ("--fuel", args.fuel)}
    for field, (flag, value) in flags.items():
        if value is not None:
            with _flag(flag, str(value)):  # one at a time, so that a refusal names its flag
                Limits(**{field: value})
    with _flag("--timeout/--max-memory/--fuel", None):
        return Limits(**{field: value for field, (_, value) in flags.items()})


@contextlib.contextmanager
def _flag(flag: str, value: str | None):
    """Grants and Limits validate what they are given; here their refusal is a usage error."""
    try:
        yield
    except WasmlabError as err:
        where = f"{flag} {value}" if value is not None else flag
        raise UsageError(f"{where}: {err.message}", hint=err.hint) from None


def _add_run_options(parser: argparse.ArgumentParser) -> frozenset[str]:
    """The grant and limit flags of a run, spelled as wasmtime spells them (and the registry's, for a
    component given as a reference); returns their spellings."""
    actions = [
        *_add_registry_options(parser),
        parser.add_argument("--dir", action="append", default=[], metavar="HOST::GUEST",
                            help="grant a host directory read-write at GUEST"),
        parser.add_argument("--ro-dir", action="append", default=[], metavar="HOST::GUEST",
                            help="grant a host directory read-only at GUEST"),
        parser.add_argument("--env", action="append", default=[], metavar="NAME[=VALUE]",
                            help="set a variable, or pass one host variable through"),
        parser.add_argument("--inherit-network", action="store_true", help="allow outbound sockets"),
        parser.add_argument("--allow-ip-name-lookup", action="store_true", help="allow DNS name lookup"),
        parser.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                            help="stop a run after this long"),
        parser.add_argument("--max-memory", default=None, metavar="SIZE", help="bytes, or with K/M/G: 64M"),
        parser.add_argument("--fuel", type=int, default=None, metavar="N",
                            help="a deterministic budget of Wasm instructions; the fuel used is reported"),
    ]
    return frozenset(option for action in actions for option in action.option_strings)


def _install_kernel(args) -> int:
    from wasmlab.notebook.kernel import install_kernel

    if args.prefix is not None and not args.prefix.strip():  # jupyter would take "" for the system-wide place
        raise UsageError("--prefix is empty", hint="give a folder: --prefix DIR, or use --user or --sys-prefix")
    try:
        path = install_kernel(user=args.user, sys_prefix=args.sys_prefix, prefix=args.prefix)
    except (OSError, ValueError) as exc:  # ValueError: a name no file can have (a NUL, a lone surrogate)
        where = f"under `{args.prefix}`" if args.prefix else "there"
        reason = (exc.strerror or str(exc)) if isinstance(exc, OSError) else "not a possible folder name"
        raise FileError(f"cannot install the kernel {where}: {reason}",
                        hint="choose a writable place: --user, --sys-prefix or --prefix DIR") from None
    print(f"installed the kernel 'Python 3 (wasmlab)' in {path}", file=sys.stderr)
    return 0


def _warm(args) -> int:
    from wasmlab.toolchain.warm import warm

    runs = warm(args.paths, timeout=args.timeout)
    return 0 if all(run.ok for run in runs) else 1


def _parser() -> argparse.ArgumentParser:
    from wasmlab.cli import wac as wac_cli

    parser = shell.Parser(prog="wasmlab", description="Build, inspect, call and compose WebAssembly components.",
                          epilog="Options go before the component and its arguments, as in wasmtime. "
                          f"Set {shell.DEBUG_VARIABLE}=1 to see the traceback of an internal error.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

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
    _add_registry_options(inspect)
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
    _add_registry_options(transpile)
    transpile.set_defaults(run=_transpile)

    run = sub.add_parser("run", help="run a command (a wasi:cli/run component or a WASI core module)",
                         usage="wasmlab run [OPTIONS] COMPONENT [ARGS...]",
                         description="Run a command. wasmlab's options go before the component: everything "
                         "after it is passed to the program, as in wasmtime.")
    run.add_argument("component")
    run.add_argument("args", nargs=argparse.REMAINDER, help="arguments for the program")
    run.set_defaults(run=_run, own_options=_add_run_options(run))

    pull = sub.add_parser("pull", help="pull a component or WIT package from an OCI registry")
    pull.add_argument("reference", help="oci://HOST/REPO:TAG or oci://HOST/REPO@sha256:DIGEST")
    pull.add_argument("-o", "--output", required=True)
    _add_registry_options(pull)
    pull.set_defaults(run=_pull)

    push = sub.add_parser("push", help="push a component or WIT package to an OCI registry (Wasm OCI artifact)")
    push.add_argument("component", help="a .wasm component or WIT package (wasm-tools component wit --wasm)")
    push.add_argument("reference", help="oci://HOST/REPO:TAG")
    push.add_argument("--annotation", action="append", default=[], metavar="KEY=VALUE",
                      help="a manifest annotation, e.g. org.opencontainers.image.description=... (repeatable)")
    _add_registry_options(push)
    push.set_defaults(run=_push)

    kernel = sub.add_parser("install-kernel", help="install the 'Python 3 (wasmlab)' kernel (magics preloaded)")
    where = kernel.add_mutually_exclusive_group()
    where.add_argument("--user", action="store_true", help="for this user only")
    where.add_argument("--sys-prefix", action="store_true", help="into this Python environment")
    where.add_argument("--prefix", default=None, help="under another prefix")
    kernel.set_defaults(run=_install_kernel)

    warm = sub.add_parser("warm", help="fill the build cache with what notebooks build (runs them headlessly)")
    warm.add_argument("paths", nargs="+", metavar="PATH", help="notebooks, or folders holding them")
    warm.add_argument("--timeout", type=float, default=900, help="seconds a notebook may run (default 900)")
    warm.set_defaults(run=_warm)

    wac = sub.add_parser("wac", help="compose components with WAC (parse, resolve, compose, plug)",
                         description=wac_cli.DESCRIPTION)
    wac_cli.add_commands(wac.add_subparsers(dest="wac_command", required=True, metavar="COMMAND"))
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``wasmlab ARGV...`` and return its exit code (see :mod:`wasmlab.cli.shell`); never raises."""
    return shell.execute(_parser(), argv)


def command() -> None:
    """The ``wasmlab`` executable: :func:`main`, then an exit that skips interpreter teardown
    (see :mod:`wasmlab.runtime.teardown`).  All output is flushed first, so nothing is lost."""
    from wasmlab.runtime.teardown import exit_now

    try:
        code = main()
    except KeyboardInterrupt:
        code = shell.INTERRUPTED
    except BrokenPipeError:
        code = shell.FAILED
    exit_now(code)


if __name__ == "__main__":  # pragma: no cover
    command()
