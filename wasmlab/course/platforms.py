"""What a platform is told to enforce: a Spin application manifest from what a component used.

``spin_manifest(component, source)`` writes the ``spin.toml`` (manifest version 2) of a one-component
Spin application.  Its ``environment``, ``files`` and ``allowed_outbound_hosts`` are not copied
from the grants a notebook gave: they come from the component's last run report, so they hold
only what the component actually used (the variables it read, the granted folders it touched,
the hosts it tried to reach), the least privilege wasmlab observed, in the format Spin enforces.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from wasmlab.errors import WasmlabError
from wasmlab.toolchain import registry

__all__ = ["spin_manifest", "observed_needs"]

HTTP_HANDLER = "wasi:http/incoming-handler"


def _toml(value) -> str:
    """A TOML value (JSON strings are TOML basic strings)."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_toml(v)}" for k, v in value.items()) + " }" if value else "{}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(value)


def _key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key)


def observed_needs(component) -> dict:
    """``{"environment": {...}, "files": [{"source", "destination"}], "allowed_outbound_hosts": [...]}``
    from the component's last run: granted variables if it read the environment, granted folders
    it touched, hosts it tried to look up."""
    last = getattr(component, "_last_usage", None)
    if last is None:
        raise WasmlabError(f"{component.name} has not run yet: there is nothing observed to derive a manifest from",
                           hint="call one of its exports (with the grants it needs) first, then ask again")
    used, grants = last
    environment = dict(grants.environment()) if "environment" in used.used() else {}
    touched = list(used.files)
    files = [{"source": grant.host, "destination": grant.guest} for grant in grants.dirs
             if any(_inside(path, grant.guest) for path in touched)]
    hosts = []
    for capability, attempt in used.refused:
        if capability == "network" and attempt.startswith("name lookup of "):
            host = attempt[len("name lookup of "):].strip()
            if host and f"*://{host}:*" not in hosts:
                hosts.append(f"*://{host}:*")
    return {"environment": environment, "files": files, "allowed_outbound_hosts": hosts}


def _inside(path: str, folder: str) -> bool:
    folder = folder.rstrip("/") or "/"
    return path == folder or path.startswith(folder + "/") or folder == "/"


def _source(source, *, insecure: bool | None) -> dict | str:
    if isinstance(source, registry.Reference) or registry.is_reference(source):
        ref = source if isinstance(source, registry.Reference) else registry.Reference.parse(source)
        if ref.digest:
            # a pinned artifact: Spin downloads the layer and checks its digest
            pulled = registry.pull(ref, insecure=insecure)
            layer = pulled.manifest["layers"][0]["digest"]
            scheme = "http" if ref.plain_http(insecure) else "https"
            return {"url": f"{scheme}://{ref.registry}/v2/{ref.repository}/blobs/{layer}", "digest": layer}
        namespace, _, name = ref.repository.rpartition("/")
        # a package by name and version, found through the wkg configuration (as wkg lays it out)
        return {"registry": ref.registry, "package": f"{namespace.replace('/', ':')}:{name}", "version": ref.tag}
    return os.fspath(Path(source))


def spin_manifest(component, source, *, name: str | None = None, route: str = "/...",
                  description: str | None = None, insecure: bool | None = None) -> str:
    """The ``spin.toml`` of a Spin application serving ``component`` on ``route``.

    ``source`` is where Spin finds the component: a path, an ``oci://`` reference by tag (a
    registry package ``ns:name@version``), or one pinned by digest (a URL plus the digest Spin
    checks)."""
    ident = re.sub(r"[^a-z0-9]+", "-", (name or component.name).lower()).strip("-") or "component"
    needs = observed_needs(component)
    lines = ["spin_manifest_version = 2", "", "[application]", f"name = {_toml(ident)}", 'version = "0.1.0"']
    if description:
        lines.append(f"description = {_toml(description)}")
    lines += ["", "[[trigger.http]]", f"route = {_toml(route)}", f"component = {_toml(ident)}"]
    if not any(key.startswith(HTTP_HANDLER) for key in component.exports):
        exported = ", ".join(component.exports) or "nothing"
        lines.append(f"# Spin's HTTP trigger calls {HTTP_HANDLER}; this component exports {exported}:")
        lines.append("# put a wasi:http handler in front of it (compose one) before deploying.")
    lines += ["", f"[component.{ident}]", f"source = {_toml(_source(source, insecure=insecure))}",
              "# what the component used in its last run, and nothing more:",
              f"allowed_outbound_hosts = {_toml(needs['allowed_outbound_hosts'])}",
              f"files = {_toml(needs['files'])}",
              f"environment = {_toml(needs['environment'])}", ""]
    return "\n".join(lines)
