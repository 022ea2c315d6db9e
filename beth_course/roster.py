"""``beth-course roster``: students' names and emails, kept in nbgrader's student table.

Students are filed under the id their LMS's download gives them (``beth_course.collect``):
the Canvas user id, Moodle's participant id, the Blackboard user name, or a folder's name.
Their names, emails and LMS ids go into nbgrader's own ``student`` table (``first_name``,
``last_name``, ``email``, ``lms_user_id``), so that formgrader, ``nbgrader export``,
``beth-course report`` and ``beth-course export`` all show them. Two sources:

- the download: ``lms.json``, which collect writes beside each notebook, is read when the
  submission is graded (:func:`record_download`) and fills only what the table lacks;
- a roster CSV exported from the LMS (:func:`import_roster`), which replaces what it gives.

A roster row is matched to a student on an id, never on a name (two students may share
one): on the column holding the id collect files students under, or, for Moodle's
participants list, which has no such id, on an email address the gradebook already holds
for the student. Rows that match no student, students that match no row, and ids given
by several rows are listed; nothing is guessed.

The layouts read, checked against each LMS's own code or help:

Canvas gradebook export (Grades > Export > Export Entire Gradebook)
    ``"Student","ID","SIS User ID","SIS Login ID","Section", <assignments "Title (id)">,
    ...``, or ``"LastName","FirstName","ID",...``; then a ``"    Points Possible"`` row,
    perhaps a ``"Manual Posting"`` row before it (canvas-lms ``lib/gradebook_exporter.rb``).
    ``ID`` is the Canvas user id; ``Student`` is the sortable name, ``"Last, First"``.
Moodle assignment grading worksheet (View all submissions > Download grading worksheet)
    ``"Identifier","Full name","Email address","Status","Grade",...``; ``Identifier`` is
    ``"Participant 12345"``, the same participant id Moodle puts in the download's folder
    names (``mod/assign``: ``col_recordid`` and ``download_submissions`` both use
    ``get_uniqueid_for_user``). The Moodle roster to use.
Moodle participants list (Participants > select all > Download table data as CSV)
    ``"First name","Last name"`` (``"Surname"`` in older versions), ``"Email address"``,
    then identity fields such as ``"ID number"`` (``user/action_redir.php``). It has no
    participant id: rows match students only by an email already known.
Blackboard Grade Centre download (Work Offline > Download)
    ``"Last Name","First Name","Username","Student ID","Last Access","Availability",
    <columns "Name [Total Pts: 10 Score] |123">``; the user name is Blackboard's key for
    students (Blackboard Learn help, "Uploading or Downloading Grade Center Items").

nbgrader keeps a first and a last name. A name given whole (Moodle's ``Full name``, a
download's ``John Smith``) is kept whole as the last name with an empty first name:
splitting it would be a guess (``Maria de la Cruz``). :func:`display_name` shows names as
formgrader does, ``"Last, First"``.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from .course import Course, CourseError
from .lms_csv import Table, read_table
from .wording import count

log = logging.getLogger(__name__)

LMS_JSON = "lms.json"  # written by beth_course.collect.filing beside each notebook


@dataclass(frozen=True)
class Person:
    """What a roster row or a download says about one student ("" where it says nothing)."""

    first_name: str = ""
    last_name: str = ""
    email: str = ""
    lms_user_id: str = ""

    def fields(self) -> dict[str, str]:
        """The non-empty fields, as nbgrader's ``Student`` names them; a name is written
        whole (first and last together), so an old first name never stays beside a new
        last name."""
        out = {k: v for k, v in (("email", self.email), ("lms_user_id", self.lms_user_id)) if v}
        if self.first_name or self.last_name:
            out.update(first_name=self.first_name, last_name=self.last_name)
        return out


@dataclass(frozen=True)
class Row:
    """One person's row of a roster: the key it is matched on, and what it says."""

    key: str
    person: Person
    label: str
    """How a person recognises the row in a message: ``Smith, Ann (ID 123)``."""


