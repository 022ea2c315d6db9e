"""Where no control group can be made: bound a submission's memory by watching it.

A thread sums the resident memory of every process in the sandbox's tree (bubblewrap and
all it started) a few times a second and kills the sandbox when the total passes the
limit. Less exact than a cgroup (a burst between two looks can pass the limit briefly, and
RAM-backed files are not counted; those are capped by their size instead), but it bounds
the whole submission, which per-process limits do not.
"""

from __future__ import annotations

import os
import signal
import threading

from .procs import descendants


class MemoryWatchdog:
    """Kill the process tree under ``root_pid`` when its total RSS passes ``limit``."""

    def __init__(self, root_pid: int, limit: int, interval: float = 0.2):
        self.root_pid, self.limit, self.interval = root_pid, limit, interval
        self.fired = False
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="beth-memory-watchdog", daemon=True)

    def start(self) -> MemoryWatchdog:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def check(self) -> bool:
        """One look: kill the tree if it is over the limit; whether it was."""
        tree = descendants(self.root_pid)
        total = sum(p.rss for p in tree)
        self.peak = max(self.peak, total)
        if total <= self.limit:
            return False
        self.fired = True
        for proc in tree:
            try:
                os.kill(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                continue
        return True

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            if self.check():
                return
