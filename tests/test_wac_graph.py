"""The WAC type model, package loading, subtype checks, merging and the composition graph."""

from __future__ import annotations

import pytest

from wasmlab.wac._aggregate import TypeAggregator, alternate_lookup_key, are_semver_compatible
from wasmlab.wac._graph import CompositionGraph
from wasmlab.wac._graph_errors import (
    ArgumentAlreadyPassed,
    ArgumentTypeMismatch,
    ExportAlreadyExists,
    ImportAlreadyExists,
    InstanceMissingExport,
    InvalidArgumentName,
    InvalidExportName,
    InvalidImportName,
    NodeIsNotAnInstance,
    NodeIsNotAnInstantiation,
    PackageAlreadyRegistered,
)
from wasmlab.wac._package import Package, PackageError, wat_to_bytes
from wasmlab.wac._types import (
    AliasType,
    Borrow,
    EnumType,
    FuncType,
    Interface,
    ItemKind,
    Own,
    Primitive,
    RecordType,
    Resource,
    ResourceAlias,
    SubtypeChecker,
    SubtypeError,
    Types,
    World,
    error_chain,
)

U32, STRING = Primitive("u32"), Primitive("string")

FOO = """(component
  (import "f" (func (param "x" u32)))
  (import "i" (instance (export "g" (func (result string)))))
  (export "h" (func 0))
  (export "j" (instance 0))
)"""

BAR = """(component
  (import "f" (func (param "x" u32)))
  (export "h" (func 0))
)"""


def _graph_with(*sources):
    graph = CompositionGraph()
    ids = [graph.register_package(Package.from_bytes(name, None, wat_to_bytes(text), graph.types))
           for name, text in sources]
    return graph, ids


def _mismatch(a, b) -> list[str]:
    with pytest.raises(SubtypeError) as info:
        SubtypeChecker().is_subtype(a, b)
    return error_chain(info.value)


# --- packages -------------------------------------------------------------------------------------

def test_package_world_and_instance_type_from_a_component():
    graph, (foo,) = _graph_with(("foo:bar", FOO))
    pkg = graph.package(foo)
    assert list(pkg.ty.imports) == ["f", "i"]
    assert list(pkg.ty.exports) == ["h", "j"]
    assert pkg.ty.imports["f"].kind == "func"
    assert list(pkg.ty.imports["f"].ty.params) == ["x"]
    # an export of an imported item has the import's very type, as the reference sees it
    assert pkg.ty.exports["h"].ty is pkg.ty.imports["f"].ty
    assert pkg.ty.exports["j"].ty is pkg.ty.imports["i"].ty
    assert list(pkg.instance_type.exports) == ["h", "j"]


def test_package_used_types_and_resource_aliases():
    text = """(component
      (type (instance (export "fields" (type (sub resource))) (export "headers" (type (eq 0)))))
      (import "test:comp/types" (instance (type 0)))
      (alias export 0 "headers" (type))
      (type (instance (alias outer 1 1 (type)) (export "headers" (type (eq 0)))
                      (type (own 1)) (type (func (result 2))) (export "get-headers" (func (type 3)))))
      (import "test:comp/incoming-request" (instance (type 2)))
    )"""
    types = Types()
    pkg = Package.from_bytes("foo:bar", None, wat_to_bytes(text), types)
    types_iface = pkg.ty.imports["test:comp/types"].ty
    request = pkg.ty.imports["test:comp/incoming-request"].ty
    assert types_iface.id == "test:comp/types"
    headers = types_iface.exports["headers"].ty
    assert isinstance(headers, Resource) and headers.alias.source is types_iface.exports["fields"].ty
    used = request.uses["headers"]
    assert used.interface is types_iface and used.name == "fields"
    result = request.exports["get-headers"].ty.result
    assert isinstance(result, Own) and result.resource is request.exports["headers"].ty


def test_package_from_a_wit_folder_has_definitions(tmp_path):
    (tmp_path / "package.wit").write_text(
        "package foo:bar;\ninterface baz { f: func(); }\nworld w { export baz; }\n")
    pkg = Package.from_file("foo:bar", None, tmp_path, Types())
    assert set(pkg.definitions) == {"baz", "w"}
    assert pkg.definitions["baz"].ty.id == "foo:bar/baz"
    assert isinstance(pkg.definitions["w"].ty, World)


def test_not_a_component():
    with pytest.raises(PackageError) as info:
        Package.from_bytes("foo:bar", None, b"\0asm\x01\0\0\0", Types())
    assert str(info.value) == "package `foo:bar` is not a binary-encoded WebAssembly component"


def test_invalid_component_reports_the_validator_message():
    with pytest.raises(PackageError) as info:
        Package.from_bytes("foo:bar", None, b"\0asm\r\0\x01\0\x0a\x04\x01\x00\x01x", Types())
    assert "unexpected end" in str(info.value) or "out of bounds" in str(info.value)


# --- subtype checks -------------------------------------------------------------------------------

