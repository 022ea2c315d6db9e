"""Reading grades back out of the gradebook: one row per student."""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict

from .course import Course, CourseError
from .grading.gradebook import statuses
from .roster import display_name
from .wording import late_text


def cell_key(notebook: str, cell: str, several: bool) -> str:
    """How a graded cell is named in tables: its grade id, prefixed by the notebook's name
    when the assignment has several notebooks (grade ids are unique per notebook only)."""
    return f"{notebook}:{cell}" if several else cell


def manual_cells(course: Course) -> set[tuple[str, str]]:
    """``(notebook, grade id)`` of the cells graded by hand: written answers and code
    answers that are both a solution and graded (nbgrader leaves both to the grader)."""
    from . import notebooks

    found = set()
    for name in course.notebooks:
        path = course.folder("source") / f"{name}.ipynb"
        if not path.exists():
            continue
        for cell in notebooks.read(path).cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("grade") and (cell.cell_type == "markdown" or meta.get("solution")):
                found.add((name, meta["grade_id"]))
    return found


class GradeRow(TypedDict):
    """One student's line of :func:`grade_table` (keys checked by mypy)."""

    student: str
    name: str
    auto_score: float
    auto_max: float
    manual_score: float
    manual_max: float
    needs_manual: bool
    cells: dict[str, float | None]
    status: str
    reason: str
    seconds: float | None
    late_penalty: float
    submitted_at: datetime | None
    due_at: datetime | None
    seconds_late: float


def grade_table(course: Course, students: list[str] | None = None) -> list[GradeRow]:
    """Per student: id and name, autograded and manual scores, whether hand-grading is
    pending, status, and lateness.

    ``student`` is the id (never a name); ``name`` is nbgrader's first and last name as
    ``"Last, First"`` ("" if none is known: ``beth_course.roster``). ``auto_*`` counts the
    code test cells; ``manual_*`` the cells graded by hand (the written answer). Scores are
    nbgrader's: a manual score overrides the automatic one. ``submitted_at`` and ``due_at``
    are naive UTC datetimes (None when unknown), ``seconds_late`` nbgrader's
    ``total_seconds_late`` and ``late_penalty`` the points taken off (`beth_course.late`),
    0 when none.
    """
    from nbgrader.api import Gradebook, MissingEntry

    if not course.gradebook_path.exists():
        raise CourseError("there is no gradebook yet: run beth-course release, then autograde")
    status = statuses(course.gradebook_path, course.assignment)
    several = len(course.notebooks) > 1
    manual = manual_cells(course)
    rows = []
    with Gradebook(course.db_url) as gb:
        try:
            gb.find_assignment(course.assignment)
        except MissingEntry:
            raise CourseError(
                f"the gradebook does not know {course.assignment}: run beth-course release"
            ) from None
        for student in students or sorted(s.id for s in gb.students):
            try:
                submission = gb.find_submission(course.assignment, student)
            except MissingEntry:
                continue
            rows.append(_row(student, submission, manual, several, status.get(student, {})))
    return rows


def _row(student: str, submission, manual: set, several: bool, info: dict) -> GradeRow:
    """One student's :class:`GradeRow` from nbgrader's submission and our status record."""
    person = submission.student
    scores = {"auto": [0.0, 0.0], "manual": [0.0, 0.0]}  # kind -> [score, max]
    cells: dict[str, float | None] = {}
    needs_manual = False
    for notebook in submission.notebooks:
        for grade in notebook.grades:
            kind = "manual" if (notebook.name, grade.name) in manual else "auto"
            scores[kind][0] += grade.score or 0.0
            scores[kind][1] += grade.max_score
            needs_manual |= bool(grade.needs_manual_grade)
            cells[cell_key(notebook.name, grade.name, several)] = grade.score
    return GradeRow(
        student=student,
        name=display_name(person.first_name, person.last_name),
        auto_score=scores["auto"][0],
        auto_max=scores["auto"][1],
        manual_score=scores["manual"][0],
        manual_max=scores["manual"][1],
        needs_manual=needs_manual,
        cells=cells,
        status=info.get("status", "ok"),
        reason=info.get("reason", ""),
        seconds=info.get("seconds"),
        late_penalty=submission.late_submission_penalty or 0.0,
        submitted_at=submission.timestamp,  # naive UTC, as nbgrader keeps it
        due_at=submission.duedate,  # with any extension nbgrader records
        seconds_late=submission.total_seconds_late,
    )


def manual_text(row: GradeRow) -> str:
    """The hand-graded part of a row as a person reads it: ``to grade`` or ``1.5/2``."""
    if row["needs_manual"]:
        return "to grade"
    return f"{row['manual_score']:g}/{row['manual_max']:g}"


def late_cell(row: GradeRow) -> str:
    """How late a submission was and the points it lost: ``2 d 4 h (-1.5)``, or ``-``."""
    if not row.get("seconds_late"):
        return "-"
    penalty = f" (-{row['late_penalty']:g})" if row.get("late_penalty") else ""
    return late_text(row["seconds_late"]) + penalty


def _columns(row: GradeRow, late: bool) -> dict[str, str]:
    """The summary table's cells for one row, by column header."""
    status = row["status"] + (f": {row['reason']}" if row["reason"] else "")
    cells = {
        "student": row["student"],
        "auto": f"{row['auto_score']:g}/{row['auto_max']:g}",
        "manual": manual_text(row),
    }
    if late:
        cells["late"] = late_cell(row)
    return {**cells, "status": status}


_RIGHT = {"auto"}  # numbers line up on the right; text on the left


def summary_lines(rows: list[GradeRow]) -> list[str]:
    """The grade table as aligned text lines, a header first (``beth-course autograde``),
    with a ``late`` column when any submission was late.

    >>> row = dict(student="ada", auto_score=9.0, auto_max=9.0, manual_score=0.0,
    ...            manual_max=2.0, needs_manual=True, status="ok", reason="")
    >>> print("\\n".join(summary_lines([row, {**row, "student": "ben", "auto_score": 5.0}])))
    student  auto  manual    status
    ada       9/9  to grade  ok
    ben       5/9  to grade  ok
    """
    late = any(r.get("seconds_late") for r in rows)  # a "late" column only when one is
    cells = [_columns(r, late) for r in rows]
    headers = list(cells[0]) if cells else ["student", "auto", "manual", "status"]
    widths = {h: max([len(h)] + [len(c[h]) for c in cells]) for h in headers}

    def line(values: dict[str, str]) -> str:
        parts = [
            values[h].rjust(widths[h]) if h in _RIGHT else values[h].ljust(widths[h])
            for h in headers
        ]
        return "  ".join(parts).rstrip()

    return [line({h: h for h in headers})] + [line(c) for c in cells]
