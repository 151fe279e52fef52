"""The value boundary: Python values to and from wasmtime's C component values, per WIT type.

Each type gets a :class:`Codec` built once: ``check`` validates and normalises a Python value
(raising :class:`~wasmlab.errors.ArgumentError` naming the parameter path and the WIT type,
before anything enters Wasm), ``lower`` writes the normalised value into a
``wasmtime_component_val_t``, ``lift`` reads one back.  :class:`BoundFunction` calls through
wasmtime's C API directly with those codecs, skipping wasmtime-py's per-call type lookups.
"""

from __future__ import annotations

import collections.abc
import ctypes
import enum
import itertools
import struct

from wasmlab import values as V
from wasmlab.errors import ArgumentError, GuestError, WasmlabError
from wasmlab.runtime import capi
from wasmlab.wittypes import (
    INT_RANGES,
    BorrowT,
    EnumT,
    FixedListT,
    FlagsT,
    FutureT,
    ListT,
    OptionT,
    OwnT,
    Prim,
    RecordT,
    ResultT,
    StreamT,
    TupleT,
    Type,
    VariantT,
    has_handle,
    unalias,
)

__all__ = ["Codec", "codec", "BoundFunction", "refuse_host_boundary", "refuse_streams", "guest_error",
           "unwrap_result", "positional"]

_KIND = capi.KIND


def _fail(path: str, ty: Type, value, why: str = "") -> ArgumentError:
    try:
        shown = repr(value)
    except Exception:  # noqa: BLE001 - a broken __repr__ must not hide the argument error
        shown = f"<a {type(value).__name__}>"
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    return ArgumentError(f"{path} must be {ty.wit()}{why}, got {shown}")


class Codec:
    """Check, lower and lift for one WIT type.  ``owns_memory``: the lowered value must be freed."""

    owns_memory = True

    def __init__(self, ty: Type):
        self.ty = ty

    def check(self, value, path: str):
        raise NotImplementedError

    def lower(self, value, val) -> None:
        raise NotImplementedError

    def lift(self, val):
        raise NotImplementedError

    def fast_lowerer(self, slot: memoryview, keep: list):
        """A function writing a value straight into one parameter slot (``slot``: the bytes of a
        ``wasmtime_component_val_t``), or None when this type has none.  What the slot points
        into goes to ``keep``, which holds it until the call ends.

        The function returns False for a value it leaves to ``check`` and ``lower`` (another
        Python type that may still be accepted) and raises ``struct.error``, ``OverflowError``
        or ``UnicodeError`` for one out of range: ``check`` then explains what is wrong."""
        return None

    def fast_lifter(self, address: int):
        """A ctypes view whose ``.value`` is the lifted result at ``address``, or None."""
        return None

    def fast_reader(self, address: int):
        """A function of no arguments lifting the result at ``address`` faster than ``lift``, or None."""
        return None


_OF = capi.VAL_OF
_POINTER = struct.Struct("@P")
_STRING_SLOT = struct.Struct("@BNP")  # kind, then a wasm_byte_vec_t (size, data) aligned as C aligns it
assert _STRING_SLOT.size == _OF + 2 * _POINTER.size


def _packing_lowerer(slot: memoryview, kind: int, fmt: str, exact: type):
    """The fast lowerer of a scalar: its kind byte is written once, each call packs the value."""
    pack = struct.Struct("<" + fmt).pack_into
    slot[0] = kind

    def lower(value) -> bool:
        if type(value) is not exact:
            return False
        pack(slot, _OF, value)
        return True

    return lower


class _Bool(Codec):
    owns_memory = False

    def check(self, value, path):
        if value is True or value is False:
            return value
        raise _fail(path, self.ty, value)

    def lower(self, value, val):
        val.kind = _KIND["bool"]
        val.of.boolean = value

    def lift(self, val):
        return bool(val.of.boolean)

    def fast_lowerer(self, slot, keep):
        return _packing_lowerer(slot, _KIND["bool"], "?", bool)

    def fast_lifter(self, address):
        return ctypes.c_bool.from_address(address + _OF)


