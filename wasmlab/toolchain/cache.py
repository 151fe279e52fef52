"""The on-disk build cache, keyed by a hash of every input of a build.

componentize-py output is not byte-reproducible, so keys never come from outputs: they hash
the sources, the WIT, the world, the tool versions and the flags.  An entry holds the
component and its world (WIT text and the resolved JSON, so inspecting needs no tool call);
the native code wasmtime compiled from it lives beside, one artifact per engine configuration.

wasmtime trusts the bytes it deserializes (a damaged artifact can kill the process with SIGSEGV
or SIGILL), so nothing is used before its SHA-256 matches the one recorded when it was written:

* an entry is a folder ``KEY[:2]/KEY/`` of ``component.wasm``, ``meta.json`` and ``digests.json``,
  written in a scratch folder and renamed into place whole, so a reader sees all of it or nothing
  (a writer killed midway leaves only scratch, which no reader looks at); of two processes
  storing one key, the first rename wins and the second uses its entry;
* compiled code is ``compiled/KEY[:2]/KEY-TAG-DIGEST.cwasm`` named by a sidecar ``KEY-TAG.json``
  that holds its digest; both are written to a scratch file, fsynced and renamed;
* a file whose digest was checked once is not hashed again while its (device, inode, size,
  mtime, ctime) stay the same: that record lives under ``verified/`` of the writable cache.

The cache of the user (``$WASMLAB_CACHE_DIR``) takes every write.  Read-only shared caches
(``$WASMLAB_SHARED_CACHE``, folders separated like ``PATH``, or :func:`set_shared_dirs`) are
searched first and never written: a damaged entry there is skipped, and built again in the
user's own cache.  Digests catch damage, not intent: whoever may write a shared folder decides
whose compiled code its readers run, so a folder anyone can write to is not used at all.
"""

from __future__ import annotations

import errno
import functools
import hashlib
import json
import os
import secrets
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from wasmlab.errors import CacheError

__all__ = ["cache_dir", "shared_dirs", "set_shared_dirs", "writable_dir", "input_key", "CacheEntry",
           "lookup", "store", "clear", "write_atomically", "environment_cache", "find_shared"]

_WASM, _META, _DIGESTS = "component.wasm", "meta.json", "digests.json"
_SCRATCH_PREFIXES = (".tmp-", ".trash-")
_STALE_SCRATCH_SECONDS = 3600  # scratch older than this was left by a killed writer


