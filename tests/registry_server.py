"""A real OCI registry for tests: Debian's ``docker-registry`` (CNCF distribution) on 127.0.0.1.

``with RegistryServer(tmp) as registry:`` starts one (:class:`wasmlab.course.local_registry.LocalRegistry`)
with a throwaway configuration (storage in ``tmp``, optionally htpasswd basic auth) and stops it on
exit; it skips the test, with the reason, where docker-registry is not installed.  ``registry.host`` is
``127.0.0.1:PORT``.  ``broken_server(status)`` is a plain HTTP server answering every request with
``status`` (a registry that fails), ``token_server(token)`` one that wants a bearer token,
``silent_server()`` one that accepts connections and never answers.
"""

from __future__ import annotations

import contextlib
import http.server
import shutil
import socket
import threading

import pytest

from wasmlab.course import local_registry


def require_registry() -> None:
    if not local_registry.available():
        pytest.skip("Debian's docker-registry is not installed (apt-get install docker-registry; .ci/run does it)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RegistryServer(local_registry.LocalRegistry):
    """wasmlab's local registry, skipping the test where docker-registry or htpasswd cannot be had."""

    def __enter__(self) -> "RegistryServer":
        require_registry()
        if self.users and shutil.which("htpasswd") is None:
            pytest.skip("htpasswd (apt-get install apache2-utils) is needed for the basic-auth registry")
        return self.start()


@contextlib.contextmanager
def _serving(handler):
    """``handler`` served on 127.0.0.1 from a thread until the block ends; yields its ``host:port``."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


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

    with _serving(Handler) as host:
        yield host


@contextlib.contextmanager
def token_server(token: str):
    """A registry front that answers 401 with a Bearer challenge unless ``Authorization: Bearer
    TOKEN`` is sent, and 404 when it is (it holds nothing); yields its ``host:port``."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.headers.get("Authorization") == f"Bearer {token}":
                self.send_response(404)
            else:
                self.send_response(401)
                self.send_header("Www-Authenticate", 'Bearer realm="http://127.0.0.1:9/token",service="test"')
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_HEAD = do_GET

        def log_message(self, *args):
            pass

    with _serving(Handler) as host:
        yield host


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