class _Int(Codec):
    owns_memory = False

    def __init__(self, ty):
        super().__init__(ty)
        self.name = ty.kind
        self.low, self.high = INT_RANGES[self.name]
        self.kind = _KIND[self.name]

    def check(self, value, path):
        if type(value) is not int:
            if isinstance(value, bool) or not isinstance(value, int):
                raise _fail(path, self.ty, value)
            value = int(value)  # an IntEnum member or another int subclass
        if self.low <= value < self.high:
            return value
        raise _fail(path, self.ty, value, f" (from {self.low} to {self.high - 1})")

    def lower(self, value, val):
        val.kind = self.kind
        setattr(val.of, self.name, value)

    def lift(self, val):
        return getattr(val.of, self.name)

    def fast_lowerer(self, slot, keep):
        return _packing_lowerer(slot, self.kind, _INT_FORMATS[self.name], int)

    def fast_lifter(self, address):
        return _INT_CTYPES[self.name].from_address(address + _OF)


_INT_FORMATS = {"u8": "B", "u16": "H", "u32": "I", "u64": "Q", "s8": "b", "s16": "h", "s32": "i", "s64": "q"}
_INT_CTYPES = {"u8": ctypes.c_uint8, "u16": ctypes.c_uint16, "u32": ctypes.c_uint32, "u64": ctypes.c_uint64,
               "s8": ctypes.c_int8, "s16": ctypes.c_int16, "s32": ctypes.c_int32, "s64": ctypes.c_int64}


class _Float(Codec):
    owns_memory = False

    def __init__(self, ty):
        super().__init__(ty)
        self.name = ty.kind
        self.kind = _KIND[self.name]

    def check(self, value, path):
        if type(value) is not float:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise _fail(path, self.ty, value)
            try:
                value = float(value)
            except OverflowError:
                raise _fail(path, self.ty, value, " (too large)") from None
        if self.name == "f32":
            try:
                struct.pack("<f", value)  # rounds to nearest; refuses what would round to infinity
            except OverflowError:
                raise _fail(path, self.ty, value, " (out of f32's range, about ±3.4e38)") from None
        return value

    def lower(self, value, val):
        val.kind = self.kind
        setattr(val.of, self.name, value)

    def lift(self, val):
        return getattr(val.of, self.name)

    def fast_lowerer(self, slot, keep):
        # "<f" refuses (OverflowError) what would round to infinity, as check does
        return _packing_lowerer(slot, self.kind, "f" if self.name == "f32" else "d", float)

    def fast_lifter(self, address):
        return (ctypes.c_float if self.name == "f32" else ctypes.c_double).from_address(address + _OF)


class _Char(Codec):
    owns_memory = False

    def check(self, value, path):
        if isinstance(value, str) and len(value) == 1 and not 0xD800 <= ord(value) <= 0xDFFF:
            return value
        raise _fail(path, self.ty, value, " (one Unicode scalar value)")

    def lower(self, value, val):
        val.kind = _KIND["char"]
        val.of.character = ord(value)

    def lift(self, val):
        return chr(val.of.character)

    def fast_lowerer(self, slot, keep):
        pack = struct.Struct("<I").pack_into
        slot[0] = _KIND["char"]

        def lower(value) -> bool:
            if type(value) is not str or len(value) != 1:
                return False
            code = ord(value)
            if 0xD800 <= code <= 0xDFFF:
                return False
            pack(slot, _OF, code)
            return True

        return lower


class _String(Codec):
    def check(self, value, path):
        if isinstance(value, str):
            try:
                return value.encode("utf-8")
            except UnicodeEncodeError:
                raise _fail(path, self.ty, value, " (valid Unicode: no lone surrogates)") from None
        raise _fail(path, self.ty, value)

    def lower(self, value, val):
        val.kind = _KIND["string"]
        val.of.string = capi.bytes_to_capi(value)

    def lift(self, val):
        return _vec_bytes(val.of.string).decode("utf-8")

    def fast_lowerer(self, slot, keep):
        pack = _STRING_SLOT.pack_into
        kind = _KIND["string"]
        hold = keep.append

        def lower(value) -> bool:
            if type(value) is not str:
                return False
            data = value.encode("utf-8")  # UnicodeEncodeError for lone surrogates: check explains
            # wasmtime copies the string out of the slot during the call: the slot borrows the
            # bytes object's own buffer, held until the call ends
            hold(data)
            pack(slot, 0, kind, len(data), _POINTER.unpack_from(ctypes.c_char_p(data))[0])
            return True

        return lower

    def fast_reader(self, address):
        vec = capi.byte_vec_t.from_address(address + _OF)
        string_at = ctypes.string_at

        def read() -> str:
            size = vec.size
            return string_at(vec.data, size).decode("utf-8") if size else ""

        return read


