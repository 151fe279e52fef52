"""Resolving WAC documents: where packages come from, the graph built, and located errors.

Packages are real components written in WAT (and WIT folders) turned into binaries by the real
wasm-tools, as the conformance suite's packages are.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from wasmlab.errors import WacError
from wasmlab.wac import parse, resolve
from wasmlab.wac._package import wat_to_bytes

from helpers import run_cli
from language_inputs import WAC_CONFORMANCE, wac_documents

# foo:bar imports an instance `greeter` (one function `hi`) and exports it as `foo:bar/baz@0.1.0`
GREETER_USER = """(component
  (type (instance (export "hi" (func (result string)))))
  (import "greeter" (instance (type 0)))
  (type (instance (export "f" (func))))
  (import (interface "foo:bar/baz@0.1.0") (instance (type 1)))
  (export (interface "foo:bar/baz@0.1.0") (instance 1))
)"""

# foo:hello exports an instance `greeter` of the same type
GREETER = """(component
  (type (instance (export "hi" (func (result string)))))
  (import "impl" (instance (type 0)))
  (export "greeter" (instance 0))
)"""

# the same package name, exporting something else: to see which source won
OTHER_GREETER = """(component
  (type (instance (export "bye" (func))))
  (import "impl" (instance (type 0)))
  (export "other" (instance 0))
)"""


@pytest.fixture(scope="module")
def deps(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("deps")
    (root / "foo").mkdir()
    (root / "foo" / "bar.wat").write_text(GREETER_USER)
    (root / "foo" / "hello.wat").write_text(GREETER)
    versioned = root / "foo" / "versioned"
    versioned.mkdir()
    (versioned / "1.2.3.wasm").write_bytes(wat_to_bytes(GREETER))
    wit = root / "ex" / "types"
    wit.mkdir(parents=True)
    (wit / "package.wit").write_text("package ex:types;\n\ninterface counter {\n  get: func() -> u32;\n}\n")
    return root


def resolve_error(text: str, **kw) -> WacError:
    with pytest.raises(WacError) as info:
        resolve(text, origin="cell", **kw)
    return info.value


def dot_lines(resolution) -> list[str]:
    return [line.strip() for line in resolution.to_dot().splitlines()]


# ----------------------------------------------------------------------------- graphs

def test_imports_types_and_exports_without_packages():
    resolution = resolve("""package ex:app;
record point { x: u32, y: u32 }
import f: func(p: point) -> u32;
import logger as "log": interface { log: func(msg: string); };
export f as "measure";
""")
    lines = dot_lines(resolution)
    assert 'type definition \\"point\\"' in lines[1] and 'export = "point"' in lines[1]
    assert lines[2] == '1 [ label = "import \\"f\\""; kind = "function"; export = "measure"]'
    assert lines[3] == '2 [ label = "import \\"log\\""; kind = "instance"]'
    assert resolution.graph[1].name == "f" and resolution.graph[2].name == "logger"


def test_instantiate_wire_alias_and_export(deps):
    resolution = resolve("""package ex:app;
let hello = new foo:hello { ... };
let user = new foo:bar { greeter: hello.greeter, ... };
export user.baz;
""", deps_dir=deps)
    lines = dot_lines(resolution)
    assert 'label = "instantiation of package \\"foo:hello\\""' in lines[1]
    assert 'label = "alias of export \\"greeter\\""' in lines[2]
    assert 'export = "foo:bar/baz@0.1.0"' in lines[4]  # `.baz` found the interface by its short name
    assert "0 -> 1 [ label = \"aliased export\" ]" in lines
    assert "1 -> 2 [ label = \"argument to\" ]" in lines


def test_spread_argument_and_spread_export(deps):
    resolution = resolve("""package ex:app;
