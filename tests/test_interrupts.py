"""Ctrl-C (the kernel's stop button) and time limits against sync calls into a component.

A store's epoch deadline stays armed between calls and the Ctrl-C watcher owns Python's wakeup
fd for the whole session, so a call pays nothing for being stoppable; these tests check what
that must still guarantee.  Signals are sent to a child process running a script.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import wasmlab
from wasmlab.capabilities import Limits
from wasmlab.errors import Trap

from guests import SPIN_WAT, SPIN_WIT

PRELUDE = """\
import os, signal, socket, threading, time, wasmlab
from guests import SPIN_WIT, SPIN_WAT
wasmlab.define_wit(SPIN_WIT)
spin = wasmlab.build(world="test:spin/spin", wat=SPIN_WAT, progress=False)

def press_stop(after=0.5):
    threading.Timer(after, lambda: os.kill(os.getpid(), signal.SIGINT)).start()

def stopped(call):
    press_stop()
    started = time.monotonic()
    try:
        call()
    except KeyboardInterrupt:
        return "interrupted" if time.monotonic() - started < 20 else "late"
    return "ran to the end"
"""


def run_script(body: str) -> list[str]:
    script = PRELUDE + textwrap.dedent(body)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=180,
                          cwd=Path(__file__).parent)
    assert proc.returncode == 0, f"exit {proc.returncode}; stdout {proc.stdout!r}; stderr {proc.stderr[-2000:]}"
    return proc.stdout.split()


def test_ctrl_c_stops_every_call_also_after_one_pressed_while_python_ran():
    # a Ctrl-C outside Wasm moves the epoch too: the next call re-arms its store, is not stopped
    # by that old press, and can still be stopped by a new one
    out = run_script("""
        print(spin.add(1, 2))
        print(stopped(spin.forever))
        press_stop(0.1)
        try:
            time.sleep(10)
        except KeyboardInterrupt:
            print("idle-press")
        print(spin.add(2, 3), spin.burn(1000))
        print(stopped(spin.forever))
        print(spin.add(3, 4))
    """)
    assert out == ["3", "interrupted", "idle-press", "5", "42", "interrupted", "7"]


def test_whoever_had_the_wakeup_fd_before_still_hears_signals_and_a_dropped_one_is_retaken():
    out = run_script("""
        mine, theirs = socket.socketpair()
        theirs.setblocking(False)
        signal.set_wakeup_fd(theirs.fileno())   # e.g. an asyncio loop with signal handlers
        print(stopped(spin.forever))
        mine.settimeout(10)
        print("forwarded" if signal.SIGINT in mine.recv(64) else "lost")
        signal.set_wakeup_fd(-1)                # as asyncio does when its loop closes
        wasmlab.runtime.engines.watch_interrupts()      # what the extension does before every cell
        print(stopped(spin.forever), spin.add(1, 1))
    """)
    assert out == ["interrupted", "forwarded", "interrupted", "2"]


@pytest.fixture(scope="module")
def spin():
    wasmlab.define_wit(SPIN_WIT, origin="spin.wit")
    return wasmlab.build(world="test:spin/spin", wat=SPIN_WAT, name="spin", progress=False)


def test_a_time_limit_stops_only_its_own_call(spin):
    import threading

    # a second component object of the same code: its own instance, its own limits
    limited = wasmlab.load(spin.wasm_path)
    limited.limits = Limits(timeout=0.3)
    results = {}

    def long_call():
        results["burn"] = spin.burn(3_000_000_000)  # a second or more, without a limit, on another thread

    spin.add(0, 0)  # compiled and instantiated: the worker's call starts computing at once
    worker = threading.Thread(target=long_call)
    worker.start()
    with pytest.raises(Trap) as info:
        limited.forever()
    overlapped = worker.is_alive()
    worker.join(120)
    assert info.value.trap_kind == "timeout"
    assert overlapped, "the other call ended before the time limit fired: make it longer"
    assert results == {"burn": 42}
    assert limited.add(1, 2) == 3 and spin.add(2, 2) == 4


def test_time_limits_hold_call_after_call(spin):
    # one watcher thread keeps every running call's deadline: each call registers its own
    spin.limits = Limits(timeout=0.3)
    try:
        for _ in range(3):
            assert [spin.add(i, 1) for i in range(1000)] == list(range(1, 1001))
            started = time.monotonic()
            with pytest.raises(Trap) as info:
                spin.forever()
            assert info.value.trap_kind == "timeout"
            assert 0.3 <= time.monotonic() - started < 30  # measured from this call's start, not an earlier one's
            assert spin.add(5, 6) == 11
    finally:
        spin.limits = Limits()
    assert [spin.add(i, i) for i in range(3)] == [0, 2, 4]
