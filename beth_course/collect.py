"""``beth-course collect``: file downloaded submissions into ``submitted/``.

Instructors get submissions as a folder or a zip: Colab downloads (``Copy of
beth_workshop (1).ipynb``), LMS exports that put the student in the file or folder name,
a folder per student, and any of these nested in folders and zips. :func:`collect` files
each notebook as ``submitted/<student>/beth_workshop/beth_workshop.ipynb`` with nbgrader's
``timestamp.txt`` beside it, and reports every file it did not file and why.

How a file finds its student
----------------------------
Each file's path relative to the intake root (forward slashes; a zip inside the intake
counts as a folder with the zip's name, ``export.zip/jsmith/beth_workshop.ipynb``) is
searched (:func:`re.search`) with an ordered list of regular expressions; the first that
matches wins, and its named group ``student`` is the student id. A pattern may also have a
group ``timestamp`` (digits of a date and time, as in ``2026-11-20-10-00-00``): it dates the
submission. The built-in presets, in order (:data:`PRESETS`):

``blackboard``
    ``beth_workshop_jsmith_attempt_2026-11-20-10-00-00_beth_workshop.ipynb`` -> ``jsmith``,
    dated 2026-11-20 10:00:00 in :attr:`BethCollect.timezone`. A user name holding ``_``
    cannot be told from the assignment title: give a ``--pattern`` for such a class.
``canvas``
    ``smithjohn_12345_67890_beth_workshop.ipynb`` and
    ``smithjohn_LATE_12345_67890_beth_workshop-1.ipynb`` -> ``12345``, the Canvas user id
    (unique, and the ``ID`` column of Canvas's grade import; two students may share
    ``smithjohn``). To key on the name instead:
    ``(?:^|/)(?P<student>[a-z][a-z0-9]*)_(?:LATE_)?\\d+_\\d+_[^/]*\\.ipynb\\Z``.
``moodle``
    ``John Smith_12345_assignsubmission_file_/beth_workshop.ipynb`` (and the flat
    ``John Smith_12345_assignsubmission_file_beth_workshop.ipynb``) -> ``12345``, Moodle's
    participant id (the name holds a space, which is no folder name for nbgrader).
``folder``
    ``jsmith/beth_workshop.ipynb``, ``jsmith/Copy of beth_workshop (1).ipynb`` and nbgrader's
    own ``jsmith/beth_workshop/beth_workshop.ipynb`` -> ``jsmith``: the notebook's folder
    (not a ``.zip``; its parent when the folder is named after the assignment).

The Canvas and Blackboard presets also accept a folder or zip with the LMS name holding
the notebook (a student who uploaded a zip). Override the list with ``patterns`` (the
command line's ``--pattern``) or ``c.BethCollect.patterns`` in ``nbgrader_config.py``.

What is filed
-------------
- Only the assignment's notebook: its file name must be ``beth_workshop.ipynb`` (any case)
  once ``Copy of ``, `` (N)`` and ``-N`` are stripped; text before it (``..._beth_workshop``)
  is accepted only when the student id was read from the file name itself (an LMS prefix).
  Other notebooks and files are listed as ignored. ``__MACOSX/``, ``.DS_Store``, ``._*``,
  ``.ipynb_checkpoints/``, ``Thumbs.db`` and ``desktop.ini`` are skipped silently.
- Student ids must be safe folder names, the whole id matching ``[A-Za-z0-9][A-Za-z0-9_.-]*``
  (so ``eve\\n`` is not one), and not the assignment's name; otherwise the file is listed as
  unmapped. Nothing is guessed.
- A notebook whose student would be read from a folder that also holds other students'
  submissions (``export/beth_workshop.ipynb`` beside ``export/jsmith/...``) is unmapped:
  that folder is the class's, not a student's.
- Two notebooks for one student in the same intake are a conflict: neither is filed.
- Student ids that differ only by case (``ADA``, ``Ada``, ``ada``), in the intake or from a
  student already in ``submitted/``, are an id conflict: none of them is filed, since
  nbgrader would see several students and macOS and Windows one folder.
- A file that is not a gradable notebook (``grading.worker.check_notebook``) is listed as
  invalid; a repairable one is filed as it is (the grader repairs it).
- An existing submission is kept unless ``force``; a replacement is written to a temporary
  file in the same folder and moved into place with :func:`os.replace`.

Timestamps come from the ``timestamp`` group, else the zip entry (its Info-ZIP UTC time if
it has one, else its date and time read in :attr:`BethCollect.timezone`), else the file's
modification time, else the collection time (reported). They are written in UTC.

Hostile input
-------------
Zip entries are read in memory and never extracted. A zip entry with an absolute path or a
``..`` component, a symlink (in a zip or in the folder), two zip entries with the same
name, zips nested deeper than :data:`MAX_ZIP_DEPTH`, more than :data:`MAX_ZIP_ENTRIES`
entries, or more than :data:`MAX_INTAKE_BYTES` of notebooks and zips to decompress make
the whole intake refused (:class:`CollectError`) before anything is written. A notebook
over :data:`MAX_NOTEBOOK_BYTES` is listed as invalid and not read.
"""

