"""Packages: components (or WIT packages) that a composition instantiates or takes types from.

``Package.from_bytes(name, version, data, types)`` reads a binary component (or a WIT package
encoded as a component) into the WAC type model; ``Package.from_file(name, version, path,
types)`` also takes ``.wat`` text and a WIT folder (both through the real ``wasm-tools``).
A package has ``.name``, ``.version`` (str or None), ``.bytes``, ``.ty`` (the ``World`` of the
component: its imports and exports), ``.instance_type`` (the ``Interface`` an instantiation
has: the component's exports) and ``.definitions`` (interfaces and worlds a WIT package
defines, name -> ``ItemKind.type(Interface | World)``).

Loading follows the reference's type conversion: an ``(eq T)`` export makes a type of its own,
types another interface exports are recorded as ``uses`` of that interface, resources under a
second name become aliases.  ``PackageError`` is raised with the reference's wording
("package `x` is not a binary-encoded WebAssembly component").
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from wasmlab.wac._binary import BinaryFormatError, TId, is_component, read_component
from wasmlab.wac._names import parse_extern_name
from wasmlab.wac._types import (
    AliasType,
    Borrow,
    EnumType,
    FixedSizeListType,
    FlagsType,
    FuncType,
    FutureType,
    Interface,
    ItemKind,
    ListType,
    ModuleType,
    OptionType,
    Own,
    Primitive,
    RecordType,
    Resource,
    ResourceAlias,
    ResultType,
    StreamType,
    TupleType,
    Types,
    UsedType,
    VariantType,
    World,
)

__all__ = ["Package", "PackageError", "wat_to_bytes", "wit_to_bytes"]


class PackageError(Exception):
    """A package could not be read; ``str(err)`` is the reference's message."""


def tool_message(stderr: str, default: str) -> str:
    """What wasm-tools said went wrong: its error lines, without its log lines (``[... WARN ]``)
    and without the ``error:`` prefix."""
    lines = [line for line in stderr.strip().splitlines() if line.strip() and not _LOG_LINE.match(line)]
    return "\n".join(lines).removeprefix("error: ") or default


_LOG_LINE = re.compile(r"\[\S+\s+(TRACE|DEBUG|INFO|WARN)\s*\]")


def wat_to_bytes(text: str | bytes) -> bytes:
    from wasmlab.toolchain.tools import wasm_tools
    raw = text.encode() if isinstance(text, str) else text
    result = wasm_tools("parse", input=raw, check=False)
    if not result.ok:
        raise PackageError(tool_message(result.stderr, "invalid WAT").splitlines()[0])
    return result.stdout


def wit_to_bytes(path: str | os.PathLike) -> bytes:
    from wasmlab.toolchain.tools import wasm_tools
    result = wasm_tools("component", "wit", os.fspath(path), "--wasm", check=False)
    if not result.ok:
        raise PackageError(result.stderr.strip() or "invalid WIT")
    return result.stdout


class Package:
    def __init__(self, name, version, data, ty, instance_type, definitions):
        self.name = name
        self.version = version
        self.bytes = data
        self.ty = ty
        self.instance_type = instance_type
        self.definitions = definitions

    def __repr__(self) -> str:
        return f"Package({self.key!r})"

    @property
    def key(self) -> str:
        return self.name if self.version is None else f"{self.name}@{self.version}"

    @classmethod
    def from_file(cls, name: str, version, path, types: Types) -> "Package":
        path = Path(path)
        if path.is_dir() or path.suffix == ".wit":
            return cls.from_bytes(name, version, wit_to_bytes(path), types)
        try:
            data = path.read_bytes()
        except OSError as e:
            raise PackageError(f"failed to read `{path}`: {e.strerror}") from None
        if path.suffix == ".wat" or (not data.startswith(b"\0asm") and path.suffix != ".wasm"):
            data = wat_to_bytes(data)
        return cls.from_bytes(name, version, data, types)

    @classmethod
    def from_bytes(cls, name: str, version, data: bytes, types: Types) -> "Package":
        data = bytes(data)
        if not is_component(data):
            raise PackageError(f"package `{name}` is not a binary-encoded WebAssembly component")
        try:
            info = read_component(data)
        except BinaryFormatError:
            raise_if_invalid(data)
            info = _read_through_wit(data)
        converter = _Converter(types)
        imports = {n: converter.entity(n, e) for n, e in info.imports.items()}
        exports = {n: converter.entity(n, e) for n, e in info.exports.items()}
        ty = types.add(World(None, {}, imports, dict(exports)))
        instance_type = types.add(Interface(None, {}, dict(exports)))
        return cls(name, version, data, ty, instance_type, _find_definitions(ty))


