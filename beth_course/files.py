"""Reading files that someone else may have planted, and writing files all at once.

``read_regular`` opens without following links and reads only regular files, up to a size
(a link, a FIFO or a device in a submission folder is skipped, never followed or opened for
reading, which could block). ``write_atomic`` writes beside the target and renames, so a
failed write leaves what was there.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

MAX_SUBMISSION_FILE = 200 * 2**20


class NotRegular(OSError):
    """The path is a link, a folder or a special file, or is larger than allowed."""


def read_regular(path: Path, limit: int = MAX_SUBMISSION_FILE) -> bytes:
    """The bytes of ``path`` if it is a regular file of at most ``limit`` bytes."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotRegular(f"{path} is not a regular file")
        if info.st_size > limit:
            raise NotRegular(f"{path} is larger than {limit:,} bytes")
        chunks, left = [], limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
        if len(data) > limit:
            raise NotRegular(f"{path} grew past {limit:,} bytes while it was read")
        return data
    finally:
        os.close(fd)


def regular_files(
    folder: Path, skip: tuple[str, ...] = (".ipynb_checkpoints",)
) -> dict[str, bytes]:
    """``{relative path: bytes}`` of the regular files under ``folder``; links (to files
    or folders), special files and files over the size limit are left out."""
    found: dict[str, bytes] = {}
    for parent, dirs, files in os.walk(folder):
        dirs[:] = sorted(
            d for d in dirs if d not in skip and not os.path.islink(os.path.join(parent, d))
        )
        for name in sorted(files):
            path = Path(parent, name)
            try:
                found[path.relative_to(folder).as_posix()] = read_regular(path)
            except (
                NotRegular,
                OSError,
            ):  # a link (ELOOP), a FIFO, too large: not the student's file
                continue
    return found


def write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
