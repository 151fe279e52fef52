"""Running components with wasmtime: one engine, compiled-artifact cache, stores and traps.

A compiled component is kept next to its build in the cache (``Component.serialize``), so a
kernel restart deserializes in milliseconds instead of recompiling for seconds.  Every
instance lives in its own :class:`wasmtime.Store`; a trap discards the store, so the next
call starts from a fresh instance instead of a poisoned one.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import os
import re
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import wasmtime
from wasmtime import component as wc

from wasmlab.errors import LoadError, Trap
from wasmlab.progress import Progress
from wasmlab.runtime import capi, memory
from wasmlab.toolchain import cache
from wasmlab.views import Displayable

__all__ = ["EngineKind", "engine", "engine_tag", "compile_component", "new_store", "StoreGuard", "watch_interrupts",
           "trap_from", "timeout_trap", "GuestOutput", "RunResult"]

# far beyond any real run: the deadline only matters once a limit or an interrupt bumps the epoch
_NO_DEADLINE = 1 << 62


@dataclass(frozen=True)
class EngineKind:
    """What compiled code checks: fuel (a deterministic budget) and epochs (time limits and
    interrupts).  Each check costs speed in tight loops, so each kind gets its own engine and
    its own compiled artifacts, and only runs that ask for a check pay for it."""

    fuel: bool = False
    interruptible: bool = True

    @classmethod
    def for_limits(cls, limits) -> "EngineKind":
        return cls(fuel=limits.fuel is not None, interruptible=limits.interruptible)

    @property
    def tag(self) -> str:
        return ("epoch" if self.interruptible else "plain") + ("-fuel" if self.fuel else "")


def engine(kind: EngineKind = EngineKind()) -> wasmtime.Engine:
    """The session's engine of a kind; the default one is interruptible (epoch checks)."""
    found = _engines.get(kind)
    if found is None:
        with _engines_lock:  # two threads' first calls must not make two engines
            found = _engines.get(kind)
            if found is None:
                found = _engines[kind] = _new_engine(kind)
    return found


_engines: dict[EngineKind, wasmtime.Engine] = {}
_engines_lock = threading.Lock()


def _new_engine(kind: EngineKind) -> wasmtime.Engine:
    config = wasmtime.Config()
    config.epoch_interruption = kind.interruptible
    config.wasm_component_model = True
    config.consume_fuel = kind.fuel
    capi.enable_component_model_async(config)
    return wasmtime.Engine(config)


@functools.lru_cache(maxsize=8)
def engine_tag(kind: EngineKind = EngineKind()) -> str:
    """Names compiled artifacts: they only load into an engine of the same version and config."""
    from importlib.metadata import version

    return hashlib.sha256(f"wasmtime-{version('wasmtime')}-cm-async-{kind.tag}".encode()).hexdigest()[:16]


def compile_component(wasm_path: Path, *, entry: cache.CacheEntry | None = None,
                      kind: EngineKind = EngineKind(), progress: bool = True,
                      title: str = "compiling") -> wc.Component:
    """Compile (or deserialize the cached compile of) the component at ``wasm_path``: mapped from
    the cache file when there is one, else compiled and cached."""
    eng = engine(kind)
    if entry is not None:  # the file is mapped, and only once its digest checks out
        found = entry.load_compiled(engine_tag(kind), lambda path: wc.Component.deserialize_file(eng, str(path)))
        if found is not None:
            return found
    reporter = Progress(title, enabled=progress)
    reporter.stage("compiling to native code (first run only)")
    try:
        done = threading.Event()
        result: dict = {}

        def work():
            try:
                result["compiled"] = wc.Component.from_file(eng, str(wasm_path))
            except BaseException as exc:  # handed to the caller below
                result["error"] = exc
            finally:
                done.set()

        # compile off the main thread so the progress line keeps ticking
        worker = threading.Thread(target=work, daemon=True)
        worker.start()
        while not done.wait(0.25):
            reporter.tick()
        if "error" in result:
            raise result["error"]
        component = result["compiled"]
    except wasmtime.WasmtimeError as exc:
        raise LoadError("not a valid component", detail=_first_lines(str(exc), 6),
                        hint="check it with `wasm-tools validate`") from None
    if entry is not None:
        written = entry.write_compiled(engine_tag(kind), bytes(component.serialize()))
        if written is not None:
            # the code just compiled sits in this process's own memory; mapped from the file it is
            # shared with every kernel that maps it, and the compile's copy is freed
            try:
                component = wc.Component.deserialize_file(eng, str(written))
            except wasmtime.WasmtimeError:
                pass  # the compile's own copy serves
    memory.give_back_free_pages()  # what the compiler freed stays in its thread's malloc arena otherwise
    if reporter.elapsed > 0.5:
        reporter.done(f"compiled in {reporter.elapsed:.1f} s (cached for next time)")
    return component


