"""Read the types of a component binary: what it imports and exports, as the validator sees them.

A small, type-level reader of the component binary format.  It follows the index spaces
(types, functions, instances, components) through type, import, export, alias, instance,
canonical and nested-component sections, and skips core modules.  Type identity is kept the way
wasmparser keeps it, because WAC's package loading depends on it: ``(eq T)`` makes a new id that
aliases ``T``; ``(sub resource)`` makes a new resource; importing an instance type or
instantiating a component gives its resources fresh identities (substituted by the arguments).

``read_component(data) -> ComponentInfo`` with ``.imports`` and ``.exports`` (dicts of name ->
entity, in binary order).  Entities are tuples: ``("type", referenced, created)``,
``("func", tid)``, ``("instance", tid)``, ``("component", tid)``, ``("module", ModuleType)``,
``("value", valtype)``.  ``TId`` objects carry ``kind`` ("defined", "func", "instance",
"component", "resource"), ``data`` and ``alias_of``.  Raises ``BinaryFormatError`` on anything it
does not understand (the caller then falls back to another reader).
"""

from __future__ import annotations

__all__ = ["read_component", "ComponentInfo", "TId", "BinaryFormatError", "is_component"]

PRIMITIVE_CODES = {
    0x7F: "bool", 0x7E: "s8", 0x7D: "u8", 0x7C: "s16", 0x7B: "u16", 0x7A: "s32", 0x79: "u32",
    0x78: "s64", 0x77: "u64", 0x76: "f32", 0x75: "f64", 0x74: "char", 0x73: "string",
    0x64: "error-context",
}


class BinaryFormatError(Exception):
    pass


class TId:
    """A type identity.  ``data`` is shared between an id and the ids aliasing it."""

    __slots__ = ("kind", "data", "alias_of", "__weakref__")

    def __init__(self, kind: str, data, alias_of: "TId | None" = None):
        self.kind = kind
        self.data = data
        self.alias_of = alias_of

    def with_unique(self) -> "TId":
        return TId(self.kind, self.data, self)

    def __repr__(self) -> str:
        return f"TId({self.kind}, {id(self):x})"


class ResourceToken:
    __slots__ = ()


class WFunc:
    __slots__ = ("params", "result", "is_async")

    def __init__(self, params, result, is_async=False):
        self.params = params
        self.result = result
        self.is_async = is_async


class WInstance:
    __slots__ = ("exports", "defined_resources")

    def __init__(self, exports=None, defined_resources=None):
        self.exports = exports if exports is not None else {}
        self.defined_resources = defined_resources if defined_resources is not None else []


class WComponent:
    __slots__ = ("imports", "exports", "imported_resources", "defined_resources")

    def __init__(self):
        self.imports = {}
        self.exports = {}
        self.imported_resources = []
        self.defined_resources = []


class ComponentInfo:
    def __init__(self, imports: dict, exports: dict):
        self.imports = imports
        self.exports = exports


def is_component(data: bytes) -> bool:
    return len(data) >= 8 and data[:4] == b"\0asm" and data[6:8] == b"\x01\x00"


class _Reader:
    def __init__(self, data: bytes, pos: int = 0, end: int | None = None):
        self.data = data
        self.pos = pos
        self.end = len(data) if end is None else end

    def eof(self) -> bool:
        return self.pos >= self.end

    def byte(self) -> int:
        if self.pos >= self.end:
            raise BinaryFormatError("unexpected end of section")
        b = self.data[self.pos]
        self.pos += 1
        return b

    def peek(self) -> int:
        if self.pos >= self.end:
            raise BinaryFormatError("unexpected end of section")
        return self.data[self.pos]

    def u32(self) -> int:
        result = shift = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return result
            shift += 7

    def s33(self) -> int:
        result = shift = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                if b & 0x40:
                    result -= 1 << shift
                return result

    def name(self) -> str:
        n = self.u32()
        raw = self.data[self.pos:self.pos + n]
        self.pos += n
        return raw.decode("utf-8")

    def extern_name(self) -> str:
        tag = self.byte()
        if tag in (0x00, 0x01):
            return self.name()
        raise BinaryFormatError(f"unknown extern name encoding 0x{tag:02x}")

    def vec(self, read):
        return [read() for _ in range(self.u32())]


