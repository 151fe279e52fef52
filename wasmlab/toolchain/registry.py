"""Components and WIT packages in OCI registries: pull, push, and find packages by name.

A reference names an artifact as Docker does: ``oci://HOST[:PORT]/REPO[:TAG][@sha256:...]``
(the ``oci://`` is optional where the context says it is a reference).  The artifact is laid
out as the CNCF TAG Runtime "Wasm OCI artifact" convention that wkg, Spin, wasmCloud and
runwasi read: an OCI image manifest whose config has media type
``application/vnd.wasm.config.v0+json`` and whose one layer is the ``application/wasm`` binary.

Transport follows Docker: HTTPS, except for ``localhost``/``127.0.0.1`` which is plain HTTP;
``insecure=True`` (``--insecure``) allows plain HTTP to any other host.  Credentials come from
``auth=(user, password)`` / ``token=...``, the wkg configuration, or the Docker credential file
(``$DOCKER_CONFIG/config.json``, else ``~/.docker/config.json``).  Requests time out; nothing
is retried in a loop.

Every blob pulled is checked against its digest and kept in the build cache by digest
(``<cache>/oci/blobs/sha256/...``), with the digest each tag last pointed to, so pulling the
same reference again is a cache hit and works without the network.

Packages (``ns:name@version``) resolve through a configuration compatible with wkg's
(``$WKG_CONFIG_FILE``, else ``~/.config/wasm-pkg/config.toml``): ``default_registry``,
``[namespace_registries]``, ``[package_registry_overrides]``, and per-registry settings in
``[registry."HOST"]``; a registry publishes where its packages live at
``/.well-known/wasm-pkg/registry.json`` (``{"preferredProtocol": "oci", "oci": {"registry": ...,
"namespacePrefix": ...}}``), as wa.dev does.  ``ns:name@1.2.0`` is then the artifact
``REGISTRY/PREFIXns/name:1.2.0``.
"""

from __future__ import annotations

import hashlib
import http.cookiejar
import json
import os
import re
import urllib.parse
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import tomllib

from wasmlab.errors import RegistryError
from wasmlab.toolchain import cache

__all__ = ["RegistryError", "Reference", "Pulled", "pull", "push", "push_wasm", "describe", "artifact_config",
           "is_reference", "digest_of", "wit_text", "RegistryConfig", "package_reference", "fetch_package",
           "MANIFEST_MEDIA_TYPE", "CONFIG_MEDIA_TYPE", "WASM_MEDIA_TYPE"]

MANIFEST_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json"
CONFIG_MEDIA_TYPE = "application/vnd.wasm.config.v0+json"
WASM_MEDIA_TYPE = "application/wasm"
DEFAULT_TIMEOUT = 20.0  # seconds, per request


# ----------------------------------------------------------------------------- references

# the OCI distribution grammar: lower-case path components separated by '/', tags of up to 128
# word characters, dots and dashes, digests "algorithm:hex"
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_HOST = r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\.[A-Za-z0-9-]+)*(?::[0-9]+)?|\[[0-9a-fA-F:]+\](?::[0-9]+)?"
_REFERENCE = re.compile(
    rf"^(?P<registry>{_HOST})"
    rf"/(?P<repository>{_COMPONENT}(?:/{_COMPONENT})*)"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?"
    r"(?:@(?P<digest>[a-z0-9]+(?:[+._-][a-z0-9]+)*:[0-9a-fA-F]{32,}))?$")


