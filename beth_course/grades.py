"""Reading grades back out of the gradebook: one row per student."""

from __future__ import annotations

from .course import Course, CourseError
from .grading.gradebook import statuses
from .roster import display_name


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


def grade_table(course: Course, students: list[str] | None = None) -> list[dict]:
    """Per student: id and name, autograded and manual scores, whether hand-grading is
    pending, status.

    ``student`` is the id (never a name); ``name`` is nbgrader's first and last name as
    ``"Last, First"`` ("" if none is known: ``beth_course.roster``). ``auto_*`` counts the
    code test cells; ``manual_*`` the cells graded by hand (the written answer). Scores are
    nbgrader's: a manual score overrides the automatic one.
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
            person = submission.student
            row = dict(student=student, name=display_name(person.first_name, person.last_name),
                       auto_score=0.0, auto_max=0.0, manual_score=0.0, manual_max=0.0,
                       needs_manual=False, cells={})
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    kind = "manual" if (notebook.name, grade.name) in manual else "auto"
                    row[f"{kind}_max"] += grade.max_score
                    row[f"{kind}_score"] += grade.score or 0.0
                    row["needs_manual"] |= bool(grade.needs_manual_grade)
                    row["cells"][cell_key(notebook.name, grade.name, several)] = grade.score
            info = status.get(student, {})
            row["status"] = info.get("status", "ok")
            row["reason"] = info.get("reason", "")
            row["seconds"] = info.get("seconds")
            row["late_penalty"] = submission.late_submission_penalty
            rows.append(row)
    return rows