class _Scope:
    """Index spaces of one component or type declaration."""

    def __init__(self, parent: "_Scope | None" = None):
        self.parent = parent
        self.types: list = []
        self.funcs: list = []
        self.instances: list = []
        self.components: list = []
        self.modules: list = []
        self.core_types: list = []
        self.values: list = []

    def outer(self, count: int) -> "_Scope":
        scope = self
        for _ in range(count):
            scope = scope.parent
            if scope is None:
                raise BinaryFormatError("outer alias count out of range")
        return scope

    def space(self, sort: str) -> list:
        return {"type": self.types, "func": self.funcs, "instance": self.instances,
                "component": self.components, "module": self.modules, "value": self.values}[sort]


_SORTS = {0x01: "func", 0x02: "value", 0x03: "type", 0x04: "component", 0x05: "instance"}


def _read_sort(r: _Reader) -> str:
    b = r.byte()
    if b == 0x00:
        core = r.byte()
        return "module" if core == 0x11 else f"core:{core}"
    if b not in _SORTS:
        raise BinaryFormatError(f"unknown sort 0x{b:02x}")
    return _SORTS[b]


# --- remapping of resources (imports and instantiations give resources fresh identities) -------

def _remap_vt(vt, mapping, memo):
    return vt if isinstance(vt, str) or vt is None else remap(vt, mapping, memo)


def remap(tid: TId, mapping: dict, memo: dict) -> TId:
    """``tid`` with the resources in ``mapping`` (token -> token) replaced; same id if unchanged."""
    key = id(tid)
    if key in memo:
        return memo[key]
    memo[key] = tid  # guards against cycles; replaced below when changed
    alias = remap(tid.alias_of, mapping, memo) if tid.alias_of is not None else None
    data = tid.data
    new = data
    if tid.kind == "resource":
        new = mapping.get(data, data)
    elif tid.kind == "defined":
        new = _remap_defined(data, mapping, memo)
    elif tid.kind == "func":
        params = [(n, _remap_vt(t, mapping, memo)) for n, t in data.params]
        result = _remap_vt(data.result, mapping, memo)
        if any(a[1] is not b[1] for a, b in zip(params, data.params)) or result is not data.result:
            new = WFunc(params, result, data.is_async)
    elif tid.kind == "instance":
        exports = {n: remap_entity(e, mapping, memo) for n, e in data.exports.items()}
        if any(exports[n] is not data.exports[n] for n in exports):
            new = WInstance(exports, [mapping.get(t, t) for t in data.defined_resources])
    elif tid.kind == "component":
        imports = {n: remap_entity(e, mapping, memo) for n, e in data.imports.items()}
        exports = {n: remap_entity(e, mapping, memo) for n, e in data.exports.items()}
        if (any(imports[n] is not data.imports[n] for n in imports)
                or any(exports[n] is not data.exports[n] for n in exports)):
            new = WComponent()
            new.imports, new.exports = imports, exports
            new.imported_resources = [mapping.get(t, t) for t in data.imported_resources]
            new.defined_resources = [mapping.get(t, t) for t in data.defined_resources]
    if new is data and alias is tid.alias_of:
        return tid
    result = TId(tid.kind, new, alias)
    memo[key] = result
    return result