@dataclass(frozen=True)
class Reference:
    """An artifact in a registry.

    >>> ref = Reference.parse("oci://localhost:5000/demo/adder:1.0.0")
    >>> ref.registry, ref.repository, ref.tag, ref.plain_http()
    ('localhost:5000', 'demo/adder', '1.0.0', True)
    >>> str(ref)
    'oci://localhost:5000/demo/adder:1.0.0'
    >>> Reference.parse("ghcr.io/acme/app").tag
    'latest'
    """

    registry: str
    repository: str
    tag: str | None = "latest"
    digest: str | None = None

    @classmethod
    def parse(cls, text: str) -> "Reference":
        if not isinstance(text, str):
            raise RegistryError(f"not a registry reference: {text!r}")
        body = text[len("oci://"):] if text.startswith("oci://") else text
        match = _REFERENCE.match(body)
        if match is None or ("." not in match["registry"] and ":" not in match["registry"]
                             and match["registry"] != "localhost"):
            raise RegistryError(f"malformed registry reference `{text}`",
                                hint="write oci://HOST[:PORT]/REPOSITORY[:TAG][@sha256:DIGEST], e.g. "
                                     "oci://ghcr.io/acme/app:1.0.0 (repositories are lower case)")
        digest = match["digest"]
        if digest is not None and digest.startswith("sha256:") and len(digest) != 7 + 64:
            raise RegistryError(f"malformed digest in `{text}`: a sha256 digest has 64 hex digits")
        tag = match["tag"] or (None if digest else "latest")
        return cls(match["registry"], match["repository"], tag, digest)

    @property
    def target(self) -> str:
        """What the manifest is asked for: the digest when there is one, else the tag."""
        return self.digest or self.tag or "latest"

    @property
    def name(self) -> str:
        """The last path component: a default name for what is pulled (``demo/adder`` -> ``adder``)."""
        return self.repository.rsplit("/", 1)[-1].replace("-", "_")

    def with_digest(self, digest: str) -> "Reference":
        return Reference(self.registry, self.repository, None, digest)

    def plain_http(self, insecure: bool | None = None) -> bool:
        """Docker's rule: a registry on the loopback host is spoken to in plain HTTP, others in HTTPS."""
        if insecure is not None:
            return insecure
        host = self.registry.rsplit(":", 1)[0] if not self.registry.startswith("[") else self.registry
        return host in ("localhost", "127.0.0.1", "[::1]") or host.endswith(".localhost")

    def __str__(self) -> str:
        text = f"oci://{self.registry}/{self.repository}"
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def is_reference(value) -> bool:
    """Whether ``value`` is written as a registry reference (``oci://...``), not a path."""
    return isinstance(value, str) and value.startswith("oci://")


# ----------------------------------------------------------------------------- transport

class Unreachable(RegistryError):
    """The registry did not answer (refused connection, unknown host, time-out): a pull by tag
    then falls back to the digest the tag last had."""


def _docker_config_path() -> str | None:
    folder = os.environ.get("DOCKER_CONFIG")
    path = Path(folder) / "config.json" if folder else Path.home() / ".docker" / "config.json"
    return str(path) if path.is_file() else None


class _Client:
    """Requests to one repository of a registry.  oras does what is intricate: the token
    handshake (``Www-Authenticate: Bearer`` challenges, scoped per repository and action) and
    Docker's credential file and helpers, and lays out the URLs.  Requests time out, are not
    retried, and fail as :class:`RegistryError` naming the reference.  (oras's ``provider``
    module is not used: importing it costs seconds, it validates manifests with jsonschema.)"""

    def __init__(self, ref: Reference, *, insecure: bool | None, auth: tuple[str, str] | None,
                 token: str | None, timeout: float):
        import oras.auth
        import oras.container

        self.ref, self.token = ref, token
        self.session = _session(ref, timeout)
        plain = ref.plain_http(insecure)
        self.prefix = "http" if plain else "https"
        self.auth = oras.auth.get_auth_backend("token", self.session, insecure=plain)
        self.container = oras.container.Container(_oras_name(ref))
        self.login: dict[str, str] = {"Authorization": f"Bearer {token}"} if token else {}
        if auth:
            self.auth.set_basic_auth(*auth)
        elif not token:
            wkg_auth = RegistryConfig.load().auth_for(ref.registry)
            if wkg_auth:
                self.auth.set_basic_auth(*wkg_auth)
            else:
                docker = _docker_config_path()
                self.auth.load_configs(self.container, configs=[docker] if docker else None)

    def url(self, path: str) -> str:
        return f"{self.prefix}://{path}"

    def request(self, method: str, url: str, *, headers: dict | None = None, data: bytes | None = None):
        def send(extra):
            return self.session.request(method, url, data=data, headers={**(headers or {}), **extra})

        response = send(self.login)
        challenge = response.headers.get("Www-Authenticate", "").lower()
        if response.status_code == 401 and challenge.startswith("bearer") and not self.token:
            # a token is scoped to a repository and an action: each challenge gets its own
            answered, changed = self.auth.authenticate_request(response, dict(headers or {}),
                                                               refresh=bool(self.login))
            if changed:
                self.login = {"Authorization": answered["Authorization"]}
                response = send(self.login)
        elif response.status_code == 401 and challenge.startswith("basic") and not self.login:
            basic = getattr(self.auth, "_basic_auth", None)
            if basic:
                self.login = {"Authorization": f"Basic {basic}"}
                response = send(self.login)
        return _failed(response, self.ref, method, url)

    def manifest(self):
        return self.request("GET", self.url(self.container.manifest_url()), headers={"Accept": _ACCEPT})

    def put_manifest(self, data: bytes):
        return self.request("PUT", self.url(self.container.manifest_url()), data=data,
                            headers={"Content-Type": MANIFEST_MEDIA_TYPE})

    def blob(self, digest: str):
        return self.request("GET", self.url(self.container.get_blob_url(digest)))

    def upload(self, data: bytes, digest: str, what: str) -> None:
        """A monolithic blob upload (POST for a session, PUT the bytes), skipped when the registry has it."""
        if self.request("HEAD", self.url(self.container.get_blob_url(digest))).status_code == 200:
            return
        started = _check(self.request("POST", self.url(self.container.upload_blob_url())), self.ref, what)
        location = started.headers.get("Location", "")
        if not location:
            raise RegistryError(f"{self.ref}: {self.ref.registry} gave no upload location ({what})")
        if not location.startswith("http"):
            location = self.url(self.ref.registry + location)
        location += ("&" if "?" in location else "?") + urllib.parse.urlencode({"digest": digest})
        _check(self.request("PUT", location, data=data, headers={"Content-Type": "application/octet-stream"}),
               self.ref, what)


