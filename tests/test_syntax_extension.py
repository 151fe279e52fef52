"""The wasmlab-syntax JupyterLab extension: installed with the package, and highlighting in a real browser.

``pip install`` (editable or not) puts the prebuilt extension in ``share/jupyter/labextensions``; JupyterLab
lists it.  In headless Chromium (Debian's, driven by the PyPI ``playwright`` package), a notebook's ``%%wit``
and ``%%wac`` cells are highlighted by the extension's WIT and WAC languages (tokens carry ``tok-*`` classes
and JupyterLab's keyword colour) while its other cells stay Python, and typing ``%%wit`` at the top of a
Python cell switches that cell to WIT.  A screenshot is saved under the test's tmp dir (and, when ``CI`` is
set, under ``test-artifacts/syntax/``).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from lab_browser import CHROMIUM, NO_CHROMIUM, JupyterLab, launch_chromium

ROOT = Path(__file__).resolve().parent.parent
EXTENSION = "wasmlab-syntax"

WIT_CELL = """%%wit
package demo:hello@0.1.0;

/// Says hello.
interface greetings {
  /* a /* nested */ comment */
  @since(version = 0.1.0)
  greet: func(name: string) -> list<u8>;
}

world greeter {
  export greetings;
}"""
WAC_CELL = """%%wac
package demo:app;

let hello = new demo:hello { ... };
export hello.greetings;"""
PYTHON_CELL = """def shout(world):
    return world.upper()  # world is a plain name here"""
TO_BE_WIT_CELL = """record point { x: u32 }"""

LAB_SETTINGS = {  # every cell in the DOM, and no news or update toasts over the notebook
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
        {"fetchNews": "false", "checkForUpdates": False},
}


