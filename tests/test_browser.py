"""JupyterLab in a real browser: every notebook reads well as stored, runs green, widgets and graphs render.

A JupyterLab server (127.0.0.1, a token, a free port, throwaway config and runtime dirs) serves copies of
``notebooks/``; Debian's Chromium, driven by the PyPI ``playwright`` package, opens each notebook as stored
(untrusted: the server has never seen it, so JupyterLab sanitises its HTML) and checks its pictures, then runs
all cells through the Run menu and checks what the page shows.  A screenshot of every notebook is saved under the
test's tmp dir and, when ``CI`` is set, under ``test-artifacts/browser/``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from pathlib import Path

import pytest

from display_helpers import graph_edges, graph_nodes, picture_from_src
from lab_browser import CHROMIUM, NO_CHROMIUM, JupyterLab, launch_chromium

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SCREENSHOT_PART = 4000  # px: long notebooks are saved as several pictures
RUN_TIMEOUT_MS = 15 * 60 * 1000  # a cold build cache: several componentize-py builds per notebook
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
AS_STORED = "as-stored"  # copies opened and never run: untrusted, as a learner first sees them

if not CHROMIUM.exists():
    pytest.skip(NO_CHROMIUM, allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api",
                               reason="the playwright package is not installed (pip install -e '.[test]')")

pytestmark = pytest.mark.slow

# JupyterLab settings for a quiet, deterministic page: every cell in the DOM (no windowing), the
# notebook's kernel started without asking, no news or update toasts over the notebook.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings":
        {"windowingMode": "none", "autoStartDefaultKernel": True},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
        {"fetchNews": "false", "checkForUpdates": False},
}


@pytest.fixture(scope="module")
def screenshot_dirs(tmp_path_factory):
    dirs = [tmp_path_factory.mktemp("screenshots")]
    if os.environ.get("CI"):
        dirs.append(ROOT / "test-artifacts" / "browser")
        dirs[-1].mkdir(parents=True, exist_ok=True)
    return dirs


class NotebookPage:
    """One notebook opened in Chromium and run there with Run > Run All Cells."""

    def __init__(self, browser, lab: JupyterLab, path: Path, screenshot_dirs: list[Path]):
        self.path, self.name = path, path.name
        self.cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        self.screenshot_dirs = screenshot_dirs
        self.console_errors: list[str] = []
        self.page = browser.new_page(viewport={"width": 1280, "height": 1000})
        self.page.on("console", lambda m: m.type == "error" and self.console_errors.append(m.text))
        self.page.goto(lab.url(path.relative_to(lab.root).as_posix()))
        self.page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
        self.page.keyboard.press("Control+b")  # hide the file browser: the notebook gets the page's width
        self.page.wait_for_selector("#jp-left-stack", state="hidden")
        self._wait_for_kernel_idle()

    def _wait_for_kernel_idle(self) -> None:
        self.page.wait_for_function(
            "() => /\\| Idle\\b/.test(document.querySelector('#jp-main-statusbar')?.innerText ?? '')",
            timeout=120_000)

    def menu(self, menu: str, item: str) -> None:
        self.page.get_by_role("menuitem", name=menu, exact=True).click()
        self.page.get_by_role("menuitem", name=item, exact=True).click()

    def run_all(self) -> None:
        self.menu("Edit", "Clear Outputs of All Cells")
        self.menu("Run", "Run All Cells")
        # Done when every code cell shows its execution count; or, after an unexpected error made
        # JupyterLab drop the queued cells, when nothing is queued and the kernel has idled for 3 s.
        self.page.wait_for_function("""() => {
            const prompts = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt')]
                .map(p => p.innerText);
            if (prompts.every(p => /\\[\\d+\\]/.test(p))) return true;
            const status = document.querySelector('#jp-main-statusbar')?.innerText ?? '';
            if (prompts.some(p => p.includes('*')) || !/\\| Idle\\b/.test(status)) {
                window.__settledSince = undefined;
                return false;
            }
            window.__settledSince ??= Date.now();
            return Date.now() - window.__settledSince > 3000;
        }""", timeout=RUN_TIMEOUT_MS, polling=250)

    def save(self) -> list[dict]:
        """Save the notebook copy from the page and return its cells as the browser saved them."""
        before = self.path.stat().st_mtime_ns
        self.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook").focus()
        self.page.keyboard.press("Control+s")
        deadline = time.monotonic() + 60
        while self.path.stat().st_mtime_ns == before or \
                self.page.locator(".lm-TabBar-tab.jp-mod-current.jp-mod-dirty").count():
            assert time.monotonic() < deadline, f"{self.name} was not saved from the page"
            time.sleep(0.2)
        return json.loads(self.path.read_text(encoding="utf-8"))["cells"]

    def cell(self, index: int):
        return self.page.locator(".jp-Notebook .jp-Cell").nth(index)

    def dom_cells(self) -> list[dict]:
        """Per notebook cell, in order: its prompt and what its outputs rendered (once every picture loaded)."""
        self.page.wait_for_function(
            "() => [...document.querySelectorAll('.jp-OutputArea-output img')].every(i => i.complete)",
            timeout=60_000)
        return self.page.eval_on_selector_all(".jp-Notebook .jp-Cell", """cells => cells.map(cell => {
            const outputs = [...cell.querySelectorAll('.jp-OutputArea-output')];
            const box = el => { const r = el.getBoundingClientRect(); return [r.width, r.height]; };
            return {
              prompt: cell.querySelector('.jp-InputPrompt')?.innerText ?? null,
              mimes: outputs.map(o => o.getAttribute('data-mime-type')),
              text: outputs.map(o => o.innerText).join('\\n'),
              svgs: [...cell.querySelectorAll('.jp-OutputArea-output svg')]
                      .filter(s => !s.closest('.jupyter-widgets button')).map(box),
              imgs: [...cell.querySelectorAll('.jp-OutputArea-output img')]
                      .map(i => [i.naturalWidth, i.naturalHeight]),
              sources: [...cell.querySelectorAll('.jp-OutputArea-output img')].map(i => i.getAttribute('src')),
              // ipywidgets' views carry .jupyter-widgets; an anywidget's view is a Lumino widget in the
              // widget renderer's panel
              widgets: outputs.filter(o => o.querySelector('.jupyter-widgets')
                                      || (o.classList.contains('lm-Panel') && o.querySelector(':scope > .lm-Widget')))
                              .length,
            };
        })""")

    def screenshot(self, label: str = "", element=None) -> list[Path]:
        """Pictures for the artifacts: one element, or the whole notebook in parts ``NAME.png``,
        ``NAME-2.png``, ... (the page is made as tall as a part and the notebook scrolled part by part)."""
        stem = self.path.stem + (f"-{label}" if label else "")
        pictures = [self._element_picture(element)] if element is not None else self._notebook_pictures()
        paths = []
        for number, picture in enumerate(pictures, 1):
            name = f"{stem}.png" if number == 1 else f"{stem}-{number}.png"
            for directory in self.screenshot_dirs:
                (directory / name).write_bytes(picture)
                paths.append(directory / name)
        return paths

    def _element_picture(self, element) -> bytes:
        viewport = self.page.viewport_size  # JupyterLab scrolls inside the page: make room for the element
        height = min(max(int(element.bounding_box()["height"]) + 300, viewport["height"]), SCREENSHOT_PART)
        self.page.set_viewport_size({"width": viewport["width"], "height": height})
        element.scroll_into_view_if_needed()
        picture = element.screenshot()
        self.page.set_viewport_size(viewport)
        return picture

    def _notebook_pictures(self) -> list[bytes]:
        scroller = "document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer')"
        content, visible = self.page.evaluate(f"""() => {{
            const scroller = {scroller};
            const cells = scroller.querySelectorAll('.jp-Cell');
            const end = cells[cells.length - 1].getBoundingClientRect().bottom
                        - scroller.getBoundingClientRect().top + scroller.scrollTop;
            return [Math.ceil(end) + 40, scroller.clientHeight]; }}""")
        viewport = self.page.viewport_size
        part = min(content, SCREENSHOT_PART)
        self.page.set_viewport_size({"width": viewport["width"], "height": viewport["height"] - visible + part})
        pictures = []
        for top in range(0, content, part):
            self.page.evaluate(f"() => {scroller}.scrollTo(0, {top})")
            self.page.wait_for_timeout(200)
            pictures.append(self.page.screenshot())
        self.page.set_viewport_size(viewport)
        return pictures

    def close(self) -> None:
        self.page.close()


@pytest.fixture(scope="module")
def lab(tmp_path_factory, isolated_cache):
    workdir = tmp_path_factory.mktemp("jupyterlab")
    root = workdir / "notebooks"  # copies: the repository's notebooks are never touched
    shutil.copytree(ROOT / "notebooks", root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    shutil.copytree(ROOT / "notebooks", root / AS_STORED, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    server = JupyterLab(workdir, root, LAB_SETTINGS)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def ran(browser, lab, screenshot_dirs):
    """Notebooks run in the browser, each once per module: ``ran("03-capabilities.ipynb")``."""
    pages: dict[str, NotebookPage] = {}

    def run(name: str) -> NotebookPage:
        if name not in pages:
            page = NotebookPage(browser, lab, lab.root / name, screenshot_dirs)
            page.run_all()
            page.saved = page.save()
            page.screenshot()
            pages[name] = page
        return pages[name]

    yield run
    for page in pages.values():
        page.close()


def _expected(cell: dict) -> dict:
    """What a committed cell's outputs say the browser must show again."""
    html = ["".join(o["data"]["text/html"]) for o in cell.get("outputs", []) if "text/html" in o.get("data", {})]
    mimes = {m for o in cell.get("outputs", []) for m in o.get("data", {})}
    return {"picture": "image/svg+xml" in mimes or "image/png" in mimes
                       or any("data:image/svg+xml" in h or "<svg" in h for h in html),
            "widget": WIDGET_MIME in mimes}


