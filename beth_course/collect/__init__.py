"""``beth-course collect``: file downloaded submissions into ``submitted/``.

Instructors get submissions as a folder or a zip: Colab downloads (``Copy of
beth_workshop (1).ipynb``), LMS exports that put the student in the file or folder name,
a folder per student, and any of these nested in folders and zips. :func:`collect` files
each notebook as ``submitted/<student>/beth_workshop/beth_workshop.ipynb`` with nbgrader's
``timestamp.txt`` and an ``lms.json`` beside it, and reports every file it did not file
and why.

Uploads: what the class's is, and what a student's
---------------------------------------------------
The intake is the class's: the instructor's folder or the LMS's zip. So is a zip at its
top that no pattern names for a student (an LMS download put in a folder), and a zip's one
folder when it holds several folders and no LMS names it for a student
(``Submissions/jsmith/...``, what zipping a class folder makes). Each item at the top of
these is a student's *upload*: an LMS-named file, folder or zip, or a student's folder.
Everything inside an upload is the student's to name and date, so no preset reads a
student id, and nothing reads a date or an LMS mark, from inside one.

How a file finds its student
----------------------------
An ordered list of rules is tried on each file; the first that matches gives the student
id (its group ``student``). A rule is a preset's name or a regular expression.

- A *preset* (:data:`PRESETS`) is matched against the path from the upload down and reads
  the student from the upload's own name.
- A *regular expression* of yours is searched (:func:`re.search`) in the whole path
  relative to the intake (forward slashes; a zip counts as a folder with the zip's name,
  ``export.zip/jsmith/beth_workshop.ipynb``), and may read the student from anywhere in it:
  anchor it at the upload, as the presets are, when students could choose names below.

A group ``timestamp`` (the digits of a date and time, as in ``2026-11-20-10-00-00``) dates
the submission when it lies in the upload's own name. The presets, in order:

``blackboard``
    ``beth_workshop_jsmith_attempt_2026-11-20-10-00-00_beth_workshop.ipynb`` -> ``jsmith``,
    dated 2026-11-20 10:00:00 in :attr:`BethCollect.timezone`. A user name holding ``_``
    cannot be told from the assignment title: give a ``--pattern`` for such a class.
``canvas``
    ``smithjohn_12345_67890_beth_workshop.ipynb`` and
    ``smithjohn_LATE_12345_67890_beth_workshop-1.ipynb`` -> ``12345``, the Canvas user id
    (unique, and the ``ID`` column of Canvas's grade import; two students may share
    ``smithjohn``). To key on the name instead:
    ``^(?P<student>[a-z][a-z0-9]*)_(?:LATE_)?\\d+_\\d+_[^/]*\\.ipynb\\Z``.
``moodle``
    ``John Smith_12345_assignsubmission_file_/beth_workshop.ipynb`` (and the flat
    ``John Smith_12345_assignsubmission_file_beth_workshop.ipynb``) -> ``12345``, Moodle's
    participant id (the name holds a space, which is no folder name for nbgrader).
``folder``
    ``jsmith/beth_workshop.ipynb``, ``jsmith/Copy of beth_workshop (1).ipynb``, nbgrader's
    own ``jsmith/beth_workshop/beth_workshop.ipynb`` and ``carol/week3/upload/...`` ->
    the student's folder at the top (never a folder inside it, nor a ``.zip``).

The Canvas and Blackboard presets also accept a folder or zip with the LMS name holding
the notebook (a student who uploaded a zip). Override the list with ``patterns`` (the
command line's ``--pattern``, which also takes a preset's name) or
``c.BethCollect.patterns`` in ``nbgrader_config.py``.

What is filed
-------------
- Only the assignment's notebook: its file name must be ``beth_workshop.ipynb`` (any case)
  once ``Copy of ``, `` (N)`` and ``-N`` are stripped; text before it (``..._beth_workshop``)
  is accepted only when the student id was read from the file name itself (an LMS prefix).
  Other notebooks and files are listed as ignored. ``__MACOSX/``, ``.DS_Store``, ``._*``,
  ``.ipynb_checkpoints/``, ``Thumbs.db`` and ``desktop.ini`` are skipped silently.
- Student ids must be safe folder names, the whole id matching ``[A-Za-z0-9][A-Za-z0-9_.-]*``
  (so ``eve\\n`` is not one), and not the assignment's name; otherwise the file is listed as
  unmapped. A person's name becomes one (``Priya Patel`` -> ``priya_patel``, ``José`` ->
  ``jose``) and an email address its local part; the name or address is kept in
  ``lms.json``. Nothing else is guessed.
- A notebook whose student a pattern would read from a folder that also holds other
  students' submissions (``export/beth_workshop.ipynb`` beside ``export/jsmith/...``) is
  unmapped: that folder is the class's, not a student's.
- Two notebooks for one student in the same intake are a conflict: neither is filed.
- Student ids that differ only by case (``ADA``, ``Ada``, ``ada``), in the intake or from a
  student already in ``submitted/``, are an id conflict: none of them is filed, since
  nbgrader would see several students and macOS and Windows one folder. So is one id made
  from several names (``Priya Patel/`` and ``priya_patel/``).
- A file that is not a gradable notebook (``grading.worker.check_notebook``) is listed as
  invalid; a repairable one is filed as it is (the grader repairs it).
- An existing submission is kept unless ``force``. The notebook, ``timestamp.txt`` and
  ``lms.json`` are each written to a temporary file in the same folder first, then all
  moved into place with :func:`os.replace`: a failed write leaves what was there.
- ``lms.json`` says what the download says about the student (``{"name", "email",
  "lms_user_id", "late_marker", "time_source"}``, null where it says nothing), read from
  the upload's name by the groups ``name``, ``email``, ``lms_user_id`` and ``late`` of the
  rule that matched; :attr:`CollectReport.submissions` returns the same.

Timestamps never come from inside a student's upload. They come from the LMS's date in the
upload's name (the ``timestamp`` group), else the date the class container records for the
upload: the LMS zip's entry (its Info-ZIP UTC time if it has one, else its date and time
read in :attr:`BethCollect.timezone`) or, in a folder, the file's modification time; else
the collection time (reported). They are written in UTC. A folder's modification times are
only as trustworthy as the folder: an unzipped LMS export keeps the LMS's dates, but a
folder students could write to does not (collect the LMS's zip itself where you can).

Hostile input
-------------
Zip entries are read in memory and never extracted; files in a folder are opened only if
they are regular files (never through a link, never a FIFO). A zip entry with an absolute
path or a ``..`` component, a symlink (in a zip or in the folder), two zip entries with the
same name, zips nested deeper than ``c.BethCollect.max_zip_depth`` (default
:data:`MAX_ZIP_DEPTH`, 3), a zip of more than ``max_zip_entries`` entries (100,000), or
more than ``max_intake_bytes`` (2 GiB) of notebooks and zips to decompress make the whole
intake refused (:class:`CollectError`) before anything is written. A notebook over
``max_notebook_bytes`` (50 MB) is listed as invalid and not read.

Layout
------
``reading`` walks folders and zips (the extractor); ``uploads`` finds each student's upload
in them, ``mapping`` maps paths to students with the presets and patterns, and ``ids``
checks the ids (together, the collector); ``filing`` checks and writes the notebooks;
``report`` says what happened; ``dates`` and ``limits`` hold what they share.
"""

