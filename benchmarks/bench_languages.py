"""What a call across a component boundary costs, by the language on the other side.

The deck's Greeter (tests/languages.py): a Python app imports the ``greeter`` interface; composed with WAC
with a Python greeter, a JavaScript one (componentize-js) and a hand-written WAT one.  Inside one call from the
host, the app calls ``greeter.greet("ada")`` N times (``greet-many``), or a plain Python function
N times (``greet-many-locally``): the difference, divided by N, is the cost of one call through the
canonical ABI into the other component (lifting and lowering a string each way, plus the guest's own work).
Measured side by side in one run; printed as times per call and ratios.
Run: ``python benchmarks/bench_languages.py [N]`` (needs Node.js and npm).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from languages import composed, js_greeter, py_greeter, wat_greeter  # noqa: E402


def best_of(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def main(n: int = 2000) -> None:
    apps = {"Python -> Python": composed(py_greeter()), "Python -> JavaScript": composed(js_greeter()),
            "Python -> WAT": composed(wat_greeter())}
    for app in apps.values():
        app.greet_many("warm-up", 10)
    rows = {}
    for label, app in apps.items():
        local = best_of(lambda: app.greet_many_locally("ada", n))
        across = best_of(lambda: app.greet_many("ada", n))
        rows[label] = (across - local) / n
        if label == "Python -> Python":
            rows["in-component Python call"] = local / n
    base = rows["in-component Python call"]
    print(f"{n} calls of greet(\"ada\") from the Python app, best of 5:")
    for label, seconds in rows.items():
        print(f"  {label:28s} {seconds * 1e6:8.2f} µs per call   {seconds / base:8.1f}x an in-component call")
    ratio = rows["Python -> JavaScript"] / rows["Python -> Python"]
    print(f"cross-language (Python -> JavaScript) / same-language (Python -> Python) component call: {ratio:.2f}x")
    os._exit(0)  # wasmtime's tokio threads may panic in interpreter teardown


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