let hello = new foo:hello { ... };
let user = new foo:bar { ...hello, ... };
export user...;
""", deps_dir=deps)
    assert list(resolution.graph.exports()) == ["foo:bar/baz@0.1.0"]


def test_package_sources_in_order(deps, tmp_path):
    other = tmp_path / "other.wat"
    other.write_text(OTHER_GREETER)
    text = "package ex:app;\nlet h = new foo:hello { ... };\nexport h.other;\n"
    # the deps directory alone: foo:hello has no export `other`
    assert resolve_error(text, deps_dir=deps).message == "the instance has no export named `other`"
    # --dep overrides the deps directory
    resolve(text, deps_dir=deps, deps={"foo:hello": str(other)})
    # the caller's packages (the notebook session) come first: bytes, a path, or a component object
    resolve(text, deps_dir=deps, packages={"foo:hello": wat_to_bytes(OTHER_GREETER)})
    err = resolve_error(text, deps={"foo:hello": str(other)}, packages={"foo:hello": deps / "foo" / "hello.wat"})
    assert err.message == "the instance has no export named `other`"

    class SessionComponent:
        wasm_path = other

    resolve(text, packages={"foo:hello": SessionComponent()})
    # a session package also answers a versioned reference (the deps directory would need foo/hello/1.0.0.wasm)
    resolution = resolve(text.replace("foo:hello", "foo:hello@1.0.0"), packages={"foo:hello": SessionComponent()})
    assert 'instantiation of package \\"foo:hello@1.0.0\\"' in resolution.to_dot()


def test_versioned_packages_and_wit_folders(deps):
    resolution = resolve("""package ex:app;
import counter: ex:types/counter;
let v = new foo:versioned@1.2.3 { ... };
export v.greeter as "g";
""", deps_dir=deps)
    lines = dot_lines(resolution)
    assert 'import \\"ex:types/counter\\"' in lines[1]
    assert 'instantiation of package \\"foo:versioned@1.2.3\\"' in lines[2]


def test_a_document_object_resolves_with_its_origin():
    document = parse("package ex:app;\nexport nothing;\n", origin="my.wac")
    err = resolve_error(document)
    assert (err.location.origin, err.location.line, err.location.column) == ("my.wac", 2, 8)


# ----------------------------------------------------------------------------- errors

@pytest.mark.parametrize("text,message,line,col", [
    ("package a:b;\nlet x = y;", "undefined name `y`", 2, 9),
    ("package a:b;\nimport x: func();\nimport x as y: func();", "`x` is already defined", 3, 8),
    ("package a:b;\nimport x: func();\nimport y as x: func();", "duplicate import `x`", 3, 13),
    ("package a:b;\nimport x as \"Not Valid\": func();", "import name `Not Valid` is not valid", 2, 13),
    ("package a:b;\nrecord r { a: u32, a: u32 }", "duplicate field `a` for record type `r`", 2, 20),
    ("package a:b;\nimport f: func(x: u32, x: u32);", "duplicate function parameter `x`", 2, 24),
    ("package a:b;\ninterface i { resource r; f: func() -> borrow<r>; }",
     "function result cannot recursively contain a borrow type", 2, 40),
    ("package a:b;\ntype t = u32;\nexport t;", "export statement requires an `as` clause as the export name "
     "cannot be inferred", 3, 8),
    ("package a:b;\nrecord t { a: u32 }\nimport f: func();\nexport f as \"t\";",
     "export `t` conflicts with record definition", 4, 13),
    ("package a:b;\nimport f: func();\nexport f.g;", "an instance is required to perform an access operation", 3, 8),
    ("package a:b;\nlet x = new a:b {};", "cannot instantiate the package being defined", 2, 13),
    ("package a:b;\nlet x = new a:c {};", "unknown package `a:c`", 2, 13),
    ("package a:b;\nworld w { import x: func(); import x: func(); }",
     "import `x` conflicts with existing import of the same name in world `w`", 2, 36),
    ("package a:b;\ninterface i { type t = u32; }\ninterface j { use i.{u}; }",
     "a type named `u` is not defined in interface `i`", 3, 22),
])
def test_errors_are_located_like_the_reference(text, message, line, col):
    err = resolve_error(text)
    assert err.message == message
    assert (err.location.origin, err.location.line, err.location.column) == ("cell", line, col)


def test_instantiation_errors(deps):
    text = "package ex:app;\nimport g: func();\nlet u = new foo:bar { greeter: g, ... };\n"
    err = resolve_error(text, deps_dir=deps)
    assert err.message == "mismatched instantiation argument `greeter`"
    assert (err.location.line, err.location.column) == (3, 23)
    assert err.causes == ["expected instance, found function"]
    assert "caused by: expected instance, found function" in err.render()

    err = resolve_error("package ex:app;\nlet u = new foo:bar {};\n", deps_dir=deps)
    assert err.message == "missing instantiation argument `greeter` for package `foo:bar`"
    err = resolve_error("package ex:app;\nimport g: func();\nlet u = new foo:bar { nope: g, ... };\n",
                        deps_dir=deps)
    assert err.message == "component `foo:bar` has no import named `nope`"
    err = resolve_error("package ex:app;\nlet u = new foo:bar { ..., greeter: x };\n", deps_dir=deps)
    assert err.message == "implicit import argument `...` must be the last argument"


def test_target_worlds(deps):
    text = """package ex:app targets ex:app/w;
