"""A component called in the learner's browser tab: JupyterLab + headless Chromium, the module served by the
Jupyter server (wasmlab's server extension), the browser's result shown next to wasmtime's."""

from __future__ import annotations

import asyncio
import json

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat.sign import NotebookNotary

import wasmlab
from wasmlab.errors import WasmlabError

from lab_browser import CHROMIUM, NO_CHROMIUM, JupyterLab, launch_chromium
from kitchen_sink import kitchen_sink
from languages import GREET_WIT, GREETER_JS, require_node, shared_tools_dir

pytestmark = pytest.mark.slow

CALC_WIT = """package demo:browser;

world calc {
  record pair { left: u32, right: u32 }
  export add: func(a: u32, b: u32) -> u32;
  export swap: func(p: pair) -> pair;
  export small: func(a: u32) -> result<u32, u32>;
}
"""

CALC_WAT = """(module
  (memory (export "memory") 1)
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "swap") (param i32 i32) (result i32)
    (i32.store (i32.const 16) (local.get 1))
    (i32.store (i32.const 20) (local.get 0))
    (i32.const 16))
  (func (export "small") (param i32) (result i32)
    (i32.store8 (i32.const 32) (i32.gt_u (local.get 0) (i32.const 100)))
    (i32.store (i32.const 36) (local.get 0))
    (i32.const 32))
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024)))
"""

CELLS = [
    "import wasmlab\nfrom wasmlab.notebook.browser_engine import in_browser",
    f"wasmlab.define_wit({CALC_WIT!r});\ncalc = wasmlab.build(world='calc', wat={CALC_WAT!r}, name='calc')",
    "add = in_browser(calc, 'add', 2, 40)\nseen = []\nadd.on_result(lambda call: seen.append(call.result))\nadd",
    "swap = in_browser(calc, 'swap', {'left': 1, 'right': 2})\nswap",
    "small = in_browser(calc, 'small', 200)\nsmall",  # err(200): jco throws it, wasmtime's .result gives Err
    # a JavaScript guest: its WASI imports (stdio, clocks, random) come from preview2-shim's browser build
    f"wasmlab.define_wit({GREET_WIT!r});\njs = wasmlab.build(world='demo:greet/plugin', js={GREETER_JS!r}, name='js')",
    "describe = in_browser(js, 'greeter#describe', [{'name': 'ada', 'languages': ['en'], 'age': None}])\ndescribe",
    # run once the browser has answered: the answers are back in the kernel as Python values
    "print('kernel has', add.result == add.wasmtime_result, swap.result == swap.wasmtime_result,\n"
    "      small.result == small.wasmtime_result, describe.result == describe.wasmtime_result, seen, small.result)",
    # a cell that awaits the browser's answer: ipykernel reads widget messages while a cell awaits
    "again = in_browser(calc, 'add', 1, 2)\ndisplay(again)\nprint('awaited', await again.answered(timeout=300))",
]
CHECK, AWAIT = 7, 8


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


def test_resources_are_refused_before_anything_runs(tools):
    from wasmlab.notebook.browser_engine import in_browser

    with pytest.raises(WasmlabError, match="kit@0.1.0#peek passes resources, which wasmlab does not carry into the browser"):
        in_browser(kitchen_sink(), "kit#peek", None)


def test_without_a_browser_the_text_gives_wasmtimes_answer(tools):
    from wasmlab.notebook.browser_engine import in_browser

    wasmlab.define_wit(CALC_WIT)
    calc = wasmlab.build(world="calc", wat=CALC_WAT, name="calc", progress=False)
    call = in_browser(calc, "add", 2, 40)
    bundle, _ = call._repr_mimebundle_()
    assert bundle["text/plain"] == "add under wasmtime: 42 (run the cell in JupyterLab to call it in your browser tab too)"
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert call.state == "loading" and call.wasmtime_result == 42 and not call.same
    with pytest.raises(WasmlabError, match="the browser has not answered add yet"):
        call.result
    with pytest.raises(WasmlabError, match="add takes 2 arguments, got 1"):
        in_browser(calc, "add", 1)
    # what a learner may type instead: each a one-line error before anything runs
    from wasmlab.errors import ArgumentError, LoadError, UnknownExport

    with pytest.raises(LoadError, match="calc.wasm: no such file"):
        in_browser("calc.wasm", "add", 1, 2)
    with pytest.raises(ArgumentError, match="`target` must be text"):
        in_browser(calc, 3, 1, 2)
    with pytest.raises(UnknownExport, match="no exported function 'ad'"):
        in_browser(calc, "ad", 1, 2)
    with pytest.raises(ArgumentError, match="must be u32"):
        in_browser(calc, "add", "x", 2)
    assert in_browser(calc.wasm_path, "add", 1, 2).wasmtime_result == 3  # a path loads the component
    with pytest.raises(ArgumentError, match="on_result takes a function"):
        call.on_result("print")
    for timeout in (0, -1, "5", True):
        with pytest.raises(ArgumentError, match="positive number of seconds"):
            asyncio.run(call.answered(timeout))