def _vec_bytes(vec) -> bytes:
    return ctypes.string_at(vec.data, vec.size) if vec.size else b""


class _Bytes(Codec):
    """``list<u8>`` as ``bytes``."""

    def check(self, value, path):
        if isinstance(value, (bytes, bytearray, memoryview)):
            return bytes(value)
        if isinstance(value, list) and all(type(b) is int and 0 <= b < 256 for b in value):
            return bytes(value)
        raise _fail(path, self.ty, value, " (bytes)")

    def lower(self, value, val):
        raw = capi.vallist_t()
        capi.vallist_new_uninit(raw, len(value))
        kind = _KIND["u8"]
        for i, b in enumerate(value):
            item = raw.data[i]
            item.kind = kind
            item.of.u8 = b
        val.kind = _KIND["list"]
        val.of.list = raw

    def lift(self, val):
        raw = val.of.list
        return bytes(raw.data[i].of.u8 for i in range(raw.size))


class _List(Codec):
    def __init__(self, ty, element: Codec, size: int | None = None):
        super().__init__(ty)
        self.element = element
        self.size = size

    def check(self, value, path):
        if isinstance(value, (str, bytes, dict, set)) or not hasattr(value, "__iter__"):
            raise _fail(path, self.ty, value)
        if isinstance(value, collections.abc.Sized):
            if len(value) > _MAX_LIST:
                raise _fail(path, self.ty, value, f" (at most {_MAX_LIST:,} elements: a guest's memory is 4 GiB)")
            items = list(value)
        else:  # an iterator may never end: read it only so far
            items = list(itertools.islice(value, _MAX_ITERATED + 1))
            if len(items) > _MAX_ITERATED:
                raise ArgumentError(f"{path} ({self.ty.wit()}) got an iterator with more than {_MAX_ITERATED:,} "
                                    "elements (an endless generator?)",
                                    hint="pass a list, or anything with a len(), for longer lists")
        if self.size is not None and len(items) != self.size:
            raise _fail(path, self.ty, value, f" (exactly {self.size} elements)")
        check = self.element.check
        return [check(v, f"{path}[{i}]") for i, v in enumerate(items)]

    def lower(self, value, val):
        raw = capi.vallist_t()
        capi.vallist_new_uninit(raw, len(value))
        lower = self.element.lower
        for i, v in enumerate(value):
            lower(v, raw.data[i])
        val.kind = _KIND["list"]
        val.of.list = raw

    def lift(self, val):
        raw = val.of.list
        lift = self.element.lift
        return [lift(raw.data[i]) for i in range(raw.size)]


_MAX_LIST = 1 << 32  # no guest memory holds more elements
_MAX_ITERATED = 1 << 20  # an iterator without len() is read this far, so an endless one stops


class _Tuple(Codec):
    def __init__(self, ty, elements: list[Codec]):
        super().__init__(ty)
        self.elements = elements

    def check(self, value, path):
        if not isinstance(value, (tuple, list)) or len(value) != len(self.elements):
            raise _fail(path, self.ty, value, f" (a tuple of {len(self.elements)})")
        return tuple(c.check(v, f"{path}[{i}]") for i, (c, v) in enumerate(zip(self.elements, value)))

    def lower(self, value, val):
        raw = capi.valtuple_t()
        capi.valtuple_new_uninit(raw, len(value))
        for i, (c, v) in enumerate(zip(self.elements, value)):
            c.lower(v, raw.data[i])
        val.kind = _KIND["tuple"]
        val.of.tuple = raw

    def lift(self, val):
        raw = val.of.tuple
        return tuple(c.lift(raw.data[i]) for i, c in enumerate(self.elements))