def test_function_subtyping_is_equality_with_the_reference_wording():
    f = ItemKind.func(FuncType({"x": U32}, None))
    assert _mismatch(f, ItemKind.func(FuncType({"x": STRING}, None))) == [
        "mismatched type for function parameter `x`", "expected string, found u32"]
    assert _mismatch(f, ItemKind.func(FuncType({}, None))) == [
        "expected function with parameter count 0, found parameter count 1"]
    assert _mismatch(f, ItemKind.func(FuncType({"x": U32}, U32))) == [
        "expected function with a result, found function without a result"]
    assert _mismatch(f, ItemKind.func(FuncType({"y": U32}, None))) == [
        "expected function parameter 0 to be named `y`, found name `x`"]


def test_defined_types_compare_structurally():
    rec = lambda **fields: RecordType(fields)  # noqa: E731
    assert _mismatch(ItemKind.value(rec(a=U32)), ItemKind.value(rec(a=STRING))) == [
        "mismatched type for record field `a`", "expected string, found u32"]
    assert _mismatch(ItemKind.value(EnumType(["a", "b"])), ItemKind.value(EnumType(["a", "c"]))) == [
        "expected enum case 1 to be named `c`, found an enum case named `b`"]
    SubtypeChecker().is_subtype(ItemKind.value(AliasType(rec(a=U32))), ItemKind.value(rec(a=U32)))
    assert _mismatch(ItemKind.value(U32), ItemKind.instance(Interface())) == ["expected instance, found value"]


def test_instances_may_export_more_and_resources_match_by_name():
    f = FuncType({}, None)
    more = ItemKind.instance(Interface(None, {}, {"f": ItemKind.func(f), "g": ItemKind.func(f)}))
    fewer = ItemKind.instance(Interface(None, {}, {"f": ItemKind.func(f)}))
    SubtypeChecker().is_subtype(more, fewer)
    assert _mismatch(fewer, more) == ["instance is missing expected function export `g`"]
    r1, r2 = Resource("r"), Resource("other")
    assert _mismatch(ItemKind.value(Borrow(r1)), ItemKind.value(Borrow(r2))) == [
        "expected resource `other`, found resource `r`"]
    alias = Resource("r2", ResourceAlias(None, r1))
    SubtypeChecker().is_subtype(ItemKind.type(alias), ItemKind.type(Resource("r")))


def test_component_imports_are_checked_contravariantly():
    f = ItemKind.func(FuncType({}, None))
    needs_f = ItemKind.component(World(None, {}, {"f": f}, {}))
    needs_nothing = ItemKind.component(World(None, {}, {}, {}))
    SubtypeChecker().is_subtype(needs_nothing, needs_f)
    # worded as the reference words it (the check runs in the outer direction)
    assert _mismatch(needs_f, needs_nothing) == ["component is missing expected function import `f`"]


# --- merging implicit imports ---------------------------------------------------------------------

def test_semver_tracks():
    assert alternate_lookup_key("x:y/z@1.2.3")[0] == "x:y/z@1"
    assert alternate_lookup_key("x:y/z@0.2.3")[0] == "x:y/z@0.2"
    assert alternate_lookup_key("x:y/z@0.0.1") is None
    assert are_semver_compatible("a:b/c@0.2.0", "a:b/c@0.2.1")
    assert not are_semver_compatible("a:b/c@0.2.0", "a:b/c@0.3.0")


def test_aggregator_merges_interfaces_and_keeps_the_highest_version():
    f = ItemKind.func(FuncType({}, None))
    low = ItemKind.instance(Interface("a:b/c@0.2.0", {}, {"f": f}))
    high = ItemKind.instance(Interface("a:b/c@0.2.1", {}, {"f": f, "g": f}))
    agg = TypeAggregator()
    checker = SubtypeChecker()
    agg.aggregate("a:b/c@0.2.0", low, checker)
    agg.aggregate("a:b/c@0.2.1", high, checker)
    assert list(agg.imports) == ["a:b/c@0.2.1"]
    assert agg.canonical_import_name("a:b/c@0.2.0") == "a:b/c@0.2.1"
    assert list(agg.imports["a:b/c@0.2.1"].ty.exports) == ["f", "g"]


def test_aggregator_refuses_different_kinds():
    agg = TypeAggregator()
    agg.aggregate("foo", ItemKind.func(FuncType({}, None)), SubtypeChecker())
    with pytest.raises(SubtypeError) as info:
        agg.aggregate("foo", ItemKind.instance(Interface()), SubtypeChecker())
    assert str(info.value) == "function cannot be merged with instance"


# --- the graph ------------------------------------------------------------------------------------