def raise_if_invalid(data: bytes) -> None:
    """Refuse bytes that wasm-tools does not validate (PackageError with its first error line)."""
    from wasmlab.toolchain.tools import wasm_tools
    result = wasm_tools("validate", "--features", "all", input=data, check=False)
    if not result.ok:
        raise PackageError(tool_message(result.stderr, "invalid component").splitlines()[0])


def _read_through_wit(data: bytes):
    """A component the binary reader does not follow: read its world from the WIT that
    ``wasm-tools component wit`` decodes from it (same types, as WIT would order them)."""
    from wasmlab.toolchain.tools import wasm_tools
    with tempfile.NamedTemporaryFile(suffix=".wasm", delete=False) as f:
        f.write(data)
        tmp = f.name
    try:
        result = wasm_tools("component", "wit", tmp, "--wasm", check=False)
    finally:
        os.unlink(tmp)
    if not result.ok:
        raise PackageError(result.stderr.strip() or "cannot read the component's types")
    package = read_component(result.stdout)
    for entity in package.exports.values():
        if entity[0] == "type" and entity[2].kind == "component":
            worlds = [e for e in entity[2].data.exports.values() if e[0] == "component"]
            if worlds:
                comp = worlds[0][1].data

                class Info:
                    imports = comp.imports
                    exports = comp.exports
                return Info
    raise PackageError("cannot read the component's types")


def _find_definitions(world: World) -> dict:
    defs = {}
    for name, kind in world.exports.items():
        if kind.kind != "type" or not isinstance(kind.ty, World):
            continue
        inner = kind.ty
        if len(inner.exports) != 1:
            continue
        export_name, item = next(iter(inner.exports.items()))
        try:
            if parse_extern_name(export_name) != "interface":
                continue
        except ValueError:
            continue
        if item.kind == "instance":
            defs[name] = ItemKind.type(item.ty)
        elif item.kind == "component":
            defs[name] = ItemKind.type(item.ty)
    return defs


