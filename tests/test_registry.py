"""Registries: pull and push components and WIT packages over OCI, against Debian's docker-registry
(CNCF distribution) on 127.0.0.1, with and without basic auth."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import time
import urllib.request
from datetime import datetime

import pytest

import wasmlab
from wasmlab.errors import RegistryError, WacError
from wasmlab.toolchain import registry
from wasmlab.toolchain.registry import Reference
from wasmlab.wac._package import wat_to_bytes

from guests import calculator_wat
from helpers import ipython_shell
from registry_server import (
    RegistryServer,
    broken_server,
    require_registry,
    silent_server,
    token_server,
    unused_host,
)

ADDER_WAT, CALCULATOR_WAT = calculator_wat("regtest")

# a command (wasi:cli/run) that succeeds without asking the host for anything
COMMAND_WAT = """(component
  (core module $m (func (export "run") (result i32) i32.const 0))
  (core instance $i (instantiate $m))
  (func $run (result (result)) (canon lift (core func $i "run")))
  (instance $inst (export "run" (func $run)))
  (export "wasi:cli/run@0.2.0" (instance $inst))
)"""

# counts the environment variables it is given (so a run reads the environment, and nothing else)
ENV_WAT = """(component
  (import "wasi:cli/environment@0.2.0" (instance $env
    (export "get-environment" (func (result (list (tuple string string)))))))
  (core module $alloc
    (memory (export "memory") 1)
    (global $next (mut i32) (i32.const 1024))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $at i32)
      global.get $next
      local.get 2 i32.const 1 i32.sub i32.add
      i32.const 0 local.get 2 i32.sub i32.and
      local.tee $at
      local.get 3 i32.add
      global.set $next
      local.get $at))
  (core instance $a (instantiate $alloc))
  (core func $get (canon lower (func $env "get-environment")
    (memory (core memory $a "memory")) (realloc (core func $a "realloc"))))
  (core module $main
    (import "host" "get-environment" (func $get (param i32)))
    (import "host" "memory" (memory 1))
    (func (export "count") (result i32)
      i32.const 8 call $get
      i32.const 12 i32.load))
  (core instance $host (export "get-environment" (func $get)) (export "memory" (memory $a "memory")))
  (core instance $m (instantiate $main (with "host" (instance $host))))
  (func (export "count-variables") (result u32) (canon lift (core func $m "count")))
)"""

SERVICE_WIT = """package regtest:spin;

world service {
  export handle: func(path: string) -> string;
}
"""

SERVICE_PY = """\
import os
import socket


class WitWorld:
    def handle(self, path):
        greeting = os.environ.get("GREETING", "hello")
        try:
            with open("/data/" + path) as f:
                body = f.read()
        except OSError as exc:
            body = type(exc).__name__
        try:
            socket.getaddrinfo(b"api.example.com", 443, type=socket.SOCK_STREAM)
        except OSError:
            pass
        return greeting + ": " + body
"""

CALC_WAC = """package demo:app;

let adder = new demo:adder@1.0.0 { ... };
let calc = new demo:calculator@1.0.0 { add: adder.add, ... };

export calc.calculate;
"""

CALC_WIT = """package regtest:calc@1.0.0;

interface add {
  add: func(a: s32, b: s32) -> s32;
}

