"""A control group per submission: one memory limit and one process limit for all of it.

``RLIMIT_AS`` and ``RLIMIT_NPROC`` are per process (or per user), so four processes of 2 GiB
each pass a 6 GiB limit. A control group counts the whole process tree together, the
RAM-backed folders it writes to (tmpfs pages are charged to the group) included. The
grader, as root, makes one group per submission under ``beth-course/`` and starts the
sandbox inside it (see :mod:`.kernel`); the kernel's OOM killer then stops the submission
when all of it together passes the limit.

cgroup v2 is used where its memory and pids controllers are available, else cgroup v1's
``memory`` and ``pids`` hierarchies. Without either (or not as root) :meth:`Cgroup.create`
returns ``None`` and the grader falls back to :mod:`.watchdog`; the README says what is
enforced where.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

PARENT = "beth-course"


def _mounts() -> list[tuple[str, str, set[str]]]:
    """``(mount point, fs type, options)`` of the cgroup file systems."""
    found = []
    with open("/proc/self/mountinfo") as fh:
        for line in fh:
            pre, _, post = line.partition(" - ")
            fstype, _, options = (post.split() + ["", ""])[:3]
            if fstype in ("cgroup", "cgroup2"):
                found.append((pre.split()[4], fstype, set(options.split(","))))
    return found


def _write(path: Path, value: str) -> None:
    with open(path, "w") as fh:
        fh.write(value)


def _v2_root() -> Path | None:
    for point, fstype, _ in _mounts():
        if fstype == "cgroup2":
            controllers = Path(point, "cgroup.controllers")
            if controllers.exists() and {"memory", "pids"} <= set(controllers.read_text().split()):
                return Path(point)
    return None


def _v1_roots() -> dict[str, Path]:
    return {
        kind: Path(point)
        for point, fstype, options in _mounts()
        for kind in ("memory", "pids", "cpu")
        if fstype == "cgroup" and kind in options
    }


_PERIOD = 100_000  # microseconds


@dataclass
class Cgroup:
    """One submission's group(s): a single v2 group, or a v1 memory group and pids group."""

    version: int
    memory_dir: Path
    pids_dir: Path
    cpu_dir: Path | None = None

    @classmethod
    def create(cls, memory: int, processes: int, cpus: float = 0) -> Cgroup | None:
        """A new group with these limits (``cpus``: CPU time per wall second, 0 for no cap),
        or ``None`` where this machine cannot make one."""
        if os.geteuid() != 0:
            return None
        name = f"s-{uuid.uuid4().hex[:12]}"
        try:
            root = _v2_root()
            if root is not None:
                return cls._create_v2(root, name, memory, processes, cpus)
            roots = _v1_roots()
            if {"memory", "pids"} <= set(roots):
                return cls._create_v1(roots, name, memory, processes, cpus)
        except OSError:  # read-only, or not delegated to us: use the fallback
            return None
        return None

    @classmethod
    def _create_v2(cls, root: Path, name: str, memory: int, processes: int, cpus: float) -> Cgroup:
        parent = root / PARENT
        parent.mkdir(exist_ok=True)
        wanted = "+memory +pids" + (
            " +cpu" if "cpu" in (root / "cgroup.controllers").read_text().split() else ""
        )
        _write(root / "cgroup.subtree_control", wanted)
        _write(parent / "cgroup.subtree_control", wanted)
        group = parent / name
        group.mkdir()
        _write(group / "memory.max", str(memory))
        if (group / "memory.swap.max").exists():
            _write(group / "memory.swap.max", "0")
        _write(group / "pids.max", str(processes))
        if cpus and (group / "cpu.max").exists():
            _write(group / "cpu.max", f"{int(cpus * _PERIOD)} {_PERIOD}")
        return cls(2, group, group, group)

    @classmethod
    def _create_v1(
        cls, roots: dict[str, Path], name: str, memory: int, processes: int, cpus: float
    ) -> Cgroup:
        mem = roots["memory"] / PARENT / name
        pids = roots["pids"] / PARENT / name
        mem.mkdir(parents=True)
        pids.mkdir(parents=True)
        _write(mem / "memory.limit_in_bytes", str(memory))
        if (mem / "memory.memsw.limit_in_bytes").exists():
            _write(mem / "memory.memsw.limit_in_bytes", str(memory))
        _write(pids / "pids.max", str(processes))
        cpu = None
        if cpus and "cpu" in roots:
            cpu = roots["cpu"] / PARENT / name
            cpu.mkdir(parents=True)
            _write(cpu / "cpu.cfs_period_us", str(_PERIOD))
            _write(cpu / "cpu.cfs_quota_us", str(int(cpus * _PERIOD)))
        return cls(1, mem, pids, cpu)

    # ------------------------------------------------------------------------------------
    @property
    def procs_files(self) -> list[str]:
        """The files a process writes its pid into to join (each hierarchy once)."""
        dirs = dict.fromkeys(d for d in (self.memory_dir, self.pids_dir, self.cpu_dir) if d)
        return [str(d / "cgroup.procs") for d in dirs]

    def add(self, pid: int) -> None:
        """Move a running process into the group (a checker forked for this submission)."""
        for procs in self.procs_files:
            _write(Path(procs), str(pid))

    def oom_killed(self) -> bool:
        """Whether the kernel's OOM killer stopped a process of this group."""
        name = "memory.events" if self.version == 2 else "memory.oom_control"
        try:
            lines = (self.memory_dir / name).read_text().splitlines()
        except OSError:
            return False
        counts = dict(line.split() for line in lines if len(line.split()) == 2)
        return int(counts.get("oom_kill", 0)) > 0

    def peak_memory(self) -> int | None:
        name = "memory.peak" if self.version == 2 else "memory.max_usage_in_bytes"
        try:
            return int((self.memory_dir / name).read_text())
        except (OSError, ValueError):
            return None

    def pids(self) -> list[int]:
        pids: set[int] = set()
        for procs in self.procs_files:
            try:
                pids.update(int(p) for p in Path(procs).read_text().split())
            except OSError:
                continue
        return sorted(pids)

    def destroy(self, wait: float = 5.0) -> None:
        """Kill what is left in the group and remove it."""
        deadline = time.monotonic() + wait
        while True:
            left = self.pids()
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    continue
            if not left or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        for folder in dict.fromkeys(d for d in (self.memory_dir, self.pids_dir, self.cpu_dir) if d):
            try:
                folder.rmdir()
            except OSError:  # a process still exiting; the empty group is harmless
                continue
