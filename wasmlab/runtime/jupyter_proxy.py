"""Where the learner's browser can reach a server that the kernel started on 127.0.0.1.

On a laptop the browser and the kernel share 127.0.0.1.  On JupyterHub or Binder they do not: the
kernel runs in the learner's container, and only the Jupyter server is reachable.  When that server
has ``jupyter-server-proxy``, it forwards ``{base_url}proxy/PORT/`` to ``127.0.0.1:PORT`` (the base
URL is ``/user/NAME/`` on a hub).  The kernel finds its server among the running ones by process id
(a Jupyter server starts its kernels itself) and asks whether the proxy is there.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request

__all__ = ["browser_url", "jupyter_server"]


def jupyter_server() -> dict | None:
    """The running Jupyter server that started this kernel (its ``url``, ``base_url``, ``token``), if any."""
    try:
        from jupyter_server.serverapp import list_running_servers
    except ImportError:
        return None
    parent = os.getppid()
    try:
        return next((info for info in list_running_servers() if info.get("pid") == parent), None)
    except (OSError, ValueError):
        return None


def _has_proxy(server: dict) -> bool:
    request = urllib.request.Request(server["url"].rstrip("/") + "/server-proxy/servers-info",
                                     headers={"Authorization": f"token {server.get('token', '')}"})
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            return response.status == 200 and "server_processes" in json.loads(response.read() or b"{}")
    except (urllib.error.URLError, OSError, ValueError):
        return False


def browser_url(port: int, *, server: dict | None = None) -> str:
    """The URL a learner's browser opens to reach ``127.0.0.1:port``: ``{base_url}proxy/PORT/`` through the
    Jupyter server's proxy when there is one, else ``http://127.0.0.1:PORT/``."""
    server = server if server is not None else jupyter_server()
    if server is not None and _has_proxy(server):
        return f"{server.get('base_url', '/').rstrip('/')}/proxy/{port}/"
    return f"http://127.0.0.1:{port}/"
