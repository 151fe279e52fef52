"""Memory per learner, before and after: several plain kernels run a notebook at once.

    python benchmarks/bench_memory.py [--kernels 3] [--baseline 07cbcbb] [--by-mapping]
                                      [notebooks/01-tour.ipynb notebooks/05-composition.ipynb]

For each notebook, ``--kernels`` IPython kernels (the "Python 3" kernel the notebooks name, started with
jupyter_client, no hub) run its code cells at the same time; once all finished, each kernel's
/proc/PID/smaps_rollup is read while all are alive: PSS (what the kernel holds of its own, shared pages
divided among the sharers), of it anonymous (heaps, Wasm memories) and file-backed (libraries, compiled
code mapped from the build cache).  With ``--baseline REF`` the same runs use wasmlab as it was at that
git commit (exported to a temporary folder, put first on PYTHONPATH) in the same process and cache, so the
two columns are measured side by side.  A bare kernel is measured too.  The build cache should be warm
(run each notebook once before, or ``--own-cache``): builds would otherwise dominate.  Figures only:
nothing passes or fails.
"""

from __future__ import annotations

import argparse
import json
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

from kernel_memory import by_mapping, rollup  # noqa: E402


def code_cells(notebook: Path) -> list[tuple[str, bool]]:
    """A notebook's code cells, each with whether it is meant to fail (tagged ``raises-exception``)."""
    return [("".join(cell["source"]), "raises-exception" in cell.get("metadata", {}).get("tags", []))
            for cell in json.loads(notebook.read_text())["cells"] if cell["cell_type"] == "code"]


def warm_cache(notebook: Path, cache: Path) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
                    "--ExecutePreprocessor.timeout=1800", "--output-dir", str(cache.parent), str(notebook)],
                   check=True, env={**os.environ, "WASMLAB_CACHE_DIR": str(cache)}, capture_output=True)
    return time.perf_counter() - started


def run_kernels(cells: list[tuple[str, bool]], kernels: int, pythonpath: Path | None, mapping: bool,
                cache: Path | None = None) -> dict:
    """``cells`` in ``kernels`` kernels at once; their memory read while all are alive."""
    from jupyter_client import KernelManager

    env = {**os.environ}
    if cache is not None:
        env["WASMLAB_CACHE_DIR"] = str(cache)
    if pythonpath is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(pythonpath), env.get("PYTHONPATH")]))
    running = []
    try:
        for _ in range(kernels):
            manager = KernelManager(kernel_name="python3")
            manager.start_kernel(env=env, cwd=str(ROOT / "notebooks"))
            client = manager.client()
            client.start_channels()
            client.wait_for_ready(timeout=120)
            running.append((manager, client))
        errors: list[str] = []

        def learn(client):
            for cell, fails in cells:
                reply = client.execute_interactive(cell, timeout=1800, output_hook=lambda msg: None)
                if (reply["content"]["status"] == "error") != fails:
                    errors.append(f"{cell.splitlines()[0]}: {reply['content']['ename']}")

        threads = [threading.Thread(target=learn, args=(client,)) for _, client in running]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        pids = [manager.provisioner.process.pid for manager, _ in running]
        figures = [rollup(pid) for pid in pids]
        return {"errors": errors, "pss": [f["Pss"] for f in figures], "anon": [f["Pss_Anon"] for f in figures],
                "file": [f["Pss_File"] for f in figures], "rss": [f["Rss"] for f in figures],
                "mapping": by_mapping(pids[0]) if mapping else []}
    finally:
        for manager, client in running:
            client.stop_channels()
            manager.shutdown_kernel(now=True)


def export_commit(ref: str, into: Path) -> Path:
    """wasmlab as it was at git ``ref``, as files in ``into``."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "wasmlab"], check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        default=[ROOT / "notebooks" / "01-tour.ipynb", ROOT / "notebooks" / "05-composition.ipynb"])
    parser.add_argument("--kernels", type=int, default=3)
    parser.add_argument("--baseline", help="a git commit of this repository to compare with")
    parser.add_argument("--own-cache", action="store_true",
                        help="warm a cache of this run's own first (each notebook run once): compiled code mapped "
                             "from a cache other processes also map would count less than a class's share")
    parser.add_argument("--by-mapping", action="store_true", help="where the first kernel's PSS lies, by mapping")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wasmlab-memory-") as tmp:
        versions = [("this checkout", None)]
        if args.baseline:
            versions.insert(0, (f"at {args.baseline}", export_commit(args.baseline, Path(tmp))))
        cache = None
        if args.own_cache:
            cache = Path(tmp) / "cache"
            cache.mkdir()
            for notebook in args.notebooks:
                print(f"{notebook.name}: warming this run's cache took {warm_cache(notebook, cache):.0f} s")
        bare = run_kernels([("1", False)], args.kernels, None, False)
        print(f"{args.kernels} kernels at once; MB per kernel (median): PSS = anon + file; RSS for reference")
        print(f"{'notebook':24} {'wasmlab':22} {'PSS':>6} {'anon':>6} {'file':>6} {'RSS':>6}")
        print(f"{'(bare kernel)':24} {'':22} {statistics.median(bare['pss']):6.0f} "
              f"{statistics.median(bare['anon']):6.0f} {statistics.median(bare['file']):6.0f} "
              f"{statistics.median(bare['rss']):6.0f}")
        for notebook in args.notebooks:
            cells = code_cells(notebook)
            for label, path in versions:
                out = run_kernels(cells, args.kernels, path, args.by_mapping, cache)
                line = (f"{notebook.name[:24]:24} {label[:22]:22} {statistics.median(out['pss']):6.0f} "
                        f"{statistics.median(out['anon']):6.0f} {statistics.median(out['file']):6.0f} "
                        f"{statistics.median(out['rss']):6.0f}")
                print(line + (f"  errors: {out['errors']}" if out["errors"] else ""), flush=True)
                for name, pss, anon in out["mapping"][:8]:
                    print(f"{'':28} {pss:8.1f} MB PSS ({anon:.1f} anon)  {name}")


if __name__ == "__main__":
    main()
