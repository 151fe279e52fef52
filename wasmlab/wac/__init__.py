"""WAC, the WebAssembly Compositions language of bytecodealliance/wac, implemented in Python.

``parse(text)`` gives the syntax tree of a document; ``resolve(document_or_text, ...)`` resolves
its packages and builds the composition graph. Errors are :class:`wasmlab.errors.WacError` with
the reference's message and location.
"""

from __future__ import annotations

import os

from wasmlab.wac._ast import Document
from wasmlab.wac._parser import parse_document
from wasmlab.wac._resolver import Resolution, resolve_document

__all__ = ["parse", "resolve", "Document", "Resolution"]


def parse(text: str, origin: str = "<wac>") -> Document:
    """Parse a WAC document; ``origin`` names it in error locations (a file name, a cell)."""
    return parse_document(text, origin)


def resolve(document_or_text: Document | str, *, packages: dict | None = None,
            deps_dir: str | os.PathLike | None = None, deps: dict | None = None,
            origin: str = "<wac>", registry=None) -> Resolution:
    """Resolve a WAC document (or its text) into a :class:`Resolution` holding the composition graph.

    Packages are looked up in order in ``packages`` (``"ns:name"`` or ``"ns:name@1.0.0"`` -> component
    bytes, a path, a component object with ``wasm_path``, or a loaded package; a bare ``"ns:name"``
    also answers versioned references), ``deps`` (``"ns:name"`` -> path of a .wasm/.wat file or WIT
    folder), then ``deps_dir`` laid out as wac expects (``DIR/ns/name.wasm``, ``.wat``, ``DIR/ns/name/``),
    then ``registry(name, version)``, a callable giving the package's bytes or None (registries).
    """
    document = document_or_text if isinstance(document_or_text, Document) else parse(document_or_text, origin)
    return resolve_document(document, packages=packages, deps=deps, deps_dir=deps_dir, registry=registry)
