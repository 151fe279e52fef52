"""A component called in the learner's browser tab: JupyterLab + headless Chromium, the module served by the
Jupyter server (wasmlab's server extension), the browser's result shown next to wasmtime's."""

from __future__ import annotations

import json

import pytest

import wasmlab
from wasmlab.errors import WasmlabError

from lab_browser import CHROMIUM, NO_CHROMIUM, JupyterLab, launch_chromium
from languages import GREET_WIT, GREETER_JS, require_node, shared_tools_dir

pytestmark = pytest.mark.slow

CALC_WIT = """package demo:browser;

world calc {
  record pair { left: u32, right: u32 }
  export add: func(a: u32, b: u32) -> u32;
  export swap: func(p: pair) -> pair;
}
"""

CALC_WAT = """(module
  (memory (export "memory") 1)
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "swap") (param i32 i32) (result i32)
    (i32.store (i32.const 16) (local.get 1))
    (i32.store (i32.const 20) (local.get 0))
    (i32.const 16))
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024)))
"""

CELLS = [
    "import wasmlab\nfrom wasmlab.notebook.browser_engine import in_browser",
    f"wasmlab.define_wit({CALC_WIT!r});\ncalc = wasmlab.build(world='calc', wat={CALC_WAT!r}, name='calc')",
    "in_browser(calc, 'add', 2, 40)",
    "in_browser(calc, 'swap', {'left': 1, 'right': 2})",
    # a JavaScript guest: its WASI imports (stdio, clocks, random) come from preview2-shim's browser build
    f"wasmlab.define_wit({GREET_WIT!r});\njs = wasmlab.build(world='demo:greet/plugin', js={GREETER_JS!r}, name='js')",
    "in_browser(js, 'greeter#describe', [{'name': 'ada', 'languages': ['en'], 'age': None}])",
]


@pytest.fixture(scope="module")
def tools(tmp_path_factory):
    require_node()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WASMLAB_TOOLS_DIR", str(shared_tools_dir()))
        from wasmlab.toolchain.javascript import npm_tools

        npm_tools(progress=False)
        yield


def test_grants_the_browser_cannot_honour_are_refused(tools, tmp_path):
    from wasmlab.notebook.browser_engine import in_browser

    wasmlab.define_wit(CALC_WIT)
    calc = wasmlab.build(world="calc", wat=CALC_WAT, name="calc", progress=False)
    calc.grants = wasmlab.Grants().with_dir(tmp_path, "/data")
    with pytest.raises(WasmlabError, match="the browser cannot honour directories"):
        in_browser(calc, "add", 1, 2)
    calc.grants = wasmlab.Grants()
    calc.limits = wasmlab.Limits(fuel=1000)
    with pytest.raises(WasmlabError, match="limits"):
        in_browser(calc, "add", 1, 2)


def test_browser_computes_the_same_result_as_wasmtime(tools, tmp_path):
    if not CHROMIUM.exists():
        pytest.skip(NO_CHROMIUM)
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    root = tmp_path / "root"
    root.mkdir()
    notebook = {"cells": [{"cell_type": "code", "metadata": {}, "source": c, "outputs": [], "execution_count": None}
                          for c in CELLS],
                "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
                "nbformat": 4, "nbformat_minor": 5}
    (root / "browser.ipynb").write_text(json.dumps(notebook))
    settings = {"@jupyterlab/notebook-extension/tracker.jupyterlab-settings":
                {"windowingMode": "none", "autoStartDefaultKernel": True}}
    lab = JupyterLab(tmp_path / "lab", root, settings,
                     extra_args=("--ServerApp.jpserver_extensions=wasmlab.notebook.browser_engine=True",))
    try:
        with sync_api.sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            page = browser.new_page()
            page.goto(lab.url("browser.ipynb"))
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
            page.wait_for_function("() => /\\| Idle\\b/.test(document.querySelector('#jp-main-statusbar')"
                                   "?.innerText ?? '')", timeout=120_000)
            page.get_by_role("menuitem", name="Run", exact=True).click()
            page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
            page.wait_for_function("() => document.querySelectorAll('.wasmlab-browser-call[data-state]').length == 3",
                                   timeout=600_000, polling=500)
            calls = page.eval_on_selector_all(".wasmlab-browser-call", """els => els.map(el => ({
                state: el.dataset.state,
                browser: el.querySelector('.wasmlab-browser-result').textContent,
                same: el.querySelector('.wasmlab-browser-same').textContent,
                wasmtime: el.querySelector('code').textContent}))""")
            browser.close()
    finally:
        lab.stop()
    assert [c["state"] for c in calls] == ["done", "done", "done"], calls
    assert calls[0]["browser"] == "42" and calls[0]["wasmtime"] == "42"
    assert json.loads(calls[1]["browser"]) == {"left": 2, "right": 1}
    assert json.loads(calls[2]["browser"]) == ["ada speaks en"]
    assert [c["same"] for c in calls] == ["yes", "yes", "yes"]
