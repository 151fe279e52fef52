"""One component, in the learner's own browser tab: jco's ES module loaded into the JupyterLab page.

``in_browser(component, "greet", "ada")`` calls the export in the kernel (wasmtime) and returns a
widget (anywidget) that imports the transpiled module into the page and calls the same export
there, shows the browser's result next to wasmtime's, and sends it back to the kernel
(``call.result``, ``call.on_result(...)``).  Widgets run in untrusted notebooks too.  The module and
its core ``.wasm`` files (megabytes) are served by the Jupyter server itself, from wasmlab's tool
folder, through the server extension in this module (``/wasmlab/modules/...``, ``/wasmlab/shim/...``
for preview2-shim's browser build), never sent base64 through a kernel message.

What the browser shim cannot honour is refused before anything runs: directories, sockets, name
lookup, host environment variables, stdin, and every limit.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import anywidget
from traitlets import Dict, Float, Unicode, observe

from wasmlab import values as V
from wasmlab.api import COMPONENT, TEXT, Component, front_door, load
from wasmlab.errors import ArgumentError, WasmlabError
from wasmlab.runtime import codecs
from wasmlab.runtime.node_engine import from_js, to_js
from wasmlab.toolchain import javascript
from wasmlab.wittypes import ResultT, unalias

__all__ = ["in_browser", "BrowserCall", "browser_root"]

_UNDEFINED = {"$": "u"}  # how values.mjs tags JavaScript's undefined (no value)
_SHIM_PACKAGES = ("cli", "clocks", "filesystem", "http", "io", "random", "sockets")


def browser_root() -> Path:
    """Where browser builds of components live (served at ``<base>/wasmlab/modules/``)."""
    return javascript.npm_tools_path() / "browser"


def _shim_dir() -> Path:
    return javascript.npm_tools_path() / "node_modules" / "@bytecodealliance" / "preview2-shim" / "dist" / "browser"


def browser_module(component, *, progress: bool = True) -> str:
    """Transpile for the browser (WASI imports mapped to the served shim); the module's URL path
    under ``<base>/wasmlab/modules/``."""
    from wasmlab.toolchain import cache

    name = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in component.name) or "component"
    key = cache.input_key(wasm=component.wasm_path.read_bytes(), name=name, lock=javascript.lock_hash(),
                          target="browser")[:32]
    out = browser_root() / key
    if not (out / f"{name}.js").is_file():
        # the module sits at modules/KEY/NAME.js, the shim at shim/PKG.js
        maps = [f"wasi:{pkg}/*=../../shim/{pkg}.js#*" for pkg in _SHIM_PACKAGES]
        javascript.transpile(component.wasm_path, out, name=name, progress=progress,
                             extra=[arg for m in maps for arg in ("--map", m)])
    # next to the modules: the value tags (shared with the Node engine) and the widget's runner
    for helper, source in (("values.mjs", javascript.script_source("values.mjs")),
                           ("browser_run.mjs", Path(__file__).with_name("browser_run.mjs").read_bytes())):
        served = browser_root() / helper
        if not served.is_file() or served.read_bytes() != source:
            cache.write_atomically(served, source)
    return f"{key}/{name}.js"


def _refuse_what_the_browser_cannot_honour(component) -> dict:
    grants, limits = component.grants, component.limits
    refused = []
    if grants.dirs:
        refused.append("directories (the browser shim has no host files)")
    if grants.network or grants.ip_name_lookup:
        refused.append("the network (the browser shim has no sockets)")
    if grants.inherit_env:
        refused.append("host environment variables (the browser has none)")
    if grants.stdin:
        refused.append("stdin")
    if limits.fuel is not None or limits.max_memory is not None or limits.timeout is not None:
        refused.append("limits (a browser tab has no fuel, memory or time limit for Wasm)")
    if refused:
        raise WasmlabError(f"the browser cannot honour {', '.join(refused)}",
                           hint="clear those grants and limits for the browser call, or call with wasmtime")
    return {"env": dict(grants.env), "args": [component.name, *grants.args]}


class BrowserCall(anywidget.AnyWidget):
    """One export called with wasmtime in the kernel and, as a widget, again in the learner's browser tab.

    The browser's answer travels back to the kernel as a widget message: ``state`` goes from
    ``"loading"`` to ``"done"`` (``result`` holds the browser's value, as the Python value wasmtime
    gives: ``result == wasmtime_result``) or ``"failed"`` (``browser_error`` says why), and
    ``browser_seconds`` is the time the call took in the tab.

    The kernel reads that message between cells, or while a cell *awaits* (ipykernel 7.4 and later), never
    while a cell blocks.  So: read ``result`` from the next cell on; or ``await call.answered()`` in the
    cell that shows the widget; or pass a function to :meth:`on_result`, which runs as soon as the
    kernel has the answer (what it prints goes to JupyterLab's log console, not to a cell: update a
    widget to show something).
    Outside a widget frontend (a terminal, ``nbconvert``, a stored output in an untrusted notebook) nothing
    runs in a browser and the text says so.
    """

    _esm = Path(__file__).with_name("browser_call.mjs")

    request = Dict().tag(sync=True)  # the module's URL path under <base>/wasmlab/modules/, the export, arguments
    target = Unicode().tag(sync=True)
    wasmtime_text = Unicode().tag(sync=True)
    expected = Dict().tag(sync=True)  # wasmtime's answer as the browser's will look: {"ok": ...} or {"err": ...}
    state = Unicode("loading").tag(sync=True)  # set by the browser: "loading", "done", "failed"
    answer = Dict().tag(sync=True)  # set by the browser: {"ok": tagged JSON} or {"err": tagged JSON}
    browser_error = Unicode().tag(sync=True)
    browser_seconds = Float(0.0).tag(sync=True)
    # the frontend looks its model up by this id to see whether a kernel is behind it (not so for a model
    # restored from a notebook's saved widget state: that one shows the saved state and calls nothing)
    own_model_id = Unicode().tag(sync=True)

    def __init__(self, component, target: str, args: tuple):
        exported = component.export(target)
        function = exported.function
        config = _refuse_what_the_browser_cannot_honour(component)
        if function.is_async:
            raise WasmlabError(f"{exported.name} is an async func, which the browser call does not make",
                               hint="call it with wasmtime (await it in a cell)")
        checked = codecs.plain_arguments(exported.name, function, args, "the browser")
        self.function = function
        self.wasmtime_result = exported.result(*args)
        self._result = None
        self._callbacks = []
        path = list(exported.path)
        model_id = uuid.uuid4().hex
        super().__init__(
            model_id=model_id, own_model_id=model_id,
            request={"module": browser_module(component), "path": path if len(path) > 1 else [None, path[0]],
                     "args": [to_js(v, t) for v, (_, t) in zip(checked, function.params)], "config": config},
            target=exported.name, wasmtime_text=repr(self.wasmtime_result),
            expected=_answer_of(self.wasmtime_result, function.result))

    def __repr__(self) -> str:
        head = f"{self.target} under wasmtime: {self.wasmtime_result!r}"
        if self.state == "done":
            return f"{head}; in the browser: {self._result!r}"
        if self.state == "failed":
            return f"{head}; the browser failed: {self.browser_error}"
        return f"{head} (run the cell in JupyterLab to call it in your browser tab too)"

    @property
    def result(self):
        """The browser's value, as the Python value wasmtime gives (``Ok``/``Err`` for a ``result``)."""
        if self.state == "loading":
            raise WasmlabError(f"the browser has not answered {self.target} yet",
                               hint="its answer reaches the kernel after this cell: read it in the next cell, "
                                    "await call.answered() in this one, or use on_result(callback)")
        if self.state == "failed":
            raise WasmlabError(f"the browser could not call {self.target}: {self.browser_error}")
        return self._result

    @property
    def same(self) -> bool:
        """Whether the browser computed the value wasmtime did (``False`` until it has answered)."""
        return self.state == "done" and self._result == self.wasmtime_result

    def on_result(self, callback) -> None:
        """Call ``callback(self)`` once the browser's answer is in the kernel (at once if it is)."""
        if not callable(callback):
            raise ArgumentError(f"on_result takes a function, not {type(callback).__name__}",
                                hint="call.on_result(lambda call: print(call.result))")
        if self.state != "loading":
            callback(self)
        else:
            self._callbacks.append(callback)

    async def answered(self, timeout: float = 120):
        """Wait for the browser's answer inside the cell that shows the widget: ``await call.answered()``
        returns :attr:`result`.  This works because ipykernel (7.4 and later) reads widget messages while
        a cell *awaits*; a cell that blocks, or an older kernel, only gets the answer after the cell."""
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
            raise ArgumentError(f"answered: `timeout` must be a positive number of seconds, not {timeout!r}")
        if self.state == "loading":
            loop = asyncio.get_running_loop()
            waiting = loop.create_future()
            self.on_result(lambda _call: loop.call_soon_threadsafe(_settle, waiting))
            try:
                await asyncio.wait_for(waiting, timeout)
            except asyncio.TimeoutError:
                raise WasmlabError(f"the browser did not answer {self.target} within {timeout:g} s",
                                   hint="is the widget shown in JupyterLab? An ipykernel older than 7.4 reads "
                                        "the answer only after the cell: read call.result in the next cell") from None
        return self.result

    @observe("state")
    def _answered(self, change) -> None:
        if change["new"] == "done":
            try:
                self._result = _value_of(self.answer, self.function.result)
            except (KeyError, TypeError, ValueError, WasmlabError) as exc:
                self.browser_error = f"its answer is not a {self.function.result.wit()}: {exc}"
                self.state = "failed"  # this observer runs again for "failed"
                return
        if change["new"] in ("done", "failed"):
            callbacks, self._callbacks = self._callbacks, []
            for callback in callbacks:
                callback(self)


