"""One family of errors for notebook users: short, located, with the fix when it is known.

Every error wasmlab raises on purpose is a :class:`WasmlabError`.  In IPython it renders
through ``_render_traceback_`` as one screen (message, the offending line of the cell with
a caret, a hint) instead of a Python traceback from inside wasmlab.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "WasmlabError",
    "WitError",
    "BuildError",
    "ToolError",
    "CacheError",
    "LoadError",
    "LinkError",
    "ArgumentError",
    "UnknownExport",
    "UnknownAttribute",
    "Trap",
    "GuestError",
    "GuestExit",
    "WacError",
    "RegistryError",
    "FileError",
    "Location",
    "printable",
]


@dataclass(frozen=True)
class Location:
    """A place in a source the user wrote: 1-based line and column, as the user sees them."""

    origin: str
    line: int
    column: int
    text: str | None = None  # the whole source, to quote the offending line
    byte_column: bool = False  # the column counts UTF-8 bytes (as the reference WAC tools report it)

    def source_line(self) -> str | None:
        if self.text is None:
            return None
        lines = self.text.splitlines()
        if 1 <= self.line <= len(lines):
            return lines[self.line - 1]
        return None

    def render(self) -> str:
        head = f"  --> {self.origin}:{self.line}:{self.column}"
        quoted = self.source_line()
        if quoted is None:
            return head
        gutter = len(str(self.line))
        return (
            f"{head}\n"
            f"{' ' * gutter} |\n"
            f"{self.line} | {quoted}\n"
            f"{' ' * gutter} | {self.caret_padding(quoted)}^"
        )

    def caret_padding(self, quoted: str) -> str:
        """What goes before a caret under ``quoted`` (the source line) to point at the column."""
        caret_at = max(self.column - 1, 0)
        if self.byte_column:
            caret_at = len(quoted.encode("utf-8")[:caret_at].decode("utf-8", errors="ignore"))
        # keep tabs so the caret lines up under tab-indented source
        return "".join(ch if ch == "\t" else " " for ch in quoted[:caret_at])


def printable(text: str) -> str:
    """``text`` with lone surrogates (a file name's undecodable bytes, say) shown as escapes, so an
    error message can always be printed.

    >>> printable("no such file: caf\\udce9.wasm")
    'no such file: caf\\\\udce9.wasm'
    """
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


class WasmlabError(Exception):
    """Base class of every error wasmlab reports to a user."""

    kind = "error"

    def __init__(self, message: str, *, hint: str | None = None, location: Location | None = None,
                 detail: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.location = location
        self.detail = detail

    def render(self) -> str:
        parts = [f"{self.kind}: {self.message}"]
        if self.location is not None:
            parts.append(self.location.render())
        if self.detail:
            parts.append(self.detail.rstrip())
        if self.hint:
            parts.append(f"hint: {self.hint}")
        return printable("\n".join(parts))

    def __str__(self) -> str:
        return self.render()

    def _render_traceback_(self) -> list[str]:
        # IPython shows this instead of the traceback: the user's problem, not wasmlab's insides.
        return self.render().splitlines()


class WitError(WasmlabError):
    """A WIT package failed to parse or validate."""

    kind = "WIT error"


class WacError(WasmlabError):
    """A WAC document failed to parse, resolve or encode."""

    kind = "WAC error"


class RegistryError(WasmlabError):
    """An OCI registry could not be reached, refused a request, or served something that is not a Wasm artifact."""

    kind = "registry error"


class BuildError(WasmlabError):
    """A guest (Python, WAT, stub) failed to build into a component."""

    kind = "build error"


class ToolError(WasmlabError):
    """An external tool (wasm-tools, componentize-py) is missing or failed unexpectedly."""

    kind = "tool error"


class CacheError(WasmlabError):
    """The build cache folder cannot be used (not a folder, not writable)."""

    kind = "cache error"


class FileError(WasmlabError):
    """A file or folder the user named cannot be read or written (missing, a folder, not text)."""

    kind = "error"


class LoadError(WasmlabError):
    """Bytes that are not a valid component or module."""

    kind = "load error"


class LinkError(WasmlabError):
    """A component's imports could not all be satisfied."""

    kind = "link error"


class ArgumentError(WasmlabError, TypeError):
    """A Python value does not fit the WIT type of a parameter (raised before entering Wasm), or
    an argument of a wasmlab function is of the wrong type or value (raised before any work)."""

    kind = "argument error"


class UnknownExport(WasmlabError, KeyError):
    """A name that is no export (``component["nope"]``, ``component.export("iface#nope")``); the
    hint lists what exists.  A ``KeyError``, so ``in`` and ``.get``-style code keep working."""

    kind = "unknown export"


class UnknownAttribute(WasmlabError, AttributeError):
    """``component.nope``, ``component.iface.nope``: the hint lists what exists.  An
    ``AttributeError``, so ``hasattr`` and ``getattr(obj, name, default)`` keep working."""

    kind = "unknown export"


class Trap(WasmlabError):
    """The guest trapped; the instance is discarded and the next call starts fresh."""

    kind = "trap"

    def __init__(self, message: str, *, trap_kind: str | None = None, backtrace: list[str] | None = None,
                 hint: str | None = None, stderr: str = ""):
        detail_lines = []
        if backtrace:
            detail_lines.append("wasm backtrace:")
            detail_lines.extend(f"  {frame}" for frame in backtrace)
        if stderr.strip():
            detail_lines.append("guest stderr:")
            detail_lines.extend(f"  {line}" for line in stderr.rstrip().splitlines()[-12:])
        super().__init__(message, hint=hint, detail="\n".join(detail_lines) or None)
        self.trap_kind = trap_kind
        self.backtrace = backtrace or []
        self.stderr = stderr


class GuestError(WasmlabError):
    """A function returned ``err(payload)`` for a ``result`` type; the payload is in ``.payload``."""

    kind = "err"

    def __init__(self, payload, *, function: str = ""):
        self.payload = payload
        self.function = function
        shown = payload if isinstance(payload, str) else repr(payload)
        where = f"{function} returned " if function else ""
        super().__init__(f"{where}err({shown})",
                         hint="call it with .result(...) to receive Ok/Err objects instead of an exception")


class GuestExit(WasmlabError):
    """The guest ended itself through ``wasi:cli/exit``; ``code`` is its exit code."""

    kind = "exit"

    def __init__(self, code: int, *, function: str = ""):
        where = f" during {function}" if function else ""
        super().__init__(f"the guest exited with code {code}{where}")
        self.code = code
