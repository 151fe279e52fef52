"""Resolve a parsed WAC document into a composition graph, as bytecodealliance/wac resolves it.

Statements are evaluated top-down: imports become import nodes, type declarations become type
definitions (or types inside interfaces and worlds), ``new`` instantiates a package and wires its
arguments (type-checked by the graph), accesses alias instance exports, and exports name nodes.
Every error carries the reference's message and the span the reference points at.

Packages are found before resolution (as the reference's package resolver does), in order: the
caller's ``packages`` mapping, ``deps`` overrides (``ns:name`` -> file), then the deps directory
(``DIR/ns/name.wat``, ``.wasm``, or a ``DIR/ns/name/`` WIT folder; ``DIR/ns/name/VERSION.wasm`` for a
versioned reference).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wasmlab.errors import WacError, WasmlabError
from wasmlab.wac import _ast as ast
from wasmlab.wac._graph import CompositionGraph
from wasmlab.wac._graph_errors import (
    ArgumentTypeMismatch,
    ExportAlreadyExists,
    ExportConflict,
    GraphError,
    ImplicitImportConflict,
    ImportAlreadyExists,
    ImportTypeMergeConflict,
    InvalidArgumentName,
    InvalidExportName,
    InvalidImportName,
    ValidationFailure,
)
from wasmlab.wac._lexer import Span
from wasmlab.wac._package import PackageError
from wasmlab.wac._parser import located_error
from wasmlab.wac._types import (
    AliasType,
    Borrow,
    DefinedType,
    EnumType,
    FlagsType,
    FuncType,
    Interface,
    ItemKind,
    ListType,
    OptionType,
    Own,
    Primitive,
    RecordType,
    Resource,
    ResourceAlias,
    ResultType,
    SubtypeChecker,
    SubtypeError,
    TupleType,
    UsedType,
    VariantType,
    World,
    component_types,
    with_causes,
)

__all__ = ["Resolution", "resolve_document", "collect_package_references", "PackageSource"]

_HINT_AS = "consider using an `as` clause to use a different name"


class ResolveError(Exception):
    """A resolution error before it is located in the source."""

    def __init__(self, message: str, span: Span | None, label: str | None = None, *,
                 cause: BaseException | None = None, hint: str | None = None):
        super().__init__(message)
        self.message, self.span, self.label, self.hint = message, span, label, hint
        self.cause = cause  # kept apart from __cause__, which `raise ... from None` clears


@dataclass
class Resolution:
    """A resolved document: the composition graph and where each node came from in the source."""

    document: ast.Document
    graph: CompositionGraph
    import_spans: dict = field(default_factory=dict)
    instantiation_spans: dict = field(default_factory=dict)
    export_spans: dict = field(default_factory=dict)

    def to_dot(self) -> str:
        """The composition graph in the DOT form of the reference's resolution results."""
        return self.graph.to_dot()

    def encode(self, *, define_components: bool = True, validate: bool = True,
               processor: tuple[str, str] | None = None, plain_dependency_names: bool = False) -> bytes:
        """Encode the composition as a component; dependencies embedded, or imported as
        ``unlocked-dep=<ns:name>`` when ``define_components`` is false.

        Encoding errors that concern the document (an explicit import clashing with an implicit
        one, implicit imports of conflicting types) are located like the reference locates them.
        """
        try:
            return self.graph.encode(define_components=define_components, validate=validate, processor=processor,
                                     plain_dependency_names=plain_dependency_names)
        except ImplicitImportConflict as exc:
            raise _to_wac_error(ResolveError(
                f"import `{exc.name}` conflicts with an item that was implicitly imported by an instantiation of "
                f"`{exc.package}`", self.import_spans.get(exc.import_node), "explicit import here",
                hint="rename the explicit import, or pass the instantiation that argument explicitly"),
                self.document) from None
        except ImportTypeMergeConflict as exc:
            raise _to_wac_error(ResolveError(
                f"failed to merge the type definition for implicit import `{exc.import_name}` due to conflicting "
                "types", self.instantiation_spans.get(exc.second), "conflicting instantiation here",
                cause=exc.__cause__), self.document) from None
        except ValidationFailure as exc:
            too_deep = "nesting is too deep" in str(exc.__cause__)
            raise _to_wac_error(ResolveError(
                "the encoding of the graph failed validation", self.document.deepest if too_deep else None,
                "nested too deeply for a component type" if too_deep else None, cause=exc.__cause__,
                hint="component types nest at most about 96 levels, counting the interface and world around them"
                if too_deep else None), self.document) from None
        except GraphError as exc:
            raise _to_wac_error(ResolveError(str(exc), None, cause=exc.__cause__), self.document) from None
        except RecursionError:
            raise WacError("the composition is nested too deeply to encode") from None


# ----------------------------------------------------------------------------- items and scopes

@dataclass(frozen=True)
class _Item:
    """A name's meaning: a graph node, or a type (``use``d, or declared inside an interface/world)."""

    node: int | None = None
    ty: Any = None

    def kind(self, graph: CompositionGraph) -> ItemKind:
        if self.node is not None:
            return graph[self.node].item_kind
        return ItemKind.type(self.ty)


def _func_kind_name(kind: str) -> str:
    return {"free": "function", "method": "method", "static": "static method",
            "constructor": "constructor"}[kind]


def _contains_borrow(ty, seen=None) -> bool:
    if isinstance(ty, Borrow):
        return True
    if not isinstance(ty, DefinedType):
        return False
    seen = seen if seen is not None else set()
    if id(ty) in seen:
        return False
    seen.add(id(ty))
    children = [ty.target] if isinstance(ty, AliasType) else component_types(ty)
    return any(_contains_borrow(c, seen) for c in children)


