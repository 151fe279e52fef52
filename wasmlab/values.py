"""WIT values as Python values, and the types that carry them.

| WIT | Python |
| --- | --- |
| bool, integers, floats | ``bool``, ``int`` (range-checked), ``float`` (NaN, ±inf, -0.0 kept) |
| char, string | one-character ``str``, ``str`` |
| ``list<u8>`` / other lists, ``list<T, N>`` | ``bytes`` (bytearray and memoryview accepted) / ``list`` |
| tuple | ``tuple`` |
| record | a generated dataclass per record type (a ``dict`` or any object with the fields is accepted) |
| variant | :class:`Variant` (``case``, ``value``); a bare case name is accepted for cases without payload |
| enum | a generated :class:`enum.Enum` per enum type (its member's name, or the WIT name, is accepted) |
| option | ``None`` or the value; in ``option<option<T>>`` every level is explicit (``Some(None)``, ``Some(Some(3))``), so it never collapses |
| result | the ``ok`` value, or :class:`~wasmlab.errors.GuestError` raised with the ``err`` payload; ``.result(...)`` on a function returns :class:`Ok` / :class:`Err` instead |
| flags | :class:`Flags`, a ``frozenset`` of flag names (any set, list or :class:`enum.Flag` is accepted) |
| resource | :class:`Resource`: a handle with the resource's methods; ``drop()`` or ``with`` releases it; passing it as ``own<R>`` moves it into the guest |

Every value's ``repr`` is its WAVE text, the syntax of ``wasmtime --invoke``: this module writes
WAVE (``wave_text(value, ty)``, re-exported as :func:`wasmlab.wave.format`); :mod:`wasmlab.wave` reads it.
"""

from __future__ import annotations

import builtins
import dataclasses
import enum
import functools
import math
import re
import struct
import unicodedata
from decimal import Decimal

from wasmlab.errors import ArgumentError, WasmlabError
from wasmlab.wittypes import (
    INT_RANGES,
    EnumT,
    FixedListT,
    FlagsT,
    ListT,
    OptionT,
    Prim,
    RecordT,
    ResultT,
    TupleT,
    Type,
    VariantT,
    unalias,
)

__all__ = ["Some", "Ok", "Err", "Variant", "Flags", "Resource", "record_class", "enum_class", "py_name", "class_name",
           "wave_text", "quote_string", "quote_char", "format_float", "fits_f32", "label", "KEYWORDS",
           "MAX_NESTING", "spelled"]

KEYWORDS = frozenset({"true", "false", "some", "none", "ok", "err", "inf", "nan"})  # WAVE's
# How deep values may nest (lists in lists, ...) in WAVE text, read or written: far beyond what a
# person writes, well within Python's stack.
MAX_NESTING = 100


def py_name(wit_name: str) -> str:
    """A WIT name as a Python identifier: kebab-case to snake_case (``%`` escapes dropped)."""
    name = wit_name.lstrip("%").replace("-", "_")
    return name + "_" if name in _PY_KEYWORDS else name


_PY_KEYWORDS = frozenset(__import__("keyword").kwlist)


