"""WAVE: the WebAssembly Value Encoding that ``wasmtime run --invoke`` reads and prints.

``parse(text, ty)`` reads a value of a WIT type, ``format(value, ty)`` writes one exactly as
wasmtime prints it, ``parse_call('iface#func(1, "a")')`` splits a call into its target and
argument texts and ``parse_arguments`` reads those for a function's parameters.
Examples: ``true``, ``-7``, ``nan``, ``'x'``, ``"a\\u{1F600}"``, ``[1, 2]``, ``(1, "a")``,
``{name: "x", qty: 2}``, ``some(3)``, ``none``, ``ok("y")``, ``err``, ``{read, write}``,
``circle(1.5)``, ``gold``.  As in wasmtime: a record's ``option`` fields may be left out
(they are ``none``), a bare value stands for ``some(v)`` / ``ok(v)`` where that is unambiguous,
and a case named like a keyword is written ``%ok``.
"""

from __future__ import annotations

import math
import re

from wasmlab import values as V
from wasmlab.errors import ArgumentError, Location
from wasmlab.values import KEYWORDS, format_float, quote_char, quote_string, spelled
from wasmlab.wittypes import (
    INT_RANGES,
    BorrowT,
    EnumT,
    FixedListT,
    FlagsT,
    ListT,
    OptionT,
    OwnT,
    Prim,
    RecordT,
    ResultT,
    TupleT,
    Type,
    VariantT,
    unalias,
)

__all__ = ["parse", "format", "parse_call", "parse_arguments", "quote_string", "quote_char", "format_float",
           "KEYWORDS"]


_TOKEN = re.compile(r"""
    (?P<space>\s+|//[^\n]*)
  | (?P<string>"(?:[^"\\\n]|\\.|\\u\{[0-9a-fA-F]+\})*")
  | (?P<char>'(?:[^'\\\n]|\\.|\\u\{[0-9a-fA-F]+\})')
  | (?P<badchar>'(?:[^'\\\n]|\\.)*')
  | (?P<number>-inf(?![\w-])|-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w.-]))
  | (?P<label>%?[a-zA-Z][a-zA-Z0-9]*(?:-[a-zA-Z0-9]+)*)
  | (?P<punct>[\[\]{}(),:])
""", re.VERBOSE)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'"}


class _Tokens:
    def __init__(self, text: str, origin: str, source: str | None = None, offset: int = 0):
        self.text = text
        self.origin = origin
        self.source = text if source is None else source
        self.offset = offset
        self.items: list[tuple[str, str, int]] = []
        pos = 0
        while pos < len(text):
            match = _TOKEN.match(text, pos)
            if match is None:
                raise self.error(f"unexpected character {text[pos]!r}", pos)
            if match.lastgroup == "badchar":
                raise self.error("a char is exactly one character in 'quotes' (a string is in \"quotes\")", pos)
            if match.lastgroup != "space":
                self.items.append((match.lastgroup, match.group(), pos))
            pos = match.end()
        self.index = 0
        self.depth = 0

    def error(self, message: str, pos: int | None = None) -> ArgumentError:
        if pos is None:
            pos = self.items[self.index][2] if self.index < len(self.items) else len(self.text)
        return ArgumentError(message, location=Location(self.origin, 1, self.offset + pos + 1, self.source))

    def peek(self) -> tuple[str, str, int] | None:
        return self.items[self.index] if self.index < len(self.items) else None

    def next(self, what: str) -> tuple[str, str, int]:
        token = self.peek()
        if token is None:
            raise self.error(f"expected {what}, found the end")
        self.index += 1
        return token

    def expect(self, punct: str) -> None:
        kind, text, pos = self.next(f"'{punct}'")
        if text != punct:
            raise self.error(f"expected '{punct}', found {text!r}", pos)

    def accept(self, punct: str) -> bool:
        token = self.peek()
        if token is not None and token[0] == "punct" and token[1] == punct:
            self.index += 1
            return True
        return False