def new_store(limits) -> wasmtime.Store:
    """A store on the engine the ``limits`` need, with their memory limit and fuel budget."""
    kind = EngineKind.for_limits(limits)
    store = wasmtime.Store(engine(kind))
    if kind.interruptible:
        store.set_epoch_deadline(_NO_DEADLINE)
    if limits.fuel is not None:
        store.set_fuel(limits.fuel)
    if limits.max_memory is not None:
        store.set_limits(memory_size=limits.max_memory)
    return store


class _Epochs:
    """How often the interruptible engines' epoch moved, and which move Ctrl-C made last.

    Every move leaves the deadlines of idle stores behind; a :class:`StoreGuard` compares
    ``bumps`` with the count it armed its store at and re-arms only after a move."""

    bumps = 0
    last_sigint = 0


_bump_counter = itertools.count(1)


def _interrupt_engines() -> None:
    for kind, eng in list(_engines.items()):
        if kind.interruptible:
            eng.increment_epoch()
    _Epochs.bumps = next(_bump_counter)  # after the epochs moved: a store armed before this is behind


class _InterruptWatcher:
    """Turns Ctrl-C (the kernel's stop button) into an epoch bump while Wasm runs.

    Python runs signal handlers only between bytecodes, never inside a long Wasm call; but
    the C-level handler writes the signal number to the wakeup fd at once, and this thread,
    waiting on that fd, interrupts the guest.  The wakeup fd is taken once (setting it costs
    half a microsecond, too much for every call); whoever had it before still gets its bytes.
    """

    def __init__(self):
        self.reader, self.writer = socket.socketpair()
        self.writer.setblocking(False)
        self.previous_fd = -1
        self.guard = None  # what else to mark interrupted (the async calls in flight)
        threading.Thread(target=self._watch, name="wasmlab-interrupt", daemon=True).start()

    def install(self) -> None:
        """Take the wakeup fd (main thread only); again after someone else took it."""
        global _watching
        ours = self.writer.fileno()
        previous = signal.set_wakeup_fd(ours, warn_on_full_buffer=False)
        if previous != ours:
            self.previous_fd = previous
        _watching = True

    def _watch(self) -> None:
        while True:
            data = self.reader.recv(64)
            if not data:
                return
            if self.previous_fd >= 0:
                try:
                    os.write(self.previous_fd, data)
                except OSError:
                    self.previous_fd = -1
            if signal.SIGINT in data:
                guard = self.guard
                if guard is not None:
                    guard.interrupted = True
                _interrupt_engines()
                _Epochs.last_sigint = _Epochs.bumps


_watching = False


@functools.lru_cache(maxsize=1)
def _watcher() -> _InterruptWatcher:
    return _InterruptWatcher()


def watch_interrupts() -> None:
    """Let Ctrl-C (the kernel's stop button) stop running Wasm.  Idempotent; main thread only.

    The extension calls it before every cell, so a library that took Python's wakeup fd
    meanwhile does not leave Wasm unstoppable."""
    if threading.get_ident() == _MAIN_THREAD:
        _watcher().install()