class _Converter:
    """wasm-level type ids -> the WAC model, as the reference's TypeConverter does it."""

    def __init__(self, types: Types):
        self.types = types
        self.cache: dict[int, object] = {}
        self.keep: list = []
        self.resource_map: dict = {}
        self.owners: dict[int, tuple] = {}

    def _cached(self, tid: TId):
        return self.cache.get(id(tid))

    def _store(self, tid: TId, value):
        self.cache[id(tid)] = value
        self.keep.append(tid)
        return value

    def find_owner(self, tid: TId | None):
        while tid is not None:
            found = self.owners.get(id(tid))
            if found is not None:
                return found
            tid = tid.alias_of
        return None

    def entity(self, name: str, entity) -> ItemKind:
        kind = entity[0]
        if kind == "module":
            return ItemKind.module(entity[1] or ModuleType())
        if kind == "value":
            return ItemKind.value(self.valtype(entity[1]))
        if kind == "type":
            return ItemKind.type(self.ty(name, entity[2]))
        if kind == "func":
            return ItemKind.func(self.func(entity[1]))
        if kind == "instance":
            return ItemKind.instance(self.instance(name, entity[1]))
        return ItemKind.component(self.component(name, entity[1]))

    def ty(self, name: str, tid: TId):
        if tid.kind == "defined":
            return self.defined(tid)
        if tid.kind == "func":
            return self.func(tid)
        if tid.kind == "component":
            return self.component(None, tid)
        if tid.kind == "instance":
            return self.instance(None, tid)
        return self.resource(name, tid)

    def valtype(self, vt):
        if isinstance(vt, str):
            return Primitive(vt)
        return self.defined(vt)

    def func(self, tid: TId) -> FuncType:
        found = self._cached(tid)
        if found is not None:
            return found
        data = tid.data
        params = {n: self.valtype(t) for n, t in data.params}
        result = None if data.result is None else self.valtype(data.result)
        return self._store(tid, self.types.add(FuncType(params, result, data.is_async)))

    def instance(self, name: str | None, tid: TId) -> Interface:
        found = self._cached(tid)
        if found is not None:
            return found
        iface = self.types.add(Interface(name if name and ":" in name else None, {}, {}))
        self._store(tid, iface)
        for export_name, entity in tid.data.exports.items():
            item = self.entity(export_name, entity)
            if entity[0] == "type":
                self.use_or_own(iface, export_name, entity[1], entity[2])
                if isinstance(item.ty, Resource) and item.ty.alias is not None \
                        and item.ty.alias.owner is iface:
                    item.ty.alias.owner = None
            iface.exports[export_name] = item
        return iface

    def component(self, name: str | None, tid: TId) -> World:
        found = self._cached(tid)
        if found is not None:
            return found
        world = self.types.add(World(name if name and ":" in name else None, {}, {}, {}))
        self._store(tid, world)
        for import_name, entity in tid.data.imports.items():
            item = self.entity(import_name, entity)
            if entity[0] == "type":
                self.use_or_own(world, import_name, entity[1], entity[2])
            world.imports[import_name] = item
        for export_name, entity in tid.data.exports.items():
            world.exports[export_name] = self.entity(export_name, entity)
        return world

    def use_or_own(self, owner, name: str, referenced: TId, created: TId) -> None:
        found = self.find_owner(referenced)
        if found is not None:
            other, orig = found
            if isinstance(other, Interface) and other is not owner:
                owner.uses[name] = UsedType(other, None if name == orig else orig)
            return
        self.owners[id(created)] = (owner, name)
        self.keep.append(created)

    def defined(self, tid: TId):
        found = self._cached(tid)
        if found is not None:
            return found
        data = tid.data
        kind = data[0]
        if kind == "primitive":
            ty = AliasType(Primitive(data[1]))
        elif kind == "record":
            ty = RecordType({n: self.valtype(t) for n, t in data[1]})
        elif kind == "variant":
            ty = VariantType({n: (None if t is None else self.valtype(t)) for n, t in data[1]})
        elif kind == "list":
            ty = ListType(self.valtype(data[1]))
        elif kind == "fixed-list":
            ty = FixedSizeListType(self.valtype(data[1]), data[2])
        elif kind == "tuple":
            ty = TupleType([self.valtype(t) for t in data[1]])
        elif kind == "flags":
            ty = FlagsType(data[1])
        elif kind == "enum":
            ty = EnumType(data[1])
        elif kind == "option":
            ty = OptionType(self.valtype(data[1]))
        elif kind == "result":
            ty = ResultType(None if data[1] is None else self.valtype(data[1]),
                            None if data[2] is None else self.valtype(data[2]))
        elif kind in ("own", "borrow"):
            res = self._resource_of(data[1])
            value = Own(res) if kind == "own" else Borrow(res)
            return self._store(tid, value)
        elif kind == "stream":
            ty = StreamType(None if data[1] is None else self.valtype(data[1]))
        elif kind == "future":
            ty = FutureType(None if data[1] is None else self.valtype(data[1]))
        else:
            raise PackageError(f"unsupported type {kind}")
        return self._store(tid, self.types.add(ty))

    def _resource_of(self, tid: TId) -> Resource:
        found = self._cached(tid)
        if isinstance(found, Resource):
            return found
        existing = self.resource_map.get(tid.data)
        if existing is not None:
            return existing
        return self.resource("resource", tid)

    def resource(self, name: str, tid: TId) -> Resource:
        found = self._cached(tid)
        if found is not None:
            return found
        source = self.resource_map.get(tid.data)
        if source is not None:
            owner = self.find_owner(tid)
            res = Resource(name, ResourceAlias(owner[0] if owner and isinstance(owner[0], Interface)
                                               else None, source))
            self.types.add(res)
            return self._store(tid, res)
        res = self.types.add(Resource(name))
        self.resource_map[tid.data] = res
        return self._store(tid, res)
