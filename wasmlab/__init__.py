"""wasmlab: learn WebAssembly and compose WebAssembly components in Jupyter."""

from .errors import WasmlabError

__all__ = ["WasmlabError"]
__version__ = "0.1.0"
