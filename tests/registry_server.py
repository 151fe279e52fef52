"""A real OCI registry for tests: Debian's ``docker-registry`` (CNCF distribution) on 127.0.0.1.

``with RegistryServer(tmp) as registry:`` starts one with a throwaway configuration (storage in
``tmp``, optionally htpasswd basic auth) and stops it on exit.  ``registry.host`` is
``127.0.0.1:PORT``.  ``broken_server(status)`` is a plain HTTP server answering every request with
``status`` (a registry that fails), ``silent_server()`` one that accepts connections and never answers.
"""

from __future__ import annotations

import contextlib
import http.server
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

DOCKER_REGISTRY = shutil.which("docker-registry") or "/usr/bin/docker-registry"


def require_registry() -> None:
    if not Path(DOCKER_REGISTRY).is_file():
        pytest.skip("Debian's docker-registry is not installed (apt-get install docker-registry; .ci/run does it)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RegistryServer:
    def __init__(self, root: Path, *, users: dict[str, str] | None = None):
        self.root = Path(root)
        self.users = users or {}
        self.port = _free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    @property
    def storage(self) -> Path:
        return self.root / "storage"

    def blob_file(self, digest: str) -> Path:
        """Where the registry keeps a blob on disk (to corrupt it in a test)."""
        hexdigest = digest.split(":", 1)[1]
        return self.storage / "docker/registry/v2/blobs/sha256" / hexdigest[:2] / hexdigest / "data"

    def _config(self) -> str:
        auth = ""
        if self.users:
            htpasswd = self.root / "htpasswd"
            lines = []
            for user, password in self.users.items():
                made = subprocess.run(["htpasswd", "-Bbn", user, password], capture_output=True, text=True)
                if made.returncode != 0:
                    pytest.skip("htpasswd (apache2-utils) is needed for the basic-auth registry")
                lines.append(made.stdout.strip())
            htpasswd.write_text("\n".join(lines) + "\n")
            auth = f"auth:\n  htpasswd:\n    realm: wasmlab-test\n    path: {htpasswd}\n"
        return (f"version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {self.storage}\n"
                f"  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{self.port}\n{auth}")

    def __enter__(self) -> "RegistryServer":
        require_registry()
        if self.users and shutil.which("htpasswd") is None:
            pytest.skip("htpasswd (apt-get install apache2-utils) is needed for the basic-auth registry")
        self.root.mkdir(parents=True, exist_ok=True)
        config = self.root / "config.yml"
        config.write_text(self._config())
        self.process = subprocess.Popen([DOCKER_REGISTRY, "serve", str(config)], stdout=subprocess.DEVNULL,
                                        stderr=(self.root / "registry.log").open("wb"))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"docker-registry exited: {(self.root / 'registry.log').read_text()[-2000:]}")
            try:
                urllib.request.urlopen(f"http://{self.host}/v2/", timeout=2)
                return self
            except urllib.error.HTTPError:  # 401 with auth: it is up
                return self
            except OSError:
                time.sleep(0.1)
        self.__exit__(None, None, None)
        raise RuntimeError("docker-registry did not start within 60 s")

    def __exit__(self, *exc) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextlib.contextmanager
def broken_server(status: int = 500):
    """An HTTP server on 127.0.0.1 answering ``status`` to everything; yields its ``host:port``."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self):
            body = b'{"errors": [{"code": "UNKNOWN", "message": "storage backend exploded"}]}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = _answer

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def silent_server():
    """A listening socket that never answers (a registry that hangs); yields its ``host:port``."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        yield f"127.0.0.1:{s.getsockname()[1]}"


def unused_host() -> str:
    """``127.0.0.1:PORT`` with nothing listening (connections are refused at once)."""
    return f"127.0.0.1:{_free_port()}"
