"""Components importing wasi:http (a JavaScript guest's ``fetch``): wasmlab's in-process host has no
wasi:http, so their calls and runs go to the wasmtime command (``-S http``), and only when granted the
network.  The guest fetches from an HTTP server the test runs on 127.0.0.1."""

from __future__ import annotations

import http.server

import pytest

import wasmlab
from wasmlab.errors import GuestError, LinkError, ToolError
from wasmlab.runtime import wasmtime_command
from wasmlab.values import Err, Ok

from guests import FETCH_JS, FETCH_WIT, PYFETCH_PY, PYFETCH_WIT
from helpers import ipython_shell, run_cli
from languages import require_node, shared_tools_dir
from registry_server import _serving, unused_host

pytestmark = pytest.mark.slow

PAGE = "hello from the test server"


@pytest.fixture(scope="module", autouse=True)
def tools(monkeypatch_module):
    require_node()
    try:
        wasmtime_command.wasmtime_cli()
    except ToolError:
        pytest.skip("needs the wasmtime CLI (pip install 'wasmlab[wasi03]')")
    monkeypatch_module.setenv("WASMLAB_TOOLS_DIR", str(shared_tools_dir()))


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


class Site:
    """An HTTP server on 127.0.0.1: ``/hello`` answers :data:`PAGE`, anything else 404; it keeps
    each request's path and ``x-guest`` header."""

    def __init__(self, host: str, requests: list):
        self.url = f"http://{host}"
        self.requests = requests


