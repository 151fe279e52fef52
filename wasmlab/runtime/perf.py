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

from wasmlab.errors import ToolError
from wasmlab.runtime import engines
from wasmlab.toolchain import cache
from wasmlab.views import Displayable

__all__ = ["Toolchain", "toolchain", "program", "compile_c", "run_native", "run_wasm", "Measurement",
           "compare", "Comparison", "bar_chart", "startup_costs", "PROGRAMS"]

PROGRAMS = ("linpack", "matmul")
METRIC = {"linpack": "mflops", "matmul": "gflops"}  # the speed each program reports
# The seed deck's figures: LINPACK on wasmtime vs native (MFLOPS), and Frank Denis's 2023
# benchmark (https://00f.net/2023/01/04/webassembly-benchmark-2023/): 2.32x slower on average.
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
    source = files("wasmlab.course") / "programs" / f"{name}.c"
    return Path(str(source))


def compile_c(name: str, *, target: str, simd: bool = False) -> Path:
    """Compile program ``name`` for ``target`` ("native" or "wasm32-wasi"), cached by its inputs.

    Without a wasm32 compiler the prebuilt ``.wasm`` shipped with wasmlab is returned.
    """
    tools = toolchain()
    source = program(name)
    if target == "wasm32-wasi" and tools.wasm is None:
        return Path(str(files("wasmlab.course") / "programs" / f"{name}{'-simd' if simd else ''}.wasm"))
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


def run_wasm(path: Path, *args: str, interruptible: bool = True) -> Measurement:
    """Run a WASI program with wasmtime in this process.

    ``interruptible=False`` uses an engine without epoch checks (no time limit, no stop
    button): what ``wasmtime run`` does by default.
    """
    from wasmlab.capabilities import Limits
    from wasmlab.runtime.core_modules import load_module

    module = load_module(path, name=path.stem)
    module.limits = Limits(interruptible=interruptible)
    module.compiled(engines.EngineKind(interruptible=interruptible))  # compile outside the timing
    start = time.perf_counter()
    result = module.run(*args, echo=False)
    return Measurement(_parse(result.stdout), time.perf_counter() - start)


@dataclass
class Comparison:
    """One program run natively and as Wasm (with and without epoch checks), same arguments."""

    program: str
    args: tuple[str, ...]
    simd: bool
    native: Measurement
    wasm: Measurement        # wasmlab's default engine: interruptible (epoch checks in loops)
    wasm_plain: Measurement  # no epoch checks, as `wasmtime run` compiles by default

    @property
    def metric(self) -> str:
        return METRIC[self.program]

    def ratio(self, plain: bool = True) -> float:
        """Wasm speed as a fraction of native speed (0.53 = 53 % of native)."""
        return (self.wasm_plain if plain else self.wasm)[self.metric] / self.native[self.metric]

    def same_result(self) -> bool:
        """Did all three runs compute the same answer (checksum, or a residual at rounding level)?"""
        runs = (self.native, self.wasm, self.wasm_plain)
        if self.program == "matmul":
            return len({r["checksum"] for r in runs}) == 1
        return all(r["max_error"] < 1e-9 for r in runs)

    def row(self) -> dict[str, float]:
        return {"native": self.native[self.metric], "wasm (plain)": self.wasm_plain[self.metric],
                "wasm (interruptible)": self.wasm[self.metric]}

    def __repr__(self) -> str:
        label = f"{self.program}{' +SIMD' if self.simd else ''} n={self.args[0]}"
        unit = self.metric.upper()
        return (f"{label}: native {self.native[self.metric]:,.1f} {unit}, "
                f"wasm {self.wasm_plain[self.metric]:,.1f} ({self.ratio():.0%} of native), "
                f"wasm with epoch checks {self.wasm[self.metric]:,.1f} ({self.ratio(plain=False):.0%})")


def compare(name: str, *args: str, simd: bool = False, rounds: int = 3) -> Comparison:
    """Compile ``name`` both ways (cached) and run it natively and as Wasm with the same ``args``.

    The three runs take turns ``rounds`` times and each keeps its fastest round, so a burst of
    load on a shared machine does not decide the ratio.
    """
    native_path = compile_c(name, target="native", simd=simd)
    wasm_path = compile_c(name, target="wasm32-wasi", simd=simd)
    metric = METRIC[name]
    best: dict[str, Measurement] = {}
    for _ in range(max(1, rounds)):
        runs = {"native": run_native(native_path, *args), "wasm": run_wasm(wasm_path, *args),
                "plain": run_wasm(wasm_path, *args, interruptible=False)}
        for key, run in runs.items():
            if key not in best or run[metric] > best[key][metric]:
                best[key] = run
    return Comparison(name, tuple(args), simd, best["native"], best["wasm"], best["plain"])