def _session(ref: Reference, timeout: float):
    """A requests session whose requests time out and fail as RegistryError (naming the host asked:
    it may be the registry's token service)."""
    import requests

    class Session(requests.Session):
        def request(self, method, url, **kwargs):
            kwargs.setdefault("timeout", timeout)
            try:
                return super().request(method, url, **kwargs)
            except requests.exceptions.RequestException as exc:
                host = urllib.parse.urlsplit(url).netloc
                what = "the registry " + host if host == ref.registry else host
                if isinstance(exc, requests.exceptions.SSLError):
                    raise RegistryError(f"cannot speak HTTPS to {host} (for {ref})",
                                        hint="a registry served over plain HTTP needs insecure=True (--insecure)"
                                        ) from None
                if isinstance(exc, requests.exceptions.Timeout):
                    raise Unreachable(f"{what} did not answer within {timeout:g} s (for {ref})") from None
                raise Unreachable(f"cannot reach {what} (for {ref})",
                                  hint="is it running, and is the host name right?") from None

    session = Session()
    # some registries set cookies to tell browsers apart; a client has no use for them
    session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    return session


def _oras_name(ref: Reference) -> str:
    return f"{ref.registry}/{ref.repository}" + (f"@{ref.digest}" if ref.digest else f":{ref.tag}")


def _failed(response, ref: Reference, method: str, url: str):
    """``response``, unless it is a refusal or a server error: those fail whatever was asked
    (oras's own calls included), as one line naming the reference."""
    if response.status_code in (401, 403) or response.status_code >= 500:
        path = "/" + url.split("://", 1)[-1].split("/", 1)[-1].split("?")[0]
        _check(response, ref, f"{method} {path}")
    return response


def _check(response, ref: Reference, what: str):
    status = response.status_code
    if status < 300:
        return response
    if status in (401, 403):
        raise RegistryError(f"{ref}: {what} was refused ({status} {'unauthorized' if status == 401 else 'forbidden'})",
                            hint="log in (docker login, or a token/user in ~/.docker/config.json) or pass "
                                 "auth=(user, password) / token=... (--user, --token)")
    if status == 404:
        raise RegistryError(f"{ref}: not found in {ref.registry} ({what}: 404)",
                            hint="check the repository and the tag (tags are case sensitive)")
    reason = ""
    try:
        errors = response.json().get("errors") or []
        reason = "; ".join(e.get("message", "") for e in errors if isinstance(e, dict))
    except ValueError:
        pass
    raise RegistryError(f"{ref}: {ref.registry} answered {status} {response.reason or ''} ({what})"
                        + (f": {reason}" if reason else ""))


