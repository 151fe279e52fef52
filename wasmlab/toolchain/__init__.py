"""Making components: the WIT registry and its checks (``wit``), the WASI definitions (``wasi``),
the external tools (``tools``: wasm-tools, componentize-py), the builders (``builders``) and the build
cache (``cache``).  Imports only the leaves of wasmlab (errors, values, wittypes, progress).
"""
