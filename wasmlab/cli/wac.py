"""``wasmlab wac ...``: the ``wac`` command line (parse, resolve, compose, plug) over wasmlab.wac.

Errors print as the reference's message, then ``file:line:col`` and the source line with a
caret; the exit status is 1 and there is no traceback (see :mod:`wasmlab.cli.shell`).
"""

from __future__ import annotations

import argparse
import json
import sys

from wasmlab.api import __version__
from wasmlab.cli import shell
from wasmlab.errors import WacError, WasmlabError

__all__ = ["main", "add_commands", "run_parse", "run_resolve", "run_compose", "run_plug", "PROCESSOR",
           "DESCRIPTION"]

PROCESSOR = ("wasmlab", __version__)  # the producers section's processed-by entry of composed components
DESCRIPTION = "WebAssembly Compositions (WAC), as bytecodealliance/wac defines them."


def _read(path: str) -> str:
    return shell.read_text(path, "WAC document")


def _dep_mapping(values: list[str]) -> dict[str, str]:
    deps: dict[str, str] = {}
    for value in values or []:
        name, sep, path = value.partition("=")
        if not sep or not name or not path:
            raise WacError(f"invalid dependency `{value}`", hint="write --dep ns:name=PATH")
        deps[name] = path
    return deps


def run_parse(path: str) -> str:
    """Parse the file at ``path`` (``wasmlab wac parse``): the syntax tree as the reference's JSON."""
    from wasmlab.wac import parse
    from wasmlab.wac._ast import to_reference_json

    document = parse(_read(path), origin=path)
    return json.dumps(to_reference_json(document), indent=2, ensure_ascii=False)


def run_resolve(path: str, *, deps_dir: str | None = None, deps: dict[str, str] | None = None) -> str:
    """Resolve the file at ``path`` and return its composition graph as DOT (``wasmlab wac resolve``)."""
    from wasmlab.wac import resolve

    resolution = resolve(_read(path), origin=path, deps_dir=deps_dir, deps=deps or {}, registry=_registry())
    return resolution.to_dot()


def _parse(args) -> int:
    print(run_parse(args.file))
    return 0


def _resolve(args) -> int:
    dot = run_resolve(args.file, deps_dir=args.deps_dir, deps=_dep_mapping(args.dep))
    sys.stdout.write(dot if dot.endswith("\n") else dot + "\n")
    return 0


def run_compose(path: str, *, deps_dir: str | None = None, deps: dict[str, str] | None = None,
                import_dependencies: bool = False, processor: tuple[str, str] = PROCESSOR) -> bytes:
    """Resolve and encode the file at ``path`` (``wasmlab wac compose``); returns the component bytes."""
    from wasmlab.wac import resolve

    resolution = resolve(_read(path), origin=path, deps_dir=deps_dir, deps=deps or {}, registry=_registry())
    return resolution.encode(define_components=not import_dependencies, processor=processor)


def _registry():
    """Packages found nowhere else come from the registries of the wkg configuration (as wac does)."""
    from wasmlab.toolchain.registry import fetch_package

    return fetch_package


def run_plug(socket: str, plugs: list[str], *, insecure: bool | None = None) -> bytes:
    """Plug the exports of ``plugs`` into the imports of ``socket`` (``wasmlab wac plug``); each
    may be a registry reference (``oci://...``)."""
    from wasmlab.toolchain import registry
    from wasmlab.wac import plug_files  # its errors are WacErrors

    socket, *plugs = [str(registry.pull(p, insecure=insecure).path) if registry.is_reference(p) else p
                      for p in [socket, *plugs]]
    for path in [socket, *plugs]:
        shell.read_bytes(path, "component")
    return plug_files(socket, plugs)


def _write(output: str, wasm: bytes) -> int:
    out = shell.write_bytes(output, wasm)
    print(f"wrote {out} ({len(wasm)} bytes)", file=sys.stderr)
    return 0


def _compose(args) -> int:
    shell.check_output(args.output)
    wasm = run_compose(args.file, deps_dir=args.deps_dir, deps=_dep_mapping(args.dep),
                       import_dependencies=args.import_dependencies)
    return _write(args.output, wasm)


def _plug(args) -> int:
    shell.check_output(args.output)
    return _write(args.output, run_plug(args.socket, args.plug, insecure=args.insecure))


def _report(err: WasmlabError) -> None:
    """As the reference prints it: the message, then ``--> file:line:col`` and the quoted line."""
    print(err.render(), file=sys.stderr)


def _parser() -> argparse.ArgumentParser:
    parser = shell.Parser(prog="wasmlab wac", description=DESCRIPTION)
    add_commands(parser.add_subparsers(dest="wac_command", required=True, metavar="COMMAND"))
    return parser


def add_commands(sub) -> None:
    """The parse, resolve, compose and plug subcommands, added to ``sub`` (``wasmlab wac``'s)."""

    p = sub.add_parser("parse", help="parse a WAC document and print its syntax tree as JSON (or the error "
                       "and its location)")
    p.add_argument("file")
    p.set_defaults(run=_parse)

    def deps_options(p):
        p.add_argument("--deps-dir", metavar="DIR", help="packages laid out as DIR/ns/name.wasm, "
                       ".wat, or DIR/ns/name/ holding WIT")
        p.add_argument("--dep", action="append", default=[], metavar="NS:NAME=PATH",
                       help="the package NS:NAME is the file or WIT folder PATH (repeatable)")

    p = sub.add_parser("resolve", help="resolve a WAC document and print its composition graph as DOT")
    p.add_argument("file")
    deps_options(p)
    p.set_defaults(run=_resolve)

    p = sub.add_parser("compose", help="compose the components of a WAC document into one component")
    p.add_argument("file")
    deps_options(p)
    p.add_argument("--import-dependencies", action="store_true",
                   help="import the packages (unlocked-dep=<ns:name>) instead of embedding them")
    p.add_argument("-o", "--output", required=True, metavar="OUT.wasm")
    p.set_defaults(run=_compose)

    p = sub.add_parser("plug", help="plug the exports of components into the imports of a socket")
    p.add_argument("socket")
    p.add_argument("--plug", action="append", required=True, metavar="PLUG", help="repeatable")
    p.add_argument("--insecure", action="store_true", default=None,
                   help="plain HTTP to a registry given as oci://... (localhost always is)")
    p.add_argument("-o", "--output", required=True, metavar="OUT.wasm")
    p.set_defaults(run=_plug)
    for command in sub.choices.values():
        command.set_defaults(report_error=_report)


def main(argv: list[str] | None = None) -> int:
    """Run ``wasmlab wac ARGV...`` and return its exit code; never raises."""
    return shell.execute(_parser(), argv)
