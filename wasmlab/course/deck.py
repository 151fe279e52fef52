"""Figures from the seed deck that the notebooks check by measurement (data, not logic)."""

__all__ = ["LINPACK", "HTTP_CLAIM"]

# LINPACK speed in the deck's slide on Wasm vs native, and Denis (2023)'s average slowdown it cites
LINPACK = {"linpack wasmtime mflops": 4692.0, "linpack native mflops": 8813.0, "denis 2023 average slowdown": 2.32}

# wasi:http as the deck counts it: (resources, request handlers) per version
HTTP_CLAIM = {"0.2": (13, 2), "0.3": (4, 1)}