class StoreGuard:
    """Stops the Wasm running in one store on Ctrl-C and at ``limits.timeout`` (epoch interruption).

    ``with guard:`` around every call into the store (or :meth:`enter` before it and, when that
    returns False, :meth:`exit` after: the hot path of calls).  Between calls the store's epoch
    deadline stays armed one step ahead of the engines' epoch, and the Ctrl-C watcher stays
    installed, so a call on the main thread without a time limit costs two comparisons here;
    only after the epoch moved (an interrupt, some time limit) is the deadline armed again.
    A call off the main thread without a time limit runs unarmed: the stop button belongs to
    the cell on the main thread, and other calls' time limits must not stop it.

    After a call, ``expired`` / ``interrupted`` say whether the time limit or Ctrl-C stopped it
    (read by :func:`trap_from`).
    """

    __slots__ = ("context", "limits", "quick", "armed", "expired", "quiet_sigint", "_stack")

    def __init__(self, store: wasmtime.Store, limits):
        self.context = capi.store_context(store)
        self.limits = limits
        self.quick = limits.interruptible and limits.timeout is None
        self.armed = -1  # the bump count the deadline was armed at; -1: not armed
        self.expired = False
        # set once the store has a Python epoch callback (async calls): a Ctrl-C raised by
        # Python's own handler inside that callback would crash, so sync calls mute it then
        self.quiet_sigint = False
        self._stack: list = []  # per call that is not quick: what to undo when it ends

    @property
    def interrupted(self) -> bool:
        return self.armed >= 0 and _Epochs.last_sigint > self.armed

    def disarm(self) -> None:
        """The deadline was moved away (the async path arms its own): re-arm at the next call."""
        self.armed = -1

    def enter(self) -> bool:
        """Before a call; True when there is nothing to undo after it, else call :meth:`exit`."""
        if self.quick and not self.quiet_sigint and threading.get_ident() == _MAIN_THREAD:
            if self.armed != _Epochs.bumps:
                self._arm()
            if not _watching:
                _watcher().install()
            return True
        self._enter_slowly()
        return False

    def exit(self) -> None:
        """After a call :meth:`enter` returned False for; raises KeyboardInterrupt for a Ctrl-C
        held back while Wasm ran."""
        self._exit_slowly()

    def __enter__(self) -> "StoreGuard":
        if self.enter():
            self._stack.append(None)
        return self

    def __exit__(self, *exc) -> None:
        if self._stack[-1] is None:
            self._stack.pop()
        else:
            self._exit_slowly()

    def _arm(self) -> None:
        bumps = _Epochs.bumps
        _set_epoch_deadline(self.context, 1)
        self.armed = bumps

    def _enter_slowly(self) -> None:
        limits = self.limits
        on_main = threading.get_ident() == _MAIN_THREAD
        undo = _Undo()
        self._stack.append(undo)
        if not limits.interruptible:
            return
        if limits.timeout is None and not on_main:
            _set_epoch_deadline(self.context, _NO_DEADLINE)
            self.armed = -1
            return
        self._arm()
        if on_main:
            if not _watching:
                _watcher().install()
            if self.quiet_sigint:
                undo.sigint = signal.signal(signal.SIGINT, self._on_sigint)
        if limits.timeout is not None:
            self.expired = False
            undo.timed = True
            _time_limits().start(undo, limits.timeout, self._expire)

    def _expire(self) -> None:
        self.expired = True

    def _on_sigint(self, _signum, _frame) -> None:
        self._stack[-1].sigint_seen = True  # the watcher has bumped the epoch already

    def _exit_slowly(self) -> None:
        undo = self._stack.pop()
        if undo.timed:
            _time_limits().end(undo)
        if undo.sigint is not None:
            signal.signal(signal.SIGINT, undo.sigint)
            if undo.sigint_seen:
                raise KeyboardInterrupt("Wasm interrupted")  # muted while Wasm ran: raised now


class _Undo:
    timed = False
    sigint = None
    sigint_seen = False