from __future__ import annotations

import io
import os
import re
import stat
import struct
import tempfile
import warnings
import zipfile
import zlib
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

from traitlets import List, Unicode
from traitlets.config import Configurable

from .course import ASSIGNMENT, Course, CourseError
from .grading.worker import check_notebook

MAX_NOTEBOOK_BYTES = 50 * 2**20
"""Largest notebook filed (uncompressed); a larger one is listed as invalid."""
MAX_INTAKE_BYTES = 2 * 2**30
"""Most bytes decompressed from zips in one intake (notebooks and nested zips)."""
MAX_ZIP_DEPTH = 3
"""Zips inside the intake zip, nested at most this deep."""
MAX_ZIP_ENTRIES = 100_000
"""Most entries in any one zip."""

SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
"""A safe student id, matched against the whole id (:meth:`re.Pattern.fullmatch`)."""
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f %Z"

_A = re.escape(ASSIGNMENT)
PRESETS: dict[str, str] = {
    "blackboard": (
        r"(?:^|/)[^/]*?_(?P<student>[^/_]+)_attempt_(?P<timestamp>\d{4}(?:-\d\d){5})"
        r"(?:_[^/]*)?(?:/[^/]+)*\.ipynb\Z"
    ),
    "canvas": r"(?:^|/)[a-z][a-z0-9]*_(?:LATE_)?(?P<student>\d+)_\d+_[^/]*(?:/[^/]+)*\.ipynb\Z",
    "moodle": (
        r"(?:^|/)[^/]*_(?P<student>\d+)_assignsubmission_file_(?:[^/]*|/(?:[^/]+/)*[^/]+)\.ipynb\Z"
    ),
    "folder": rf"(?:^|/)(?P<student>[^/]+)(?<!\.zip)(?<!\.ZIP)/(?:{_A}/)?[^/]+\.ipynb\Z",
}
"""The built-in mapping rules, by name, in the order they are tried (module docstring)."""

_JUNK_DIRS = {"__MACOSX", ".ipynb_checkpoints"}
_JUNK_FILES = {".DS_Store", "Thumbs.db", "desktop.ini"}
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # what zip tools write for "no date"
# Reading a zip entry fails with these on corrupt data, encryption (RuntimeError) and
# compression methods Python lacks (NotImplementedError).
_UNREADABLE = (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, NotImplementedError)


class CollectError(CourseError):
    """The intake as a whole cannot be collected (missing, hostile, too large, bad rules)."""


class BethCollect(Configurable):
    """Settings for ``beth-course collect``: ``c.BethCollect.<name>`` in
    ``nbgrader_config.py`` (nbgrader itself ignores this section)."""

    patterns = List(
        Unicode(),
        default_value=list(PRESETS.values()),
        help="Regular expressions, tried in order on each file's path relative to the intake "
        "(forward slashes); the first that matches gives the student id as its group "
        "(?P<student>...), and optionally the date as (?P<timestamp>...).",
    ).tag(config=True)
    timezone = Unicode(
        "",
        help="Time zone (IANA name, e.g. Europe/London) of dates that carry none: LMS file "
        "names and zip entries. Empty: this computer's local time zone.",
    ).tag(config=True)


