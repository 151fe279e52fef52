"""A registry of one's own for lessons and tests: Debian's ``docker-registry`` (the CNCF
distribution registry) on 127.0.0.1, with a throwaway configuration.

    with LocalRegistry() as local:
        component.push(f"oci://{local.host}/demo/app:1.0.0")

``users={"name": "password"}`` turns on htpasswd basic auth (``htpasswd`` from apache2-utils
writes the bcrypt entries).  It listens on 127.0.0.1 only and stops on exit (or ``stop()``).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from wasmlab.errors import WasmlabError
from wasmlab.toolchain import tools

__all__ = ["LocalRegistry", "available"]


def _executable() -> str | None:
    return shutil.which("docker-registry") or ("/usr/bin/docker-registry"
                                               if Path("/usr/bin/docker-registry").is_file() else None)


def available() -> bool:
    """Whether ``docker-registry`` is installed (``apt-get install docker-registry``)."""
    return _executable() is not None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalRegistry:
    def __init__(self, root: str | Path | None = None, *, users: dict[str, str] | None = None):
        self._own_root = root is None
        self.root = Path(tempfile.mkdtemp(prefix="wasmlab-registry-")) if root is None else Path(root)
        self.users = dict(users or {})
        self.port = _free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    @property
    def storage(self) -> Path:
        return self.root / "storage"

    def blob_file(self, digest: str) -> Path:
        """Where the registry keeps a blob on disk."""
        hexdigest = digest.split(":", 1)[1]
        return self.storage / "docker/registry/v2/blobs/sha256" / hexdigest[:2] / hexdigest / "data"

    def _config(self) -> str:
        auth = ""
        if self.users:
            if shutil.which("htpasswd") is None:
                raise WasmlabError("htpasswd is missing", hint="apt-get install apache2-utils")
            lines = [subprocess.run(["htpasswd", "-Bbn", user, password], capture_output=True, text=True,
                                    check=True).stdout.strip() for user, password in self.users.items()]
            (self.root / "htpasswd").write_text("\n".join(lines) + "\n")
            auth = f"auth:\n  htpasswd:\n    realm: wasmlab\n    path: {self.root / 'htpasswd'}\n"
        return (f"version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {self.storage}\n"
                f"  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{self.port}\n{auth}")

    def start(self) -> "LocalRegistry":
        executable = _executable()
        if executable is None:
            raise WasmlabError("docker-registry is not installed",
                               hint="apt-get install docker-registry, or use a registry you can push to "
                                    "(e.g. ghcr.io with a token)")
        self.root.mkdir(parents=True, exist_ok=True)
        config = self.root / "config.yml"
        config.write_text(self._config())
        log = self.root / "registry.log"
        with log.open("wb") as err:
            self.process = subprocess.Popen([executable, "serve", str(config)], stdout=subprocess.DEVNULL,
                                            stderr=err)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise WasmlabError(f"docker-registry exited: {log.read_text()[-1000:]}")
            try:
                urllib.request.urlopen(f"http://{self.host}/v2/", timeout=2)
                return self
            except urllib.error.HTTPError:  # 401 when auth is on: it is up
                return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise WasmlabError("docker-registry did not start within 60 s")

    def stop(self) -> None:
        if self.process is not None:
            tools.stop_process(self.process, grace=10)
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> "LocalRegistry":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.process is not None and self.process.poll() is None else "stopped"
        return f"<LocalRegistry {self.host} ({state})>"