def _stored_pictures(cell: dict) -> int:
    """How many pictures a stored cell's outputs hold (each output's richest form counts once)."""
    count = 0
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        html = "".join(data.get("text/html", ""))
        count += html.count("data:image/svg+xml") + html.count("<svg") \
            or int("image/svg+xml" in data or "image/png" in data)
    return count


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_as_stored_shows_its_pictures_before_anything_runs(browser, lab, screenshot_dirs, notebook):
    page = NotebookPage(browser, lab, lab.root / AS_STORED / notebook.name, screenshot_dirs)
    try:
        rendered = page.dom_cells()
        assert len(rendered) == len(page.cells)
        shown = 0
        for index, (cell, dom) in enumerate(zip(page.cells, rendered)):
            where = f"{notebook.name} cell {index} ({''.join(cell['source'])[:60]!r})"
            assert dom["prompt"] is None or "*" not in dom["prompt"], f"{where} ran: nothing should run"
            if cell["cell_type"] != "code":
                continue
            stored = _stored_pictures(cell)
            assert len(dom["imgs"]) >= stored, f"{where}: {stored} pictures stored, {len(dom['imgs'])} shown"
            for (width, height), src in zip(dom["imgs"], dom["sources"]):
                assert width > 10 and height > 10, f"{where}: a picture rendered empty"
                for edge in graph_edges(picture_from_src(src)) if src.startswith("data:image/svg") else []:
                    assert edge not in dom["text"], f"{where}: the diagram shows as text ({edge!r})"
            shown += len(dom["imgs"])
        if any(_stored_pictures(c) for c in page.cells):
            assert shown, f"{notebook.name}: no picture visible"
        page.screenshot("as-stored")
    finally:
        page.close()


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_green_in_jupyterlab(ran, notebook):
    page = ran(notebook.name)
    rendered = page.dom_cells()
    assert len(rendered) == len(page.cells), "the page shows a different number of cells than the notebook"
    assert len(page.saved) == len(page.cells)
    for index, (cell, saved, dom) in enumerate(zip(page.cells, page.saved, rendered)):
        if cell["cell_type"] != "code":
            continue
        where = f"{notebook.name} cell {index} ({''.join(cell['source'])[:60]!r})"
        expects_error = "raises-exception" in cell.get("metadata", {}).get("tags", [])
        errors = [o for o in saved["outputs"] if o["output_type"] == "error"]
        assert bool(errors) == expects_error, f"{where}: error output {bool(errors)}, expected {expects_error}:\n" \
                                              f"{dom['text'][-3000:]}"
        assert saved["execution_count"] is not None, f"{where} did not run"
        assert re.fullmatch(r"\[\d+\]:", dom["prompt"] or ""), f"{where}: prompt {dom['prompt']!r}"
        assert "Error displaying widget" not in dom["text"], f"{where}: {dom['text'][:500]}"
        for width, height in dom["svgs"] + dom["imgs"]:
            assert width > 0 and height > 0, f"{where}: a picture rendered empty"
        expected = _expected(cell)
        if expected["picture"]:
            assert dom["svgs"] or dom["imgs"], f"{where}: no picture rendered"
        if expected["widget"]:
            assert dom["widgets"], f"{where}: no widget rendered"
    assert not [e for e in page.console_errors if "widget" in e.lower()], page.console_errors


