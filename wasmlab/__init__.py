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

from wasmlab.api import *  # noqa: F403 - the public API, listed in __all__
from wasmlab.api import __all__ as _api_names
from wasmlab.api import __version__
from wasmlab.notebook import display as _display  # noqa: F401 - registers how wasmlab's objects display
from wasmlab.errors import WasmlabError as _WasmlabError
from wasmlab.runtime import engines as _engines
from wasmlab.runtime import memory as _memory

__all__ = [*_api_names, "load_ipython_extension", "unload_ipython_extension"]


def _jupyter_labextension_paths() -> list[dict]:
    """The prebuilt JupyterLab extension that highlights ``%%wit`` / ``%%wac`` cells (for
    ``jupyter labextension develop``; ``pip install`` puts it in place through data files)."""
    return [{"src": "notebook/labextension", "dest": "wasmlab-syntax"}]


def load_ipython_extension(ipython) -> None:
    """``%load_ext wasmlab``: registers ``%%wit``, ``%%wac``, ``%%component``."""
    from wasmlab.notebook.magics import Wasmlab

    ipython.register_magics(Wasmlab(shell=ipython))
    ipython.events.register("pre_run_cell", _before_cell)
    ipython.events.register("post_run_cell", _after_cell)
    _memory.return_large_blocks()


def unload_ipython_extension(ipython) -> None:
    try:
        ipython.events.unregister("pre_run_cell", _before_cell)
        ipython.events.unregister("post_run_cell", _after_cell)
    except ValueError:
        pass


def _before_cell(_info=None) -> None:
    # the stop button must reach Wasm even if a library took Python's wakeup fd meanwhile
    _engines.watch_interrupts()


def _after_cell(result=None) -> None:
    # the session keeps its last error: a wasmlab error shows without its frames, so they need not hold on
    error = getattr(result, "error_in_exec", None)
    if isinstance(error, _WasmlabError):
        _memory.forget_frames(error)
