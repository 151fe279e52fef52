"""The syntax tree of a WAC document, every node carrying the spans of its source.

The node shapes follow the reference parser (bytecodealliance/wac's ``wac-parser`` AST), so
:func:`to_reference_json` can print a document exactly as the reference serializes it (the
form of the parser conformance results), which checks every span we record.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any, Union

from wasmlab.wac._lexer import Span

__all__ = [
    "Span", "DocComment", "Ident", "String", "PackageName", "PackagePath", "PackageDirective", "Document",
    "ImportStatement", "LetStatement", "ExportStatement", "ExportSpread", "ExportRename",
    "Expr", "NewExpr", "NestedExpr", "AccessExpr", "NamedAccessExpr",
    "InferredArgument", "SpreadArgument", "NamedArgument", "FillArgument",
    "PrimitiveType", "TupleType", "ListType", "OptionType", "ResultType", "BorrowType",
    "NamedType", "FuncType", "TypeAlias", "VariantCase", "VariantDecl", "Field", "RecordDecl",
    "Flag", "FlagsDecl", "EnumCase", "EnumDecl", "Constructor", "Method", "ResourceDecl",
    "UseItem", "Use", "InterfaceExport", "InterfaceDecl", "InlineInterface", "NamedWorldItem",
    "WorldImport", "WorldExport", "WorldIncludeItem", "WorldInclude", "WorldDecl", "argument_name",
    "to_reference_json",
]


@dataclass
class DocComment:
    comment: str
    span: Span


@dataclass
class Ident:
    """An identifier; ``string`` has the ``%`` escape removed."""

    string: str
    span: Span


@dataclass
class String:
    """A string literal; ``value`` is without the quotes."""

    value: str
    span: Span


@dataclass
class PackageName:
    """``ns:name@version``: ``string`` is all of it, ``name`` without the version."""

    string: str
    name: str
    version: str | None
    span: Span


@dataclass
class PackagePath:
    """``ns:name/seg/seg@version``."""

    span: Span
    string: str
    name: str
    segments: str
    version: str | None

    @property
    def package_name_span(self) -> Span:
        return Span(self.span.offset, len(self.name))

    def segment_spans(self) -> list[tuple[str, Span]]:
        spans = []
        offset = self.span.offset + len(self.name) + 1
        for segment in self.segments.split("/"):
            spans.append((segment, Span(offset, len(segment))))
            offset += len(segment) + 1
        return spans


# ----------------------------------------------------------------------------- types

@dataclass
class PrimitiveType:
    """``u8`` ... ``string``: ``name`` is the keyword."""

    name: str
    span: Span


@dataclass
class TupleType:
    types: list
    span: Span


@dataclass
class ListType:
    element: Any
    span: Span


@dataclass
class OptionType:
    element: Any
    span: Span


@dataclass
class ResultType:
    ok: Any | None
    err: Any | None
    span: Span


@dataclass
class BorrowType:
    id: Ident
    span: Span


Type = Union[PrimitiveType, TupleType, ListType, OptionType, ResultType, BorrowType, Ident]


@dataclass
class NamedType:
    id: Ident
    ty: Any


@dataclass
class FuncType:
    params: list[NamedType]
    results: Any | None  # a Type, or None for no results
    span: Span = field(default=Span(0, 0), compare=False)


@dataclass
class TypeAlias:
    docs: list[DocComment]
    id: Ident
    kind: Any  # FuncType or a Type


@dataclass
class VariantCase:
    docs: list[DocComment]
    id: Ident
    ty: Any | None


@dataclass
class VariantDecl:
    docs: list[DocComment]
    id: Ident
    cases: list[VariantCase]


@dataclass
class Field:
    docs: list[DocComment]
    id: Ident
    ty: Any


@dataclass
class RecordDecl:
    docs: list[DocComment]
    id: Ident
    fields: list[Field]


@dataclass
class Flag:
    docs: list[DocComment]
    id: Ident


@dataclass
class FlagsDecl:
    docs: list[DocComment]
    id: Ident
    flags: list[Flag]


@dataclass
class EnumCase:
    docs: list[DocComment]
    id: Ident


@dataclass
class EnumDecl:
    docs: list[DocComment]
    id: Ident
    cases: list[EnumCase]


@dataclass
class Constructor:
    docs: list[DocComment]
    span: Span
    params: list[NamedType]


@dataclass
class Method:
    docs: list[DocComment]
    id: Ident
    is_static: bool
    ty: FuncType


@dataclass
class ResourceDecl:
    docs: list[DocComment]
    id: Ident
    methods: list  # Constructor | Method


@dataclass
class UseItem:
    id: Ident
    as_id: Ident | None


@dataclass
class Use:
    docs: list[DocComment]
    path: Any  # PackagePath | Ident
    items: list[UseItem]


@dataclass
class InterfaceExport:
    docs: list[DocComment]
    id: Ident
    ty: Any  # FuncType | Ident


@dataclass
class InterfaceDecl:
    docs: list[DocComment]
    id: Ident
    items: list  # Use | type declarations | InterfaceExport


@dataclass
class InlineInterface:
    items: list
    span: Span = field(default=Span(0, 0), compare=False)


@dataclass
class NamedWorldItem:
    id: Ident
    ty: Any  # Ident | FuncType | InlineInterface


@dataclass
class WorldImport:
    docs: list[DocComment]
    path: Any  # NamedWorldItem | PackagePath | Ident


@dataclass
class WorldExport:
    docs: list[DocComment]
    path: Any


@dataclass
class WorldIncludeItem:
    from_: Ident
    to: Ident


@dataclass
class WorldInclude:
    docs: list[DocComment]
    world: Any  # Ident | PackagePath
    with_: list[WorldIncludeItem]


@dataclass
class WorldDecl:
    docs: list[DocComment]
    id: Ident
    items: list


# ----------------------------------------------------------------------------- expressions


@dataclass
class NewExpr:
    span: Span
    package: PackageName
    arguments: list


@dataclass
class NestedExpr:
    span: Span
    inner: "Expr"


@dataclass
class AccessExpr:
    """``.id``"""

    span: Span
    id: Ident


@dataclass
class NamedAccessExpr:
    """``["name"]``"""

    span: Span
    string: String


@dataclass
class Expr:
    span: Span
    primary: Any  # NewExpr | NestedExpr | Ident
    postfix: list  # AccessExpr | NamedAccessExpr


@dataclass
class InferredArgument:
    """``{ name }``: the argument name is the identifier's."""

    id: Ident