# ----------------------------------------------------------------------------- the blob cache

def _blob_path(digest: str) -> Path:
    algorithm, _, hexdigest = digest.partition(":")
    return cache.cache_dir() / "oci" / "blobs" / algorithm / hexdigest


def _tag_path(ref: Reference) -> Path:
    return cache.cache_dir() / "oci" / "tags" / ref.registry.replace(":", "_") / ref.repository / (ref.tag or "latest")


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _digest_like(data: bytes, digest: str) -> str:
    """The digest of ``data`` computed with the algorithm ``digest`` names."""
    algorithm = digest.partition(":")[0]
    return f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"


def _verified(data: bytes, digest: str, ref: Reference, what: str) -> bytes:
    algorithm = digest.partition(":")[0]
    if algorithm not in ("sha256", "sha512"):
        raise RegistryError(f"{ref}: unsupported digest algorithm `{algorithm}` ({what})")
    actual = _digest_like(data, digest)
    if actual != digest:
        raise RegistryError(f"{ref}: digest mismatch for the {what}: expected {digest}, received {actual}",
                            hint="the registry served corrupted or altered content; nothing was used")
    return data


def _cached_blob(digest: str) -> bytes | None:
    """A blob from the cache, if it is there and still has its digest."""
    path = _blob_path(digest)
    if not path.is_file() or digest.partition(":")[0] not in ("sha256", "sha512"):
        return None
    data = path.read_bytes()
    return data if _digest_like(data, digest) == digest else None


def _keep_blob(digest: str, data: bytes) -> None:
    cache.write_atomically(_blob_path(digest), data)


# ----------------------------------------------------------------------------- pull

@dataclass
class Pulled:
    """What :func:`pull` returns: the artifact's Wasm bytes, manifest and config."""

    reference: Reference  # as asked for
    digest: str  # the manifest's digest: ``reference.with_digest(digest)`` names exactly this artifact
    manifest: dict
    config: dict
    wasm: bytes
    from_cache: bool  # served from the blob cache without fetching any blob
    offline: bool = False  # the registry was unreachable; the tag's last known digest was used

    @property
    def pinned(self) -> Reference:
        return self.reference.with_digest(self.digest)

    @property
    def path(self) -> Path:
        """The Wasm layer in the blob cache (a file for tools that take paths)."""
        return _blob_path(_wasm_layer(self.manifest, self.reference)["digest"])


_ACCEPT = ", ".join([MANIFEST_MEDIA_TYPE, "application/vnd.oci.image.index.v1+json",
                     "application/vnd.docker.distribution.manifest.v2+json"])


def pull(reference: str | Reference, *, insecure: bool | None = None, auth: tuple[str, str] | None = None,
         token: str | None = None, timeout: float = DEFAULT_TIMEOUT) -> Pulled:
    """Pull a Wasm artifact; every blob is checked against its digest and cached by it.

    A reference by digest whose blobs are cached needs no network; a reference by tag asks
    the registry what the tag points to now, and falls back to what it last pointed to when
    the registry cannot be reached."""
    ref = reference if isinstance(reference, Reference) else Reference.parse(reference)
    manifest_bytes = digest = None
    offline = False
    if ref.digest:
        manifest_bytes, digest = _cached_blob(ref.digest), ref.digest
    client = None
    if manifest_bytes is None:
        try:
            client = _Client(ref, insecure=insecure, auth=auth, token=token, timeout=timeout)
            manifest_bytes, digest = _fetch_manifest(client, ref)
        except Unreachable:
            known = _tag_path(ref).read_text().strip() if not ref.digest and _tag_path(ref).is_file() else None
            manifest_bytes = _cached_blob(known) if known else None
            if manifest_bytes is None:
                raise
            digest, offline = known, True
    manifest = _decode_json(manifest_bytes, ref, "manifest")
    layer = _wasm_layer(manifest, ref)
    fetched = []

    def blob(descriptor: dict, what: str) -> bytes:
        nonlocal client
        data = _cached_blob(descriptor["digest"])
        if data is None:
            if client is None:
                client = _Client(ref, insecure=insecure, auth=auth, token=token, timeout=timeout)
            response = _check(client.blob(descriptor["digest"]), ref, what)
            data = _verified(response.content, descriptor["digest"], ref, what)
            _keep_blob(descriptor["digest"], data)
            fetched.append(what)
        return data

    config = _decode_json(blob(manifest["config"], "config"), ref, "config")
    wasm = blob(layer, "Wasm layer")
    _keep_blob(digest, manifest_bytes)
    if ref.tag and not ref.digest:
        cache.write_atomically(_tag_path(ref), digest.encode())
    return Pulled(ref, digest, manifest, config, wasm, from_cache=not fetched, offline=offline)


