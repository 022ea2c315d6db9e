"""Reading an intake safely: a folder or a zip, and zips nested in either.

The extractor half of collect (nbgrader's ``ZipCollectApp`` keeps an extractor apart from
the collector that maps file names to students). :func:`walk` yields every file of the
intake as an :class:`Entry`, read later and only up to a limit; nothing is extracted or
written. Whatever makes the whole intake refused is decided here: links, zip entries that
point outside, duplicate entry names, zips nested too deep, too many entries, too many
bytes to decompress (``beth_course.collect``'s docstring, "Hostile input").
"""

from __future__ import annotations

import io
import os
import re
import stat
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo
from functools import partial
from pathlib import Path
from typing import IO

from .dates import FILE_MTIME, ZIP_ENTRY, zip_time
from .limits import CollectError, Limits, size_text
from .report import CollectReport

JUNK_DIRS = {"__MACOSX", ".ipynb_checkpoints"}
JUNK_FILES = {".DS_Store", "Thumbs.db", "desktop.ini"}
UNREADABLE = (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, NotImplementedError)
"""What reading a zip entry raises on corrupt data, encryption (RuntimeError) and
compression methods Python lacks (NotImplementedError); OSError for files."""


class TooBig(Exception):
    """A file holds more bytes than its reader was allowed to read."""


@dataclass(frozen=True)
class Hop:
    """One container on the way to a file: the intake, or a zip in it.

    For ``in/canvas.zip/smithjohn_1_2_x.zip/beth_workshop.ipynb`` (a folder intake) the
    hops are ``("", "canvas.zip")``, ``("canvas.zip/", "smithjohn_1_2_x.zip")`` and
    ``("canvas.zip/smithjohn_1_2_x.zip/", "beth_workshop.ipynb")``, each with the date its
    container records for that item.
    """

    container: str
    """Where the container's contents start in the intake: ``""`` or ``"canvas.zip/"``."""
    item: str
    """The path inside the container of the file, or of the zip that leads to it."""
    when: datetime | None
    """The date the container records for ``item`` (aware), or None if it records none."""
    source: str
    """How the container records it: :data:`~.dates.ZIP_ENTRY` or :data:`~.dates.FILE_MTIME`."""


@dataclass(frozen=True)
class Entry:
    """One file of the intake, not yet read."""

    path: str
    """Relative to the intake root, forward slashes; a zip counts as a folder."""
    size: int
    """The size the folder or zip declares (a zip may lie; :meth:`read` checks)."""
    opener: Callable[[], IO[bytes]]
    hops: tuple[Hop, ...]
    """The containers from the intake down to the file; ``path`` is their items joined."""

    def read(self, limit: int) -> bytes:
        """The file's bytes; :class:`TooBig` if there are more than ``limit``."""
        return read_capped(self.opener, limit)


def read_capped(opener: Callable[[], IO[bytes]], limit: int) -> bytes:
    """At most ``limit`` bytes from ``opener()``: :class:`TooBig` if there are more."""
    with opener() as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise TooBig
    return data


def open_regular(path: Path) -> IO[bytes]:
    """``path`` opened for reading, if it is a regular file and not a link (no FIFO, device
    or link swapped in after it was listed can block or redirect the read)."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(f"{path.name} is not a regular file")
    return os.fdopen(fd, "rb")


class Budget:
    """Bytes left to decompress from zips in one intake."""

    def __init__(self, limit: int):
        self.limit = limit
        self.left = limit

    def charge(self, n: int, what: str) -> None:
        """Take ``n`` bytes for ``what``; :class:`CollectError` once past the limit."""
        self.left -= n
        if self.left < 0:
            raise CollectError(
                f"refusing the intake: {what} would decompress to more than "
                f"{size_text(self.limit)} of notebooks and zips (a zip bomb, or not an export "
                "of this assignment); split it, remove what is not a submission, or raise "
                "c.BethCollect.max_intake_bytes"
            )


@dataclass
class WalkContext:
    """What every step of one intake's walk shares."""

    stack: ExitStack
    """Keeps open the zips (and their files) the entries read from."""
    report: CollectReport
    """Receives unreadable zips (invalid) and special files (ignored)."""
    zone: tzinfo | None
    limits: Limits
    budget: Budget


@dataclass(frozen=True)
class _Zip:
    """An open zip at some depth of the intake."""

    archive: zipfile.ZipFile
    prefix: str  # the path of its contents in the intake: "" or "section/export.zip/"
    depth: int
    hops: tuple[Hop, ...] = ()  # the hops that lead to it (none for the intake itself)

    @property
    def where(self) -> str:
        return self.prefix.rstrip("/") or "the zip"


def is_junk(path: str) -> bool:
    """Files every zip tool or OS leaves around, skipped silently."""
    parts = path.split("/")
    name = parts[-1]
    return any(p in JUNK_DIRS for p in parts) or name in JUNK_FILES or name.startswith("._")


def walk(root: Path, ctx: WalkContext) -> Iterator[Entry]:
    """Every file of the folder or zip ``root``, zips inside it read as folders."""
    if root.is_dir():
        yield from _walk_folder(root, ctx)
        return
    try:
        archive = _open_zip(root, ctx.stack)
    except (zipfile.BadZipFile, OSError) as exc:
        raise CollectError(f"{root} is neither a folder nor a readable .zip file ({exc})") from None
    yield from _walk_zip(_Zip(archive, "", 0), ctx)