class Some:
    """``some(value)`` where a bare value would be ambiguous: ``Some(None)`` is ``some(none)``."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __eq__(self, other):
        return isinstance(other, Some) and other.value == self.value

    def __hash__(self):
        return hash(("some", self.value))

    def __repr__(self):
        return f"some({_wave(self.value)})"


class _Outcome:
    __slots__ = ("value",)
    tag = ""

    def __init__(self, value=None):
        self.value = value

    def __eq__(self, other):
        return type(other) is type(self) and other.value == self.value

    def __hash__(self):
        return hash((self.tag, self.value))

    def __repr__(self):
        return self.tag if self.value is None else f"{self.tag}({_wave(self.value)})"


class Ok(_Outcome):
    """The ``ok`` case of a ``result``, when a function is called with ``.result(...)``."""

    tag = "ok"


class Err(_Outcome):
    """The ``err`` case of a ``result``, when a function is called with ``.result(...)``."""

    tag = "err"


class Variant:
    """A case of a WIT variant, with its payload (``None`` when the case has none)."""

    __slots__ = ("case", "value")

    def __init__(self, case: str, value=None):
        self.case = case
        self.value = value

    def __eq__(self, other):
        return isinstance(other, Variant) and (other.case, other.value) == (self.case, self.value)

    def __hash__(self):
        return hash((self.case, self.value))

    def __repr__(self):
        case = label(self.case)
        return case if self.value is None else f"{case}({_wave(self.value)})"


class Flags(frozenset):
    """The flags that are set, as a frozenset of names; its ``repr`` is WAVE in declaration order."""

    order: tuple = ()

    def __new__(cls, names=(), order: tuple = ()):
        self = super().__new__(cls, names)
        self.order = tuple(order)
        return self

    def __repr__(self):
        rank = {name: i for i, name in enumerate(self.order)}
        return "{" + ", ".join(sorted(self, key=lambda n: (rank.get(n, len(rank)), n))) + "}"


class Resource:
    """A handle to a resource: its methods are attributes; ``drop()`` (or ``with``) releases it."""

    def __init__(self, resource_type, handle, binder, *, owned: bool):
        self._type = resource_type
        self._handle = handle
        self._binder = binder
        self._owned = owned
        self._dropped = False

    @property
    def handle(self):
        if self._dropped:
            raise _dropped_error(self._type.name)
        return self._handle

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        methods = {py_name(n): fn for n, fn in self._type.methods.items()}
        if name not in methods:
            raise AttributeError(f"resource {self._type.name} has no method {name!r}; it has: "
                                 f"{', '.join(sorted(methods)) or 'none'}")
        return functools.partial(self._binder.call_method, self, methods[name])

    def drop(self) -> None:
        """Release the handle now (runs the guest's destructor for an owned resource)."""
        if self._dropped:
            return
        self._dropped = True
        if self._owned:
            self._binder.drop(self._handle)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.drop()

    def __repr__(self):
        state = "dropped" if self._dropped else ("own" if self._owned else "borrow")
        return f"<{self._type.name} resource ({state})>"


def _dropped_error(name: str):
    return WasmlabError(f"this {name} handle was dropped", hint="make a new one; a dropped handle is gone for good")


# a re-run %%wit cell makes new type objects: keep the classes of the most recent ones only
_CLASSES_KEPT = 128


@functools.lru_cache(maxsize=_CLASSES_KEPT)
def record_class(ty: RecordT) -> type:
    """The dataclass a record type is represented by; its ``repr`` is WAVE."""
    fields = [(py_name(n), object) for n, _ in ty.fields]
    cls = dataclasses.make_dataclass(class_name(ty.name) or "Value", fields, eq=True, repr=False)

    def __repr__(self):
        try:
            return wave_text(self, ty)
        except ArgumentError:  # fields set by hand to values of other types: show them as they are
            return "{" + ", ".join(f"{n}: {_wave(getattr(self, py_name(n)))}" for n, _ in ty.fields) + "}"

    cls.__repr__ = __repr__
    cls.__wit_type__ = ty
    return cls


@functools.lru_cache(maxsize=_CLASSES_KEPT)
def enum_class(ty: EnumT) -> type:
    """The :class:`enum.Enum` an enum type is represented by; members' values are WIT names."""
    cls = enum.Enum(class_name(ty.name) or "Value", [(py_name(c), c) for c in ty.cases])
    cls.__repr__ = lambda self: label(self.value)
    cls.__wit_type__ = ty
    return cls


def class_name(wit_name: str) -> str:
    """A WIT name as a Python class name, as componentize-py spells it: ``key-value`` -> ``KeyValue``.

    >>> class_name("key-value"), class_name("%record")
    ('KeyValue', 'Record')
    """
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[-_]", wit_name.lstrip("%")) if part)


def _wave(value) -> str:
    """WAVE text of a value that carries its own shape (used by reprs)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return format_float(value)
    if isinstance(value, str):
        return quote_string(value)
    if isinstance(value, (bytes, bytearray)):
        return "[" + ", ".join(str(b) for b in value) + "]"
    if isinstance(value, list):
        return "[" + ", ".join(_wave(v) for v in value) + "]"
    if isinstance(value, tuple):
        return "(" + ", ".join(_wave(v) for v in value) + ")"
    if isinstance(value, (set, frozenset)):
        return "{" + ", ".join(sorted(map(str, value))) + "}"
    if value is None:
        return "none"
    return repr(value)


# ---- WAVE text of values -----------------------------------------------------------------------
_SIMPLE_ESCAPES = {"\\": "\\\\", '"': '\\"', "'": "\\'", "\t": "\\t", "\r": "\\r", "\n": "\\n"}
# Grapheme_Extend beyond the Mn and Me categories (Other_Grapheme_Extend)
_OTHER_GRAPHEME_EXTEND = frozenset("\u09be\u09d7\u0b3e\u0b57\u0bbe\u0bd7\u0cc2\u0cd5\u0cd6\u0d3e\u0d57\u0dcf"
                                   "\u0ddf\u1b35\u200c\u302e\u302f\uff9e\uff9f")


def _escape(ch: str) -> str:
    """One character as wasmtime writes it inside quotes (Rust's ``escape_default`` for quotes
    and \\t \\r \\n, ``\\u{..}`` for control, combining and unprintable characters)."""
    simple = _SIMPLE_ESCAPES.get(ch)
    if simple is not None:
        return simple
    if ch.isprintable() and unicodedata.category(ch) not in ("Mn", "Me") and ch not in _OTHER_GRAPHEME_EXTEND:
        return ch
    return f"\\u{{{ord(ch):x}}}"


def quote_string(text: str) -> str:
    return '"' + "".join(map(_escape, text)) + '"'


def quote_char(ch: str) -> str:
    return "'" + _escape(ch) + "'"


def label(name: str) -> str:
    """A case or field name as WAVE writes it: ``%`` before a keyword (``%ok``)."""
    return f"%{name}" if name in KEYWORDS else name


def fits_f32(value: float) -> bool:
    try:
        struct.pack("<f", value)  # rounds to nearest; refuses what would round to infinity
    except OverflowError:
        return False
    return True


def format_float(value: float, bits: int = 64) -> str:
    """A float as wasmtime prints it: the shortest digits that read back to the same value,
    never in exponent form (``1``, ``-0``, ``0.1``, ``1e20`` is ``100000000000000000000``).

    >>> format_float(1e20), format_float(-0.0), format_float(0.1, 32)
    ('100000000000000000000', '-0', '0.1')
    """
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    digits = repr(float(value)) if bits == 64 else _shortest_f32(value)
    text = builtins.format(Decimal(digits), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _shortest_f32(value: float) -> str:
    target = struct.pack("<f", value)
    for precision in range(1, 10):
        text = f"{value:.{precision}g}"
        if fits_f32(float(text)) and struct.pack("<f", float(text)) == target:
            return text
    return repr(value)


def wave_text(value, ty: Type) -> str:
    """WAVE text of a Python value of WIT type ``ty``, exactly as ``wasmtime --invoke`` prints it;
    a value that does not fit ``ty`` is an :class:`~wasmlab.errors.ArgumentError` saying where.

    >>> wave_text([1, 2], ListT(Prim("u8")))
    '[1, 2]'
    >>> wave_text(["a", 2], ListT(Prim("string")))
    Traceback (most recent call last):
    ...
    wasmlab.errors.ArgumentError: argument error: a value of type string is a str, got 2 (at [1])
    """
    return _Writer().text(value, ty)


class _Writer:
    def __init__(self):
        self.path: list[str] = []

    def text(self, value, ty: Type) -> str:
        if len(self.path) >= MAX_NESTING:
            raise self.error(f"the value nests deeper than {MAX_NESTING} levels")
        ty = unalias(ty)
        if isinstance(ty, Prim):
            return self.primitive(value, ty.kind)
        if isinstance(ty, (ListT, FixedListT)):
            if isinstance(value, (str, dict, set, frozenset)) or not hasattr(value, "__iter__"):
                raise self.wrong(value, ty, "a list")
            items = list(value)
            if isinstance(ty, FixedListT) and len(items) != ty.size:
                raise self.error(f"a value of type {spelled(ty)} has {ty.size} elements, got {len(items)}")
            return "[" + ", ".join(self.inside(f"[{i}]", v, ty.element) for i, v in enumerate(items)) + "]"
        if isinstance(ty, TupleT):
            if not isinstance(value, (tuple, list)) or len(value) != len(ty.elements):
                raise self.wrong(value, ty, f"a tuple of {len(ty.elements)}")
            return "(" + ", ".join(self.inside(f"[{i}]", v, t)
                                   for i, (v, t) in enumerate(zip(value, ty.elements))) + ")"
        if isinstance(ty, RecordT):
            return self.record(value, ty)
        if isinstance(ty, FlagsT):
            if isinstance(value, enum.Flag):
                value = [m.name for m in type(value) if m in value]
            if not isinstance(value, (set, frozenset, list, tuple)):
                raise self.wrong(value, ty, "a set of flag names")
            names = {_wit_name(f, ty.flags) for f in value}
            unknown = [f for f in value if _wit_name(f, ty.flags) is None]
            if unknown:
                raise self.error(f"{ty.name} has no flag {_short(unknown[0])}; flags: {', '.join(ty.flags)}")
            return "{" + ", ".join(f for f in ty.flags if f in names) + "}"
        if isinstance(ty, EnumT):
            if isinstance(value, enum.Enum):
                value = value.value if isinstance(value.value, str) else value.name
            name = _wit_name(value, ty.cases)
            if name is None:
                raise self.error(f"{ty.name} has no case {_short(value)}; cases: {', '.join(ty.cases)}")
            return label(name)
        if isinstance(ty, VariantT):
            case, payload = (value.case, value.value) if isinstance(value, Variant) else (value, None)
            cases = dict(ty.cases)
            name = _wit_name(case, cases)
            if name is None:
                raise self.error(f"{ty.name} has no case {_short(case)}; cases: {', '.join(cases)}")
            case, payload_ty = name, cases[name]
            return label(case) if payload_ty is None else f"{label(case)}({self.inside(case, payload, payload_ty)})"
        if isinstance(ty, OptionT):
            if value is None:
                return "none"
            inner = value.value if isinstance(value, Some) else value
            return f"some({self.inside('some', inner, ty.inner)})"
        if isinstance(ty, ResultT):
            if isinstance(value, (Ok, Err)):
                is_ok, payload = isinstance(value, Ok), value.value
            else:
                is_ok, payload = True, value
            payload_ty = ty.ok if is_ok else ty.err
            tag = "ok" if is_ok else "err"
            return tag if payload_ty is None else f"{tag}({self.inside(tag, payload, payload_ty)})"
        raise self.error(f"values of type {spelled(ty)} have no WAVE text")

    def inside(self, step: str, value, ty: Type) -> str:
        self.path.append(step)
        try:
            return self.text(value, ty)
        finally:
            self.path.pop()

    def primitive(self, value, kind: str) -> str:
        if kind == "bool":
            if not isinstance(value, bool):
                raise self.wrong(value, Prim(kind), "True or False")
            return "true" if value else "false"
        if kind in ("f32", "f64"):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise self.wrong(value, Prim(kind), "a float")
            try:
                value = float(value)
            except OverflowError:
                raise self.error(f"{_short(value)} is out of {kind}'s range") from None
            if kind == "f32" and not fits_f32(value):
                raise self.error(f"{value!r} is out of f32's range")
            return format_float(value, 32 if kind == "f32" else 64)
        if kind == "char":
            if not isinstance(value, str) or len(value) != 1:
                raise self.wrong(value, Prim(kind), "a str of one character")
            return quote_char(value)
        if kind == "string":
            if not isinstance(value, str):
                raise self.wrong(value, Prim(kind), "a str")
            return quote_string(value)
        if kind in INT_RANGES:
            if isinstance(value, bool) or not isinstance(value, int):
                raise self.wrong(value, Prim(kind), "an int")
            low, high = INT_RANGES[kind]
            if not low <= value < high:
                raise self.error(f"{_short(value)} is out of range for {kind} ({low} to {high - 1})")
            return str(value)
        raise self.error(f"values of type {kind} have no WAVE text")

    def record(self, value, ty: RecordT) -> str:
        if isinstance(value, dict):
            fields = value
        elif all(hasattr(value, py_name(n)) for n, _ in ty.fields):
            fields = {n: getattr(value, py_name(n)) for n, _ in ty.fields}
        else:
            raise self.wrong(value, ty, f"a dict (or object) with fields {', '.join(n for n, _ in ty.fields)}")
        parts = []
        for name, fty in ty.fields:
            if name not in fields and py_name(name) not in fields and not isinstance(unalias(fty), OptionT):
                raise self.error(f"record {ty.name} needs field {name} ({spelled(fty)})")
            field = fields.get(name, fields.get(py_name(name)))
            if field is None and isinstance(unalias(fty), OptionT):
                continue  # wasmtime leaves out option fields that are none
            parts.append(f"{label(name)}: {self.inside(f'.{name}', field, fty)}")
        return "{" + ", ".join(parts) + "}" if parts else "{:}"

    def wrong(self, value, ty: Type, expected: str) -> ArgumentError:
        return self.error(f"a value of type {spelled(ty)} is {expected}, got {_short(value)}")

    def error(self, message: str) -> ArgumentError:
        where = f" (at {''.join(self.path)})" if self.path else ""
        return ArgumentError(message + where)


def spelled(ty: Type) -> str:
    """A type as error messages spell it: its WIT, cut short when long (a type built by hand may
    nest deeper than WIT allows: that is named, not spelled)."""
    try:
        text = ty.wit()
    except RecursionError:
        return f"a {type(ty).__name__} nested too deeply to spell"
    return text if len(text) <= 80 else text[:77] + "..."


def _short(value) -> str:
    """A value as an error message quotes it: its repr, cut short when long."""
    try:
        text = repr(value)
    except (ValueError, RecursionError):  # an int beyond the int-string limit, a self-containing list
        text = f"<{type(value).__name__}>"
    return text if len(text) <= 60 else text[:57] + "..."


def _wit_name(value, names) -> str | None:
    """Which of ``names`` (flags, enum cases) ``value`` is, given as the WIT name or as a Python name."""
    if isinstance(value, str):
        for name in names:
            if value in (name, py_name(name)):
                return name
    return None