class _TimeLimits:
    """One thread watching the time limits of all running calls.

    A call registers its deadline and removes it when it ends (a fraction of a microsecond,
    where a timer thread per call costs tens).  While calls with limits run, the thread looks
    every few milliseconds; when one is past its deadline it is told so and the epoch moves,
    which stops it.  After a second without any, the thread sleeps until the next one starts.
    """

    PERIOD = 0.005
    LINGER = 1.0

    def __init__(self):
        self.calls: dict[object, tuple[float, object]] = {}  # key -> (deadline, on_expire)
        self.awake = False
        self.wake = threading.Event()
        threading.Thread(target=self._watch, name="wasmlab-time-limits", daemon=True).start()

    def start(self, key, timeout: float, on_expire) -> None:
        """``on_expire()`` is called (on this thread) once ``timeout`` seconds passed, unless
        :meth:`end` came first."""
        self.calls[key] = (time.monotonic() + timeout, on_expire)
        if not self.awake:
            self.awake = True
            self.wake.set()

    def end(self, key) -> None:
        self.calls.pop(key, None)

    def _watch(self) -> None:
        while True:
            self.wake.wait()
            self.wake.clear()
            quiet_since = time.monotonic()
            while True:
                time.sleep(self.PERIOD)
                now = time.monotonic()
                expired = [key for key, (deadline, _) in list(self.calls.items()) if deadline <= now]
                for key in expired:
                    entry = self.calls.pop(key, None)
                    if entry is not None:
                        entry[1]()
                if expired:
                    _interrupt_engines()
                if self.calls:
                    quiet_since = now
                elif now - quiet_since > self.LINGER:
                    self.awake = False
                    if not self.calls:  # a call that started just now saw awake=True: keep watching it
                        break
                    self.awake = True


@functools.lru_cache(maxsize=1)
def _time_limits() -> _TimeLimits:
    return _TimeLimits()


_MAIN_THREAD = threading.main_thread().ident


_set_epoch_deadline = capi.set_epoch_deadline


class RunResult(Displayable):
    """What a program run did: exit code, captured output and, for components, the
    capability report (asked / granted / used)."""

    def __init__(self, exit_code: int, stdout: str, stderr: str, report=None):
        self.exit_code = exit_code
        self.stdout = stdout
        self.stderr = stderr
        self.report = report

    def __repr__(self) -> str:
        return f"<RunResult exit_code={self.exit_code}>"


class GuestOutput:
    """Guest stdout/stderr, shown live in the cell and kept (stderr's tail explains traps)."""

    def __init__(self, *, echo: bool = True):
        self.echo = echo
        self.stdout = bytearray()
        self.stderr = bytearray()

    def on_stdout(self, data: bytes) -> None:
        self.stdout += data
        if self.echo:
            sys.stdout.write(data.decode("utf-8", errors="replace"))
            sys.stdout.flush()

    def on_stderr(self, data: bytes) -> None:
        self.stderr += data
        if self.echo:
            sys.stderr.write(data.decode("utf-8", errors="replace"))
            sys.stderr.flush()

    def stderr_text(self) -> str:
        return self.stderr.decode("utf-8", errors="replace")


_TRAP_KINDS = [
    ("unreachable", "wasm `unreachable` instruction executed"),
    ("out-of-bounds memory access", "out of bounds memory access"),
    ("stack overflow", "call stack exhausted"),
    ("integer divide by zero", "integer divide by zero"),
    ("integer overflow", "integer overflow"),
    ("invalid conversion to integer", "invalid conversion to integer"),
    ("indirect call signature mismatch", "indirect call type mismatch"),
    ("uninitialized table element", "uninitialized element"),
    ("out-of-bounds table access", "undefined element"),
    ("interrupted", "interrupt"),
    ("out of fuel", "all fuel consumed"),
    ("cannot enter component instance", "cannot enter component instance"),
]
_FRAME = re.compile(r"^\s*\d+:\s+0x[0-9a-f]+\s+-\s+(.*)$")