def _fetch_manifest(client, ref: Reference) -> tuple[bytes, str]:
    response = _check(client.manifest(), ref, "manifest")
    data = response.content
    if ref.digest:
        return _verified(data, ref.digest, ref, "manifest"), ref.digest
    # by tag: the digest is that of the bytes received (the registry's header must agree)
    digest = digest_of(data)
    announced = response.headers.get("Docker-Content-Digest")
    if announced and announced.startswith("sha256:") and announced != digest:
        raise RegistryError(f"{ref}: digest mismatch for the manifest: the registry announced {announced}, "
                            f"received {digest}")
    return data, digest


def _decode_json(data: bytes, ref: Reference, what: str) -> dict:
    try:
        value = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise RegistryError(f"{ref}: its {what} is not JSON") from None
    if not isinstance(value, dict):
        raise RegistryError(f"{ref}: its {what} is not a JSON object")
    return value


def _wasm_layer(manifest: dict, ref: Reference) -> dict:
    if "manifests" in manifest:
        raise RegistryError(f"{ref} is an image index (several platforms), not a Wasm artifact",
                            hint="pull one of its manifests by digest")
    layers = [layer for layer in manifest.get("layers") or [] if isinstance(layer, dict)]
    wasm = [layer for layer in layers if layer.get("mediaType") == WASM_MEDIA_TYPE]
    config = manifest.get("config") or {}
    if not wasm or not isinstance(config, dict) or "digest" not in config:
        kinds = ", ".join(sorted({str(layer.get("mediaType")) for layer in layers})) or "none"
        raise RegistryError(f"{ref} is not a Wasm component artifact (its layers: {kinds})",
                            hint=f"a Wasm artifact has a layer of media type {WASM_MEDIA_TYPE} "
                                 f"(config {CONFIG_MEDIA_TYPE}), as wasmlab push, wkg and oras push make")
    return wasm[0]


# ----------------------------------------------------------------------------- push

def artifact_config(wasm: bytes, *, imports: list[str], exports: list[str], target: str | None = None,
                    created: datetime | None = None) -> dict:
    """The ``application/vnd.wasm.config.v0+json`` config of the CNCF Wasm OCI artifact layout
    (field names as wkg and rust-oci-wasm read them)."""
    created = created or datetime.now(timezone.utc)
    return {
        "created": created.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "architecture": "wasm",
        "os": "wasip2",
        "layerDigests": [digest_of(wasm)],
        "component": {"exports": list(exports), "imports": list(imports), "target": target},
    }


def push(wasm: bytes, reference: str | Reference, *, imports: list[str], exports: list[str],
         target: str | None = None, annotations: dict | None = None, insecure: bool | None = None,
         auth: tuple[str, str] | None = None, token: str | None = None,
         timeout: float = DEFAULT_TIMEOUT) -> Reference:
    """Push ``wasm`` (a component or a WIT package) as a Wasm OCI artifact; returns the reference
    pinned to the pushed manifest's digest.  ``annotations`` go on the manifest
    (``org.opencontainers.image.version``, ``.description``, ``.source``, ...)."""
    ref = reference if isinstance(reference, Reference) else Reference.parse(reference)
    if ref.digest:
        raise RegistryError(f"cannot push to a digest ({ref})", hint="push to a tag: oci://HOST/REPO:TAG")
    config = artifact_config(wasm, imports=imports, exports=exports, target=target)
    config_bytes = json.dumps(config, separators=(",", ":")).encode()
    created = config["created"]
    manifest = {
        "schemaVersion": 2,
        "mediaType": MANIFEST_MEDIA_TYPE,
        "config": {"mediaType": CONFIG_MEDIA_TYPE, "digest": digest_of(config_bytes), "size": len(config_bytes)},
        "layers": [{"mediaType": WASM_MEDIA_TYPE, "digest": digest_of(wasm), "size": len(wasm)}],
        "annotations": {"org.opencontainers.image.created": created,
                        "org.opencontainers.image.version": ref.tag, **(annotations or {})},
    }
    client = _Client(ref, insecure=insecure, auth=auth, token=token, timeout=timeout)
    client.upload(config_bytes, manifest["config"]["digest"], "uploading the config")
    client.upload(wasm, manifest["layers"][0]["digest"], "uploading the Wasm layer")
    for descriptor, data in ((manifest["config"], config_bytes), (manifest["layers"][0], wasm)):
        _keep_blob(descriptor["digest"], data)
    manifest_bytes = json.dumps(manifest, separators=(",", ":")).encode()
    _check(client.put_manifest(manifest_bytes), ref, "uploading the manifest")
    digest = digest_of(manifest_bytes)
    _keep_blob(digest, manifest_bytes)
    cache.write_atomically(_tag_path(ref), digest.encode())
    return ref.with_digest(digest)


