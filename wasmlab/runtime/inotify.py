"""Which files a run touched in its granted directories, from Linux inotify (no polling).

wasmtime does the guest's file I/O inside this process, so the kernel reports every open,
read, write, create, delete and rename below a watched directory as it happens.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import struct
import sys

__all__ = ["FileWatch", "available"]

_IN_ACCESS = 0x001
_IN_MODIFY = 0x002
_IN_CLOSE_WRITE = 0x008
_IN_OPEN = 0x020
_IN_MOVED_FROM = 0x040
_IN_MOVED_TO = 0x080
_IN_CREATE = 0x100
_IN_DELETE = 0x200
_IN_ISDIR = 0x40000000
_IN_NONBLOCK = 0o4000
_IN_CLOEXEC = 0o2000000
_MASK = (_IN_ACCESS | _IN_MODIFY | _IN_CLOSE_WRITE | _IN_OPEN | _IN_MOVED_FROM | _IN_MOVED_TO
         | _IN_CREATE | _IN_DELETE)
_MAX_DIRS = 2000  # a huge tree is watched only near its top

_ACTIONS = [
    (_IN_CREATE, "created"), (_IN_DELETE, "deleted"), (_IN_MOVED_FROM, "renamed"), (_IN_MOVED_TO, "renamed"),
    (_IN_MODIFY | _IN_CLOSE_WRITE, "wrote"), (_IN_ACCESS, "read"),
]


def _libc():
    if not sys.platform.startswith("linux"):
        return None
    lib = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    lib.inotify_add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
    return lib


_LIBC = _libc()


def available() -> bool:
    return _LIBC is not None


class FileWatch:
    """Watches host directories; ``drain()`` returns ``{guest path: {actions}}`` seen so far.

    ``roots`` maps a host directory to the guest path it is granted at.
    """

    def __init__(self, roots: dict[str, str]):
        self._fd = -1
        self._dirs: dict[int, tuple[str, str]] = {}  # watch descriptor -> (host dir, guest dir)
        if _LIBC is None or not roots:
            return
        self._fd = _LIBC.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC)
        if self._fd < 0:
            return
        for host, guest in roots.items():
            self._watch_tree(host, guest)
        self.drain()  # the walk above opened the subfolders: those events are ours, not the guest's

    def _watch_tree(self, host: str, guest: str) -> None:
        for current, dirs, _files in os.walk(host):
            if len(self._dirs) >= _MAX_DIRS:
                return
            rel = os.path.relpath(current, host)
            guest_dir = guest if rel == "." else f"{guest.rstrip('/')}/{rel}"
            self._add(current, guest_dir)
            dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(current, d))]

    def _add(self, host_dir: str, guest_dir: str) -> None:
        wd = _LIBC.inotify_add_watch(self._fd, os.fsencode(host_dir), _MASK)
        if wd >= 0:
            self._dirs[wd] = (host_dir, guest_dir)

    def drain(self) -> dict[str, set[str]]:
        seen: dict[str, set[str]] = {}
        if self._fd < 0:
            return seen
        while True:
            try:
                data = os.read(self._fd, 65536)
            except BlockingIOError:
                break
            if not data:
                break
            offset = 0
            while offset + 16 <= len(data):
                wd, mask, _cookie, length = struct.unpack_from("iIII", data, offset)
                name = data[offset + 16: offset + 16 + length].rstrip(b"\0").decode("utf-8", "replace")
                offset += 16 + length
                if wd not in self._dirs:
                    continue
                host_dir, guest_dir = self._dirs[wd]
                path = f"{guest_dir.rstrip('/')}/{name}" if name else guest_dir
                action = "listed" if (mask & _IN_ISDIR and not name and mask & (_IN_OPEN | _IN_ACCESS)) else \
                    next((a for bits, a in _ACTIONS if mask & bits), None)
                if action is None:
                    continue
                seen.setdefault(path, set()).add(action)
                if mask & _IN_CREATE and mask & _IN_ISDIR:
                    self._add(os.path.join(host_dir, name), path)
        return seen

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __del__(self):
        self.close()