class _Record(Codec):
    def __init__(self, ty: RecordT, fields: list[tuple[str, Codec]]):
        super().__init__(ty)
        self.fields = fields
        self.cls = V.record_class(ty)
        self.py_names = [V.py_name(n) for n, _ in fields]

    def check(self, value, path):
        out = []
        if isinstance(value, dict):
            odd = next((k for k in value if not isinstance(k, str)), _MISSING)
            if odd is not _MISSING:
                raise ArgumentError(f"{path}: record {self.ty.name} takes field names (str) as keys, got {odd!r:.40}",
                                    hint=f"its fields: {', '.join(n for n, _ in self.fields)}")
            known = {V.py_name(k) for k in value}
            unknown = known - set(self.py_names)
            if unknown:
                raise ArgumentError(f"{path}: record {self.ty.name} has no field {sorted(unknown)[0]!r}; "
                                    f"its fields: {', '.join(n for n, _ in self.fields)}")
        for (wit, c), name in zip(self.fields, self.py_names):
            if isinstance(value, dict):
                found = value[name] if name in value else value.get(wit, _MISSING)
            else:
                found = getattr(value, name, _MISSING)
            if found is _MISSING:
                if isinstance(c, _Option):
                    found = None
                else:
                    raise ArgumentError(f"{path}: record {self.ty.name} needs field {wit!r} ({c.ty.wit()})")
            out.append(c.check(found, f"{path}.{name}"))
        return out

    def lower(self, value, val):
        raw = capi.valrecord_t()
        capi.valrecord_new_uninit(raw, len(self.fields))
        for i, ((name, c), v) in enumerate(zip(self.fields, value)):
            entry = raw.data[i]
            entry.name = capi.str_to_capi(name)
            c.lower(v, entry.val)
        val.kind = _KIND["record"]
        val.of.record = raw

    def lift(self, val):
        raw = val.of.record
        return self.cls(*(c.lift(raw.data[i].val) for i, (_, c) in enumerate(self.fields)))


_MISSING = object()


def _boxed(codec: Codec | None, value):
    """A heap copy of a lowered payload, as variants, options and results point to."""
    if codec is None:
        return None
    raw = capi.val_t()
    codec.lower(value, raw)
    return capi.boxed(raw)


class _Variant(Codec):
    def __init__(self, ty: VariantT, cases: list[tuple[str, Codec | None]]):
        super().__init__(ty)
        self.cases = dict(cases)
        self.py_cases = {V.py_name(n): n for n in self.cases}

    def check(self, value, path):
        if isinstance(value, V.Variant):
            case, payload = value.case, value.value
        elif isinstance(value, str):
            case, payload = value, None
        elif isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str):
            case, payload = value
        else:
            raise _fail(path, self.ty, value, " (Variant(case, value) or a case name)")
        if not isinstance(case, str):
            raise _fail(path, self.ty, value, " (its case is named by a str)")
        case = self.py_cases.get(case, case)
        if case not in self.cases:
            raise ArgumentError(f"{path}: {self.ty.name} has no case {case!r}; cases: {', '.join(self.cases)}")
        codec = self.cases[case]
        if codec is None:
            if payload is not None:
                raise ArgumentError(f"{path}: case {case} of {self.ty.name} carries no value")
            return case, None
        return case, codec.check(payload, f"{path}({case})")

    def lower(self, value, val):
        case, payload = value
        val.kind = _KIND["variant"]
        val.of.variant.discriminant = capi.str_to_capi(case)
        val.of.variant.val = _boxed(self.cases[case], payload)

    def lift(self, val):
        case = _vec_bytes(val.of.variant.discriminant).decode("utf-8")
        codec = self.cases[case]
        return V.Variant(case, codec.lift(val.of.variant.val.contents) if codec else None)


class _Enum(Codec):
    def __init__(self, ty: EnumT):
        super().__init__(ty)
        self.cls = V.enum_class(ty)
        self.names = {c: c for c in ty.cases}
        self.names.update({V.py_name(c): c for c in ty.cases})

    def check(self, value, path):
        if isinstance(value, enum.Enum):
            value = value.value if isinstance(value.value, str) else value.name
        if isinstance(value, str) and value in self.names:
            return self.names[value]
        raise _fail(path, self.ty, value, f" (one of {', '.join(self.ty.cases)})")

    def lower(self, value, val):
        val.kind = _KIND["enum"]
        val.of.enumeration = capi.str_to_capi(value)

    def lift(self, val):
        return self.cls(_vec_bytes(val.of.enumeration).decode("utf-8"))


class _Option(Codec):
    def __init__(self, ty: OptionT, inner: Codec):
        super().__init__(ty)
        self.inner = inner
        self.nested = isinstance(inner, _Option)

    def check(self, value, path):
        if value is None:
            return None
        if isinstance(value, V.Some):
            return V.Some(self.inner.check(value.value, f"{path}(some)"))
        if self.nested:
            raise _fail(path, self.ty, value, " (None, or Some(...) for the inner option)")
        return V.Some(self.inner.check(value, path))

    def lower(self, value, val):
        val.kind = _KIND["option"]
        val.of.option = None if value is None else _boxed(self.inner, value.value)

    def lift(self, val):
        if self.nested:  # every level explicit: some(some(5)) is Some(Some(5)), some(none) is Some(None)
            return self.lift_explicit(val)
        return self.inner.lift(val.of.option.contents) if val.of.option else None

    def lift_explicit(self, val):
        if not val.of.option:
            return None
        inner = val.of.option.contents
        return V.Some(self.inner.lift_explicit(inner) if self.nested else self.inner.lift(inner))