def _qualified(package: str, name: str) -> str:
    base, _, version = package.partition("@")
    return f"{base}/{name}" + (f"@{version}" if version else "")


def describe(wasm: bytes) -> dict:
    """What the artifact config says about a binary: ``{"kind": "component" | "wit", "imports",
    "exports", "target"}``.  A component lists its world's imports and exports; a WIT package
    (``wasm-tools component wit --wasm``) lists its interfaces and worlds as exports and names
    itself as the target."""
    from wasmlab.toolchain.tools import _strip_color, wasm_tools
    from wasmlab.wittypes import Resolve

    if wasm[:4] != b"\0asm" or wasm[4:8] == b"\x01\x00\x00\x00":
        raise RegistryError("only components and WIT packages are pushed (this is not a component binary)")
    decoded = wasm_tools("component", "wit", "--json", "--color", "never", input=wasm, check=False)
    if not decoded.ok:
        raise RegistryError("not a valid component or WIT package", detail=_strip_color(decoded.stderr))
    resolve = Resolve(json.loads(decoded.stdout))
    root = resolve.package("root:component")
    if root is not None and root.worlds:
        world = next(iter(root.worlds.values()))
        return {"kind": "component", "imports": list(world.imports), "exports": list(world.exports), "target": None}
    package = resolve.packages[-1]
    names = [_qualified(package.name, n) for n in [*package.interfaces, *package.worlds]]
    return {"kind": "wit", "imports": [], "exports": names, "target": package.name}


def push_wasm(wasm: bytes, reference: str | Reference, **options) -> Reference:
    """:func:`push` a component or WIT package binary, its config filled in from its own world."""
    about = describe(wasm)
    return push(wasm, reference, imports=about["imports"], exports=about["exports"], target=about["target"],
                 **options)


def wit_text(wasm: bytes) -> str:
    """A WIT package binary (as registries hold them) as WIT text."""
    from wasmlab.toolchain.tools import _strip_color, wasm_tools

    decoded = wasm_tools("component", "wit", "--color", "never", input=wasm, check=False)
    if not decoded.ok:
        raise RegistryError("the registry's package is not a WIT package", detail=_strip_color(decoded.stderr))
    return decoded.text


# ----------------------------------------------------------------------------- packages by name