class _State:
    def __init__(self, graph: CompositionGraph):
        self.graph = graph
        self.scopes: list[dict] = []
        self.current: dict = {}
        self.import_spans: dict[int, Span] = {}
        self.instantiation_spans: dict[int, Span] = {}
        self.export_spans: dict[int, Span] = {}

    def register_name(self, ident: ast.Ident, item: _Item) -> None:
        previous = self.current.get(ident.string)
        self.current[ident.string] = (item, ident.span)
        if previous is not None:
            raise ResolveError(f"`{ident.string}` is already defined", ident.span,
                               f"`{ident.string}` redefined here")
        if item.node is not None and self.graph[item.node].name is None:
            self.graph.set_node_name(item.node, ident.string)

    def root_scope(self) -> dict:
        return self.scopes[0] if self.scopes else self.current

    @staticmethod
    def _undefined(ident: ast.Ident) -> ResolveError:
        return ResolveError(f"undefined name `{ident.string}`", ident.span, f"undefined name `{ident.string}`")

    def root_item(self, ident: ast.Ident) -> tuple[_Item, Span]:
        found = self.root_scope().get(ident.string)
        if found is None:
            raise self._undefined(ident)
        return found

    def local_item(self, ident: ast.Ident) -> tuple[_Item, Span]:
        found = self.current.get(ident.string)
        if found is None:
            raise self._undefined(ident)
        return found

    def local_or_root_item(self, ident: ast.Ident) -> tuple[_Item, Span]:
        if not self.scopes:
            return self.local_item(ident)
        found = self.current.get(ident.string)
        return found if found is not None else self.root_item(ident)

    def push_scope(self) -> None:
        self.scopes.append(self.current)
        self.current = {}

    def pop_scope(self) -> None:
        self.current = self.scopes.pop()


def _desc(kind: ItemKind) -> str:
    """The reference's word for an item: "function", "instance", "u32", "record", ..."""
    return kind.desc()


# ----------------------------------------------------------------------------- package references

def collect_package_references(document: ast.Document,
                               instantiated: set | None = None) -> dict[tuple[str, str | None], Span]:
    """Every package the document refers to, in order, with the span of its first reference;
    the names of those it instantiates (``new ns:name``) are added to ``instantiated``.

    Raises ResolveError("cannot instantiate the package being defined") as the reference does.
    """
    this = document.directive.package.name
    keys: dict[tuple[str, str | None], Span] = {}

    def note(name: str, version: str | None, span: Span) -> None:
        if name != this:
            keys.setdefault((name, version), span)

    def path(p: ast.PackagePath) -> None:
        note(p.name, p.version, p.package_name_span)

    def interface_items(items) -> None:
        for item in items:
            if isinstance(item, ast.Use) and isinstance(item.path, ast.PackagePath):
                path(item.path)

    def world_path(p) -> None:
        if isinstance(p, ast.NamedWorldItem) and isinstance(p.ty, ast.InlineInterface):
            interface_items(p.ty.items)
        elif isinstance(p, ast.PackagePath):
            path(p)

    def expr(e: ast.Expr) -> None:
        primary = e.primary
        if isinstance(primary, ast.NewExpr):
            if primary.package.name == this:
                raise ResolveError("cannot instantiate the package being defined", primary.package.span,
                                   "cannot instantiate self")
            note(primary.package.name, primary.package.version, primary.package.span)
            if instantiated is not None:
                instantiated.add(primary.package.name)
            for arg in primary.arguments:
                if isinstance(arg, ast.NamedArgument):
                    expr(arg.expr)
        elif isinstance(primary, ast.NestedExpr):
            expr(primary.inner)

    if document.directive.targets is not None:
        path(document.directive.targets)
    for stmt in document.statements:
        if isinstance(stmt, ast.ImportStatement):
            if isinstance(stmt.ty, ast.PackagePath):
                path(stmt.ty)
            elif isinstance(stmt.ty, ast.InlineInterface):
                interface_items(stmt.ty.items)
        elif isinstance(stmt, ast.InterfaceDecl):
            interface_items(stmt.items)
        elif isinstance(stmt, ast.WorldDecl):
            for item in stmt.items:
                if isinstance(item, ast.Use) and isinstance(item.path, ast.PackagePath):
                    path(item.path)
                elif isinstance(item, (ast.WorldImport, ast.WorldExport)):
                    world_path(item.path)
                elif isinstance(item, ast.WorldInclude) and isinstance(item.world, ast.PackagePath):
                    path(item.world)
        elif isinstance(stmt, (ast.LetStatement, ast.ExportStatement)):
            expr(stmt.expr)
    return keys


@dataclass
class PackageSource:
    """Where a package's bytes come from, found before resolution."""

    data: Any  # bytes (a binary component) or a ready package object


def _package_key_text(name: str, version: str | None) -> str:
    return name if version is None else f"{name}@{version}"


def _load_package_path(path: Path) -> bytes:
    """A component's bytes from a .wasm, a .wat, or a WIT folder or file (through wasm-tools)."""
    from wasmlab.wac._package import wat_to_bytes, wit_to_bytes

    if path.is_dir() or path.suffix == ".wit":
        return wit_to_bytes(path)
    data = path.read_bytes()
    return wat_to_bytes(data) if path.suffix == ".wat" else data