@dataclass
class SpreadArgument:
    """``{ ...name }``"""

    id: Ident


@dataclass
class NamedArgument:
    """``{ name: expr }`` or ``{ "name": expr }``: ``name`` is an Ident or a String."""

    name: Any
    expr: Expr


@dataclass
class FillArgument:
    """``{ ... }``: remaining arguments become imports of the composition."""

    span: Span


def argument_name(name: Ident | String) -> str:
    return name.string if isinstance(name, Ident) else name.value


# ----------------------------------------------------------------------------- statements

@dataclass
class ImportStatement:
    docs: list[DocComment]
    id: Ident
    name: Any | None  # Ident | String from `as` / `with`
    ty: Any  # PackagePath | FuncType | InlineInterface | Ident


@dataclass
class LetStatement:
    docs: list[DocComment]
    id: Ident
    expr: Expr


@dataclass
class ExportSpread:
    """``export expr...``"""

    span: Span


@dataclass
class ExportRename:
    """``export expr as name``"""

    name: Any  # Ident | String


@dataclass
class ExportStatement:
    docs: list[DocComment]
    expr: Expr
    options: Any | None  # None | ExportSpread | ExportRename


@dataclass
class PackageDirective:
    package: PackageName
    targets: PackagePath | None


@dataclass
class Document:
    """A parsed WAC document. ``source`` and ``origin`` locate errors found later (resolution)."""

    docs: list[DocComment]
    directive: PackageDirective
    statements: list
    source: str = field(default="", repr=False, compare=False)
    origin: str = field(default="<wac>", repr=False, compare=False)
    deepest: Span | None = field(default=None, repr=False, compare=False)  # where nesting went deepest


# ----------------------------------------------------------------------------- reference JSON

_STATEMENT_WRAPPERS = {
    ImportStatement: ["Import"], LetStatement: ["Let"], ExportStatement: ["Export"],
    InterfaceDecl: ["Type", "interface"], WorldDecl: ["Type", "world"],
    VariantDecl: ["Type", "type", "variant"], RecordDecl: ["Type", "type", "record"],
    FlagsDecl: ["Type", "type", "flags"], EnumDecl: ["Type", "type", "enum"],
    TypeAlias: ["Type", "type", "alias"],
}
_ITEM_WRAPPERS = {
    Use: ["use"], InterfaceExport: ["export"], WorldImport: ["import"], WorldExport: ["export"],
    WorldInclude: ["include"], ResourceDecl: ["type", "resource"], VariantDecl: ["type", "variant"],
    RecordDecl: ["type", "record"], FlagsDecl: ["type", "flags"], EnumDecl: ["type", "enum"],
    TypeAlias: ["type", "alias"],
}
_VARIANT_NAMES = {
    Ident: "ident", String: "string", NewExpr: "new", NestedExpr: "nested", AccessExpr: "access",
    NamedAccessExpr: "namedAccess", InferredArgument: "inferred", SpreadArgument: "spread",
    NamedArgument: "named", FillArgument: "fill", PackagePath: "package", FuncType: "func",
    InlineInterface: "interface", NamedWorldItem: "named", Constructor: "constructor", Method: "method",
}
_FIELD_NAMES = {"as_id": "asId", "is_static": "isStatic", "from_": "from", "with_": "with"}