def _strip_ansi(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def test_jupyterlab_lists_the_extension_enabled_and_ok():
    jupyter = Path(sys.executable).with_name("jupyter")
    listing = subprocess.run([str(jupyter), "labextension", "list"], capture_output=True, text=True,
                             timeout=120, check=True)
    lines = [line for line in _strip_ansi(listing.stdout + listing.stderr).splitlines() if EXTENSION in line]
    assert lines, f"{EXTENSION} is not listed:\n{listing.stdout}{listing.stderr}"
    assert re.search(rf"{EXTENSION} v[\d.]+ +enabled +OK +\(python, wasmlab\)", lines[0]), lines[0]


def test_built_bundle_matches_the_source_package():
    """The committed bundle is built from kernels-ext/labextension (same name and version)."""
    source = json.loads((ROOT / "kernels-ext/labextension/package.json").read_text())
    built = json.loads((ROOT / "wasmlab/notebook/labextension/package.json").read_text())
    assert built["name"] == source["name"] == EXTENSION
    assert built["version"] == source["version"]
    remote_entry = built["jupyterlab"]["_build"]["load"]
    assert (ROOT / "wasmlab/notebook/labextension" / remote_entry).is_file()


def _notebook() -> dict:
    def code(source: str) -> dict:
        return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                "source": source}

    return {"nbformat": 4, "nbformat_minor": 5,
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                         "language_info": {"name": "python", "codemirror_mode": {"name": "ipython", "version": 3},
                                           "mimetype": "text/x-python", "file_extension": ".py"}},
            "cells": [code(WIT_CELL), code(WAC_CELL), code(PYTHON_CELL), code(TO_BE_WIT_CELL)]}


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server (127.0.0.1, a token, a free port, throwaway dirs) serving one notebook."""
    if not CHROMIUM.exists():
        pytest.skip(NO_CHROMIUM)
    pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed (the test extra has it)")
    work = tmp_path_factory.mktemp("lab")
    root = work / "notebooks"
    root.mkdir()
    (root / "syntax.ipynb").write_text(json.dumps(_notebook()))
    (root / "greeter.wit").write_text(WIT_CELL.split("\n", 1)[1])
    server = JupyterLab(work, root, LAB_SETTINGS)
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser(lab):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def page(lab, browser):
    """syntax.ipynb open in JupyterLab."""
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.goto(lab("syntax.ipynb"), wait_until="domcontentloaded", timeout=120_000)
    page.locator(".jp-Notebook .jp-CodeCell").nth(3).wait_for(timeout=120_000)
    yield page
    page.close()


# Every span in a cell's editor whose whole text is `word`: its classes and its computed colour.
TOKENS_JS = """([index, word]) => {
  const cell = document.querySelectorAll('.jp-Notebook .jp-CodeCell')[index];
  return Array.from(cell.querySelectorAll('.cm-content .cm-line span'))
    .filter(span => span.textContent === word)
    .map(span => ({classes: span.className.split(/\\s+/), color: getComputedStyle(span).color}));
}"""
# The colour of plain text in a cell's editor (a line's own colour).
TEXT_COLOR_JS = """(index) => {
  const cell = document.querySelectorAll('.jp-Notebook .jp-CodeCell')[index];
  return getComputedStyle(cell.querySelector('.cm-content .cm-line')).color;
}"""


def _tokens(page, index: int, word: str) -> list[dict]:
    return page.evaluate(TOKENS_JS, [index, word])


def _wait_for_class(page, index: int, word: str, css_class: str) -> dict:
    page.wait_for_function(
        f"args => ({TOKENS_JS})(args).some(token => token.classes.includes({json.dumps(css_class)}))",
        arg=[index, word], timeout=60_000)
    return next(token for token in _tokens(page, index, word) if css_class in token["classes"])


def _screenshot(page, name: str, tmp_path: Path) -> Path:
    dirs = [tmp_path]
    if os.environ.get("CI"):
        dirs.append(ROOT / "test-artifacts" / "syntax")
    for directory in dirs:
        directory.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(directory / name), full_page=True)
    return dirs[0] / name


def test_wit_and_wac_cells_are_highlighted_and_python_stays_python(page, tmp_path):
    wit_world = _wait_for_class(page, 0, "world", "tok-keyword")
    for word, css_class in [("package", "tok-keyword"), ("interface", "tok-keyword"), ("func", "tok-keyword"),
                            ("export", "tok-keyword"), ("string", "tok-typeName"), ("list", "tok-keyword"),
                            ("greeter", "tok-definition"), ("demo:hello", "tok-namespace"),
                            ("@0.1.0", "tok-number"), ("/// Says hello.", "tok-comment"), ("%%wit", "tok-meta"),
                            ("/* a /* nested */ comment */", "tok-comment"), ("@since", "tok-meta"),
                            ("greet", "tok-definition"), ("name", "tok-propertyName")]:
        assert any(css_class in token["classes"] for token in _tokens(page, 0, word)), (word, _tokens(page, 0, word))

    _wait_for_class(page, 1, "let", "tok-keyword")
    assert any("tok-keyword" in token["classes"] for token in _tokens(page, 1, "new"))
    assert any("tok-namespace" in token["classes"] for token in _tokens(page, 1, "demo:hello"))
    assert any("tok-meta" in token["classes"] for token in _tokens(page, 1, "%%wac"))

    # The Python cell keeps JupyterLab's Python language: its `def` has the keyword colour (the same
    # theme colour as WIT's `world`) without our `tok-*` classes, and `world` there is a plain name.
    python_def = _tokens(page, 2, "def")
    assert python_def and all(not any(c.startswith("tok-") for c in t["classes"]) for t in python_def), python_def
    assert python_def[0]["color"] == wit_world["color"]
    assert wit_world["color"] != page.evaluate(TEXT_COLOR_JS, 2)
    assert not any(token["color"] == wit_world["color"] for token in _tokens(page, 2, "world"))
    assert not any("tok-keyword" in token["classes"] for token in _tokens(page, 3, "record"))

    shot = _screenshot(page, "syntax.png", tmp_path)
    assert shot.stat().st_size > 10_000


def test_typing_the_magic_switches_a_python_cell_to_wit(page, tmp_path):
    editor = page.locator(".jp-Notebook .jp-CodeCell").nth(3).locator(".cm-content")
    editor.click()
    page.keyboard.press("Control+Home")
    page.keyboard.type("%%wit")
    page.keyboard.press("Enter")
    record = _wait_for_class(page, 3, "record", "tok-keyword")
    assert any("tok-typeName" in token["classes"] for token in _tokens(page, 3, "u32"))
    assert record["color"] == _tokens(page, 2, "def")[0]["color"]
    _screenshot(page, "syntax-typed-magic.png", tmp_path)

    # Taking the magic away gives the cell back to Python.
    page.keyboard.press("Control+Home")
    page.keyboard.press("Shift+End")
    page.keyboard.press("Delete")
    page.keyboard.press("Delete")
    page.wait_for_function(
        f"args => !({TOKENS_JS})(args).some(token => token.classes.includes('tok-keyword'))",
        arg=[3, "record"], timeout=60_000)
    _screenshot(page, "syntax-after-typing.png", tmp_path)


def test_wit_files_open_highlighted_in_the_editor(lab, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1280, "height": 700})
    try:
        page.goto(lab("greeter.wit"), wait_until="domcontentloaded", timeout=120_000)
        page.wait_for_function(
            """() => Array.from(document.querySelectorAll('.jp-FileEditor .cm-content span.tok-keyword'))
                 .some(span => span.textContent === 'world')""", timeout=60_000)
        definitions = page.locator(".jp-FileEditor .cm-content span.tok-definition").all_text_contents()
        assert {"greetings", "greeter", "greet"} <= set(definitions), definitions
        _screenshot(page, "greeter-wit-file.png", tmp_path)
    finally:
        page.close()
