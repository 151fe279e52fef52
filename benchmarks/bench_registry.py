"""Registry figures, measured side by side in one run against a local docker-registry.

    python benchmarks/bench_registry.py [SIZE_MB]

Pushes a component padded to SIZE_MB (default 8, about a componentize-py build's size; the
first push in a process includes importing the HTTP client), then times: a cold pull by tag
(manifest + blobs over HTTP, digests checked), a pull by tag whose blobs are cached (one
manifest request), and a pull by digest from the cache (no network).
Prints the medians and the ratios.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time

ADDER_WAT = """(component
  (core module $m (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))
  (core instance $i (instantiate $m))
  (func $add (param "a" s32) (param "b" s32) (result s32) (canon lift (core func $i "add")))
  (export "add" (func $add))
)"""


def _median(action, runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        action()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    size_mb = float(sys.argv[1]) if len(sys.argv) > 1 else 8.0
    os.environ["WASMLAB_CACHE_DIR"] = tempfile.mkdtemp(prefix="wasmlab-bench-")
    from wasmlab.course.local_registry import LocalRegistry
    from wasmlab.toolchain import cache, registry
    from wasmlab.wac._package import wat_to_bytes

    # a custom section pads the component to a realistic size without changing what it does
    padding = os.urandom(int(size_mb * 1e6))
    name = b"\x07padding"
    section = name + padding
    wasm = wat_to_bytes(ADDER_WAT) + b"\x00" + _leb128(len(section)) + section

    with LocalRegistry() as local:
        ref = f"oci://{local.host}/bench/adder:1"
        t = time.perf_counter()
        registry.push(wasm[:-1] + b"\0", f"oci://{local.host}/bench/warm:1", imports=[], exports=["add"])
        first_push_s = time.perf_counter() - t  # with importing the client (oras, requests, jsonschema)
        t = time.perf_counter()
        pinned = registry.push(wasm, ref, imports=[], exports=["add"])
        push_s = time.perf_counter() - t
        registry.pull(ref)  # warm the HTTP path (imports, the first connection)

        def cold():
            cache.clear()
            registry.pull(ref)

        cold_s = _median(cold, 5)
        registry.pull(ref)
        tag_cached_s = _median(lambda: registry.pull(ref), 20)
        digest_cached_s = _median(lambda: registry.pull(str(pinned)), 20)

    print(f"component: {len(wasm) / 1e6:.1f} MB; first push in a process {first_push_s * 1e3:.0f} ms, "
          f"then {push_s * 1e3:.0f} ms")
    print(f"cold pull by tag:                {cold_s * 1e3:8.1f} ms")
    print(f"pull by tag, blobs cached:       {tag_cached_s * 1e3:8.1f} ms  ({cold_s / tag_cached_s:.0f}x faster)")
    print(f"pull by digest, from the cache:  {digest_cached_s * 1e3:8.1f} ms  ({cold_s / digest_cached_s:.0f}x faster)")


def _leb128(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


if __name__ == "__main__":
    main()
