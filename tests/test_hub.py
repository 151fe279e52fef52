"""A classroom on a real JupyterHub: several learners run the tour at the same time from one shared
warm cache, and a learner's served component opens in the browser through the hub's URL."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from wasmlab.runtime.jupyter_proxy import browser_url, jupyter_server

from guests import P3_WIT, SERVICE_PY
from hub import Hub, JupyterServer, notebook_code_cells, require_hub
from lab_browser import CHROMIUM, NO_CHROMIUM, JupyterLab, launch_chromium

ROOT = Path(__file__).resolve().parents[1]
TOUR = ROOT / "notebooks" / "01-tour.ipynb"
LEARNERS = ("ada", "grace", "linus")

def test_outside_jupyter_a_served_port_is_its_loopback_address():
    assert jupyter_server() is None  # pytest is no Jupyter server's kernel
    assert browser_url(8123) == "http://127.0.0.1:8123/"


def test_a_server_without_the_proxy_is_not_used_for_links(tmp_path):
    # a Jupyter server that answers but has no jupyter-server-proxy: links stay on loopback
    server = {"url": "http://127.0.0.1:9/", "base_url": "/user/x/", "token": ""}
    assert browser_url(8123, server=server) == "http://127.0.0.1:8123/"


def _tree_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        digest.update(str(path.relative_to(folder)).encode())
        if path.is_file():
            digest.update(path.stat().st_size.to_bytes(8, "little"))
            digest.update(str(path.stat().st_mtime_ns).encode())
    return digest.hexdigest()


def _built_artifacts(cache: Path) -> list[Path]:
    return [p for p in cache.rglob("*") if p.is_file() and p.stat().st_size > 1_000_000] if cache.exists() else []


@pytest.fixture(scope="module")
def classroom(tmp_path_factory):
    """A warm cache filled once (as an image build would), the wasmlab kernelspec, and a hub."""
    require_hub()
    work = tmp_path_factory.mktemp("classroom")
    warm = work / "warm-cache"
    env = {**os.environ, "WASMLAB_CACHE_DIR": str(warm)}
    subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
                    "--ExecutePreprocessor.timeout=900", "--output-dir", str(work), str(TOUR)],
                   check=True, env=env, capture_output=True)
    script = ("import wasmlab\n"
              f"wasmlab.define_wit({P3_WIT!r})\n"
              f"wasmlab.build(world='demo:p3/service', python={SERVICE_PY!r}, name='service', progress=False)\n")
    subprocess.run([sys.executable, "-c", script], check=True, env=env, capture_output=True)
    kernels = work / "kernels"
    subprocess.run([sys.executable, "-m", "wasmlab.cli", "install-kernel", "--prefix", str(kernels)], check=True,
                   capture_output=True)
    hub = Hub(work, environment={"WASMLAB_SHARED_CACHE": str(warm),
                                 "JUPYTER_PATH": str(kernels / "share" / "jupyter")})
    yield hub, warm
    hub.stop()


@pytest.mark.slow
def test_learners_run_the_tour_at_once_from_the_shared_warm_cache(classroom):
    hub, warm = classroom
    before = _tree_digest(warm)
    learners = [hub.start_learner(name) for name in LEARNERS]
    cells = notebook_code_cells(TOUR)
    outcomes: dict[str, object] = {}

    def run(learner):
        kernel = learner.start_kernel("wasmlab")
        try:
            printed = [text for cell in cells for text in kernel.execute(cell)[1]]
            outcomes[learner.name] = printed
        except BaseException as exc:  # reported below, with the learner's name
            outcomes[learner.name] = exc
        finally:
            kernel.close()

    threads = [threading.Thread(target=run, args=(learner,)) for learner in learners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    failures = {name: out for name, out in outcomes.items() if isinstance(out, BaseException)}
    assert not failures, failures
    for name in LEARNERS:
        assert any("All good" in text for text in outcomes[name]), outcomes[name]
        # the builds came from the shared cache: nothing was compiled into the learner's own cache
        assert not _built_artifacts(hub.workdir / "home" / name / ".cache" / "wasmlab"), name
    assert _tree_digest(warm) == before, "the shared cache was written to"


@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists(), reason=NO_CHROMIUM)
def test_a_served_component_opens_through_the_hub_in_the_browser(classroom):
    from playwright.sync_api import sync_playwright

    hub, _ = classroom
    learner = hub.start_learner("ada")
    kernel = learner.start_kernel("wasmlab")
    try:
        kernel.execute(f"import wasmlab\nwasmlab.define_wit({P3_WIT!r})\n"
                       f"service = wasmlab.build(world='demo:p3/service', python={SERVICE_PY!r}, name='service')\n"
                       "server = wasmlab.serve(service)")
        _, printed = kernel.execute("print(server.browser_url)")
        link = printed[-1].strip()
        assert link.startswith("/user/ada/proxy/") and link.endswith("/"), link
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            page = browser.new_page()
            page.goto(f"{hub.url}/hub/login")
            page.fill("input[name=username]", "ada")
            page.fill("input[name=password]", "any")
            page.click("input[type=submit], button[type=submit]")
            page.wait_for_url("**/user/ada/**", timeout=60_000)
            page.goto(f"{hub.url}{link}hello")
            assert "handled /hello" in page.inner_text("body")
            browser.close()
    finally:
        kernel.execute("server.stop()")
        kernel.close()


@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists(), reason=NO_CHROMIUM)
def test_a_served_component_opens_through_plain_jupyterlab(tmp_path, classroom):
    from playwright.sync_api import sync_playwright

    _, warm = classroom
    os.environ["WASMLAB_SHARED_CACHE"] = str(warm)  # the lab's kernels inherit it
    lab = JupyterLab(tmp_path, tmp_path, {})
    try:
        server = JupyterServer(f"http://127.0.0.1:{lab.port}/", lab.token)
        kernel = server.start_kernel("python3")
        kernel.execute(f"import wasmlab\nwasmlab.define_wit({P3_WIT!r})\n"
                       f"service = wasmlab.build(world='demo:p3/service', python={SERVICE_PY!r}, name='service')\n"
                       "server = wasmlab.serve(service)")
        link = kernel.execute("print(server.browser_url)")[1][-1].strip()
        assert link.startswith("/proxy/"), link
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{lab.port}{link}hello?token={lab.token}")
            assert "handled /hello" in page.inner_text("body")
            browser.close()
        kernel.execute("server.stop()")
        kernel.close()
    finally:
        os.environ.pop("WASMLAB_SHARED_CACHE", None)
        lab.stop()