def test_graph_dot_in_the_reference_form():
    graph, (foo, bar) = _graph_with(("foo:bar", FOO), ("bar:baz", BAR))
    f = graph.import_("f", graph.package(foo).ty.imports["f"])
    bar_inst = graph.instantiate(bar)
    graph.set_instantiation_argument(bar_inst, "f", f)
    foo_inst = graph.instantiate(foo)
    h = graph.alias_instance_export(bar_inst, "h")
    graph.set_instantiation_argument(foo_inst, "f", h)
    graph.export(graph.alias_instance_export(foo_inst, "j"), "j")
    graph.export(foo_inst, "foo")
    assert graph.to_dot() == (
        "digraph {\n"
        '    0 [ label = "import \\"f\\""; kind = "function"]\n'
        '    1 [ label = "instantiation of package \\"bar:baz\\""; kind = "instance"]\n'
        '    2 [ label = "instantiation of package \\"foo:bar\\""; kind = "instance"; export = "foo"]\n'
        '    3 [ label = "alias of export \\"h\\""; kind = "function"]\n'
        '    4 [ label = "alias of export \\"j\\""; kind = "instance"; export = "j"]\n'
        '    0 -> 1 [ label = "argument to" ]\n'
        '    1 -> 3 [ label = "aliased export" ]\n'
        '    3 -> 2 [ label = "argument to" ]\n'
        '    2 -> 4 [ label = "aliased export" ]\n'
        "}\n")
    assert graph.get_alias_source(3) == (1, "h")
    assert graph.get_instantiation_arguments(2) == [("f", 3)]
    assert graph.alias_instance_export(bar_inst, "h") == h  # one alias node per export
    assert [(name, node) for name, _, node in graph.imports()] == [("i", None), ("f", 0)]


def test_type_definitions_depend_on_each_other_in_dot():
    graph = CompositionGraph()
    x = graph.types.add(AliasType(U32))
    graph.define_type("x", x)
    graph.define_type("r", graph.types.add(RecordType({"a": x})))
    assert graph.to_dot().splitlines()[1:] == [
        '    0 [ label = "type definition \\"x\\""; kind = "u32"; export = "x"]',
        '    1 [ label = "type definition \\"r\\""; kind = "record"; export = "r"]',
        '    0 -> 1 [ label = "dependency of" ]',
        "}",
    ]


def test_graph_errors_carry_the_reference_messages():
    graph, (foo, bar) = _graph_with(("foo:bar", FOO), ("bar:baz", BAR))
    with pytest.raises(PackageAlreadyRegistered, match="package `foo:bar` has already been registered"):
        graph.register_package(Package.from_bytes("foo:bar", None, wat_to_bytes(FOO), graph.types))
    f = graph.import_("f", graph.package(foo).ty.imports["f"])
    with pytest.raises(ImportAlreadyExists, match="import name `f` already exists in the graph"):
        graph.import_("f", graph.package(foo).ty.imports["f"])
    with pytest.raises(InvalidImportName) as info:
        graph.import_("NOT-VALID-NAME!", graph.package(foo).ty.imports["f"])
    assert error_chain(info.value.__cause__) == ["`NOT-VALID-NAME!` is not in kebab case"]
    with pytest.raises(NodeIsNotAnInstance, match="but the node is a function"):
        graph.alias_instance_export(f, "x")
    inst = graph.instantiate(foo)
    with pytest.raises(InstanceMissingExport, match="instance does not have an export named `nope`"):
        graph.alias_instance_export(inst, "nope")
    with pytest.raises(NodeIsNotAnInstantiation):
        graph.set_instantiation_argument(f, "f", f)
    with pytest.raises(InvalidArgumentName, match="argument name `zz` is not an import of package `foo:bar`"):
        graph.set_instantiation_argument(inst, "zz", f)
    with pytest.raises(ArgumentTypeMismatch) as info:
        graph.set_instantiation_argument(inst, "i", f)
    assert str(info.value) == "mismatched instantiation argument `i`"
    assert error_chain(info.value.__cause__) == ["expected instance, found function"]
    graph.set_instantiation_argument(inst, "f", f)
    graph.set_instantiation_argument(inst, "f", f)  # the same argument again is fine
    other = graph.instantiate(bar)
    h = graph.alias_instance_export(other, "h")
    with pytest.raises(ArgumentAlreadyPassed, match="argument `f` has already been passed"):
        graph.set_instantiation_argument(inst, "f", h)
    graph.export(inst, "x")
    with pytest.raises(ExportAlreadyExists, match="an export with the name `x` already exists"):
        graph.export(h, "x")
    with pytest.raises(InvalidExportName) as info:
        graph.export(h, "unlocked-dep=<a:b>")
    assert error_chain(info.value.__cause__) == ["export name cannot be a hash, url, or dependency"]


def test_unexport_and_remove_node():
    graph, (foo,) = _graph_with(("foo:bar", FOO))
    inst = graph.instantiate(foo)
    alias = graph.alias_instance_export(inst, "h")
    graph.export(alias, "h")
    graph.unexport(alias)
    assert graph.get_export("h") is None
    graph.export(alias, "h")
    graph.remove_node(inst)  # removes its aliases too
    assert graph.node_ids() == []
    assert graph.get_export("h") is None
