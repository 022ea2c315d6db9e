"""A real grading round of a late submission: the time from collect's timestamp.txt and the
penalty reach the course gradebook through the private grading copy, and a regrade keeps a
hand grade, graded, and penalises it.

Two rounds of the tiny assignment (about 10 s each), in the sandbox when it is available.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from beth_course.cli import main
from beth_course.grades import grade_table
from beth_course.grading.runner import autograde

from .helpers import TINY, TINY_CELLS, submit, tiny_course

pytestmark = pytest.mark.slow

WRITTEN = (
    "why",
    "markdown",
    {"grade": True, "solution": True, "points": 2},
    "The forest flags rare processes.",
)
RIGHT = {
    "answer": "answer = open(DATA_FILE).read().strip()",
    "more": "more = 1",
    "why": "Rare processes are isolated in few splits.",
}


def _file(course, student: str, stamp: str) -> None:
    """A right submission filed as collect files it, with its timestamp.txt."""
    submit(course, student, RIGHT)
    (course.folder("submitted", student) / "timestamp.txt").write_text(stamp + "\n")


def _gradebook(course, student: str):
    from nbgrader.api import Gradebook

    with Gradebook(course.db_url) as gb:
        submission = gb.find_submission(TINY, student)
        (notebook,) = submission.notebooks
        why = gb.find_grade("why", TINY, TINY, student)
        return (
            submission.timestamp,
            notebook.late_submission_penalty,
            why.manual_score,
            why.needs_manual_grade,
        )


@pytest.fixture(scope="module")
def graded(tmp_path_factory, sandbox_available):
    """ada 25 h late and ben on time, graded once at 10% a day; then ada hand-graded and
    regraded with --force. Yields the course and the gradebook rows after each round."""
    config = (
        'c.AssignLatePenalties.plugin_class = "beth_course.late.PercentPerDay"\n'
        "c.PercentPerDay.percent = 10\n"
    )
    course = tiny_course(
        tmp_path_factory.mktemp("late") / "course", config=config, cells=[*TINY_CELLS, WRITTEN]
    )
    assert (
        main(
            [
                "--course",
                str(course.root),
                "--assignment",
                TINY,
                "due",
                "2026-12-10 17:00 Europe/London",
            ]
        )
        == 0
    )
    _file(course, "ada", "2026-12-11 18:00:00.000000 UTC")
    _file(course, "ben", "2026-12-10 16:59:00.000000 UTC")
    autograde(course, workers=2, sandbox=sandbox_available, progress=False)
    first = {s: _gradebook(course, s) for s in ("ada", "ben")}

    from nbgrader.api import Gradebook

    with Gradebook(course.db_url) as gb:  # what formgrader does
        why = gb.find_grade("why", TINY, TINY, "ada")
        why.manual_score, why.needs_manual_grade = 2.0, False
        gb.db.commit()
    autograde(
        course, students=["ada"], workers=1, force=True, sandbox=sandbox_available, progress=False
    )
    return course, first, _gradebook(course, "ada")


def test_the_submission_time_is_collects_and_the_penalty_is_per_day(graded):
    """ada: 25 h late (2 started days, 20% of her 2 autograded points); ben: no penalty."""
    _, first, _ = graded
    assert first["ada"][:2] == (datetime(2026, 12, 11, 18, 0), 0.4)
    assert first["ben"][:2] == (datetime(2026, 12, 10, 16, 59), None)
    assert first["ada"][2:] == (None, True)  # the written answer waits for its hand grade


def test_a_regrade_keeps_the_hand_grade_graded_and_penalises_it(graded):
    """After autograde --force: the hand grade stands, and 20% of all 4 points is taken."""
    course, _, after = graded
    assert after == (datetime(2026, 12, 11, 18, 0), 0.8, 2.0, False)
    row = {r["student"]: r for r in grade_table(course)}["ada"]
    assert (row["auto_score"], row["manual_score"], row["needs_manual"]) == (2.0, 2.0, False)
    assert row["late_penalty"] == 0.8 and row["status"] == "ok"
