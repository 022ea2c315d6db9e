"""``beth-course export``: the assignment's grades as a file the LMS's grade import reads.

No nbgrader tool sends grades to an LMS (jupyter/nbgrader#530, open since 2016). The grade
exported is nbgrader's total for the assignment, as ``nbgrader export`` computes it: the
sum of every graded cell's score (a hand grade overrides the automatic one) minus
nbgrader's late penalty, never below 0.

Canvas (``--canvas GRADEBOOK.csv``)
    The instructor exports the gradebook (Grades > Export > Export Entire Gradebook), and
    this assignment's column is filled in a copy: the header, the ``Points Possible`` and
    ``Manual Posting`` rows and every other cell stay as they were, so Canvas's import
    (Grades > Import) sees a change in that column only. The column is the one whose
    title is the assignment's name (Canvas heads it ``"Name (assignment id)"``), or the
    one ``--column`` names exactly. Rows are matched on Canvas's ``ID`` (its user id:
    the id collect files Canvas students under, or the LMS id the gradebook holds for
    them). A column whose ``Points Possible`` differs from the assignment's maximum is
    refused rather than rescaled. Layout: canvas-lms ``lib/gradebook_exporter.rb`` and
    ``lib/gradebook_importer.rb``.
Moodle (``--moodle``)
    A new CSV for Grades > Import > CSV file: ``"Email address","<column>"``. Moodle's
    import identifies users by a column the instructor maps to user id, username, ID
    number or email address (``grade/import/csv``: ``map_user_data_with_value``); the
    participant id collect files Moodle students under is none of these, so the student's
    email is used, which the assignment's grading worksheet gives (``beth-course roster``).

Students who cannot be matched (no Canvas row with their id, no email known) are listed
with what to do, never guessed; LMS rows with no graded submission here are left as they
were and listed. A submission whose grading ended in an error is not exported (regrade it).

Written answers not graded yet: the export is refused, listing them, until they are graded
in formgrader, because an LMS grade that silently counts them as 0 looks final. With
``ungraded_as_zero`` (``--ungraded-as-zero``) the file is written with them counted as 0,
and the students concerned are listed as a warning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .course import Course, CourseError
from .grading.gradebook import statuses
from .lms_csv import Table, read_table, write_table
from .roster import canvas_name, display_name, is_canvas_student_row
from .wording import count

_TITLE_WITH_ID = re.compile(r"(?P<title>.*) \((?P<id>\d+)\)\Z")
_CANVAS_STUDENT_COLUMNS = (
    "Student",
    "LastName",
    "FirstName",
    "ID",
    "SIS User ID",
    "SIS Login ID",
    "Integration ID",
    "Root Account",
    "Section",
)


@dataclass(frozen=True)
class Grade:
    """One graded submission of the assignment, and who it is."""

    student: str
    name: str
    email: str
    lms_id: str
    """The LMS's id for the student: nbgrader's ``lms_user_id``, else the student id."""
    points: float
    pending: bool
    """Some cell still waits for a hand grade."""
    failed: bool
    """Its last grading ended in an error (not the submission's fault)."""

    @property
    def label(self) -> str:
        """The student for a message: ``12345 (Smith, Ann)``."""
        return f"{self.student} ({self.name})" if self.name else self.student


def points_text(points: float) -> str:
    """Points as an LMS reads them: at most two decimals, no trailing zeros.

    Examples
    --------
    >>> points_text(9.0), points_text(8.5), points_text(2 / 3), points_text(0.0)
    ('9', '8.5', '0.67', '0')
    """
    return f"{round(points, 2):.2f}".rstrip("0").rstrip(".")


def _pending(grade) -> bool:
    """Whether a cell's grade is not known yet: waiting for a hand grade, or unscored."""
    return grade.manual_score is None and (grade.needs_manual_grade or grade.auto_score is None)


def assignment_grades(course: Course) -> tuple[list[Grade], float]:
    """Every submission of the assignment in the gradebook with its total, and the
    assignment's maximum; CourseError if there is no gradebook or no such assignment."""
    from nbgrader.api import Gradebook, MissingEntry

    if not course.gradebook_path.exists():
        raise CourseError("there is no gradebook yet: run beth-course release, then autograde")
    failed = {
        s
        for s, row in statuses(course.gradebook_path, course.assignment).items()
        if row["status"] == "error"
    }
    with Gradebook(course.db_url) as gb:
        try:
            assignment = gb.find_assignment(course.assignment)
        except MissingEntry:
            raise CourseError(
                f"the gradebook does not know {course.assignment}: run beth-course release"
            ) from None
        grades = [_grade(sub, sub.student_id in failed) for sub in assignment.submissions]
        return sorted(grades, key=lambda g: g.student), float(assignment.max_score)


def _grade(submission, failed: bool) -> Grade:
    person = submission.student
    pending = any(_pending(g) for nb in submission.notebooks for g in nb.grades)
    points = max(0.0, submission.score - submission.late_submission_penalty)
    return Grade(
        person.id,
        display_name(person.first_name, person.last_name),
        person.email or "",
        person.lms_user_id or person.id,
        points,
        pending,
        failed,
    )


@dataclass
class ExportReport:
    """What :func:`fill_canvas` or :func:`moodle_csv` wrote, and what it could not."""

    lms: str
    output: Path
    column: str
    written: dict[str, float] = field(default_factory=dict)
    """student id -> the points written."""
    unmatched: dict[str, str] = field(default_factory=dict)
    """student label -> why no row or line could carry their grade."""
    left_as_is: list[str] = field(default_factory=list)
    """The LMS's rows with no graded submission here (their cell is as it was)."""
    zeroed: list[str] = field(default_factory=list)
    """Students exported with answers not graded yet counted as 0 (``ungraded_as_zero``)."""
    failed: list[str] = field(default_factory=list)
    """Students not exported because their last grading ended in an error."""
    todo: str = ""
    """What to do about the unmatched students."""
    next_step: str = ""
    """How to import the file into the LMS."""

    @property
    def needs_attention(self) -> bool:
        """Whether a graded student's grade is not in the file."""
        return bool(self.unmatched or self.failed)

    def lines(self) -> list[str]:
        """A human summary: what was written, what was not and what to do, then how to import."""
        out = [
            f"wrote {count(len(self.written), 'grade')} into the column {self.column!r} "
            f"of {self.output}"
        ]
        if self.zeroed:
            out.append(
                "WARNING, written answers not graded yet counted as 0 for: "
                + ", ".join(self.zeroed)
            )
        out += [f"NOT EXPORTED, {who}: {why}" for who, why in self.unmatched.items()]
        if self.unmatched:
            out.append("  " + self.todo + "; nothing is guessed from names")
        if self.failed:
            out.append(
                "NOT EXPORTED, grading ended in an error for: "
                + ", ".join(self.failed)
                + "; regrade them (beth-course autograde --student ID --force)"
            )
        if self.left_as_is:
            out.append(
                f"no graded submission here for {count(len(self.left_as_is), 'row')} "
                "of the LMS's file (their cells left as they were): " + "; ".join(self.left_as_is)
            )
        return out + [f"next: {self.next_step}"]


def exportable(course: Course, ungraded_as_zero: bool) -> tuple[list[Grade], float, list[str]]:
    """``(grades to export, maximum, labels of students whose grading failed)``;
    CourseError listing the submissions with answers not graded yet, unless
    ``ungraded_as_zero``."""
    grades, maximum = assignment_grades(course)
    if not grades:
        raise CourseError("nothing has been graded yet: run beth-course autograde first")
    pending = [g.label for g in grades if g.pending and not g.failed]
    if pending and not ungraded_as_zero:
        raise CourseError(
            f"{count(len(pending), 'submission')} with answers not graded yet: "
            f"{', '.join(pending)}. "
            "Grade them in formgrader and export again, or pass --ungraded-as-zero to export "
            "now with those answers counted as 0"
        )
    failed = [g.label for g in grades if g.failed]
    return [g for g in grades if not g.failed], maximum, failed


def _zeroed(report: ExportReport, grades: list[Grade]) -> ExportReport:
    """``report`` with the students written whose ungraded answers counted as 0."""
    report.zeroed = [g.label for g in grades if g.pending and g.student in report.written]
    return report


# Canvas ---------------------------------------------------------------------------------------
def check_canvas(table: Table) -> None:
    """CourseError unless ``table`` is a Canvas gradebook export (its importer's test)."""
    head = table.header
    if (head[:2] == ["Student", "ID"]) or (head[:3] == ["LastName", "FirstName", "ID"]):
        return
    raise CourseError(
        f"{table.source} is not a Canvas gradebook export (its first columns are "
        f"{', '.join(head[:3])}, not Student, ID): in Canvas, Grades > Export > Export "
        "Entire Gradebook, and give that file as it is"
    )


def canvas_column(table: Table, assignment: str, header: str | None = None) -> int:
    """The position of the assignment's column: the one headed exactly ``header``, else
    the one titled ``assignment`` (``"assignment (id)"``); CourseError listing the
    assignment columns when there is none, or several."""
    titled = [h for h in table.header if _TITLE_WITH_ID.fullmatch(h)]
    if header is not None:
        found = [i for i, h in enumerate(table.header) if h == header]
    else:
        found = [
            i
            for i, h in enumerate(table.header)
            if h == assignment
            or ((m := _TITLE_WITH_ID.fullmatch(h)) is not None and m["title"] == assignment)
        ]
    if len(found) == 1 and table.header[found[0]] in _CANVAS_STUDENT_COLUMNS:
        raise CourseError(
            f"{table.header[found[0]]!r} is a column about the student, not an "
            f"assignment's; its assignment columns: {'; '.join(titled) or 'none'}"
        )
    if len(found) == 1:
        return found[0]
    what = (
        f"a column headed {header!r}"
        if header is not None
        else (f'one column for the assignment {assignment!r} (Canvas heads it "{assignment} (id)")')
    )
    raise CourseError(
        f"{table.source} has {len(found) if len(found) > 1 else 'no'} such column: expected "
        f"{what}. Its assignment columns: {'; '.join(titled) or 'none'}. "
        'Pass --column "exact header" to choose one'
    )


def check_points(table: Table, at: int, maximum: float) -> None:
    """CourseError if the column's ``Points Possible`` says it is read-only, or is a number
    other than the assignment's ``maximum`` (a grade is never rescaled behind your back)."""
    header = table.header[at]
    for row in table.rows:
        if not row or "Points Possible" not in row[0]:
            continue
        value = row[at].strip() if at < len(row) else ""
        if "read only" in value:
            raise CourseError(
                f"the column {header!r} is read-only in Canvas (a total): "
                "choose the assignment's own column with --column"
            )
        try:
            points = float(value.replace(",", "."))
        except ValueError:
            return
        if abs(points - maximum) > 1e-9:
            raise CourseError(
                f"the Canvas column {header!r} is out of {points:g} points and the assignment "
                f"here out of {maximum:g}: set the assignment's points in Canvas to "
                f"{maximum:g}, export the gradebook again, and rerun"
            )


def _by_lms_id(grades: list[Grade], report: ExportReport) -> dict[str, Grade]:
    """lms id -> grade; two students sharing one LMS id are both unmatched."""
    found: dict[str, list[Grade]] = {}
    for grade in grades:
        found.setdefault(grade.lms_id, []).append(grade)
    for key, several in found.items():
        if len(several) > 1:
            for grade in several:
                report.unmatched[grade.label] = f"{len(several)} students here have LMS id {key}"
    return {key: only for key, (only, *more) in found.items() if not more}


def _canvas_label(table: Table, row: list[str]) -> str:
    first, last = canvas_name(table, row)
    return f"{display_name(first, last)} (ID {table.cell(row, 'ID')})"


def fill_canvas(
    course: Course,
    gradebook_csv: Path,
    output: Path,
    *,
    column: str | None = None,
    force: bool = False,
    ungraded_as_zero: bool = False,
) -> ExportReport:
    """Write a copy of a Canvas gradebook export with this assignment's column filled.

    Parameters
    ----------
    course : Course
        The course and assignment whose grades are exported.
    gradebook_csv : Path
        The instructor's Canvas gradebook export; only read.
    output : Path
        Where the filled copy goes; an existing file is kept unless ``force``.
    column : str, optional
        The exact header of the column to fill (default: the one titled as the assignment).
    force : bool
        Replace ``output`` if it exists.
    ungraded_as_zero : bool
        Export submissions with answers not graded yet, counting those as 0.

    Returns
    -------
    ExportReport
        Who was written, who could not be matched and why, and how to import the file.

    Raises
    ------
    CourseError
        Answers not graded yet (without ``ungraded_as_zero``), not a Canvas export, no
        such column, points possible differ, or ``output`` exists; nothing is written.

    Examples
    --------
    >>> report = fill_canvas(Course.find(), Path("canvas.csv"), Path("out.csv"))  # doctest: +SKIP
    >>> print("\\n".join(report.lines()))  # doctest: +SKIP
    wrote 2 grades into the column 'beth_workshop (4242)' of out.csv
    next: in Canvas, Grades > Import, choose out.csv, check the changes shown, then upload
    """
    grades, maximum, failed = exportable(course, ungraded_as_zero)
    table = read_table(gradebook_csv)
    check_canvas(table)
    at = canvas_column(table, course.assignment, column)
    check_points(table, at, maximum)
    report = ExportReport(
        "Canvas",
        Path(output),
        table.header[at],
        failed=failed,
        todo=f"their id is not a Canvas user id in {gradebook_csv}: collect the "
        "Canvas download with the canvas preset (it files students under their "
        "Canvas user id), check they are in the exported sections, or enter "
        "their grade in Canvas by hand",
        next_step=f"in Canvas, Grades > Import, choose {output}, check the "
        "changes shown, then upload",
    )
    by_id = _by_lms_id(grades, report)
    for row in table.rows:
        if not is_canvas_student_row(row):
            continue
        grade = by_id.get(table.cell(row, "ID"))
        if grade is None:
            report.left_as_is.append(_canvas_label(table, row))
            continue
        row.extend([""] * (at + 1 - len(row)))
        row[at] = points_text(grade.points)
        report.written[grade.student] = grade.points
    for grade in by_id.values():
        if grade.student not in report.written:
            report.unmatched[grade.label] = f"no row with ID {grade.lms_id}"
    write_table(table, output, force)
    return _zeroed(report, grades)


# Moodle -----------------------------------------------------------------------------------------
MOODLE_ID_COLUMN = "Email address"


def moodle_csv(
    course: Course,
    output: Path,
    *,
    column: str | None = None,
    force: bool = False,
    ungraded_as_zero: bool = False,
) -> ExportReport:
    """Write the CSV Moodle's grade import reads: ``"Email address","<column>"``.

    Parameters
    ----------
    course : Course
        The course and assignment whose grades are exported.
    output : Path
        The CSV to write; an existing file is kept unless ``force``.
    column : str, optional
        The grade column's header (default: the assignment's name); in Moodle's import
        you map it to the assignment's grade item.
    force, ungraded_as_zero : bool
        As for :func:`fill_canvas`.

    Returns
    -------
    ExportReport
        Who was written, who has no email known (listed, with what to do), how to import.

    Raises
    ------
    CourseError
        Answers not graded yet (without ``ungraded_as_zero``) or ``output`` exists.
    """
    grades, _maximum, failed = exportable(course, ungraded_as_zero)
    header = column or course.assignment
    report = ExportReport(
        "Moodle",
        Path(output),
        header,
        failed=failed,
        todo="Moodle's import needs an email for each student: import the "
        "assignment's grading worksheet (beth-course roster WORKSHEET.csv; in "
        "Moodle, View all submissions > Download grading worksheet) and export "
        "again, or enter their grade in Moodle by hand",
        next_step=f"in Moodle, Grades > Import > CSV file, upload {output}; "
        f"Identify user by: map from {MOODLE_ID_COLUMN!r} to Email address; "
        f"map {header!r} to the assignment's grade item",
    )
    owners: dict[str, list[Grade]] = {}
    for grade in grades:
        if grade.email:
            owners.setdefault(grade.email.casefold(), []).append(grade)
        else:
            report.unmatched[grade.label] = "no email address known"
    rows = []
    for email, (grade, *more) in sorted(owners.items()):
        if more:
            for g in (grade, *more):
                report.unmatched[g.label] = f"{len(more) + 1} students here have the email {email}"
            continue
        rows.append([grade.email, points_text(grade.points)])
        report.written[grade.student] = grade.points
    write_table(Table([MOODLE_ID_COLUMN, header], rows, newline="\n"), output, force)
    return _zeroed(report, grades)