def _cell(page, index: int):
    return page.locator(".jp-Notebook .jp-Cell").nth(index)


def _run_menu(page, item: str) -> None:
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name=item, exact=True).click()


def _run_and_read(page, index: int) -> list[str]:
    """Run cell ``index``, wait until it has run (its prompt shows a number) and read its outputs."""
    _cell(page, index).locator(".jp-InputPrompt").click()
    page.keyboard.press("Shift+Enter")
    page.wait_for_function("i => /\\[\\d+\\]/.test(document.querySelectorAll('.jp-Notebook .jp-Cell')[i]"
                           ".querySelector('.jp-InputPrompt').textContent)", arg=index, timeout=600_000, polling=500)
    return _cell(page, index).locator(".jp-OutputArea-output").all_inner_texts()


def test_browser_computes_the_same_result_as_wasmtime(tools, tmp_path):
    if not CHROMIUM.exists():
        pytest.skip(NO_CHROMIUM)
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    root = tmp_path / "root"
    root.mkdir()
    # written unsigned, so JupyterLab opens it untrusted: widgets need no trust (scripts in HTML outputs would)
    notebook = {"cells": [{"cell_type": "code", "id": f"cell{i}", "metadata": {}, "source": c, "outputs": [],
                           "execution_count": None} for i, c in enumerate(CELLS)],
                "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
                "nbformat": 4, "nbformat_minor": 5}
    (root / "browser.ipynb").write_text(json.dumps(notebook))
    # run headless (nbclient, as nbconvert --execute): its saved widget state has a call nobody answered
    saved = nbformat.from_dict({**notebook, "cells": notebook["cells"][:3]})
    NotebookClient(saved, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(root)}}).execute()
    assert saved.metadata.widgets, "nbclient saved no widget state"
    nbformat.write(saved, root / "saved.ipynb")
    settings = {"@jupyterlab/notebook-extension/tracker.jupyterlab-settings":
                {"windowingMode": "none", "autoStartDefaultKernel": True}}
    # under a base URL, as a hub's single-user server: the widget finds the served modules below it
    lab = JupyterLab(tmp_path / "lab", root, settings, base_url="/user/learner/",
                     extra_args=("--ServerApp.jpserver_extensions=wasmlab.notebook.browser_engine=True",))
    try:
        with sync_api.sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            page = browser.new_page()
            page.goto(lab.url("browser.ipynb"))
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
            page.wait_for_function("() => /\\| Idle\\b/.test(document.querySelector('#jp-main-statusbar')"
                                   "?.innerText ?? '')", timeout=120_000)
            _cell(page, CHECK).locator(".jp-InputPrompt").click()
            _run_menu(page, "Run All Above Selected Cell")
            page.wait_for_function("() => document.querySelectorAll('.wasmlab-browser-call[data-state]"
                                   ":not([data-state=loading])').length == 4", timeout=600_000, polling=500)
            calls = page.eval_on_selector_all(".wasmlab-browser-call", """els => els.map(el => ({
                state: el.dataset.state,
                browser: el.querySelector('.wasmlab-browser-result').textContent,
                same: el.querySelector('.wasmlab-browser-same').textContent,
                time: el.querySelector('.wasmlab-browser-time').textContent,
                wasmtime: el.querySelector('.wasmlab-wasmtime-result').textContent}))""")
            checked = _run_and_read(page, CHECK)
            awaited = _run_and_read(page, AWAIT)
            # a saved widget, restored from the notebook without a kernel behind it, calls nothing.  JupyterLab
            # shows stored widgets of trusted notebooks only (text/plain otherwise): trust it as `jupyter trust`
            # would, with the server's notary (its secret is in the server's data folder by now)
            trusted = nbformat.read(root / "saved.ipynb", as_version=4)
            NotebookNotary(data_dir=str(tmp_path / "lab" / "data")).sign(trusted)
            page.goto(lab.url("saved.ipynb"))
            page.wait_for_selector(".wasmlab-browser-call[data-state=saved]", timeout=120_000)
            restored = page.eval_on_selector(".wasmlab-browser-call", """el => [
                el.querySelector('.wasmlab-wasmtime-result').textContent,
                el.querySelector('.wasmlab-browser-result').textContent]""")
            browser.close()
    finally:
        lab.stop()
    assert [c["state"] for c in calls] == ["done"] * 4, calls
    assert calls[0]["browser"] == "42" and calls[0]["wasmtime"] == "42"
    assert json.loads(calls[1]["browser"]) == {"left": 2, "right": 1}
    assert calls[2]["browser"] == "err(200)" and calls[2]["wasmtime"] == "err(200)"
    assert json.loads(calls[3]["browser"]) == ["ada speaks en"]
    assert [c["same"] for c in calls] == ["yes"] * 4
    assert all(c["time"].endswith(" ms") for c in calls), calls
    assert [text.strip() for text in checked] == ["kernel has True True True True [42] err(200)"], checked
    assert [text.strip() for text in awaited][-1] == "awaited 3", awaited
    assert restored == ["42", "run the cell to call it in this tab"], restored
