"""Making components: the WIT registry and its checks (``wit``), the WASI definitions (``wasi``),
the external tools (``tools``: wasm-tools, componentize-py), the builders (``builders``), the build
cache (``cache``) and its warming by notebooks (``warm``).  Imports only the leaves of wasmlab
(errors, values, wittypes, progress).
"""
