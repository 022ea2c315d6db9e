"""Filing what was mapped: one notebook per student, checked, written whole or not at all."""

from __future__ import annotations

import os
import tempfile
import warnings
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..course import Course
from ..grading.worker import check_notebook
from .dates import stamp_text
from .limits import CollectError, size_text
from .mapping import Claim
from .reading import UNREADABLE, TooBig
from .report import CollectReport


@dataclass(frozen=True)
class Chosen:
    """The one gradable notebook of a student, read."""

    claim: Claim
    data: bytes


def choose(
    claims: dict[str, list[Claim]], limit: int, scratch: Path, report: CollectReport
) -> dict[str, Chosen]:
    """student -> their notebook, for students with exactly one gradable notebook; several
    notebooks are a conflict and an ungradable one is invalid (both reported)."""
    chosen = {}
    for student, found in sorted(claims.items()):
        if len(found) > 1:
            report.conflicts[student] = [c.entry.path for c in found]
            continue
        data = read_notebook(found[0], limit, scratch, report)
        if data is not None:
            chosen[student] = Chosen(found[0], data)
    return chosen


def read_notebook(claim: Claim, limit: int, scratch: Path, report: CollectReport) -> bytes | None:
    """The notebook's bytes if it is gradable, else None with the reason in the report."""
    entry = claim.entry
    if entry.size > limit:
        report.invalid[entry.path] = (
            f"larger than {size_text(limit)} ({entry.size:,} bytes); not read"
        )
        return None
    try:
        data = entry.read(limit)
    except TooBig:
        report.invalid[entry.path] = f"larger than {size_text(limit)} once decompressed; not read"
        return None
    except UNREADABLE as exc:
        report.invalid[entry.path] = f"could not be read ({exc})"
        return None
    probe = scratch / "probe.ipynb"
    probe.write_bytes(data)
    with warnings.catch_warnings():  # nbformat warns while repairing; the reason is enough
        warnings.simplefilter("ignore")
        problem, _repaired = check_notebook(probe)
    if problem:
        report.invalid[entry.path] = problem
        return None
    return data


def write_atomic(target: Path, data: bytes) -> None:
    """Write ``target`` whole or not at all: a temporary file beside it, then os.replace."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def file_all(
    course: Course, chosen: dict[str, Chosen], force: bool, now: datetime, report: CollectReport
) -> None:
    """Write each chosen notebook into ``submitted/`` (existing ones kept unless ``force``)."""
    for student, pick in sorted(chosen.items()):
        target = course.submitted_notebook(student)
        existed = target.exists()
        if existed and not force:
            report.kept[student] = pick.claim.entry.path
            if target.read_bytes() != pick.data:
                report.changed.append(student)
            continue
        when = pick.claim.when
        text = stamp_text(when or now)
        _file_one(course, target, pick.data, text, existed, report)
        (report.replaced if existed else report.filed)[student] = pick.claim.entry.path
        report.timestamps[student] = text
        if when is None:
            report.undated.append(student)


def _file_one(
    course: Course, target: Path, data: bytes, stamp: str, existed: bool, report: CollectReport
) -> None:
    """Write one notebook and its timestamp.txt; on failure undo what this call created."""
    folder = target.parent
    created = [d for d in (folder.parent, folder) if not d.exists()]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        write_atomic(target, data)
        write_atomic(folder / "timestamp.txt", (stamp + "\n").encode())
    except OSError as exc:
        if not existed:
            with suppress(OSError):
                target.unlink()
        for d in reversed(created):
            with suppress(OSError):
                d.rmdir()
        done = ", ".join([*report.filed, *report.replaced]) or "none"
        raise CollectError(
            f"could not write {target.relative_to(course.root)} ({exc.strerror or exc}); "
            f"filed before this: {done}. Fix the cause and collect again: what is filed "
            "is kept, and nothing was half-written"
        ) from exc