@pytest.fixture(scope="module")
def site():
    requests: list[tuple[str, str | None]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            requests.append((self.path, self.headers.get("x-guest")))
            found = self.path == "/hello"
            body = (PAGE if found else "no such page").encode()
            self.send_response(200 if found else 404)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    with _serving(Handler) as host:
        yield Site(host, requests)


@pytest.fixture(scope="module")
def built():
    wasmlab.define_wit(FETCH_WIT, origin="fetch.wit")
    return wasmlab.build(world="test:fetch/fetcher", js=FETCH_JS, js_features=["http"], name="fetcher",
                         progress=False)


@pytest.fixture
def fetcher(built, site):
    site.requests.clear()
    built.grants, built.limits = wasmlab.Grants(), wasmlab.Limits()
    return built


def test_the_fetch_feature_makes_the_component_import_wasi_http(fetcher):
    imported = {key.split("@")[0] for key in wasmtime_command.http_imports(fetcher)}
    assert imported == {"wasi:http/types", "wasi:http/outgoing-handler"}
    assert wasmtime_command.needs_cli(fetcher)


def test_granted_the_network_a_fetch_reaches_the_local_server(fetcher, site):
    fetcher.grants = wasmlab.Grants().with_network()
    assert fetcher.get(f"{site.url}/hello") == f"200 {PAGE}"
    assert fetcher.get(f"{site.url}/missing") == "404 no such page"
    assert fetcher.get.result(f"{site.url}/hello") == Ok(f"200 {PAGE}")
    assert site.requests == [("/hello", "javascript"), ("/missing", "javascript"), ("/hello", "javascript")]
    report = fetcher.report()
    assert report.status("http") == "granted, unused"  # granted; what it used is not counted in the CLI
    assert dict((row[0], row[2]) for row in report.rows())["http"] == \
        "outgoing requests to any host, through the wasmtime CLI"
    assert "no wasi:http" in report.note and "not measured" in report.note


def test_without_the_network_the_call_is_refused_before_it_runs(fetcher, site):
    for grants in (wasmlab.Grants(), wasmlab.Grants().with_network(sockets=False, name_lookup=True)):
        fetcher.grants = grants
        with pytest.raises(LinkError) as info:
            fetcher.get(f"{site.url}/hello")
        assert "fetcher can send HTTP requests (wasi:http/outgoing-handler@" in info.value.message
        assert "not granted the network" in info.value.message and "\n" not in info.value.message
        assert "Grants().with_network()" in info.value.hint and "--js-feature http" in info.value.hint
        with pytest.raises(LinkError):
            fetcher.get.result(f"{site.url}/hello")
    assert site.requests == []
    report = fetcher.report()
    assert report.status("http") == "refused"
    assert report.usage.refusals("http") == [
        f"outgoing HTTP ({next(k for k in fetcher.imports if k.startswith('wasi:http/outgoing-handler'))}): "
        "the network is not granted"]


def test_a_failed_fetch_is_the_guest_err_not_a_crash(fetcher):
    fetcher.grants = wasmlab.Grants().with_network()
    nowhere = f"http://{unused_host()}/"
    answer = fetcher.get.result(nowhere)
    assert isinstance(answer, Err) and answer.value.startswith(f"could not fetch {nowhere}: NetworkError")
    with pytest.raises(GuestError):
        fetcher.get(nowhere)


def test_a_command_that_fetches_runs_in_the_wasmtime_command(fetcher, site):
    fetcher.grants = wasmlab.Grants().with_network().with_env(URL=f"{site.url}/hello")
    result = fetcher.run(echo=False)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == f"200 {PAGE}"
    assert site.requests == [("/hello", "javascript")]
    assert "no wasi:http" in result.report.note
    fetcher.grants = wasmlab.Grants().with_env(URL=f"{site.url}/hello")
    with pytest.raises(LinkError, match="not granted the network"):
        fetcher.run(echo=False)
    assert len(site.requests) == 1


def test_wasmlab_call_and_run_fetch_with_inherit_network_and_refuse_without(fetcher, site):
    path, call, page = str(fetcher.wasm_path), f'get("{site.url}/hello")', f"URL={site.url}/hello"
    done = run_cli("call", "--inherit-network", path, call)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f'ok("200 {PAGE}")'
    ran = run_cli("run", "--inherit-network", "--env", page, path)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == f"200 {PAGE}"
    assert site.requests == [("/hello", "javascript")] * 2
    for refused in (run_cli("call", path, call), run_cli("run", "--env", page, path)):
        assert refused.returncode != 0
        assert "not granted the network" in refused.stderr and "Traceback" not in refused.stderr
    assert len(site.requests) == 2


def test_the_component_magic_builds_with_fetch_and_its_calls_need_the_network(built, site):
    shell = ipython_shell()
    assert shell.run_cell("%%wit\n" + FETCH_WIT).success
    result = shell.run_cell("%%component webfetch --world fetcher --js --js-feature http\n" + FETCH_JS)
    assert result.success, result.error_in_exec
    shell.user_ns["page_url"] = f"{site.url}/hello"
    site.requests.clear()
    refused = shell.run_cell("webfetch.get(page_url)")
    assert isinstance(refused.error_in_exec, LinkError)
    assert "not granted the network" in refused.error_in_exec.message
    granted = shell.run_cell("import wasmlab\nwebfetch.grants = wasmlab.Grants().with_network()\n"
                             "webfetch.get(page_url)")
    assert granted.success, granted.error_in_exec
    assert granted.result == f"200 {PAGE}"
    assert site.requests == [("/hello", "javascript")]


def test_a_python_guest_using_wasi_http_itself_is_called_the_same_way(site):
    wasmlab.define_wit(PYFETCH_WIT, origin="pyfetch.wit")
    pyfetch = wasmlab.build(world="test:pyfetch/fetcher", python=PYFETCH_PY, name="pyfetch", progress=False)
    authority = site.url.removeprefix("http://")
    site.requests.clear()
    with pytest.raises(LinkError, match="pyfetch can send HTTP requests"):
        pyfetch.get(authority, "/hello")
    pyfetch.grants = wasmlab.Grants().with_network()
    assert pyfetch.get(authority, "/hello") == f"200 {PAGE}"
    assert site.requests == [("/hello", "python")]
    assert pyfetch.get.result(unused_host(), "/") == Err("could not fetch: ErrorCode_ConnectionRefused()")


def test_an_in_process_instance_names_the_missing_wasi_http_and_the_fixes(fetcher):
    with pytest.raises(LinkError) as info:
        fetcher.instantiate()
    hint = info.value.hint
    assert "in-process host has no wasi:http (wasi:http/types@" in hint
    assert "wasmtime CLI (-S http)" in hint and "Grants().with_network()" in hint and "--js-feature http" in hint
    assert "WASI 0.3" not in hint


CONFIG_WAT = """(component
  (import "wasi:config/store@0.2.0-draft" (instance (export "get" (func (param "key" string)
                                                                        (result (option string))))))
  (core module $m (func (export "f") (result i32) i32.const 7))
  (core instance $i (instantiate $m))
  (func (export "f") (result u32) (canon lift (core func $i "f")))
)"""


def test_any_wasi_import_the_host_lacks_is_named_in_the_hint(tmp_path):
    path = tmp_path / "config.wat"
    path.write_text(CONFIG_WAT)
    component = wasmlab.load(path, name="config")
    with pytest.raises(LinkError) as info:
        component.f()
    assert info.value.hint == ("wasmlab's in-process host implements WASI 0.2 cli, clocks, filesystem, io, random "
                               "and sockets, not wasi:config/store@0.2.0-draft: build the component for a world "
                               "that does not import it")


def test_http_adds_wasmtimes_wasi_http_host_to_the_flags():
    assert wasmtime_command.wasmtime_flags(wasmlab.Grants(), http=True) == ["-S", "http"]
    assert wasmtime_command.wasmtime_flags(wasmlab.Grants().with_network(), http=True) == \
        ["-S", "inherit-network,tcp,udp,allow-ip-name-lookup,http"]
    assert "http" not in wasmtime_command.wasmtime_flags(wasmlab.Grants().with_network())[1]