def trap_from(exc: wasmtime.WasmtimeError, *, function: str = "", stderr: str = "", limits=None,
              guard=None) -> BaseException:
    """A wasmtime error from a call as a short, readable :class:`Trap` (or the interrupt it was)."""
    text = str(exc)
    where = f" in {function}" if function else ""
    if guard is not None and guard.interrupted and "interrupt" in text:
        return KeyboardInterrupt(f"Wasm interrupted{where}")
    if "all fuel consumed" in text and limits is not None and limits.fuel is not None:
        return Trap(f"the fuel budget of {limits.fuel:,} was used up{where}", trap_kind="fuel",
                    hint="raise it with Limits(fuel=...) or --fuel; fuel counts Wasm instructions")
    if guard is not None and guard.expired and "interrupt" in text:
        return timeout_trap(limits.timeout, where)
    if limits is not None and limits.max_memory is not None and _looks_out_of_memory(text, stderr):
        return Trap(f"the memory limit of {_size(limits.max_memory)} was reached{where}", trap_kind="memory",
                    hint="raise it with Limits(max_memory=...) or --max-memory", stderr=stderr)
    lines = text.splitlines()
    frames = [m.group(1).strip() for m in map(_FRAME.match, lines) if m]
    cause = ""
    for i, line in enumerate(lines):
        if line.strip() == "Caused by:" and i + 1 < len(lines):
            cause = lines[i + 1].strip()
    if not cause:
        cause = lines[0].strip() if lines else "trap"
    cause = re.sub(r"^(\d+:\s*)?(wasm trap:\s*)?", "", cause)
    kind = next((name for name, needle in _TRAP_KINDS if needle in text), None)
    message = f"{kind or cause}{where}"
    if kind and kind != cause and cause not in message:
        message += f" ({cause})"
    hint = None
    raised = _guest_exception(stderr) if kind == "unreachable" else None
    if raised:
        message = f"{function or 'the guest'} raised {raised}"
        hint = "the guest's Python traceback is under 'guest stderr'"
    elif kind == "stack overflow":
        hint = "deep or endless recursion"
    return Trap(message, trap_kind=kind, backtrace=_interesting_frames(frames), stderr=stderr, hint=hint)


def timeout_trap(timeout: float, where: str = "") -> Trap:
    """The trap of a call or run stopped at its time limit (``where``: " in func")."""
    return Trap(f"the time limit of {timeout:g} s was reached{where}", trap_kind="timeout",
                hint="raise it with Limits(timeout=...) or --timeout, or look for an endless loop")


def _guest_exception(stderr: str) -> str | None:
    """The last ``Error: message`` line of a Python traceback the guest printed, if any."""
    if "Traceback (most recent call last)" not in stderr:
        return None
    for line in reversed(stderr.strip().splitlines()):
        if re.match(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt|Warning)\b", line.strip()):
            return line.strip()
    return None


def _interesting_frames(frames: list[str], limit: int = 8) -> list[str]:
    noise = ("std::panicking", "core::panicking", "__rustc::", "std::sys::", "std::process::abort",
             "libc.so!abort", "__rust_", "rust_panic", "rust_begin_unwind", "panic_fmt")
    kept = [f for f in frames if not any(n in f for n in noise)] or frames
    # "<unknown>!name": no module name is known; the function's name says enough
    kept = [f[len("<unknown>!"):] if f.startswith("<unknown>!") and not f.endswith(">") else f for f in kept]
    collapsed: list[str] = []  # deep recursion: one line per run of the same frame
    i = 0
    while i < len(kept):
        j = i
        while j < len(kept) and kept[j] == kept[i]:
            j += 1
        collapsed.append(kept[i] if j - i == 1 else f"{kept[i]}  (x{j - i})")
        i = j
    return collapsed[:limit]


def _looks_out_of_memory(text: str, stderr: str) -> bool:
    # the limiter makes memory.grow fail; guests then abort in their allocator or raise MemoryError
    return any(sign in stderr for sign in ("MemoryError", "memory allocation", "out of memory")) or \
        any(sign in text for sign in ("alloc", "memory.grow", "dlmalloc", "sbrk", "oom"))


def _size(n: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:g} {unit}"
    return f"{n} bytes"


def _first_lines(text: str, n: int) -> str:
    return "\n".join(text.splitlines()[:n])
