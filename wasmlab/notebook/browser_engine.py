"""One component, in the learner's own browser tab: jco's ES module loaded into the JupyterLab page.

``in_browser(component, "greet", "ada")`` calls the export in the kernel (wasmtime) and shows a
cell output whose script imports the transpiled module into the page and calls the same export
there, then shows the browser's result next to wasmtime's.  The module and its core ``.wasm``
files (megabytes) are served by the Jupyter server itself, from wasmlab's tool folder, through
the server extension in this module (``/wasmlab/modules/...``, ``/wasmlab/shim/...`` for
preview2-shim's browser build), never sent base64 through a kernel message.

What the browser shim cannot honour is refused before anything runs: directories, sockets, name
lookup, host environment variables, stdin, and every limit.
"""

from __future__ import annotations

import html
import json
import secrets
from pathlib import Path

from wasmlab.errors import WasmlabError
from wasmlab.runtime import codecs
from wasmlab.runtime.node_engine import to_js
from wasmlab.toolchain import javascript

__all__ = ["in_browser", "BrowserCall", "browser_root"]

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
    values = browser_root() / "values.mjs"
    if not values.is_file() or values.read_bytes() != javascript.script_source("values.mjs"):
        cache.write_atomically(values, javascript.script_source("values.mjs"))
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


class BrowserCall:
    """A call made in the kernel (wasmtime) and, when displayed, again in the browser tab."""

    def __init__(self, component, target: str, args: tuple):
        exported = component.export(target)
        self.target = exported.name
        self.function = exported.function
        self.config = _refuse_what_the_browser_cannot_honour(component)
        checked = [codecs.codec(t).check(v, n) for v, (n, t) in zip(args, self.function.params)]
        self.js_args = [to_js(v, t) for v, (_, t) in zip(checked, self.function.params)]
        self.wasmtime = exported(*args)
        result = self.function.result
        self.expected = None if result is None else to_js(codecs.codec(result).check(self.wasmtime, "result"), result)
        self.module = browser_module(component)
        self.path = list(exported.path)
        self.id = "wasmlab-browser-" + secrets.token_hex(6)

    def __repr__(self) -> str:
        return f"{self.target} under wasmtime: {self.wasmtime!r} (display this in JupyterLab to run it in the browser)"

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {"text/plain": repr(self), "text/html": self.html()}

    def html(self) -> str:
        request = {"module": self.module, "path": self.path if len(self.path) > 1 else [None, self.path[0]],
                   "args": self.js_args, "expected": self.expected, "config": self.config}
        return f"""<div id="{self.id}" class="wasmlab-browser-call">
<table>
<tr><th></th><th>{html.escape(self.target)}</th></tr>
<tr><td>wasmtime (the kernel)</td><td><code>{html.escape(repr(self.wasmtime))}</code></td></tr>
<tr><td>your browser (jco + preview2-shim)</td><td><code class="wasmlab-browser-result">loading…</code></td></tr>
<tr><td>the same value</td><td class="wasmlab-browser-same">…</td></tr>
</table>
<script type="application/json" class="wasmlab-browser-request">{_json_for_html(request)}</script>
<script type="module">
const root = document.getElementById({json.dumps(self.id)});
const request = JSON.parse(root.querySelector('.wasmlab-browser-request').textContent);
const show = (cls, text) => {{ root.querySelector(cls).textContent = text; }};
try {{
  const base = JSON.parse(document.getElementById('jupyter-config-data').textContent).baseUrl;
  const cli = await import(base + 'wasmlab/shim/cli.js');
  cli._setEnv(request.config.env);
  cli._setArgs(request.config.args);
  const {{ revive, tag }} = await import(base + 'wasmlab/modules/values.mjs');
  const component = await import(base + 'wasmlab/modules/' + request.module);
  const camel = (name) => name.replace(/-([a-z0-9])/g, (_, c) => c.toUpperCase());
  const [iface, func] = request.path;
  const short = iface === null ? null : camel(iface.split('/').pop().split('@')[0]);
  const owner = iface === null ? component : (component[iface] ?? component[short]);
  let answer;
  try {{ answer = {{ ok: tag(owner[camel(func)](...revive(request.args))) }}; }}
  catch (error) {{ answer = error && 'payload' in error ? {{ err: tag(error.payload) }} : {{ trap: String(error) }}; }}
  const got = answer.ok ?? answer.err ?? answer.trap;
  show('.wasmlab-browser-result', JSON.stringify(got));
  const same = 'ok' in answer && JSON.stringify(answer.ok ?? null) === JSON.stringify(request.expected ?? null);
  show('.wasmlab-browser-same', same ? 'yes' : 'no');
  root.dataset.state = 'done';
}} catch (error) {{
  show('.wasmlab-browser-result', 'could not run here: ' + error);
  root.dataset.state = 'failed';
}}
</script>
</div>"""


def _json_for_html(value) -> str:
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def in_browser(component, target: str, *args) -> BrowserCall:
    """Call ``target`` with wasmtime now, and in this browser tab when the result is displayed."""
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