def find_packages(document: ast.Document, *, packages: dict | None = None, deps: dict | None = None,
                  deps_dir: str | os.PathLike | None = None,
                  registry=None) -> dict[tuple[str, str | None], PackageSource]:
    """The sources of every package the document refers to; unknown ones raise ResolveError.
    ``registry(name, version)`` is asked last (bytes, or None when it has no registry for it)."""
    found: dict[tuple[str, str | None], PackageSource] = {}
    given = dict(packages or {})
    overrides = {name: Path(p) for name, p in (deps or {}).items()}
    root = Path(deps_dir) if deps_dir is not None else Path("deps")
    for (name, version), span in collect_package_references(document).items():
        key_text = _package_key_text(name, version)
        # the caller's packages (the session's components, unversioned) also answer a versioned reference
        if key_text in given or name in given:
            value = given[key_text] if key_text in given else given[name]
            if hasattr(value, "wasm_path"):  # a component of the notebook session
                value = value.wasm_path
            elif hasattr(value, "bytes") and hasattr(value, "definitions"):  # a package read elsewhere
                value = value.bytes
            if isinstance(value, (str, os.PathLike)):
                found[(name, version)] = _load_or_fail(name, Path(value), span)
            else:
                found[(name, version)] = PackageSource(value)
            continue
        if name in overrides and version is None:
            path = overrides[name]
            if not path.exists():
                raise ResolveError(f"failed to resolve package `{name}`", span,
                                   f"package `{name}` failed to resolve",
                                   cause=ValueError(f"local path `{path}` for package `{name}` does not exist"))
            found[(name, version)] = _load_or_fail(name, path, span)
            continue
        path = root.joinpath(*name.split(":"))
        if version is not None:
            path = path / version
        if not path.is_dir():
            wat = path.with_name(path.name + ".wat")
            path = wat if wat.exists() else path.with_name(path.name + ".wasm")
        if not path.exists():
            found[(name, version)] = _from_registry(registry, name, version, span)
            continue
        found[(name, version)] = _load_or_fail(name, path, span)
    return found


def _from_registry(registry, name: str, version: str | None, span: Span) -> PackageSource:
    try:
        data = registry(name, version) if registry is not None else None
    except WasmlabError as exc:  # the registry's answer (unreachable, not found, refused) is the cause
        raise ResolveError(f"failed to resolve package `{name}`", span, f"package `{name}` failed to resolve",
                           cause=ValueError(exc.message)) from None
    if data is None:
        raise ResolveError(f"unknown package `{name}`", span, f"unknown package `{name}`")
    return PackageSource(data)


def _load_or_fail(name: str, path: Path, span: Span) -> PackageSource:
    try:
        return PackageSource(_load_package_path(path))
    except (OSError, ValueError, PackageError) as exc:
        raise ResolveError(f"failed to resolve package `{name}`", span, f"package `{name}` failed to resolve",
                           cause=exc) from None


# ----------------------------------------------------------------------------- the resolver

