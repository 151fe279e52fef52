"""Parse WAC text into a :class:`~wasmlab.wac._ast.Document`.

A recursive-descent parser with one token of lookahead. Each alternative is tried in the
reference's order and remembered, so a syntax error lists the expected tokens exactly as
bytecodealliance/wac does ("expected either `import` keyword, ..., found ...").
"""

from __future__ import annotations

import re
from contextlib import contextmanager

from wasmlab.errors import Location, WacError
from wasmlab.wac import _ast as ast
from wasmlab.wac._lexer import Lexer, LexError, Span, Tok, Token, find_invalid_input

__all__ = ["parse_document", "located_error", "is_valid_semver"]

PRIMITIVE_TYPES = {
    Tok.U8: "u8", Tok.S8: "s8", Tok.U16: "u16", Tok.S16: "s16", Tok.U32: "u32", Tok.S32: "s32",
    Tok.U64: "u64", Tok.S64: "s64", Tok.F32: "f32", Tok.F64: "f64", Tok.CHAR: "char", Tok.BOOL: "bool",
    Tok.STRING_KW: "string",
}
_ITEM_TYPE_KEYWORDS = [Tok.RESOURCE, Tok.VARIANT, Tok.RECORD, Tok.FLAGS, Tok.ENUM, Tok.TYPE]


