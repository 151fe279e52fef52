"""Tokens of the WAC language, with the spans and lexical errors bytecodealliance/wac reports.

The token set, the longest-match rule (keywords win ties against identifiers) and the error
texts follow the reference lexer, so parse errors name the same tokens at the same places.
Spans are ``(offset, length)`` in characters of the source text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import Enum

__all__ = ["Span", "Tok", "LexError", "Lexer"]


@dataclass(frozen=True)
class Span:
    """A region of the source: ``offset`` and ``length`` in characters."""

    offset: int
    length: int

    @property
    def end(self) -> int:
        return self.offset + self.length

    def to(self, other: "Span") -> "Span":
        """The span from the start of this one to the end of ``other``."""
        return Span(self.offset, other.end - self.offset)


class Tok(Enum):
    """A token kind; its value is how error messages name it."""

    IDENT = "identifier"
    STRING = "string literal"
    PACKAGE_NAME = "package name"
    PACKAGE_PATH = "package path"
    IMPORT = "`import` keyword"
    WITH = "`with` keyword"
    TYPE = "`type` keyword"
    TUPLE = "`tuple` keyword"
    LIST = "`list` keyword"
    OPTION = "`option` keyword"
    RESULT = "`result` keyword"
    BORROW = "`borrow` keyword"
    RESOURCE = "`resource` keyword"
    VARIANT = "`variant` keyword"
    RECORD = "`record` keyword"
    FLAGS = "`flags` keyword"
    ENUM = "`enum` keyword"
    FUNC = "`func` keyword"
    STATIC = "`static` keyword"
    CONSTRUCTOR = "`constructor` keyword"
    U8 = "`u8` keyword"
    S8 = "`s8` keyword"
    U16 = "`u16` keyword"
    S16 = "`s16` keyword"
    U32 = "`u32` keyword"
    S32 = "`s32` keyword"
    U64 = "`u64` keyword"
    S64 = "`s64` keyword"
    F32 = "`f32` keyword"
    F64 = "`f64` keyword"
    CHAR = "`char` keyword"
    BOOL = "`bool` keyword"
    STRING_KW = "`string` keyword"
    INTERFACE = "`interface` keyword"
    WORLD = "`world` keyword"
    EXPORT = "`export` keyword"
    NEW = "`new` keyword"
    LET = "`let` keyword"
    USE = "`use` keyword"
    INCLUDE = "`include` keyword"
    AS = "`as` keyword"
    PACKAGE = "`package` keyword"
    TARGETS = "`targets` keyword"
    SEMICOLON = "`;`"
    OPEN_BRACE = "`{`"
    CLOSE_BRACE = "`}`"
    COLON = "`:`"
    EQUALS = "`=`"
    OPEN_PAREN = "`(`"
    CLOSE_PAREN = "`)`"
    ARROW = "`->`"
    OPEN_ANGLE = "`<`"
    CLOSE_ANGLE = "`>`"
    UNDERSCORE = "`_`"
    OPEN_BRACKET = "`[`"
    CLOSE_BRACKET = "`]`"
    DOT = "`.`"
    ELLIPSIS = "`...`"
    COMMA = "`,`"
    SLASH = "`/`"
    AT = "`@`"

    def __str__(self) -> str:
        return self.value


KEYWORDS = {
    tok.value[1:-len("` keyword")]: tok for tok in Tok if tok.value.endswith("` keyword")
}
SYMBOLS = {tok.value[1:-1]: tok for tok in Tok if tok.value.startswith("`") and not tok.value.endswith("keyword")}

_WORD = r"(?:[a-z][a-z0-9]*|[A-Z][A-Z0-9]*)"
_ID = rf"%?{_WORD}(?:-{_WORD})*"
_PACKAGE_NAME = rf"{_ID}(?::{_ID})+"
_SEMVER = r"[0-9]+(?:\.[0-9a-zA-Z\-+]+)*"
_PATTERNS = [
    (Tok.IDENT, re.compile(_ID)),
    (Tok.PACKAGE_NAME, re.compile(rf"{_PACKAGE_NAME}(?:@{_SEMVER})?")),
    (Tok.PACKAGE_PATH, re.compile(rf"{_PACKAGE_NAME}(?:/{_ID})+(?:@{_SEMVER})?")),
]
_SYMBOLS_LONGEST_FIRST = sorted(SYMBOLS, key=len, reverse=True)
_WHITESPACE = " \t\r\n\f"

_BIDI_OVERRIDES = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_DISCOURAGED = set("\u0149\u0673\u0f77\u0f79\u17a3\u17a4\u17b4\u17b5")


class LexError(Enum):
    """A lexical error; the message is the reference's text."""

    UNEXPECTED_TOKEN = "unexpected token was encountered"
    UNTERMINATED_STRING = "an unterminated string was encountered"
    UNTERMINATED_COMMENT = "an unterminated comment was encountered"
    BIDI_OVERRIDE = "disallowed bidirectional override codepoint `{c}`"
    DISCOURAGED_CODEPOINT = "codepoint `{c}` is discouraged by Unicode"
    CONTROL_CODE = "disallowed control code '{c}'"