def _code_cell_index(page: NotebookPage, needle: str) -> int:
    return next(i for i, c in enumerate(page.cells)
                if c["cell_type"] == "code" and needle in "".join(c["source"]))


def _wait_for_report(page: NotebookPage, output, *, text: str, filesystem: str) -> str:
    """Wait until the panel's output shows ``text`` and a capability graph whose filesystem node reads
    ``filesystem`` (the result is printed first, the fresh report arrives after it); returns that node's text."""
    page.page.wait_for_function("""([el, text, word]) => {
        if (!el.innerText.includes(text)) return false;
        return [...el.querySelectorAll('img')].some(img => {
            const src = img.getAttribute('src') || '';
            if (!src.startsWith('data:image/svg+xml;base64,') || !img.complete || !img.naturalWidth) return false;
            const svg = new DOMParser().parseFromString(atob(src.split(',')[1]), 'image/svg+xml');
            return [...svg.querySelectorAll('g.node')].some(n => n.querySelector('title')?.textContent
                === 'cap_filesystem' && n.textContent.includes(word));
        });
    }""", arg=[output.element_handle(), text, filesystem], timeout=60_000)
    [svg] = [picture_from_src(src) for src in output.locator("img").evaluate_all("els => els.map(e => e.src)")]
    return graph_nodes(svg)["cap_filesystem"]