def _remap_defined(data, mapping, memo):
    kind = data[0]
    if kind in ("primitive", "flags", "enum"):
        return data
    if kind in ("own", "borrow"):
        res = remap(data[1], mapping, memo)
        return data if res is data[1] else (kind, res)
    if kind == "record":
        fields = [(n, _remap_vt(t, mapping, memo)) for n, t in data[1]]
        return data if all(a[1] is b[1] for a, b in zip(fields, data[1])) else (kind, fields)
    if kind == "variant":
        cases = [(n, _remap_vt(t, mapping, memo)) for n, t in data[1]]
        return data if all(a[1] is b[1] for a, b in zip(cases, data[1])) else (kind, cases)
    if kind == "tuple":
        items = [_remap_vt(t, mapping, memo) for t in data[1]]
        return data if all(a is b for a, b in zip(items, data[1])) else (kind, items)
    if kind in ("list", "option", "stream", "future"):
        t = _remap_vt(data[1], mapping, memo)
        return data if t is data[1] else (kind, t)
    if kind == "fixed-list":
        t = _remap_vt(data[1], mapping, memo)
        return data if t is data[1] else (kind, t, data[2])
    if kind == "result":
        ok = _remap_vt(data[1], mapping, memo)
        err = _remap_vt(data[2], mapping, memo)
        return data if ok is data[1] and err is data[2] else (kind, ok, err)
    return data


def remap_entity(entity, mapping, memo):
    kind = entity[0]
    if kind == "type":
        ref = remap(entity[1], mapping, memo)
        created = remap(entity[2], mapping, memo)
        if ref is entity[1] and created is entity[2]:
            return entity
        return ("type", ref, created)
    if kind in ("func", "instance", "component"):
        new = remap(entity[1], mapping, memo)
        return entity if new is entity[1] else (kind, new)
    if kind == "value":
        new = _remap_vt(entity[1], mapping, memo)
        return entity if new is entity[1] else (kind, new)
    return entity


def _fresh(tokens) -> dict:
    return {t: ResourceToken() for t in tokens}


# --- the reader ---------------------------------------------------------------------------------