def parse(text: str, ty: Type, *, origin: str = "<value>", source: str | None = None, offset: int = 0):
    """A Python value (as calls accept it) from WAVE ``text`` of WIT type ``ty``.

    ``source`` and ``offset`` place errors in a longer text the value was cut from."""
    tokens = _Tokens(text, origin, source, offset)
    if tokens.peek() is None:
        raise tokens.error(f"expected a value of type {spelled(ty)}, found nothing")
    value = _value(tokens, ty)
    if tokens.peek() is not None:
        raise tokens.error(f"unexpected {tokens.peek()[1]!r} after the value")
    return value


def _flattenable(ty: Type | None) -> bool:
    return ty is not None and not isinstance(unalias(ty), (OptionT, ResultT))


def _keyword(token) -> str | None:
    """The keyword a token is (``some``, ``ok``, ...), ``None`` for other tokens and ``%`` labels."""
    if token is not None and token[0] in ("label", "number") and token[1] in KEYWORDS:
        return token[1]
    return None


def _value(tokens: _Tokens, ty: Type):
    if tokens.depth >= V.MAX_NESTING:
        raise tokens.error(f"the value nests deeper than {V.MAX_NESTING} levels")
    tokens.depth += 1
    try:
        return _value_of(tokens, unalias(ty))
    finally:
        tokens.depth -= 1


def _value_of(tokens: _Tokens, ty: Type):
    if isinstance(ty, OptionT):
        word = _keyword(tokens.peek())
        if word == "none":
            tokens.next("none")
            if tokens.peek() is not None and tokens.peek()[1] == "(":
                raise tokens.error("none carries no value")
            return None
        if word == "some":
            tokens.next("some")
            return V.Some(_payload(tokens, ty.inner, "some"))
        if _flattenable(ty.inner):
            return V.Some(_value(tokens, ty.inner))
        raise tokens.error(f"expected some(...) or none for {spelled(ty)}")
    if isinstance(ty, ResultT):
        word = _keyword(tokens.peek())
        if word in ("ok", "err"):
            tokens.next(word)
            payload = _payload(tokens, ty.ok if word == "ok" else ty.err, word)
            return V.Ok(payload) if word == "ok" else V.Err(payload)
        if _flattenable(ty.ok):
            return V.Ok(_value(tokens, ty.ok))
        raise tokens.error(f"expected ok or err for {spelled(ty)}")
    if tokens.peek() is None:
        raise tokens.error(f"expected a value of type {spelled(ty)}, found the end")
    kind, text, pos = tokens.next("a value")
    if isinstance(ty, Prim):
        return _primitive(tokens, ty.kind, kind, text, pos)
    if isinstance(ty, (ListT, FixedListT)):
        if text != "[":
            raise tokens.error(f"expected a list '[...]' for {spelled(ty)}, found {text!r}", pos)
        items = _sequence(tokens, "]", lambda: _value(tokens, ty.element))
        if isinstance(ty, FixedListT) and len(items) != ty.size:
            raise tokens.error(f"{spelled(ty)} has exactly {ty.size} elements, got {len(items)}", pos)
        element = unalias(ty.element)
        if isinstance(element, Prim) and element.kind == "u8":
            return bytes(items)
        return items
    if isinstance(ty, TupleT):
        if text != "(":
            raise tokens.error(f"expected a tuple '(...)' for {spelled(ty)}, found {text!r}", pos)
        items = []
        while not tokens.accept(")"):
            if len(items) >= len(ty.elements):
                raise tokens.error(f"too many elements for {spelled(ty)}")
            items.append(_value(tokens, ty.elements[len(items)]))
            if not tokens.accept(","):
                tokens.expect(")")
                break
        if len(items) != len(ty.elements):
            raise tokens.error(f"{spelled(ty)} has {len(ty.elements)} elements, got {len(items)}", pos)
        return tuple(items)
    if isinstance(ty, RecordT):
        return _record(tokens, ty, text, pos)
    if isinstance(ty, FlagsT):
        if text != "{":
            raise tokens.error(f"expected flags '{{a, b}}' for {ty.name}, found {text!r}", pos)
        names = []
        for fkind, fname, fpos in _sequence(tokens, "}", lambda: tokens.next("a flag name")):
            name = fname.lstrip("%")
            if fkind not in ("label", "number") or name not in ty.flags:
                raise tokens.error(f"{ty.name} has no flag {fname!r}; flags: {', '.join(ty.flags)}", fpos)
            if name in names:
                raise tokens.error(f"flag {name} is given twice", fpos)
            names.append(name)
        return set(names)
    if kind != "label":
        raise tokens.error(f"expected a case name for {spelled(ty)}, found {text!r}", pos)
    if text in KEYWORDS:
        raise tokens.error(f"{text!r} is a keyword: write a case of that name as %{text}", pos)
    name = text.lstrip("%")
    if isinstance(ty, EnumT):
        if name not in ty.cases:
            raise tokens.error(f"{ty.name} has no case {name!r}; cases: {', '.join(ty.cases)}", pos)
        return name
    if isinstance(ty, VariantT):
        cases = dict(ty.cases)
        if name not in cases:
            raise tokens.error(f"{ty.name} has no case {name!r}; cases: {', '.join(cases)}", pos)
        return V.Variant(name, _payload(tokens, cases[name], name))
    if isinstance(ty, (OwnT, BorrowT)):
        raise tokens.error("resources cannot be written as text: call from Python to pass a handle", pos)
    raise tokens.error(f"values of type {spelled(ty)} cannot be written as text", pos)


