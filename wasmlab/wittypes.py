"""The WIT type model: packages, interfaces, worlds, functions and types.

Built from the JSON that ``wasm-tools component wit --json`` prints (the wit-parser
``Resolve``), so every type is exactly what the real toolchain resolved: names, owners,
aliases, resources.  Nothing here parses WIT text itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

__all__ = [
    "Type", "Prim", "ListT", "FixedListT", "TupleT", "OptionT", "ResultT", "RecordT", "VariantT",
    "EnumT", "FlagsT", "ResourceT", "OwnT", "BorrowT", "StreamT", "FutureT", "AliasT",
    "Function", "Interface", "World", "WorldItem", "Package", "Resolve", "unalias", "has_handle", "PRIMITIVES", "INT_RANGES",
]

PRIMITIVES = frozenset({
    "bool", "s8", "s16", "s32", "s64", "u8", "u16", "u32", "u64", "f32", "f64",
    "char", "string", "error-context",
})

# each integer type's values: low <= value < high
INT_RANGES = {
    "u8": (0, 1 << 8), "u16": (0, 1 << 16), "u32": (0, 1 << 32), "u64": (0, 1 << 64),
    "s8": (-(1 << 7), 1 << 7), "s16": (-(1 << 15), 1 << 15), "s32": (-(1 << 31), 1 << 31),
    "s64": (-(1 << 63), 1 << 63),
}


class Type:
    """Base of every WIT type.  ``wit()`` spells it as WIT source would."""

    name: str | None = None

    def wit(self) -> str:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.wit()}>"


@dataclass(frozen=True, repr=False)
class Prim(Type):
    """A primitive: bool, integers, floats, char, string, error-context."""

    kind: str

    def wit(self) -> str:
        return self.kind


@dataclass(eq=False, repr=False)
class ListT(Type):
    element: Type

    def wit(self) -> str:
        return f"list<{self.element.wit()}>"


@dataclass(eq=False, repr=False)
class FixedListT(Type):
    element: Type
    size: int

    def wit(self) -> str:
        return f"list<{self.element.wit()}, {self.size}>"


@dataclass(eq=False, repr=False)
class TupleT(Type):
    elements: list[Type]

    def wit(self) -> str:
        return f"tuple<{', '.join(t.wit() for t in self.elements)}>"


@dataclass(eq=False, repr=False)
class OptionT(Type):
    inner: Type

    def wit(self) -> str:
        return f"option<{self.inner.wit()}>"


@dataclass(eq=False, repr=False)
class ResultT(Type):
    ok: Type | None
    err: Type | None

    def wit(self) -> str:
        if self.ok is None and self.err is None:
            return "result"
        if self.err is None:
            return f"result<{self.ok.wit()}>"
        return f"result<{self.ok.wit() if self.ok else '_'}, {self.err.wit()}>"


@dataclass(eq=False, repr=False)
class _Named(Type):
    name: str
    owner: str | None = None  # "ns:pkg/iface@ver" or a world name, for messages

    def wit(self) -> str:
        return self.name


@dataclass(eq=False, repr=False)
class RecordT(_Named):
    fields: list[tuple[str, Type]] = field(default_factory=list)


@dataclass(eq=False, repr=False)
class VariantT(_Named):
    cases: list[tuple[str, Type | None]] = field(default_factory=list)


@dataclass(eq=False, repr=False)
class EnumT(_Named):
    cases: list[str] = field(default_factory=list)


@dataclass(eq=False, repr=False)
class FlagsT(_Named):
    flags: list[str] = field(default_factory=list)


@dataclass(eq=False, repr=False)
class ResourceT(_Named):
    """A resource type; its constructor, methods and statics are filled in from the functions."""

    constructor: "Function | None" = None
    methods: dict[str, "Function"] = field(default_factory=dict)
    statics: dict[str, "Function"] = field(default_factory=dict)


@dataclass(eq=False, repr=False)
class AliasT(_Named):
    """``type name = target``; :func:`unalias` sees through it."""

    target: Type | None = None


@dataclass(eq=False, repr=False)
class OwnT(Type):
    resource: ResourceT

    def wit(self) -> str:
        return self.resource.name


@dataclass(eq=False, repr=False)
class BorrowT(Type):
    resource: ResourceT

    def wit(self) -> str:
        return f"borrow<{self.resource.name}>"


@dataclass(eq=False, repr=False)
class StreamT(Type):
    element: Type | None

    def wit(self) -> str:
        return f"stream<{self.element.wit()}>" if self.element else "stream"


@dataclass(eq=False, repr=False)
class FutureT(Type):
    element: Type | None

    def wit(self) -> str:
        return f"future<{self.element.wit()}>" if self.element else "future"


def unalias(ty: Type) -> Type:
    while isinstance(ty, AliasT):
        ty = ty.target
    return ty


def has_handle(ty: Type | None) -> bool:
    """Whether a value of ``ty`` can hold a resource handle (``own``/``borrow``), at any depth."""
    ty = unalias(ty) if ty is not None else None
    if isinstance(ty, (OwnT, BorrowT)):
        return True
    if isinstance(ty, (ListT, FixedListT)):
        return has_handle(ty.element)
    if isinstance(ty, OptionT):
        return has_handle(ty.inner)
    if isinstance(ty, ResultT):
        return has_handle(ty.ok) or has_handle(ty.err)
    if isinstance(ty, TupleT):
        return any(has_handle(t) for t in ty.elements)
    if isinstance(ty, RecordT):
        return any(has_handle(t) for _, t in ty.fields)
    if isinstance(ty, VariantT):
        return any(has_handle(t) for _, t in ty.cases)
    return False


@dataclass(eq=False)
class Function:
    """A WIT function.  ``name`` is the WIT name (``[method]counter.incr`` for methods)."""

    name: str
    params: list[tuple[str, Type]]
    result: Type | None
    kind: str = "freestanding"  # freestanding | method | static | constructor
    is_async: bool = False
    resource: ResourceT | None = None
    docs: str | None = None

    @property
    def short_name(self) -> str:
        """The name inside its resource (``incr``), or the function name."""
        if self.kind == "constructor":
            return "constructor"
        return self.name.split(".", 1)[1] if "." in self.name and self.name.startswith("[") else self.name

    def signature(self) -> str:
        params = ", ".join(f"{n}: {t.wit()}" for n, t in self.params)
        result = f" -> {self.result.wit()}" if self.result is not None else ""
        prefix = "async func" if self.is_async else "func"
        return f"{prefix}({params}){result}"

    def __repr__(self) -> str:
        return f"<Function {self.name}: {self.signature()}>"


@dataclass(eq=False)
class Interface:
    name: str | None
    package: "Package | None"
    types: dict[str, Type] = field(default_factory=dict)
    functions: dict[str, Function] = field(default_factory=dict)
    docs: str | None = None

    @property
    def qualified_name(self) -> str | None:
        """``ns:pkg/name@version``, the name an instance of it is imported or exported under."""
        if self.name is None or self.package is None:
            return None
        base, _, version = self.package.name.partition("@")
        return f"{base}/{self.name}" + (f"@{version}" if version else "")

    def __repr__(self) -> str:
        return f"<Interface {self.qualified_name or self.name or '(inline)'}>"


@dataclass(eq=False)
class WorldItem:
    """One import or export of a world: an interface, a function or a type."""

    key: str  # the component-level name: "ns:pkg/iface@v", "hello", or an inline interface's name
    interface: Interface | None = None
    function: Function | None = None
    type: Type | None = None

    @property
    def kind(self) -> str:
        return "interface" if self.interface else "function" if self.function else "type"


@dataclass(eq=False)
class World:
    name: str
    package: "Package | None"
    imports: dict[str, WorldItem] = field(default_factory=dict)
    exports: dict[str, WorldItem] = field(default_factory=dict)
    docs: str | None = None

    @property
    def qualified_name(self) -> str:
        if self.package is None:
            return self.name
        base, _, version = self.package.name.partition("@")
        return f"{base}/{self.name}" + (f"@{version}" if version else "")

    def __repr__(self) -> str:
        return f"<World {self.qualified_name}>"


@dataclass(eq=False)
class Package:
    name: str  # "ns:pkg@1.0.0"
    interfaces: dict[str, Interface] = field(default_factory=dict)
    worlds: dict[str, World] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"<Package {self.name}>"


TypeRef = Union[str, int, None]


class Resolve:
    """Every package, interface, world and type from one ``wasm-tools component wit --json``."""

    def __init__(self, data: dict):
        self.data = data
        self.packages = [Package(p["name"]) for p in data.get("packages", [])]
        self.interfaces = [
            Interface(i.get("name"), self._package(i.get("package")), docs=_docs(i))
            for i in data.get("interfaces", [])
        ]
        self.types: list[Type] = [self._shell(t) for t in data.get("types", [])]
        for ty, raw in zip(self.types, data.get("types", [])):
            self._fill(ty, raw)
        for iface, raw in zip(self.interfaces, data.get("interfaces", [])):
            iface.types = {name: self.types[idx] for name, idx in raw.get("types", {}).items()}
            iface.functions = {name: self._function(f) for name, f in raw.get("functions", {}).items()}
            for fn in iface.functions.values():
                _attach_to_resource(fn)
        self.worlds = [self._world(w) for w in data.get("worlds", [])]
        for pkg, raw in zip(self.packages, data.get("packages", [])):
            pkg.interfaces = {n: self.interfaces[i] for n, i in raw.get("interfaces", {}).items()}
            pkg.worlds = {n: self.worlds[i] for n, i in raw.get("worlds", {}).items()}

    @classmethod
    def from_json(cls, data: dict) -> "Resolve":
        return cls(data)

    def _package(self, idx: int | None) -> Package | None:
        return self.packages[idx] if idx is not None else None

    def _owner_name(self, owner) -> str | None:
        if not owner:
            return None
        if "interface" in owner:
            iface = self.interfaces[owner["interface"]]
            return iface.qualified_name or iface.name
        if "world" in owner:
            return self.data["worlds"][owner["world"]]["name"]
        return None

    def _shell(self, raw: dict) -> Type:
        kind = raw["kind"]
        name = raw.get("name")
        owner = self._owner_name(raw.get("owner"))
        if kind == "resource":
            return ResourceT(name, owner)
        key = next(iter(kind))
        if key == "record":
            return RecordT(name, owner)
        if key == "variant":
            return VariantT(name, owner)
        if key == "enum":
            return EnumT(name, owner, [c["name"] for c in kind["enum"]["cases"]])
        if key == "flags":
            return FlagsT(name, owner, [f["name"] for f in kind["flags"]["flags"]])
        if key == "type":
            return AliasT(name, owner) if name else _Deferred()
        # anonymous structural types, filled in later; a name here would mean an alias
        placeholder = _Deferred()
        if name:
            return AliasT(name, owner)
        return placeholder

    def _fill(self, ty: Type, raw: dict) -> None:
        kind = raw["kind"]
        if kind == "resource":
            return
        key, body = next(iter(kind.items()))
        if isinstance(ty, RecordT):
            ty.fields = [(f["name"], self.ref(f["type"])) for f in body["fields"]]
        elif isinstance(ty, VariantT):
            ty.cases = [(c["name"], self.ref(c.get("type"))) for c in body["cases"]]
        elif isinstance(ty, (EnumT, FlagsT)):
            pass
        elif isinstance(ty, AliasT):
            ty.target = self.ref(body) if key == "type" else self._structural(key, body)
        elif isinstance(ty, _Deferred):
            ty.resolved = self._structural(key, body) if key != "type" else None
            ty.alias_ref = body if key == "type" else None

    def _structural(self, key: str, body) -> Type:
        if key == "list":
            return ListT(self.ref(body))
        if key in ("fixed-length-list", "fixed-size-list"):
            return FixedListT(self.ref(body[0]), body[1])
        if key == "tuple":
            return TupleT([self.ref(t) for t in body["types"]])
        if key == "option":
            return OptionT(self.ref(body))
        if key == "result":
            return ResultT(self.ref(body.get("ok")), self.ref(body.get("err")))
        if key == "handle":
            if "own" in body:
                return OwnT(self.ref(body["own"]))
            return BorrowT(self.ref(body["borrow"]))
        if key == "stream":
            return StreamT(self.ref(body))
        if key == "future":
            return FutureT(self.ref(body))
        raise ValueError(f"unknown WIT type kind {key!r}")

    def ref(self, ref: TypeRef) -> Type | None:
        """The type a JSON type reference names: a primitive's name or an index."""
        if ref is None:
            return None
        if isinstance(ref, str):
            return Prim(ref)
        ty = self.types[ref]
        if isinstance(ty, _Deferred):
            if ty.resolved is None and ty.alias_ref is not None:
                ty.resolved = self.ref(ty.alias_ref)
            return ty.resolved
        return ty

    def _function(self, raw: dict) -> Function:
        kind = raw.get("kind", "freestanding")
        is_async = False
        resource = None
        if isinstance(kind, dict):
            (kname, rid), = kind.items()
            if kname.startswith("async-"):
                is_async, kname = True, kname[len("async-"):]
            resource = self.types[rid]
            kind = kname
        elif kind.startswith("async-"):
            is_async, kind = True, kind[len("async-"):]
        params = [(p["name"], self.ref(p["type"])) for p in raw.get("params", [])]
        return Function(raw["name"], params, self.ref(raw.get("result")), kind, is_async, resource, _docs(raw))

    def _world(self, raw: dict) -> World:
        world = World(raw["name"], self._package(raw.get("package")), docs=_docs(raw))
        for side in ("imports", "exports"):
            items = getattr(world, side)
            for key, item in raw.get(side, {}).items():
                wi = self._world_item(key, item)
                items[wi.key] = wi
        return world

    def _world_item(self, key: str, item: dict) -> WorldItem:
        if "interface" in item:
            iface = self.interfaces[item["interface"]["id"]]
            name = iface.qualified_name or key
            if iface.name is None:
                iface.name = key
                name = key
            return WorldItem(name, interface=iface)
        if "function" in item:
            fn = self._function(item["function"])
            _attach_to_resource(fn)
            return WorldItem(key, function=fn)
        return WorldItem(key, type=self.ref(item["type"]))

    def package(self, name: str) -> Package | None:
        for pkg in self.packages:
            if pkg.name == name or pkg.name.partition("@")[0] == name:
                return pkg
        return None

    def interface(self, qualified: str) -> Interface | None:
        for iface in self.interfaces:
            if iface.qualified_name == qualified:
                return iface
        return None


class _Deferred(Type):
    """An anonymous type whose structure refers to other types; replaced on lookup."""

    def __init__(self):
        self.resolved: Type | None = None
        self.alias_ref = None


def _attach_to_resource(fn: Function) -> None:
    res = fn.resource
    if not isinstance(res, ResourceT):
        return
    if fn.kind == "constructor":
        res.constructor = fn
    elif fn.kind == "method":
        res.methods[fn.short_name] = fn
    elif fn.kind == "static":
        res.statics[fn.short_name] = fn


def _docs(raw: dict) -> str | None:
    docs = raw.get("docs")
    if isinstance(docs, dict):
        return docs.get("contents")
    return None
