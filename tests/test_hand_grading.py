"""Answers graded by hand: shown as not graded yet until they are, and kept graded through a
regrade (`autograde --force`) of the same submission.

Built on the tiny course of tests/hostile.py (a test cell and a written answer, ``why``, of
1 point each); results are merged as the grading coordinator merges them, without a kernel.
"""

from __future__ import annotations

import shutil
from types import SimpleNamespace

import nbformat
import pytest

from beth_course.cli import main
from beth_course.course import Course
from beth_course.feedback import generate, html_text, mark_ungraded
from beth_course.grades import grade_table, summary_lines
from beth_course.grading.gradebook import merge, needs_hand_grading
from beth_course.grading.worker import GradingResult
from beth_course.report import write_report

from .hostile import ASSIGNMENT


@pytest.fixture
def course(hostile_course, tmp_path) -> Course:
    """A private copy of the tiny course: ada autograded, her written answer ungraded."""
    shutil.copytree(hostile_course, tmp_path / "course")
    course = Course(tmp_path / "course", ASSIGNMENT, ASSIGNMENT)
    merge(course.db_url, ASSIGNMENT, "ada", _result("sha-1"))
    return course


def _result(sha: str) -> GradingResult:
    """What the worker returns for ada: the test passed, the written answer has no score."""
    grades = [
        {"notebook": ASSIGNMENT, "cell": "f_adds_one", "auto_score": 1.0, "max_score": 1.0},
        {"notebook": ASSIGNMENT, "cell": "why", "auto_score": None, "max_score": 1.0},
    ]
    return GradingResult(student="ada", status="ok", grades=grades, submission_sha256=sha)


def _hand_grade(course: Course, score: float) -> None:
    """What formgrader does when the instructor grades ada's written answer."""
    from nbgrader.api import Gradebook

    with Gradebook(course.db_url) as gb:
        grade = gb.find_grade("why", ASSIGNMENT, ASSIGNMENT, "ada")
        grade.manual_score, grade.needs_manual_grade = score, False
        gb.db.commit()


def _why(course: Course):
    from nbgrader.api import Gradebook

    with Gradebook(course.db_url) as gb:
        grade = gb.find_grade("why", ASSIGNMENT, ASSIGNMENT, "ada")
        return grade.manual_score, grade.needs_manual_grade


@pytest.mark.parametrize(
    "manual, auto, flagged, same, expected",
    [(None, None, True, True, True),     # never graded by hand, no automatic score: to grade
     (None, 0.0, True, True, False),     # an automatic score (an unchanged answer scores 0)
     (2.0, None, False, True, False),    # graded by hand, same submission: stays graded
     (2.0, None, True, True, True),      # flagged for review before: stays flagged
     (2.0, None, False, False, True)],   # graded by hand, then the student resubmitted
)  # fmt: skip
def test_needs_hand_grading(manual, auto, flagged, same, expected):
    """A hand grade stands for the submission it was given to, and only for that one."""
    grade = SimpleNamespace(manual_score=manual, auto_score=auto, needs_manual_grade=flagged)
    assert needs_hand_grading(grade, same) is expected


def test_a_regrade_keeps_a_hand_grade_and_its_graded_state(course, tmp_path):
    """After autograde --force of the same submission, the table and report show it graded."""
    _hand_grade(course, 1.0)
    merge(course.db_url, ASSIGNMENT, "ada", _result("sha-1"))  # autograde --force
    assert _why(course) == (1.0, False)
    (row,) = grade_table(course, ["ada"])
    assert not row["needs_manual"] and row["manual_score"] == 1.0
    assert summary_lines([row])[1].split() == ["ada", "1/1", "1/1", "ok"]
    page = write_report(course, tmp_path / "out").html.read_text()
    assert "<td>ada</td><td></td><td>1/1</td><td>1/1</td><td>-</td><td>ok</td>" in page


def test_a_changed_submission_sends_the_hand_grade_back_for_review(course):
    """A resubmission (other files) keeps the old hand grade but flags it, as nbgrader does."""
    _hand_grade(course, 1.0)
    merge(course.db_url, ASSIGNMENT, "ada", _result("sha-2"))
    assert _why(course) == (1.0, True)
    assert grade_table(course, ["ada"])[0]["needs_manual"]


def _ada_page(course: Course) -> str:
    return html_text((course.folder("feedback", "ada") / f"{ASSIGNMENT}.html").read_text())


def test_feedback_shows_an_ungraded_answer_as_not_graded_yet(course):
    """No "Written response (Score: 0.0 / 1.0)": a note at the answer and one at the top."""
    generate(course, ["ada"])
    text = _ada_page(course)
    assert "Not graded yet (1 point): your instructor grades this answer by hand." in text
    assert (
        "Not everything is graded yet. Answers your instructor grades by hand and has not "
        "graded yet are worth 1 point; the score above counts them as 0 until then." in text
    )
    assert "Written response" not in text  # nbgrader's 0.0 / 1.0 entry for it


def test_feedback_shows_the_hand_grade_once_given(course):
    """Graded in formgrader: the page shows its score and no not-graded note."""
    _hand_grade(course, 1.0)
    generate(course, ["ada"])
    text = _ada_page(course)
    assert "Written response (Score: 1.0 / 1.0)" in text and "Not graded yet" not in text


def test_feedback_can_hold_pages_until_graded(course, capsys):
    """--ungraded hold writes no page (and removes an older one), says why, exits 0."""
    old = course.folder("feedback", "ada") / f"{ASSIGNMENT}.html"
    old.parent.mkdir(parents=True)
    old.write_text("an older page showing the answer as 0")
    code = main(
        [
            "--course",
            str(course.root),
            "--assignment",
            ASSIGNMENT,
            "feedback",
            "--student",
            "ada",
            "--ungraded",
            "hold",
        ]
    )
    assert code == 0 and not old.exists()
    assert (
        "ada: held back, 1 answer (1 point) of tiny.ipynb still to grade by hand"
        in capsys.readouterr().out
    )
    _hand_grade(course, 0.5)
    assert generate(course, ["ada"], ungraded="hold").held == {}
    assert old.exists()


def test_mark_ungraded_takes_pending_cells_out_of_the_scores():
    """Pending cells lose their grade flag and get a note above them; others are untouched."""
    cells = [nbformat.v4.new_markdown_cell("essay"), nbformat.v4.new_code_cell("assert True")]
    cells[0].metadata["nbgrader"] = {
        "grade": True,
        "solution": True,
        "grade_id": "essay",
        "points": 2,
    }
    cells[1].metadata["nbgrader"] = {
        "grade": True,
        "solution": False,
        "grade_id": "test",
        "points": 1,
    }
    nb = mark_ungraded(nbformat.v4.new_notebook(cells=cells), {"essay": 2.0})
    assert [c.source.split(".")[0] for c in nb.cells] == [
        "**Not everything is graded yet",
        "**Not graded yet** (2 points): your instructor grades this answer by hand",
        "essay",
        "assert True",
    ]
    assert (
        nb.cells[2].metadata.nbgrader["grade"] is False and nb.cells[3].metadata.nbgrader["grade"]
    )
    nbformat.validate(nb)
