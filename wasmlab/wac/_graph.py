"""The composition graph: packages instantiated, wired together, aliased and exported.

Shaped like the reference's ``wac-graph`` ``CompositionGraph``; the WAC resolver builds one from a
document, ``%%wac`` and ``wasmlab.plug`` use it directly, and ``encode()`` turns it into a
component.

    g = CompositionGraph()                       # g.types: the Types collection
    pkg = Package.from_bytes("foo:bar", None, wasm_bytes, g.types)   # wasmlab.wac._package
    pid = g.register_package(pkg)                # -> package id (int)
    imp = g.import_("wasi:io/streams@0.2.0", ItemKind.instance(iface))   # -> node id (int)
    inst = g.instantiate(pid)                    # an instance of the package
    g.set_instantiation_argument(inst, "baz", imp)   # type-checked by subtyping
    alias = g.alias_instance_export(inst, "foo:bar/baz@0.1.0")
    g.export(alias, "foo:bar/baz@0.1.0")
    g.define_type("my-type", some_type)           # a type definition node (exported)
    g.set_node_name(inst, "i")                   # name shown in the name section ($i)
    print(g.to_dot())                            # the conformance suite's DOT
    wasm = g.encode(define_components=True)      # see _encoder.py

Other queries: ``g[node]`` (a ``Node``: ``.kind`` is "definition" / "import" / "instantiation" /
"alias", ``.item_kind``, ``.package`` (package id or None), ``.name``, ``.export``,
``.import_name``), ``g.package(pid)``, ``g.get_package_by_name(name, version)`` -> ``(pid,
Package)`` or None, ``g.get_export(name)``, ``g.get_import_name(node)``,
``g.get_alias_source(node)`` -> ``(instance_node, export_name)``,
``g.get_instantiation_arguments(node)`` -> ``[(name, node)]``, ``g.imports()`` -> ``[(name,
ItemKind, node_or_None)]`` (unsatisfied instantiation arguments, then explicit imports),
``g.node_ids()``, ``g.unexport(node)``, ``g.remove_node(node)``,
``g.unset_instantiation_argument(inst, name, arg)``.

Errors are ``GraphError`` subclasses (in ``_graph_errors``) named like the reference's variants, with its messages
(``str(err)``), the nodes involved as attributes, and ``err.__cause__`` holding a
``SubtypeError`` (see ``_types.error_chain``) for type mismatches.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from wasmlab.wac._encoder import encode_graph
from wasmlab.wac._graph_errors import (
    ArgumentAlreadyPassed,
    ArgumentTypeMismatch,
    CannotDefineResource,
    ExportAlreadyExists,
    ExportConflict,
    GraphError,
    ImportAlreadyExists,
    InstanceMissingExport,
    InvalidArgumentName,
    InvalidExportName,
    InvalidExternName,
    InvalidImportName,
    MustExportDefinition,
    NodeIsNotAnInstance,
    NodeIsNotAnInstantiation,
    PackageAlreadyRegistered,
    TypeAlreadyDefined,
)
from wasmlab.wac._names import parse_extern_name
from wasmlab.wac._types import (
    DefinedType,
    FuncType,
    Interface,
    ItemKind,
    Resource,
    SubtypeChecker,
    SubtypeError,
    Types,
    World,
    component_types,
)

__all__ = ["CompositionGraph", "Node", "visit_defined_types"]


def _caused(err: GraphError, cause: BaseException) -> GraphError:
    err.__cause__ = cause
    return err


@dataclass
class Node:
    kind: str                       # "definition" | "import" | "instantiation" | "alias"
    item_kind: ItemKind
    package: Optional[int] = None
    import_name: Optional[str] = None
    name: Optional[str] = None
    export: Optional[str] = None
    satisfied: set = field(default_factory=set)   # instantiation: satisfied import indexes


@dataclass
class _Edge:
    source: int
    target: int
    kind: str          # "alias" | "argument" | "dependency"
    index: int = 0

    def label(self) -> str:
        return {"alias": "aliased export", "argument": "argument to",
                "dependency": "dependency of"}[self.kind]


def _package_key(pkg) -> str:
    return pkg.name if pkg.version is None else f"{pkg.name}@{pkg.version}"


def visit_defined_types(ty, visit, recurse: bool = True) -> None:
    """Call ``visit(defined_type)`` for each defined value type that ``ty`` refers to (the
    reference's ``Type::visit_defined_types``: named types, one level into defined types)."""
    if isinstance(ty, ItemKind):
        if ty.kind == "type":
            return visit_defined_types(ty.ty, visit, False)
        return visit_defined_types(ty.ty, visit, False)
    if isinstance(ty, FuncType):
        for p in ty.params.values():
            visit_defined_types(p, visit, False)
        if ty.result is not None:
            visit_defined_types(ty.result, visit, False)
    elif isinstance(ty, Interface):
        for k in ty.exports.values():
            visit_defined_types(k, visit)
    elif isinstance(ty, World):
        for k in list(ty.imports.values()) + list(ty.exports.values()):
            visit_defined_types(k, visit)
    elif isinstance(ty, DefinedType):
        visit(ty)
        if recurse:
            _visit_children(ty, visit)


def _visit_children(ty, visit) -> None:
    for child in component_types(ty):
        visit_defined_types(child, visit, False)


class CompositionGraph:
    """Nodes (imports, instantiations, aliases, type definitions) and the edges between them."""

    def __init__(self, types: Types | None = None):
        self.types = types if types is not None else Types()
        self._nodes: list[Optional[Node]] = []
        self._edges: list[Optional[_Edge]] = []
        self._imports: dict[str, int] = {}
        self._exports: dict[str, int] = {}
        self._defined: dict[int, int] = {}          # id(type) -> node
        self._packages: list = []
        self._package_map: dict[tuple, int] = {}
        self._type_check_cache: set = set()

    # -- packages ------------------------------------------------------------------------------
    def register_package(self, package) -> int:
        key = (package.name, package.version)
        if key in self._package_map:
            raise PackageAlreadyRegistered(key=_package_key(package))
        self._packages.append(package)
        pid = len(self._packages) - 1
        self._package_map[key] = pid
        return pid

    def package(self, pid: int):
        return self._packages[pid]

    def packages(self) -> list:
        return [p for p in self._packages if p is not None]

    def get_package_by_name(self, name: str, version=None):
        pid = self._package_map.get((name, version))
        if pid is None:
            return None
        return pid, self._packages[pid]

    # -- nodes ---------------------------------------------------------------------------------
    def __getitem__(self, node: int) -> Node:
        found = self._nodes[node]
        if found is None:
            raise KeyError(node)
        return found

    def node_ids(self) -> list[int]:
        return [i for i, n in enumerate(self._nodes) if n is not None]

    def nodes(self) -> list[Node]:
        return [n for n in self._nodes if n is not None]

    def _add_node(self, node: Node) -> int:
        self._nodes.append(node)
        return len(self._nodes) - 1

    def _add_edge(self, source: int, target: int, kind: str, index: int = 0) -> None:
        self._edges.append(_Edge(source, target, kind, index))

    def edges(self) -> list[_Edge]:
        return [e for e in self._edges if e is not None]

    def incoming(self, node: int) -> list[_Edge]:
        """Incoming edges, newest first (the reference graph's iteration order)."""
        return [e for e in reversed(self._edges) if e is not None and e.target == node]

    def outgoing(self, node: int) -> list[_Edge]:
        return [e for e in reversed(self._edges) if e is not None and e.source == node]

    def define_type(self, name: str, ty) -> int:
        if id(ty) in self._defined:
            raise TypeAlreadyDefined()
        if isinstance(ty, Resource):
            raise CannotDefineResource()
        if name in self._exports:
            raise ExportConflict(name=name)
        try:
            parse_extern_name(name)
        except ValueError as e:
            raise _caused(InvalidExternName(name=name), e) from e
        node = Node("definition", ItemKind.type(ty), export=name)
        index = self._add_node(node)

        def depend_on(dep):
            if dep is ty:
                return
            dep_node = self._defined.get(id(dep))
            if dep_node is not None and not any(
                    e.source == dep_node and e.target == index and e.kind == "dependency"
                    for e in self.edges()):
                self._add_edge(dep_node, index, "dependency")

        visit_defined_types(ty, depend_on)
        for other_id, other in list(self._defined.items()):
            other_ty = self._nodes[other].item_kind.ty

            def dependent(dep, other=other):
                if dep is ty and not any(e.source == index and e.target == other
                                         and e.kind == "dependency" for e in self.edges()):
                    self._add_edge(index, other, "dependency")

            visit_defined_types(other_ty, dependent)
        self._defined[id(ty)] = index
        self._exports[name] = index
        return index

    def import_(self, name: str, kind: ItemKind) -> int:
        if name in self._imports:
            raise ImportAlreadyExists(name=name, node=self._imports[name])
        try:
            parse_extern_name(name)
        except ValueError as e:
            raise _caused(InvalidImportName(name=name), e) from e
        index = self._add_node(Node("import", kind, import_name=name))
        self._imports[name] = index
        return index

    def get_import_name(self, node: int) -> str | None:
        return self[node].import_name

    def instantiate(self, pid: int) -> int:
        pkg = self._packages[pid]
        return self._add_node(Node("instantiation", ItemKind.instance(pkg.instance_type), package=pid))

    def alias_instance_export(self, instance: int, export: str) -> int:
        source = self[instance]
        if source.item_kind.kind != "instance":
            raise NodeIsNotAnInstance(node=instance, kind=source.item_kind.desc())
        exports = source.item_kind.ty.exports
        if export not in exports:
            raise InstanceMissingExport(node=instance, export=export)
        index = list(exports).index(export)
        for e in self.outgoing(instance):
            if e.kind == "alias" and e.index == index:
                return e.target
        node = self._add_node(Node("alias", exports[export], package=source.package))
        self._add_edge(instance, node, "alias", index)
        return node

    def get_alias_source(self, alias: int):
        for e in self.incoming(alias):
            if e.kind == "alias":
                exports = self[e.source].item_kind.ty.exports
                return e.source, list(exports)[e.index]
        return None

    def get_instantiation_arguments(self, instantiation: int) -> list[tuple[str, int]]:
        node = self[instantiation]
        if node.kind != "instantiation":
            return []
        names = list(self._packages[node.package].ty.imports)
        return [(names[e.index], e.source) for e in self.incoming(instantiation)
                if e.kind == "argument"]

    def set_node_name(self, node: int, name: str) -> None:
        self[node].name = name

    def export(self, node: int, name: str) -> None:
        if name in self._exports:
            raise ExportAlreadyExists(name=name, node=self._exports[name])
        try:
            kind = parse_extern_name(name)
        except ValueError as e:
            raise _caused(InvalidExportName(name=name), e) from e
        if kind in ("hash", "url", "dependency"):
            cause = ValueError("export name cannot be a hash, url, or dependency")
            raise InvalidExportName(name=name) from cause
        self[node].export = name
        self._exports[name] = node

    def get_export(self, name: str) -> int | None:
        return self._exports.get(name)

    def exports(self) -> dict[str, int]:
        return dict(self._exports)

    def unexport(self, node: int) -> None:
        n = self[node]
        if n.kind == "definition":
            raise MustExportDefinition()
        if n.export is not None:
            del self._exports[n.export]
            n.export = None

    def remove_node(self, node: int) -> None:
        for e in self.outgoing(node):
            if e.kind in ("alias", "dependency"):
                self.remove_node(e.target)
        n = self[node]
        for e in self.outgoing(node):
            if e.kind == "argument" and self._nodes[e.target] is not None:
                self._nodes[e.target].satisfied.discard(e.index)
        self._edges = [None if e is not None and node in (e.source, e.target) else e
                       for e in self._edges]
        self._nodes[node] = None
        if n.import_name is not None:
            self._imports.pop(n.import_name, None)
        if n.export is not None:
            self._exports.pop(n.export, None)
        if n.kind == "definition":
            self._defined.pop(id(n.item_kind.ty), None)

    def set_instantiation_argument(self, instantiation: int, argument_name: str, argument: int) -> None:
        target = self[instantiation]
        if target.kind != "instantiation":
            raise NodeIsNotAnInstantiation(node=instantiation)
        pkg = self._packages[target.package]
        imports = pkg.ty.imports
        if argument_name not in imports:
            raise InvalidArgumentName(node=instantiation, name=argument_name, package=pkg.name)
        index = list(imports).index(argument_name)
        for e in self.incoming(instantiation):
            if e.kind == "argument" and e.index == index:
                if e.source == argument:
                    return
                raise ArgumentAlreadyPassed(node=instantiation, name=argument_name)
        checker = SubtypeChecker(self._type_check_cache)
        try:
            checker.is_subtype(self[argument].item_kind, imports[argument_name])
        except SubtypeError as e:
            raise ArgumentTypeMismatch(name=argument_name) from e
        self._add_edge(argument, instantiation, "argument", index)
        target.satisfied.add(index)

    def unset_instantiation_argument(self, instantiation: int, argument_name: str, argument: int) -> None:
        target = self[instantiation]
        if target.kind != "instantiation":
            raise NodeIsNotAnInstantiation(node=instantiation)
        pkg = self._packages[target.package]
        if argument_name not in pkg.ty.imports:
            raise InvalidArgumentName(node=instantiation, name=argument_name, package=pkg.name)
        index = list(pkg.ty.imports).index(argument_name)
        for i, e in enumerate(self._edges):
            if (e is not None and e.kind == "argument" and e.source == argument
                    and e.target == instantiation and e.index == index):
                self._edges[i] = None
                target.satisfied.discard(index)
                return

    def imports(self) -> list[tuple[str, ItemKind, int | None]]:
        found = []
        for i, node in enumerate(self._nodes):
            if node is None or node.kind != "instantiation":
                continue
            world = self._packages[node.package].ty
            for j, (name, kind) in enumerate(world.imports.items()):
                if j not in node.satisfied:
                    found.append((name, kind, None))
        for i, node in enumerate(self._nodes):
            if node is not None and node.kind == "import":
                found.append((node.import_name, node.item_kind, i))
        return found

    # -- output --------------------------------------------------------------------------------
    def node_label(self, index: int) -> str:
        node = self[index]
        if node.kind == "definition":
            return f'type definition "{node.export}"'
        if node.kind == "import":
            return f'import "{node.import_name}"'
        if node.kind == "instantiation":
            return f'instantiation of package "{_package_key(self._packages[node.package])}"'
        _, source = self.get_alias_source(index)
        return f'alias of export "{source}"'

    def to_dot(self) -> str:
        """The graph in the reference's DOT form (what ``wac resolve`` prints)."""
        lines = ["digraph {"]
        for i in self.node_ids():
            node = self[i]
            label = self.node_label(i).replace('"', '\\"')
            attrs = f'label = "{label}"; kind = "{node.item_kind.desc()}"'
            if node.export is not None:
                attrs += f'; export = "{node.export}"'
            lines.append(f"    {i} [ {attrs}]")
        for e in self.edges():
            lines.append(f'    {e.source} -> {e.target} [ label = "{e.label()}" ]')
        lines.append("}")
        return "\n".join(lines) + "\n"

    def encode(self, *, define_components: bool = True, validate: bool = True,
               processor: tuple[str, str] | None = None, plain_dependency_names: bool = False) -> bytes:
        """Encode the graph as a component (see ``_encoder.encode_graph``)."""
        return encode_graph(self, define_components=define_components, validate=validate,
                            processor=processor, plain_dependency_names=plain_dependency_names)