@dataclass(frozen=True)
class Layout:
    """One LMS's roster layout: the headers that identify it and the column matched."""

    name: str
    required: tuple[str, ...]
    key_column: str
    by_email: bool = False
    hint: str = ""
    """What to do about students with no row."""


_CANVAS_HINT = (
    "they were not collected under their Canvas user id (the canvas preset of "
    "collect), or are not enrolled in the exported course sections"
)
LAYOUTS = (
    Layout(
        "Moodle grading worksheet",
        ("Identifier", "Full name"),
        "Identifier",
        hint="they were not collected from this assignment's Moodle download (its "
        "participant ids), or the worksheet is another assignment's",
    ),
    Layout(
        "Moodle participants list",
        ("First name", "Email address"),
        "Email address",
        by_email=True,
        hint="Moodle's participants list has no participant id, so rows match only an "
        "email the gradebook already holds; import the assignment's grading "
        "worksheet instead (View all submissions > Download grading worksheet)",
    ),
    Layout(
        "Blackboard Grade Centre download",
        ("Last Name", "First Name", "Username"),
        "Username",
        hint="they were not collected under their Blackboard user name",
    ),
    Layout("Canvas gradebook export", ("Student", "ID"), "ID", hint=_CANVAS_HINT),
    Layout("Canvas gradebook export", ("LastName", "FirstName", "ID"), "ID", hint=_CANVAS_HINT),
)


def display_name(first: str | None, last: str | None) -> str:
    """A student's name as formgrader shows it, ``"Last, First"``; "" if none is known.

    Examples
    --------
    >>> display_name("Ann", "Smith"), display_name("", "John Smith"), display_name(None, None)
    ('Smith, Ann', 'John Smith', '')
    """
    return ", ".join(part for part in (last or "", first or "") if part)


def layout_of(table: Table) -> Layout:
    """The roster layout ``table``'s header has; CourseError naming them if none."""
    for layout in LAYOUTS:
        if all(name in table.header for name in layout.required):
            return layout
    known = "; ".join(f"{lay.name}: {', '.join(lay.required)}" for lay in LAYOUTS)
    raise CourseError(
        f"{table.source} is not a roster this command reads (its first columns are "
        f"{', '.join(table.header[:5])}); it reads these, by their headers: {known}. "
        "Download the roster from the LMS as CSV and give that file as it is"
    )


# Reading rows -----------------------------------------------------------------------------
_NOT_A_STUDENT = re.compile(r"\s*(?:Muted|Manual Posting.*)?\s*", re.IGNORECASE)
_FORMULA = re.compile(r'="(.*)"')  # Canvas writes a name starting with "=" as ="=..."
_TRAILING_NUMBER = re.compile(r"(\d+)\s*\Z")


def is_canvas_student_row(row: list[str]) -> bool:
    """Whether a row of a Canvas gradebook export is a student's: not the
    ``Points Possible`` row nor a ``Manual Posting``/``Muted`` row (as Canvas's own
    importer tells them apart)."""
    if row and "Points Possible" in row[0]:
        return False
    return not all(_NOT_A_STUDENT.fullmatch(cell) for cell in row)


def canvas_name(table: Table, row: list[str]) -> tuple[str, str]:
    """``(first, last)`` from a Canvas row: its ``LastName``/``FirstName`` columns, or
    its ``Student`` column ``"Last, First"`` (whole as the last name without a comma)."""
    if table.index("Student") is None:
        return table.cell(row, "FirstName"), table.cell(row, "LastName")
    name = table.cell(row, "Student")
    quoted = _FORMULA.fullmatch(name)
    name = quoted.group(1) if quoted else name
    last, comma, first = name.partition(", ")
    return (first.strip(), last.strip()) if comma else ("", name)


def _canvas_row(table: Table, row: list[str]) -> Row | None:
    if not is_canvas_student_row(row):
        return None
    key = table.cell(row, "ID")
    first, last = canvas_name(table, row)
    return Row(key, Person(first, last, "", key), f"{display_name(first, last)} (ID {key})")


def _moodle_worksheet_row(table: Table, row: list[str]) -> Row:
    ident = table.cell(row, "Identifier")
    number = _TRAILING_NUMBER.search(ident)
    key = number.group(1) if number else ""
    name = table.cell(row, "Full name")
    email = table.cell(row, "Email address")
    return Row(key, Person("", name, email, key), f"{name} ({ident})")


