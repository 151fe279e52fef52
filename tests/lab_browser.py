"""A JupyterLab server and a headless Chromium for the browser tests.

The server listens on 127.0.0.1 on a free port with a token, with throwaway config, runtime, data and
settings folders, so nothing of the user's JupyterLab set-up leaks in.  Chromium is Debian's, driven by
the PyPI ``playwright`` package (never ``playwright install``: it cannot download here).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
NO_CHROMIUM = "Debian's chromium is not installed (apt-get install chromium; .ci/run does)"


def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class JupyterLab:
    """JupyterLab serving ``root``, with ``settings`` (``{"plugin.jupyterlab-settings": {...}}``) as
    the user's settings; ``workdir`` holds everything else it writes.  ``base_url`` as a hub gives its
    single-user servers (``/user/NAME/``)."""

    def __init__(self, workdir: Path, root: Path, settings: dict[str, dict], extra_args: tuple[str, ...] = (),
                 base_url: str = "/"):
        self.root = root
        self.base_url = base_url
        settings_dir = workdir / "lab-settings"
        for name, values in settings.items():
            (settings_dir / name).parent.mkdir(parents=True, exist_ok=True)
            (settings_dir / name).write_text(json.dumps(values))
        for sub in ("config", "runtime", "data", "ipython", "workspaces"):
            (workdir / sub).mkdir()
        self.port, self.token = _free_port(), secrets.token_hex(16)
        env = {**os.environ, "JUPYTER_CONFIG_DIR": str(workdir / "config"),
               "JUPYTER_RUNTIME_DIR": str(workdir / "runtime"), "JUPYTER_DATA_DIR": str(workdir / "data"),
               "IPYTHONDIR": str(workdir / "ipython"), "JUPYTER_PLATFORM_DIRS": "1"}
        self.log_path = workdir / "jupyterlab.log"
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--allow-root", "--no-browser", "--ServerApp.open_browser=False",
             "--ip=127.0.0.1", f"--port={self.port}", "--port-retries=0",
             f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={root}",
             f"--LabApp.user_settings_dir={settings_dir}", f"--LabApp.workspaces_dir={workdir / 'workspaces'}",
             f"--ServerApp.base_url={base_url}", *extra_args],
            env=env, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            self._wait_until_serving()
        except BaseException:
            self.stop()
            raise

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{self.base_url}lab/tree/{path}?token={self.token}&reset"

    def _wait_until_serving(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        status = f"http://127.0.0.1:{self.port}{self.base_url}api/status?token={self.token}"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"JupyterLab exited with {self.process.returncode}:\n{self.log_path.read_text()}")
            try:
                with urllib.request.urlopen(status, timeout=2) as reply:
                    if reply.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        pytest.fail(f"JupyterLab did not answer within {timeout} s:\n{self.log_path.read_text()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # the server shuts its kernels down on SIGTERM
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
