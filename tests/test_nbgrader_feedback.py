"""nbgrader's own pages are safe under the course's nbgrader_config.py (issue 10, item 4).

``nbgrader generate_feedback`` (what formgrader's "Generate Feedback" button runs) is run
for real, as a subprocess from the course folder, so it reads the course's
``nbgrader_config.py`` as it would for an instructor. The course is tiny and built without a
kernel (tests/hostile.py); its config is the repository's own file, so removing a setting
from it makes these tests fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from nbconvert import HTMLExporter

from beth_course.feedback import html_text

from .helpers import REPO
from .hostile import (
    ASSIGNMENT,
    HIDDEN_LINES,
    NBGRADER_DEFAULT,
    TABLE_CANARY,
    VISIBLE_TEST,
    PageScan,
    formgrader_exporter,
    formgrader_html,
    tiny_source_notebook,
    unknown_scripts,
)

MARKERS = ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")


def run_generate_feedback(root: Path) -> subprocess.CompletedProcess:
    """``nbgrader generate_feedback tiny --force`` in ``root``, importing this checkout's code."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "nbgrader", "generate_feedback", ASSIGNMENT, "--force"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def page(root: Path, student: str) -> Path:
    return root / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html"


@pytest.fixture(scope="module")
def nbgrader_fed(hostile_course, tmp_path_factory):
    """A copy of the hostile course after nbgrader's command: (root, completed process)."""
    root = tmp_path_factory.mktemp("nbgrader-fed") / "course"
    shutil.copytree(hostile_course, root)
    return root, run_generate_feedback(root)


def test_nbgrader_feedback_shows_no_hidden_test_line_or_marker(nbgrader_fed):
    """ada's page: scores and the visible test, never a hidden line or a marker."""
    root, done = nbgrader_fed
    source = page(root, "ada").read_text(encoding="utf-8")
    text = html_text(source)
    assert not [line for line in HIDDEN_LINES + MARKERS if line in text or line in source]
    assert VISIBLE_TEST in text and "hidden tests: not shown" in text
    assert "Score: 0.0 / 2.0" in text  # nbgrader's GetGrades still ran


def test_nbgrader_feedback_page_runs_no_student_script(nbgrader_fed):
    """Only nbconvert's MathJax tags are left; the DataFrame is still a table."""
    root, _ = nbgrader_fed
    source = page(root, "ada").read_text(encoding="utf-8")
    scan = PageScan(source)
    assert unknown_scripts(scan, HTMLExporter().mathjax_url) == []
    assert (scan.handlers, scan.bad_urls, scan.active_tags) == ([], [], [])
    assert {"border": "1", "class": "dataframe"} in scan.tables and str(TABLE_CANARY) in source


def test_nbgrader_refuses_a_notebook_that_printed_its_hidden_tests(nbgrader_fed):
    """eve printed the test cell: nbgrader writes no page for her, says why, exits 1."""
    root, done = nbgrader_fed
    assert not page(root, "eve").exists()
    assert done.returncode != 0 and "HiddenTestsLeaked" in done.stdout + done.stderr
    assert "for student 'eve'" in done.stdout + done.stderr


def test_without_the_course_setting_nbgrader_shows_hidden_tests(hostile_course, tmp_path):
    """Why the setting exists: nbgrader's default pipeline writes every hidden line."""
    root = tmp_path / "course"
    shutil.copytree(hostile_course, root)
    with open(root / "nbgrader_config.py", "a", encoding="utf-8") as fh:
        fh.write(NBGRADER_DEFAULT)
    done = run_generate_feedback(root)
    assert done.returncode == 0, done.stderr[-2000:]
    text = html_text(page(root, "ada").read_text(encoding="utf-8"))
    assert all(line in text for line in HIDDEN_LINES + MARKERS)


def test_formgrader_shows_autograded_notebooks_inert(hostile_course):
    """formgrader's own scripts and buttons only, even for a notebook autograded unsafely."""
    import nbformat

    nb = nbformat.read(
        hostile_course / "autograded" / "ada" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4
    )
    exporter = formgrader_exporter(hostile_course)
    own = PageScan(formgrader_html(exporter, tiny_source_notebook()))
    shown = PageScan(formgrader_html(exporter, nb))
    assert shown.scripts == own.scripts and shown.handlers == own.handlers
    assert (shown.bad_urls, shown.active_tags) == ([], own.active_tags)
    assert {"border": "1", "class": "dataframe"} in shown.tables


def test_the_generate_feedback_button_path_is_safe_too(hostile_course, tmp_path):
    """formgrader's button calls NbGraderAPI.generate_feedback in the server: same result."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    from beth_course.course import Course

    root = tmp_path / "course"
    shutil.copytree(hostile_course, root)
    config = Course(root, ASSIGNMENT, ASSIGNMENT).config()
    api = NbGraderAPI(coursedir=CourseDirectory(config=config, root=str(root)), config=config)
    assert api.generate_feedback(ASSIGNMENT, "ada", force=True)["success"]
    assert not api.generate_feedback(ASSIGNMENT, "eve", force=True)["success"]
    text = html_text(page(root, "ada").read_text(encoding="utf-8"))
    assert VISIBLE_TEST in text and not [line for line in HIDDEN_LINES + MARKERS if line in text]
    assert not page(root, "eve").exists()
