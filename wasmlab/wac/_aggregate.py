"""Merging the types of a composition's imports (the reference's ``TypeAggregator``).

When several instantiations leave the same import unsatisfied (``new foo:bar { ... }``), the
composition imports it once, with a type that satisfies all of them: interfaces are merged export
by export (the more specific type wins), semver-compatible interface names are merged into the
highest version, and each named interface exists once.

    agg = TypeAggregator()
    agg.aggregate("foo:bar/baz", kind, checker)   # raises SubtypeError when types conflict
    agg.imports            # {name: ItemKind} in the aggregator's own Types (agg.types)
    agg.canonical_import_name(name)
"""

from __future__ import annotations

import re

from wasmlab.wac._types import (
    AliasType,
    Borrow,
    DefinedType,
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
    SubtypeChecker,
    SubtypeError,
    TupleType,
    Types,
    UsedType,
    VariantType,
    World,
    _key,
    type_desc,
)

__all__ = ["TypeAggregator", "alternate_lookup_key", "are_semver_compatible"]

_SEMVER = re.compile(r"^(\d{1,20})\.(\d{1,20})\.(\d{1,20})(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")


def _version(text: str):
    m = _SEMVER.match(text)
    if not m:
        return None
    return (int(m[1]), int(m[2]), int(m[3]), m[4] or "")


def alternate_lookup_key(name: str):
    """``("x:y/z@1", version)`` for names on a semver-compatible track, else None."""
    at = name.find("@")
    if at < 0:
        return None
    vtext = name[at + 1:]
    version = _version(vtext)
    if version is None or version[3]:
        return None
    major, minor, _patch, _ = version
    if major != 0:
        return name[:at + 1 + vtext.index(".")], version
    if minor != 0:
        first = vtext.index(".")
        second = vtext.index(".", first + 1)
        return name[:at + 1 + second], version
    return None


def are_semver_compatible(a: str, b: str) -> bool:
    if a == b:
        return True
    ka, kb = alternate_lookup_key(a), alternate_lookup_key(b)
    return ka is not None and kb is not None and ka[0] == kb[0]


def _ctx(message: str, fn, *args):
    try:
        return fn(*args)
    except SubtypeError as inner:
        raise SubtypeError(message) from inner


