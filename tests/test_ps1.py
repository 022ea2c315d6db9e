"""nbgrader's own example course, graded by beth-course: plain nbgrader's scores, cell by cell.

The course is laid out as nbgrader's user guide lays out ``ps1`` (``source/ps1/problem1.ipynb``
and ``problem2.ipynb``; students ``bitdiddle`` and ``hacker``): functions ``squares`` and
``sum_of_squares`` with their tests, one of which deletes ``squares`` to check that
``sum_of_squares`` calls it, answers graded by hand, and a second notebook of written
answers only. The notebooks are written here, to the same plan. The same submissions are
graded by plain ``nbgrader autograde`` in a copy, and every cell must score the same.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from beth_course.course import Course
from beth_course.feedback import generate
from beth_course.grading.runner import autograde
from beth_course.release import release

from .helpers import REPO, tiny_notebook

pytestmark = pytest.mark.slow

PROBLEM1 = [
    (
        "jupyter",
        "markdown",
        {"locked": True},
        "For this problem set, we'll use the Jupyter notebook.",
    ),
    (
        "squares",
        "code",
        {"solution": True},
        'def squares(n):\n    """Compute the squares of numbers from 1 to n."""\n'
        '    ### BEGIN SOLUTION\n    if n < 1:\n        raise ValueError("n must be at least 1")\n'
        "    return [i ** 2 for i in range(1, n + 1)]\n    ### END SOLUTION",
    ),
    (
        "correct_squares",
        "code",
        {"grade": True, "points": 1},
        '"""Check that squares returns the correct output for several inputs"""\n'
        "assert squares(1) == [1]\nassert squares(2) == [1, 4]\n"
        "assert squares(10) == [1, 4, 9, 16, 25, 36, 49, 64, 81, 100]",
    ),
    (
        "squares_invalid_input",
        "code",
        {"grade": True, "points": 1},
        '"""Check that squares raises an error for invalid inputs"""\n'
        "try:\n    squares(0)\nexcept ValueError:\n    pass\nelse:\n"
        '    raise AssertionError("did not raise")',
    ),
    (
        "sum_of_squares",
        "code",
        {"solution": True},
        'def sum_of_squares(n):\n    """Compute the sum of the squares of numbers from 1 to n."""\n'
        "    ### BEGIN SOLUTION\n    return sum(squares(n))\n    ### END SOLUTION",
    ),
    (
        "correct_sum_of_squares",
        "code",
        {"grade": True, "points": 0.5},
        '"""Check that sum_of_squares returns the correct answer for various inputs."""\n'
        "assert sum_of_squares(1) == 1\nassert sum_of_squares(2) == 5\nassert sum_of_squares(10) == 385",
    ),
    (
        "sum_of_squares_uses_squares",
        "code",
        {"grade": True, "points": 0.5},
        '"""Check that sum_of_squares relies on squares."""\n'
        "orig_squares = squares\ndel squares\ntry:\n    sum_of_squares(1)\nexcept NameError:\n"
        '    pass\nelse:\n    raise AssertionError("sum_of_squares does not use squares")\n'
        "finally:\n    squares = orig_squares",
    ),
    (
        "sum_of_squares_equation",
        "markdown",
        {"grade": True, "solution": True, "points": 1},
        "$\\sum_{i=1}^n i^2$",
    ),
    (
        "sum_of_squares_application",
        "code",
        {"grade": True, "solution": True, "points": 2},
        'def pyramidal_number(n):\n    """Returns the n^th pyramidal number"""\n    return sum_of_squares(n)',
    ),
]
PROBLEM2 = [
    (
        "code",
        "markdown",
        {"locked": True},
        "Consider `def f(x): return x if x < 2 else f(x-1) + f(x-2)`.",
    ),
    (
        "part-a",
        "markdown",
        {"grade": True, "solution": True, "points": 1},
        "It computes Fibonacci numbers.",
    ),
    (
        "part-b",
        "markdown",
        {"grade": True, "solution": True, "points": 2},
        "Negative inputs recurse forever.",
    ),
]
ANSWERS = {
    "bitdiddle": {
        "squares": "def squares(n):\n    if n < 1:\n        raise ValueError('n < 1')\n    return [i * i for i in range(1, n + 1)]",
        "sum_of_squares": "def sum_of_squares(n):\n    return sum(squares(n))",
        "sum_of_squares_equation": "$\\sum_{i=1}^{n} i^2$",
        "sum_of_squares_application": "def pyramid(n):\n    return sum_of_squares(n)",
        "part-a": "Fibonacci, recursively.",
        "part-b": "Negative numbers: infinite recursion.",
    },
    "hacker": {  # no check of invalid input; sum_of_squares does not call squares
        "squares": "def squares(n):\n    return [i * i for i in range(1, n + 1)]",
        "sum_of_squares": "def sum_of_squares(n):\n    return sum(i * i for i in range(1, n + 1))",
        "part-a": "It adds numbers.",
    },
}


def _submit(course: Course, student: str) -> None:
    for name in ("problem1", "problem2"):
        nb = nbformat.read(str(course.folder("release") / f"{name}.ipynb"), as_version=4)
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id in ANSWERS[student]:
                cell.source = ANSWERS[student][grade_id]
        folder = course.folder("submitted", student)
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, str(folder / f"{name}.ipynb"))


def _scores(db: Path) -> dict[tuple[str, str, str], float | None]:
    """``(student, notebook, cell) -> auto_score`` as nbgrader's gradebook API reads it."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{db}") as gb:
        return {
            (student, notebook.name, grade.name): grade.auto_score
            for student in ANSWERS
            for notebook in gb.find_submission("ps1", student).notebooks
            for grade in notebook.grades
        }