world w {
  import impl: interface { hi: func() -> string; };
  export greeter: interface { hi: func() -> string; };
}
let h = new foo:hello { ... };
"""
    # the world is declared in the document itself: an export it requires is missing
    err = resolve_error(text, deps_dir=deps)
    assert err.message == "target world `ex:app/w` requires an export named `greeter`"
    assert (err.location.line, err.location.column) == (1, 24)
    resolve(text + "export h.greeter;\n", deps_dir=deps)
    err = resolve_error(text + "export h.greeter;\nimport extra: func();\n", deps_dir=deps)
    assert err.message == "target world `ex:app/w` does not have an import named `extra`"
    assert (err.location.line, err.location.column) == (8, 8)
    err = resolve_error("package ex:app targets foo:bar/baz;\n", deps_dir=deps)
    assert err.message == "package `foo:bar` has no export named `baz`"


def test_unknown_packages_are_reported_before_other_errors(deps):
    err = resolve_error("package ex:app;\nlet a = undefined;\nlet b = new no:such {};\n", deps_dir=deps)
    assert err.message == "unknown package `no:such`"
    assert (err.location.line, err.location.column) == (3, 13)


def test_broken_package_files(tmp_path):
    (tmp_path / "foo").mkdir()
    (tmp_path / "foo" / "bar.wat").write_text("(component (oops))")
    err = resolve_error("package ex:app;\nlet b = new foo:bar {};\n", deps_dir=tmp_path)
    assert err.message == "failed to resolve package `foo:bar`"
    (tmp_path / "foo" / "bar.wat").unlink()
    (tmp_path / "foo" / "bar.wasm").write_bytes(b"not wasm")
    err = resolve_error("package ex:app;\nlet b = new foo:bar {};\n", deps_dir=tmp_path)
    assert err.message == "failed to parse package `foo:bar`"
    err = resolve_error("package ex:app;\nlet b = new foo:bar {};\n", deps={"foo:bar": str(tmp_path / "missing.wasm")})
    assert err.message == "failed to resolve package `foo:bar`"


# ----------------------------------------------------------------------------- the command line

def test_cli_resolve_with_dep_overrides(deps, tmp_path):
    doc = tmp_path / "app.wac"
    doc.write_text("package ex:app;\nlet h = new foo:hello { ... };\nexport h.greeter as \"g\";\n")
    proc = run_cli("wac", "resolve", str(doc), "--dep", f"foo:hello={deps / 'foo' / 'hello.wat'}")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("digraph {") and 'export = "g"' in proc.stdout

    proc = run_cli("wac", "resolve", str(doc), "--dep", "foo:hello")
    assert proc.returncode == 1 and "invalid dependency `foo:hello`" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_cli_errors_name_the_file_line_and_column(tmp_path):
    doc = tmp_path / "bad.wac"
    doc.write_text("package ex:app;\n\nlet x = missing;\n")
    proc = run_cli("wac", "resolve", str(doc))
    assert proc.returncode == 1
    assert "undefined name `missing`" in proc.stderr
    assert f"{doc}:3:9" in proc.stderr and "3 | let x = missing;" in proc.stderr
    proc = run_cli("wac", "parse", str(tmp_path / "absent.wac"))
    assert proc.returncode == 1 and "failed to read" in proc.stderr and "Traceback" not in proc.stderr


# a component exporting the interface ex:demo/value (get returns 42), and a socket importing it
VALUE = """(component
  (core module $m (func (export "get") (result i32) i32.const 42))
  (core instance $i (instantiate $m))
  (func $get (result u32) (canon lift (core func $i "get")))
  (instance $value (export "get" (func $get)))
  (export "ex:demo/value" (instance $value))
)"""

SOCKET = """(component
  (import "ex:demo/value" (instance $v (export "get" (func (result u32)))))
  (alias export $v "get" (func $get))
  (core func $get_low (canon lower (func $get)))
  (core module $m
    (import "host" "get" (func $g (result i32)))
    (func (export "answer") (result i32) call $g i32.const 1 i32.add))
  (core instance $host (export "get" (func $get_low)))
  (core instance $i (instantiate $m (with "host" (instance $host))))
  (func $answer (result u32) (canon lift (core func $i "answer")))
  (export "answer" (func $answer))
)"""


@pytest.fixture(scope="module")
def runnable_deps(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("runnable")
    (root / "ex").mkdir()
    (root / "ex" / "value.wasm").write_bytes(wat_to_bytes(VALUE))
    (root / "ex" / "socket.wasm").write_bytes(wat_to_bytes(SOCKET))
    return root


def test_cli_compose_embeds_the_packages_and_the_result_runs(runnable_deps, tmp_path):
    import wasmlab

    doc = tmp_path / "app.wac"
    doc.write_text("package ex:app;\nlet v = new ex:value {};\nlet s = new ex:socket { ...v };\nexport s.answer;\n")
    out = tmp_path / "app.wasm"
    proc = run_cli("wac", "compose", str(doc), "--deps-dir", str(runnable_deps), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert wasmlab.load(out).answer() == 43

    deps_out = tmp_path / "deps.wasm"
    proc = run_cli("wac", "compose", str(doc), "--deps-dir", str(runnable_deps), "--import-dependencies",
                   "-o", str(deps_out))
    assert proc.returncode == 0, proc.stderr
    from wasmlab.toolchain.tools import wasm_tools

    printed = wasm_tools("print", deps_out).text
    assert 'unlocked-dep=<ex:value>' in printed and 'unlocked-dep=<ex:socket>' in printed


def test_cli_plug_wires_the_plug_into_the_socket(runnable_deps, tmp_path):
    import wasmlab

    out = tmp_path / "plugged.wasm"
    proc = run_cli("wac", "plug", str(runnable_deps / "ex" / "socket.wasm"), "--plug",
                   str(runnable_deps / "ex" / "value.wasm"), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert wasmlab.load(out).answer() == 43

    proc = run_cli("wac", "plug", str(runnable_deps / "ex" / "value.wasm"), "--plug",
                   str(runnable_deps / "ex" / "value.wasm"), "-o", str(out))
    assert proc.returncode == 1 and "no matching imports" in proc.stderr and "Traceback" not in proc.stderr

    (tmp_path / "notes.wasm").write_text("not a component\n")
    proc = run_cli("wac", "plug", str(tmp_path / "notes.wasm"), "--plug", str(runnable_deps / "ex" / "value.wasm"),
                   "-o", str(out))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "notes.wasm is not a component: it is not WebAssembly" in proc.stderr


def test_mutated_documents_end_in_clean_errors():
    """Random edits of the conformance documents: every outcome is a result or a located WacError."""
    import random

    documents = wac_documents()
    if not documents and not os.environ.get("CI"):
        pytest.skip(f"the WAC conformance suite is not at {WAC_CONFORMANCE} (set WASMLAB_WAC_CONFORMANCE)")
    assert documents
    rng = random.Random(5)
    pieces = ["{", "}", "(", ")", "<", ">", ";", ":", "...", ".", "[", "]", '"', "let", "new", "export",
              "import", "as", "%", "@", "/", ",", "x", "foo:bar", "a:b/c@1.0.0", "->", "_", "\n", "é", "/*"]
    for _ in range(400):
        text = rng.choice(documents).read_text(encoding="utf-8")
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(len(text) + 1)
            if rng.random() < 0.5:
                text = text[:at] + rng.choice(pieces) + text[at:]
            else:
                text = text[:at] + text[at + rng.randint(1, 8):]
        try:
            resolve(text, origin="mutated")
        except WacError as err:
            assert err.message
            if err.location is not None:
                assert 1 <= err.location.line <= text.count("\n") + 1