@dataclass
class CollectReport:
    """What :func:`collect` did with each file of the intake.

    Every file the intake holds, apart from silently skipped junk, is in exactly one of
    ``filed``, ``replaced``, ``kept``, ``conflicts``, ``id_conflicts``, ``unmapped``,
    ``invalid`` and ``ignored``. Paths are relative to the intake root, with forward slashes.
    """

    intake: str = ""
    filed: dict[str, str] = field(default_factory=dict)
    """student -> source path: new submissions written."""
    replaced: dict[str, str] = field(default_factory=dict)
    """student -> source path: written over an existing submission (``force``)."""
    kept: dict[str, str] = field(default_factory=dict)
    """student -> source path: an existing submission was left as it was."""
    changed: list[str] = field(default_factory=list)
    """Students in ``kept`` whose notebook in the intake differs from the one filed."""
    unmapped: dict[str, str] = field(default_factory=dict)
    """source path -> why no student id could be read from it."""
    invalid: dict[str, str] = field(default_factory=dict)
    """source path -> why it is not a gradable notebook (or a readable zip)."""
    conflicts: dict[str, list[str]] = field(default_factory=dict)
    """student -> the source paths of their several notebooks; none was filed."""
    id_conflicts: dict[str, str] = field(default_factory=dict)
    """source path -> why its student id clashes with another (it differs only by case from
    one in the intake or in submitted/); none of the clashing ones was filed."""
    ignored: dict[str, str] = field(default_factory=dict)
    """source path -> why it is not the assignment's notebook."""
    timestamps: dict[str, str] = field(default_factory=dict)
    """student -> the ``timestamp.txt`` written (filed and replaced submissions)."""
    undated: list[str] = field(default_factory=list)
    """Students stamped with the collection time: their file carried no date."""

    @property
    def needs_attention(self) -> bool:
        """Whether some notebook of the assignment was not filed and may need the instructor."""
        return bool(
            self.unmapped or self.invalid or self.conflicts or self.id_conflicts or self.changed
        )

    def lines(self) -> list[str]:
        """A human summary: what was filed, then every file not filed, why, and what to do."""
        out = []
        where = f" from {self.intake}" if self.intake else ""
        out.append(
            f"filed {len(self.filed)} new submission{'s' * (len(self.filed) != 1)}{where}"
            + (": " + ", ".join(self.filed) if self.filed else "")
        )
        if self.replaced:
            out.append(
                f"replaced {len(self.replaced)} existing submission"
                f"{'s' * (len(self.replaced) != 1)} (--force): " + ", ".join(self.replaced)
            )
        for student, source in self.kept.items():
            if student in self.changed:
                out.append(
                    f"kept {student}'s existing submission: {source} differs from it; "
                    "collect again with --force to replace it"
                )
            else:
                out.append(f"kept {student}'s existing submission: {source} is identical")
        for student, sources in self.conflicts.items():
            out.append(
                f"NOT FILED, {len(sources)} notebooks for {student}: " + ", ".join(sources)
                + "; remove all but the one to grade and collect again"
            )
        for source, why in self.id_conflicts.items():
            out.append(f"NOT FILED, {source}: {why}")
        if self.id_conflicts:
            out.append(
                "  give each student one id: rename the folders or files (or map them with "
                "--pattern) so that no two ids differ only by case; nothing is guessed"
            )
        for source, why in self.unmapped.items():
            out.append(f"NOT FILED, no student for {source}: {why}")
        if self.unmapped:
            out.append(
                "  map them with --pattern REGEX (a regular expression on the path shown, "
                "with a group (?P<student>...)), or rename the files or folders"
            )
        for source, why in self.invalid.items():
            out.append(f"NOT FILED, {source}: {why}; ask the student for a fresh download")
        for source, why in self.ignored.items():
            out.append(f"ignored {source}: {why}")
        if self.undated:
            out.append(
                "no date in the file name, zip entry or file; stamped with the collection "
                "time: " + ", ".join(self.undated)
            )
        return out


@dataclass
class _Entry:
    """One file of the intake, not yet read."""

    path: str  # relative to the intake root, forward slashes
    size: int
    read: Callable[[int], bytes]  # read(limit): the bytes, or raise _TooBig past limit
    when: datetime | None  # aware; None when the file carries no date


class _TooBig(Exception):
    pass


class _Budget:
    """Bytes left to decompress from zips in this intake."""

    def __init__(self, limit: int):
        self.left = limit

    def charge(self, n: int, what: str) -> None:
        self.left -= n
        if self.left < 0:
            raise CollectError(
                f"refusing the intake: {what} would decompress to more than "
                f"{MAX_INTAKE_BYTES / 2**30:g} GiB of notebooks and zips (a zip bomb, or not "
                "an export of this assignment); split it or remove what is not a submission"
            )