class TypeAggregator:
    def __init__(self):
        self.types = Types()
        self.imports: dict[str, ItemKind] = {}
        self.remapped: dict = {}
        self.interfaces: dict[str, Interface] = {}
        self.name_redirects: dict[str, str] = {}

    def canonical_import_name(self, name: str) -> str:
        return self.name_redirects.get(name, name)

    def _semver_import(self, name: str):
        key = alternate_lookup_key(name)
        if key is None:
            return None
        for existing, kind in self.imports.items():
            other = alternate_lookup_key(existing)
            if other is not None and other[0] == key[0]:
                return existing, kind
        return None

    def _semver_interface(self, name: str):
        key = alternate_lookup_key(name)
        if key is None:
            return None
        for existing, iface in self.interfaces.items():
            other = alternate_lookup_key(existing)
            if other is not None and other[0] == key[0]:
                return iface
        return None

    def aggregate(self, name: str, kind: ItemKind, checker: SubtypeChecker) -> "TypeAggregator":
        existing = self.imports.get(name)
        if existing is not None:
            self._merge_item(existing, kind, checker)
            return self
        found = self._semver_import(name)
        if found is not None:
            existing_name, existing_kind = found
            self._merge_item(existing_kind, kind, checker)
            if alternate_lookup_key(name)[1] > alternate_lookup_key(existing_name)[1]:
                merged = self.imports.pop(existing_name)
                self.imports[name] = merged
                for k, v in self.name_redirects.items():
                    if v == existing_name:
                        self.name_redirects[k] = name
                self.name_redirects[existing_name] = name
            else:
                self.name_redirects[name] = existing_name
            return self
        self.imports[name] = self._remap_item(kind, checker)
        return self

    # -- merging -------------------------------------------------------------------------------
    def _merge_item(self, existing: ItemKind, kind: ItemKind, checker) -> None:
        if existing.kind != kind.kind:
            raise SubtypeError(f"{existing.desc()} cannot be merged with {kind.desc()}")
        k = kind.kind
        if k == "instance":
            self._merge_interface(existing.ty, kind.ty, checker)
        elif k == "component":
            self._merge_world(existing.ty, kind.ty, checker)
        elif k == "func":
            self._both_ways(ItemKind.func(kind.ty), ItemKind.func(existing.ty), checker)
        elif k == "module":
            self._merge_module(existing.ty, kind.ty)
        elif k == "type":
            self._merge_type(existing.ty, kind.ty, checker)
        else:
            self._both_ways(ItemKind.value(kind.ty), ItemKind.value(existing.ty), checker)

    @staticmethod
    def _both_ways(a: ItemKind, b: ItemKind, checker) -> None:
        checker.is_subtype(a, b)
        checker.is_subtype(b, a)

    def _merge_type(self, existing, ty, checker) -> None:
        pairs = ((Resource, "type"), (FuncType, "func"), (Interface, "instance"), (World, "component"),
                 (ModuleType, "module"))
        for cls, kind in pairs:
            if isinstance(existing, cls) and isinstance(ty, cls):
                if cls is Interface:
                    return self._merge_interface(existing, ty, checker)
                if cls is World:
                    return self._merge_world(existing, ty, checker)
                if cls is ModuleType:
                    return self._merge_module(existing, ty)
                return self._both_ways(ItemKind(kind, ty), ItemKind(kind, existing), checker)
        value_like = (Primitive, Own, Borrow, DefinedType)
        if isinstance(existing, value_like) and isinstance(ty, value_like):
            return self._both_ways(ItemKind.value(ty), ItemKind.value(existing), checker)
        raise SubtypeError(f"{type_desc(existing)} cannot be merged with {type_desc(ty)}")

    def _merge_used(self, existing, source, checker) -> None:
        for name, used in source.uses.items():
            used_id = used.interface.id
            if used_id is None:
                raise SubtypeError("used type has no interface identifier")
            current = existing.uses.get(name)
            if current is not None:
                current_id = current.interface.id
                if not are_semver_compatible(current_id, used_id):
                    raise SubtypeError(
                        f"cannot merge used type `{name}` as it is expected to be from interface "
                        f"`{current_id}` but it is from interface `{used_id}`")
                if current.name != used.name:
                    raise SubtypeError(f"cannot merge used type `{name}` as the export names are mismatched")
            remapped = self._remap_interface(used.interface, checker)
            if name not in existing.uses:
                existing.uses[name] = UsedType(remapped, used.name)

    def _merge_interface(self, existing: Interface, source: Interface, checker) -> None:
        self._merge_used(existing, source, checker)
        for name, source_kind in source.exports.items():
            target_kind = existing.exports.get(name)
            if target_kind is not None:
                try:
                    checker.is_subtype(source_kind, target_kind)
                    self.remapped[_key(source_kind.ty)] = target_kind.ty
                    continue
                except SubtypeError:
                    pass
                _ctx(f"mismatched type for export `{name}`", checker.is_subtype, target_kind, source_kind)
            existing.exports[name] = self._remap_item(source_kind, checker)

    def _merge_world(self, existing: World, source: World, checker) -> None:
        self._merge_used(existing, source, checker)
        checker.invert()
        try:
            for name, source_kind in source.imports.items():
                target_kind = existing.imports.get(name)
                if target_kind is not None:
                    try:
                        checker.is_subtype(target_kind, source_kind)
                        continue
                    except SubtypeError:
                        pass
                    _ctx(f"mismatched type for import `{name}`", checker.is_subtype, source_kind, target_kind)
                existing.imports[name] = self._remap_item(source_kind, checker)
        finally:
            checker.revert()
        for name, source_kind in source.exports.items():
            target_kind = existing.exports.get(name)
            if target_kind is not None:
                try:
                    checker.is_subtype(source_kind, target_kind)
                    continue
                except SubtypeError:
                    pass
                _ctx(f"mismatched type for export `{name}`", checker.is_subtype, target_kind, source_kind)
            existing.exports[name] = self._remap_item(source_kind, checker)

    def _merge_module(self, existing: ModuleType, source: ModuleType) -> None:
        for key, ext in source.imports.items():
            existing.imports.setdefault(key, ext)
        for key, ext in source.exports.items():
            existing.exports.setdefault(key, ext)

    # -- copying into our own types ------------------------------------------------------------
    def _remap_item(self, kind: ItemKind, checker) -> ItemKind:
        k = kind.kind
        if k == "type":
            return ItemKind.type(self._remap_type(kind.ty, checker))
        if k == "func":
            return ItemKind.func(self._remap_func(kind.ty, checker))
        if k == "instance":
            return ItemKind.instance(self._remap_interface(kind.ty, checker))
        if k == "component":
            return ItemKind.component(self._remap_world(kind.ty, checker))
        if k == "module":
            return ItemKind.module(self._remap_module(kind.ty))
        return ItemKind.value(self._remap_value(kind.ty, checker))

    def _remap_type(self, ty, checker):
        if isinstance(ty, Resource):
            return self._remap_resource(ty, checker)
        if isinstance(ty, FuncType):
            return self._remap_func(ty, checker)
        if isinstance(ty, Interface):
            return self._remap_interface(ty, checker)
        if isinstance(ty, World):
            return self._remap_world(ty, checker)
        if isinstance(ty, ModuleType):
            return self._remap_module(ty)
        return self._remap_value(ty, checker)

    def _remap_resource(self, res: Resource, checker) -> Resource:
        found = self.remapped.get(id(res))
        if found is not None:
            return found
        alias = None
        if res.alias is not None:
            owner = None
            if res.alias.owner is not None:
                owner = self._remap_interface(res.alias.owner, checker)
                if owner.id not in self.imports:
                    self.imports[owner.id] = ItemKind.instance(owner)
            alias = ResourceAlias(owner, self._remap_resource(res.alias.source, checker))
        new = self.types.add(Resource(res.name, alias))
        self.remapped[id(res)] = new
        return new

    def _remap_func(self, func: FuncType, checker) -> FuncType:
        found = self.remapped.get(id(func))
        if found is not None:
            return found
        new = FuncType({n: self._remap_value(t, checker) for n, t in func.params.items()},
                       None if func.result is None else self._remap_value(func.result, checker),
                       func.is_async)
        self.types.add(new)
        self.remapped[id(func)] = new
        return new

    def _remap_value(self, ty, checker):
        if isinstance(ty, Primitive):
            return ty
        if isinstance(ty, Own):
            return Own(self._remap_resource(ty.resource, checker))
        if isinstance(ty, Borrow):
            return Borrow(self._remap_resource(ty.resource, checker))
        return self._remap_defined(ty, checker)

    def _remap_interface(self, iface: Interface, checker) -> Interface:
        if iface.id is not None:
            existing = self.interfaces.get(iface.id) or self._semver_interface(iface.id)
            if existing is not None:
                _ctx(f"failed to merge interface `{iface.id}`", self._merge_interface, existing, iface, checker)
                self.interfaces[iface.id] = existing
                return existing
        found = self.remapped.get(id(iface))
        if found is not None:
            return found
        uses = {}
        for n, u in iface.uses.items():
            if u.interface.id is None:
                raise SubtypeError(f"used type `{n}` is from an interface without an identifier")
            uses[n] = UsedType(self._remap_interface(u.interface, checker), u.name)
        exports = {n: self._remap_item(k, checker) for n, k in iface.exports.items()}
        new = self.types.add(Interface(iface.id, uses, exports))
        self.remapped[id(iface)] = new
        if new.id is not None:
            self.interfaces[new.id] = new
        return new

    def _remap_world(self, world: World, checker) -> World:
        found = self.remapped.get(id(world))
        if found is not None:
            return found
        uses = {}
        for n, u in world.uses.items():
            if u.interface.id is None:
                raise SubtypeError(f"used type `{n}` is from an interface without an identifier")
            uses[n] = UsedType(self._remap_interface(u.interface, checker), u.name)
        imports = {n: self._remap_item(k, checker) for n, k in world.imports.items()}
        exports = {n: self._remap_item(k, checker) for n, k in world.exports.items()}
        new = self.types.add(World(world.id, uses, imports, exports))
        self.remapped[id(world)] = new
        return new

    def _remap_module(self, module: ModuleType) -> ModuleType:
        found = self.remapped.get(id(module))
        if found is not None:
            return found
        new = self.types.add(ModuleType(dict(module.imports), dict(module.exports)))
        self.remapped[id(module)] = new
        return new

    def _remap_defined(self, ty: DefinedType, checker):
        found = self.remapped.get(id(ty))
        if found is not None:
            return found
        v = lambda t: None if t is None else self._remap_value(t, checker)  # noqa: E731
        if isinstance(ty, TupleType):
            new = TupleType([v(t) for t in ty.items])
        elif isinstance(ty, ListType):
            new = ListType(v(ty.element))
        elif isinstance(ty, FixedSizeListType):
            new = FixedSizeListType(v(ty.element), ty.size)
        elif isinstance(ty, OptionType):
            new = OptionType(v(ty.some))
        elif isinstance(ty, ResultType):
            new = ResultType(v(ty.ok), v(ty.err))
        elif isinstance(ty, VariantType):
            new = VariantType({n: v(t) for n, t in ty.cases.items()})
        elif isinstance(ty, RecordType):
            new = RecordType({n: v(t) for n, t in ty.fields.items()})
        elif isinstance(ty, FlagsType):
            new = FlagsType(ty.names)
        elif isinstance(ty, EnumType):
            new = EnumType(ty.names)
        elif isinstance(ty, AliasType):
            new = AliasType(v(ty.target))
        elif isinstance(ty, StreamType):
            new = StreamType(v(ty.element))
        elif isinstance(ty, FutureType):
            new = FutureType(v(ty.element))
        else:
            raise TypeError(ty)
        self.types.add(new)
        self.remapped[id(ty)] = new
        return new
