"""A class on one machine: N learners on a real JupyterHub run a notebook at the same time.

    python benchmarks/bench_classroom.py [--learners 2 4 8] [--notebook notebooks/01-tour.ipynb] [--cold]

For each N it prints the wall time of each learner's notebook, the memory each learner's kernel holds of its
own (PSS from /proc/PID/smaps_rollup, read while all N kernels are alive) and the total, with the shared
warm cache (filled once, as an image build does) and, with --cold, without it.  Then the arithmetic for a
class of 100.  Figures only: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from bench_memory import code_cells, warm_cache  # noqa: E402
from hub import Hub  # noqa: E402
from kernel_memory import by_mapping, pss_mb, rss_mb  # noqa: E402


def kernel_pids(home: Path) -> list[int]:
    """The IPython kernels whose HOME is ``home`` (a learner's)."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if b"ipykernel_launcher" not in (proc / "cmdline").read_bytes():
                continue
            env = (proc / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if f"HOME={home}".encode() in env:
            pids.append(int(proc.name))
    return pids


def run_class(work: Path, notebook: Path, learners: int, shared: Path | None, kernels: Path) -> dict:
    env = {"JUPYTER_PATH": str(kernels / "share" / "jupyter")}
    if shared is not None:
        env["WASMLAB_SHARED_CACHE"] = str(shared)
    hub = Hub(work, environment=env)
    try:
        people = [hub.start_learner(f"learner{i}") for i in range(learners)]
        cells = code_cells(notebook)
        walls, errors, done, barrier = {}, {}, threading.Barrier(learners + 1), threading.Barrier(learners + 1)

        def learn(person):
            kernel = person.start_kernel("wasmlab")
            try:
                started = time.perf_counter()
                for cell, fails in cells:
                    try:
                        kernel.execute(cell, timeout=1800)
                    except AssertionError:  # the cell's error
                        if not fails:
                            raise
                walls[person.name] = time.perf_counter() - started
            except BaseException as exc:
                errors[person.name] = exc
            finally:
                done.wait()       # all notebooks finished: memory is read with every kernel alive
                barrier.wait()    # memory read: close
                kernel.close()

        threads = [threading.Thread(target=learn, args=(p,)) for p in people]
        for t in threads:
            t.start()
        done.wait()
        pss = {p.name: sum(pss_mb(pid) for pid in kernel_pids(work / "home" / p.name)) for p in people}
        rss = {p.name: sum(rss_mb(pid) for pid in kernel_pids(work / "home" / p.name)) for p in people}
        anon = {p.name: sum(pss_mb(pid, "Pss_Anon") for pid in kernel_pids(work / "home" / p.name)) for p in people}
        mapping = by_mapping(kernel_pids(work / "home" / people[0].name)[0])
        barrier.wait()
        for t in threads:
            t.join()
        return {"walls": walls, "errors": errors, "pss": pss, "rss": rss, "anon": anon, "mapping": mapping}
    finally:
        hub.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, nargs="+", default=[2, 4, 8])
    parser.add_argument("--notebook", type=Path, default=ROOT / "notebooks" / "01-tour.ipynb")
    parser.add_argument("--cold", action="store_true", help="also run each class without the shared cache")
    parser.add_argument("--by-mapping", action="store_true", help="where one kernel's PSS lies, by mapping")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wasmlab-class-") as tmp:
        tmp = Path(tmp)
        kernels = tmp / "kernels"
        subprocess.run([sys.executable, "-m", "wasmlab.cli", "install-kernel", "--prefix", str(kernels)],
                       check=True, capture_output=True)
        warm = tmp / "warm" / "cache"
        warm.parent.mkdir()
        print(f"{args.notebook.name}: warming the shared cache once took {warm_cache(args.notebook, warm):.0f} s")
        print(f"{'learners':>8} {'cache':>6} {'wall s (median, max)':>22} {'PSS MB/kernel (median)':>24} "
              f"{'of it anon':>11} {'RSS MB/kernel':>14} {'total PSS MB':>13}")
        for n in args.learners:
            for label, shared in [("warm", warm)] + ([("cold", None)] if args.cold else []):
                work = tmp / f"class-{n}-{label}"
                work.mkdir()
                out = run_class(work, args.notebook, n, shared, kernels)
                if out["errors"]:
                    print(f"{n:>8} {label:>6} errors: {out['errors']}")
                    continue
                walls, pss, rss = list(out["walls"].values()), list(out["pss"].values()), list(out["rss"].values())
                anon = list(out["anon"].values())
                print(f"{n:>8} {label:>6} {statistics.median(walls):>10.1f} {max(walls):>10.1f} "
                      f"{statistics.median(pss):>24.0f} {statistics.median(anon):>11.0f} "
                      f"{statistics.median(rss):>14.0f} {sum(pss):>13.0f}")
                if args.by_mapping:
                    for name, mb, anon_mb in out["mapping"][:10]:
                        print(f"{'':>16}{mb:8.1f} MB PSS ({anon_mb:.1f} anon)  {name}")
        print("A class of 100: memory = 100 x PSS per kernel (+ the shared pages once); CPU: a learner needs a "
              "core only while a cell compiles or runs, so guarantee ~0.25 core and let it burst.")


if __name__ == "__main__":
    main()
