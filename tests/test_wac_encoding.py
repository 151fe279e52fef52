"""WAC encoding: encoded graphs that really run (the reference's encoding suite runs in
test_wac_conformance.py)."""

from __future__ import annotations

import pytest

import wasmlab
from wasmlab.toolchain.tools import wasm_tools
from wasmlab.wac._graph import CompositionGraph
from wasmlab.wac._graph_errors import ImplicitImportConflict, ImportTypeMergeConflict
from wasmlab.wac._package import Package, wat_to_bytes
from wasmlab.wac._types import ItemKind, error_chain

from guests import calculator_wat

# --- graphs built through the API, encoded and run ----------------------------------------------

ADDER, CALCULATOR = calculator_wat("demo")  # calculate(a, b) = 2 * (a + b), through the adder


def _calc_graph():
    graph = CompositionGraph()
    adder = graph.register_package(Package.from_bytes("demo:adder", None, wat_to_bytes(ADDER), graph.types))
    calc = graph.register_package(Package.from_bytes("demo:calculator", None, wat_to_bytes(CALCULATOR), graph.types))
    adder_inst = graph.instantiate(adder)
    calc_inst = graph.instantiate(calc)
    graph.set_node_name(adder_inst, "adder")
    graph.set_node_name(calc_inst, "calc")
    add = graph.alias_instance_export(adder_inst, "demo:calc/add")
    graph.set_instantiation_argument(calc_inst, "demo:calc/add", add)
    calculate = graph.alias_instance_export(calc_inst, "calculate")
    graph.export(calculate, "calculate")
    return graph


def test_embedded_dependencies_make_a_component_wasmtime_runs():
    data = _calc_graph().encode()
    printed = wasm_tools("print", input=data).text
    assert printed.count("(component") == 3  # the composition and both embedded packages
    assert "unlocked-dep" not in printed
    assert "(instance $adder" in printed and "(instance $calc" in printed
    app = wasmlab.load(data, name="app")
    assert app.calculate(20, 1) == 42


def test_imported_dependencies_name_the_packages():
    data = _calc_graph().encode(define_components=False)
    printed = wasm_tools("print", input=data).text
    assert '(import "unlocked-dep=<demo:adder>" (component' in printed
    assert '(import "unlocked-dep=<demo:calculator>" (component' in printed
    assert "(core module" not in printed


def test_versioned_packages_are_imported_with_a_version_range():
    graph = CompositionGraph()
    pid = graph.register_package(Package.from_bytes("demo:adder", "1.2.0", wat_to_bytes(ADDER), graph.types))
    graph.export(graph.alias_instance_export(graph.instantiate(pid), "demo:calc/add"), "demo:calc/add")
    printed = wasm_tools("print", input=graph.encode(define_components=False)).text
    assert '"unlocked-dep=<demo:adder@{>=1.2.0}>"' in printed


def test_unsatisfied_imports_become_imports_of_the_composition():
    graph = CompositionGraph()
    calc = graph.register_package(Package.from_bytes("demo:calculator", None, wat_to_bytes(CALCULATOR), graph.types))
    graph.export(graph.alias_instance_export(graph.instantiate(calc), "calculate"), "calculate")
    printed = wasm_tools("print", input=graph.encode()).text
    assert '(import "demo:calc/add" (instance' in printed
    assert '(with "demo:calc/add" (instance 0))' in printed


def test_explicit_import_conflicting_with_an_implicit_one():
    graph = CompositionGraph()
    calc = graph.register_package(Package.from_bytes("demo:calculator", None, wat_to_bytes(CALCULATOR), graph.types))
    graph.instantiate(calc)
    graph.import_("demo:calc/add", graph.package(calc).ty.imports["demo:calc/add"])
    with pytest.raises(ImplicitImportConflict) as info:
        graph.encode()
    assert str(info.value) == ("an instantiation of package `demo:calculator` implicitly imports an item "
                               "named `demo:calc/add`, but it conflicts with an explicit import of the same name")


