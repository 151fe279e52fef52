"""Reading what a process holds from /proc (Linux): the memory tests, benchmarks/bench_memory.py and
benchmarks/bench_classroom.py share these."""

from __future__ import annotations

import collections
import re
from pathlib import Path


def rollup(pid: int | str = "self") -> dict[str, float]:
    """``/proc/PID/smaps_rollup`` in MB: ``Pss`` (the process's proportional share), ``Pss_Anon`` (its own
    heaps and Wasm memories), ``Pss_File`` (its share of mapped files, such as compiled code mapped from
    the cache), ``Rss`` ..."""
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        key, _, value = line.partition(":")
        fields[key] = int(value.split()[0]) / 1024
    return fields


def pss_mb(pid: int | str = "self", field: str = "Pss") -> float:
    return rollup(pid).get(field, float("nan"))


def rss_mb(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def by_mapping(pid: int | str = "self") -> list[tuple[str, float, float]]:
    """PSS and anonymous MB per kind of mapping (``[heap]``, ``[anon]``, a library, compiled code mapped
    from wasmlab's cache), largest first."""
    pss: collections.Counter = collections.Counter()
    anon: collections.Counter = collections.Counter()
    name = "[anon]"
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        parts = line.split()
        if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
            path = " ".join(parts[5:]) or "[anon]"
            name = ("compiled code (*.cwasm)" if path.endswith(".cwasm")
                    else Path(path).name if path.startswith("/") else path)
        elif parts[0] == "Pss:":
            pss[name] += int(parts[1]) / 1024
        elif parts[0] == "Anonymous:":
            anon[name] += int(parts[1]) / 1024
    return [(name, pss[name], anon[name]) for name, _ in pss.most_common()]
