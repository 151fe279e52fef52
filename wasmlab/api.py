"""wasmlab's Python API: what every magic and command is a thin layer over (re-exported by
``wasmlab``; see its ``__all__``)."""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Mapping
from typing import NamedTuple

from wasmlab.capabilities import Grants, Limits
from wasmlab.errors import (
    ArgumentError,
    BuildError,
    GuestError,
    LinkError,
    LoadError,
    RegistryError,
    ToolError,
    Trap,
    WacError,
    WasmlabError,
    WitError,
)
from wasmlab.runtime import component as _component
from wasmlab.runtime import core_modules as _core_modules
from wasmlab.runtime.component import Component, Instance
from wasmlab.runtime.core_modules import CoreModule
from wasmlab.toolchain import cache
from wasmlab.toolchain import wit as _wit
from wasmlab.toolchain.wit import WitDefinition, registry
from wasmlab.values import Err, Ok, Resource, Some, Variant

__all__ = [
    "define_wit", "build", "load", "load_module", "Component", "Instance", "CoreModule", "WitDefinition",
    "registry", "cache", "Grants", "Limits", "compose", "plug", "Some", "Ok", "Err", "Variant", "Resource",
    "WasmlabError", "WitError", "BuildError", "ToolError", "LoadError", "LinkError", "ArgumentError",
    "Trap", "GuestError", "WacError", "RegistryError", "serve",
]
__version__ = "0.1.0"


# ---- the front door: every public function checks the types of its arguments first -----------

class _Expected(NamedTuple):
    """What a parameter of a public function takes: its types, said in words; ``unicode``: a
    str must also be encodable as UTF-8 (text, not a file name)."""

    types: tuple[type, ...]
    said: str
    unicode: bool = False


_NONE = type(None)
TEXT = _Expected((str,), "text (str)", unicode=True)
OPTIONAL_TEXT = _Expected((str, _NONE), "text (str) or None", unicode=True)
FLAG = _Expected((bool,), "True or False")
OPTIONAL_PATH = _Expected((str, os.PathLike, _NONE), "a path (str or pathlib.Path) or None")
OPTIONAL_MAPPING = _Expected((Mapping, _NONE), "a dict or None")
WASM = _Expected((str, os.PathLike, bytes, bytearray), "a path (str or pathlib.Path) or the bytes of the binary")
COMPONENT = _Expected((Component, str, os.PathLike, bytes, bytearray),
                      "a Component, a path, or the component's bytes")
OPTIONAL_GRANTS = _Expected((Grants, _NONE), "a wasmlab.Grants or None")
OPTIONAL_LIMITS = _Expected((Limits, _NONE), "a wasmlab.Limits or None")
OPTIONAL_PORT = _Expected((int, _NONE), "a port number (int) or None")
SECONDS = _Expected((int, float), "a number of seconds")
OPTIONAL_FLAG = _Expected((bool, _NONE), "True, False or None")
OPTIONAL_CREDENTIALS = _Expected((tuple, _NONE), "a (user, password) tuple or None")


def front_door(public_name: str | None = None, **expected: _Expected):
    """Check the arguments of a public function before it does any work: a missing or unknown
    argument, or one of the wrong type, is an :class:`ArgumentError` naming it, not a
    TypeError or AttributeError from deep inside.  ``expected`` maps a parameter to its allowed
    types and how to say them (``public_name``: the function's name in ``wasmlab``, when it
    differs from its own); a ``*args`` parameter's items are checked one by one, and the
    keywords a ``**options`` parameter takes are the other names in ``expected``.  ``bool`` is
    not an ``int`` here."""

    def decorate(function):
        signature = inspect.signature(function)
        shown = f"{public_name or function.__name__}()"
        keywords = ", ".join(name for name in expected if name not in signature.parameters)

        @functools.wraps(function)
        def checked(*args, **kwargs):
            try:
                bound = signature.bind(*args, **kwargs)
            except TypeError as exc:
                raise ArgumentError(f"{shown}: {exc}", hint=f"{shown[:-2]}{signature}") from None
            for name, value in bound.arguments.items():
                kind = signature.parameters[name].kind
                if kind is inspect.Parameter.VAR_KEYWORD:
                    for option, item in value.items():
                        if option not in expected:
                            raise ArgumentError(f"{shown}: unexpected keyword argument `{option}`",
                                                hint=f"its keyword arguments: {keywords}")
                        _check(shown, option, item, expected[option])
                elif name in expected:
                    for item in value if kind is inspect.Parameter.VAR_POSITIONAL else [value]:
                        _check(shown, name, item, expected[name])
            return function(*args, **kwargs)

        return checked

    return decorate


def _check(function: str, name: str, value, expected: _Expected) -> None:
    if not isinstance(value, expected.types) or (isinstance(value, bool) and bool not in expected.types):
        raise ArgumentError(f"{function}: `{name}` must be {expected.said}, not {type(value).__name__}",
                            hint=_HINTS.get(type(value)))
    if expected.unicode and isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ArgumentError(f"{function}: `{name}` holds {value[exc.start]!r} at index {exc.start}, a lone "
                                "surrogate, which is not text", hint="decode bytes with errors='replace'") from None


