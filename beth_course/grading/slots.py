"""Concurrent sandbox slots on one machine, held by file locks only this user can touch.

Each grading worker holds a slot while it grades. As root, the slot gives the submission its
own uids (kernel: ``uid_base + i``, checker: ``uid_base + 512 + i``), so that no two
submissions graded at once share a user, and stray processes can be swept by uid.

The lock files live in a folder private to the user running the grader: ``/run/beth-course``
for root (only root can create entries in ``/run``), ``$XDG_RUNTIME_DIR/beth-course`` or
``<tmp>/beth-course-<uid>`` for anyone else. The folder must be a real directory owned by
that user and writable by nobody else, or the grader refuses to use it; lock files are
opened without following links and never truncated. So no other local user can plant a
link that makes root write somewhere, and runs as root and as a normal user never share a
folder.
"""

from __future__ import annotations

import fcntl
import os
import stat
import tempfile
from pathlib import Path

from .procs import processes

CHECKER_UID_OFFSET = 512


class StateDirError(RuntimeError):
    """The grader's private folder exists but is not safe to use."""


def state_dir() -> Path:
    """This user's private folder for grader state (created if missing; checked if not)."""
    if os.geteuid() == 0:
        base = Path("/run") if os.path.isdir("/run") else Path(tempfile.gettempdir())
        path = base / "beth-course"
    else:
        runtime = os.environ.get("XDG_RUNTIME_DIR")
        if runtime and _owned_private(Path(runtime)):
            path = Path(runtime) / "beth-course"
        else:
            path = Path(tempfile.gettempdir()) / f"beth-course-{os.geteuid()}"
    return private_dir(path)


def _owned_private(path: Path) -> bool:
    try:
        info = os.lstat(path)
    except OSError:
        return False
    return (
        stat.S_ISDIR(info.st_mode)
        and info.st_uid == os.geteuid()
        and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    )


def private_dir(path: Path) -> Path:
    """Make ``path`` a folder only this user can write, or refuse one that is not."""
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    if not _owned_private(path):
        raise StateDirError(
            f"{path} is not a folder owned by this user and closed to others (it may be a "
            "link, or another user made it first); the grader will not use it. Remove it, "
            "or set XDG_RUNTIME_DIR to a private folder."
        )
    return path


def _open_lock(path: Path) -> int:
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise StateDirError(f"{path} is not a regular file; remove it")
    return fd


class Slot:
    """One of the concurrent sandbox slots on this machine, held by a file lock."""

    def __init__(self, uid_base: int, max_slots: int = 256):
        lock_dir = private_dir(state_dir() / "slots")
        for index in range(max_slots):
            fd = _open_lock(lock_dir / f"slot-{index}.lock")
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            self.index, self._fd = index, fd
            root = os.geteuid() == 0
            self.uid = uid_base + index if root else os.geteuid()
            self.checker_uid = uid_base + CHECKER_UID_OFFSET + index if root else os.geteuid()
            return
        raise RuntimeError(f"all {max_slots} sandbox slots on this machine are busy")

    def release(self) -> None:
        for uid in {self.uid, self.checker_uid}:
            kill_user_processes(uid)
        os.close(self._fd)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()


def kill_user_processes(uid: int, keep: frozenset[int] | set[int] = frozenset()) -> int:
    """SIGKILL every process of ``uid`` except ``keep``; only for sandbox uids. Returns count."""
    import signal

    if os.geteuid() != 0 or uid == 0:
        return 0
    killed = 0
    for proc in processes():
        if proc.uid == uid and proc.pid not in keep:
            try:
                os.kill(proc.pid, signal.SIGKILL)
                killed += 1
            except ProcessLookupError:
                continue
    return killed
