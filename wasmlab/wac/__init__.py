"""WAC, the WebAssembly Compositions language of bytecodealliance/wac, implemented in Python.

``parse(text)`` gives the syntax tree of a document; ``resolve(document_or_text, ...)`` resolves
its packages and builds the composition graph. Errors are :class:`wasmlab.errors.WacError` with
the reference's message and location.
"""

from __future__ import annotations

from ._ast import Document
from ._parser import parse_document

__all__ = ["parse", "Document"]


def parse(text: str, origin: str = "<wac>") -> Document:
    """Parse a WAC document; ``origin`` names it in error locations (a file name, a cell)."""
    return parse_document(text, origin)