def test_capabilities_panel_and_graph_render_and_rerun_on_click(ran):
    page = ran("03-capabilities.ipynb")
    report_cell = page.cell(_code_cell_index(page, "report = reader.report()"))
    graph = report_cell.locator(".jp-OutputArea-output img").first
    assert "filesystem" in graph_nodes(picture_from_src(graph.get_attribute("src")))["cap_filesystem"]
    assert graph.bounding_box()["height"] > 100

    panel_cell = page.cell(_code_cell_index(page, "reader.grants_panel()"))
    panel = panel_cell.locator(".jp-OutputArea-output .jupyter-widgets").first
    assert panel.get_by_text("Grants for reader").is_visible()
    cut = panel.locator(".widget-label").evaluate_all(
        "els => els.filter(e => e.offsetWidth && e.scrollWidth > e.clientWidth + 1).map(e => e.innerText)")
    assert not cut, f"grants panel labels cut off: {cut}"
    output = panel_cell.locator(".jupyter-widgets.widget-output")
    assert "Hello from the host" not in output.inner_text()

    panel_cell.get_by_role("button", name="Re-run").click()
    node = _wait_for_report(page, output, text="Hello from the host!", filesystem="used")
    assert "/data/hello.txt" in output.inner_text() and "used" in node
    page.screenshot("rerun-granted", element=panel_cell)

    panel_cell.get_by_label("read-write").fill("")  # take the directory grant away, run again
    panel_cell.get_by_role("button", name="Re-run").click()
    node = _wait_for_report(page, output, text="FileNotFoundError", filesystem="denied")
    assert "Hello from the host" not in output.inner_text() and "used" not in node
    page.screenshot("rerun-denied", element=panel_cell)