def _open_zip(path: Path, stack: ExitStack) -> zipfile.ZipFile:
    f = stack.enter_context(open_regular(path))
    return stack.enter_context(zipfile.ZipFile(f))


def _walk_folder(root: Path, ctx: WalkContext) -> Iterator[Entry]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in dirnames + filenames:
            _refuse_link(root, Path(dirpath, name))
        for name in sorted(filenames):
            yield from _folder_file(root, Path(dirpath, name), ctx)


def _refuse_link(root: Path, path: Path) -> None:
    if os.path.islink(path):
        raise CollectError(
            f"refusing the intake: {path.relative_to(root).as_posix()} is a symbolic link (to "
            f"{os.readlink(path)}); collect only reads real files, remove the link and "
            "collect again"
        )


def _folder_file(root: Path, full: Path, ctx: WalkContext) -> Iterator[Entry]:
    rel = full.relative_to(root).as_posix()
    if is_junk(rel):
        return
    info = full.lstat()
    if not stat.S_ISREG(info.st_mode):
        ctx.report.ignored[rel] = "not a regular file"
        return
    when = datetime.fromtimestamp(info.st_mtime, timezone.utc) if info.st_mtime > 0 else None
    hop = Hop("", rel, when, FILE_MTIME)
    if rel.lower().endswith(".zip"):
        try:
            archive = _open_zip(full, ctx.stack)
        except (zipfile.BadZipFile, OSError) as exc:
            ctx.report.invalid[rel] = f"not a readable zip file ({exc})"
            return
        yield from _walk_zip(_Zip(archive, rel + "/", 1, (hop,)), ctx)
        return
    yield Entry(rel, info.st_size, partial(open_regular, full), (hop,))


def _walk_zip(z: _Zip, ctx: WalkContext) -> Iterator[Entry]:
    names = _zip_names(z, ctx.limits)
    ctx.budget.charge(_to_decompress(names, ctx.limits), z.where)
    for name, info in sorted(names.items()):
        rel = z.prefix + name
        if info.is_dir() or is_junk(rel):
            continue
        hops = (*z.hops, Hop(z.prefix, name, zip_time(info, ctx.zone), ZIP_ENTRY))
        if name.lower().endswith(".zip"):
            yield from _walk_inner_zip(z, info, hops, ctx)
        else:
            yield Entry(rel, info.file_size, partial(z.archive.open, info), hops)


def _walk_inner_zip(
    z: _Zip, info: zipfile.ZipInfo, hops: tuple[Hop, ...], ctx: WalkContext
) -> Iterator[Entry]:
    rel = z.prefix + hops[-1].item
    try:
        data = read_capped(partial(z.archive.open, info), info.file_size)  # charged already
        inner = ctx.stack.enter_context(zipfile.ZipFile(io.BytesIO(data)))
    except TooBig:  # zipfile stops at the declared size; this is a second guard
        raise CollectError(f"refusing the intake: {rel} is larger than it says") from None
    except UNREADABLE as exc:
        ctx.report.invalid[rel] = f"not a readable zip file ({exc})"
        return
    yield from _walk_zip(_Zip(inner, rel + "/", z.depth + 1, hops), ctx)


def _zip_names(z: _Zip, limits: Limits) -> dict[str, zipfile.ZipInfo]:
    """The zip's entries by safe name; CollectError if the zip is hostile or too large."""
    if z.depth > limits.zip_depth:
        raise CollectError(
            f"refusing the intake: {z.where} is a zip nested more than {limits.zip_depth} deep"
        )
    infos = z.archive.infolist()
    if len(infos) > limits.zip_entries:
        raise CollectError(
            f"refusing the intake: {z.where} has {len(infos):,} entries (at most "
            f"{limits.zip_entries:,})"
        )
    names: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        name = _entry_name(info, z.where)
        if name in names and not info.is_dir():
            raise CollectError(
                f"refusing the intake: {z.where} has two entries named {name!r}; tools disagree "
                "on which one a zip like this holds"
            )
        names[name] = info
    return names


def _to_decompress(names: dict[str, zipfile.ZipInfo], limits: Limits) -> int:
    """Bytes that reading this zip's notebooks and zips will decompress, as declared."""
    return sum(
        info.file_size
        for name, info in names.items()
        if not info.is_dir()
        and not is_junk(name)
        and (
            name.lower().endswith(".zip")
            or (name.lower().endswith(".ipynb") and info.file_size <= limits.notebook_bytes)
        )
    )


def _entry_name(info: zipfile.ZipInfo, where: str) -> str:
    """The entry's path with forward slashes, or CollectError if it could escape."""
    name = info.filename.replace("\\", "/")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if name.startswith("/") or re.match(r"[A-Za-z]:", name) or ".." in parts:
        raise CollectError(
            f"refusing the intake: {where} holds an entry that points outside it "
            f"({info.filename!r}); this is not an LMS export, and nothing was written"
        )
    if stat.S_ISLNK(info.external_attr >> 16):
        raise CollectError(
            f"refusing the intake: {where} holds a symbolic link ({info.filename!r}); "
            "nothing was written"
        )
    return "/".join(parts) + ("/" if info.is_dir() else "")