def test_implicit_imports_that_cannot_merge():
    graph = CompositionGraph()
    a = graph.register_package(Package.from_bytes("a:a", None, wat_to_bytes('(component (import "foo" (func)))'), graph.types))
    b = graph.register_package(Package.from_bytes("b:b", None, wat_to_bytes('(component (import "foo" (instance)))'), graph.types))
    graph.instantiate(a)
    graph.instantiate(b)
    with pytest.raises(ImportTypeMergeConflict) as info:
        graph.encode()
    assert str(info.value) == "failed to merge the type definition for implicit import `foo` due to conflicting types"
    assert error_chain(info.value.__cause__) == ["function cannot be merged with instance"]


def test_type_definitions_are_exported():
    from wasmlab.wac._types import AliasType, Primitive, RecordType

    graph = CompositionGraph()
    u32 = graph.types.add(AliasType(Primitive("u32")))
    graph.define_type("count", u32)
    graph.define_type("point", graph.types.add(RecordType({"x": u32, "y": u32})))
    printed = wasm_tools("print", input=graph.encode()).text
    assert '(export (;1;) "count" (type 0))' in printed
    assert '(record (field "x" 1) (field "y" 1))' in printed
    assert ItemKind.type(u32).desc() == "u32"


USED_RESOURCE_WIT = """package foo:bar;

interface baz {
    resource x;
}

interface qux {
    use baz.{x};
    f: func() -> x;
}

world w {
    import qux;
    export qux;
}
"""


def _dummy_component(tmp_path, wit: str) -> bytes:
    """A component of the world with trapping bodies, as wit-component's dummy modules make."""
    (tmp_path / "w.wit").write_text(wit)
    wasm_tools("component", "embed", "--dummy", tmp_path / "w.wit", "-o", tmp_path / "core.wasm")
    return wasm_tools("component", "new", tmp_path / "core.wasm").stdout


def test_used_resources_flow_between_instances(tmp_path):
    data = _dummy_component(tmp_path, USED_RESOURCE_WIT)
    graph = CompositionGraph()
    first = graph.register_package(Package.from_bytes("test:first", None, data, graph.types))
    second = graph.register_package(Package.from_bytes("test:second", None, data, graph.types))
    qux = graph.package(first).ty.exports["foo:bar/qux"].ty
    assert qux.uses["x"].interface.id == "foo:bar/baz"
    inner, outer = graph.instantiate(first), graph.instantiate(second)
    graph.set_instantiation_argument(outer, "foo:bar/qux", graph.alias_instance_export(inner, "foo:bar/qux"))
    graph.export(graph.alias_instance_export(outer, "foo:bar/qux"), "foo:bar/qux")
    embedded = wasm_tools("print", input=graph.encode()).text  # validated on the way
    top_level = [line for line in embedded.splitlines() if line.startswith('  (import ')]
    # the used interface once (shared by both instances), and the inner instance's import
    assert [line.split('"')[1] for line in top_level] == ["foo:bar/baz", "foo:bar/qux"]
    imported = wasm_tools("print", input=graph.encode(define_components=False)).text
    assert '(alias export 0 "x" (type' in imported  # the used resource aliased, not redefined


def test_semver_compatible_implicit_imports_merge_into_the_highest_version():
    lower = '(component (import "test:dep/i@0.1.0" (instance (export "f" (func)))))'
    higher = '(component (import "test:dep/i@0.1.5" (instance (export "f" (func)) (export "g" (func)))))'
    graph = CompositionGraph()
    for name, text in (("test:lower", lower), ("test:higher", higher)):
        graph.instantiate(graph.register_package(Package.from_bytes(name, None, wat_to_bytes(text), graph.types)))
    printed = wasm_tools("print", input=graph.encode()).text
    top_level = [line.split('"')[1] for line in printed.splitlines() if line.startswith("  (import ")]
    assert top_level == ["test:dep/i@0.1.5"]
    assert '(with "test:dep/i@0.1.0" (instance 0))' in printed
    assert '(with "test:dep/i@0.1.5" (instance 0))' in printed