def _moodle_participant_row(table: Table, row: list[str]) -> Row:
    first = table.cell(row, "First name")
    last = table.cell(row, "Last name") or table.cell(row, "Surname")
    email = table.cell(row, "Email address")
    label = f"{display_name(first, last)} ({email})"
    return Row(email.casefold(), Person(first, last, email), label)


def _blackboard_row(table: Table, row: list[str]) -> Row:
    first, last = table.cell(row, "First Name"), table.cell(row, "Last Name")
    key = table.cell(row, "Username")
    return Row(key, Person(first, last, "", key), f"{display_name(first, last)} ({key})")


def read_roster(path: Path) -> tuple[Layout, list[Row]]:
    """The roster's layout and its people's rows (an LMS's own extra rows left out).

    Raises
    ------
    CourseError
        The file cannot be read or has none of the layouts in the module docstring.
    """
    table = read_table(path)
    layout = layout_of(table)
    reader = {
        "Identifier": _moodle_worksheet_row,
        "Email address": _moodle_participant_row,
        "Username": _blackboard_row,
        "ID": _canvas_row,
    }[layout.key_column]
    rows = [reader(table, row) for row in table.rows]
    return layout, [r for r in rows if r is not None]


# Matching and writing ---------------------------------------------------------------------
@dataclass
class RosterReport:
    """What :func:`import_roster` did with each row, and which students it did not name."""

    source: str
    layout: Layout
    rows: int = 0
    named: dict[str, str] = field(default_factory=dict)
    """student id -> the name written ("" when the row gave an email or LMS id only)."""
    unmatched: list[str] = field(default_factory=list)
    """Rows matching no student here: most often people who submitted nothing."""
    missing: list[str] = field(default_factory=list)
    """Students here that no row matches."""
    clashes: list[str] = field(default_factory=list)
    """Rows not used because their id is ambiguous, and why."""

    @property
    def needs_attention(self) -> bool:
        """Whether some student here was left without a row, or a row was ambiguous."""
        return bool(self.missing or self.clashes)

    def lines(self) -> list[str]:
        """A human summary: what was written, then what was not and what to do."""
        out = [
            f"read {count(self.rows, 'row')} of a {self.layout.name} from {self.source}",
            f"names written for {count(len(self.named), 'student')}"
            + (
                ": "
                + ", ".join(f"{s} ({name or 'no name given'})" for s, name in self.named.items())
                if self.named
                else ""
            ),
        ]
        if self.unmatched:
            out.append(
                f"no student collected here for {count(len(self.unmatched), 'row')} "
                "(left out): " + "; ".join(self.unmatched)
            )
        out += [f"NOT USED, {why}" for why in self.clashes]
        if self.missing:
            out.append(
                f"NOT NAMED, no row of {self.source} for "
                f"{count(len(self.missing), 'student')} here: {', '.join(self.missing)}; "
                f"{self.layout.hint}. Nothing is guessed from names"
            )
        return out


def _students_here(course: Course, gb) -> dict[str, str]:
    """student id -> an email known for them ("" if none): the gradebook's students and
    those collected into ``submitted/`` (their download's email)."""
    known = {s.id: s.email or "" for s in gb.students}
    base = course.folder("submitted")
    for folder in sorted(base.iterdir()) if base.is_dir() else ():
        if folder.is_dir() and not known.get(folder.name):
            said = download_person(course, folder.name)
            known[folder.name] = said.email if said else ""
    return known


def _owners(layout: Layout, students: dict[str, str]) -> dict[str, list[str]]:
    """key -> the students a row with that key would match."""
    if not layout.by_email:
        return {s: [s] for s in students}
    owners: dict[str, list[str]] = {}
    for student, email in students.items():
        if email:
            owners.setdefault(email.casefold(), []).append(student)
    return owners


