"""A process that ran WASI exits cleanly: wasmtime's tokio threads get to finish before teardown."""

import subprocess
import sys
from pathlib import Path

from guests import HELLO_WASI_WAT

SCRIPT = f"""
import wasmlab
from wasmlab.runtime.teardown import tokio_thread_states
print(wasmlab.load_module({HELLO_WASI_WAT!r}).run(echo=False).stdout.strip(), len(tokio_thread_states()) > 0)
"""  # and exits at once, in the milliseconds a tokio thread still works after the call


def test_a_script_that_exits_right_after_a_wasi_run_exits_cleanly():
    for _ in range(5):  # without the wait, every run printed a Rust panic and most exited 134 (abort)
        done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120,
                              cwd=Path(__file__).parent)
        assert (done.returncode, done.stdout) == (0, "hello from WASI True\n"), done.stderr[-2000:]
        assert "panicked" not in done.stderr, done.stderr[-2000:]


def test_the_wait_sees_idle_tokio_threads():
    from wasmlab.runtime.core_modules import load_module
    from wasmlab.runtime.teardown import tokio_thread_states, wait_until_tokio_idles

    load_module(HELLO_WASI_WAT).run(echo=False)
    assert tokio_thread_states()  # the run started them
    assert wait_until_tokio_idles(timeout=30)
    assert all(state in "SI" for state in tokio_thread_states())
