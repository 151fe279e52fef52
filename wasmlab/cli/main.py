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
    out = shell.check_output(args.output)
    registry = WitRegistry()
    registry.define_path(args.wit)
    if python is not None:
        result = builders.build_python(python, world=world, origin=args.python, registry=registry)
    elif wat is not None:
        result = builders.build_wat(wat, world=world, origin=args.wat, registry=registry)
    else:
        result = builders.build_stub(world, registry=registry)
    shell.write_bytes(out, read_bytes(result.wasm_path))
    print(f"wrote {out} ({out.stat().st_size} bytes{', from cache' if result.cached else ''})", file=sys.stderr)
    return 0


def _load(path: str):
    """The component at ``path``, after a check that it is a file wasmlab can read."""
    from wasmlab.runtime.component import load

    read_bytes(path, "component (.wasm or .wat)")
    return load(path)


def _inspect(args) -> int:
    component = _load(args.component)
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
    component = _load(args.component)
    component.grants = grants
    component.limits = limits
    target, _ = wave.parse_call(expression, origin="call")
    try:
        exported = component.export(target)
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


def _run(args) -> int:
    from wasmlab.runtime.component import load
    from wasmlab.runtime.core_modules import load_module

    _warn_about_own_options(args.args, args.own_options)
    program_args = [unicode_text(arg, "the program argument") for arg in args.args]
    # a program run from the shell reads and writes the shell's own stdin, stdout and stderr
    grants = dataclasses.replace(_grants(args), inherit_stdio=True)
    limits = _limits(args)
    head = read_bytes(args.component, "program (.wasm or .wat)")[:8]
    path = Path(args.component)
    is_core = head[4:8] == b"\x01\x00\x00\x00" or (
        path.suffix == ".wat" and "(component" not in read_text(path, "WAT file")[:200])
    program = load_module(path) if is_core else load(path)
    program.grants = grants
    program.limits = limits
    result = program.run(*program_args)
    if args.fuel is not None and program.fuel_consumed is not None:
        print(f"fuel consumed: {program.fuel_consumed}", file=sys.stderr)
    return result.exit_code


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
    """The grant and limit flags of a run, spelled as wasmtime spells them; returns their spellings."""
    actions = [
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
    source.add_argument("--stub", action="store_true")
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
    _add_run_options(call)
    call.set_defaults(run=_call)

    run = sub.add_parser("run", help="run a command (a wasi:cli/run component or a WASI core module)",
                         usage="wasmlab run [OPTIONS] COMPONENT [ARGS...]",
                         description="Run a command. wasmlab's options go before the component: everything "
                         "after it is passed to the program, as in wasmtime.")
    run.add_argument("component")
    run.add_argument("args", nargs=argparse.REMAINDER, help="arguments for the program")
    run.set_defaults(run=_run, own_options=_add_run_options(run))

    kernel = sub.add_parser("install-kernel", help="install the 'Python 3 (wasmlab)' kernel (magics preloaded)")
    where = kernel.add_mutually_exclusive_group()
    where.add_argument("--user", action="store_true", help="for this user only")
    where.add_argument("--sys-prefix", action="store_true", help="into this Python environment")
    where.add_argument("--prefix", default=None, help="under another prefix")
    kernel.set_defaults(run=_install_kernel)

    wac = sub.add_parser("wac", help="compose components with WAC (parse, resolve, compose, plug)",
                         description=wac_cli.DESCRIPTION)
    wac_cli.add_commands(wac.add_subparsers(dest="wac_command", required=True, metavar="COMMAND"))
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``wasmlab ARGV...`` and return its exit code (see :mod:`wasmlab.cli.shell`); never raises."""
    return shell.execute(_parser(), argv)


def command() -> None:
    """The ``wasmlab`` executable: :func:`main`, then an exit that skips interpreter teardown.

    wasmtime's WASI runtime keeps tokio worker threads; when the interpreter tears down around
    them they can panic and abort the process after its work is done, turning the exit code of
    a run that succeeded into 134.  All output is flushed first, so nothing is lost.
    """
    try:
        code = main()
        sys.stdout.flush()
        sys.stderr.flush()
    except KeyboardInterrupt:
        code = shell.INTERRUPTED
    except BrokenPipeError:
        code = shell.FAILED
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    command()