class _Resolver:
    def __init__(self, document: ast.Document, sources: dict):
        self.doc = document
        self.sources = sources
        self.state = _State(CompositionGraph())

    @property
    def graph(self) -> CompositionGraph:
        return self.state.graph

    def add(self, obj):
        return self.graph.types.add(obj)

    # -- top level ------------------------------------------------------------------------
    def resolve(self) -> Resolution:
        for stmt in self.doc.statements:
            if isinstance(stmt, ast.ImportStatement):
                self.import_statement(stmt)
            elif isinstance(stmt, ast.LetStatement):
                item = self.expr(stmt.expr)
                self.state.register_name(stmt.id, item)
            elif isinstance(stmt, ast.ExportStatement):
                self.export_statement(stmt)
            else:
                self.type_statement(stmt)
        targets = self.doc.directive.targets
        if targets is not None:
            kind = self.resolve_package_path(targets)
            if kind.kind == "type" and isinstance(kind.ty, World):
                self.validate_target(targets, kind.ty)
            else:
                raise ResolveError(f"`{targets.string}` ({_desc(kind)}) is not a world", targets.span,
                                   f"`{targets.string}` is not a world")
        s = self.state
        return Resolution(self.doc, s.graph, s.import_spans, s.instantiation_spans, s.export_spans)

    def interface_id(self, name: str) -> str:
        package = self.doc.directive.package
        version = f"@{package.version}" if package.version else ""
        return f"{package.name}/{name}{version}"

    # -- imports ----------------------------------------------------------------------------
    def import_statement(self, stmt: ast.ImportStatement) -> None:
        state = self.state
        if stmt.name is not None:
            name, span = ast.argument_name(stmt.name), stmt.name.span
        elif isinstance(stmt.ty, ast.PackagePath):
            name, span = stmt.ty.string, stmt.ty.span
        elif isinstance(stmt.ty, ast.Ident):
            item, _ = state.local_item(stmt.ty)
            kind = item.kind(self.graph)
            iface_id = kind.ty.id if kind.kind in ("instance", "component") else None
            name, span = (iface_id or stmt.id.string), stmt.id.span
        else:
            name, span = stmt.id.string, stmt.id.span

        if isinstance(stmt.ty, ast.PackagePath):
            kind = self.resolve_package_path(stmt.ty)
        elif isinstance(stmt.ty, ast.FuncType):
            kind = ItemKind.func(self.func_type(stmt.ty.params, stmt.ty.results, "free"))
        elif isinstance(stmt.ty, ast.InlineInterface):
            kind = ItemKind.instance(self.inline_interface(stmt.ty))
        else:
            kind = state.local_item(stmt.ty)[0].kind(self.graph)

        try:
            node = self.graph.import_(name, kind.promote())
        except ImportAlreadyExists:
            raise ResolveError(f"duplicate import `{name}`", span, f"duplicate import name `{name}`",
                               hint=None if stmt.name is not None else _HINT_AS) from None
        except InvalidImportName as exc:
            raise ResolveError(f"import name `{name}` is not valid", span, f"invalid name `{name}`",
                               cause=exc.__cause__) from None
        state.import_spans[node] = span
        state.register_name(stmt.id, _Item(node=node))

    # -- type statements --------------------------------------------------------------------
    def type_statement(self, stmt) -> None:
        state = self.state
        if isinstance(stmt, ast.InterfaceDecl):
            ty = self.interface_decl(stmt)
        elif isinstance(stmt, ast.WorldDecl):
            ty = self.world_decl(stmt)
        else:
            ty = self.type_decl(stmt, register=False)
        ident = stmt.id
        try:
            node = self.graph.define_type(ident.string, ty)
        except ExportConflict:
            raise ResolveError(f"type declaration `{ident.string}` conflicts with a previous export of the same name",
                               ident.span, f"conflicting type declaration `{ident.string}`") from None
        state.export_spans[node] = ident.span
        state.register_name(ident, _Item(node=node))

    def type_decl(self, decl, register: bool):
        if isinstance(decl, ast.VariantDecl):
            cases: dict = {}
            for case in decl.cases:
                ty = self.value_type(case.ty) if case.ty is not None else None
                _refuse_duplicate(cases, case.id, "case", "variant", decl)
                cases[case.id.string] = ty
            ty = self.add(VariantType(cases))
        elif isinstance(decl, ast.RecordDecl):
            fields: dict = {}
            for fd in decl.fields:
                ty = self.value_type(fd.ty)
                _refuse_duplicate(fields, fd.id, "field", "record", decl)
                fields[fd.id.string] = ty
            ty = self.add(RecordType(fields))
        elif isinstance(decl, ast.FlagsDecl):
            names: list = []
            for flag in decl.flags:
                _refuse_duplicate(names, flag.id, "flag", "flags", decl)
                names.append(flag.id.string)
            ty = self.add(FlagsType(names))
        elif isinstance(decl, ast.EnumDecl):
            names = []
            for case in decl.cases:
                _refuse_duplicate(names, case.id, "case", "enum", decl)
                names.append(case.id.string)
            ty = self.add(EnumType(names))
        else:
            ty = self.type_alias(decl)
        if register:
            self.state.register_name(decl.id, _Item(ty=ty))
        return ty

    def type_alias(self, alias: ast.TypeAlias):
        kind = alias.kind
        if isinstance(kind, ast.FuncType):
            return self.func_type(kind.params, kind.results, "free")
        if isinstance(kind, ast.Ident):
            item, _ = self.state.local_item(kind)
            item_kind = item.kind(self.graph)
            target = item_kind.ty
            if item_kind.kind == "type" and isinstance(target, Resource):
                owner = target.alias.owner if target.alias is not None else None
                return self.add(Resource(alias.id.string, ResourceAlias(owner, target)))
            if item_kind.kind == "type" and isinstance(target, (Primitive, Own, Borrow, DefinedType)):
                return self.add(AliasType(target))
            if item_kind.kind in ("type", "func") and isinstance(target, FuncType):
                return self.add(FuncType(dict(target.params), target.result, target.is_async))
            raise ResolveError(f"`{kind.string}` ({_desc(item_kind)}) cannot be used in a type alias", kind.span,
                               f"`{kind.string}` cannot be aliased")
        return self.add(AliasType(self.value_type(kind)))

    def value_type(self, ty):
        if isinstance(ty, ast.PrimitiveType):
            return Primitive(ty.name)
        if isinstance(ty, ast.TupleType):
            return self.add(TupleType([self.value_type(t) for t in ty.types]))
        if isinstance(ty, ast.ListType):
            return self.add(ListType(self.value_type(ty.element)))
        if isinstance(ty, ast.OptionType):
            return self.add(OptionType(self.value_type(ty.element)))
        if isinstance(ty, ast.ResultType):
            ok = self.value_type(ty.ok) if ty.ok is not None else None
            err = self.value_type(ty.err) if ty.err is not None else None
            return self.add(ResultType(ok, err))
        if isinstance(ty, ast.BorrowType):
            item, _ = self.state.local_item(ty.id)
            kind = item.kind(self.graph)
            if kind.kind == "type" and isinstance(kind.ty, Resource):
                return Borrow(kind.ty)
            raise ResolveError(f"`{ty.id.string}` ({_desc(kind)}) is not a resource type", ty.id.span,
                               f"`{ty.id.string}` is not a resource type")
        item, _ = self.state.local_item(ty)
        kind = item.kind(self.graph)
        if kind.kind == "type" and isinstance(kind.ty, Resource):
            return Own(kind.ty)
        if kind.kind == "type" and isinstance(kind.ty, (Primitive, Own, Borrow, DefinedType)):
            return kind.ty
        raise ResolveError(f"`{ty.string}` ({_desc(kind)}) cannot be used as a value type", ty.span,
                           f"`{ty.string}` not a value type")

    def func_type(self, params: list, result, kind: str, resource: Resource | None = None) -> FuncType:
        resolved: dict = {}
        if kind == "method":
            resolved["self"] = Borrow(resource)
        for param in params:
            ty = self.value_type(param.ty)
            if param.id.string in resolved:
                raise ResolveError(f"duplicate {_func_kind_name(kind)} parameter `{param.id.string}`",
                                   param.id.span, f"duplicate parameter `{param.id.string}`")
            resolved[param.id.string] = ty
        if result is None:
            value = Own(resource) if kind == "constructor" else None
        else:
            value = self.value_type(result)
            if _contains_borrow(value):
                raise ResolveError("function result cannot recursively contain a borrow type", result.span,
                                   "borrow type in result")
        return self.add(FuncType(resolved, value))

    def func_type_ref(self, ref) -> FuncType:
        if isinstance(ref, ast.FuncType):
            return self.func_type(ref.params, ref.results, "free")
        item, _ = self.state.local_item(ref)
        kind = item.kind(self.graph)
        if kind.kind in ("type", "func") and isinstance(kind.ty, FuncType):
            return kind.ty
        raise ResolveError(f"`{ref.string}` ({_desc(kind)}) is not a function type", ref.span,
                           f"`{ref.string}` is not a function type")

    # -- interfaces -------------------------------------------------------------------------
    def interface_decl(self, decl: ast.InterfaceDecl) -> Interface:
        self.state.push_scope()
        ty = Interface(id=self.interface_id(decl.id.string))
        self.interface_items(decl.id.string, decl.items, ty)
        self.state.pop_scope()
        return self.add(ty)

    def inline_interface(self, iface: ast.InlineInterface) -> Interface:
        self.state.push_scope()
        ty = Interface(id=None)
        self.interface_items(None, iface.items, ty)
        self.state.pop_scope()
        return self.add(ty)

    def interface_items(self, name: str | None, items: list, ty: Interface) -> None:
        for item in items:
            if isinstance(item, ast.Use):
                self.use_type(item, ty.uses, ty.exports, in_world=False)
            elif isinstance(item, ast.InterfaceExport):
                func = self.func_type_ref(item.ty)
                if item.id.string in ty.exports:
                    suffix = f" for interface `{name}`" if name is not None else ""
                    raise ResolveError(f"duplicate interface export `{item.id.string}`{suffix}", item.id.span,
                                       f"duplicate export `{item.id.string}`")
                ty.exports[item.id.string] = ItemKind.func(func)
            else:
                self.item_type_decl(item, ty.exports)

    def item_type_decl(self, decl, externs: dict) -> None:
        if isinstance(decl, ast.ResourceDecl):
            self.resource_decl(decl, externs)
            return
        ty = self.type_decl(decl, register=True)
        externs[decl.id.string] = ItemKind.type(ty)

    def resource_decl(self, decl: ast.ResourceDecl, externs: dict) -> None:
        resource = self.add(Resource(decl.id.string))
        self.state.register_name(decl.id, _Item(ty=resource))
        externs[decl.id.string] = ItemKind.type(resource)
        names: set = set()
        rname = decl.id.string
        for method in decl.methods:
            if isinstance(method, ast.Constructor):
                if "" in names:
                    raise ResolveError(f"duplicate constructor for resource `{rname}`", method.span,
                                       "duplicate constructor")
                names.add("")
                extern = f"[constructor]{rname}"
                func = self.func_type(method.params, None, "constructor", resource)
            else:
                kind = "static" if method.is_static else "method"
                if method.id.string in names:
                    raise ResolveError(f"duplicate method `{method.id.string}` for resource `{rname}`",
                                       method.id.span, f"duplicate method `{method.id.string}`")
                names.add(method.id.string)
                extern = f"[{kind}]{rname}.{method.id.string}"
                func = self.func_type(method.ty.params, method.ty.results, kind, resource)
            externs[extern] = ItemKind.func(func)

    def use_type(self, use: ast.Use, uses: dict, externs: dict, *, in_world: bool) -> None:
        if isinstance(use.path, ast.PackagePath):
            kind = self.resolve_package_path(use.path)
            if not (kind.kind == "type" and isinstance(kind.ty, Interface)):
                raise ResolveError(f"`{use.path.string}` ({_desc(kind)}) is not an interface", use.path.span,
                                   f"`{use.path.string}` is not an interface")
            interface, name = kind.ty, use.path.string
        else:
            item, _ = self.state.root_item(use.path)
            kind = item.kind(self.graph)
            if not (kind.kind == "type" and isinstance(kind.ty, Interface)):
                raise ResolveError(f"`{use.path.string}` ({_desc(kind)}) is not an interface", use.path.span,
                                   f"`{use.path.string}` is not an interface")
            interface, name = kind.ty, use.path.string
        for item in use.items:
            ident = item.as_id or item.id
            exported = interface.exports.get(item.id.string)
            if exported is None:
                raise ResolveError(f"a type named `{item.id.string}` is not defined in interface `{name}`",
                                   item.id.span, f"`{item.id.string}` is not a type in interface `{name}`")
            is_type = exported.kind == "type" and isinstance(
                exported.ty, (Resource, Primitive, Own, Borrow, DefinedType))
            if not is_type:
                raise ResolveError(f"`{item.id.string}` ({_desc(exported)}) is not a value type in interface "
                                   f"`{name}`", item.id.span, f"`{item.id.string}` is not a value type")
            if ident.string in externs:
                word = "import" if in_world else "export"
                raise ResolveError(f"use of type `{ident.string}` conflicts with an {word} of the same name",
                                   ident.span, f"conflicting name `{ident.string}`",
                                   hint=None if item.as_id is not None else _HINT_AS)
            uses[ident.string] = UsedType(interface, item.id.string if item.as_id is not None else None)
            externs[ident.string] = exported
            self.state.register_name(ident, _Item(ty=exported.ty))

    # -- worlds -----------------------------------------------------------------------------
    def world_decl(self, decl: ast.WorldDecl) -> World:
        self.state.push_scope()
        ty = World(id=self.interface_id(decl.id.string))
        includes = []
        for item in decl.items:
            if isinstance(item, ast.Use):
                self.use_type(item, ty.uses, ty.imports, in_world=True)
            elif isinstance(item, ast.WorldImport):
                self.world_item_path(item.path, "import", decl.id.string, ty)
            elif isinstance(item, ast.WorldExport):
                self.world_item_path(item.path, "export", decl.id.string, ty)
            elif isinstance(item, ast.WorldInclude):
                includes.append(item)
            else:
                self.item_type_decl(item, ty.imports)
        for include in includes:
            self.world_include(include, decl.id.string, ty)
        self.state.pop_scope()
        return self.add(ty)

    @staticmethod
    def _check_world_name(name: str, span: Span, ty: World, world: str, kind: str) -> None:
        existing = ty.imports if kind == "import" else ty.exports
        if name in existing:
            raise ResolveError(f"{kind} `{name}` conflicts with existing {kind} of the same name in world `{world}`",
                               span, f"conflicting name `{name}`")

    def world_item_path(self, path, kind: str, world: str, ty: World) -> None:
        if isinstance(path, ast.NamedWorldItem):
            self._check_world_name(path.id.string, path.id.span, ty, world, kind)
            name = path.id.string
            if isinstance(path.ty, ast.Ident):
                item, _ = self.state.local_or_root_item(path.ty)
                found = item.kind(self.graph)
                if found.kind == "type" and isinstance(found.ty, Interface):
                    value = ItemKind.instance(found.ty)
                elif found.kind == "type" and isinstance(found.ty, FuncType):
                    value = ItemKind.func(found.ty)
                else:
                    raise ResolveError(f"`{path.ty.string}` ({_desc(found)}) is not a function type or interface",
                                       path.ty.span, f"`{path.ty.string}` is not a function type or interface")
            elif isinstance(path.ty, ast.FuncType):
                value = ItemKind.func(self.func_type(path.ty.params, path.ty.results, "free"))
            else:
                value = ItemKind.instance(self.inline_interface(path.ty))
        elif isinstance(path, ast.Ident):
            item, _ = self.state.root_item(path)
            found = item.kind(self.graph)
            if not (found.kind == "type" and isinstance(found.ty, Interface)):
                raise ResolveError(f"`{path.string}` ({_desc(found)}) is not an interface", path.span,
                                   f"`{path.string}` is not an interface")
            name = found.ty.id
            self._check_world_name(name, path.span, ty, world, kind)
            value = ItemKind.instance(found.ty)
        else:
            found = self.resolve_package_path(path)
            if not (found.kind == "type" and isinstance(found.ty, Interface)):
                raise ResolveError(f"`{path.string}` ({_desc(found)}) is not an interface", path.span,
                                   f"`{path.string}` is not an interface")
            name = found.ty.id
            self._check_world_name(name, path.span, ty, world, kind)
            value = ItemKind.instance(found.ty)
        (ty.imports if kind == "import" else ty.exports)[name] = value

    def world_include(self, include: ast.WorldInclude, world: str, ty: World) -> None:
        replacements: dict = {}
        for item in include.with_:
            if item.from_.string in replacements:
                raise ResolveError(f"duplicate `{item.from_.string}` in world include `with` clause",
                                   item.from_.span, f"duplicate name `{item.from_.string}`")
            replacements[item.from_.string] = item
        ref = include.world
        if isinstance(ref, ast.Ident):
            item, _ = self.state.root_item(ref)
            found = item.kind(self.graph)
        else:
            found = self.resolve_package_path(ref)
        if not ((found.kind == "type" and isinstance(found.ty, World)) or found.kind == "component"):
            raise ResolveError(f"`{ref.string}` ({_desc(found)}) is not a world", ref.span,
                               f"`{ref.string}` is not a world")
        other: World = found.ty
        from_name = ref.string

        def replace(name: str, kind: str) -> str:
            if ":" in name:
                return name
            replacement = replacements.pop(name, None)
            new_name, span = (replacement.to.string, replacement.to.span) if replacement else (name, ref.span)
            existing = ty.imports if kind == "import" else ty.exports
            if new_name in existing:
                raise ResolveError(
                    f"{kind} `{new_name}` from world `{from_name}` conflicts with {kind} of the same name in world "
                    f"`{world}`", span, f"conflicting name `{new_name}`",
                    hint=None if include.with_ else "consider using a `with` clause to use a different name")
            return new_name

        for name, item in other.imports.items():
            ty.imports.setdefault(replace(name, "import"), item)
        for name, item in other.exports.items():
            ty.exports.setdefault(replace(name, "export"), item)
        if replacements:
            missing = next(iter(replacements.values()))
            raise ResolveError(f"world `{from_name}` does not have an import or export named `{missing.from_.string}`",
                               missing.from_.span, f"no import or export named `{missing.from_.string}`")

    # -- expressions --------------------------------------------------------------------------
    def expr(self, expr: ast.Expr) -> _Item:
        item = self.primary_expr(expr.primary)
        parent_span = expr.primary.span
        for postfix in expr.postfix:
            item = self.postfix_expr(item, postfix, parent_span)
            parent_span = postfix.span
        return item

    def primary_expr(self, primary) -> _Item:
        if isinstance(primary, ast.NewExpr):
            return self.new_expr(primary)
        if isinstance(primary, ast.NestedExpr):
            return self.expr(primary.inner)
        return self.state.local_item(primary)[0]

    def new_expr(self, expr: ast.NewExpr) -> _Item:
        state = self.state
        package = expr.package
        if package.name == self.doc.directive.package.name:
            raise ResolveError(f"unknown package `{package.name}`", package.span, f"unknown package `{package.name}`")
        pid = self.resolve_package(package.name, package.version, package.span)
        world: World = self.graph.package(pid).ty
        expected = list(world.imports)
        require_all = True
        arguments: dict[str, tuple[_Item, Span]] = {}
        for i, arg in enumerate(expr.arguments):
            if isinstance(arg, ast.SpreadArgument):
                continue
            if isinstance(arg, ast.FillArgument):
                if i != len(expr.arguments) - 1:
                    raise ResolveError("implicit import argument `...` must be the last argument", arg.span,
                                       "must be last argument")
                require_all = False
                continue
            if isinstance(arg, ast.InferredArgument):
                name, item, span = self.inferred_argument(arg.id, world)
            else:
                item = self.expr(arg.expr)
                if isinstance(arg.name, ast.Ident):
                    name = _matching_interface_name(arg.name.string, world.imports) or arg.name.string
                else:
                    name = arg.name.value
                span = arg.name.span
            if name in arguments:
                raise ResolveError(f"duplicate instantiation argument `{name}`", span, f"duplicate argument `{name}`")
            arguments[name] = (item, span)
        for arg in expr.arguments:
            if isinstance(arg, ast.SpreadArgument):
                self.spread_argument(arg.id, expected, arguments)

        instantiation = self.graph.instantiate(pid)
        state.instantiation_spans[instantiation] = package.span
        for name, (item, span) in arguments.items():
            try:
                self.graph.set_instantiation_argument(instantiation, name, item.node)
            except InvalidArgumentName as exc:
                raise ResolveError(f"component `{exc.package}` has no import named `{name}`", span,
                                   f"unknown import `{name}`") from None
            except ArgumentTypeMismatch as exc:
                raise ResolveError(f"mismatched instantiation argument `{name}`", span,
                                   f"mismatched argument `{name}`",
                                   cause=exc.__cause__ or self._subtype_error(item, world.imports[name])) from None
        if require_all:
            for name in world.imports:
                if name not in arguments:
                    raise ResolveError(f"missing instantiation argument `{name}` for package `{package.string}`",
                                       package.span, f"missing argument `{name}`")
        return _Item(node=instantiation)

    def _subtype_error(self, item: _Item, expected: ItemKind) -> SubtypeError | None:
        """Why ``item`` does not fit ``expected`` (the detail lines of a mismatch)."""
        try:
            SubtypeChecker().is_subtype(item.kind(self.graph), expected)
        except SubtypeError as exc:
            return exc
        return None

    def inferred_argument(self, ident: ast.Ident, world: World):
        item, _ = self.state.local_item(ident)
        kind = item.kind(self.graph)
        if kind.kind == "instance" and kind.ty.id is not None and kind.ty.id in world.imports:
            return kind.ty.id, item, ident.span
        if item.node is not None:
            import_name = self.graph.get_import_name(item.node)
            if import_name is not None:
                if import_name in world.imports:
                    return import_name, item, ident.span
            else:
                source = self.graph.get_alias_source(item.node)
                if source is not None and source[1] in world.imports:
                    return source[1], item, ident.span
        matched = _matching_interface_name(ident.string, world.imports)
        if matched is not None:
            return matched, item, ident.span
        return ident.string, item, ident.span

    def spread_argument(self, ident: ast.Ident, expected: list, arguments: dict) -> None:
        item, _ = self.state.local_item(ident)
        kind = item.kind(self.graph)
        if kind.kind != "instance":
            raise ResolveError("an instance is required to perform a spread operation", ident.span,
                               f"this evaluated to a {_desc(kind)} when an instance was expected")
        spread = False
        for name in expected:
            if name in arguments:
                continue
            aliased = self.alias_export(item, name, ident.span, "a spread operation")
            if aliased is not None:
                spread = True
                arguments[name] = (aliased, ident.span)
        if not spread:
            raise ResolveError("the instance has no matching exports for the remaining unsatisfied arguments",
                               ident.span, "no matching exports for the instance")

    def postfix_expr(self, item: _Item, postfix, parent_span: Span) -> _Item:
        if isinstance(postfix, ast.AccessExpr):
            kind = item.kind(self.graph)
            if kind.kind != "instance":
                raise ResolveError("an instance is required to perform an access operation", parent_span,
                                   f"this evaluated to a {_desc(kind)} when an instance was expected")
            name = _matching_interface_name(postfix.id.string, kind.ty.exports) or postfix.id.string
        else:
            name = postfix.string.value
        aliased = self.alias_export(item, name, parent_span, "an access operation")
        if aliased is None:
            raise ResolveError(f"the instance has no export named `{name}`", postfix.span, f"unknown export `{name}`")
        return aliased

    def alias_export(self, item: _Item, name: str, span: Span, operation: str) -> _Item | None:
        kind = item.kind(self.graph)
        if kind.kind != "instance":
            raise ResolveError(f"an instance is required to perform {operation}", span,
                               f"this evaluated to a {_desc(kind)} when an instance was expected")
        if name not in kind.ty.exports:
            return None
        return _Item(node=self.graph.alias_instance_export(item.node, name))

    # -- exports ------------------------------------------------------------------------------
    def export_statement(self, stmt: ast.ExportStatement) -> None:
        item = self.expr(stmt.expr)
        options = stmt.options
        if options is None:
            name = self.infer_export_name(item)
            if name is None:
                raise ResolveError("export statement requires an `as` clause as the export name cannot be inferred",
                                   stmt.expr.span, "an `as` clause is required")
            self.export_item(item, name, stmt.expr.span, show_hint=True)
        elif isinstance(options, ast.ExportSpread):
            kind = item.kind(self.graph)
            if kind.kind != "instance":
                raise ResolveError("an instance is required to perform a spread operation", stmt.expr.span,
                                   f"this evaluated to a {_desc(kind)} when an instance was expected")
            exported = False
            for name in list(kind.ty.exports):
                if self.graph.get_export(name) is not None:
                    continue
                aliased = self.alias_export(item, name, stmt.expr.span, "a spread operation")
                self.export_item(aliased, name, options.span, show_hint=False)
                exported = True
            if not exported:
                raise ResolveError("instance has no exports or all exports of the instance match previously "
                                   "exported names", stmt.expr.span,
                                   "spreading the exports of this instance has no effect")
        else:
            self.export_item(item, ast.argument_name(options.name), options.name.span, show_hint=False)

    def infer_export_name(self, item: _Item) -> str | None:
        kind = item.kind(self.graph)
        if kind.kind == "instance" and kind.ty.id is not None:
            return kind.ty.id
        if item.node is None:
            return None
        import_name = self.graph.get_import_name(item.node)
        if import_name is not None:
            return import_name
        source = self.graph.get_alias_source(item.node)
        return source[1] if source is not None else None

    def export_item(self, item: _Item, name: str, span: Span, *, show_hint: bool) -> None:
        hint = _HINT_AS if show_hint else None
        existing = self.state.root_scope().get(name)
        if existing is not None and existing[0].node is not None:
            node = self.graph[existing[0].node]
            if node.kind == "definition":
                raise ResolveError(f"export `{name}` conflicts with {_desc(node.item_kind)} definition", span,
                                   f"conflicting export of `{name}`", hint=hint)
        try:
            self.graph.export(item.node, name)
        except ExportAlreadyExists:
            raise ResolveError(f"duplicate export `{name}`", span, f"duplicate export name `{name}`",
                               hint=hint) from None
        except InvalidExportName as exc:
            raise ResolveError(f"export name `{name}` is not valid", span, f"invalid name `{name}`",
                               cause=exc.__cause__) from None
        self.state.export_spans[item.node] = span

    # -- packages -----------------------------------------------------------------------------
    def resolve_package(self, name: str, version: str | None, span: Span) -> int:
        found = self.graph.get_package_by_name(name, version)
        if found is not None:
            return found[0]
        source = self.sources.pop((name, version), None)
        if source is None:
            raise ResolveError(f"unknown package `{name}`", span, f"unknown package `{name}`")
        data = source.data
        if isinstance(data, (bytes, bytearray)):
            from wasmlab.wac._package import Package

            try:
                package = Package.from_bytes(name, version, bytes(data), self.graph.types)
            except Exception as exc:  # noqa: BLE001 - any decoding failure is the package's fault
                raise ResolveError(f"failed to parse package `{name}`", span, f"package `{name}` failed to parse",
                                   cause=exc) from None
        else:
            package = data
        return self.graph.register_package(package)

    def resolve_package_path(self, path: ast.PackagePath) -> ItemKind:
        if path.name == self.doc.directive.package.name:
            return self.resolve_local_path(path)
        pid = self.resolve_package(path.name, path.version, path.package_name_span)
        package = self.graph.package(pid)
        segments = path.segment_spans()
        current = 0
        parent_desc = None
        found = None
        for i, (segment, _) in enumerate(segments):
            current = i
            if i == 0:
                found = package.definitions.get(segment)
                continue
            if found is None:
                break
            ty = found.ty
            export = None
            if isinstance(ty, (Interface, World)) and found.kind in ("type", "instance", "component"):
                export = ty.exports.get(segment)
            parent_desc = _desc(found)
            found = export
            if found is None:
                break
        if found is not None:
            return found
        previous = []
        for i, (segment, span) in enumerate(segments):
            if i == current:
                prefix = f"{parent_desc} `{'/'.join(previous)}` in " if parent_desc is not None else ""
                raise ResolveError(f"{prefix}package `{path.name}` has no export named `{segment}`", span,
                                   f"unknown export `{segment}`")
            previous.append(segment)
        raise AssertionError("package path without segments")

    def resolve_local_path(self, path: ast.PackagePath) -> ItemKind:
        segments = path.segment_spans()
        first, first_span = segments[0]
        item, _ = self.state.root_item(ast.Ident(first, first_span))
        current = first
        kind = item.kind(self.graph)
        for segment, span in segments[1:]:
            ty = kind.ty
            exports = ty.exports if isinstance(ty, (Interface, World)) and kind.kind in (
                "type", "instance", "component") else None
            if exports is None or segment not in exports:
                raise ResolveError(f"`{current}` ({_desc(kind)}) has no export named `{segment}`", span,
                                   f"unknown export `{segment}`")
            kind = exports[segment]
            current = segment
        return kind

    # -- targets --------------------------------------------------------------------------------
    def validate_target(self, path: ast.PackagePath, world: World) -> None:
        state = self.state
        implicit = world.implicit_imported_interfaces()
        checker = SubtypeChecker()
        checker.invert()
        for name, item_kind, import_node in self.graph.imports():
            # an implicit import has no place in the document: unlocated, as the reference reports it
            span = state.import_spans.get(import_node) if import_node is not None else None
            expected = implicit.get(name) or world.imports.get(name)
            if expected is None:
                raise ResolveError(f"target world `{path.string}` does not have an import named `{name}`", span,
                                   f"cannot have an import named `{name}`")
            try:
                checker.is_subtype(expected.promote(), item_kind)
            except SubtypeError as exc:
                raise ResolveError(f"import `{name}` has a mismatched type for target world `{path.string}`", span,
                                   f"mismatched type for import `{name}`", cause=exc) from None
        checker.revert()
        for name, expected in world.exports.items():
            export = self.graph.get_export(name)
            if export is None:
                raise ResolveError(f"target world `{path.string}` requires an export named `{name}`", path.span,
                                   f"must export a {_desc(expected)} named `{name}` to target this world")
            try:
                checker.is_subtype(self.graph[export].item_kind, expected.promote())
            except SubtypeError as exc:
                raise ResolveError(f"export `{name}` has a mismatched type for target world `{path.string}`",
                                   state.export_spans.get(export), f"mismatched type for export `{name}`",
                                   cause=exc) from None


