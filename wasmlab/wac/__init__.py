"""WAC, the WebAssembly Compositions language of bytecodealliance/wac, implemented in Python.

``parse(text)`` gives the syntax tree of a document; ``resolve(document_or_text, ...)`` resolves
its packages and builds the composition graph; ``encode(resolution)`` makes the component;
``plug`` / ``plug_files`` wire plugs' exports into a socket's imports (``wac plug``). Every
error is a :class:`wasmlab.errors.WacError` with the reference's message, located in the
document where it concerns the document.
"""

from __future__ import annotations

import os

from wasmlab.wac._ast import Document
from wasmlab.wac._parser import parse_document
from wasmlab.wac._plug import plug_bytes, plug_files
from wasmlab.wac._resolver import Resolution, ResolveError, _to_wac_error, collect_package_references, resolve_document

__all__ = ["parse", "resolve", "encode", "package_references", "plug_bytes", "plug_files", "Document",
           "Resolution", "PRODUCER"]

# the producers entry of the components wasmlab encodes
PRODUCER = ("wasmlab", "0.1.0")


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


def encode(resolution: Resolution, *, import_dependencies: bool = False, plain_dependency_names: bool = False,
           processor=PRODUCER) -> bytes:
    """The component a resolved document describes: the components it instantiates embedded, or
    with ``import_dependencies`` imported as ``unlocked-dep=<ns:name>`` (``wac compose
    --import-dependencies``; ``plain_dependency_names`` writes ``unlocked-dep-ns-name``, which
    today's validators and wasmtime accept)."""
    return resolution.encode(define_components=not import_dependencies, processor=processor,
                             plain_dependency_names=plain_dependency_names)


def package_references(document: Document) -> dict[tuple[str, str | None], bool]:
    """The packages (``(name, version or None)``) a document refers to, in order of first use,
    each with whether the document instantiates it (``new ns:name``) rather than only using its types.

    >>> package_references(parse("package a:b; import x: c:d/e; let y = new f:g@1.0.0 {};"))
    {('c:d', None): False, ('f:g', '1.0.0'): True}
    """
    instantiated: set = set()
    try:
        references = collect_package_references(document, instantiated)
    except ResolveError as exc:
        raise _to_wac_error(exc, document) from None
    return {(name, version): name in instantiated for name, version in references}