def student_for(path: str, patterns: list[str] | None = None) -> str | None:
    """The student id the first matching pattern reads from ``path``, unchecked.

    Examples
    --------
    >>> student_for("beth_workshop_jsmith_attempt_2026-11-20-10-00-00_beth_workshop.ipynb")
    'jsmith'
    >>> student_for("smithjohn_LATE_12345_67890_beth_workshop-1.ipynb")
    '12345'
    >>> student_for("export/John Smith_12345_assignsubmission_file_/beth_workshop.ipynb")
    '12345'
    >>> student_for("jsmith/Copy of beth_workshop (1).ipynb")
    'jsmith'
    >>> student_for("Copy of beth_workshop.ipynb") is None
    True
    """
    for regex in _compile(patterns if patterns is not None else list(PRESETS.values())):
        match = regex.search(path)
        if match and match.group("student"):
            return match.group("student")
    return None


def collect(
    course: Course,
    path: Path,
    *,
    force: bool = False,
    patterns: list[str] | None = None,
    now: datetime | None = None,
) -> CollectReport:
    """File the submissions in a folder or zip into ``submitted/`` (module docstring).

    Parameters
    ----------
    course : Course
        The course; only ``submitted/<student>/<assignment>/`` of the students in the
        intake is written.
    path : Path
        A folder, or a zip file, of downloaded submissions. It is only read, never
        changed; zip entries are read in memory, never extracted.
    force : bool
        Replace existing submissions (the default keeps them and says so).
    patterns : list of str, optional
        Regular expressions mapping a path to a student (group ``student``), tried in
        order. Default: ``c.BethCollect.patterns`` from ``nbgrader_config.py``, else
        :data:`PRESETS`.
    now : datetime, optional
        The collection time, used only for files that carry no date (default: now; a
        naive value is read as local time).

    Returns
    -------
    CollectReport
        Where every file went; ``report.lines()`` says it for a person.

    Raises
    ------
    CollectError
        The intake is missing, not a folder or zip, hostile or too large (nothing is
        written then), a pattern is not a usable regular expression, or a write failed
        (submissions filed before it stay; collecting again keeps them).

    Examples
    --------
    >>> report = collect(Course.find(), Path("submissions.zip"))  # doctest: +SKIP
    >>> print("\\n".join(report.lines()))  # doctest: +SKIP
    filed 2 new submissions from submissions.zip: 12345, jsmith
    NOT FILED, no student for Copy of beth_workshop.ipynb: no pattern matches this path ...
      map them with --pattern REGEX (a regular expression on the path shown, with ...
    """
    settings = BethCollect(config=course.config())
    regexes = _compile(patterns if patterns is not None else list(settings.patterns))
    zone = _zone(settings.timezone)
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    intake = Path(path).expanduser()
    if not intake.exists():
        raise CollectError(f"{intake} does not exist: give the folder or .zip of submissions")
    root = intake.resolve()
    submitted = course.folder("submitted").resolve()
    if root.is_dir() and (submitted.is_relative_to(root) or root.is_relative_to(submitted)):
        raise CollectError(
            f"{intake} is or holds the course's own submitted/ folder; collect reads the "
            "downloads, in a folder or zip outside it"
        )
    report = CollectReport(intake=str(path))

    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="beth-collect-") as scratch:
        entries = list(_walk(root, stack, report, zone))
        candidates = _classify(entries, regexes, course, report, zone)
        _refuse_case_clashes(candidates, _existing_students(course), report)
        chosen = {}
        for student, found in sorted(candidates.items()):
            if len(found) > 1:
                report.conflicts[student] = [e.path for e, _ in found]
                continue
            entry, stamp = found[0]
            data = _read_notebook(entry, Path(scratch), report)
            if data is not None:
                chosen[student] = (entry, stamp, data)
        _file(course, chosen, force, now, report)
    return report


# --- reading the intake -------------------------------------------------------------------


def _compile(patterns: list[str]) -> list[re.Pattern]:
    if not patterns:
        raise CollectError("no mapping patterns: give at least one --pattern with (?P<student>...)")
    compiled = []
    for text in patterns:
        try:
            regex = re.compile(text)
        except re.error as exc:
            raise CollectError(f"pattern {text!r} is not a regular expression: {exc}") from None
        if "student" not in regex.groupindex:
            raise CollectError(
                f"pattern {text!r} has no group (?P<student>...) to read the student id from"
            )
        compiled.append(regex)
    return compiled