@dataclass(frozen=True)
class InvalidInput:
    """A character the reference refuses anywhere in a document."""

    error: LexError
    char: str
    span: Span

    def message(self) -> str:
        return self.error.value.format(c=f"\\u{{{ord(self.char):x}}}")


def find_invalid_input(source: str) -> InvalidInput | None:
    """The first character the reference rejects before lexing (bidi overrides, control codes)."""
    for offset, ch in enumerate(source):
        if ch in "\r\t\n":
            continue
        if ch in _BIDI_OVERRIDES:
            return InvalidInput(LexError.BIDI_OVERRIDE, ch, Span(offset, 1))
        if ch in _DISCOURAGED:
            return InvalidInput(LexError.DISCOURAGED_CODEPOINT, ch, Span(offset, 1))
        if unicodedata.category(ch) == "Cc":
            return InvalidInput(LexError.CONTROL_CODE, ch, Span(offset, 1))
    return None


def _block_comment_length(source: str, start: int) -> int | None:
    """Length of the (nested) block comment opening at ``start``, None if unterminated."""
    depth = 0
    i = start
    n = len(source)
    while i < n:
        if source.startswith("/*", i):
            depth += 1
            i += 2
        elif source.startswith("*/", i):
            depth -= 1
            i += 2
            if depth == 0:
                return i - start
        else:
            i += 1
    return None


@dataclass(frozen=True)
class Token:
    """One lexed token: its kind, or the lexical error found in its place."""

    kind: Tok | LexError
    span: Span


def tokenize(source: str) -> list[Token]:
    """Every token of ``source`` in order, comments and whitespace skipped, errors kept in place."""
    tokens: list[Token] = []
    i, n = 0, len(source)
    while i < n:
        ch = source[i]
        if ch in _WHITESPACE:
            i += 1
            continue
        if source.startswith("//", i):
            newline = source.find("\n", i)
            i = n if newline < 0 else newline
            continue
        if source.startswith("/*", i):
            length = _block_comment_length(source, i)
            if length is None:
                tokens.append(Token(LexError.UNTERMINATED_COMMENT, Span(i, n - i)))
                break
            i += length
            continue
        if ch == '"':
            close = source.find('"', i + 1)
            if close < 0:
                tokens.append(Token(LexError.UNTERMINATED_STRING, Span(i, 1)))
                i += 1
                continue
            tokens.append(Token(Tok.STRING, Span(i, close + 1 - i)))
            i = close + 1
            continue
        best_kind, best_len = None, 0
        for kind, pattern in _PATTERNS:
            m = pattern.match(source, i)
            if m and m.end() - i > best_len:
                best_kind, best_len = kind, m.end() - i
        if best_kind is Tok.IDENT:
            word = source[i:i + best_len]
            if word in KEYWORDS:
                best_kind = KEYWORDS[word]
        for symbol in _SYMBOLS_LONGEST_FIRST:
            if source.startswith(symbol, i) and len(symbol) > best_len:
                best_kind, best_len = SYMBOLS[symbol], len(symbol)
                break
        if best_kind is None:
            tokens.append(Token(LexError.UNEXPECTED_TOKEN, Span(i, 1)))
            i += 1
            continue
        tokens.append(Token(best_kind, Span(i, best_len)))
        i += best_len
    return tokens


def doc_comments(source: str, start: int) -> list[tuple[str, Span]]:
    """The doc comments (``///`` and ``/** */``) between ``start`` and the next token.

    Like the reference, scanning stops at the first thing that is neither a comment nor
    whitespace (a carriage return included).
    """
    found: list[tuple[str, Span]] = []
    i, n = start, len(source)
    while i < n:
        if source[i] in " \t\n\f":
            i += 1
            continue
        if source.startswith("//", i):
            newline = source.find("\n", i)
            end = n if newline < 0 else newline
            text = source[i:end]
            if text.startswith("///"):
                found.append((text[3:].strip(), Span(i, end - i)))
            i = end
            continue
        if source.startswith("/*", i):
            length = _block_comment_length(source, i)
            if length is None:
                break
            text = source[i:i + length]
            if text.startswith("/**") and text[3:] != "/":
                found.append((text[3:-2].strip(), Span(i, length)))
            i += length
            continue
        break
    return found


class Lexer:
    """A cursor over the tokens of a source, with the reference's peek and span behaviour."""

    def __init__(self, source: str):
        self.source = source
        self.tokens = tokenize(source)
        self.pos = 0
        self._last = Span(0, 0)

    def peek(self, ahead: int = 0) -> Token | None:
        index = self.pos + ahead
        return self.tokens[index] if index < len(self.tokens) else None

    def next(self) -> Token | None:
        token = self.peek()
        if token is None:
            self._last = Span(len(self.source), 0)
            return None
        self.pos += 1
        self._last = token.span
        return token

    def text(self, span: Span) -> str:
        return self.source[span.offset:span.end]

    def span(self) -> Span:
        """The span of the last token consumed; at the very end, the last character (as the reference)."""
        span = self._last
        if span.end == len(self.source):
            start = max(span.offset - 1, 0)
            return Span(start, 1)
        return span

    def comments(self) -> list[tuple[str, Span]]:
        """Doc comments between the last consumed token and the next one."""
        start = self.tokens[self.pos - 1].span.end if self.pos > 0 else 0
        return doc_comments(self.source, start)
