"""A real JupyterHub on 127.0.0.1 for the classroom tests: dummy authentication, one local process per
learner (``SimpleLocalProcessSpawner``), the Python ``configurable-http-proxy``, and a service token
allowed to create users, start their servers and use them, as an instructor's script would."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
NO_HUB = "JupyterHub is not installed (pip install jupyterhub configurable-http-proxy jupyter-server-proxy)"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def call_json(url: str, token: str, method: str, body: dict | None, timeout: float):
    """A JSON REST call with a token, as JupyterHub's and Jupyter Server's APIs take them."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Authorization": f"token {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        raw = response.read()
    return json.loads(raw) if raw else {}


def require_hub() -> None:
    for command in ("jupyterhub", "jupyterhub-singleuser", "configurable-http-proxy"):
        if not (BIN / command).exists():
            pytest.skip(NO_HUB + f": no {command} next to {sys.executable}")


class Hub:
    """JupyterHub with its state in ``workdir``; learners' homes are ``workdir/home/NAME``."""

    def __init__(self, workdir: Path, *, environment: dict[str, str]):
        self.workdir = workdir
        self.port, self.token = free_port(), secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}"
        config = workdir / "jupyterhub_config.py"
        config.write_text(f"""
c = get_config()
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {self.port}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {free_port()}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{free_port()}"
c.ConfigurableHTTPProxy.command = [{str(BIN / "configurable-http-proxy")!r}]
c.ConfigurableHTTPProxy.pid_file = {str(workdir / "proxy.pid")!r}
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allow_all = True
c.JupyterHub.spawner_class = "simple"
c.Spawner.cmd = [{str(BIN / "jupyterhub-singleuser")!r}]
c.Spawner.args = ["--allow-root"]
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
c.Spawner.environment = {environment!r}
c.SimpleLocalProcessSpawner.home_dir_template = {str(workdir / "home" / "{username}")!r}
c.JupyterHub.services = [{{"name": "classroom", "api_token": {self.token!r}}}]
c.JupyterHub.load_roles = [{{"name": "classroom", "scopes": ["admin:users", "admin:servers", "access:servers"],
                            "services": ["classroom"]}}]
c.JupyterHub.db_url = "sqlite:///{workdir / 'hub.sqlite'}"
c.JupyterHub.cookie_secret_file = {str(workdir / "cookie_secret")!r}
""")
        env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
        self.log_path = workdir / "jupyterhub.log"
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen([str(BIN / "jupyterhub"), "-f", str(config)], cwd=workdir, env=env,
                                        stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        self._wait(lambda: self.api("GET", "/hub/api/")["version"], "JupyterHub to answer", 60)

    def _wait(self, probe, what: str, seconds: float):
        deadline = time.monotonic() + seconds
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"JupyterHub exited while waiting for {what}:\n{self.log_tail()}")
            try:
                result = probe()
                if result:
                    return result
            except (urllib.error.URLError, OSError, KeyError, ValueError):
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"waited {seconds:g} s for {what}:\n{self.log_tail()}")
            time.sleep(0.25)

    def log_tail(self, lines: int = 40) -> str:
        self._log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def api(self, method: str, path: str, body: dict | None = None, timeout: float = 30):
        return call_json(self.url + path, self.token, method, body, timeout)

    def start_learner(self, name: str) -> "Learner":
        """The learner ``name`` with a running server (made and started unless they are already)."""
        known = self._known(name)
        user = self.api("GET" if known else "POST", f"/hub/api/users/{name}")
        if not user.get("servers", {}).get("", {}).get("ready"):
            try:
                self.api("POST", f"/hub/api/users/{name}/server", timeout=150)
            except urllib.error.HTTPError as err:
                if err.code not in (202, 400):  # 202: still starting; 400: already running
                    raise
        self._wait(lambda: self.api("GET", f"/hub/api/users/{name}")["servers"][""]["ready"],
                   f"{name}'s server", 150)
        return Learner(self, name)

    def _known(self, name: str) -> bool:
        try:
            self.api("GET", f"/hub/api/users/{name}")
        except urllib.error.HTTPError as err:
            if err.code == 404:
                return False
            raise
        return True

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait()
        # single-user servers run in their own sessions: end any left behind
        subprocess.run(["pkill", "-f", f"{self.workdir / 'home'}"], check=False)
        self._log.close()


class JupyterServer:
    """A Jupyter server at ``url`` (for a learner: the hub's URL + ``/user/NAME/``) used with ``token``."""

    def __init__(self, url: str, token: str, name: str = "learner"):
        self.url, self.token, self.name = url.rstrip("/") + "/", token, name

    def api(self, method: str, path: str, body: dict | None = None, timeout: float = 60):
        return call_json(self.url + path.lstrip("/"), self.token, method, body, timeout)

    def start_kernel(self, kernel_name: str) -> "Kernel":
        return Kernel(self, self.api("POST", "api/kernels", {"name": kernel_name})["id"])


class Learner(JupyterServer):
    """One learner's server on the hub, reached only through the hub's URL."""

    def __init__(self, hub: Hub, name: str):
        super().__init__(f"{hub.url}/user/{name}/", hub.token, name)
        self.hub, self.prefix = hub, f"/user/{name}/"


class Kernel:
    """A kernel of a Jupyter server, driven over its websocket (through the hub's proxy on a hub)."""

    def __init__(self, server: JupyterServer, kernel_id: str):
        import websocket  # websocket-client, a jupyter_server dependency

        self.server, self.id = server, kernel_id
        url = server.url.replace("http://", "ws://") + f"api/kernels/{kernel_id}/channels"
        self.session = uuid.uuid4().hex
        self.ws = websocket.create_connection(url, header=[f"Authorization: token {server.token}"], timeout=900)

    def execute(self, code: str, timeout: float = 900) -> tuple[str, list[str]]:
        """Run ``code``; returns (status, texts printed or displayed as text/plain); raises on an error."""
        msg_id = uuid.uuid4().hex
        self.ws.send(json.dumps({
            "header": {"msg_id": msg_id, "msg_type": "execute_request", "session": self.session,
                       "username": self.server.name, "version": "5.3", "date": ""},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                        "allow_stdin": False, "stop_on_error": True}}))
        texts, status, idle, deadline = [], None, False, time.monotonic() + timeout
        while status is None or not idle:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.server.name}: no reply within {timeout:g} s to {code[:60]!r}")
            message = json.loads(self.ws.recv())
            if message.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = message["header"]["msg_type"], message["content"]
            if kind == "stream":
                texts.append(content["text"])
            elif kind in ("execute_result", "display_data"):
                texts.append(content["data"].get("text/plain", ""))
            elif kind == "error":
                raise AssertionError(f"{self.server.name}: {content['ename']}: {content['evalue']}\n"
                                     f"in cell:\n{code}")
            elif kind == "execute_reply":
                status = content["status"]
            elif kind == "status" and content["execution_state"] == "idle":
                idle = True
        return status, texts

    def close(self) -> None:
        self.ws.close()
        try:
            self.server.api("DELETE", f"api/kernels/{self.id}")
        except (urllib.error.URLError, OSError):
            pass


def notebook_code_cells(path: Path) -> list[str]:
    return ["".join(cell["source"]) for cell in json.loads(path.read_text())["cells"]
            if cell["cell_type"] == "code"]


def executable_on_path(name: str) -> str | None:
    return shutil.which(name, path=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