class _Result(Codec):
    def __init__(self, ty: ResultT, ok: Codec | None, err: Codec | None):
        super().__init__(ty)
        self.ok = ok
        self.err = err

    def check(self, value, path):
        if isinstance(value, V.Ok):
            codec, is_ok = self.ok, True
        elif isinstance(value, V.Err):
            codec, is_ok = self.err, False
        else:
            raise _fail(path, self.ty, value, " (Ok(...) or Err(...))")
        payload = value.value
        if codec is None:
            if payload is not None:
                raise ArgumentError(f"{path}: {'ok' if is_ok else 'err'} of {self.ty.wit()} carries no value")
            return is_ok, None
        return is_ok, codec.check(payload, f"{path}({'ok' if is_ok else 'err'})")

    def lower(self, value, val):
        is_ok, payload = value
        val.kind = _KIND["result"]
        val.of.result.is_ok = is_ok
        val.of.result.val = _boxed(self.ok if is_ok else self.err, payload)

    def lift(self, val):
        is_ok = bool(val.of.result.is_ok)
        codec = self.ok if is_ok else self.err
        payload = codec.lift(val.of.result.val.contents) if codec else None
        return V.Ok(payload) if is_ok else V.Err(payload)


class _Flags(Codec):
    def __init__(self, ty: FlagsT):
        super().__init__(ty)
        self.names = {f: f for f in ty.flags}
        self.names.update({V.py_name(f): f for f in ty.flags})

    def check(self, value, path):
        if isinstance(value, enum.Flag):
            value = [m.name for m in type(value) if m in value]
        if isinstance(value, str) or not isinstance(value, (set, frozenset, list, tuple)):
            raise _fail(path, self.ty, value, " (a set of flag names)")
        out = []
        for flag in value:
            if not isinstance(flag, str) or flag not in self.names:
                raise ArgumentError(f"{path}: {self.ty.name} has no flag {flag!r}; flags: {', '.join(self.ty.flags)}")
            out.append(self.names[flag])
        return sorted(set(out), key=self.ty.flags.index)

    def lower(self, value, val):
        raw = capi.valflags_t()
        capi.valflags_new_uninit(raw, len(value))
        for i, name in enumerate(value):
            raw.data[i] = capi.str_to_capi(name)
        val.kind = _KIND["flags"]
        val.of.flags = raw

    def lift(self, val):
        raw = val.of.flags
        return V.Flags((_vec_bytes(raw.data[i]).decode("utf-8") for i in range(raw.size)), self.ty.flags)


class _ResourceCodec(Codec):
    """own<R> / borrow<R>: which resource, and whether the handle's ownership moves."""

    def __init__(self, ty):
        super().__init__(ty)
        self.resource = ty.resource
        self.owned = isinstance(ty, OwnT)


class _Handle(_ResourceCodec):
    """own<R> / borrow<R> of a resource the guest implements: a :class:`~wasmlab.values.Resource`."""

    def __init__(self, ty, binder):
        super().__init__(ty)
        self.binder = binder

    def check(self, value, path):
        if isinstance(value, V.Resource) and value._type is self.resource:
            value.handle  # raises on a dropped handle
            if value._binder is not self.binder:
                raise ArgumentError(f"{path}: this {self.resource.name} belongs to another instance",
                                    hint="a handle only works in the instance that made it (a trap or new grants "
                                         "start a fresh instance): make a new one")
            if self.owned and not value._owned:
                raise ArgumentError(f"{path} takes ownership of a {self.resource.name}, but this handle is "
                                    "only borrowed", hint="pass a handle you own")
            return value
        raise _fail(path, self.ty, value, f" (a {self.resource.name} handle)")

    def lower(self, value, val):
        val.kind = _KIND["resource"]
        if self.owned:
            value._dropped = True  # ownership moves into the guest
            val.of.resource = capi.give_resource(value._handle)
        else:
            val.of.resource = capi.clone_resource(value._handle)

    def lift(self, val):
        handle = capi.take_resource(val)
        return V.Resource(self.resource, handle, self.binder, owned=self.owned)


