"""What ``/proc`` says about the processes on this machine: the one scan the grader uses."""

from __future__ import annotations

import os
from dataclasses import dataclass

_PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    uid: int
    rss: int  # bytes


def _read(pid: str) -> Proc | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
        uid = os.stat(f"/proc/{pid}").st_uid
    except OSError:  # gone, or not ours to read
        return None
    # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    fields = stat[stat.rfind(b")") + 2 :].split()
    return Proc(pid=int(pid), ppid=int(fields[1]), uid=uid, rss=int(fields[21]) * _PAGE)


def processes() -> list[Proc]:
    """Every process visible now (processes that vanish while scanning are left out)."""
    found = (_read(entry) for entry in os.listdir("/proc") if entry.isdigit())
    return [p for p in found if p is not None]


def descendants(root: int, procs: list[Proc] | None = None) -> list[Proc]:
    """``root`` and every process below it in the parent tree (as of one scan)."""
    procs = processes() if procs is None else procs
    children: dict[int, list[Proc]] = {}
    for proc in procs:
        children.setdefault(proc.ppid, []).append(proc)
    found = [p for p in procs if p.pid == root]
    queue = [root]
    while queue:
        for child in children.get(queue.pop(), []):
            found.append(child)
            queue.append(child.pid)
    return found


def children(pid: int) -> list[int]:
    """Direct children of ``pid`` (from the kernel's own list, which is cheap)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            return [int(c) for c in fh.read().split()]
    except OSError:
        return []
