"""Filing what was mapped: one notebook per student, checked, written whole or not at all."""

from __future__ import annotations

import json
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
from .report import CollectReport, FiledSubmission

LMS_JSON = "lms.json"
"""The file beside each filed notebook saying what the download says about it."""


@dataclass(frozen=True)
class Chosen:
    """The one gradable notebook of a student, read."""

    claim: Claim
    data: bytes


def choose(claims: dict[str, list[Claim]], limit: int, report: CollectReport) -> dict[str, Chosen]:
    """student -> their notebook, for students with exactly one gradable notebook; several
    notebooks are a conflict and an ungradable one is invalid (both reported)."""
    chosen = {}
    for student, found in sorted(claims.items()):
        if len(found) > 1:
            report.conflicts[student] = [c.entry.path for c in found]
            continue
        data = read_notebook(found[0], limit, report)
        if data is not None:
            chosen[student] = Chosen(found[0], data)
    return chosen


def read_notebook(claim: Claim, limit: int, report: CollectReport) -> bytes | None:
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
    with warnings.catch_warnings():  # nbformat warns while repairing; the reason is enough
        warnings.simplefilter("ignore")
        problem, _repaired = check_notebook(data)
    if problem:
        report.invalid[entry.path] = problem
        return None
    return data


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
        record = submission(student, pick.claim, now)
        _write_folder(course, target.parent, _files(target.name, pick.data, record), report)
        (report.replaced if existed else report.filed)[student] = record.source
        report.timestamps[student] = record.timestamp
        report.submissions[student] = record
        if pick.claim.when is None:
            report.undated.append(student)


def submission(student: str, claim: Claim, now: datetime) -> FiledSubmission:
    """What the download says about ``claim``'s submission (``now``: the collection time)."""
    marks = claim.marks
    return FiledSubmission(
        student=student,
        source=claim.entry.path,
        name=marks.get("name"),
        email=marks.get("email"),
        lms_user_id=marks.get("lms_user_id"),
        late_marker=bool(marks.get("late")),
        timestamp=stamp_text(claim.when or now),
        time_source=claim.time_source,
    )


def _files(notebook: str, data: bytes, record: FiledSubmission) -> dict[str, bytes]:
    return {
        notebook: data,
        "timestamp.txt": (record.timestamp + "\n").encode(),
        LMS_JSON: (json.dumps(record.lms_json(), indent=1, ensure_ascii=False) + "\n").encode(),
    }


def _write_folder(
    course: Course, folder: Path, files: dict[str, bytes], report: CollectReport
) -> None:
    """Write ``files`` into ``folder`` all or none: each to a temporary file beside its
    target first, then all moved into place; on failure undo what this call created."""
    created = [d for d in (folder.parent, folder) if not d.exists()]
    staged: list[tuple[str, Path]] = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            staged.append((_stage(folder / name, data), folder / name))
        for tmp, target in staged:
            os.replace(tmp, target)
    except OSError as exc:
        _undo(staged, created)
        done = ", ".join([*report.filed, *report.replaced]) or "none"
        raise CollectError(
            f"could not write {folder.relative_to(course.root)} ({exc.strerror or exc}); "
            f"filed before this: {done}. Fix the cause and collect again: what is filed "
            "is kept, and nothing was half-written"
        ) from exc


def _stage(target: Path, data: bytes) -> str:
    """A temporary file beside ``target`` holding ``data``, flushed to disk."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return tmp


def _undo(staged: list[tuple[str, Path]], created: list[Path]) -> None:
    """Remove the temporary files left, and the folders this write created with what was
    moved into them (a folder that existed keeps its files)."""
    for tmp, target in staged:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        if created:
            with suppress(FileNotFoundError):
                target.unlink()
    for folder in reversed(created):
        with suppress(OSError):
            folder.rmdir()