class _HostHandle(_ResourceCodec):
    """own<R> / borrow<R> of a resource the host implements in Python: the Python object itself."""

    def __init__(self, ty, table):
        super().__init__(ty)
        self.table = table

    def check(self, value, path):
        cls = self.table.classes[self.resource]
        if isinstance(value, cls):
            return value
        raise _fail(path, self.ty, value, f" (a {getattr(cls, '__name__', 'host')} object)")

    def lower(self, value, val):
        val.kind = _KIND["resource"]
        val.of.resource = self.table.lower(self.resource, value, owned=self.owned)

    def lift(self, val):
        handle = capi.take_resource(val)
        return self.table.lift(self.resource, handle, owned=self.owned)


class _Refused(Codec):
    def check(self, value, path):
        raise refuse_host_boundary(path, self.ty)


def refuse_host_boundary(where: str, ty: Type) -> WasmlabError:
    return WasmlabError(
        f"{where} is a {ty.wit()}: streams, futures and error contexts cannot cross into Python",
        hint="keep the stream inside the composition: compose a driver component that produces or consumes it, "
             "and call the driver's plain-valued export from Python")


def codec(ty: Type, binder=None) -> Codec:
    """The codec for a WIT type (``binder`` makes and drops resource handles)."""
    ty = unalias(ty)
    if isinstance(ty, Prim):
        if ty.kind == "bool":
            return _Bool(ty)
        if ty.kind in INT_RANGES:
            return _Int(ty)
        if ty.kind in ("f32", "f64"):
            return _Float(ty)
        if ty.kind == "char":
            return _Char(ty)
        if ty.kind == "string":
            return _String(ty)
        return _Refused(ty)  # error-context
    if isinstance(ty, ListT):
        element = unalias(ty.element)
        if isinstance(element, Prim) and element.kind == "u8":
            return _Bytes(ty)
        return _List(ty, codec(element, binder))
    if isinstance(ty, FixedListT):
        return _List(ty, codec(ty.element, binder), ty.size)
    if isinstance(ty, TupleT):
        return _Tuple(ty, [codec(t, binder) for t in ty.elements])
    if isinstance(ty, RecordT):
        return _Record(ty, [(n, codec(t, binder)) for n, t in ty.fields])
    if isinstance(ty, VariantT):
        return _Variant(ty, [(n, codec(t, binder) if t is not None else None) for n, t in ty.cases])
    if isinstance(ty, EnumT):
        return _Enum(ty)
    if isinstance(ty, OptionT):
        return _Option(ty, codec(ty.inner, binder))
    if isinstance(ty, ResultT):
        return _Result(ty, codec(ty.ok, binder) if ty.ok else None, codec(ty.err, binder) if ty.err else None)
    if isinstance(ty, FlagsT):
        return _Flags(ty)
    if isinstance(ty, (OwnT, BorrowT)):
        host = getattr(binder, "host_resources", None)
        if host is not None and ty.resource in host.classes:
            return _HostHandle(ty, host)
        return _Handle(ty, binder)
    if isinstance(ty, (StreamT, FutureT)):
        return _Refused(ty)
    raise WasmlabError(f"values of type {ty.wit()} are not supported yet")


def _crosses_boundary(ty: Type | None) -> Type | None:
    """The stream/future/error-context inside ``ty``, if any."""
    ty = unalias(ty) if ty is not None else None
    if ty is None:
        return None
    if isinstance(ty, (StreamT, FutureT)) or (isinstance(ty, Prim) and ty.kind == "error-context"):
        return ty
    children = []
    if isinstance(ty, (ListT, FixedListT)):
        children = [ty.element]
    elif isinstance(ty, TupleT):
        children = ty.elements
    elif isinstance(ty, RecordT):
        children = [t for _, t in ty.fields]
    elif isinstance(ty, VariantT):
        children = [t for _, t in ty.cases if t is not None]
    elif isinstance(ty, OptionT):
        children = [ty.inner]
    elif isinstance(ty, ResultT):
        children = [t for t in (ty.ok, ty.err) if t is not None]
    for child in children:
        found = _crosses_boundary(child)
        if found is not None:
            return found
    return None


def refuse_streams(function, name: str) -> None:
    """Refuse a function whose parameters or result carry a stream, future or error context:
    wasmtime's C API aborts the whole process when one reaches the host."""
    for pname, pty in function.params:
        found = _crosses_boundary(pty)
        if found is not None:
            raise refuse_host_boundary(f"parameter {pname} of {name}", found)
    found = _crosses_boundary(function.result)
    if found is not None:
        raise refuse_host_boundary(f"the result of {name}", found)