def _zone(name: str):
    """The tzinfo for naive dates: the named zone, or None for this computer's local zone."""
    if not name:
        return None
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CollectError(
            f"c.BethCollect.timezone = {name!r} is not a time zone; use an IANA name such as "
            "'Europe/London' or 'UTC'"
        ) from None


def _aware(naive: datetime, zone) -> datetime:
    aware = naive.replace(tzinfo=zone) if zone is not None else naive.astimezone()
    return aware.astimezone(timezone.utc)


def _is_junk(path: str) -> bool:
    parts = path.split("/")
    name = parts[-1]
    return (
        any(p in _JUNK_DIRS for p in parts)
        or name in _JUNK_FILES
        or name.startswith("._")
    )


def _walk(root: Path, stack: ExitStack, report: CollectReport, zone) -> Iterator[_Entry]:
    budget = _Budget(MAX_INTAKE_BYTES)
    if root.is_dir():
        yield from _walk_folder(root, stack, report, zone, budget)
        return
    try:
        archive = stack.enter_context(zipfile.ZipFile(root))
    except (zipfile.BadZipFile, OSError) as exc:
        raise CollectError(f"{root} is neither a folder nor a readable .zip file ({exc})") from None
    yield from _walk_zip(archive, "", 0, stack, report, zone, budget)


def _walk_folder(root: Path, stack, report, zone, budget) -> Iterator[_Entry]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in dirnames + filenames:
            if os.path.islink(os.path.join(dirpath, name)):
                rel = Path(dirpath, name).relative_to(root).as_posix()
                raise CollectError(
                    f"refusing the intake: {rel} is a symbolic link (to "
                    f"{os.readlink(os.path.join(dirpath, name))}); collect only reads real "
                    "files, remove the link and collect again"
                )
        for name in sorted(filenames):
            full = Path(dirpath, name)
            rel = full.relative_to(root).as_posix()
            if _is_junk(rel):
                continue
            info = full.lstat()
            if not stat.S_ISREG(info.st_mode):
                report.ignored[rel] = "not a regular file"
                continue
            if name.lower().endswith(".zip"):
                try:
                    archive = stack.enter_context(zipfile.ZipFile(full))
                except (zipfile.BadZipFile, OSError) as exc:
                    report.invalid[rel] = f"not a readable zip file ({exc})"
                    continue
                yield from _walk_zip(archive, rel + "/", 1, stack, report, zone, budget)
                continue
            when = datetime.fromtimestamp(info.st_mtime, timezone.utc)
            yield _Entry(rel, info.st_size, _file_reader(full), when if info.st_mtime > 0 else None)


def _file_reader(path: Path) -> Callable[[int], bytes]:
    def read(limit: int) -> bytes:
        with open(path, "rb") as f:
            data = f.read(limit + 1)
        if len(data) > limit:
            raise _TooBig
        return data

    return read


def _zip_reader(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Callable[[int], bytes]:
    def read(limit: int) -> bytes:
        with archive.open(info) as f:
            data = f.read(limit + 1)
        if len(data) > limit:
            raise _TooBig
        return data

    return read


def _unix_time(extra: bytes) -> int | None:
    """The modification time in an Info-ZIP extended timestamp field (0x5455), if any."""
    i = 0
    while i + 4 <= len(extra):
        kind, size = struct.unpack_from("<HH", extra, i)
        body = extra[i + 4 : i + 4 + size]
        if kind == 0x5455 and len(body) >= 5 and body[0] & 1:
            return struct.unpack_from("<i", body, 1)[0]
        i += 4 + size
    return None


def _zip_time(info: zipfile.ZipInfo, zone) -> datetime | None:
    seconds = _unix_time(info.extra)
    if seconds is not None and seconds > 0:
        return datetime.fromtimestamp(seconds, timezone.utc)
    if tuple(info.date_time) == _ZIP_EPOCH:
        return None
    try:
        return _aware(datetime(*info.date_time), zone)
    except ValueError:
        return None


def _entry_name(info: zipfile.ZipInfo, where: str) -> str:
    """The entry's path with forward slashes, or CollectError if it could escape."""
    name = info.filename.replace("\\", "/")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name) or ".." in parts:
        raise CollectError(
            f"refusing the intake: {where} holds an entry that points outside it "
            f"({info.filename!r}); this is not an LMS export, and nothing was written"
        )
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise CollectError(
            f"refusing the intake: {where} holds a symbolic link ({info.filename!r}); "
            "nothing was written"
        )
    return "/".join(parts) + ("/" if info.is_dir() else "")