_HINTS = {
    bytes: "decode text first: data.decode('utf-8'); or read a file: pathlib.Path('x').read_text()",
}

define_wit = front_door("define_wit", source=TEXT, origin=TEXT, deps_dir=OPTIONAL_PATH)(_wit.define)
load = front_door(source=WASM, name=OPTIONAL_TEXT, imports=OPTIONAL_MAPPING, insecure=OPTIONAL_FLAG,
                   auth=OPTIONAL_CREDENTIALS, token=OPTIONAL_TEXT, timeout=SECONDS)(_component.load)
load_module = front_door(source=WASM, name=OPTIONAL_TEXT, origin=TEXT)(_core_modules.load_module)


@front_door(world=OPTIONAL_TEXT, python=OPTIONAL_TEXT, wat=OPTIONAL_TEXT, stub=FLAG, name=OPTIONAL_TEXT,
             deps_dir=OPTIONAL_PATH, origin=OPTIONAL_TEXT, imports=OPTIONAL_MAPPING, progress=FLAG)
def build(*, world: str | None = None, python: str | None = None, wat: str | None = None,
          stub: bool = False, name: str | None = None, deps_dir: str | os.PathLike | None = None,
          origin: str | None = None, imports: dict | None = None, progress: bool = True,
          js: str | None = None, js_features: list[str] | None = None) -> Component:
    """Build a component and return it, ready to inspect and call.

    Exactly one of ``python`` (source implementing ``world``), ``js`` (a JavaScript module
    implementing ``world``, built with componentize-js; ``js_features`` adds e.g. ``"http"`` for
    ``fetch``), ``wat`` (a ``(component ...)``, or a core module implementing ``world``) or
    ``stub=True`` (every export of ``world`` traps).  ``world`` is ``ns:pkg/world``, or a world's
    bare name when only one package has it.  ``imports`` implements the component's non-WASI imports in Python.  Unchanged builds
    come from the cache.
    """
    from wasmlab.toolchain import builders

    chosen = [python is not None, js is not None, wat is not None, bool(stub)]
    if sum(chosen) != 1:
        raise BuildError("give exactly one of python=..., js=..., wat=... or stub=True")
    if js is not None:
        from wasmlab.toolchain.javascript import DEFAULT_FEATURES, build_javascript

        if world is None:
            raise BuildError("a JavaScript guest needs the world it implements", hint="pass world='ns:pkg/world'")
        features = None if js_features is None else (*DEFAULT_FEATURES, *js_features)
        result = build_javascript(js, world=world, origin=origin or "<javascript>", deps_dir=deps_dir,
                                  features=features, progress=progress)
    elif python is not None:
        if world is None:
            raise BuildError("a Python guest needs the world it implements", hint="pass world='ns:pkg/world'")
        result = builders.build_python(python, world=world, origin=origin or "<python>", deps_dir=deps_dir,
                                     progress=progress)
    elif wat is not None:
        result = builders.build_wat(wat, world=world, origin=origin or "<wat>", deps_dir=deps_dir, progress=progress)
    else:
        if world is None:
            raise BuildError("a stub needs the world it stands in for", hint="pass world='ns:pkg/world'")
        result = builders.build_stub(world, deps_dir=deps_dir, progress=progress)
    default_name = (world or "component").split("/")[-1].split("@")[0]
    return Component(name or default_name, result.wasm_path, result.meta, result.entry,
                     cached=result.cached, imports=imports)


@front_door(component=COMPONENT, grants=OPTIONAL_GRANTS, limits=OPTIONAL_LIMITS, port=OPTIONAL_PORT,
             startup_timeout=SECONDS)
def serve(component, **options):
    """Serve a ``wasi:http`` handler component (or the component at a path) on 127.0.0.1 with the wasmtime CLI (see
    :func:`wasmlab.runtime.wasmtime_command.serve`); ``with wasmlab.serve(app) as server: server.get("/")``."""
    from wasmlab.runtime.wasmtime_command import serve as _serve

    if not isinstance(component, Component):
        component = load(component)
    return _serve(component, **options)


@front_door(wac_source=TEXT, name=TEXT, packages=OPTIONAL_MAPPING, namespace=OPTIONAL_MAPPING,
             deps=OPTIONAL_MAPPING, deps_dir=OPTIONAL_PATH, import_dependencies=FLAG, origin=TEXT)
def compose(wac_source: str, **options):
    """Compose components with a WAC document into one callable :class:`Component`; packages
    come from ``packages=``, the notebook's components (``namespace=globals()``), WIT defined
    earlier, ``deps=`` and ``deps_dir=`` (see :mod:`wasmlab.composition`)."""
    from wasmlab.composition import compose as _compose

    return _compose(wac_source, **options)


@front_door(socket=COMPONENT, plugs=COMPONENT, name=OPTIONAL_TEXT)
def plug(socket, *plugs, name: str | None = None):
    """Plug each plug's exports into the socket's imports of the same name (``wac plug``)."""
    from wasmlab.composition import plug as _plug

    try:
        return _plug(socket, *plugs, name=name)
    except OSError as exc:  # a path given for a component that cannot be read
        raise LoadError(f"{exc.filename}: {exc.strerror or exc}",
                        hint="give a Component, the path of a .wasm file, or its bytes") from None