def guest_error(payload, err_type: Type | None, function: str) -> GuestError:
    """The exception for a call of ``function`` that returned ``err(payload)``, the payload
    shown as WAVE (``err`` alone for a result without an error type)."""
    from wasmlab.wave import format as wave_format

    error = GuestError(payload, function=function)
    shown = f"err({wave_format(payload, err_type)})" if err_type is not None else "err"
    error.message = f"{function} returned {shown}"
    error.hint = "call it with .result(...) to get Ok/Err objects instead of this exception"
    return error


def unwrap_result(value, result_type: Type, function: str):
    """A ``result`` value from ``function`` unwrapped: ``ok``'s payload, or :func:`guest_error` raised."""
    if isinstance(value, V.Err):
        raise guest_error(value.value, unalias(result_type).err, function)
    return value.value


class BoundFunction:
    """One exported function of one instance, callable with Python values.

    ``result_objects=True`` returns :class:`~wasmlab.values.Ok` / :class:`~wasmlab.values.Err`
    for a ``result`` instead of raising :class:`~wasmlab.errors.GuestError` on ``err``.
    """

    allows_async = False  # async exports go through wasmlab.runtime.async_calls.AsyncBoundFunction

    def __init__(self, store, func, function, *, name: str, binder=None):
        self.store = store
        self.func = func
        self.function = function
        self.name = name
        refuse_streams(function, name)
        if function.is_async and not self.allows_async:
            raise WasmlabError(f"{name} is an async function", hint="async exports are not callable from here yet")
        self.params = [(pname, codec(pty, binder)) for pname, pty in function.params]
        self.result = codec(function.result, binder) if function.result is not None else None
        self.py_params = [V.py_name(n) for n, _ in function.params]
        self.frees = [i for i, (_, c) in enumerate(self.params) if c.owns_memory]
        self._prepare_raw_call()

    def _arguments(self, args, kwargs) -> list:
        kwargs = dict(kwargs)  # the caller's stays whole (a re-run repeats it)
        n = len(self.params)
        if len(args) > n or (kwargs and not set(kwargs) <= set(self.py_params) | {p for p, _ in self.params}):
            raise self._arity_error(len(args) + len(kwargs))
        values = list(args)
        for pname, py in zip([p for p, _ in self.params][len(args):], self.py_params[len(args):]):
            if py in kwargs:
                values.append(kwargs.pop(py))
            elif pname in kwargs:
                values.append(kwargs.pop(pname))
            else:
                raise self._arity_error(len(values))
        if kwargs:
            raise self._arity_error(len(values) + len(kwargs))
        return [c.check(v, pname) for (pname, c), v in zip(self.params, values)]

    def _arity_error(self, given: int) -> ArgumentError:
        signature = ", ".join(f"{n}: {c.ty.wit()}" for n, c in self.params)
        return ArgumentError(f"{self.name} takes {len(self.params)} argument(s) ({signature}), got {given}")

    def returned(self, value, result_objects: bool):
        """What a call that returned ``value`` gives the caller (a ``result`` unwrapped unless
        ``result_objects``)."""
        if self._unwrap and not result_objects:
            return unwrap_result(value, self.function.result, self.name)
        return value

    def _prepare_raw_call(self) -> None:
        """Buffers and pointers for the C call, made once: a call then only fills them in."""
        n = len(self.params)
        self._n = ctypes.c_size_t(n)
        self._param_slots = capi.ValSlots(n)
        self._result_slots = capi.ValSlots(1 if self.result is not None else 0)
        self._nresults = ctypes.c_size_t(self._result_slots.n)
        self._func_ptr = capi.func_handle(self.func)
        self._params_ptr = ctypes.c_void_p(self._param_slots.address)
        self._result_ptr = ctypes.c_void_p(self._result_slots.address)
        self._context_ptr = capi.store_context(self.store)
        self._lowerers = [c.lower for _, c in self.params]
        self._free_result = self.result is not None and self.result.owns_memory
        self._unwrap = isinstance(self.result, _Result)
        self._busy = False
        self._borrowed: list = []  # what the parameter slots point into during a call
        fast = [c.fast_lowerer(self._param_slots.slot(i), self._borrowed) for i, (_, c) in enumerate(self.params)]
        self._fast_lowerers = fast if all(f is not None for f in fast) else None
        address = self._result_slots.address
        self._result_scalar = self.result.fast_lifter(address) if self.result is not None else None
        reader = self.result.fast_reader(address) if self.result is not None else None
        self._read_result = reader or (lambda: self.result.lift(self._result_slots[0]))

    def __call__(self, *args, result_objects: bool = False, **kwargs):
        return self.call(args, kwargs, result_objects)

    def call(self, args: tuple, kwargs: dict, result_objects: bool = False):
        """The call itself, arguments as a tuple and a dict (no repacking on the way in)."""
        if self._busy:  # re-entered from a host import: the shared buffers are in use
            return self._call_with_fresh_buffers(self._arguments(args, kwargs), result_objects)
        self._busy = True
        try:
            fast = self._lower_fast(args, kwargs)
            if not fast:
                checked = self._arguments(args, kwargs)
                params = self._param_slots.vals
                for i, lower in enumerate(self._lowerers):
                    lower(checked[i], params[i])
            error = capi.func_call(self._func_ptr, self._context_ptr, self._params_ptr, self._n, self._result_ptr,
                                   self._nresults)
            if fast:
                if self._borrowed:
                    self._borrowed.clear()
            elif self.frees:
                self._param_slots.free(self.frees)
            if error:
                capi.raise_call_error(error)
            scalar = self._result_scalar
            if scalar is not None:
                value = scalar.value
            elif self.result is None:
                value = None
            else:
                try:
                    value = self._read_result()
                finally:
                    if self._free_result:
                        # wasmtime drops what a result slot holds before writing it: leave a plain value
                        self._result_slots.free(_FIRST)
        finally:
            self._busy = False
        if self._unwrap and not result_objects:
            return unwrap_result(value, self.function.result, self.name)
        return value

    def _lower_fast(self, args: tuple, kwargs: dict) -> bool:
        """Write plain positional arguments of simple types straight into the parameter slots;
        False leaves the call to the checked path (which explains anything refused)."""
        lowerers = self._fast_lowerers
        if kwargs or lowerers is None or len(args) != len(lowerers):
            return False
        try:
            for lower, value in zip(lowerers, args):
                if not lower(value):
                    break
            else:
                return True
        except (struct.error, OverflowError, UnicodeError):
            pass
        self._borrowed.clear()  # the checked path writes every slot again
        return False

    def _call_with_fresh_buffers(self, checked: list, result_objects: bool):
        params = capi.ValSlots(len(checked))
        results = capi.ValSlots(self._result_slots.n)
        for i, lower in enumerate(self._lowerers):
            lower(checked[i], params[i])
        try:
            error = capi.func_call(self._func_ptr, self._context_ptr, ctypes.c_void_p(params.address),
                                   ctypes.c_size_t(params.n), ctypes.c_void_p(results.address),
                                   ctypes.c_size_t(results.n))
        finally:
            params.free(self.frees)
        if error:
            capi.raise_call_error(error)
        try:
            value = self.result.lift(results[0]) if results.n else None
        finally:
            results.free(range(results.n))
        return self.returned(value, result_objects)