def _walk_zip(archive, prefix, depth, stack, report, zone, budget) -> Iterator[_Entry]:
    where = prefix.rstrip("/") or "the zip"
    if depth > MAX_ZIP_DEPTH:
        raise CollectError(
            f"refusing the intake: {where} is a zip nested more than {MAX_ZIP_DEPTH} deep"
        )
    infos = archive.infolist()
    if len(infos) > MAX_ZIP_ENTRIES:
        raise CollectError(
            f"refusing the intake: {where} has {len(infos):,} entries (at most "
            f"{MAX_ZIP_ENTRIES:,})"
        )
    names: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        name = _entry_name(info, where)
        if name in names and not info.is_dir():
            raise CollectError(
                f"refusing the intake: {where} has two entries named {name!r}; tools disagree "
                "on which one a zip like this holds"
            )
        names[name] = info
    to_read = [
        info.file_size
        for name, info in names.items()
        if not info.is_dir()
        and not _is_junk(name)
        and (
            name.lower().endswith(".zip")
            or (name.lower().endswith(".ipynb") and info.file_size <= MAX_NOTEBOOK_BYTES)
        )
    ]
    budget.charge(sum(to_read), where)
    for name, info in sorted(names.items()):
        rel = prefix + name
        if info.is_dir() or _is_junk(rel):
            continue
        if name.lower().endswith(".zip"):
            try:
                data = _zip_reader(archive, info)(info.file_size)  # charged above
                inner = stack.enter_context(zipfile.ZipFile(io.BytesIO(data)))
            except _TooBig:  # zipfile stops at the declared size; this is a second guard
                raise CollectError(f"refusing the intake: {rel} is larger than it says") from None
            except _UNREADABLE as exc:
                report.invalid[rel] = f"not a readable zip file ({exc})"
                continue
            yield from _walk_zip(inner, rel + "/", depth + 1, stack, report, zone, budget)
            continue
        yield _Entry(rel, info.file_size, _zip_reader(archive, info), _zip_time(info, zone))


# --- deciding -----------------------------------------------------------------------------


def _name_regex(notebook: str) -> re.Pattern:
    """A notebook stem that is the assignment's: optional prefix, Colab's and LMSs' marks."""
    return re.compile(
        r"(?:(?P<prefix>.*?)[ _-])??(?:copy[ _]of[ _])*"
        + re.escape(notebook)
        + r"(?:[ _]?\(\d+\)|-\d+)*",
        re.IGNORECASE,
    )


def _parse_stamp(text: str, zone) -> datetime | None:
    digits = "".join(re.findall(r"\d", text))
    formats = {14: "%Y%m%d%H%M%S", 12: "%Y%m%d%H%M"}
    if len(digits) not in formats:
        return None
    try:
        return _aware(datetime.strptime(digits, formats[len(digits)]), zone)
    except ValueError:
        return None


def _classify(entries, regexes, course: Course, report: CollectReport, zone):
    """student -> [(entry, timestamp from the path or None)]; the rest goes into report."""
    name_regex = _name_regex(course.notebook)
    found: list[tuple[str, _Entry, datetime | None, str | None]] = []
    for entry in entries:
        path = entry.path
        base = path.rsplit("/", 1)[-1]
        if not base.lower().endswith(".ipynb"):
            report.ignored[path] = "not a notebook"
            continue
        named = name_regex.fullmatch(base[: -len(".ipynb")])
        if not named:
            report.ignored[path] = f"not the assignment's notebook ({course.notebook}.ipynb)"
            continue
        match = next(
            (m for m in (r.search(path) for r in regexes) if m and m.group("student")), None
        )
        if match is None:
            report.unmapped[path] = (
                f"no pattern matches this path (tried {len(regexes)}); nothing is guessed"
            )
            continue
        student = match.group("student")
        why = _unsafe(student, course)
        if why:
            report.unmapped[path] = f"{student!r} {why}"
            continue
        in_name = match.start("student") >= len(path) - len(base)
        if named.group("prefix") is not None and not in_name:
            report.ignored[path] = (
                f"not the assignment's notebook: {base!r} has {named.group('prefix')!r} before "
                f"{course.notebook}, and no pattern reads the student from the file name (if "
                "that is an LMS's prefix, add a --pattern for it)"
            )
            continue
        stamp = None
        if "timestamp" in match.re.groupindex and match.group("timestamp"):
            stamp = _parse_stamp(match.group("timestamp"), zone)
        end = match.end("student")
        folder = path[: end + 1] if path[end : end + 1] == "/" else None
        found.append((student, entry, stamp, folder))

    candidates: dict[str, list[tuple[_Entry, datetime | None]]] = {}
    for student, entry, stamp, folder in found:
        # A folder that holds other students' submissions is a class's, not this student's
        # (a stray notebook at the top of an export).
        others = sorted(
            {s for s, e, _, _ in found if folder and s != student and e.path.startswith(folder)}
        )
        if others:
            report.unmapped[entry.path] = (
                f"the student would be {student!r}, from the folder {folder}, but that folder "
                f"also holds other students' submissions ({', '.join(others[:3])}"
                f"{', ...' if len(others) > 3 else ''}); nothing is guessed"
            )
            continue
        candidates.setdefault(student, []).append((entry, stamp))
    return candidates


