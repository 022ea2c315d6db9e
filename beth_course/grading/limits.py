"""The limits a submission is graded under, as the course's ``nbgrader_config.py`` sets them.

:class:`BethSandbox` is the configurable section (``c.BethSandbox.<name>``; nbgrader ignores
it); :class:`Limits` is the plain, picklable copy that travels with each grading task to a
worker process or a Dask worker. What each limit bounds, and how it is enforced where, is
in the README's "Security model".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from traitlets import Float, Integer, Unicode
from traitlets.config import Configurable

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?\s*$", re.IGNORECASE)


def parse_size(text: str | int) -> int:
    """``"4G"`` -> 4294967296; plain integers are bytes."""
    if isinstance(text, int):
        return text
    match = _SIZE.match(str(text))
    if not match:
        raise ValueError(f"not a size: {text!r} (write it as 512M, 4G, ...)")
    number, unit = float(match.group(1)), match.group(2).upper()
    return int(number * 1024 ** " KMGT".index(unit or " "))


class BethSandbox(Configurable):
    """Limits for student code at autograde. Set them in ``nbgrader_config.py`` as
    ``c.BethSandbox.<name>``; nbgrader itself ignores this section."""

    memory_limit = Unicode(
        "6G",
        help="Memory of a whole submission: all its processes together (a cgroup where the "
        "machine has one, else a watchdog), and each process's address space.",
    ).tag(config=True)
    disk_limit = Unicode(
        "1G",
        help="What a submission may write in all: its working folder, /tmp and /var/tmp "
        "share one RAM-backed folder of this size; /dev/shm gets a quarter of it.",
    ).tag(config=True)
    cpu_time_limit = Integer(600, help="CPU seconds per process (RLIMIT_CPU).").tag(config=True)
    cpus = Float(
        1.0,
        help="CPU time a submission may use per second of wall time, all its processes "
        "together (a cgroup quota, as root): one submission cannot starve the others. 0: no cap.",
    ).tag(config=True)
    max_processes = Integer(64, help="Processes per submission.").tag(config=True)
    max_file_size = Unicode("1G", help="Largest file a submission may write (RLIMIT_FSIZE).").tag(
        config=True
    )
    max_cell_output = Unicode(
        "4M", help="Bytes of output one cell may keep; the rest is replaced by a note."
    ).tag(config=True)
    max_notebook_output = Unicode("32M", help="Bytes of output a whole notebook may keep.").tag(
        config=True
    )
    max_message = Unicode(
        "256M",
        help="Largest single message the grader accepts from a kernel (a value sent to the "
        "checker included); a kernel that sends more is disconnected.",
    ).tag(config=True)
    submission_timeout = Integer(
        900, help="Wall-clock seconds for the whole notebook; cells left then are not run."
    ).tag(config=True)
    threads = Integer(
        1, help="Threads each submission may use for numeric work (OMP, BLAS, numba)."
    ).tag(config=True)
    uid_base = Integer(
        61000,
        help="First uid of the sandbox users when grading as root: kernels use uid_base + "
        "slot, checkers uid_base + 512 + slot.",
    ).tag(config=True)


@dataclass(frozen=True)
class Limits:
    """Plain, picklable copy of the settings that travel with each grading task."""

    memory: int
    cpu_seconds: int
    processes: int
    file_size: int
    submission_timeout: int
    threads: int
    uid_base: int
    disk: int = 2**30
    cell_output: int = 4 * 2**20
    notebook_output: int = 32 * 2**20
    message: int = 256 * 2**20
    cpus: float = 1.0

    @classmethod
    def from_config(cls, config) -> Limits:
        s = BethSandbox(config=config)
        return cls(
            memory=parse_size(s.memory_limit),
            cpu_seconds=s.cpu_time_limit,
            processes=s.max_processes,
            file_size=parse_size(s.max_file_size),
            submission_timeout=s.submission_timeout,
            threads=s.threads,
            uid_base=s.uid_base,
            disk=parse_size(s.disk_limit),
            cell_output=parse_size(s.max_cell_output),
            notebook_output=parse_size(s.max_notebook_output),
            message=parse_size(s.max_message),
            cpus=s.cpus,
        )