def _matching_interface_name(name: str, externs: dict) -> str | None:
    """``baz`` names ``foo:bar/baz@1.0.0`` when that is the only extern ending so (and ``baz`` is not one)."""
    if name in externs:
        return None
    matches = []
    for extern in externs:
        slash = extern.rfind("/")
        if slash < 0:
            continue
        tail = extern[slash + 1:].split("@", 1)[0]
        if tail == name:
            matches.append(extern)
    return matches[0] if len(matches) == 1 else None


def _to_wac_error(exc: ResolveError, document: ast.Document) -> WacError:
    if exc.span is None:
        error = WacError(exc.message, hint=exc.hint)
        error.span = None
        error.label = exc.label
    else:
        error = located_error(exc.message, exc.span, document.source, document.origin, label=exc.label,
                              hint=exc.hint)
    return with_causes(error, exc.cause)


def resolve_document(document: ast.Document, *, packages: dict | None = None, deps: dict | None = None,
                     deps_dir: str | os.PathLike | None = None, registry=None) -> Resolution:
    """Find the document's packages, then resolve it into a :class:`Resolution`; raises WacError."""
    try:
        sources = find_packages(document, packages=packages, deps=deps, deps_dir=deps_dir, registry=registry)
        return _Resolver(document, sources).resolve()
    except ResolveError as exc:
        raise _to_wac_error(exc, document) from None
    except RecursionError:
        raise WacError("the document is nested too deeply to resolve",
                       hint="split deeply nested expressions or types into named parts") from None


def _refuse_duplicate(seen, ident, what: str, kind: str, decl) -> None:
    """A variant's cases, a record's fields, ... must have distinct names (the reference's message)."""
    if ident.string in seen:
        raise ResolveError(f"duplicate {what} `{ident.string}` for {kind} type `{decl.id.string}`",
                           ident.span, f"duplicate {what} `{ident.string}`")