def _sequence(tokens: _Tokens, close: str, item) -> list:
    out = []
    while not tokens.accept(close):
        out.append(item())
        if not tokens.accept(","):
            tokens.expect(close)
            break
    return out


def _record(tokens: _Tokens, ty: RecordT, text: str, pos: int) -> dict:
    if text != "{":
        raise tokens.error(f"expected a record '{{field: value, ...}}' for {ty.name}, found {text!r}", pos)
    fields = dict(ty.fields)
    out: dict = {}
    if tokens.accept(":"):  # {:} is a record with no fields given
        tokens.expect("}")
    else:
        while not tokens.accept("}"):
            fkind, fname, fpos = tokens.next("a field name")
            name = fname.lstrip("%")
            if fkind not in ("label", "number") or name not in fields:
                raise tokens.error(f"record {ty.name} has no field {fname!r}; fields: {', '.join(fields)}", fpos)
            if name in out:
                raise tokens.error(f"field {name} is given twice", fpos)
            tokens.expect(":")
            out[name] = _value(tokens, fields[name])
            if not tokens.accept(","):
                tokens.expect("}")
                break
    for name, fty in ty.fields:
        if name not in out:
            if not isinstance(unalias(fty), OptionT):
                raise tokens.error(f"record {ty.name} needs field {name} ({spelled(fty)})", pos)
            out[name] = None
    return out


def _payload(tokens: _Tokens, ty: Type | None, case: str):
    if ty is None:
        if tokens.peek() is not None and tokens.peek()[1] == "(":
            raise tokens.error(f"{case} carries no value")
        return None
    if tokens.peek() is None or tokens.peek()[1] != "(":
        raise tokens.error(f"{case} needs a value: {case}(...) of type {spelled(ty)}")
    tokens.expect("(")
    value = _value(tokens, ty)
    tokens.expect(")")
    return value


def _primitive(tokens: _Tokens, wit: str, kind: str, text: str, pos: int):
    if wit == "bool":
        if kind == "label" and text in ("true", "false"):
            return text == "true"
        raise tokens.error(f"expected true or false, found {text!r}", pos)
    if wit in ("f32", "f64"):
        if kind in ("number", "label") and text in ("nan", "inf", "-inf"):
            return float(text)
        if kind == "number":
            value = float(text)
            if math.isinf(value) or (wit == "f32" and not V.fits_f32(value)):
                raise tokens.error(f"{_cut(text)} is out of range for {wit}", pos)
            return value
        raise tokens.error(f"expected a number for {wit}, found {text!r}", pos)
    if wit in ("char", "string"):
        quote = "'" if wit == "char" else '"'
        if kind != wit:
            raise tokens.error(f"expected a {wit} in {quote}quotes{quote}, found {text!r}", pos)
        decoded = _unescape(text[1:-1], tokens, pos + 1)
        if wit == "char" and len(decoded) != 1:
            raise tokens.error("a char is exactly one character", pos)
        return decoded
    if wit == "error-context":
        raise tokens.error("error-context values cannot be written as text", pos)
    if kind != "number" or not re.fullmatch(r"-?\d+", text):
        raise tokens.error(f"expected an integer for {wit}, found {text!r}", pos)
    low, high = INT_RANGES[wit]
    # the widest integer has 20 digits: longer ones are out of range before Python reads them
    value = int(text) if len(text.lstrip("-")) <= 20 else None
    if value is None or not low <= value < high:
        raise tokens.error(f"{_cut(text)} is out of range for {wit} ({low} to {high - 1})", pos)
    return value


