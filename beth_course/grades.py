"""Reading grades back out of the gradebook: one row per student."""

from __future__ import annotations

from .course import Course, CourseError
from .grading.gradebook import statuses


def grade_table(course: Course, students: list[str] | None = None) -> list[dict]:
    """Per student: autograded and manual scores, whether hand-grading is pending, status.

    ``auto_*`` counts the code test cells; ``manual_*`` the cells graded by hand (the
    written answer). Scores are nbgrader's: a manual score overrides the automatic one.
    """
    from nbgrader.api import Gradebook, MissingEntry

    if not course.gradebook_path.exists():
        raise CourseError("there is no gradebook yet: run beth-course release, then autograde")
    status = statuses(course.gradebook_path, course.assignment)
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
            row = dict(student=student, auto_score=0.0, auto_max=0.0, manual_score=0.0,
                       manual_max=0.0, needs_manual=False, cells={})
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    kind = "manual" if grade.cell.cell_type == "markdown" else "auto"
                    row[f"{kind}_max"] += grade.max_score
                    row[f"{kind}_score"] += grade.score or 0.0
                    row["needs_manual"] |= bool(grade.needs_manual_grade)
                    row["cells"][grade.name] = grade.score
            info = status.get(student, {})
            row["status"] = info.get("status", "ok")
            row["reason"] = info.get("reason", "")
            row["seconds"] = info.get("seconds")
            row["late_penalty"] = submission.late_submission_penalty
            rows.append(row)
    return rows
