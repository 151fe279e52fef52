"""Wasm versus native, measured side by side: compile the same C program both ways, run both,
compare.  The C sources and prebuilt ``.wasm`` files are wasmlab's own (``benchmarks/c``);
the wasm32 compiler is Debian's ``clang`` + ``lld`` + ``wasi-libc`` (+ ``libclang-rt-14-dev-wasm32``).
"""

from __future__ import annotations

import functools
import hashlib
import html
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from . import cache
from .errors import ToolError

__all__ = ["Toolchain", "toolchain", "program", "compile_c", "run_native", "run_wasm", "Measurement",
           "bar_chart", "startup_costs", "PROGRAMS"]

PROGRAMS = ("linpack", "matmul")
_WASI_SYSROOT = Path("/usr")  # Debian's wasi-libc: /usr/include/wasm32-wasi, /usr/lib/wasm32-wasi


@dataclass(frozen=True)
class Toolchain:
    native: str | None  # a C compiler for this machine
    wasm: str | None    # clang able to target wasm32-wasi

    def describe(self) -> str:
        return (f"native: {self.native or 'none'}; wasm32-wasi: "
                f"{self.wasm or 'none (using the prebuilt .wasm files built from the same sources)'}")


@functools.lru_cache(maxsize=1)
def toolchain() -> Toolchain:
    native = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    clang = shutil.which("clang")
    wasm = clang if clang and (_WASI_SYSROOT / "lib" / "wasm32-wasi" / "libc.a").exists() else None
    return Toolchain(native, wasm)


def program(name: str) -> Path:
    """The C source of one of :data:`PROGRAMS`."""
    source = files("wasmlab") / "programs" / f"{name}.c"
    return Path(str(source))


def compile_c(name: str, *, target: str, simd: bool = False) -> Path:
    """Compile program ``name`` for ``target`` ("native" or "wasm32-wasi"), cached by its inputs.

    Without a wasm32 compiler the prebuilt ``.wasm`` shipped with wasmlab is returned.
    """
    tools = toolchain()
    source = program(name)
    if target == "wasm32-wasi" and tools.wasm is None:
        return Path(str(files("wasmlab") / "programs" / f"{name}{'-simd' if simd else ''}.wasm"))
    compiler = tools.native if target == "native" else tools.wasm
    if compiler is None:
        raise ToolError("no C compiler for this machine", hint="install gcc (Debian: apt-get install gcc)")
    flags = ["-O3" if simd else "-O2"]
    if target == "native":
        flags += ["-march=native"] if simd else ["-fno-tree-vectorize"]
    else:
        flags += ["--target=wasm32-wasi", f"--sysroot={_WASI_SYSROOT}", "-Wl,--strip-debug"] + (["-msimd128"] if simd else ["-fno-vectorize", "-fno-slp-vectorize"])
    key = hashlib.sha256(source.read_bytes() + " ".join([compiler, *flags]).encode()).hexdigest()[:20]
    out = cache.cache_dir() / "perf" / f"{name}-{target}-{key}{'.wasm' if target != 'native' else ''}"
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run([compiler, *flags, "-o", str(out), str(source), "-lm"], capture_output=True, text=True)
        if proc.returncode != 0:
            raise ToolError(f"{Path(compiler).name} could not compile {name}.c", detail=proc.stderr[-2000:])
    return out


@dataclass
class Measurement:
    """One run's own report (``key=value`` words it printed) and the wall time around it."""

    values: dict[str, float]
    wall_seconds: float

    def __getitem__(self, key: str) -> float:
        return self.values[key]


def _parse(stdout: str) -> dict[str, float]:
    return {k: float(v) for k, v in re.findall(r"(\w+)=([-+0-9.eE]+)", stdout)}


def run_native(path: Path, *args: str) -> Measurement:
    start = time.perf_counter()
    proc = subprocess.run([str(path), *args], capture_output=True, text=True, check=True)
    return Measurement(_parse(proc.stdout), time.perf_counter() - start)


def run_wasm(path: Path, *args: str) -> Measurement:
    from .core import load_module

    module = load_module(path, name=path.stem)
    start = time.perf_counter()
    result = module.run(*args, echo=False)
    return Measurement(_parse(result.stdout), time.perf_counter() - start)


def startup_costs(repeats: int = 20) -> dict[str, float]:
    """Median seconds to start a fresh component instance vs. a fresh native process."""
    import statistics

    from .core import load_module

    native = compile_c("matmul", target="native")
    module = load_module(compile_c("matmul", target="wasm32-wasi"))
    module.compiled()
    process, instance = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([str(native), "1", "1"], capture_output=True, check=True)
        process.append(time.perf_counter() - start)
        start = time.perf_counter()
        module.run("1", "1", echo=False)
        instance.append(time.perf_counter() - start)
    return {"native process": statistics.median(process), "wasm instance": statistics.median(instance)}


def bar_chart(values: dict[str, float], *, unit: str, title: str) -> "SVGChart":
    """A small horizontal bar chart (SVG) of named values."""
    return SVGChart(values, unit, title)


class SVGChart:
    def __init__(self, values: dict[str, float], unit: str, title: str):
        self.values, self.unit, self.title = values, unit, title

    def __repr__(self) -> str:
        return "\n".join(f"{k}: {v:,.1f} {self.unit}" for k, v in self.values.items())

    def _repr_mimebundle_(self, include=None, exclude=None):
        top = max(self.values.values()) or 1.0
        rows = []
        for i, (label, value) in enumerate(self.values.items()):
            width = 360 * value / top
            y = 30 + i * 28
            rows.append(f'<text x="0" y="{y + 14}" font-size="12" font-family="monospace">{html.escape(label)}</text>'
                        f'<rect x="170" y="{y}" width="{width:.1f}" height="20" fill="#5b8def"/>'
                        f'<text x="{175 + width:.1f}" y="{y + 14}" font-size="12" font-family="monospace">'
                        f'{value:,.1f} {html.escape(self.unit)}</text>')
        height = 40 + 28 * len(self.values)
        svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="640" height="{height}">'
               f'<text x="0" y="16" font-size="14" font-weight="bold" font-family="sans-serif">'
               f'{html.escape(self.title)}</text>{"".join(rows)}</svg>')
        return {"text/plain": repr(self), "image/svg+xml": svg}