def _settle(future) -> None:
    if not future.done():
        future.set_result(None)


def _answer_of(value, ty) -> dict:
    """The kernel's result shaped as the browser reports its own: jco returns a ``result``'s ok payload
    and throws its err payload."""
    if ty is None:
        return {"ok": _UNDEFINED}
    kind = unalias(ty)
    if isinstance(kind, ResultT):
        carried = kind.ok if isinstance(value, V.Ok) else kind.err
        payload = _UNDEFINED if carried is None else to_js(codecs.codec(carried).check(value.value, "result"),
                                                          carried)
        return {"ok" if isinstance(value, V.Ok) else "err": payload}
    return {"ok": to_js(codecs.codec(ty).check(value, "result"), ty)}


def _value_of(answer: dict, ty):
    """The browser's answer as the Python value :meth:`ExportedFunction.result` gives."""
    if ty is None:
        return None
    kind = unalias(ty)
    if isinstance(kind, ResultT):
        is_ok = "ok" in answer
        carried = kind.ok if is_ok else kind.err
        payload = None if carried is None else from_js(answer["ok" if is_ok else "err"], carried)
        return V.Ok(payload) if is_ok else V.Err(payload)
    return from_js(answer["ok"], ty)


@front_door(component=COMPONENT, target=TEXT)
def in_browser(component, target: str, *args) -> BrowserCall:
    """Call ``target`` with wasmtime now, and in the browser tab that shows the returned widget.

    The browser's value reaches the kernel after this cell, or while a cell awaits ``call.answered()``
    (see :class:`BrowserCall`).  ``component``: a Component, a path, or the component's bytes."""
    if not isinstance(component, Component):
        component = load(component)
    return BrowserCall(component, target, args)


# -- the Jupyter server extension serving the modules ------------------------------------------------

def _jupyter_server_extension_points():
    return [{"module": "wasmlab.notebook.browser_engine"}]


def _load_jupyter_server_extension(serverapp) -> None:
    from jupyter_server.base.handlers import AuthenticatedFileHandler
    from jupyter_server.utils import url_path_join

    web_app = serverapp.web_app
    base = web_app.settings["base_url"]
    modules = browser_root()
    modules.mkdir(parents=True, exist_ok=True)
    web_app.add_handlers(".*$", [
        (url_path_join(base, "wasmlab/modules/(.*)"), AuthenticatedFileHandler, {"path": str(modules)}),
        (url_path_join(base, "wasmlab/shim/(.*)"), AuthenticatedFileHandler, {"path": str(_shim_dir())}),
    ])
    serverapp.log.info("wasmlab: serving browser builds of components from %s", modules)