def _wrap(path: list[str], value: Any) -> Any:
    for key in reversed(path):
        value = {key: value}
    return value


def _span(span: Span) -> dict:
    return {"offset": span.offset, "length": span.length}


def _type(ty: Any) -> Any:
    if isinstance(ty, PrimitiveType):
        return {ty.name: _span(ty.span)}
    if isinstance(ty, TupleType):
        return {"tuple": [[_type(t) for t in ty.types], _span(ty.span)]}
    if isinstance(ty, ListType):
        return {"list": [_type(ty.element), _span(ty.span)]}
    if isinstance(ty, OptionType):
        return {"option": [_type(ty.element), _span(ty.span)]}
    if isinstance(ty, ResultType):
        return {"result": {"ok": None if ty.ok is None else _type(ty.ok),
                           "err": None if ty.err is None else _type(ty.err), "span": _span(ty.span)}}
    if isinstance(ty, BorrowType):
        return {"borrow": [_node(ty.id), _span(ty.span)]}
    return {"ident": _node(ty)}


_TYPE_FIELDS = {(NamedType, "ty"), (Field, "ty"), (VariantCase, "ty")}
_ENUM_FIELDS = {
    (Expr, "primary"), (ImportStatement, "name"), (ImportStatement, "ty"), (Use, "path"),
    (InterfaceExport, "ty"), (WorldImport, "path"), (WorldExport, "path"), (NamedWorldItem, "ty"),
    (WorldInclude, "world"), (NamedArgument, "name"), (Expr, "postfix"), (NewExpr, "arguments"),
    (ResourceDecl, "methods"),
}


def _enum(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, list):
        return [_enum(v) for v in value]
    if isinstance(value, (InferredArgument, SpreadArgument)):
        return {_VARIANT_NAMES[type(value)]: _node(value.id)}
    if isinstance(value, FillArgument):
        return {"fill": _span(value.span)}
    return {_VARIANT_NAMES[type(value)]: _node(value)}


def _node(node: Any) -> Any:
    if isinstance(node, Span):
        return _span(node)
    if isinstance(node, list):
        return [_node(item) for item in node]
    if not is_dataclass(node):
        return node
    cls = type(node)
    out: dict[str, Any] = {}
    for f in fields(node):
        if f.name in ("source", "origin", "deepest") or (f.name == "span" and cls in (FuncType, InlineInterface)):
            continue
        value = getattr(node, f.name)
        key = _FIELD_NAMES.get(f.name, f.name)
        if cls is Document and f.name == "statements":
            out[key] = [_wrap(_STATEMENT_WRAPPERS[type(s)], _node(s)) for s in value]
        elif cls in (InterfaceDecl, WorldDecl, InlineInterface) and f.name == "items":
            out[key] = [_wrap(_ITEM_WRAPPERS[type(i)], _node(i)) for i in value]
        elif cls is PackageDirective and f.name == "targets":
            if value is not None:
                out[key] = _node(value)
        elif (cls, f.name) in _TYPE_FIELDS:
            out[key] = None if value is None else _type(value)
        elif cls is FuncType and f.name == "results":
            out[key] = "empty" if value is None else {"scalar": _type(value)}
        elif cls is TypeAlias and f.name == "kind":
            out[key] = {"func": _node(value)} if isinstance(value, FuncType) else {"type": _type(value)}
        elif cls is ExportStatement and f.name == "options":
            if value is None:
                out[key] = "none"
            elif isinstance(value, ExportSpread):
                out[key] = {"spread": _span(value.span)}
            else:
                out[key] = {"rename": _enum(value.name)}
        elif (cls, f.name) in _ENUM_FIELDS:
            out[key] = _enum(value)
        else:
            out[key] = _node(value)
    return out


def _in_bytes(value: Any, source: str) -> Any:
    """Spans turned from character offsets into the reference's UTF-8 byte offsets."""
    if isinstance(value, list):
        return [_in_bytes(v, source) for v in value]
    if not isinstance(value, dict):
        return value
    if value.keys() == {"offset", "length"}:
        start = len(source[:value["offset"]].encode("utf-8"))
        length = len(source[value["offset"]:value["offset"] + value["length"]].encode("utf-8"))
        return {"offset": start, "length": length}
    return {k: _in_bytes(v, source) for k, v in value.items()}


def to_reference_json(document: Document) -> dict:
    """The document as the reference parser serializes it (parser conformance ``.result`` form).

    Spans are in UTF-8 bytes, as the reference's are.
    """
    tree = _node(document)
    return tree if document.source.isascii() else _in_bytes(tree, document.source)