def startup_costs(repeats: int = 20, components: dict | None = None) -> dict[str, float]:
    """Median seconds to start things, each measured the same number of times in turn:

    ``native process``  spawn the native matmul program (n=1) and wait for it
    ``python process``  spawn ``python -c pass`` (the host's interpreter, for scale)
    ``wasm instance``   instantiate the wasm32-wasi matmul module and run it (n=1)
    and for each ``label: component`` in ``components``: instantiate it (already compiled) and drop it
    """
    import statistics
    import sys

    from wasmlab.runtime.core_modules import load_module

    native = compile_c("matmul", target="native")
    module = load_module(compile_c("matmul", target="wasm32-wasi"))
    module.compiled()
    starters = {
        "native process": lambda: subprocess.run([str(native), "1", "1"], capture_output=True, check=True),
        "python process": lambda: subprocess.run([sys.executable, "-S", "-c", "pass"], capture_output=True,
                                                 check=True),
        "wasm instance": lambda: module.run("1", "1", echo=False),
    }
    for label, component in (components or {}).items():
        component.compiled()
        starters[label] = functools.partial(lambda c: c.instantiate(echo=False).close(), component)
    times: dict[str, list[float]] = {name: [] for name in starters}
    for _ in range(repeats):
        for name, start_one in starters.items():
            start = time.perf_counter()
            start_one()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def bar_chart(values: dict[str, float], *, unit: str, title: str, reference: float | None = None,
              reference_label: str = "", highlight: str | None = None) -> "SVGChart":
    """A small horizontal bar chart (SVG) of named values.

    ``reference`` draws a dashed line at that value (e.g. 100 for "% of native");
    bars whose label starts with ``highlight`` are drawn in a second colour (e.g. the deck's figures).
    """
    return SVGChart(values, unit, title, reference, reference_label, highlight)


class SVGChart(Displayable):
    LABEL_WIDTH, BAR_WIDTH, ROW = 240, 380, 28

    def __init__(self, values: dict[str, float], unit: str, title: str, reference: float | None = None,
                 reference_label: str = "", highlight: str | None = None):
        self.values, self.unit, self.title = values, unit, title
        self.reference, self.reference_label, self.highlight = reference, reference_label, highlight

    def __repr__(self) -> str:
        width = max(map(len, self.values), default=0)
        return "\n".join([self.title] + [f"{k:<{width}}  {v:,.1f} {self.unit}" for k, v in self.values.items()])

    def svg(self) -> str:
        top = max([*self.values.values(), self.reference or 0.0]) or 1.0
        x0, scale = self.LABEL_WIDTH, self.BAR_WIDTH / top
        rows = []
        for i, (label, value) in enumerate(self.values.items()):
            width = scale * value
            y = 30 + i * self.ROW
            colour = "#f0a030" if self.highlight and label.startswith(self.highlight) else "#5b8def"
            rows.append(f'<text x="0" y="{y + 14}" font-size="12" font-family="monospace">{html.escape(label)}</text>'
                        f'<rect x="{x0}" y="{y}" width="{width:.1f}" height="20" fill="{colour}"/>'
                        f'<text x="{x0 + 5 + width:.1f}" y="{y + 14}" font-size="12" font-family="monospace">'
                        f'{value:,.1f} {html.escape(self.unit)}</text>')
        height = 40 + self.ROW * len(self.values)
        if self.reference is not None:
            x = x0 + scale * self.reference
            rows.append(f'<line x1="{x:.1f}" y1="24" x2="{x:.1f}" y2="{height - 10}" stroke="#333" '
                        f'stroke-dasharray="4 3"/><text x="{x + 4:.1f}" y="{height - 2}" font-size="11" '
                        f'font-family="sans-serif">{html.escape(self.reference_label)}</text>')
            height += 6
        return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{x0 + self.BAR_WIDTH + 180}" height="{height}">'
                f'<text x="0" y="16" font-size="14" font-weight="bold" font-family="sans-serif">'
                f'{html.escape(self.title)}</text>{"".join(rows)}</svg>')
