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

Every value's ``repr`` is its WAVE text, the syntax of ``wasmtime --invoke``.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import re

from wasmlab.wittypes import EnumT, RecordT

__all__ = ["Some", "Ok", "Err", "Variant", "Flags", "Resource", "record_class", "enum_class", "py_name"]


def py_name(wit_name: str) -> str:
    """A WIT name as a Python identifier: kebab-case to snake_case (``%`` escapes dropped)."""
    name = wit_name.lstrip("%").replace("-", "_")
    return name + "_" if name in _PY_KEYWORDS else name


_PY_KEYWORDS = frozenset(__import__("keyword").kwlist)
_KEYWORDS = frozenset({"true", "false", "some", "none", "ok", "err", "inf", "nan"})  # WAVE's


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
        case = f"%{self.case}" if self.case in _KEYWORDS else self.case
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
    from wasmlab.errors import WasmlabError

    return WasmlabError(f"this {name} handle was dropped", hint="make a new one; a dropped handle is gone for good")


# a re-run %%wit cell makes new type objects: keep the classes of the most recent ones only
_CLASSES_KEPT = 128


@functools.lru_cache(maxsize=_CLASSES_KEPT)
def record_class(ty: RecordT) -> type:
    """The dataclass a record type is represented by; its ``repr`` is WAVE."""
    fields = [(py_name(n), object) for n, _ in ty.fields]
    cls = dataclasses.make_dataclass(_camel(ty.name), fields, eq=True, repr=False)

    def __repr__(self):
        from wasmlab.wave import format as wave_format

        try:
            return wave_format(self, ty)
        except Exception:  # fields set by hand to values of other types: show them as they are
            return "{" + ", ".join(f"{n}: {_wave(getattr(self, py_name(n)))}" for n, _ in ty.fields) + "}"

    cls.__repr__ = __repr__
    cls.__wit_type__ = ty
    return cls


@functools.lru_cache(maxsize=_CLASSES_KEPT)
def enum_class(ty: EnumT) -> type:
    """The :class:`enum.Enum` an enum type is represented by; members' values are WIT names."""
    cls = enum.Enum(_camel(ty.name), [(py_name(c), c) for c in ty.cases])
    cls.__repr__ = lambda self: f"%{self.value}" if self.value in _KEYWORDS else self.value
    cls.__wit_type__ = ty
    return cls


def _camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[-_]", name) if part) or "Value"


def _wave(value) -> str:
    """WAVE text of a value that carries its own shape (used by reprs)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        from wasmlab.wave import format_float

        return format_float(value)
    if isinstance(value, str):
        from wasmlab.wave import quote_string

        return quote_string(value)
    if isinstance(value, (bytes, bytearray)):
        return "[" + ", ".join(str(b) for b in value) + "]"
    if isinstance(value, list):
        return "[" + ", ".join(_wave(v) for v in value) + "]"
    if isinstance(value, tuple):
        return "(" + ", ".join(_wave(v) for v in value) + ")"
    if isinstance(value, (set, frozenset)):
        return "{" + ", ".join(sorted(value)) + "}"
    if value is None:
        return "none"
    return repr(value)