world adder {
  export add;
}
"""


USER_CACHE = os.environ.get("WASMLAB_CACHE_DIR")  # builds share it (componentize-py takes seconds)


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Each test has its own blob cache and no credentials or registry configuration of the user's."""
    monkeypatch.setenv("WASMLAB_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    monkeypatch.setenv("WKG_CONFIG_FILE", str(tmp_path / "wkg.toml"))
    registry._discovered.clear()


@pytest.fixture(scope="module")
def open_registry(tmp_path_factory):
    with RegistryServer(tmp_path_factory.mktemp("registry")) as server:
        yield server


@pytest.fixture(scope="module")
def auth_registry(tmp_path_factory):
    with RegistryServer(tmp_path_factory.mktemp("auth-registry"), users={"ada": "lovelace"}) as server:
        yield server


@pytest.fixture(scope="module")
def components():
    return {"adder": wasmlab.load(wat_to_bytes(ADDER_WAT), name="adder"),
            "calculator": wasmlab.load(wat_to_bytes(CALCULATOR_WAT), name="calculator")}


def _get(url: str, accept: str | None = None, auth: tuple[str, str] | None = None) -> tuple[bytes, dict]:
    request = urllib.request.Request(url)
    if accept:
        request.add_header("Accept", accept)
    if auth:
        request.add_header("Authorization", "Basic " + base64.b64encode(":".join(auth).encode()).decode())
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read(), dict(response.headers)


def _fresh_cache(tmp_path, monkeypatch, name: str) -> None:
    monkeypatch.setenv("WASMLAB_CACHE_DIR", str(tmp_path / name))


# ---------------------------------------------------------------------------------------- references

@pytest.mark.parametrize("text", [
    "oci://",
    "oci://localhost:5000",
    "oci://localhost:5000/",
    "oci://adder:1.0",  # no registry host
    "oci://localhost:5000/Demo/Adder:1.0",  # repositories are lower case
    "oci://localhost:5000/demo/adder:bad tag",
    "oci://localhost:5000/demo/adder@sha256:1234",  # too short
    "oci://localhost:5000/demo/adder@sha256:" + "0" * 63,
    "oci://localhost:5000/demo//adder:1",
    "oci://localhost:notaport/demo/adder",
])
def test_malformed_references_are_one_line_errors(text):
    with pytest.raises(RegistryError) as caught:
        Reference.parse(text)
    assert "malformed" in caught.value.message and text in caught.value.message
    assert "\n" not in caught.value.message


def test_references_parse_as_docker_reads_them():
    digest = "sha256:" + "ab" * 32
    ref = Reference.parse(f"oci://ghcr.io/acme/shop/pricing:1.2.0@{digest}")
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == ("ghcr.io", "acme/shop/pricing", "1.2.0", digest)
    assert ref.target == digest  # a digest wins over a tag
    assert Reference.parse(f"oci://ghcr.io/acme/app@{digest}").tag is None
    assert Reference.parse("localhost/app").tag == "latest"
    # transport: HTTPS unless the registry is on this machine, or the caller says so
    assert not Reference.parse("oci://ghcr.io/acme/app").plain_http()
    assert Reference.parse("oci://ghcr.io/acme/app").plain_http(insecure=True)
    assert Reference.parse("oci://127.0.0.1:5000/app").plain_http()
    assert Reference.parse("oci://localhost:5000/app").plain_http()
    assert not Reference.parse("oci://localhost:5000/app").plain_http(insecure=False)


# ---------------------------------------------------------------------------------------- the loop

def test_push_then_pull_by_tag_and_by_digest_then_call(open_registry, components, tmp_path, monkeypatch):
    ref = f"oci://{open_registry.host}/demo/adder:1.0.0"
    pinned = components["adder"].push(ref)
    assert pinned.digest.startswith("sha256:") and pinned.repository == "demo/adder"

    _fresh_cache(tmp_path, monkeypatch, "pull-cache")
    first = registry.pull(ref)
    assert not first.from_cache and first.digest == pinned.digest
    assert first.wasm == components["adder"].wasm
    by_tag = wasmlab.load(ref)
    assert by_tag.name == "adder"
    assert by_tag.add.add(20, 22) == 42
    by_digest = wasmlab.load(str(pinned), name="pinned")
    assert by_digest.add.add(-5, 2) == -3
    again = registry.pull(str(pinned))
    assert again.from_cache and again.wasm == first.wasm


def test_a_second_pull_is_a_cache_hit_and_works_offline(components, tmp_path):
    server = RegistryServer(tmp_path / "short-lived")
    with server:
        ref = f"oci://{server.host}/demo/adder:2.0.0"
        pinned = registry.push(components["adder"].wasm, ref, imports=[], exports=["regtest:calc/add"])
    # the registry is gone: blobs come from the cache, the tag from what it last pointed to
    by_digest = registry.pull(str(pinned))
    assert by_digest.from_cache and not by_digest.offline
    by_tag = registry.pull(ref, timeout=5)
    assert by_tag.offline and by_tag.digest == pinned.digest
    assert wasmlab.load(str(pinned)).add.add(1, 2) == 3
    with pytest.raises(RegistryError, match="cannot reach the registry"):
        registry.pull(f"oci://{server.host}/demo/adder:never-pulled", timeout=5)


def test_pushed_artifact_follows_the_wasm_oci_layout(open_registry, components):
    wasm = components["calculator"].wasm
    annotations = {"org.opencontainers.image.description": "doubles a sum",
                   "org.opencontainers.image.source": "https://example.com/calc"}
    before = datetime.now().astimezone()
    pinned = components["calculator"].push(f"oci://{open_registry.host}/demo/calculator:0.3.0",
                                           annotations=annotations)
    base = f"http://{open_registry.host}/v2/demo/calculator"
    raw, headers = _get(f"{base}/manifests/0.3.0", accept=registry.MANIFEST_MEDIA_TYPE)
    assert "sha256:" + hashlib.sha256(raw).hexdigest() == pinned.digest == headers["Docker-Content-Digest"]
    manifest = json.loads(raw)
    assert manifest["schemaVersion"] == 2
    assert manifest["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
    assert manifest["config"]["mediaType"] == "application/vnd.wasm.config.v0+json"
    [layer] = manifest["layers"]
    assert layer == {"mediaType": "application/wasm", "digest": "sha256:" + hashlib.sha256(wasm).hexdigest(),
                     "size": len(wasm)}
    blob, _ = _get(f"{base}/blobs/{layer['digest']}")
    assert blob == wasm
    config_bytes, _ = _get(f"{base}/blobs/{manifest['config']['digest']}")
    assert len(config_bytes) == manifest["config"]["size"]
    assert "sha256:" + hashlib.sha256(config_bytes).hexdigest() == manifest["config"]["digest"]
    config = json.loads(config_bytes)
    assert set(config) == {"created", "architecture", "os", "layerDigests", "component"}
    created = datetime.fromisoformat(config["created"].replace("Z", "+00:00"))
    assert created.utcoffset().total_seconds() == 0 and abs((created - before).total_seconds()) < 600
    assert (config["architecture"], config["os"]) == ("wasm", "wasip2")
    assert config["layerDigests"] == [layer["digest"]]
    assert config["component"]["imports"] == ["regtest:calc/add"]
    assert config["component"]["exports"] == ["calculate"]
    assert manifest["annotations"]["org.opencontainers.image.version"] == "0.3.0"
    assert manifest["annotations"]["org.opencontainers.image.created"] == config["created"]
    for key, value in annotations.items():
        assert manifest["annotations"][key] == value


def test_another_oci_client_reads_what_wasmlab_pushed(open_registry, components, tmp_path):
    import oras.provider

    components["adder"].push(f"oci://{open_registry.host}/demo/adder:for-oras")
    client = oras.provider.Registry(insecure=True)
    manifest = client.get_manifest(f"{open_registry.host}/demo/adder:for-oras")
    [layer] = manifest["layers"]
    out = tmp_path / "from-oras.wasm"
    client.download_blob(f"{open_registry.host}/demo/adder:for-oras", layer["digest"], str(out))
    assert out.read_bytes() == components["adder"].wasm


def test_a_composition_is_pushed_pulled_by_digest_and_run(open_registry, components):
    app = wasmlab.compose(CALC_WAC.replace("@1.0.0", ""), name="app", namespace=components)
    pinned = app.push(f"oci://{open_registry.host}/demo/app:1.0.0")
    pulled = wasmlab.load(str(pinned))
    assert pulled.calculate(3, 4) == 14
    config = registry.pull(str(pinned)).config
    assert config["component"]["exports"] == ["calculate"] and config["component"]["imports"] == []


def test_a_wit_package_is_pushed_and_pulled(open_registry, tmp_path):
    from wasmlab.toolchain.tools import wasm_tools

    (tmp_path / "calc.wit").write_text(CALC_WIT)
    wasm_tools("component", "wit", tmp_path / "calc.wit", "--wasm", "-o", tmp_path / "calc.wasm")
    data = (tmp_path / "calc.wasm").read_bytes()
    pinned = registry.push_wasm(data, f"oci://{open_registry.host}/regtest/calc:1.0.0")
    pulled = registry.pull(str(pinned))
    assert pulled.wasm == data
    assert pulled.config["component"] == {"exports": ["regtest:calc/add@1.0.0", "regtest:calc/adder@1.0.0"],
                                          "imports": [], "target": "regtest:calc@1.0.0"}


# ---------------------------------------------------------------------------------------- credentials

def test_basic_auth_from_arguments_and_from_the_docker_config(auth_registry, components, tmp_path, monkeypatch):
    ref = f"oci://{auth_registry.host}/demo/adder:1.0.0"
    with pytest.raises(RegistryError) as refused:
        components["adder"].push(ref)
    assert "401" in refused.value.message and ref in refused.value.message
    assert "\n" not in refused.value.message
    with pytest.raises(RegistryError, match="401"):
        components["adder"].push(ref, auth=("ada", "wrong"))
    pinned = components["adder"].push(ref, auth=("ada", "lovelace"))

    _fresh_cache(tmp_path, monkeypatch, "no-credentials")
    with pytest.raises(RegistryError, match=f"{ref}.*401"):
        registry.pull(ref)
    docker = tmp_path / "docker"
    docker.mkdir()
    token = base64.b64encode(b"ada:lovelace").decode()
    (docker / "config.json").write_text(json.dumps({"auths": {auth_registry.host: {"auth": token}}}))
    assert wasmlab.load(ref).add.add(2, 2) == 4
    assert registry.pull(str(pinned)).from_cache


def test_wkg_config_credentials(auth_registry, components, tmp_path):
    (tmp_path / "wkg.toml").write_text(
        f'[registry."{auth_registry.host}".oci]\nauth = {{ username = "ada", password = "lovelace" }}\n')
    pinned = components["adder"].push(f"oci://{auth_registry.host}/demo/adder:wkg")
    assert registry.pull(str(pinned)).wasm == components["adder"].wasm


def test_an_explicit_token_is_sent_as_bearer():
    with token_server("s3cret") as host:
        ref = f"oci://{host}/demo/adder:1.0.0"
        with pytest.raises(RegistryError, match=r"cannot reach 127\.0\.0\.1:9 \(for "):
            registry.pull(ref, timeout=5)  # without a token, the challenge's token service is asked
        with pytest.raises(RegistryError, match="not found"):
            registry.pull(ref, token="s3cret")


def test_docstring_examples_run():
    import doctest

    from wasmlab.course import platforms

    for module in (registry, platforms):
        failed, attempted = doctest.testmod(module)
        assert failed == 0 and (attempted > 0 or module is platforms)


# ---------------------------------------------------------------------------------------- bad inputs

def test_unreachable_registry_fails_fast(components):
    started = time.monotonic()
    with pytest.raises(RegistryError, match="cannot reach the registry"):
        registry.pull(f"oci://{unused_host()}/demo/adder:1.0.0")
    with pytest.raises(RegistryError, match="cannot reach the registry"):
        components["adder"].push(f"oci://{unused_host()}/demo/adder:1.0.0")
    # no retry loop: refused connections are reported at once (the bound is generous, not a timing assert)
    assert time.monotonic() - started < 60


def test_a_registry_that_never_answers_times_out():
    with silent_server() as host:
        with pytest.raises(RegistryError, match=r"did not answer within 1 s"):
            registry.pull(f"oci://{host}/demo/adder:1.0.0", timeout=1)


def test_https_to_a_plain_http_registry_says_insecure(open_registry):
    with pytest.raises(RegistryError) as caught:
        registry.pull(f"oci://{open_registry.host}/demo/adder:1.0.0", insecure=False, timeout=5)
    assert "HTTPS" in caught.value.message and "insecure" in caught.value.hint


def test_a_registry_answering_500(components):
    with broken_server(500) as host:
        with pytest.raises(RegistryError) as pulled:
            registry.pull(f"oci://{host}/demo/adder:1.0.0")
        assert "500" in pulled.value.message and "storage backend exploded" in pulled.value.message
        with pytest.raises(RegistryError, match="500"):
            components["adder"].push(f"oci://{host}/demo/adder:1.0.0")


def test_a_missing_tag_is_a_clear_404(open_registry):
    ref = f"oci://{open_registry.host}/demo/adder:no-such-tag"
    with pytest.raises(RegistryError, match="not found") as caught:
        wasmlab.load(ref)
    assert ref in caught.value.message


def test_a_tag_that_is_not_a_component(open_registry, tmp_path, monkeypatch):
    import oras.provider

    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("not wasm")
    client = oras.provider.Registry(insecure=True)
    client.push(f"{open_registry.host}/demo/notes:1", files=["notes.txt:text/plain"], quiet=True)
    with pytest.raises(RegistryError, match="not a Wasm component artifact .*text/plain"):
        wasmlab.load(f"oci://{open_registry.host}/demo/notes:1")


def test_a_corrupted_blob_is_refused(open_registry, components):
    data = components["adder"].wasm + b""  # a copy: pushed under its own repository
    pinned = registry.push(data, f"oci://{open_registry.host}/demo/corrupt:1", imports=[], exports=[])
    layer_digest = registry.digest_of(data)
    stored = open_registry.blob_file(layer_digest)
    original = stored.read_bytes()
    try:
        stored.write_bytes(original[:-1] + bytes([original[-1] ^ 0xFF]))
        registry._blob_path(layer_digest).unlink()  # what push kept locally
        with pytest.raises(RegistryError, match="digest mismatch for the Wasm layer"):
            registry.pull(str(pinned))
        assert not registry._blob_path(layer_digest).exists()  # nothing corrupt was kept
    finally:
        stored.write_bytes(original)


def test_pushing_to_a_digest_or_a_core_module_is_refused(open_registry):
    with pytest.raises(RegistryError, match="cannot push to a digest"):
        registry.push(b"\0asm", f"oci://{open_registry.host}/a/b@sha256:" + "0" * 64, imports=[], exports=[])
    with pytest.raises(RegistryError, match="not a component"):
        registry.push_wasm(wat_to_bytes("(module)"), f"oci://{open_registry.host}/a/b:1")


# ---------------------------------------------------------------------------------------- packages by name

def test_wac_packages_come_from_the_registry_after_deps(open_registry, components, tmp_path):
    for name in ("adder", "calculator"):
        components[name].push(f"oci://{open_registry.host}/demo/{name}:1.0.0")
    (tmp_path / "wkg.toml").write_text(f'[namespace_registries]\ndemo = "{open_registry.host}"\n')
    app = wasmlab.compose(CALC_WAC, name="from_registry", namespace={})
    assert app.calculate(3, 4) == 14
    # --deps-dir comes first: a local adder that subtracts wins over the registry's
    deps = tmp_path / "deps" / "demo" / "adder"
    deps.mkdir(parents=True)
    (deps / "1.0.0.wat").write_text(ADDER_WAT.replace("i32.add", "i32.sub"))
    local_first = wasmlab.compose(CALC_WAC, name="local_first", namespace={}, deps_dir=tmp_path / "deps")
    assert local_first.calculate(3, 4) == -2


def test_wit_dependencies_come_from_the_registry(open_registry, tmp_path):
    from wasmlab.toolchain.tools import wasm_tools
    from wasmlab.toolchain.wit import WitRegistry

    (tmp_path / "calc.wit").write_text(CALC_WIT)
    wasm_tools("component", "wit", tmp_path / "calc.wit", "--wasm", "-o", tmp_path / "calc.wasm")
    registry.push_wasm((tmp_path / "calc.wasm").read_bytes(), f"oci://{open_registry.host}/regtest/calc:1.0.0")
    user = "package demo:user;\n\nworld uses-calc {\n  import regtest:calc/add@1.0.0;\n}\n"
    with pytest.raises(wasmlab.WitError, match="regtest:calc@1.0.0' not found"):
        WitRegistry().define(user)
    (tmp_path / "wkg.toml").write_text(f'[namespace_registries]\nregtest = "{open_registry.host}"\n')
    session = WitRegistry()
    definition = session.define(user)
    assert [p.name for p in definition.packages] == ["demo:user"]
    fetched = session.find("regtest:calc@1.0.0")
    assert fetched is not None and "add: func(a: s32, b: s32) -> s32;" in fetched.text
    with pytest.raises(wasmlab.WitError, match="regtest:calc@2.0.0"):
        session.define(user.replace("1.0.0", "2.0.0").replace("demo:user", "demo:user2"))


def test_registry_discovery_through_well_known_metadata(open_registry, components, tmp_path):
    import http.server
    import threading

    for name in ("adder", "calculator"):
        components[name].push(f"oci://{open_registry.host}/wasm-pkg/demo/{name}:1.0.0")
    metadata = json.dumps({"preferredProtocol": "oci",
                           "oci": {"registry": open_registry.host, "namespacePrefix": "wasm-pkg/"}}).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            found = self.path == "/.well-known/wasm-pkg/registry.json"
            self.send_response(200 if found else 404)
            self.end_headers()
            self.wfile.write(metadata if found else b"")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        host = f"127.0.0.1:{server.server_address[1]}"
        (tmp_path / "wkg.toml").write_text(f'default_registry = "{host}"\n')
        ref = registry.package_reference("demo:adder", "1.0.0")
        assert str(ref) == f"oci://{open_registry.host}/wasm-pkg/demo/adder:1.0.0"
        app = wasmlab.compose(CALC_WAC, name="discovered", namespace={})
        assert app.calculate(1, 1) == 4
    finally:
        server.shutdown()
        server.server_close()


def test_unknown_packages_name_the_registry_option(open_registry, tmp_path):
    with pytest.raises(WacError, match="unknown package `demo:adder`") as unknown:
        wasmlab.compose(CALC_WAC, name="nothing", namespace={})
    assert "wasm-pkg/config.toml" in unknown.value.hint
    (tmp_path / "wkg.toml").write_text(f'[namespace_registries]\ndemo = "{open_registry.host}"\n')
    with pytest.raises(WacError) as missing:
        wasmlab.compose(CALC_WAC.replace("1.0.0", "9.9.9"), name="missing", namespace={})
    assert missing.value.message == "failed to resolve package `demo:adder`"
    assert missing.value.location is not None and missing.value.location.line == 3
    assert "not found" in missing.value.render()


# ---------------------------------------------------------------------------------------- command line and magics

def _cli(capsys, *args: str) -> subprocess.CompletedProcess:
    """``wasmlab ARGS...`` in this process (a subprocess would spend seconds importing)."""
    from wasmlab.cli.main import main

    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(args, code, out, err)


def test_cli_push_pull_call_inspect_run_and_plug(open_registry, components, tmp_path, capsys):
    (tmp_path / "adder.wasm").write_bytes(components["adder"].wasm)
    pushed = _cli(capsys, "push", str(tmp_path / "adder.wasm"), f"oci://{open_registry.host}/cli/adder:1",
                  "--annotation", "org.opencontainers.image.description=adds")
    assert pushed.returncode == 0, pushed.stderr
    pinned = pushed.stdout.strip()
    assert pinned.startswith(f"oci://{open_registry.host}/cli/adder@sha256:")
    assert registry.pull(pinned).manifest["annotations"]["org.opencontainers.image.description"] == "adds"

    pulled = _cli(capsys, "pull", f"oci://{open_registry.host}/cli/adder:1", "-o", str(tmp_path / "back.wasm"))
    assert pulled.returncode == 0, pulled.stderr
    assert (tmp_path / "back.wasm").read_bytes() == components["adder"].wasm
    assert pinned in pulled.stderr

    called = _cli(capsys, "call", pinned, "add#add(40, 2)")
    assert (called.returncode, called.stdout.strip()) == (0, "42"), called.stderr
    inspected = _cli(capsys, "inspect", pinned, "--json")
    assert json.loads(inspected.stdout)["exports"]["regtest:calc/add"]["kind"] == "interface"

    components["calculator"].push(f"oci://{open_registry.host}/cli/calculator:1")
    plugged = _cli(capsys, "wac", "plug", f"oci://{open_registry.host}/cli/calculator:1",
                   "--plug", f"oci://{open_registry.host}/cli/adder:1", "-o", str(tmp_path / "plugged.wasm"))
    assert plugged.returncode == 0, plugged.stderr
    assert wasmlab.load(tmp_path / "plugged.wasm").calculate(1, 2) == 6

    registry.push_wasm(wat_to_bytes(COMMAND_WAT), f"oci://{open_registry.host}/cli/command:1")
    ran = _cli(capsys, "run", f"oci://{open_registry.host}/cli/command:1")
    assert ran.returncode == 0, ran.stderr

    bad = _cli(capsys, "pull", "oci://nowhere/Bad:ref", "-o", str(tmp_path / "x.wasm"))
    assert bad.returncode == 1 and "malformed registry reference" in bad.stderr and "Traceback" not in bad.stderr
    no_password = _cli(capsys, "pull", pinned, "--user", "ada", "-o", str(tmp_path / "x.wasm"))
    assert no_password.returncode == 2 and "--user USER:PASSWORD" in no_password.stderr


def test_cli_wac_compose_with_registry_packages(open_registry, components, tmp_path, capsys):
    for name in ("adder", "calculator"):
        components[name].push(f"oci://{open_registry.host}/demo/{name}:1.0.0")
    (tmp_path / "wkg.toml").write_text(f'[namespace_registries]\ndemo = "{open_registry.host}"\n')
    (tmp_path / "app.wac").write_text(CALC_WAC)
    done = _cli(capsys, "wac", "compose", str(tmp_path / "app.wac"), "-o", str(tmp_path / "app.wasm"))
    assert done.returncode == 0, done.stderr
    assert wasmlab.load(tmp_path / "app.wasm").calculate(5, 5) == 20


def test_component_magic_loads_a_reference(open_registry, components):
    pinned = components["adder"].push(f"oci://{open_registry.host}/magic/adder:1")
    shell = ipython_shell()
    result = shell.run_cell(f"%component pulled_adder --load {pinned}")
    assert result.success, result.error_in_exec
    assert shell.user_ns["pulled_adder"].add.add(7, 8) == 15
    failed = shell.run_cell(f"%component nothing --load oci://{open_registry.host}/magic/absent:1")
    assert isinstance(failed.error_in_exec, RegistryError)


def test_the_registry_server_helper_skips_without_docker_registry(monkeypatch):
    import registry_server

    monkeypatch.setattr(registry_server.local_registry, "available", lambda: False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install docker-registry"):
        require_registry()


# ---------------------------------------------------------------------------------------- platform manifests

def test_spin_manifest_environment_comes_from_what_a_run_read(tmp_path):
    import tomllib

    from wasmlab.course.platforms import spin_manifest

    counter = wasmlab.load(wat_to_bytes(ENV_WAT), name="env-counter")
    with pytest.raises(wasmlab.WasmlabError, match="has not run yet"):
        spin_manifest(counter, "counter.wasm")
    (tmp_path / "unused" / "sub").mkdir(parents=True)
    counter.grants = wasmlab.Grants().with_env(GREETING="hi", LANG="C").with_dir(tmp_path / "unused", "/unused")
    assert counter.count_variables() == 2
    manifest = tomllib.loads(spin_manifest(counter, "counter.wasm", route="/count"))
    assert manifest["spin_manifest_version"] == 2
    assert manifest["trigger"]["http"] == [{"route": "/count", "component": "env-counter"}]
    declared = manifest["component"]["env-counter"]
    assert declared["source"] == "counter.wasm"
    assert declared["environment"] == {"GREETING": "hi", "LANG": "C"}
    assert declared["files"] == []  # granted, never touched: not asked of the platform
    assert declared["allowed_outbound_hosts"] == []


@pytest.mark.slow
def test_spin_manifest_from_a_real_run_of_a_service(open_registry, tmp_path, monkeypatch):
    import tomllib

    from wasmlab.course.platforms import spin_manifest

    wasmlab.define_wit(SERVICE_WIT, origin="service.wit")
    with monkeypatch.context() as build_cache:
        if USER_CACHE is None:
            build_cache.delenv("WASMLAB_CACHE_DIR")
        else:
            build_cache.setenv("WASMLAB_CACHE_DIR", USER_CACHE)
        service = wasmlab.build(world="regtest:spin/service", python=SERVICE_PY, name="service", progress=False)
        service.compiled()
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.txt").write_text("welcome")
    (tmp_path / "secrets").mkdir()
    service.grants = (wasmlab.Grants().with_env(GREETING="hi").with_dir(tmp_path / "site", "/data", read_only=True)
                      .with_dir(tmp_path / "secrets", "/secrets"))
    assert service.handle("index.txt") == "hi: welcome"
    pinned = service.push(f"oci://{open_registry.host}/regtest/service:1.0.0")

    manifest = tomllib.loads(spin_manifest(service, pinned, name="Service"))
    declared = manifest["component"]["service"]
    layer = registry.pull(str(pinned)).manifest["layers"][0]["digest"]
    assert declared["source"] == {"url": f"http://{open_registry.host}/v2/regtest/service/blobs/{layer}",
                                  "digest": layer}
    assert declared["environment"] == {"GREETING": "hi"}
    assert declared["files"] == [{"source": str((tmp_path / "site").resolve()), "destination": "/data"}]
    assert declared["allowed_outbound_hosts"] == ["*://api.example.com:*"]
    # the URL is what Spin downloads: the component's bytes, whose digest it checks
    blob, _ = _get(declared["source"]["url"])
    assert "sha256:" + hashlib.sha256(blob).hexdigest() == layer and blob == service.wasm

    by_tag = tomllib.loads(spin_manifest(service, f"oci://{open_registry.host}/regtest/service:1.0.0"))
    assert by_tag["component"]["service"]["source"] == {"registry": open_registry.host,
                                                        "package": "regtest:service", "version": "1.0.0"}