def cache_dir() -> Path:
    """The user's own, writable cache: ``$WASMLAB_CACHE_DIR``, else ``$XDG_CACHE_HOME/wasmlab``,
    else ``~/.cache/wasmlab``."""
    env = os.environ.get("WASMLAB_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "wasmlab"


_shared_override: list[Path] | None = None


def environment_cache() -> Path:
    """The warm cache an image build leaves inside the Python environment (``binder/postBuild`` fills it),
    where a hub's home-folder mount cannot hide it."""
    return Path(sys.prefix) / "share" / "wasmlab" / "cache"


def shared_dirs() -> list[Path]:
    """Read-only caches searched before :func:`cache_dir`: those given to :func:`set_shared_dirs`,
    else ``$WASMLAB_SHARED_CACHE`` (folders separated by ``os.pathsep``), then
    :func:`environment_cache` when it exists."""
    if _shared_override is not None:
        return list(_shared_override)
    named = [Path(p) for p in os.environ.get("WASMLAB_SHARED_CACHE", "").split(os.pathsep) if p]
    image = environment_cache()
    return named + ([image] if image.is_dir() and image not in named else [])


def set_shared_dirs(paths) -> None:
    """Use these read-only caches (a list of folders); ``None`` goes back to ``$WASMLAB_SHARED_CACHE``.

    >>> set_shared_dirs(["/srv/wasmlab-cache"]); [str(p) for p in shared_dirs()]
    ['/srv/wasmlab-cache']
    >>> set_shared_dirs(None)
    """
    global _shared_override
    _shared_override = None if paths is None else [Path(p) for p in paths]
    _trusted.cache_clear()


def find_shared(relative: str) -> Path | None:
    """``relative`` (a file or folder, such as a tool or a program compiled by the wasmtime command) in
    the first shared cache that has it; None when none has.  Builds use :func:`lookup` instead."""
    for root in _roots()[:-1]:
        candidate = root / relative
        if candidate.exists():
            return candidate
    return None


def _roots() -> list[Path]:
    """Where entries are looked for, in order: the shared caches, then the user's own."""
    own = _own_dir()
    return [d for d in shared_dirs() if d != own and _trusted(str(d))] + [own]


@functools.lru_cache(maxsize=16)
def _trusted(folder: str) -> bool:
    """A shared cache anyone may write to could hand one user's code to another: it is not used.
    (Digests catch damage; who may write the folder decides whose compiled code runs.)"""
    try:
        mode = os.stat(folder).st_mode
    except OSError:
        return False  # not there (yet): nothing to find in it
    if mode & 0o002 and not mode & 0o1000:
        _notice(f"not using the shared cache {folder}: anyone can write to it")
        return False
    return True


def _own_dir() -> Path:
    own = cache_dir()
    if own.exists() and not own.is_dir():
        raise CacheError(f"the build cache {own} is not a folder", hint=_CACHE_HINT)
    return own


_CACHE_HINT = ("point WASMLAB_CACHE_DIR at a folder you can write; a read-only cache shared by "
               "several users goes in WASMLAB_SHARED_CACHE")


def writable_dir() -> Path:
    """The user's cache, created if needed; a clear :class:`CacheError` when it cannot take files."""
    own = _own_dir()
    return _probe_writable(str(own))


@functools.lru_cache(maxsize=8)
def _probe_writable(folder: str) -> Path:
    path = Path(folder)
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".tmp-probe-{os.getpid()}-{secrets.token_hex(4)}"
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
        os.unlink(probe)
    except OSError as exc:
        raise CacheError(f"the build cache {path} is not writable: {exc.strerror or exc}", hint=_CACHE_HINT) from None
    return path


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


class _Damaged(Exception):
    """A cache file that is missing, unreadable or not what its digest says."""


@dataclass
class CacheEntry:
    """A verified entry: the component, its world (``meta``) and its compiled code."""

    key: str
    path: Path
    meta: dict = field(repr=False)
    wasm_sha256: str = field(repr=False, default="")

    @property
    def wasm(self) -> Path:
        return self.path / _WASM

    def load_compiled(self, engine_tag: str, deserialize):
        """``deserialize(path)`` of this entry's verified compiled code for ``engine_tag``, or None.

        A damaged artifact is never handed over: it is discarded (or skipped, in a shared cache)
        with a one-line notice; so is one that wasmtime refuses (compiled for another CPU)."""
        from wasmtime import WasmtimeError

        for root in _roots():
            sidecar = _compiled_sidecar(root, self.key, engine_tag)
            try:
                record = json.loads(sidecar.read_bytes())
                artifact = sidecar.with_name(record["file"])
                if artifact.parent != sidecar.parent or not artifact.name.endswith(".cwasm"):
                    raise _Damaged("its sidecar names another folder")
                if record.get("from") != self.wasm_sha256:
                    continue  # compiled from an earlier build of this key: compiled again, replaced
                _check_file(artifact, record, "the compiled code")
            except FileNotFoundError:
                if sidecar.exists():  # the sidecar is there, its artifact is not
                    _discard_compiled(root, sidecar, "its file is missing")
                continue
            except (OSError, ValueError, KeyError, TypeError, _Damaged) as exc:
                _discard_compiled(root, sidecar, _reason(exc))
                continue
            try:
                return deserialize(artifact)
            except WasmtimeError as exc:
                _discard_compiled(root, sidecar, "wasmtime refused it: " + str(exc).strip().splitlines()[0])
        return None

    def write_compiled(self, engine_tag: str, data: bytes) -> Path | None:
        """Keep compiled code for next time (in the user's cache) and return its file; a cache that
        cannot take it costs a compile next time, not this run (None)."""
        try:
            root = writable_dir()
        except CacheError as err:
            _notice(f"compiled code not kept: {err.message}")
            return None
        sidecar = _compiled_sidecar(root, self.key, engine_tag)
        digest = hashlib.sha256(data).hexdigest()
        artifact = sidecar.with_name(f"{self.key}-{engine_tag}-{digest[:16]}.cwasm")
        sidecar.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(artifact, data)
        record = {"file": artifact.name, "sha256": digest, "size": len(data), "from": self.wasm_sha256}
        write_atomically(sidecar, json.dumps(record).encode())
        _remember_verified(artifact, digest)
        return artifact


def _compiled_sidecar(root: Path, key: str, engine_tag: str) -> Path:
    return root / "compiled" / key[:2] / f"{key}-{engine_tag}.json"


def _entry_path(root: Path, key: str) -> Path:
    return root / key[:2] / key


def lookup(key: str) -> CacheEntry | None:
    """The verified entry of ``key`` from the shared caches or the user's, or None."""
    for root in _roots():
        path = _entry_path(root, key)
        if path.is_dir():
            entry = _open_entry(key, path, root)
            if entry is not None:
                return entry
    return None


def _open_entry(key: str, path: Path, root: Path) -> CacheEntry | None:
    try:
        digests = json.loads((path / _DIGESTS).read_bytes())
        meta_bytes = (path / _META).read_bytes()
        record = digests[_META]
        if len(meta_bytes) != record["size"] or hashlib.sha256(meta_bytes).hexdigest() != record["sha256"]:
            raise _Damaged(f"{_META} does not match its digest")
        _check_file(path / _WASM, digests[_WASM])
        meta = json.loads(meta_bytes)
    except (OSError, ValueError, KeyError, TypeError, _Damaged) as exc:
        _discard_entry(root, path, _reason(exc))
        return None
    return CacheEntry(key, path, meta, digests[_WASM]["sha256"])


def store(key: str, wasm: bytes, meta: dict) -> CacheEntry:
    """Write an entry into the user's cache; of concurrent writers of one key, the first wins
    and the others return its entry."""
    root = writable_dir()
    final = _entry_path(root, key)
    meta_bytes = json.dumps(meta).encode("utf-8")
    digests = {name: {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
               for name, data in ((_WASM, wasm), (_META, meta_bytes))}
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        for folder in [*root.glob("??/"), *root.glob("compiled/??/")]:
            _prune_scratch(folder)
        scratch = _scratch_dir(final.parent, f".tmp-{key[:16]}-")
        try:
            for name, data in ((_WASM, wasm), (_META, meta_bytes), (_DIGESTS, json.dumps(digests).encode())):
                _write_synced(scratch / name, data)
            _fsync(scratch)
            for _ in range(3):
                try:
                    os.rename(scratch, final)
                    break
                except OSError as exc:
                    if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                        raise
                    winner = _open_entry(key, final, root)  # discards it if it is damaged
                    if winner is not None:
                        return winner
            else:
                raise CacheError(f"could not store a build in {final.parent}: it keeps changing")
            _fsync(final.parent)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    except OSError as exc:
        raise CacheError(f"could not store a build in {root}: {exc.strerror or exc}", hint=_CACHE_HINT) from None
    _remember_verified(final / _WASM, digests[_WASM]["sha256"])
    return CacheEntry(key, final, meta, digests[_WASM]["sha256"])


def clear() -> None:
    """Remove every build from the user's cache (shared caches are never written)."""
    shutil.rmtree(cache_dir(), ignore_errors=True)
    _verified.clear()
    _probe_writable.cache_clear()


# ---- damage ---------------------------------------------------------------------------


def _reason(exc: BaseException) -> str:
    if isinstance(exc, _Damaged):
        return str(exc)
    if isinstance(exc, FileNotFoundError):
        return f"{Path(exc.filename).name if exc.filename else 'a file'} is missing"
    if isinstance(exc, (ValueError, KeyError, TypeError)):
        return "its records are unreadable"
    return getattr(exc, "strerror", None) or str(exc)


def _discard_entry(root: Path, path: Path, reason: str) -> None:
    if root != _own_dir():
        _notice(f"skipped a damaged build in the shared cache {root} ({reason}); building it again")
        return
    _notice(f"discarded a damaged cached build ({reason}); building it again")
    try:  # out of sight in one step, then removed
        trash = _scratch_dir(path.parent, ".trash-")
        os.rename(path, trash / path.name)
        shutil.rmtree(trash, ignore_errors=True)
    except OSError:
        pass  # another process discarded it first


def _discard_compiled(root: Path, sidecar: Path, reason: str) -> None:
    if root != _own_dir():
        _notice(f"skipped damaged compiled code in the shared cache {root} ({reason}); compiling again")
        return
    _notice(f"discarded damaged compiled code ({reason}); compiling again")
    try:
        record = json.loads(sidecar.read_bytes())
        name = str(record["file"])
    except (OSError, ValueError, KeyError, TypeError):
        name = None
    for path in (sidecar, sidecar.with_name(name) if name and "/" not in name else None):
        if path is not None:
            try:
                path.unlink()
            except OSError:
                pass


def _notice(text: str) -> None:
    print(f"wasmlab: {text}", file=sys.stderr, flush=True)


# ---- digests, verified once -------------------------------------------------------------

_verified: dict[str, tuple] = {}  # path -> (stat stamp, sha256)


def _stamp(st: os.stat_result) -> list[int]:
    return [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


def _check_file(path: Path, record: dict, what: str | None = None) -> None:
    """Raise :class:`_Damaged` unless the file at ``path`` has the recorded size and SHA-256."""
    expected = record["sha256"]
    what = what or path.name
    st = os.stat(path)
    if st.st_size != record["size"]:
        raise _Damaged(f"{what} is {st.st_size} bytes, not {record['size']}")
    stamp = _stamp(st)
    if _verified.get(str(path)) == (stamp, expected):
        return
    remembered = _verified_record(path)
    try:
        if json.loads(remembered.read_bytes()) == {"stamp": stamp, "sha256": expected}:
            _verified[str(path)] = (stamp, expected)
            return
    except (OSError, ValueError):
        pass
    if _hash_file(path) != expected:
        raise _Damaged(f"{what} does not match its digest")
    _remember_verified(path, expected, st)


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _verified_record(path: Path) -> Path:
    name = hashlib.sha256(os.fsencode(os.path.abspath(path))).hexdigest()[:32]
    return cache_dir() / "verified" / name[:2] / f"{name}.json"


def _remember_verified(path: Path, sha256: str, st: os.stat_result | None = None) -> None:
    """Record that ``path`` as it is now has digest ``sha256`` (best effort: a cache that cannot
    take the record costs a hash next time)."""
    stamp = _stamp(st or os.stat(path))
    _verified[str(path)] = (stamp, sha256)
    try:
        record = _verified_record(path)
        record.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(record, json.dumps({"stamp": stamp, "sha256": sha256}).encode(), sync=False)
    except OSError:
        pass


# ---- writing ------------------------------------------------------------------------------


def _scratch_dir(parent: Path, prefix: str) -> Path:
    path = parent / f"{prefix}{os.getpid()}-{secrets.token_hex(6)}"
    os.mkdir(path, 0o755)
    return path


def _prune_scratch(parent: Path) -> None:
    """Remove scratch that writers killed midway left behind (never another writer's live one)."""
    cutoff = time.time() - _STALE_SCRATCH_SECONDS
    try:
        names = [n for n in os.listdir(parent) if n.startswith(_SCRATCH_PREFIXES)]
    except OSError:
        return
    for name in names:
        path = parent / name
        try:
            if path.lstat().st_mtime < cutoff:
                shutil.rmtree(path) if path.is_dir() else path.unlink()
        except OSError:
            pass


def _write_synced(path: Path, data: bytes, *, sync: bool = True) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        if sync:
            os.fsync(fd)
    finally:
        os.close(fd)


def _fsync(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(path: Path, data: bytes, *, sync: bool = True) -> None:
    """``path`` holds either its old content or all of ``data``, also if the process dies midway
    (its folder is made if needed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".tmp-{path.name}-{os.getpid()}-{secrets.token_hex(4)}")
    try:
        _write_synced(tmp, data, sync=sync)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
