"""The on-disk build cache, keyed by a hash of every input of a build.

componentize-py output is not byte-reproducible, so keys never come from outputs: they hash
the sources, the WIT, the world, the tool versions and the flags.  An entry holds the
component, its world (WIT text and the resolved JSON, so inspecting needs no tool call) and
compiled artifacts, one per engine configuration.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["cache_dir", "input_key", "CacheEntry", "lookup", "store", "clear"]


def cache_dir() -> Path:
    """``$WASMLAB_CACHE_DIR``, else ``$XDG_CACHE_HOME/wasmlab``, else ``~/.cache/wasmlab``."""
    env = os.environ.get("WASMLAB_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "wasmlab"


def input_key(**inputs) -> str:
    """A stable hash of named inputs (strings, bytes, numbers, lists and dicts of those)."""
    digest = hashlib.sha256()
    for name in sorted(inputs):
        digest.update(name.encode() + b"=")
        value = inputs[name]
        if isinstance(value, bytes):
            digest.update(b"b" + hashlib.sha256(value).digest())
        else:
            digest.update(json.dumps(value, sort_keys=True, default=str).encode())
        digest.update(b"\0")
    return digest.hexdigest()


@dataclass
class CacheEntry:
    key: str
    path: Path

    @property
    def wasm(self) -> Path:
        return self.path / "component.wasm"

    @property
    def meta(self) -> dict:
        return json.loads((self.path / "meta.json").read_text(encoding="utf-8"))

    def compiled(self, engine_tag: str) -> Path:
        return self.path / f"compiled-{engine_tag}.cwasm"

    def write_compiled(self, engine_tag: str, data: bytes) -> None:
        _atomic_write(self.compiled(engine_tag), data)


def _entry_path(key: str) -> Path:
    return cache_dir() / key[:2] / key


def lookup(key: str) -> CacheEntry | None:
    path = _entry_path(key)
    if (path / "meta.json").is_file() and (path / "component.wasm").is_file():
        return CacheEntry(key, path)
    return None


def store(key: str, wasm: bytes, meta: dict) -> CacheEntry:
    """Write an entry; concurrent writers of the same key both end with a whole entry."""
    path = _entry_path(key)
    path.mkdir(parents=True, exist_ok=True)
    _atomic_write(path / "component.wasm", wasm)
    _atomic_write(path / "meta.json", json.dumps(meta).encode("utf-8"))
    return CacheEntry(key, path)


def clear() -> None:
    """Remove every cached build."""
    shutil.rmtree(cache_dir(), ignore_errors=True)


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