@pytest.fixture(scope="module")
def ps1(tmp_path_factory, sandbox_available):
    root = tmp_path_factory.mktemp("ps1") / "course"
    source = root / "source" / "ps1"
    source.mkdir(parents=True)
    shutil.copy(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
    nbformat.write(tiny_notebook(PROBLEM1), str(source / "problem1.ipynb"))
    nbformat.write(tiny_notebook(PROBLEM2), str(source / "problem2.ipynb"))
    course = Course.find(root)
    report = release(course)
    for student in ANSWERS:
        _submit(course, student)
    plain = tmp_path_factory.mktemp("plain") / "course"
    shutil.copytree(root, plain)
    done = subprocess.run(
        [sys.executable, "-m", "nbgrader", "autograde", "ps1", "--force"],
        cwd=plain,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    summary = autograde(course, workers=2, sandbox=sandbox_available, progress=False)
    return course, report, summary, plain


def test_the_assignment_is_found_without_naming_it(ps1):
    """One assignment in source/: no --assignment needed; its two notebooks are known."""
    course, *_ = ps1
    assert (course.assignment, course.notebooks) == ("ps1", ["problem1", "problem2"])


def test_release_covers_both_notebooks_and_warns_about_the_test_that_runs_in_the_kernel(ps1):
    """Both notebooks are released and validated; no beth_helpers files for this course."""
    course, report, *_ = ps1
    files = sorted(p.name for p in course.folder("release").iterdir())
    assert files == ["problem1.ipynb", "problem2.ipynb"]
    assert report.source_tests_passed == report.release_tests_failed == 4
    assert report.kernel_tests == ["problem1.ipynb: sum_of_squares_uses_squares"]


def test_every_cell_scores_what_plain_nbgrader_gives(ps1):
    """Cell by cell, for both students and both notebooks, the same autograded score."""
    course, _, summary, plain = ps1
    assert {r.status for r in summary.results} == {"ok"}
    ours, theirs = _scores(course.gradebook_path), _scores(plain / "gradebook.db")
    assert len(ours) == 2 * 8 and ours == theirs  # 6 graded cells in problem1, 2 in problem2
    assert ours[("hacker", "problem1", "squares_invalid_input")] == 0
    assert ours[("hacker", "problem1", "sum_of_squares_uses_squares")] == 0
    assert ours[("bitdiddle", "problem1", "sum_of_squares_uses_squares")] == 0.5


def test_feedback_has_a_page_per_notebook(ps1):
    """feedback/<student>/ps1/problem1.html and problem2.html for each student."""
    course, *_ = ps1
    report = generate(course)
    assert sorted(p.relative_to(course.root / "feedback").as_posix() for p in report.written) == [
        "bitdiddle/ps1/problem1.html",
        "bitdiddle/ps1/problem2.html",
        "hacker/ps1/problem1.html",
        "hacker/ps1/problem2.html",
    ]