def line_col(source: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a character offset, as the reference reports them.

    The reference (through miette) counts the column in UTF-8 bytes, so a line with non-ASCII
    text before the offset gives a larger column than its character count.
    """
    offset = max(0, min(offset, len(source)))
    line = source.count("\n", 0, offset) + 1
    line_start = source.rfind("\n", 0, offset) + 1
    return line, len(source[line_start:offset].encode("utf-8")) + 1


def located_error(message: str, span: Span, source: str, origin: str, *, label: str | None = None,
                  hint: str | None = None) -> WacError:
    """A :class:`WacError` at ``span`` of ``source``; ``span`` and ``label`` are kept on the error."""
    line, col = line_col(source, span.offset)
    error = WacError(message, location=Location(origin, line, col, source, byte_column=True), hint=hint)
    error.span = span
    error.label = label
    return error


class _SyntaxError(Exception):
    def __init__(self, message: str, span: Span, label: str | None = None):
        super().__init__(message)
        self.message, self.span, self.label = message, span, label


def _found(kind: Tok | None) -> str:
    return "end of input" if kind is None else str(kind)


def _lex_error(token: Token) -> _SyntaxError:
    return _SyntaxError(token.kind.value, token.span)


# as deep as wit-parser lets types nest ("type nesting too deep")
MAX_NESTING = 100
_NUMERIC = re.compile(r"0|[1-9][0-9]*")
_IDENTIFIER = re.compile(r"[0-9A-Za-z-]+")


def is_valid_semver(text: str) -> bool:
    """Whether ``text`` is a semantic version as the Rust ``semver`` crate accepts it."""
    core, plus, build = text.partition("+")
    core, minus, pre = core.partition("-")
    parts = core.split(".")
    if len(parts) != 3 or not all(_NUMERIC.fullmatch(p) and len(p) <= 20 and int(p) < 2**64 for p in parts):
        return False
    if minus:
        for ident in pre.split("."):
            if not _IDENTIFIER.fullmatch(ident):
                return False
            if ident.isdigit() and not _NUMERIC.fullmatch(ident):
                return False
    if plus and not all(_IDENTIFIER.fullmatch(i) for i in build.split(".")):
        return False
    return True


class _Lookahead:
    """The next token plus every kind tried against it, for the "expected ..." message."""

    def __init__(self, lexer: Lexer):
        self.next = lexer.peek()
        self.span = lexer.span()
        self.attempts: list[Tok] = []

    def peek(self, kind: Tok) -> bool:
        if self.next is not None and self.next.kind is kind:
            return True
        self.attempts.append(kind)
        return False

    def error(self) -> _SyntaxError:
        if self.next is not None and isinstance(self.next.kind, LexError):
            return _lex_error(self.next)
        found = None if self.next is None else self.next.kind
        span = self.span if self.next is None else self.next.span
        label = f"unexpected {_found(found)}"
        attempts = self.attempts
        if len(attempts) == 1:
            return _SyntaxError(f"expected {attempts[0]}, found {_found(found)}", span, label)
        if len(attempts) == 2:
            return _SyntaxError(f"expected {attempts[0]} or {attempts[1]}, found {_found(found)}", span, label)
        listed = []
        for i, kind in enumerate(attempts[:10]):
            listed.append(("or " if i == len(attempts) - 1 else "") + str(kind))
        expected = ", ".join(listed) + (", or more..." if len(attempts) > 10 else "")
        return _SyntaxError(f"expected either {expected}, found {_found(found)}", span, label)


class _Parser:
    def __init__(self, source: str):
        self.source = source
        self.lexer = Lexer(source)
        self.depth = 0
        self.deepest: tuple[int, Span | None] = (0, None)

    @contextmanager
    def nested(self):
        """One level deeper into a type or an expression: refused beyond ``MAX_NESTING``, so that
        no document can exhaust the stack here or in the resolver and encoder after us."""
        if self.depth >= MAX_NESTING:
            token = self.lexer.peek()
            span = token.span if token is not None else self.lexer.span()
            raise _SyntaxError(f"types and expressions may nest at most {MAX_NESTING} levels deep", span,
                               "nested too deeply")
        self.depth += 1
        if self.depth > self.deepest[0]:
            token = self.lexer.peek()
            self.deepest = (self.depth, token.span if token is not None else None)
        try:
            yield
        finally:
            self.depth -= 1

    # -- token helpers ------------------------------------------------------------------
    def token(self, expected: Tok) -> Span:
        token = self.lexer.next()
        if token is None:
            raise _SyntaxError(f"expected {expected}, found end of input", self.lexer.span(),
                               "unexpected end of input")
        if isinstance(token.kind, LexError):
            raise _lex_error(token)
        if token.kind is not expected:
            raise _SyntaxError(f"expected {expected}, found {token.kind}", token.span,
                               f"unexpected {token.kind}")
        return token.span

    def peek_is(self, kind: Tok, ahead: int = 0) -> bool:
        token = self.lexer.peek(ahead)
        return token is not None and token.kind is kind

    def optional(self, expected: Tok, parse):
        token = self.lexer.peek()
        if token is None:
            return None
        if isinstance(token.kind, LexError):
            raise _lex_error(token)
        if token.kind is expected:
            self.lexer.next()
            return parse()
        return None

    def delimited(self, peek, parse, until: Tok, commas: bool) -> list:
        items = []
        while True:
            lookahead = _Lookahead(self.lexer)
            if lookahead.peek(until):
                break
            if not peek(lookahead):
                raise lookahead.error()
            items.append(parse())
            token = self.lexer.peek()
            if token is not None and isinstance(token.kind, Tok):
                if token.kind is until:
                    break
                if commas:
                    self.token(Tok.COMMA)
        return items

    def docs(self) -> list[ast.DocComment]:
        return [ast.DocComment(text, span) for text, span in self.lexer.comments()]

    # -- names ----------------------------------------------------------------------------
    def ident(self) -> ast.Ident:
        span = self.token(Tok.IDENT)
        text = self.lexer.text(span)
        return ast.Ident(text[1:] if text.startswith("%") else text, span)

    def string(self) -> ast.String:
        span = self.token(Tok.STRING)
        return ast.String(self.lexer.text(span)[1:-1], span)

    def ident_or_string(self):
        lookahead = _Lookahead(self.lexer)
        if lookahead.peek(Tok.IDENT):
            return self.ident()
        if lookahead.peek(Tok.STRING):
            return self.string()
        raise lookahead.error()

    def _version(self, text: str, at: int, span: Span) -> str | None:
        if at < 0:
            return None
        version = text[at + 1:]
        if not is_valid_semver(version):
            start = span.offset + at + 1
            shown = version if len(version) <= 40 else f"{version[:30]}...({len(version)} characters)"
            raise _SyntaxError(f"`{shown}` is not a valid semantic version", Span(start, span.end - start),
                               "invalid version")
        return version

    def package_name(self) -> ast.PackageName:
        span = self.token(Tok.PACKAGE_NAME)
        text = self.lexer.text(span)
        at = text.find("@")
        version = self._version(text, at, span)
        return ast.PackageName(text, text if at < 0 else text[:at], version, span)

    def package_path(self) -> ast.PackagePath:
        span = self.token(Tok.PACKAGE_PATH)
        text = self.lexer.text(span)
        slash = text.find("/")
        at = text.find("@")
        version = self._version(text, at, span)
        return ast.PackagePath(span, text, text[:slash], text[slash + 1:at if at >= 0 else len(text)], version)

    # -- document -----------------------------------------------------------------------
    def document(self) -> ast.Document:
        docs = self.docs()
        self.token(Tok.PACKAGE)
        package = self.package_name()
        targets = self.optional(Tok.TARGETS, self.package_path)
        self.token(Tok.SEMICOLON)
        statements = []
        while self.lexer.peek() is not None:
            statements.append(self.statement())
        return ast.Document(docs, ast.PackageDirective(package, targets), statements, deepest=self.deepest[1])

    def statement(self):
        lookahead = _Lookahead(self.lexer)
        if lookahead.peek(Tok.IMPORT):
            return self.import_statement()
        if lookahead.peek(Tok.LET):
            return self.let_statement()
        if lookahead.peek(Tok.EXPORT):
            return self.export_statement()
        if lookahead.peek(Tok.INTERFACE):
            return self.interface_decl()
        if lookahead.peek(Tok.WORLD):
            return self.world_decl()
        for kind in (Tok.VARIANT, Tok.RECORD, Tok.FLAGS, Tok.ENUM, Tok.TYPE):
            if lookahead.peek(kind):
                return self.item_type_decl(kind)
        raise lookahead.error()

    def import_statement(self) -> ast.ImportStatement:
        docs = self.docs()
        self.token(Tok.IMPORT)
        id_ = self.ident()
        name = self.optional(Tok.AS, self.ident_or_string)
        self.token(Tok.COLON)
        lookahead = _Lookahead(self.lexer)
        if lookahead.peek(Tok.FUNC):
            ty = self.func_type()
        elif lookahead.peek(Tok.INTERFACE):
            ty = self.inline_interface()
        elif lookahead.peek(Tok.PACKAGE_PATH):
            ty = self.package_path()
        elif lookahead.peek(Tok.IDENT):
            ty = self.ident()
        else:
            raise lookahead.error()
        self.token(Tok.SEMICOLON)
        return ast.ImportStatement(docs, id_, name, ty)

    def let_statement(self) -> ast.LetStatement:
        docs = self.docs()
        self.token(Tok.LET)
        id_ = self.ident()
        self.token(Tok.EQUALS)
        expr = self.expr()
        self.token(Tok.SEMICOLON)
        return ast.LetStatement(docs, id_, expr)

    def export_statement(self) -> ast.ExportStatement:
        docs = self.docs()
        self.token(Tok.EXPORT)
        expr = self.expr()
        options = None
        if self.peek_is(Tok.ELLIPSIS):
            options = ast.ExportSpread(self.token(Tok.ELLIPSIS))
        elif self.peek_is(Tok.AS):
            self.token(Tok.AS)
            options = ast.ExportRename(self.ident_or_string())
        self.token(Tok.SEMICOLON)
        return ast.ExportStatement(docs, expr, options)

    # -- expressions --------------------------------------------------------------------
    def expr(self) -> ast.Expr:
        with self.nested():
            return self._expr()

    def _expr(self) -> ast.Expr:
        lookahead = _Lookahead(self.lexer)
        if lookahead.peek(Tok.NEW):
            primary = self.new_expr()
        elif lookahead.peek(Tok.OPEN_PAREN):
            start = self.token(Tok.OPEN_PAREN)
            inner = self.expr()
            end = self.token(Tok.CLOSE_PAREN)
            primary = ast.NestedExpr(start.to(end), inner)
        elif lookahead.peek(Tok.IDENT):
            primary = self.ident()
        else:
            raise lookahead.error()
        postfix = []
        while True:
            if self.peek_is(Tok.DOT):
                start = self.token(Tok.DOT)
                id_ = self.ident()
                postfix.append(ast.AccessExpr(start.to(id_.span), id_))
            elif self.peek_is(Tok.OPEN_BRACKET):
                start = self.token(Tok.OPEN_BRACKET)
                string = self.string()
                end = self.token(Tok.CLOSE_BRACKET)
                postfix.append(ast.NamedAccessExpr(start.to(end), string))
            else:
                break
        span = primary.span.to(postfix[-1].span) if postfix else primary.span
        return ast.Expr(span, primary, postfix)

    def new_expr(self) -> ast.NewExpr:
        start = self.token(Tok.NEW)
        package = self.package_name()
        self.token(Tok.OPEN_BRACE)
        arguments = self.delimited(
            lambda la: la.peek(Tok.ELLIPSIS) | (la.peek(Tok.IDENT) or la.peek(Tok.STRING)),
            self.instantiation_argument, Tok.CLOSE_BRACE, True)
        end = self.token(Tok.CLOSE_BRACE)
        return ast.NewExpr(start.to(end), package, arguments)

    def instantiation_argument(self):
        lookahead = _Lookahead(self.lexer)
        if lookahead.peek(Tok.ELLIPSIS):
            span = self.token(Tok.ELLIPSIS)
            if self.peek_is(Tok.COMMA) or self.peek_is(Tok.CLOSE_BRACE):
                return ast.FillArgument(span)
            return ast.SpreadArgument(self.ident())
        if lookahead.peek(Tok.IDENT) or lookahead.peek(Tok.STRING):
            if self.peek_is(Tok.COLON, 1):
                name = self.ident_or_string()
                self.token(Tok.COLON)
                return ast.NamedArgument(name, self.expr())
            return ast.InferredArgument(self.ident())
        raise lookahead.error()

    # -- types ----------------------------------------------------------------------------
    def peek_type(self, lookahead: _Lookahead) -> bool:
        return (any(lookahead.peek(kind) for kind in PRIMITIVE_TYPES)
                or lookahead.peek(Tok.TUPLE) or lookahead.peek(Tok.LIST) or lookahead.peek(Tok.OPTION)
                or lookahead.peek(Tok.RESULT) or lookahead.peek(Tok.BORROW) or lookahead.peek(Tok.IDENT))

    def type(self):
        with self.nested():
            return self._type()

    def _type(self):
        lookahead = _Lookahead(self.lexer)
        for kind, name in PRIMITIVE_TYPES.items():
            if lookahead.peek(kind):
                return ast.PrimitiveType(name, self.lexer.next().span)
        if lookahead.peek(Tok.TUPLE):
            start = self.lexer.next().span
            self.token(Tok.OPEN_ANGLE)
            inner = _Lookahead(self.lexer)
            if not self.peek_type(inner):
                raise inner.error()
            types = self.delimited(self.peek_type, self.type, Tok.CLOSE_ANGLE, True)
            end = self.token(Tok.CLOSE_ANGLE)
            return ast.TupleType(types, start.to(end))
        if lookahead.peek(Tok.LIST) or lookahead.peek(Tok.OPTION):
            token = self.lexer.next()
            self.token(Tok.OPEN_ANGLE)
            element = self.type()
            end = self.token(Tok.CLOSE_ANGLE)
            cls = ast.ListType if token.kind is Tok.LIST else ast.OptionType
            return cls(element, token.span.to(end))
        if lookahead.peek(Tok.RESULT):
            span = self.lexer.next().span

            def result_part():
                part = _Lookahead(self.lexer)
                if part.peek(Tok.UNDERSCORE):
                    self.lexer.next()
                    return None
                if self.peek_type(part):
                    return self.type()
                raise part.error()

            def arguments():
                ok = result_part()
                err = self.optional(Tok.COMMA, result_part)
                end = self.token(Tok.CLOSE_ANGLE)
                return ok, err, end

            parsed = self.optional(Tok.OPEN_ANGLE, arguments)
            if parsed is None:
                return ast.ResultType(None, None, span)
            ok, err, end = parsed
            return ast.ResultType(ok, err, span.to(end))
        if lookahead.peek(Tok.BORROW):
            start = self.lexer.next().span
            self.token(Tok.OPEN_ANGLE)
            id_ = self.ident()
            end = self.token(Tok.CLOSE_ANGLE)
            return ast.BorrowType(id_, start.to(end))
        if lookahead.peek(Tok.IDENT):
            return self.ident()
        raise lookahead.error()

    def named_type(self) -> ast.NamedType:
        id_ = self.ident()
        self.token(Tok.COLON)
        return ast.NamedType(id_, self.type())

    def func_type(self) -> ast.FuncType:
        start = self.token(Tok.FUNC)
        self.token(Tok.OPEN_PAREN)
        params = self.delimited(lambda la: la.peek(Tok.IDENT), self.named_type, Tok.CLOSE_PAREN, True)
        end = self.token(Tok.CLOSE_PAREN)

        def results():
            lookahead = _Lookahead(self.lexer)
            return self.type() if self.peek_type(lookahead) else None

        result = self.optional(Tok.ARROW, results)
        return ast.FuncType(params, result, start.to(result.span if result is not None else end))

    def item_type_decl(self, kind: Tok):
        docs = self.docs()
        if kind is Tok.RESOURCE:
            return self.resource_decl(docs)
        if kind is Tok.TYPE:
            self.token(Tok.TYPE)
            id_ = self.ident()
            self.token(Tok.EQUALS)
            lookahead = _Lookahead(self.lexer)
            if lookahead.peek(Tok.FUNC):
                alias = self.func_type()
            elif self.peek_type(lookahead):
                alias = self.type()
            else:
                raise lookahead.error()
            self.token(Tok.SEMICOLON)
            return ast.TypeAlias(docs, id_, alias)
        self.token(kind)
        id_ = self.ident()
        self.token(Tok.OPEN_BRACE)
        is_ident = lambda la: la.peek(Tok.IDENT)  # noqa: E731
        if kind is Tok.VARIANT:
            items = self.delimited(is_ident, self.variant_case, Tok.CLOSE_BRACE, True)
            what = ("variant", "case", ast.VariantDecl)
        elif kind is Tok.RECORD:
            items = self.delimited(is_ident, self.field, Tok.CLOSE_BRACE, True)
            what = ("record", "field", ast.RecordDecl)
        elif kind is Tok.FLAGS:
            items = self.delimited(is_ident, lambda: ast.Flag(self.docs(), self.ident()), Tok.CLOSE_BRACE, True)
            what = ("flags", "flag", ast.FlagsDecl)
        else:
            items = self.delimited(is_ident, lambda: ast.EnumCase(self.docs(), self.ident()), Tok.CLOSE_BRACE, True)
            what = ("enum", "case", ast.EnumDecl)
        close = self.token(Tok.CLOSE_BRACE)
        if not items:
            raise _SyntaxError(f"{what[0]} must contain at least one {what[1]}", close, f"empty {what[0]}")
        return what[2](docs, id_, items)

    def variant_case(self) -> ast.VariantCase:
        docs = self.docs()
        id_ = self.ident()

        def payload():
            ty = self.type()
            self.token(Tok.CLOSE_PAREN)
            return ty

        return ast.VariantCase(docs, id_, self.optional(Tok.OPEN_PAREN, payload))

    def field(self) -> ast.Field:
        docs = self.docs()
        named = self.named_type()
        return ast.Field(docs, named.id, named.ty)

    def resource_decl(self, docs) -> ast.ResourceDecl:
        self.token(Tok.RESOURCE)
        id_ = self.ident()
        lookahead = _Lookahead(self.lexer)
        if lookahead.peek(Tok.SEMICOLON):
            self.lexer.next()
            return ast.ResourceDecl(docs, id_, [])
        if lookahead.peek(Tok.OPEN_BRACE):
            self.token(Tok.OPEN_BRACE)
            methods = self.delimited(lambda la: la.peek(Tok.CONSTRUCTOR) or la.peek(Tok.IDENT),
                                     self.resource_method, Tok.CLOSE_BRACE, False)
            self.token(Tok.CLOSE_BRACE)
            return ast.ResourceDecl(docs, id_, methods)
        raise lookahead.error()

    def resource_method(self):
        lookahead = _Lookahead(self.lexer)
        if lookahead.peek(Tok.CONSTRUCTOR):
            docs = self.docs()
            span = self.token(Tok.CONSTRUCTOR)
            self.token(Tok.OPEN_PAREN)
            params = self.delimited(lambda la: la.peek(Tok.IDENT), self.named_type, Tok.CLOSE_PAREN, True)
            self.token(Tok.CLOSE_PAREN)
            self.token(Tok.SEMICOLON)
            return ast.Constructor(docs, span, params)
        if lookahead.peek(Tok.IDENT):
            docs = self.docs()
            id_ = self.ident()
            self.token(Tok.COLON)
            is_static = self.peek_is(Tok.STATIC)
            if is_static:
                self.lexer.next()
            ty = self.func_type()
            self.token(Tok.SEMICOLON)
            return ast.Method(docs, id_, is_static, ty)
        raise lookahead.error()

    # -- interfaces and worlds ----------------------------------------------------------
    def peek_item_type(self, lookahead: _Lookahead) -> Tok | None:
        for kind in _ITEM_TYPE_KEYWORDS:
            if lookahead.peek(kind):
                return kind
        return None

    def interface_items(self) -> list:
        def peek(la):
            return la.peek(Tok.USE) or la.peek(Tok.IDENT) or self.peek_item_type(la) is not None

        return self.delimited(peek, self.interface_item, Tok.CLOSE_BRACE, False)

    def interface_item(self):
        lookahead = _Lookahead(self.lexer)
        if lookahead.peek(Tok.USE):
            return self.use()
        if lookahead.peek(Tok.IDENT):
            docs = self.docs()
            id_ = self.ident()
            self.token(Tok.COLON)
            inner = _Lookahead(self.lexer)
            if inner.peek(Tok.FUNC):
                ty = self.func_type()
            elif inner.peek(Tok.IDENT):
                ty = self.ident()
            else:
                raise inner.error()
            self.token(Tok.SEMICOLON)
            return ast.InterfaceExport(docs, id_, ty)
        kind = self.peek_item_type(lookahead)
        if kind is not None:
            return self.item_type_decl(kind)
        raise lookahead.error()

    def interface_decl(self) -> ast.InterfaceDecl:
        docs = self.docs()
        self.token(Tok.INTERFACE)
        id_ = self.ident()
        self.token(Tok.OPEN_BRACE)
        items = self.interface_items()
        self.token(Tok.CLOSE_BRACE)
        return ast.InterfaceDecl(docs, id_, items)

    def inline_interface(self) -> ast.InlineInterface:
        start = self.token(Tok.INTERFACE)
        self.token(Tok.OPEN_BRACE)
        items = self.interface_items()
        end = self.token(Tok.CLOSE_BRACE)
        return ast.InlineInterface(items, start.to(end))

    def use(self) -> ast.Use:
        docs = self.docs()
        self.token(Tok.USE)
        lookahead = _Lookahead(self.lexer)
        if lookahead.peek(Tok.PACKAGE_PATH):
            path = self.package_path()
        elif lookahead.peek(Tok.IDENT):
            path = self.ident()
        else:
            raise lookahead.error()
        self.token(Tok.DOT)
        self.token(Tok.OPEN_BRACE)

        def use_item():
            id_ = self.ident()
            return ast.UseItem(id_, self.optional(Tok.AS, self.ident))

        items = self.delimited(lambda la: la.peek(Tok.IDENT), use_item, Tok.CLOSE_BRACE, True)
        self.token(Tok.CLOSE_BRACE)
        self.token(Tok.SEMICOLON)
        return ast.Use(docs, path, items)

    def world_decl(self) -> ast.WorldDecl:
        docs = self.docs()
        self.token(Tok.WORLD)
        id_ = self.ident()
        self.token(Tok.OPEN_BRACE)

        def peek(la):
            return (la.peek(Tok.USE) or la.peek(Tok.IMPORT) or la.peek(Tok.EXPORT) or la.peek(Tok.INCLUDE)
                    or self.peek_item_type(la) is not None)

        items = self.delimited(peek, self.world_item, Tok.CLOSE_BRACE, False)
        self.token(Tok.CLOSE_BRACE)
        return ast.WorldDecl(docs, id_, items)

    def world_item(self):
        lookahead = _Lookahead(self.lexer)
        if lookahead.peek(Tok.USE):
            return self.use()
        if lookahead.peek(Tok.IMPORT) or lookahead.peek(Tok.EXPORT):
            docs = self.docs()
            is_import = self.peek_is(Tok.IMPORT)
            self.lexer.next()
            path = self.world_item_path()
            self.token(Tok.SEMICOLON)
            return (ast.WorldImport if is_import else ast.WorldExport)(docs, path)
        if lookahead.peek(Tok.INCLUDE):
            docs = self.docs()
            self.token(Tok.INCLUDE)
            inner = _Lookahead(self.lexer)
            if inner.peek(Tok.PACKAGE_PATH):
                world = self.package_path()
            elif inner.peek(Tok.IDENT):
                world = self.ident()
            else:
                raise inner.error()

            def with_items():
                self.token(Tok.OPEN_BRACE)

                def item():
                    from_ = self.ident()
                    self.token(Tok.AS)
                    return ast.WorldIncludeItem(from_, self.ident())

                items = self.delimited(lambda la: la.peek(Tok.IDENT), item, Tok.CLOSE_BRACE, True)
                self.token(Tok.CLOSE_BRACE)
                return items

            with_ = self.optional(Tok.WITH, with_items) or []
            self.token(Tok.SEMICOLON)
            return ast.WorldInclude(docs, world, with_)
        kind = self.peek_item_type(lookahead)
        if kind is not None:
            return self.item_type_decl(kind)
        raise lookahead.error()

    def world_item_path(self):
        lookahead = _Lookahead(self.lexer)
        if lookahead.peek(Tok.PACKAGE_PATH):
            return self.package_path()
        if lookahead.peek(Tok.IDENT):
            if not self.peek_is(Tok.COLON, 1):
                return self.ident()
            id_ = self.ident()
            self.token(Tok.COLON)
            inner = _Lookahead(self.lexer)
            if inner.peek(Tok.IDENT):
                ty = self.ident()
            elif inner.peek(Tok.FUNC):
                ty = self.func_type()
            elif inner.peek(Tok.INTERFACE):
                ty = self.inline_interface()
            else:
                raise inner.error()
            return ast.NamedWorldItem(id_, ty)
        raise lookahead.error()


def parse_document(text: str, origin: str = "<wac>") -> ast.Document:
    """Parse WAC source; raises :class:`WacError` located at the reference's line and column."""
    invalid = find_invalid_input(text)
    if invalid is not None:
        raise located_error(invalid.message(), invalid.span, text, origin)
    parser = _Parser(text)
    try:
        document = parser.document()
    except _SyntaxError as exc:
        raise located_error(exc.message, exc.span, text, origin, label=exc.label) from None
    except RecursionError:
        token = parser.lexer.peek()
        span = token.span if token is not None else parser.lexer.span()
        raise located_error("the document is nested too deeply to parse", span, text, origin,
                            hint="split deeply nested expressions or types into named parts") from None
    document.source = text
    document.origin = origin
    return document