def match_rows(
    layout: Layout, rows: list[Row], students: dict[str, str], report: RosterReport
) -> dict[str, Row]:
    """student id -> their one row; every other row and student goes into ``report``."""
    by_key: dict[str, list[Row]] = {}
    for row in rows:
        by_key.setdefault(row.key, []).append(row)
    owners, matched, involved = _owners(layout, students), {}, set()
    for key, found in by_key.items():
        labels = "; ".join(r.label for r in found)
        if not key:
            report.unmatched += [f"{r.label}: no {layout.key_column}" for r in found]
        elif len(found) > 1:
            report.clashes.append(f"{len(found)} rows give {layout.key_column} {key!r}: {labels}")
            involved.update(owners.get(key, []))
        elif key not in owners:
            report.unmatched.append(labels)
        elif len(owners[key]) > 1:
            report.clashes.append(
                f"{labels}: that email is known for several students ({', '.join(owners[key])})"
            )
            involved.update(owners[key])
        else:
            matched[owners[key][0]] = found[0]
    report.missing = sorted(s for s in students if s not in matched and s not in involved)
    return matched


def import_roster(course: Course, path: Path) -> RosterReport:
    """Write the names, emails and LMS ids of a roster CSV into nbgrader's student table.

    Parameters
    ----------
    course : Course
        The course; its ``gradebook.db`` must exist (``beth-course release`` makes it).
    path : Path
        A roster as the LMS exports it (module docstring: Canvas, Moodle, Blackboard).
        It is only read.

    Returns
    -------
    RosterReport
        Who was named, and every row and student that could not be matched.

    Raises
    ------
    CourseError
        No gradebook yet, or the file cannot be read as one of the layouts.

    Examples
    --------
    >>> report = import_roster(Course.find(), Path("canvas-gradebook.csv"))  # doctest: +SKIP
    >>> print("\\n".join(report.lines()))  # doctest: +SKIP
    read 3 rows of a Canvas gradebook export from canvas-gradebook.csv
    names written for 2 students: 12345 (Smith, Ann), 23456 (Jones, Bob)
    no student collected here for 1 row (left out): Student, Test (ID 999)
    """
    from nbgrader.api import Gradebook

    if not course.gradebook_path.exists():
        raise CourseError("there is no gradebook yet: run beth-course release first")
    layout, rows = read_roster(path)
    report = RosterReport(source=str(path), layout=layout, rows=len(rows))
    with Gradebook(course.db_url) as gb:
        matched = match_rows(layout, rows, _students_here(course, gb), report)
        for student, row in sorted(matched.items()):
            gb.update_or_create_student(student, **row.person.fields())
            report.named[student] = display_name(row.person.first_name, row.person.last_name)
    return report


# The download's lms.json --------------------------------------------------------------------
def download_person(course: Course, student: str) -> Person | None:
    """What ``submitted/<student>/<assignment>/lms.json`` says about the student, or None
    if there is none (a file that cannot be read is logged and skipped). A "name" equal
    to an id (Blackboard's download names the user name) is no name."""
    path = course.folder("submitted", student) / LMS_JSON
    if not path.is_file():
        return None
    try:
        said = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        log.warning("%s is not readable (%s): %s's name is not taken from it", path, exc, student)
        return None
    if not isinstance(said, dict):
        log.warning("%s holds no object: %s's name is not taken from it", path, student)
        return None
    lms_id = str(said.get("lms_user_id") or "")
    name = str(said.get("name") or "")
    if name.casefold() in (student.casefold(), lms_id.casefold()):
        name = ""
    return Person("", name, str(said.get("email") or ""), lms_id)


def record_download(course: Course, student: str) -> None:
    """Fill ``student``'s blanks in nbgrader's student table from their download's
    ``lms.json``: a roster's names, and anything already there, are kept."""
    from nbgrader.api import Gradebook

    person = download_person(course, student)
    if person is None:
        return
    with Gradebook(course.db_url) as gb:
        record = gb.update_or_create_student(student)
        fields = person.fields()
        if record.first_name or record.last_name:
            fields.pop("first_name", None)
            fields.pop("last_name", None)
        for name, value in fields.items():
            if not getattr(record, name):
                setattr(record, name, value)
        gb.db.commit()
