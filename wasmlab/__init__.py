"""wasmlab: learn WebAssembly and compose WebAssembly components in Jupyter.

In a notebook::

    %load_ext wasmlab

    %%wit
    package demo:hello;
    world greeter { export greet: func(name: string) -> string; }

    %%component hello --world greeter
    class WitWorld:
        def greet(self, name):
            return f"Hello, {name}!"

    hello.greet("Wasm")

Everything a magic does is a plain function here: :func:`define_wit`, :func:`build`,
:func:`load`; the objects they return display themselves.
"""

from __future__ import annotations

import os

from . import cache, runtime
from .capabilities import Grants, Limits
from .component import Component, Instance, load
from .core import CoreModule, load_module
from .errors import (ArgumentError, BuildError, GuestError, LinkError, LoadError, ToolError, Trap, WacError,
                     WasmlabError, WitError)
from .values import Err, Ok, Resource, Some, Variant
from .wit import WitDefinition, registry
from .wit import define as define_wit

__all__ = [
    "define_wit", "build", "load", "load_module", "Component", "Instance", "CoreModule", "WitDefinition",
    "registry", "cache", "Grants", "Limits", "compose", "plug", "Some", "Ok", "Err", "Variant", "Resource",
    "WasmlabError", "WitError", "BuildError", "ToolError", "LoadError", "LinkError", "ArgumentError",
    "Trap", "GuestError", "WacError", "load_ipython_extension", "unload_ipython_extension", "serve",
]
__version__ = "0.1.0"


def build(*, world: str | None = None, python: str | None = None, wat: str | None = None,
          stub: bool = False, name: str | None = None, deps_dir: str | os.PathLike | None = None,
          origin: str | None = None, imports: dict | None = None, progress: bool = True) -> Component:
    """Build a component and return it, ready to inspect and call.

    Exactly one of ``python`` (source implementing ``world``), ``wat`` (a ``(component ...)``,
    or a core module implementing ``world``) or ``stub=True`` (every export of ``world``
    traps).  ``world`` is ``ns:pkg/world``, or a world's bare name when only one package has
    it.  ``imports`` implements the component's non-WASI imports in Python.  Unchanged builds
    come from the cache.
    """
    from . import builder as _build

    chosen = [python is not None, wat is not None, bool(stub)]
    if sum(chosen) != 1:
        raise BuildError("give exactly one of python=..., wat=... or stub=True")
    if python is not None:
        if world is None:
            raise BuildError("a Python guest needs the world it implements", hint="pass world='ns:pkg/world'")
        result = _build.build_python(python, world=world, origin=origin or "<python>", deps_dir=deps_dir,
                                     progress=progress)
    elif wat is not None:
        result = _build.build_wat(wat, world=world, origin=origin or "<wat>", deps_dir=deps_dir, progress=progress)
    else:
        if world is None:
            raise BuildError("a stub needs the world it stands in for", hint="pass world='ns:pkg/world'")
        result = _build.build_stub(world, deps_dir=deps_dir, progress=progress)
    default_name = (world or "component").split("/")[-1].split("@")[0]
    return Component(name or default_name, result.wasm_path, result.meta, result.entry,
                     cached=result.cached, imports=imports)


def serve(component, **options):
    """Serve a ``wasi:http`` handler component on 127.0.0.1 with the wasmtime CLI (see
    :func:`wasmlab.wasi03.serve`); ``with wasmlab.serve(app) as server: server.get("/")``."""
    from .wasi03 import serve as _serve

    return _serve(component, **options)


def _jupyter_labextension_paths() -> list[dict]:
    """The prebuilt JupyterLab extension that highlights ``%%wit`` / ``%%wac`` cells (for
    ``jupyter labextension develop``; ``pip install`` puts it in place through data files)."""
    return [{"src": "labextension", "dest": "wasmlab-syntax"}]


def compose(wac_source: str, **options):
    """Compose components with a WAC document into one callable :class:`Component`; packages
    come from ``packages=``, the notebook's components (``namespace=globals()``), WIT defined
    earlier, ``deps=`` and ``deps_dir=`` (see :mod:`wasmlab.wac.compose`)."""
    from .wac.compose import compose as _compose

    return _compose(wac_source, **options)


def plug(socket, *plugs, name: str | None = None):
    """Plug each plug's exports into the socket's imports of the same name (``wac plug``)."""
    from .wac.compose import plug as _plug

    return _plug(socket, *plugs, name=name)


def load_ipython_extension(ipython) -> None:
    """``%load_ext wasmlab``: registers ``%%wit``, ``%%wac``, ``%%component``."""
    from .magics import Wasmlab

    ipython.register_magics(Wasmlab(shell=ipython))
    ipython.events.register("pre_run_cell", _before_cell)


def unload_ipython_extension(ipython) -> None:
    try:
        ipython.events.unregister("pre_run_cell", _before_cell)
    except ValueError:
        pass


def _before_cell(_info=None) -> None:
    # the stop button must reach Wasm even if a library took Python's wakeup fd meanwhile
    runtime.watch_interrupts()