class _ComponentReader:
    def __init__(self, data: bytes):
        self.data = data

    # values and types ------------------------------------------------------------------------
    def valtype(self, r: _Reader, scope: _Scope):
        b = r.peek()
        if b in PRIMITIVE_CODES:
            r.byte()
            return PRIMITIVE_CODES[b]
        index = r.s33()
        return self._type_at(scope, index)

    def _type_at(self, scope: _Scope, index: int) -> TId:
        if not 0 <= index < len(scope.types):
            raise BinaryFormatError(f"unknown type {index}: type index out of bounds")
        return scope.types[index]

    def opt_valtype(self, r: _Reader, scope: _Scope):
        flag = r.byte()
        if flag == 0x00:
            return None
        if flag == 0x01:
            return self.valtype(r, scope)
        raise BinaryFormatError("invalid optional value type")

    def deftype(self, r: _Reader, scope: _Scope, resources: list) -> TId:
        b = r.byte()
        if b in PRIMITIVE_CODES:
            return TId("defined", ("primitive", PRIMITIVE_CODES[b]))
        if b == 0x72:
            return TId("defined", ("record", r.vec(lambda: (r.name(), self.valtype(r, scope)))))
        if b == 0x71:
            def case():
                name = r.name()
                ty = self.opt_valtype(r, scope)
                if r.byte() != 0x00:
                    raise BinaryFormatError("variant case refinement")
                return name, ty
            return TId("defined", ("variant", r.vec(case)))
        if b == 0x70:
            return TId("defined", ("list", self.valtype(r, scope)))
        if b == 0x67:
            ty = self.valtype(r, scope)
            return TId("defined", ("fixed-list", ty, r.u32()))
        if b == 0x6F:
            return TId("defined", ("tuple", r.vec(lambda: self.valtype(r, scope))))
        if b == 0x6E:
            return TId("defined", ("flags", r.vec(r.name)))
        if b == 0x6D:
            return TId("defined", ("enum", r.vec(r.name)))
        if b == 0x6B:
            return TId("defined", ("option", self.valtype(r, scope)))
        if b == 0x6A:
            ok = self.opt_valtype(r, scope)
            err = self.opt_valtype(r, scope)
            return TId("defined", ("result", ok, err))
        if b in (0x69, 0x68):
            res = self._type_at(scope, r.u32())
            if res.kind != "resource":
                raise BinaryFormatError("own/borrow of a non-resource")
            return TId("defined", ("own" if b == 0x69 else "borrow", res))
        if b == 0x66:
            return TId("defined", ("stream", self.opt_valtype(r, scope)))
        if b == 0x65:
            return TId("defined", ("future", self.opt_valtype(r, scope)))
        if b in (0x40, 0x43):
            params = r.vec(lambda: (r.name(), self.valtype(r, scope)))
            tag = r.byte()
            if tag == 0x00:
                result = self.valtype(r, scope)
            elif tag == 0x01:
                if r.byte() != 0x00:
                    raise BinaryFormatError("named results are not supported")
                result = None
            else:
                raise BinaryFormatError("invalid function result")
            return TId("func", WFunc(params, result, b == 0x43))
        if b == 0x41:
            return self.component_type(r, scope)
        if b == 0x42:
            return self.instance_type(r, scope)
        if b == 0x3F:
            if r.byte() != 0x7F:
                raise BinaryFormatError("resource representation")
            if r.byte() == 0x01:
                r.u32()
            token = ResourceToken()
            resources.append(token)
            return TId("resource", token)
        raise BinaryFormatError(f"unknown type form 0x{b:02x}")

    def core_type(self, r: _Reader, scope: _Scope):
        b = r.byte()
        if b == 0x60:
            r.vec(lambda: self._core_valtype(r))
            r.vec(lambda: self._core_valtype(r))
            return None
        if b == 0x50:
            from wasmlab.wac._types import ModuleType
            imports, exports = {}, {}
            local_types: list = []
            for _ in range(r.u32()):
                tag = r.byte()
                if tag == 0x00:
                    module, name = r.name(), r.name()
                    imports[(module, name)] = self._core_importdesc(r, local_types)
                elif tag == 0x01:
                    local_types.append(self._core_functype(r))
                elif tag == 0x02:
                    r.byte(); r.byte(); r.u32(); r.u32()
                    local_types.append(None)
                elif tag == 0x03:
                    name = r.name()
                    exports[name] = self._core_importdesc(r, local_types)
                else:
                    raise BinaryFormatError("unknown module type declaration")
            return ModuleType(imports, exports)
        raise BinaryFormatError(f"unsupported core type 0x{b:02x}")

    def _core_valtype(self, r: _Reader) -> str:
        b = r.byte()
        names = {0x7F: "i32", 0x7E: "i64", 0x7D: "f32", 0x7C: "f64", 0x7B: "v128",
                 0x70: "funcref", 0x6F: "externref"}
        if b in names:
            return names[b]
        raise BinaryFormatError("unsupported core value type")

    def _core_functype(self, r: _Reader):
        if r.byte() != 0x60:
            raise BinaryFormatError("unsupported core type in module type")
        params = tuple(r.vec(lambda: self._core_valtype(r)))
        results = tuple(r.vec(lambda: self._core_valtype(r)))
        return (params, results)

    def _core_importdesc(self, r: _Reader, local_types):
        from wasmlab.wac._types import CoreExtern
        b = r.byte()
        if b == 0x00:
            idx = r.u32()
            return CoreExtern("func", local_types[idx] if idx < len(local_types) else ())
        if b == 0x01:
            ref = self._core_valtype(r)
            return CoreExtern("table", (ref,) + self._limits(r))
        if b == 0x02:
            return CoreExtern("memory", self._limits(r))
        if b == 0x03:
            vt = self._core_valtype(r)
            return CoreExtern("global", (vt, r.byte()))
        raise BinaryFormatError("unsupported core import kind")

    def _limits(self, r: _Reader):
        flag = r.byte()
        minimum = r.u32()
        maximum = r.u32() if flag & 1 else None
        return (flag, minimum, maximum)

    def externdesc(self, r: _Reader, scope: _Scope, resources: list):
        b = r.byte()
        if b == 0x00:
            if r.byte() != 0x11:
                raise BinaryFormatError("invalid core sort in extern description")
            idx = r.u32()
            if idx >= len(scope.core_types) or scope.core_types[idx] is None:
                raise BinaryFormatError("module type index out of bounds")
            return ("module", scope.core_types[idx])
        if b == 0x01:
            tid = self._type_at(scope, r.u32())
            if tid.kind != "func":
                raise BinaryFormatError("not a function type")
            return ("func", tid)
        if b == 0x02:
            if r.byte() == 0x00:
                return ("value", scope.values[r.u32()])
            return ("value", self.valtype(r, scope))
        if b == 0x03:
            bound = r.byte()
            if bound == 0x00:
                referenced = self._type_at(scope, r.u32())
                return ("type", referenced, referenced.with_unique())
            if bound == 0x01:
                token = ResourceToken()
                resources.append(token)
                tid = TId("resource", token)
                return ("type", tid, tid)
            raise BinaryFormatError("unknown type bound")
        if b == 0x04:
            tid = self._type_at(scope, r.u32())
            if tid.kind != "component":
                raise BinaryFormatError("not a component type")
            return ("component", tid)
        if b == 0x05:
            tid = self._type_at(scope, r.u32())
            if tid.kind != "instance":
                raise BinaryFormatError("not an instance type")
            return ("instance", tid)
        raise BinaryFormatError(f"unknown extern description 0x{b:02x}")

    def _add_entity(self, scope: _Scope, entity) -> None:
        kind = entity[0]
        if kind == "type":
            scope.types.append(entity[2])
        elif kind == "func":
            scope.funcs.append(entity[1])
        elif kind == "instance":
            scope.instances.append(entity[1])
        elif kind == "component":
            scope.components.append(entity[1])
        elif kind == "module":
            scope.modules.append(entity[1])
        elif kind == "value":
            scope.values.append(entity[1])

    def _alias(self, r: _Reader, scope: _Scope, *, in_type: bool) -> None:
        sort = _read_sort(r)
        target = r.byte()
        if target == 0x00:
            instance = scope.instances[r.u32()]
            name = r.name()
            entity = instance.data.exports.get(name)
            if entity is None:
                raise BinaryFormatError(f"instance has no export `{name}`")
            if entity[0] != sort:
                raise BinaryFormatError("alias sort mismatch")
            self._add_entity(scope, entity)
        elif target == 0x01:
            r.u32()
            r.name()  # core export alias: core index spaces are not tracked
        elif target == 0x02:
            count, index = r.u32(), r.u32()
            outer = scope.outer(count)
            if sort == "type":
                scope.types.append(outer.types[index])
            elif sort == "component":
                scope.components.append(outer.components[index])
            elif sort == "module":
                scope.modules.append(outer.modules[index] if index < len(outer.modules) else None)
            elif sort == "core:16":
                scope.core_types.append(outer.core_types[index])
            else:
                raise BinaryFormatError("unsupported outer alias")
        else:
            raise BinaryFormatError("unknown alias target")

    def instance_type(self, r: _Reader, parent: _Scope) -> TId:
        scope = _Scope(parent)
        inst = WInstance()
        for _ in range(r.u32()):
            tag = r.byte()
            if tag == 0x00:
                scope.core_types.append(self.core_type(r, scope))
            elif tag == 0x01:
                scope.types.append(self.deftype(r, scope, inst.defined_resources))
            elif tag == 0x02:
                self._alias(r, scope, in_type=True)
            elif tag == 0x04:
                name = r.extern_name()
                entity = self.externdesc(r, scope, inst.defined_resources)
                inst.exports[name] = entity
                self._add_entity(scope, entity)
            else:
                raise BinaryFormatError(f"unknown instance type declaration 0x{tag:02x}")
        return TId("instance", inst)

    def component_type(self, r: _Reader, parent: _Scope) -> TId:
        scope = _Scope(parent)
        comp = WComponent()
        for _ in range(r.u32()):
            tag = r.byte()
            if tag == 0x00:
                scope.core_types.append(self.core_type(r, scope))
            elif tag == 0x01:
                scope.types.append(self.deftype(r, scope, comp.defined_resources))
            elif tag == 0x02:
                self._alias(r, scope, in_type=True)
            elif tag == 0x03:
                name = r.extern_name()
                entity = self.externdesc(r, scope, comp.imported_resources)
                entity = self._prepare_import(entity)
                comp.imports[name] = entity
                self._add_entity(scope, entity)
            elif tag == 0x04:
                name = r.extern_name()
                entity = self.externdesc(r, scope, comp.defined_resources)
                comp.exports[name] = entity
                self._add_entity(scope, entity)
            else:
                raise BinaryFormatError(f"unknown component type declaration 0x{tag:02x}")
        return TId("component", comp)

    def _prepare_import(self, entity):
        if entity[0] == "instance" and entity[1].data.defined_resources:
            return remap_entity(entity, _fresh(entity[1].data.defined_resources), {})
        return entity

    # sections --------------------------------------------------------------------------------
    def component(self, r: _Reader, parent: _Scope | None) -> WComponent:
        header = r.data[r.pos:r.pos + 8]
        if header[:4] != b"\0asm" or header[6:8] != b"\x01\x00":
            raise BinaryFormatError("not a component")
        r.pos += 8
        scope = _Scope(parent)
        comp = WComponent()
        while not r.eof():
            section = r.byte()
            size = r.u32()
            body = _Reader(r.data, r.pos, r.pos + size)
            r.pos += size
            if section in (0, 1, 2):      # custom, core module, core instance
                if section == 1:
                    scope.modules.append(None)
                continue
            if section == 3:
                for _ in range(body.u32()):
                    scope.core_types.append(self.core_type(body, scope))
            elif section == 4:
                nested = self.component(_Reader(r.data, body.pos, body.end), scope)
                scope.components.append(TId("component", nested))
            elif section == 5:
                for _ in range(body.u32()):
                    scope.instances.append(self._instance(body, scope))
            elif section == 6:
                for _ in range(body.u32()):
                    self._alias(body, scope, in_type=False)
            elif section == 7:
                for _ in range(body.u32()):
                    scope.types.append(self.deftype(body, scope, comp.defined_resources))
            elif section == 8:
                for _ in range(body.u32()):
                    self._canon(body, scope)
            elif section == 10:
                for _ in range(body.u32()):
                    name = body.extern_name()
                    entity = self._prepare_import(self.externdesc(body, scope, comp.imported_resources))
                    comp.imports[name] = entity
                    self._add_entity(scope, entity)
            elif section == 11:
                for _ in range(body.u32()):
                    name = body.extern_name()
                    entity = self._export(body, scope)
                    comp.exports[name] = entity
                    self._add_entity(scope, entity)
            else:
                raise BinaryFormatError(f"unsupported component section {section}")
        return comp

    def _export(self, r: _Reader, scope: _Scope):
        sort = _read_sort(r)
        index = r.u32()
        ascribed = None
        if r.byte() == 0x01:
            ascribed = self.externdesc(r, scope, [])
        if ascribed is not None:
            if ascribed[0] == "type":
                item = scope.types[index]
                return ("type", item, item.with_unique())
            return ascribed
        if sort == "type":
            item = scope.types[index]
            return ("type", item, item.with_unique())
        if sort in ("func", "instance", "component", "value"):
            return (sort, scope.space(sort)[index])
        if sort == "module":
            from wasmlab.wac._types import ModuleType
            return ("module", scope.modules[index] or ModuleType())
        raise BinaryFormatError("unsupported export sort")

    def _instance(self, r: _Reader, scope: _Scope) -> TId:
        tag = r.byte()
        if tag == 0x00:
            comp_tid = scope.components[r.u32()]
            args = {}
            for _ in range(r.u32()):
                name = r.name()
                sort = _read_sort(r)
                index = r.u32()
                if sort.startswith("core:") or sort == "module":
                    continue
                args[name] = (sort, scope.space(sort)[index])
            return self._instantiate(comp_tid.data, args)
        if tag == 0x01:
            inst = WInstance()
            for _ in range(r.u32()):
                name = r.extern_name()
                sort = _read_sort(r)
                index = r.u32()
                if sort == "type":
                    t = scope.types[index]
                    inst.exports[name] = ("type", t, t)
                elif sort.startswith("core:") or sort == "module":
                    continue
                else:
                    inst.exports[name] = (sort, scope.space(sort)[index])
            return TId("instance", inst)
        raise BinaryFormatError("unknown instance form")

    def _instantiate(self, comp: WComponent, args: dict) -> TId:
        """The instance type: the component's exports with its imported types (and resources)
        replaced by the arguments' - as the validator substitutes them - and fresh identities
        for the resources the component defines."""
        mapping = _fresh(comp.defined_resources)
        memo: dict = {}

        def substitute(expected: TId, given: TId) -> None:
            memo[id(expected)] = given
            if expected.kind == "resource" and given.kind == "resource":
                mapping[expected.data] = given.data

        for name, entity in comp.imports.items():
            arg = args.get(name)
            if arg is None:
                continue
            if entity[0] == "type" and arg[0] == "type":
                substitute(entity[2], arg[1])
            elif entity[0] == "instance" and arg[0] == "instance":
                given = arg[1].data.exports
                for export_name, export in entity[1].data.exports.items():
                    other = given.get(export_name)
                    if export[0] == "type" and other is not None and other[0] == "type":
                        substitute(export[2], other[2])
        exports = {n: remap_entity(e, mapping, memo) for n, e in comp.exports.items()}
        defined = [mapping.get(t, t) for t in comp.defined_resources]
        return TId("instance", WInstance(exports, defined))

    def _canon(self, r: _Reader, scope: _Scope) -> None:
        op = r.byte()
        if op == 0x00:
            if r.byte() != 0x00:
                raise BinaryFormatError("canon lift")
            r.u32()
            self._canon_opts(r)
            tid = self._type_at(scope, r.u32())
            scope.funcs.append(tid)
        elif op == 0x01:
            r.byte(); r.u32()
            self._canon_opts(r)
        elif op in (0x02, 0x03, 0x04, 0x07, 0x0E, 0x13, 0x14, 0x15, 0x1A, 0x1B, 0x40):
            r.u32()
        elif op in (0x05, 0x08, 0x0D, 0x1E, 0x1F, 0x22, 0x23, 0x24, 0x25, 0x42):
            pass
        elif op == 0x09:
            tag = r.byte()
            if tag == 0x00:
                self.valtype(r, scope)
            else:
                r.byte()
            self._canon_opts(r)
        elif op in (0x0A, 0x0B):
            r.byte(); r.u32()
        elif op in (0x06, 0x0C):
            r.byte()
        elif op in (0x0F, 0x10, 0x16, 0x17):
            r.u32()
            self._canon_opts(r)
        elif op in (0x11, 0x12, 0x18, 0x19):
            r.u32(); r.byte()
        elif op in (0x1C, 0x1D):
            self._canon_opts(r)
        elif op in (0x20, 0x21):
            r.byte(); r.u32()
        elif op == 0x41:
            r.u32(); r.u32()
        else:
            raise BinaryFormatError(f"unknown canonical function 0x{op:02x}")

    def _canon_opts(self, r: _Reader) -> None:
        for _ in range(r.u32()):
            opt = r.byte()
            if opt in (0x03, 0x04, 0x05, 0x07, 0x08):
                r.u32()
            elif opt in (0x00, 0x01, 0x02, 0x06):
                pass
            else:
                raise BinaryFormatError(f"unknown canonical option 0x{opt:02x}")


def read_component(data: bytes) -> ComponentInfo:
    if not is_component(data):
        raise BinaryFormatError("not a component")
    reader = _ComponentReader(data)
    try:
        comp = reader.component(_Reader(data), None)
    except (IndexError, KeyError, UnicodeDecodeError) as e:
        raise BinaryFormatError(f"malformed component: {e}") from None
    return ComponentInfo(comp.imports, comp.exports)