_FIRST = (0,)


def positional(name: str, function, args: tuple, kwargs: dict) -> tuple:
    """The arguments of a call of export ``name`` in parameter order: keywords (Python names of
    the parameters) after the positional ones; an unknown keyword is refused with the signature."""
    names = [V.py_name(param) for param, _ in function.params]
    unknown = sorted(set(kwargs) - set(names))
    if unknown:
        raise ArgumentError(f"{name} has no parameter {unknown[0]!r}", hint=f"{name}: {function.signature()}")
    return (*args, *[kwargs[n] for n in names[len(args):] if n in kwargs])


def plain_arguments(name: str, function, args: tuple, engine: str) -> list:
    """``args`` checked for a call of export ``name`` under another ``engine`` (Node, the browser),
    which takes plain values only: resources are refused, and so is a wrong argument count."""
    if has_handle(function.result) or any(has_handle(t) for _, t in function.params):
        raise WasmlabError(f"{name} passes resources, which wasmlab does not carry into {engine}",
                           hint=f"call it with wasmtime; {engine} takes plain values")
    if len(args) != len(function.params):
        raise ArgumentError(f"{name} takes {len(function.params)} arguments, got {len(args)}",
                            hint=f"{name}: {function.signature()}")
    return [codec(t).check(v, V.py_name(param)) for v, (param, t) in zip(args, function.params)]
