"""wasmlab's Python API: what every magic and command is a thin layer over (re-exported by
``wasmlab``; see its ``__all__``)."""

from __future__ import annotations

import os

from wasmlab.capabilities import Grants, Limits
from wasmlab.errors import (
    ArgumentError,
    BuildError,
    GuestError,
    LinkError,
    LoadError,
    ToolError,
    Trap,
    WacError,
    WasmlabError,
    WitError,
)
from wasmlab.runtime.component import Component, Instance, load
from wasmlab.runtime.core_modules import CoreModule, load_module
from wasmlab.toolchain import cache
from wasmlab.toolchain.wit import WitDefinition, registry
from wasmlab.toolchain.wit import define as define_wit
from wasmlab.values import Err, Ok, Resource, Some, Variant

__all__ = [
    "define_wit", "build", "load", "load_module", "Component", "Instance", "CoreModule", "WitDefinition",
    "registry", "cache", "Grants", "Limits", "compose", "plug", "Some", "Ok", "Err", "Variant", "Resource",
    "WasmlabError", "WitError", "BuildError", "ToolError", "LoadError", "LinkError", "ArgumentError",
    "Trap", "GuestError", "WacError", "serve",
]
__version__ = "0.1.0"


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


def serve(component, **options):
    """Serve a ``wasi:http`` handler component on 127.0.0.1 with the wasmtime CLI (see
    :func:`wasmlab.runtime.wasmtime_command.serve`); ``with wasmlab.serve(app) as server: server.get("/")``."""
    from wasmlab.runtime.wasmtime_command import serve as _serve

    return _serve(component, **options)


def compose(wac_source: str, **options):
    """Compose components with a WAC document into one callable :class:`Component`; packages
    come from ``packages=``, the notebook's components (``namespace=globals()``), WIT defined
    earlier, ``deps=`` and ``deps_dir=`` (see :mod:`wasmlab.composition`)."""
    from wasmlab.composition import compose as _compose

    return _compose(wac_source, **options)


def plug(socket, *plugs, name: str | None = None):
    """Plug each plug's exports into the socket's imports of the same name (``wac plug``)."""
    from wasmlab.composition import plug as _plug

    return _plug(socket, *plugs, name=name)
