"""The WAC type model: what a component, an interface or a world looks like to a composition.

Shaped like the reference's ``wac-types`` crate so that resolution, type checking and encoding
can follow it rule for rule.  Everything lives in plain Python objects; *identity* matters the
way arena ids matter in the reference: two ``Record`` objects with equal fields are still two
types, and the encoder keeps one type index per object.

Value types (``ValueType``)
    ``Primitive("u32")`` (frozen, compared by name; ``PRIMITIVES`` lists the names),
    ``Own(resource)`` and ``Borrow(resource)`` (frozen, compared by the resource object), or a
    *defined type* object: ``TupleType(items)``, ``ListType(element)``,
    ``FixedSizeListType(element, size)``, ``OptionType(some)``, ``ResultType(ok, err)``
    (either may be ``None``), ``VariantType(cases: dict[str, ValueType | None])``,
    ``RecordType(fields: dict[str, ValueType])``, ``FlagsType(names)``, ``EnumType(names)``,
    ``AliasType(target: ValueType)`` (a named ``type x = y``), ``StreamType(element | None)``,
    ``FutureType(element | None)``.  Defined types compare by identity.

Other types (``Type`` is any of these or a value type)
    ``Resource(name, alias=None)`` - ``alias`` is ``ResourceAlias(owner: Interface | None,
    source: Resource)`` when the resource is another one under a new name.
    ``FuncType(params: dict[str, ValueType], result: ValueType | None, is_async=False)``.
    ``Interface(id=None, uses={}, exports={})`` - an instance type; ``id`` like
    ``"wasi:io/streams@0.2.0"`` for named interfaces; ``uses`` maps a type name to
    ``UsedType(interface, name=None)``; ``exports`` maps names to ``ItemKind``.
    ``World(id=None, uses={}, imports={}, exports={})`` - a component type.
    ``ModuleType(imports: dict[(module, name), CoreExtern], exports: dict[str, CoreExtern])``.

Items (``ItemKind``)
    ``ItemKind.type(t)``, ``ItemKind.func(f)``, ``ItemKind.instance(i)``,
    ``ItemKind.component(w)``, ``ItemKind.module(m)``, ``ItemKind.value(v)``; ``.kind`` is one of
    ``"type" "func" "instance" "component" "module" "value"``, ``.ty`` the type object,
    ``.desc()`` the reference's wording ("function", "instance", "u32", "record", ...),
    ``.promote()`` turns a type item of a function/interface/world into the item itself.

``Types`` is the collection (the reference's arena): ``types.add(obj)`` registers a type object
and returns it.  Only the order matters (the encoder scans interfaces in creation order);
``Types.interfaces`` lists them.

``SubtypeChecker().is_subtype(a: ItemKind, b: ItemKind)`` raises ``SubtypeError`` when ``a`` may
not be used where ``b`` is expected; ``error_chain(e)`` gives the messages outermost first, e.g.
``["mismatched type for export `f`", "expected u32, found string"]``.

``TypeAggregator`` (in ``_aggregate.py``) merges the types of implicit imports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Union

from wasmlab.errors import WacError

__all__ = [
    "PRIMITIVES", "Primitive", "Own", "Borrow",
    "TupleType", "ListType", "FixedSizeListType", "OptionType", "ResultType", "VariantType",
    "RecordType", "FlagsType", "EnumType", "AliasType", "StreamType", "FutureType",
    "DefinedType", "ValueType", "Resource", "ResourceAlias", "FuncType", "UsedType", "Interface",
    "World", "ModuleType", "CoreExtern", "ItemKind", "Types", "SubtypeChecker", "SubtypeError",
    "error_chain", "with_causes", "resolve_value_type", "resolve_resource", "value_desc", "type_desc",
]

PRIMITIVES = ("u8", "s8", "u16", "s16", "u32", "s32", "u64", "s64", "f32", "f64", "char",
              "bool", "string", "error-context")


@dataclass(frozen=True)
class Primitive:
    name: str

    def __repr__(self) -> str:
        return self.name


@dataclass(eq=False)
class Resource:
    name: str
    alias: Optional["ResourceAlias"] = None

    def __repr__(self) -> str:
        return f"Resource({self.name!r})"


@dataclass(eq=False)
class ResourceAlias:
    owner: Optional["Interface"]
    source: Resource


@dataclass(frozen=True)
class Own:
    resource: Resource

    def __hash__(self) -> int:
        return hash(("own", id(self.resource)))

    def __eq__(self, other) -> bool:
        return isinstance(other, Own) and other.resource is self.resource


@dataclass(frozen=True)
class Borrow:
    resource: Resource

    def __hash__(self) -> int:
        return hash(("borrow", id(self.resource)))

    def __eq__(self, other) -> bool:
        return isinstance(other, Borrow) and other.resource is self.resource


class DefinedType:
    """Base of the defined value types; compared by identity."""

    __slots__ = ()
    desc_name = "?"

    def __eq__(self, other) -> bool:
        return self is other

    def __hash__(self) -> int:
        return id(self)

    def desc(self) -> str:
        return self.desc_name


class TupleType(DefinedType):
    __slots__ = ("items",)
    desc_name = "tuple"

    def __init__(self, items):
        self.items = list(items)


class ListType(DefinedType):
    __slots__ = ("element",)
    desc_name = "list"

    def __init__(self, element):
        self.element = element


class FixedSizeListType(DefinedType):
    __slots__ = ("element", "size")
    desc_name = "list<,N>"

    def __init__(self, element, size: int):
        self.element = element
        self.size = size


class OptionType(DefinedType):
    __slots__ = ("some",)
    desc_name = "option"

    def __init__(self, some):
        self.some = some


class ResultType(DefinedType):
    __slots__ = ("ok", "err")
    desc_name = "result"

    def __init__(self, ok=None, err=None):
        self.ok = ok
        self.err = err


class VariantType(DefinedType):
    __slots__ = ("cases",)
    desc_name = "variant"

    def __init__(self, cases: dict):
        self.cases = dict(cases)


class RecordType(DefinedType):
    __slots__ = ("fields",)
    desc_name = "record"

    def __init__(self, fields: dict):
        self.fields = dict(fields)


class FlagsType(DefinedType):
    __slots__ = ("names",)
    desc_name = "flags"

    def __init__(self, names):
        self.names = list(names)


class EnumType(DefinedType):
    __slots__ = ("names",)
    desc_name = "enum"

    def __init__(self, names):
        self.names = list(names)


class AliasType(DefinedType):
    __slots__ = ("target",)

    def __init__(self, target):
        self.target = target

    def desc(self) -> str:
        return value_desc(self.target)


class StreamType(DefinedType):
    __slots__ = ("element",)
    desc_name = "stream"

    def __init__(self, element=None):
        self.element = element


class FutureType(DefinedType):
    __slots__ = ("element",)
    desc_name = "future"

    def __init__(self, element=None):
        self.element = element


ValueType = Union[Primitive, Own, Borrow, DefinedType]


@dataclass(eq=False)
class FuncType:
    params: dict = field(default_factory=dict)
    result: Optional[object] = None
    is_async: bool = False


@dataclass(eq=False)
class UsedType:
    interface: "Interface"
    name: Optional[str] = None


@dataclass(eq=False)
class Interface:
    id: Optional[str] = None
    uses: dict = field(default_factory=dict)
    exports: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"Interface({self.id!r}, exports={list(self.exports)})"


@dataclass(eq=False)
class World:
    id: Optional[str] = None
    uses: dict = field(default_factory=dict)
    imports: dict = field(default_factory=dict)
    exports: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"World({self.id!r}, imports={list(self.imports)}, exports={list(self.exports)})"

    def implicit_imported_interfaces(self) -> dict:
        """Interfaces that this world's ``use``s (and its imported interfaces' uses) bring in."""
        found: dict = {}
        for used in self.uses.values():
            found[used.interface.id] = ItemKind.instance(used.interface)
        for kind in self.imports.values():
            if kind.kind == "instance":
                for used in kind.ty.uses.values():
                    found[used.interface.id] = ItemKind.instance(used.interface)
        return found


@dataclass(frozen=True)
class CoreExtern:
    """A core import/export type: ``kind`` in func/table/memory/global/tag, ``detail`` a tuple."""

    kind: str
    detail: tuple = ()

    def __str__(self) -> str:
        return {"func": "function", "table": "table", "memory": "memory",
                "global": "global", "tag": "tag"}[self.kind]


@dataclass(eq=False)
class ModuleType:
    imports: dict = field(default_factory=dict)
    exports: dict = field(default_factory=dict)


_ITEM_KINDS = ("type", "func", "instance", "component", "module", "value")


class ItemKind:
    """An item of a component: a type, a function, an instance, a component, a module, a value."""

    __slots__ = ("kind", "ty")

    def __init__(self, kind: str, ty):
        assert kind in _ITEM_KINDS, kind
        self.kind = kind
        self.ty = ty

    @classmethod
    def type(cls, ty) -> "ItemKind":
        return cls("type", ty)

    @classmethod
    def func(cls, ty: FuncType) -> "ItemKind":
        return cls("func", ty)

    @classmethod
    def instance(cls, ty: Interface) -> "ItemKind":
        return cls("instance", ty)

    @classmethod
    def component(cls, ty: World) -> "ItemKind":
        return cls("component", ty)

    @classmethod
    def module(cls, ty: ModuleType) -> "ItemKind":
        return cls("module", ty)

    @classmethod
    def value(cls, ty) -> "ItemKind":
        return cls("value", ty)

    def __eq__(self, other) -> bool:
        return isinstance(other, ItemKind) and self.kind == other.kind and _same(self.ty, other.ty)

    def __hash__(self) -> int:
        return hash((self.kind, _key(self.ty)))

    def __repr__(self) -> str:
        return f"ItemKind.{self.kind}({self.ty!r})"

    def desc(self) -> str:
        if self.kind == "type":
            return type_desc(self.ty)
        return {"func": "function", "instance": "instance", "component": "component",
                "module": "module", "value": "value"}[self.kind]

    def promote(self) -> "ItemKind":
        if self.kind == "type":
            if isinstance(self.ty, FuncType):
                return ItemKind.func(self.ty)
            if isinstance(self.ty, Interface):
                return ItemKind.instance(self.ty)
            if isinstance(self.ty, World):
                return ItemKind.component(self.ty)
        return self

def _key(ty):
    return ty if isinstance(ty, (Primitive, Own, Borrow)) else id(ty)


def _same(a, b) -> bool:
    if isinstance(a, (Primitive, Own, Borrow)):
        return a == b
    return a is b


def value_desc(ty) -> str:
    if isinstance(ty, Primitive):
        return ty.name
    if isinstance(ty, Own):
        return "own"
    if isinstance(ty, Borrow):
        return "borrow"
    return ty.desc()


def type_desc(ty) -> str:
    if isinstance(ty, Resource):
        return "resource"
    if isinstance(ty, FuncType):
        return "function type"
    if isinstance(ty, Interface):
        return "interface"
    if isinstance(ty, World):
        return "world"
    if isinstance(ty, ModuleType):
        return "module type"
    return value_desc(ty)


def resolve_value_type(ty):
    """Follow ``AliasType`` links to the type they name."""
    while isinstance(ty, AliasType):
        ty = ty.target
    return ty


def component_types(ty: DefinedType) -> list:
    """The value types a defined type is made of (an alias's target is not one of them)."""
    if isinstance(ty, TupleType):
        return list(ty.items)
    if isinstance(ty, (ListType, FixedSizeListType, StreamType, FutureType)):
        return [ty.element] if ty.element is not None else []
    if isinstance(ty, OptionType):
        return [ty.some]
    if isinstance(ty, ResultType):
        return [t for t in (ty.ok, ty.err) if t is not None]
    if isinstance(ty, VariantType):
        return [t for t in ty.cases.values() if t is not None]
    if isinstance(ty, RecordType):
        return list(ty.fields.values())
    return []


def resolve_resource(res: Resource) -> Resource:
    while res.alias is not None:
        res = res.alias.source
    return res


class Types:
    """The collection of type objects of one composition, in creation order."""

    def __init__(self):
        self.defined: list = []
        self.resources: list = []
        self.funcs: list = []
        self.interfaces: list = []
        self.worlds: list = []
        self.modules: list = []

    def add(self, obj):
        if isinstance(obj, DefinedType):
            self.defined.append(obj)
        elif isinstance(obj, Resource):
            self.resources.append(obj)
        elif isinstance(obj, FuncType):
            self.funcs.append(obj)
        elif isinstance(obj, Interface):
            self.interfaces.append(obj)
        elif isinstance(obj, World):
            self.worlds.append(obj)
        elif isinstance(obj, ModuleType):
            self.modules.append(obj)
        else:
            raise TypeError(f"not a type object: {obj!r}")
        return obj


# --- subtype checking -------------------------------------------------------------------------

class SubtypeError(Exception):
    """A type is not a subtype of the one expected; ``__cause__`` chains to the detail."""

    @property
    def message(self) -> str:
        return self.args[0]


def error_chain(err: BaseException | None) -> list[str]:
    """Messages of an error and its causes, outermost first (the reference's anyhow chain)."""
    out = []
    while err is not None:
        out.append(str(err.args[0]) if err.args else str(err))
        err = err.__cause__
    return out


def with_causes(error: WacError, cause: BaseException | None) -> WacError:
    """``error`` with the chain of ``cause`` as its ``causes`` and as ``caused by: ...`` lines of
    its detail, as the reference prints them."""
    error.causes = error_chain(cause)
    error.detail = "\n".join(f"caused by: {m}" for m in error.causes) or None
    return error


def _context(message: str, fn, *args):
    try:
        fn(*args)
    except SubtypeError as inner:
        raise SubtypeError(message) from inner


class SubtypeChecker:
    """Is ``a`` usable where ``b`` is expected?  Functions and primitives by equality, instances
    and components by their exports (more is fine) and imports (fewer is fine), resources by name
    after following aliases.  Messages are worded as the reference words them."""

    def __init__(self, cache: set | None = None):
        self.kinds: list[str] = []
        self.cache = cache if cache is not None else set()

    def kind(self) -> str:
        return self.kinds[-1] if self.kinds else "covariant"

    def _ef(self, a, b):
        return (b, a) if self.kind() == "covariant" else (a, b)

    def is_subtype(self, a: ItemKind, b: ItemKind) -> None:
        key = (a, b)
        if key in self.cache:
            return
        self._item(a, b)
        self.cache.add(key)

    def invert(self) -> str:
        prev = self.kind()
        self.kinds.append("contravariant" if prev == "covariant" else "covariant")
        return prev

    def revert(self) -> None:
        self.kinds.pop()

    def _item(self, a: ItemKind, b: ItemKind) -> None:
        if a.kind != b.kind:
            expected, found = self._ef(a, b)
            raise SubtypeError(f"expected {expected.desc()}, found {found.desc()}")
        k = a.kind
        if k == "type":
            self._ty(a.ty, b.ty)
        elif k == "func":
            self._func(a.ty, b.ty)
        elif k == "instance":
            self._interface(a.ty, b.ty)
        elif k == "component":
            self._world(a.ty, b.ty)
        elif k == "module":
            self._module(a.ty, b.ty)
        else:
            self._value(a.ty, b.ty)

    def _ty(self, a, b) -> None:
        pairs = ((Resource, self._resource), (FuncType, self._func), (Interface, self._interface),
                 (World, self._world), (ModuleType, self._module))
        for cls, check in pairs:
            if isinstance(a, cls) and isinstance(b, cls):
                return check(a, b)
        value_like = (Primitive, Own, Borrow, DefinedType)
        if isinstance(a, value_like) and isinstance(b, value_like):
            return self._value(a, b)
        expected, found = self._ef(a, b)
        raise SubtypeError(f"expected {type_desc(expected)}, found {type_desc(found)}")

    def _resource(self, a: Resource, b: Resource) -> None:
        if a is b:
            return
        ra, rb = resolve_resource(a), resolve_resource(b)
        if ra.name != rb.name:
            expected, found = self._ef(ra, rb)
            raise SubtypeError(f"expected resource `{expected.name}`, found resource `{found.name}`")

    def _func(self, a: FuncType, b: FuncType) -> None:
        if a is b:
            return
        if a.is_async != b.is_async:
            e, f = self._ef(a, b)
            raise SubtypeError(
                f"expected {'async' if e.is_async else 'sync'} function, "
                f"found {'async' if f.is_async else 'sync'} function")
        if len(a.params) != len(b.params):
            e, f = self._ef(a, b)
            raise SubtypeError(f"expected function with parameter count {len(e.params)}, "
                               f"found parameter count {len(f.params)}")
        for i, ((an, at), (bn, bt)) in enumerate(zip(a.params.items(), b.params.items())):
            if an != bn:
                e, f = self._ef(an, bn)
                raise SubtypeError(f"expected function parameter {i} to be named `{e}`, found name `{f}`")
            _context(f"mismatched type for function parameter `{bn}`", self._value, at, bt)
        if a.result is None and b.result is None:
            return
        if a.result is not None and b.result is not None:
            _context("mismatched type for function result", self._value, a.result, b.result)
            return
        e, f = self._ef(a, b)
        if e.result is not None:
            raise SubtypeError("expected function with a result, found function without a result")
        raise SubtypeError("expected function without a result, found function with a result")

    def _instance_exports(self, a: dict, b: dict) -> None:
        for name, bk in b.items():
            ak = a.get(name)
            if ak is None:
                if self.kind() == "covariant":
                    raise SubtypeError(f"instance is missing expected {bk.desc()} export `{name}`")
                raise SubtypeError(f"instance has unexpected {bk.desc()} export `{name}`")
            _context(f"mismatched type for export `{name}`", self.is_subtype, ak, bk)

    def _interface(self, a: Interface, b: Interface) -> None:
        if a is b:
            return
        self._instance_exports(a.exports, b.exports)

    def _world(self, a: World, b: World) -> None:
        prev = self.invert()
        try:
            for name, ak in a.imports.items():
                bk = b.imports.get(name)
                if bk is None:
                    if prev == "covariant":
                        raise SubtypeError(f"component is missing expected {ak.desc()} import `{name}`")
                    raise SubtypeError(f"component has unexpected import {ak.desc()} `{name}`")
                _context(f"mismatched type for import `{name}`", self.is_subtype, bk, ak)
        finally:
            self.revert()
        for name, bk in b.exports.items():
            ak = a.exports.get(name)
            if ak is None:
                if self.kind() == "covariant":
                    raise SubtypeError(f"component is missing expected {bk.desc()} export `{name}`")
                raise SubtypeError(f"component has unexpected {bk.desc()} export `{name}`")
            _context(f"mismatched type for export `{name}`", self.is_subtype, ak, bk)

    def _module(self, a: ModuleType, b: ModuleType) -> None:
        if a is b:
            return
        prev = self.invert()
        try:
            for key, ae in a.imports.items():
                be = b.imports.get(key)
                if be is None:
                    word = "is missing expected" if prev == "covariant" else "has unexpected"
                    raise SubtypeError(f"module {word} {ae} import `{key[0]}::{key[1]}`")
                if be != ae:
                    raise SubtypeError(f"mismatched type for import `{key[0]}::{key[1]}`")
        finally:
            self.revert()
        for name, be in b.exports.items():
            ae = a.exports.get(name)
            if ae is None:
                word = "is missing expected" if self.kind() == "covariant" else "has unexpected"
                raise SubtypeError(f"module {word} {be} export `{name}`")
            if ae != be:
                raise SubtypeError(f"mismatched type for export `{name}`")

    def _value(self, a, b) -> None:
        a, b = resolve_value_type(a), resolve_value_type(b)
        if isinstance(a, Primitive) and isinstance(b, Primitive):
            if a != b:
                e, f = self._ef(a, b)
                raise SubtypeError(f"expected {e.name}, found {f.name}")
            return
        if isinstance(a, DefinedType) and isinstance(b, DefinedType):
            return self._defined(a, b)
        if (isinstance(a, Own) and isinstance(b, Own)) or (isinstance(a, Borrow) and isinstance(b, Borrow)):
            return self._resource(a.resource, b.resource)
        e, f = self._ef(a, b)
        raise SubtypeError(f"expected {value_desc(e)}, found {value_desc(f)}")

    def _defined(self, a: DefinedType, b: DefinedType) -> None:
        if a is b:
            return
        if type(a) is not type(b):
            e, f = self._ef(a, b)
            raise SubtypeError(f"expected {e.desc()}, found {f.desc()}")
        if isinstance(a, TupleType):
            if len(a.items) != len(b.items):
                e, f = self._ef(a, b)
                raise SubtypeError(f"expected a tuple of size {len(e.items)}, found a tuple of size {len(f.items)}")
            for i, (x, y) in enumerate(zip(a.items, b.items)):
                _context(f"mismatched type for tuple item {i}", self._value, x, y)
        elif isinstance(a, ListType):
            _context("mismatched type for list element", self._value, a.element, b.element)
        elif isinstance(a, FixedSizeListType):
            if a.size != b.size:
                raise SubtypeError("mismatched size for fixed size list element")
            _context("mismatched type for fixed size list element", self._value, a.element, b.element)
        elif isinstance(a, (FutureType, StreamType)):
            what = "future" if isinstance(a, FutureType) else "stream"
            _context(f"mismatched type for {what} payload", self._payload, a.element, b.element)
        elif isinstance(a, OptionType):
            _context("mismatched type for option", self._value, a.some, b.some)
        elif isinstance(a, ResultType):
            self._result("ok", a.ok, b.ok)
            self._result("err", a.err, b.err)
        elif isinstance(a, VariantType):
            self._variant(a, b)
        elif isinstance(a, RecordType):
            self._record(a, b)
        elif isinstance(a, (FlagsType, EnumType)):
            self._names(a, b)

    def _payload(self, a, b) -> None:
        if a is not None and b is not None:
            return self._value(a, b)
        if a is None and b is None:
            return
        if a is not None:
            raise SubtypeError("expected a type payload, found none")
        raise SubtypeError("expected no type payload, found one")

    def _result(self, desc: str, a, b) -> None:
        if a is None and b is None:
            return
        if a is not None and b is not None:
            return _context(f"mismatched type for result `{desc}`", self._value, a, b)
        e, f = self._ef(a, b)
        if e is not None:
            raise SubtypeError(f"expected an `{desc}` for result type")
        raise SubtypeError(f"expected no `{desc}` for result type")

    def _names(self, a, b) -> None:
        is_enum = isinstance(a, EnumType)
        if len(a.names) != len(b.names):
            e, f = self._ef(a, b)
            if is_enum:
                raise SubtypeError(f"expected an enum type case count of {len(e.names)}, found a count of {len(f.names)}")
            raise SubtypeError(f"expected a flags type flag count of {len(e.names)}, found a count of {len(f.names)}")
        for i, (x, y) in enumerate(zip(a.names, b.names)):
            if x != y:
                e, f = self._ef(x, y)
                if is_enum:
                    raise SubtypeError(f"expected enum case {i} to be named `{e}`, found an enum case named `{f}`")
                raise SubtypeError(f"expected flag {i} to be named `{e}`, found a flag named `{f}`")

    def _record(self, a: RecordType, b: RecordType) -> None:
        if len(a.fields) != len(b.fields):
            e, f = self._ef(a, b)
            raise SubtypeError(f"expected a record field count of {len(e.fields)}, found a count of {len(f.fields)}")
        for i, ((an, at), (bn, bt)) in enumerate(zip(a.fields.items(), b.fields.items())):
            if an != bn:
                e, f = self._ef(an, bn)
                raise SubtypeError(f"expected record field {i} to be named `{e}`, found a field named `{f}`")
            _context(f"mismatched type for record field `{bn}`", self._value, at, bt)

    def _variant(self, a: VariantType, b: VariantType) -> None:
        if len(a.cases) != len(b.cases):
            e, f = self._ef(a, b)
            raise SubtypeError(f"expected a variant case count of {len(e.cases)}, found a count of {len(f.cases)}")
        for i, ((an, at), (bn, bt)) in enumerate(zip(a.cases.items(), b.cases.items())):
            if an != bn:
                e, f = self._ef(an, bn)
                raise SubtypeError(f"expected variant case {i} to be named `{e}`, found a case named `{f}`")
            if at is None and bt is None:
                continue
            if at is not None and bt is not None:
                _context(f"mismatched type for variant case `{bn}`", self._value, at, bt)
                continue
            e, f = self._ef(at, bt)
            if e is None:
                raise SubtypeError(f"expected variant case `{bn}` to be untyped, found a typed case")
            raise SubtypeError(f"expected variant case `{bn}` to be typed, found an untyped case")