def _existing_students(course: Course) -> set[str]:
    base = course.folder("submitted")
    return {p.name for p in base.iterdir() if p.is_dir()} if base.is_dir() else set()


def _refuse_case_clashes(candidates: dict, existing: set[str], report: CollectReport) -> None:
    """Move students whose ids differ only by case (from each other in this intake, or from a
    student already in submitted/) out of ``candidates`` into ``report.id_conflicts``."""
    by_fold: dict[str, list[str]] = {}
    for student in candidates:
        by_fold.setdefault(student.casefold(), []).append(student)
    clashing: dict[str, str] = {}
    for student in sorted(candidates):
        twins = [s for s in by_fold[student.casefold()] if s != student]
        filed_twins = [e for e in existing if e.casefold() == student.casefold()]
        if twins:
            why = "in this intake"
        elif filed_twins and student not in existing:
            twins, why = filed_twins, "already in submitted/"
        else:
            continue
        others = ", ".join(repr(t) for t in sorted(twins))
        clashing[student] = f"its student id {student!r} differs only by case from {others}, {why}"
    for student, why in clashing.items():
        for entry, _ in candidates.pop(student):
            report.id_conflicts[entry.path] = why


def _unsafe(student: str, course: Course) -> str | None:
    if not SAFE_ID.fullmatch(student):
        return (
            "is not a safe student id: ids start with a letter or digit and hold only "
            "letters, digits, '_', '.' and '-'"
        )
    if student.lower() in (course.assignment.lower(), course.notebook.lower()):
        return "is the assignment's name, not a student's"
    return None


def _read_notebook(entry: _Entry, scratch: Path, report: CollectReport) -> bytes | None:
    """The notebook's bytes if it is gradable, else None with the reason in the report."""
    limit_text = f"{MAX_NOTEBOOK_BYTES / 2**20:g} MB"
    if entry.size > MAX_NOTEBOOK_BYTES:
        report.invalid[entry.path] = f"larger than {limit_text} ({entry.size:,} bytes); not read"
        return None
    try:
        data = entry.read(MAX_NOTEBOOK_BYTES)
    except _TooBig:
        report.invalid[entry.path] = f"larger than {limit_text} once decompressed; not read"
        return None
    except _UNREADABLE as exc:
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


# --- writing ------------------------------------------------------------------------------


def _write_atomic(target: Path, data: bytes) -> None:
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


def _file(course: Course, chosen: dict, force: bool, now: datetime, report: CollectReport) -> None:
    for student, (entry, stamp, data) in sorted(chosen.items()):
        target = course.submitted_notebook(student)
        existed = target.exists()
        if existed and not force:
            report.kept[student] = entry.path
            if target.read_bytes() != data:
                report.changed.append(student)
            continue
        when = stamp or entry.when or now
        text = when.astimezone(timezone.utc).strftime(TIMESTAMP_FORMAT)
        folder = target.parent
        created = [d for d in (folder.parent, folder) if not d.exists()]
        try:
            folder.mkdir(parents=True, exist_ok=True)
            _write_atomic(target, data)
            _write_atomic(folder / "timestamp.txt", (text + "\n").encode())
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
        (report.replaced if existed else report.filed)[student] = entry.path
        report.timestamps[student] = text
        if not (stamp or entry.when):
            report.undated.append(student)
