"""Memory and CPU figures for a process tree, read straight from /proc (Linux)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Dict, Iterable, List, Set

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> List[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # "pid (comm) state ppid pgrp ..."; comm may contain spaces or brackets.
    return raw[raw.rindex(")") + 2:].split()


def tree(root: int) -> Set[int]:
    """The root, every process in its process group, and every descendant."""
    parents: Dict[int, int] = {}
    members: Set[int] = {root}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat(int(entry.name))
        if fields is None:
            continue
        pid, ppid, pgrp = int(entry.name), int(fields[1]), int(fields[2])
        parents[pid] = ppid
        if pgrp == root:
            members.add(pid)
    grew = True
    while grew:
        grew = False
        for pid, ppid in parents.items():
            if ppid in members and pid not in members:
                members.add(pid)
                grew = True
    return members


def _status_kb(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def memory(root: int) -> dict:
    """RSS now (VmRSS) and peak (VmHWM) of the tree, in MiB, with the process count."""
    pids = tree(root)
    return {
        "rss_mib": round(sum(_status_kb(p, "VmRSS") for p in pids) / 1024, 1),
        "peak_rss_mib": round(sum(_status_kb(p, "VmHWM") for p in pids) / 1024, 1),
        "processes": len(pids),
    }


def cpu_seconds(pids: Iterable[int]) -> float:
    """User + system CPU seconds used so far by these processes."""
    ticks = 0
    for pid in pids:
        fields = _stat(pid)
        if fields is not None:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / CLK_TCK


def tree_cpu_seconds(root: int) -> float:
    return cpu_seconds(tree(root))


def system_busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy (all cores) since boot."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, idle, iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


def self_cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system