def _wkg_config_path() -> Path:
    explicit = os.environ.get("WKG_CONFIG_FILE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "wasm-pkg" / "config.toml"


@dataclass
class RegistryConfig:
    """Which registry serves which package, in wkg's configuration format.

    >>> config = RegistryConfig.parse('''
    ... default_registry = "example.com"
    ... [namespace_registries]
    ... demo = "localhost:5000"
    ... ''')
    >>> config.registry_for("demo:adder"), config.registry_for("wasi:http"), RegistryConfig().registry_for("a:b")
    ('localhost:5000', 'example.com', None)
    """

    default_registry: str | None = None
    namespace_registries: dict = field(default_factory=dict)  # ns -> "host" or {registry, metadata}
    package_registry_overrides: dict = field(default_factory=dict)  # "ns:name" -> the same
    registries: dict = field(default_factory=dict)  # host -> {"oci": {"protocol": "http", "auth": {...}}}

    @classmethod
    def parse(cls, text: str, origin: str = "<config>") -> "RegistryConfig":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise RegistryError(f"{origin}: not a valid registry configuration: {exc}") from None
        return cls(data.get("default_registry"), dict(data.get("namespace_registries") or {}),
                   dict(data.get("package_registry_overrides") or {}), dict(data.get("registry") or {}))

    @classmethod
    def load(cls, path: str | os.PathLike | None = None) -> "RegistryConfig":
        """The configuration file (``$WKG_CONFIG_FILE``, else ``~/.config/wasm-pkg/config.toml``);
        an empty configuration when there is none."""
        path = Path(path) if path is not None else _wkg_config_path()
        if not path.is_file():
            return cls()
        return cls.parse(path.read_text(encoding="utf-8"), str(path))

    def _mapping_for(self, package: str):
        namespace = package.split(":", 1)[0]
        return (self.package_registry_overrides.get(package) or self.namespace_registries.get(namespace)
                or self.default_registry)

    def registry_for(self, package: str) -> str | None:
        mapping = self._mapping_for(package)
        return mapping.get("registry") if isinstance(mapping, dict) else mapping

    def metadata_for(self, package: str) -> dict | None:
        """Registry metadata written into the configuration (no discovery needed), if any."""
        mapping = self._mapping_for(package)
        return mapping.get("metadata") if isinstance(mapping, dict) else None

    def _oci(self, registry: str) -> dict:
        return ((self.registries.get(registry) or {}).get("oci") or {})

    def insecure(self, registry: str) -> bool | None:
        protocol = self._oci(registry).get("protocol")
        return None if protocol is None else protocol == "http"

    def auth_for(self, registry: str) -> tuple[str, str] | None:
        auth = self._oci(registry).get("auth") or {}
        if "username" in auth and "password" in auth:
            return auth["username"], auth["password"]
        return None


_discovered: dict[str, dict] = {}


def discover(registry: str, *, insecure: bool | None = None, timeout: float = 5.0) -> dict:
    """The registry's ``/.well-known/wasm-pkg/registry.json`` (empty when it publishes none)."""
    import requests

    if registry in _discovered:
        return _discovered[registry]
    scheme = "http" if Reference(registry, "x").plain_http(insecure) else "https"
    try:
        response = requests.get(f"{scheme}://{registry}/.well-known/wasm-pkg/registry.json", timeout=timeout)
        metadata = response.json() if response.status_code == 200 else {}
    except (requests.RequestException, ValueError):
        metadata = {}
    _discovered[registry] = metadata if isinstance(metadata, dict) else {}
    return _discovered[registry]


def package_reference(package: str, version: str | None, *, config: RegistryConfig | None = None) -> Reference | None:
    """Where ``ns:name@version`` lives as an OCI artifact, or None when no registry is configured for it.

    >>> config = RegistryConfig(namespace_registries={"demo": {"registry": "wa.example",
    ...     "metadata": {"preferredProtocol": "oci", "oci": {"registry": "ghcr.io", "namespacePrefix": "acme/"}}}})
    >>> str(package_reference("demo:adder", "1.0.0", config=config))
    'oci://ghcr.io/acme/demo/adder:1.0.0'
    """
    config = config if config is not None else RegistryConfig.load()
    registry = config.registry_for(package)
    if registry is None:
        return None
    metadata = config.metadata_for(package)
    if metadata is None:
        metadata = discover(registry, insecure=config.insecure(registry))
    oci = metadata.get("oci") or {}
    host = oci.get("registry") or metadata.get("ociRegistry") or registry
    prefix = oci.get("namespacePrefix") or metadata.get("ociNamespacePrefix") or ""
    namespace, _, name = package.partition(":")
    return Reference(host, f"{prefix}{namespace}/{name}", version or "latest")


def fetch_package(package: str, version: str | None, *, config: RegistryConfig | None = None) -> bytes | None:
    """The bytes of package ``ns:name`` at ``version`` from its registry (None when none is configured)."""
    config = config if config is not None else RegistryConfig.load()
    ref = package_reference(package, version, config=config)
    if ref is None:
        return None
    return pull(ref, insecure=config.insecure(ref.registry)).wasm