from __future__ import annotations

from contextlib import ExitStack
from datetime import datetime, timezone
from pathlib import Path

from traitlets import Int, List, Unicode
from traitlets.config import Configurable

from ..course import Course
from .dates import TIMESTAMP_FORMAT, zone
from .filing import choose, file_all
from .ids import SAFE_ID, refuse_id_clashes
from .limits import (
    MAX_INTAKE_BYTES,
    MAX_NOTEBOOK_BYTES,
    MAX_ZIP_DEPTH,
    MAX_ZIP_ENTRIES,
    CollectError,
    Limits,
)
from .mapping import PRESETS, Mapper, compile_rules, student_for
from .reading import Budget, WalkContext, walk
from .report import CollectReport, FiledSubmission

__all__ = [
    "BethCollect",
    "CollectError",
    "CollectReport",
    "FiledSubmission",
    "Limits",
    "PRESETS",
    "SAFE_ID",
    "TIMESTAMP_FORMAT",
    "MAX_INTAKE_BYTES",
    "MAX_NOTEBOOK_BYTES",
    "MAX_ZIP_DEPTH",
    "MAX_ZIP_ENTRIES",
    "collect",
    "student_for",
]


class BethCollect(Configurable):
    """Settings for ``beth-course collect``: ``c.BethCollect.<name>`` in
    ``nbgrader_config.py`` (nbgrader itself ignores this section)."""

    patterns = List(
        Unicode(),
        default_value=list(PRESETS),
        help="Preset names (" + ", ".join(PRESETS) + ") and regular expressions, tried in "
        "order; a regular expression is searched in each file's path relative to the intake "
        "(forward slashes) and gives the student id as its group (?P<student>...), and "
        "optionally the LMS's date of the upload as (?P<timestamp>...).",
    ).tag(config=True)
    timezone = Unicode(
        "",
        help="Time zone (IANA name, e.g. Europe/London) of dates that carry none: LMS file "
        "names and zip entries. Empty: this computer's local time zone.",
    ).tag(config=True)
    max_notebook_bytes = Int(
        MAX_NOTEBOOK_BYTES,
        help="Largest notebook filed, uncompressed; a larger one is "
        "listed as invalid and not read.",
    ).tag(config=True)
    max_intake_bytes = Int(
        MAX_INTAKE_BYTES,
        help="Most bytes decompressed from zips in one intake (notebooks "
        "and nested zips); past it the whole intake is refused.",
    ).tag(config=True)
    max_zip_depth = Int(
        MAX_ZIP_DEPTH, help="Zips inside the intake, nested at most this deep."
    ).tag(config=True)
    max_zip_entries = Int(MAX_ZIP_ENTRIES, help="Most entries in any one zip.").tag(config=True)

    def limits(self) -> Limits:
        """The ``max_*`` settings as one :class:`Limits`."""
        return Limits(
            notebook_bytes=self.max_notebook_bytes,
            intake_bytes=self.max_intake_bytes,
            zip_depth=self.max_zip_depth,
            zip_entries=self.max_zip_entries,
        )


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
        Preset names (:data:`PRESETS`) and regular expressions mapping a path to a
        student (group ``student``), tried in order. Default: ``c.BethCollect.patterns``
        from ``nbgrader_config.py``, else every preset.
    now : datetime, optional
        The collection time, used only for files that carry no date (default: now; a
        naive value is read as local time).

    Returns
    -------
    CollectReport
        Where every file went, and for each submission written what the download says
        about it (``report.submissions``); ``report.lines()`` says it for a person.

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
    rules = compile_rules(patterns if patterns is not None else list(settings.patterns))
    where = zone(settings.timezone)
    now = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    root = _intake_root(course, Path(path).expanduser())
    report = CollectReport(intake=str(path))
    limits = settings.limits()
    with ExitStack() as stack:
        ctx = WalkContext(stack, report, where, limits, Budget(limits.intake_bytes))
        entries = list(walk(root, ctx))
        claims = Mapper(course, rules, where, report).claims(entries)
        refuse_id_clashes(claims, _existing_students(course), report)
        chosen = choose(claims, limits.notebook_bytes, report)
        file_all(course, chosen, force, now, report)
    return report


def _intake_root(course: Course, intake: Path) -> Path:
    """The intake, resolved; CollectError if it is missing or holds submitted/ itself."""
    if not intake.exists():
        raise CollectError(f"{intake} does not exist: give the folder or .zip of submissions")
    root = intake.resolve()
    submitted = course.folder("submitted").resolve()
    if root.is_dir() and (submitted.is_relative_to(root) or root.is_relative_to(submitted)):
        raise CollectError(
            f"{intake} is or holds the course's own submitted/ folder; collect reads the "
            "downloads, in a folder or zip outside it"
        )
    return root


def _existing_students(course: Course) -> set[str]:
    base = course.folder("submitted")
    return {p.name for p in base.iterdir() if p.is_dir()} if base.is_dir() else set()
