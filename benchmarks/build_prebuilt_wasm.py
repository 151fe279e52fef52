"""Rebuild the prebuilt .wasm files wasmlab ships for machines without a wasm32 C compiler.

    python benchmarks/build_prebuilt_wasm.py

Needs Debian's clang, lld, wasi-libc and libclang-rt-14-dev-wasm32.  The sources are
wasmlab/course/programs/*.c; the outputs go next to them with the same flags compile_c uses.
"""

import shutil
from pathlib import Path

from wasmlab.runtime import perf

if __name__ == "__main__":
    if perf.toolchain().wasm is None:
        raise SystemExit("no wasm32-wasi clang here: apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32")
    target_dir = Path(perf.__file__).parents[1] / "course" / "programs"
    for name in perf.PROGRAMS:
        for simd in (False, True):
            built = perf.compile_c(name, target="wasm32-wasi", simd=simd)
            dest = target_dir / f"{name}{'-simd' if simd else ''}.wasm"
            shutil.copyfile(built, dest)
            print(f"wrote {dest} ({dest.stat().st_size} bytes)")