def _cut(text: str) -> str:
    """A number as an error message quotes it: cut short when long."""
    return text if len(text) <= 40 else f"{text[:20]}...({len(text)} digits)"


def _unescape(body: str, tokens: _Tokens, pos: int) -> str:
    out, i = [], 0
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        nxt = body[i + 1] if i + 1 < len(body) else ""
        if nxt in _ESCAPES:
            out.append(_ESCAPES[nxt])
            i += 2
        elif nxt == "u":
            match = re.match(r"u\{([0-9a-fA-F]{1,6})\}", body[i + 1:])
            if not match:
                raise tokens.error("a \\u escape is written \\u{hex}", pos + i)
            code = int(match.group(1), 16)
            if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                raise tokens.error(f"\\u{{{match.group(1)}}} is not a Unicode scalar value", pos + i)
            out.append(chr(code))
            i += 1 + match.end()
        else:
            raise tokens.error(f"unknown escape \\{nxt}", pos + i)
    return "".join(out)


def format(value, ty: Type) -> str:  # noqa: A001 - the WAVE verb
    """WAVE text of a Python value of WIT type ``ty``, exactly as ``wasmtime --invoke`` prints it
    (:func:`wasmlab.values.wave_text`: a value of the wrong shape is an ArgumentError)."""
    return V.wave_text(value, ty)


# ---- calls -----------------------------------------------------------------------------------
def _split_call(text: str, origin: str) -> tuple[str, list[tuple[str, int]]]:
    match = re.match(r"\s*([^\s(]+)\s*\(", text)
    if not match or not text.rstrip().endswith(")"):
        raise ArgumentError("write the call as EXPORT(ARGS), e.g. 'add(1, 2)' or 'iface#func(\"x\")'",
                            location=Location(origin, 1, 1, text))
    target, body_start = match.group(1), match.end()
    body_end = len(text.rstrip()) - 1
    args: list[tuple[str, int]] = []
    depth, start, quote, escape = 0, body_start, None, False
    for i in range(body_start, body_end):
        ch = text[i]
        if quote:
            if escape:
                escape = False
            elif ch == "\\":
                escape = True
            elif ch == quote:
                quote = None
            continue
        if ch in "\"'":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            args.append((text[start:i], start))
            start = i + 1
    last = text[start:body_end]
    if last.strip() or args:
        args.append((last, start))
    for piece, at in args:
        if not piece.strip():
            raise ArgumentError("an argument is empty (two commas in a row?)", location=Location(origin, 1, at + 1, text))
    return target, [(piece.strip(), at + len(piece) - len(piece.lstrip())) for piece, at in args]


def parse_call(text: str, *, origin: str = "<call>") -> tuple[str, list[str]]:
    """``'iface#func(1, "a")'`` -> ``("iface#func", ['1', '"a"'])``; argument texts are split
    at top-level commas (not inside brackets or quotes)."""
    target, args = _split_call(text, origin)
    return target, [piece for piece, _ in args]


def parse_arguments(text: str, params: list[tuple[str, Type]], *, origin: str = "<call>") -> list:
    """The Python values of the arguments in the call ``text`` for ``params`` (name, type).

    Trailing ``option`` parameters may be left out (they are ``none``), as in wasmtime."""
    _, args = _split_call(text, origin)
    if len(args) > len(params):
        piece, at = args[len(params)]
        raise ArgumentError(f"too many arguments: the function takes {len(params)}",
                            location=Location(origin, 1, at + 1, text))
    values = [parse(piece, ty, origin=origin, source=text, offset=at) for (piece, at), (_, ty) in zip(args, params)]
    for name, ty in params[len(args):]:
        if not isinstance(unalias(ty), OptionT):
            raise ArgumentError(f"missing argument {name} ({spelled(ty)})",
                                location=Location(origin, 1, len(text.rstrip()), text))
        values.append(None)
    return values
